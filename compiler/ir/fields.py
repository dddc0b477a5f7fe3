"""Typed op fields: declare an op's operands, results and attributes once, as class
attributes, and get accessors, a keyword constructor and checks from the declaration.

    class ConvWindow:                      # a family, shared by the levels that have it
        stride = attr(Ints(2))
        dilation = attr(Ints(2))

    class Conv2DOp(ConvWindow, Operation):
        name = "qnn.conv2d"
        input = operand()
        filter = operand()
        bias = operand(optional=True)
        output = result()

`op.stride` reads the attribute (`op.stride = (2, 2)` sets it), `op.filter` the operand
(None when an optional one is absent), `Conv2DOp.build(input=x, filter=w, output=t,
stride=(1, 1), ...)` makes one, and
the verifier checks every declared attribute's kind (`Ints(2)`: a pair of integers).
`Operation.__init_subclass__` turns the fields into the `operands`, `results`,
`attributes` and `optional_attributes` tables the rest of the IR reads, in declaration
order (base classes first), so printing, parsing and verification are unchanged. No
metaclass: plain descriptors and the standard `__set_name__` / `__init_subclass__` hooks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from .attributes import check_attribute

_order = itertools.count()
_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


@dataclass(frozen=True)
class Ints:
    """An attribute holding `count` integers (a tuple; `count=None`: any length), each at
    least `minimum` when given. `names` spells the meaning of each position in errors."""

    count: int | None = None
    minimum: int | None = None
    names: str = ""

    def check(self, key: str, value: Any) -> str | None:
        """One-line reason the value does not fit, naming the attribute; None if it does."""
        ok = isinstance(value, tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
        ok = ok and (self.count is None or len(value) == self.count)
        ok = ok and (self.minimum is None or all(v >= self.minimum for v in value))
        if ok:
            return None
        what = self.names or (f"{_WORDS.get(self.count, self.count)} integers"
                              if self.count is not None else "integers")
        bound = f" >= {self.minimum}" if self.minimum is not None else ""
        shown = list(value) if isinstance(value, tuple) else value
        return f"'{key}' must be {what}{bound}, got {shown}"

    @property
    def python_type(self) -> type:
        return tuple


class Field:
    """Base of the field descriptors; remembers its name and declaration order."""

    def __init__(self) -> None:
        self.order = next(_order)
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name


class OperandField(Field):
    def __init__(self, optional: bool = False, variadic: bool = False) -> None:
        super().__init__()
        self.optional, self.variadic = optional, variadic

    @property
    def spec(self) -> str:
        return self.name + ("*" if self.variadic else "?" if self.optional else "")

    def __get__(self, op: Any, owner: type) -> Any:
        if op is None:
            return self
        return op.operand_group(self.name) if self.variadic else op.operand(self.name)


class ResultField(Field):
    def __init__(self, variadic: bool = False) -> None:
        super().__init__()
        self.variadic = variadic

    @property
    def spec(self) -> str:
        return self.name + ("*" if self.variadic else "")

    def __get__(self, op: Any, owner: type) -> Any:
        if op is None:
            return self
        names = [s.rstrip("?*") for s in type(op).results]
        index = names.index(self.name)
        return op.result_values[index:] if self.variadic else op.result_values[index]


class AttrField(Field):
    def __init__(self, kind: Any, optional: bool = False) -> None:
        super().__init__()
        self.kind, self.optional = kind, optional

    @property
    def python_type(self) -> Any:
        return getattr(self.kind, "python_type", self.kind)

    def check(self, value: Any) -> str | None:
        checker = getattr(self.kind, "check", None)
        return checker(self.name, value) if checker is not None else None

    def __get__(self, op: Any, owner: type) -> Any:
        if op is None:
            return self
        return op.attrs.get(self.name)

    def __set__(self, op: Any, value: Any) -> None:
        """`op.offset = 64` sets the attribute (normalised as the constructor does);
        None removes an optional one. A data descriptor, so an assignment can never
        leave a stray instance attribute that hides the IR's value."""
        if value is None:
            op.attrs.pop(self.name, None)
        else:
            op.attrs[self.name] = check_attribute(value)


def operand(optional: bool = False, variadic: bool = False) -> Any:
    """An operand field (optional ones trail; a variadic one is last)."""
    return OperandField(optional, variadic)


def result(variadic: bool = False) -> Any:
    return ResultField(variadic)


def attr(kind: Any, optional: bool = False) -> Any:
    """An attribute field of `kind`: a Python type (int, str, bool, ResourceRef...), a
    tuple of them, or a checker such as `Ints(2)`."""
    return AttrField(kind, optional)


def declared_fields(cls: type) -> list[Field]:
    """The fields of `cls` and its bases, base classes' first, each name once (a subclass
    may redeclare a field). Ordered by the position of the class that declares each field
    in base-first order (the first class holding that very field under its name: keeps a
    family's fields before the op's own even when the family class was defined later),
    then by declaration order. One walk over the classes: every op class computes this
    when it is defined, ~130 of them at start-up."""
    seen: dict[str, Field] = {}
    depth: dict[tuple[str, int], int] = {}  # (name, id(field)) -> first class holding it
    mro = cls.__mro__
    for i, klass in enumerate(reversed(mro)):
        for name, value in vars(klass).items():
            if isinstance(value, Field):
                seen.pop(name, None)
                seen[name] = value
                depth.setdefault((name, id(value)), i)
    return sorted(seen.values(), key=lambda f: (depth.get((f.name, id(f)), len(mro)), f.order))
