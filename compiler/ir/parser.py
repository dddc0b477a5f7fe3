"""Parser for the textual IR (the only user of `lark` in utc).

The grammar (grammar.lark) gives the generic op syntax; this module turns the parse tree
into IR objects and reports every problem as a ParseError that names the file, line and
column, e.g. `model.utc:12:7: use of undefined value %x`.

Type aliases (`!q0 = !quant.uniform<...>` before the module) are resolved while types are
decoded; fully inline quantized types are accepted everywhere too, so hand-written tests
and older dumps still parse. Locations are optional on every op.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from utc.compiler.errors import UtcError, printable

from .attributes import ResourceRef, SymbolRef
from .core import OP_REGISTRY, Block, Location, Module, Operation, Region, Resource, Value
from .types import (
    ElementType,
    MemRefType,
    PerAxisQuantizedType,
    QuantizedType,
    ScalarType,
    TensorType,
    parse_f32,
    quantization_problem,
)

if TYPE_CHECKING:
    import lark

#: Most elements one shaped type may have: beyond it sizes stop meaning anything for a
#: microcontroller, and element counts must stay exact in int64 arithmetic.
MAX_ELEMENTS = 2**40


class ParseError(UtcError):
    """Malformed IR text; str() is one line: `file:line:col: message`, with whatever it
    quotes from the text escaped (`printable`)."""


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    # lark is imported here, not with this module: `utc compile` reads no IR text but
    # imports this module for ParseError
    import lark

    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


_QUANT = re.compile(
    r"!quant\.uniform<(?P<storage>\w+):(?P<expressed>\w+)(?::(?P<axis>\d+))?,\s*(?P<params>.*)>\Z",
    re.DOTALL,  # a long per-axis alias definition is wrapped over several lines
)
#: A reference to a type alias inside a type spelling (`!quant.` starts an inline type).
_ALIAS_REF = re.compile(r"!(?!quant\.)[A-Za-z_][A-Za-z0-9_]*")
_SCALE_ZP = re.compile(r"\s*([-+0-9.eE]+|inf|nan):([-+]?[0-9]+)\s*\Z")
_SHAPED = re.compile(r"(?P<kind>tensor|memref)<(?P<dims>(?:[0-9]+x)*)(?P<element>.+)>\Z")


def _scale(text: str, where: str) -> float:
    """A quantization scale: a number that float32 holds as a finite, positive value."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"malformed scale '{text}' in '{where}'") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"quantization scale must be finite and positive, got {text} in '{where}'")
    try:
        scale = parse_f32(text)
    except ValueError:
        raise ValueError(f"quantization scale {text} is out of float32 range in '{where}'") from None
    if scale == 0:
        raise ValueError(f"quantization scale {text} rounds to zero in float32 in '{where}'")
    return scale


def parse_element_type(text: str, aliases: dict[str, ElementType] | None = None) -> ElementType:
    """Decode `i8`, `f32`, a `!quant.uniform<...>` spelling or a type alias defined in
    `aliases`; ValueError when invalid, including a quantized type no pass could use (see
    `quantization_problem`)."""
    if _ALIAS_REF.match(text):
        if aliases is None or text not in aliases:
            raise ValueError(f"use of undefined type alias {text}")
        return aliases[text]
    if not text.startswith("!quant"):
        return ScalarType(text)
    m = _QUANT.match(text)
    if not m:
        raise ValueError(f"malformed quantized type '{text}'")
    storage, expressed = ScalarType(m["storage"]), ScalarType(m["expressed"])
    params = m["params"].strip()
    if m["axis"] is None:
        pair = _SCALE_ZP.match(params)
        if not pair:
            raise ValueError(f"malformed scale:zero_point in '{text}'")
        element: ElementType = QuantizedType(storage, _scale(pair[1], text), int(pair[2]),
                                             expressed)
    else:
        if not (params.startswith("{") and params.endswith("}")):
            raise ValueError(f"per-axis parameters must be in braces in '{text}'")
        scales, zps = [], []
        for item in params[1:-1].split(","):
            pair = _SCALE_ZP.match(item)
            if not pair:
                raise ValueError(f"malformed scale:zero_point '{item.strip()}' in '{text}'")
            scales.append(_scale(pair[1], text))
            zps.append(int(pair[2]))
        element = PerAxisQuantizedType(storage, int(m["axis"]), tuple(scales), tuple(zps),
                                       expressed)
    problem = quantization_problem(element)
    if problem:
        raise ValueError(f"{problem} in '{text}'")
    return element


def parse_type(text: str, aliases: dict[str, ElementType] | None = None) -> TensorType | MemRefType:
    """Decode a `tensor<...>` or `memref<...>` spelling (its element type may be one of
    `aliases`); ValueError when invalid."""
    m = _SHAPED.match(text)
    if not m:
        raise ValueError(f"malformed type '{text}'")
    dims = tuple(int(d) for d in m["dims"].split("x") if d)
    if math.prod(dims) > MAX_ELEMENTS:
        raise ValueError(f"type '{text}' has {math.prod(dims)} elements, more than utc supports "
                         f"({MAX_ELEMENTS})")
    element = parse_element_type(m["element"], aliases)
    return (TensorType if m["kind"] == "tensor" else MemRefType)(dims, element)


def _unescape(token: str) -> str:
    body = token[1:-1]
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body
    )


class _Builder:
    def __init__(self, filename: str):
        self.filename = filename
        self.values: dict[str, Value] = {}
        self.aliases: dict[str, ElementType] = {}

    def error(self, node: lark.Tree | lark.Token, message: str) -> ParseError:
        line = getattr(node, "line", None) or getattr(getattr(node, "meta", None), "line", 0)
        column = getattr(node, "column", None) or getattr(getattr(node, "meta", None), "column", 0)
        return ParseError(f"{self.filename}:{line}:{column}: {printable(message)}")

    def type_of(self, token: lark.Token) -> TensorType | MemRefType:
        """A type in the module: a valid spelling whose per-axis quantization also fits
        its shape (an axis inside it, one scale per index), which passes index by."""
        text = str(token)
        for ref in _ALIAS_REF.finditer(text):
            if ref[0] not in self.aliases:
                line, column = token.line, token.column
                if "\n" not in text[: ref.start()]:  # point at the alias itself
                    column += ref.start()
                raise ParseError(f"{self.filename}:{line}:{column}: "
                                 f"{printable(f'use of undefined type alias {ref[0]}')}")
        try:
            t = parse_type(text, self.aliases)
        except ValueError as exc:
            raise self.error(token, str(exc)) from None
        problem = quantization_problem(t.element, t.shape)
        if problem:
            raise self.error(token, f"{problem} in '{token}'")
        return t

    def define(self, token: lark.Token, value: Value) -> None:
        name = str(token)[1:]
        if name in self.values:
            raise self.error(token, f"redefinition of value %{name}")
        value.name_hint = name
        self.values[name] = value

    def lookup(self, token: lark.Token) -> Value:
        name = str(token)[1:]
        if name not in self.values:
            raise self.error(token, f"use of undefined value %{name}")
        return self.values[name]

    # ---- attributes ---------------------------------------------------------------------
    def attr_value(self, node: lark.Tree) -> object:
        kind = node.data
        if kind == "array_attr":
            return tuple(self.attr_value(c) for c in node.children)
        if kind == "true_attr":
            return True
        if kind == "false_attr":
            return False
        tok = node.children[0]
        text = str(tok)
        if kind == "int_attr":
            return int(text)
        if kind == "float_attr":
            return float(text)
        if kind == "string_attr":
            return _unescape(text)
        if kind == "resource_attr":
            return ResourceRef(text[len("dense_resource<") : -1])
        if kind == "symbol_attr":
            return SymbolRef(text[1:])
        if kind == "type_attr":
            return self.type_of(tok)
        raise self.error(tok, f"unexpected attribute '{text}'")

    def attr_dict(self, node: lark.Tree) -> dict[str, object]:
        out: dict[str, object] = {}
        for entry in node.children:
            key_tok, value = entry.children
            key = str(key_tok)
            if key in out:
                raise self.error(key_tok, f"duplicate attribute '{key}'")
            out[key] = self.attr_value(value)
        return out

    # ---- structure ----------------------------------------------------------------------
    def op(self, node: lark.Tree) -> Operation:
        import lark  # loaded by parse_module already

        names: list[lark.Token] = []
        operands: list[Value] = []
        attrs: dict[str, object] = {}
        regions: list[Region] = []
        types: list[TensorType | MemRefType] = []
        location = Location()
        opname_tok = None
        for child in node.children:
            if isinstance(child, lark.Token) and child.type == "OPNAME":
                opname_tok = child
            elif child.data == "result_names":
                names = list(child.children)
            elif child.data == "operand_list":
                operands = [self.lookup(t) for t in child.children]
            elif child.data == "attr_dict":
                attrs = self.attr_dict(child)
            elif child.data == "regions":
                regions = [self.region(r) for r in child.children]
            elif child.data in ("one_type", "type_list"):
                types = [self.type_of(t) for t in child.children]
            elif child.data == "location":
                location = Location(
                    tuple((int(str(i)[1:]), _unescape(str(n))) for i, n in
                          (e.children for e in child.children))
                )
        assert opname_tok is not None
        cls = OP_REGISTRY.get(str(opname_tok))
        if cls is None:
            raise self.error(opname_tok, f"unknown operation '{opname_tok}'")
        if len(names) != len(types):
            raise self.error(
                opname_tok,
                f"'{opname_tok}' defines {len(names)} results but lists {len(types)} result types",
            )
        op = cls.__new__(cls)
        try:
            Operation.__init__(op, operands, types, attrs, regions, location)
        except TypeError as exc:
            raise self.error(opname_tok, str(exc)) from None
        for tok, result in zip(names, op.result_values):
            self.define(tok, result)
        return op

    def region(self, node: lark.Tree) -> Region:
        import lark  # loaded by parse_module already

        region = Region()
        for block_node in node.children:
            label = block_node.children[0]
            rest = block_node.children[1:]
            block = Block()
            block.label = str(label)[1:]
            if rest and isinstance(rest[0], lark.Tree) and rest[0].data == "block_args":
                for arg in rest[0].children:
                    name_tok, type_tok = arg.children
                    self.define(name_tok, block.add_argument(self.type_of(type_tok)))
                rest = rest[1:]
            region.add_block(block)
            for op_node in rest:
                block.append(self.op(op_node))
        return region

    def type_alias(self, node: lark.Tree) -> None:
        """`!name = !quant.uniform<...>`: defined once, before any use."""
        name_tok, type_tok = node.children
        name = str(name_tok)
        if name in self.aliases:
            raise self.error(name_tok, f"redefinition of type alias {name}")
        try:
            self.aliases[name] = parse_element_type(str(type_tok))
        except ValueError as exc:
            raise self.error(type_tok, str(exc)) from None

    def module(self, node: lark.Tree) -> Module:
        import lark  # loaded by parse_module already

        children = list(node.children)
        module = Module(str(children[0])[1:])
        for child in children[1:]:
            if child.data == "module_attrs":
                module.attrs = self.attr_dict(child.children[0])
            elif child.data == "op":
                module.body.append(self.op(child))
            elif child.data == "resources":
                for res in child.children:
                    name_tok, type_tok, payload = res.children
                    rtype = self.type_of(type_tok)
                    if not isinstance(rtype, TensorType):
                        raise self.error(type_tok, "a resource's type must be a tensor type")
                    name = str(name_tok)
                    if name in module.resources:
                        raise self.error(name_tok, f"duplicate resource '{name}'")
                    data = None
                    if isinstance(payload, lark.Tree):
                        data = self.list_data(payload, rtype)
                    elif payload.type == "HEX":
                        data = self.hex_data(payload, rtype)
                    module.resources[name] = Resource(rtype, data)
        return module

    def hex_data(self, token: lark.Token, rtype: TensorType) -> np.ndarray:
        digits = str(token)[3:-1]
        if len(digits) % 2:
            raise self.error(token, "hex data must have an even number of digits")
        raw = bytes.fromhex(digits)
        dtype = rtype.element.numpy_dtype.newbyteorder("<")
        if len(raw) != rtype.num_elements * dtype.itemsize:
            raise self.error(
                token, f"resource holds {len(raw)} bytes but {rtype} needs "
                f"{rtype.num_elements * dtype.itemsize}"
            )
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(rtype.shape)


    def list_data(self, node: lark.Tree, rtype: TensorType) -> np.ndarray:
        """A resource written as numbers (`[1, -2, 3]`, what elided dumps show for small
        constants): one per element, integers that fit an integer element type, or
        finite float32 values for f32."""
        dtype = rtype.element.numpy_dtype
        tokens = list(node.children)
        if len(tokens) != rtype.num_elements:
            raise self.error(node, f"resource lists {len(tokens)} values but {rtype} has "
                             f"{rtype.num_elements} elements")
        values: list[int | float] = []
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            for tok in tokens:
                if tok.type != "INT":
                    raise self.error(tok, f"'{tok}' is not an integer, as {rtype} needs")
                value = int(str(tok))
                if not info.min <= value <= info.max:
                    raise self.error(tok, f"{value} does not fit {rtype.element.storage}")
                values.append(value)
        elif dtype == np.float32:
            for tok in tokens:
                try:
                    value = parse_f32(str(tok))
                except ValueError as exc:
                    raise self.error(tok, str(exc)) from None
                if not math.isfinite(value):
                    raise self.error(tok, f"'{tok}' is not finite (write the resource in hex)")
                values.append(value)
        else:
            raise self.error(node, f"a {rtype.element.storage} resource must be written in hex")
        return np.array(values, dtype=dtype).reshape(rtype.shape)


def parse_module(text: str, filename: str = "<input>") -> Module:
    """Parse IR text into a Module. Raises ParseError (one line, with line:column)."""
    import lark

    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        snippet = printable(text[exc.pos_in_stream : exc.pos_in_stream + 20].split("\n")[0])
        raise ParseError(f"{filename}:{exc.line}:{exc.column}: unexpected text '{snippet}'") from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        shown = str(tok) if len(str(tok)) <= 40 else str(tok)[:37] + "..."
        what = "end of input" if tok.type == "$END" else f"'{printable(shown)}'"
        expected = ", ".join(sorted(exc.expected)[:6])
        raise ParseError(
            f"{filename}:{tok.line}:{tok.column}: unexpected {what} (expected {expected})"
        ) from None
    except lark.exceptions.UnexpectedEOF as exc:
        expected = ", ".join(sorted(exc.expected)[:6])
        raise ParseError(f"{filename}: unexpected end of input (expected {expected})") from None
    builder = _Builder(filename)
    *aliases, module = tree.children
    for alias in aliases:
        builder.type_alias(alias)
    return builder.module(module)
