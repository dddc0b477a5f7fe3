"""Attribute values.

An attribute is an immutable compile-time value attached to an operation: bool, int,
float, str, a tuple of attributes, a type, a reference to a module resource
(`dense_resource<name>`, the weights and per-channel constants) or a symbol (`@name`).
Keeping them plain Python values (plus two tiny frozen wrappers) makes passes easy to
write; `check_attribute` keeps out anything that would not print and parse back.
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import MemRefType, TensorType


@dataclass(frozen=True)
class ResourceRef:
    """`dense_resource<name>`: an array held in the module's resource table."""

    name: str

    def __str__(self) -> str:
        return f"dense_resource<{self.name}>"


@dataclass(frozen=True)
class SymbolRef:
    """`@name`: a reference to a named entity such as a function."""

    name: str

    def __str__(self) -> str:
        return f"@{self.name}"


Attribute = bool | int | float | str | tuple | ResourceRef | SymbolRef | TensorType | MemRefType


def check_attribute(value: object) -> Attribute:
    """Return `value` normalised (lists become tuples); raise TypeError if unsupported."""
    if isinstance(value, bool | int | float | str | ResourceRef | SymbolRef):
        return value
    if isinstance(value, TensorType | MemRefType):
        return value
    if isinstance(value, list | tuple):
        return tuple(check_attribute(v) for v in value)
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalar
        return check_attribute(value.item())
    raise TypeError(f"unsupported attribute value {value!r} of type {type(value).__name__}")


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )


def format_attribute(value: Attribute) -> str:
    """The textual form of an attribute value (the parser reads exactly this)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return f'"{_escape(value)}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(format_attribute(v) for v in value) + "]"
    return str(value)
