"""The textual IR printer: one generic syntax for every op.

    !q0 = !quant.uniform<i8:f32, 0.0235:-128>
    module @m {
      %r = dialect.op(%a, %b) {key = value, ...} ({regions}) : tensor<1x8x!q0>
    }

The printer and `parser.py` are exact inverses on everything the printer can produce, in
every mode: `print(parse(text)) == text`. Value names come from name hints (made unique),
so dumps stay readable and stable from pass to pass.

Readability choices (all deterministic, so the text stays canonical):

* Quantized element types are printed once, as type aliases before the module (`!q0`
  per-tensor, `!qc0` per-axis, numbered in first-use order), and types refer to them.
  Per-axis scales would otherwise be repeated in every type that carries them.
* `loc(...)` is printed only when asked (`locations=True`): it matters for debugging a
  dump, not for reading one. `--dump-ir-dir` files always carry it (see pass_manager).
* An op whose line would exceed `WIDTH` has its attribute dictionary wrapped: a break
  after `{`, attributes packed onto indented continuation lines, `}` on a line of its own.
  Long per-axis alias definitions and dense lists wrap the same way.
* With `elide_resources`, resources of at most `SMALL_RESOURCE_ELEMENTS` elements (biases,
  per-channel multipliers and shifts) are still printed, as a readable list of numbers;
  only the large weights become `elided`.
"""

from __future__ import annotations

import re

import numpy as np

from .attributes import format_attribute
from .core import Block, Module, Operation, Resource, Value
from .types import (
    ElementType,
    MemRefType,
    PerAxisQuantizedType,
    QuantizedType,
    TensorType,
    format_f32,
)

_VALID_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*\Z")

#: Lines longer than this are wrapped where the syntax allows it (attribute dictionaries,
#: per-axis alias definitions, dense lists); a single item longer than it stays whole.
WIDTH = 120

#: With `elide_resources`, resources with at most this many elements are still printed in
#: full: they are the per-channel constants (bias, multiplier, shift) a reader needs.
SMALL_RESOURCE_ELEMENTS = 64

#: Element types a resource may print as a list of numbers (others always print as hex).
_LISTABLE = ("i8", "ui8", "i16", "i32", "i64", "f32")


def sanitize_name(hint: str) -> str:
    """Turn an arbitrary hint (a TFLite tensor name, say) into a valid SSA name."""
    name = re.sub(r"[^A-Za-z0-9_.]", "_", hint).strip(".")
    return name or "v"


class _Namer:
    """Assigns each value a unique textual name, preferring its hint."""

    def __init__(self) -> None:
        self.names: dict[Value, str] = {}
        self.taken: set[str] = set()
        self.counter = 0

    def reserve_hints(self, values: list[Value]) -> None:
        for v in values:
            if v.name_hint is not None and _VALID_NAME.match(v.name_hint):
                if v.name_hint not in self.taken:
                    self.names[v] = v.name_hint
                    self.taken.add(v.name_hint)

    def name(self, value: Value) -> str:
        if value not in self.names:
            if value.name_hint is not None:
                base = sanitize_name(value.name_hint)
                candidate, n = base, 1
                while candidate in self.taken:
                    candidate = f"{base}_{n}"
                    n += 1
            else:
                while str(self.counter) in self.taken:
                    self.counter += 1
                candidate = str(self.counter)
            self.names[value] = candidate
            self.taken.add(candidate)
        return "%" + self.names[value]


def _pack(items: list[str], sep: str, indent: str, width: int = WIDTH) -> list[str]:
    """`items` greedily packed onto lines starting with `indent`, joined by `sep`; every
    line but the last ends with the separator (without its trailing space)."""
    lines: list[str] = []
    current: list[str] = []
    for item in items:
        candidate = indent + sep.join(current + [item]) + sep.rstrip()
        if current and len(candidate) > width:
            lines.append(indent + sep.join(current) + sep.rstrip())
            current = []
        current.append(item)
    lines.append(indent + sep.join(current))
    return lines


class _Types:
    """Spells types, giving every quantized element type an alias on first use."""

    def __init__(self, use_aliases: bool) -> None:
        self.use_aliases = use_aliases
        self.aliases: dict[ElementType, str] = {}
        self.counts = {"q": 0, "qc": 0}

    def element(self, element: ElementType) -> str:
        if not self.use_aliases or not isinstance(element, QuantizedType | PerAxisQuantizedType):
            return str(element)
        name = self.aliases.get(element)
        if name is None:
            prefix = "qc" if isinstance(element, PerAxisQuantizedType) else "q"
            name = f"!{prefix}{self.counts[prefix]}"
            self.counts[prefix] += 1
            self.aliases[element] = name
        return name

    def type(self, t: TensorType | MemRefType) -> str:
        return t.spell(self.element(t.element))

    def attribute(self, value: object) -> str:
        if isinstance(value, TensorType | MemRefType):
            return self.type(value)
        if isinstance(value, tuple):
            return "[" + ", ".join(self.attribute(v) for v in value) + "]"
        return format_attribute(value)

    def definitions(self) -> list[str]:
        """`!name = <type>` lines, in first-use order; long per-axis ones wrapped."""
        out: list[str] = []
        for element, name in self.aliases.items():
            line = f"{name} = {element}"
            if len(line) > WIDTH and isinstance(element, PerAxisQuantizedType):
                head = (f"{name} = !quant.uniform<{element.storage}:{element.expressed}:"
                        f"{element.axis}, {{")
                pairs = [f"{format_f32(s)}:{z}"
                         for s, z in zip(element.scales, element.zero_points)]
                body = _pack(pairs, ",", "  ", WIDTH - len("}>"))
                body[-1] += "}>"
                out.append(head)
                out.extend(body)
            else:
                out.append(line)
        return out


class _Printer:
    def __init__(self, namer: _Namer, types: _Types, locations: bool) -> None:
        self.namer = namer
        self.types = types
        self.locations = locations

    def with_attrs(self, head: str, attrs: dict, rest: str, indent: str, out: list[str]) -> None:
        """`head {attrs}rest` on one line, or with the dictionary wrapped when too long."""
        if not attrs:
            out.append(head + rest)
            return
        items = [f"{k} = {self.types.attribute(v)}" for k, v in attrs.items()]
        line = head + " {" + ", ".join(items) + "}" + rest
        if len(line) <= WIDTH:
            out.append(line)
            return
        out.append(head + " {")
        out.extend(_pack(items, ", ", indent + "    "))
        out.append(indent + "}" + rest)

    def op(self, op: Operation, indent: str, out: list[str]) -> None:
        name = self.namer.name
        head = indent
        if op.result_values:
            head += ", ".join(name(r) for r in op.result_values) + " = "
        head += op.name + "(" + ", ".join(name(v) for v in op.operand_values) + ")"
        types = [self.types.type(r.type) for r in op.result_values]
        tail = " : " + (types[0] if len(types) == 1 else "(" + ", ".join(types) + ")")
        if self.locations and op.location:
            tail += " " + str(op.location)
        if not op.body:
            self.with_attrs(head, op.attrs, tail, indent, out)
            return
        self.with_attrs(head, op.attrs, " ({", indent, out)
        for ri, region in enumerate(op.body):
            if ri:
                out.append(indent + "}, {")
            for block in region.blocks:
                args = ", ".join(f"{name(a)}: {self.types.type(a.type)}" for a in block.args)
                out.append(f"{indent}^{block.label}({args}):")
                for inner in block.ops:
                    self.op(inner, indent + "  ", out)
        out.append(indent + "})" + tail)


def _all_values(module: Module) -> list[Value]:
    values: list[Value] = []

    def visit_block(block: Block) -> None:
        values.extend(block.args)
        for op in block.ops:
            values.extend(op.result_values)
            for region in op.body:
                for b in region.blocks:
                    visit_block(b)

    visit_block(module.body)
    return values


def _number_list(res: Resource) -> list[str] | None:
    """The resource's elements as numbers that parse back exactly, or None when its
    element type has no such spelling (or a float32 is not finite: NaN payloads and
    infinities are kept bit-exact by hex instead)."""
    if str(res.type.element.storage) not in _LISTABLE:
        return None
    flat = res.data.reshape(-1)
    if res.data.dtype.kind == "f":
        if not np.all(np.isfinite(flat)):
            return None
        return [format_f32(v) for v in flat]
    return [str(int(v)) for v in flat]


def _resource_lines(name: str, res: Resource, type_text: str, elide: bool) -> list[str]:
    head = f"    {name}: {type_text} = "
    if res.data is None:
        return [head + "elided,"]
    small = res.type.num_elements <= SMALL_RESOURCE_ELEMENTS
    numbers = _number_list(res) if elide and small else None
    if numbers is not None:
        line = head + "[" + ", ".join(numbers) + "],"
        if len(line) <= WIDTH:
            return [line]
        return [head + "[", *_pack(numbers, ", ", "      "), "    ],"]
    if elide and not small:
        return [head + "elided,"]
    little = res.data.astype(res.data.dtype.newbyteorder("<"))
    return [head + '"0x' + little.tobytes().hex().upper() + '",']


def print_op(op: Operation, locations: bool = False) -> str:
    """One op (and its regions) on its own, for error messages and debugging. Types are
    spelled inline: there is no module to hold alias definitions."""
    out: list[str] = []
    _Printer(_Namer(), _Types(use_aliases=False), locations).op(op, "", out)
    return "\n".join(out)


def print_module(module: Module, elide_resources: bool = False, locations: bool = False) -> str:
    """The whole module: type aliases, ops, then resources (hex; with `elide_resources`
    small ones as numbers and large ones `elided`). `locations` adds each op's `loc(...)`."""
    namer = _Namer()
    namer.reserve_hints(_all_values(module))
    types = _Types(use_aliases=True)
    printer = _Printer(namer, types, locations)
    out: list[str] = []
    printer.with_attrs(f"module @{module.name}" + (" attributes" if module.attrs else ""),
                       module.attrs, " {", "", out)
    for op in module.body.ops:
        printer.op(op, "  ", out)
    out.append("}")
    if module.resources:
        out.append("{-#")
        out.append("  dense_resources: {")
        for name, res in module.resources.items():
            out.extend(_resource_lines(name, res, types.type(res.type), elide_resources))
        out.append("  }")
        out.append("#-}")
    return "\n".join(types.definitions() + out) + "\n"

