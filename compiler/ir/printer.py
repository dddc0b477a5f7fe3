"""The textual IR printer: one generic syntax for every op.

    %r = dialect.op(%a, %b) {key = value, ...} ({regions}) : type loc(#3 "name")

The printer and `parser.py` are exact inverses on everything the printer can produce:
`print(parse(text)) == text`. Value names come from name hints (made unique), so dumps
stay readable and stable from pass to pass.
"""

from __future__ import annotations

import re

from .attributes import format_attribute
from .core import Block, Module, Operation, Value

_VALID_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*\Z")


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


def _attr_dict(attrs: dict) -> str:
    return "{" + ", ".join(f"{k} = {format_attribute(v)}" for k, v in attrs.items()) + "}"


def _print_op(op: Operation, namer: _Namer, indent: str, out: list[str]) -> None:
    line = indent
    if op.result_values:
        line += ", ".join(namer.name(r) for r in op.result_values) + " = "
    line += op.name + "(" + ", ".join(namer.name(v) for v in op.operand_values) + ")"
    if op.attrs:
        line += " " + _attr_dict(op.attrs)
    if op.body:
        line += " ("
        out.append(line + "{")
        for ri, region in enumerate(op.body):
            if ri:
                out.append(indent + "}, {")
            for block in region.blocks:
                args = ", ".join(f"{namer.name(a)}: {a.type}" for a in block.args)
                out.append(f"{indent}^{block.label}({args}):")
                for inner in block.ops:
                    _print_op(inner, namer, indent + "  ", out)
        line = indent + "})"
    types = [str(r.type) for r in op.result_values]
    line += " : " + (types[0] if len(types) == 1 else "(" + ", ".join(types) + ")")
    if op.location:
        line += " " + str(op.location)
    out.append(line)


def print_op(op: Operation) -> str:
    """One op (and its regions) on its own, for error messages and debugging."""
    out: list[str] = []
    _print_op(op, _Namer(), "", out)
    return "\n".join(out)


def print_module(module: Module, elide_resources: bool = False) -> str:
    """The whole module, resources included (hex, or `elided` for readable dumps)."""
    namer = _Namer()
    namer.reserve_hints(_all_values(module))
    out = [f"module @{module.name}"]
    if module.attrs:
        out[0] += " attributes " + _attr_dict(module.attrs)
    out[0] += " {"
    for op in module.body.ops:
        _print_op(op, namer, "  ", out)
    out.append("}")
    if module.resources:
        out.append("{-#")
        out.append("  dense_resources: {")
        for name, res in module.resources.items():
            if elide_resources or res.data is None:
                payload = "elided"
            else:
                little = res.data.astype(res.data.dtype.newbyteorder("<"))
                payload = '"0x' + little.tobytes().hex().upper() + '"'
            out.append(f"    {name}: {res.type} = {payload},")
        out.append("  }")
        out.append("#-}")
    return "\n".join(out) + "\n"
