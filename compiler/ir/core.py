"""The IR's object model: values, operations, blocks, regions and modules.

Design choices (see DESIGN.md §3):
- Use lists are maintained by the operand setter only, so a pass can never leave a value
  believing it is used by an op that no longer reads it.
- An operation class declares its operand/result/attribute fields in a few class
  attributes; `__init_subclass__` registers it by name for the parser and creates named
  accessors. There is no metaclass.
- Everything a later stage needs lives on the op (attributes) or in the module's
  resource table; there are no side tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .attributes import Attribute, ResourceRef, check_attribute
from .fields import AttrField, OperandField, ResultField, declared_fields
from .types import MemRefType, TensorType, Type


class VerifyError(Exception):
    """The IR breaks an invariant; the message names the op and its source location."""


@dataclass(frozen=True)
class Location:
    """Where an op came from: (TFLite operator index, output tensor name) pairs.

    A fused op keeps every source it was made from, so errors and reports can always
    point back at the original model.
    """

    sources: tuple[tuple[int, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources)

    def __str__(self) -> str:
        from .attributes import format_attribute

        return "loc(" + ", ".join(f"#{i} {format_attribute(n)}" for i, n in self.sources) + ")"

    def describe(self) -> str:
        """Human wording for error messages: 'TFLite op #3 (conv2d/Relu)'."""
        if not self.sources:
            return "unknown location"
        return ", ".join(f"TFLite op #{i} ({n})" for i, n in self.sources)

    @staticmethod
    def merge(*locs: Location) -> Location:
        seen: list[tuple[int, str]] = []
        for loc in locs:
            for s in loc.sources:
                if s not in seen:
                    seen.append(s)
        return Location(tuple(seen))


class Value:
    """An SSA value. `uses` lists (operation, operand index) pairs, kept by Operation."""

    def __init__(self, type: Type, name_hint: str | None = None):
        self.type = type
        self.name_hint = name_hint
        self.uses: list[tuple[Operation, int]] = []

    @property
    def users(self) -> list[Operation]:
        out: list[Operation] = []
        for op, _ in self.uses:
            if op not in out:
                out.append(op)
        return out

    def replace_all_uses_with(self, other: Value) -> None:
        for op, index in list(self.uses):
            op.set_operand(index, other)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name_hint or '?'}: {self.type}>"


class OpResult(Value):
    def __init__(self, op: Operation, index: int, type: Type, name_hint: str | None = None):
        super().__init__(type, name_hint)
        self.op = op
        self.index = index

    @property
    def owner(self) -> Operation:
        return self.op


class BlockArgument(Value):
    def __init__(self, block: Block, index: int, type: Type, name_hint: str | None = None):
        super().__init__(type, name_hint)
        self.block = block
        self.index = index

    @property
    def owner(self) -> Block:
        return self.block


OP_REGISTRY: dict[str, type[Operation]] = {}


class Operation:
    """Base class of every op. Subclasses declare:

    name        "dialect.op"
    operands    operand names; a trailing "?" marks an optional trailing operand, a
                trailing "*" a variadic last operand group
    results     result names, same markers
    attributes  {name: python type or tuple of types} that must be present
    optional_attributes  {name: type} that may be present
    regions     number of regions
    and may override `verify_()` for op-specific checks. Instead of the tables, an op (or a
    family class it inherits from) may declare typed fields (compiler/ir/fields.py:
    `stride = attr(Ints(2))`, `filter = operand()`), from which the tables, accessors,
    `build(...)` and attribute checks are made.
    """

    name: ClassVar[str] = ""
    operands: ClassVar[tuple[str, ...]] = ()
    results: ClassVar[tuple[str, ...]] = ()
    attributes: ClassVar[dict[str, Any]] = {}
    optional_attributes: ClassVar[dict[str, Any]] = {}
    regions: ClassVar[int] = 0
    #: attribute name -> its declared field, for kinds with a check (`Ints(2)`)
    field_checks: ClassVar[dict[str, AttrField]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = declared_fields(cls)
        operands = [f for f in fields if isinstance(f, OperandField)]
        results = [f for f in fields if isinstance(f, ResultField)]
        attrs = [f for f in fields if isinstance(f, AttrField)]
        if operands:
            cls.operands = tuple(f.spec for f in operands)
        if results:
            cls.results = tuple(f.spec for f in results)
        if attrs:
            cls.attributes = {**cls.attributes,
                              **{f.name: f.python_type for f in attrs if not f.optional}}
            cls.optional_attributes = {**cls.optional_attributes,
                                       **{f.name: f.python_type for f in attrs if f.optional}}
            cls.field_checks = {f.name: f for f in attrs
                                if getattr(f.kind, "check", None) is not None}
        if not cls.name:
            return
        if cls.name in OP_REGISTRY and OP_REGISTRY[cls.name] is not cls:
            raise ValueError(f"operation '{cls.name}' is declared twice")
        OP_REGISTRY[cls.name] = cls

    def __init__(
        self,
        operands: Sequence[Value] = (),
        result_types: Sequence[Type] = (),
        attributes: dict[str, Any] | None = None,
        regions: Sequence[Region] | None = None,
        location: Location = Location(),
        result_names: Sequence[str | None] | None = None,
    ):
        self._operands: list[Value] = []
        self.parent: Block | None = None
        self.location = location
        for v in operands:
            self._append_operand(v)
        names = list(result_names) if result_names is not None else [None] * len(result_types)
        self._results = [OpResult(self, i, t, names[i]) for i, t in enumerate(result_types)]
        self.attrs: dict[str, Attribute] = {}
        for k, v in (attributes or {}).items():
            self.attrs[k] = check_attribute(v)
        self.body: list[Region] = list(regions) if regions is not None else []
        for r in self.body:
            r.parent = self

    # ---- operands -------------------------------------------------------------------
    def _append_operand(self, value: Value) -> None:
        if not isinstance(value, Value):
            raise TypeError(f"{self.name}: operand must be a Value, got {value!r}")
        self._operands.append(value)
        value.uses.append((self, len(self._operands) - 1))

    @property
    def operand_values(self) -> list[Value]:
        return list(self._operands)

    def set_operand(self, index: int, value: Value) -> None:
        old = self._operands[index]
        old.uses.remove((self, index))
        self._operands[index] = value
        value.uses.append((self, index))

    def set_operands(self, values: Sequence[Value]) -> None:
        self._drop_operands()
        for v in values:
            self._append_operand(v)

    def _drop_operands(self) -> None:
        for i, v in enumerate(self._operands):
            v.uses.remove((self, i))
        self._operands = []

    @property
    def result_values(self) -> list[OpResult]:
        return list(self._results)

    @property
    def result(self) -> OpResult:
        if len(self._results) != 1:
            raise ValueError(f"{self.name} has {len(self._results)} results, not one")
        return self._results[0]

    # ---- named access ---------------------------------------------------------------
    def operand(self, field: str) -> Value | None:
        """The operand declared as `field` (None for an absent optional operand)."""
        group = _field_slice(type(self).operands, field, len(self._operands))
        vals = self._operands[group]
        if field_is_variadic(type(self).operands, field):
            raise ValueError(f"{field} is variadic; use operand_group()")
        return vals[0] if vals else None

    def operand_group(self, field: str) -> list[Value]:
        return self._operands[_field_slice(type(self).operands, field, len(self._operands))]

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    # ---- structure ------------------------------------------------------------------
    def walk(self) -> Iterator[Operation]:
        """Pre-order walk over this op and every op nested in its regions."""
        yield self
        for region in self.body:
            for block in region.blocks:
                for op in list(block.ops):
                    yield from op.walk()

    def erase(self) -> None:
        """Remove from the parent block; results must be unused."""
        for r in self._results:
            if r.uses:
                users = ", ".join(u.name for u in r.users)
                raise VerifyError(f"cannot erase {self.name}: result still used by {users}")
        self._drop_operands()
        for region in self.body:
            for block in region.blocks:
                for op in reversed(list(block.ops)):
                    op.erase()
        if self.parent is not None:
            self.parent.ops.remove(self)
            self.parent = None

    def clone(self, mapping: dict[Value, Value] | None = None) -> Operation:
        """Deep copy; operands are remapped through `mapping` (updated with results)."""
        mapping = mapping if mapping is not None else {}
        new = type(self).__new__(type(self))
        Operation.__init__(
            new,
            [mapping.get(v, v) for v in self._operands],
            [r.type for r in self._results],
            dict(self.attrs),
            [r.clone(mapping) for r in self.body],
            self.location,
            [r.name_hint for r in self._results],
        )
        for old, fresh in zip(self._results, new._results):
            mapping[old] = fresh
        return new

    # ---- verification ---------------------------------------------------------------
    def where(self) -> str:
        return f"'{self.name}' at {self.location.describe()}"

    def error(self, message: str) -> VerifyError:
        return VerifyError(f"{self.where()}: {message}")

    def verify(self) -> None:
        """Structural checks from the declaration, then the op's own `verify_`."""
        cls = type(self)
        _check_count(self, "operand", cls.operands, len(self._operands))
        _check_count(self, "result", cls.results, len(self._results))
        if len(self.body) != cls.regions:
            raise self.error(f"expects {cls.regions} regions, has {len(self.body)}")
        for key, kind in cls.attributes.items():
            if key not in self.attrs:
                raise self.error(f"missing attribute '{key}'")
            _check_attr_type(self, key, kind)
        for key in self.attrs:
            if key in cls.attributes:
                continue
            if key not in cls.optional_attributes:
                raise self.error(f"unknown attribute '{key}'")
            _check_attr_type(self, key, cls.optional_attributes[key])
        for key, f in cls.field_checks.items():
            problem = f.check(self.attrs[key]) if key in self.attrs else None
            if problem:
                raise self.error(problem)
        self.verify_()

    @classmethod
    def build(cls, *, location: Location = Location(), **fields: Any) -> Operation:
        """Make an op from its declared fields by name: operands and results (result
        types) by their field names, the rest as attributes."""
        operand_names = [s.rstrip("?*") for s in cls.operands]
        result_names = [s.rstrip("?*") for s in cls.results]
        operands: list[Value] = []
        for name in operand_names:
            value = fields.pop(name, None)
            if isinstance(value, list | tuple):
                operands += list(value)
            elif value is not None:
                operands.append(value)
        types = []
        for name in result_names:
            if name not in fields:
                raise TypeError(f"{cls.name}.build: missing result type '{name}'")
            value = fields.pop(name)
            types += list(value) if isinstance(value, list | tuple) else [value]
        return cls(operands, types, fields, location=location)

    def verify_(self) -> None:
        """Op-specific invariants; override in subclasses."""

    def __repr__(self) -> str:
        return f"<{self.name} {self.location.describe()}>"


def field_is_variadic(fields: tuple[str, ...], field: str) -> bool:
    return f"{field}*" in fields


def _field_slice(fields: tuple[str, ...], field: str, count: int) -> slice:
    names = [f.rstrip("?*") for f in fields]
    if field not in names:
        raise KeyError(f"no operand field '{field}'")
    i = names.index(field)
    if fields[i].endswith("*"):
        return slice(i, count)
    return slice(i, i + 1)


def _check_count(op: Operation, what: str, fields: tuple[str, ...], count: int) -> None:
    required = sum(1 for f in fields if not f.endswith(("?", "*")))
    variadic = any(f.endswith("*") for f in fields)
    maximum = None if variadic else len(fields)
    if count < required or (maximum is not None and count > maximum):
        expected = f"{required}" if required == maximum else f"{required}..{maximum or 'n'}"
        raise op.error(f"expects {expected} {what}s, has {count}")


def _check_attr_type(op: Operation, key: str, kind: Any) -> None:
    value = op.attrs[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = any(
        (k is int and isinstance(value, int) and not isinstance(value, bool))
        or (k is float and isinstance(value, float | int) and not isinstance(value, bool))
        or (k not in (int, float) and isinstance(value, k))
        for k in kinds
    )
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise op.error(f"attribute '{key}' must be {names}, got {value!r}")


class Block:
    """A list of operations with typed arguments."""

    def __init__(self, arg_types: Sequence[Type] = (), arg_names: Sequence[str | None] = ()):
        names = list(arg_names) + [None] * (len(arg_types) - len(arg_names))
        self.args = [BlockArgument(self, i, t, names[i]) for i, t in enumerate(arg_types)]
        self.ops: list[Operation] = []
        self.parent: Region | None = None
        self.label = "entry"

    def append(self, op: Operation) -> Operation:
        op.parent = self
        self.ops.append(op)
        return op

    def insert_before(self, anchor: Operation, op: Operation) -> Operation:
        op.parent = self
        self.ops.insert(self.ops.index(anchor), op)
        return op

    def insert_after(self, anchor: Operation, op: Operation) -> Operation:
        op.parent = self
        self.ops.insert(self.ops.index(anchor) + 1, op)
        return op

    def add_argument(self, type: Type, name: str | None = None) -> BlockArgument:
        arg = BlockArgument(self, len(self.args), type, name)
        self.args.append(arg)
        return arg

    @property
    def terminator(self) -> Operation | None:
        return self.ops[-1] if self.ops else None


class Region:
    def __init__(self, blocks: Sequence[Block] = ()):
        self.blocks: list[Block] = []
        self.parent: Operation | None = None
        for b in blocks:
            self.add_block(b)

    def add_block(self, block: Block) -> Block:
        block.parent = self
        self.blocks.append(block)
        return block

    def clone(self, mapping: dict[Value, Value]) -> Region:
        new = Region()
        for block in self.blocks:
            nb = Block([a.type for a in block.args], [a.name_hint for a in block.args])
            nb.label = block.label
            for old, fresh in zip(block.args, nb.args):
                mapping[old] = fresh
            for op in block.ops:
                nb.append(op.clone(mapping))
            new.add_block(nb)
        return new


@dataclass
class Resource:
    """A named constant array of the module (weights, per-channel constants)."""

    type: TensorType
    data: np.ndarray | None  # None when elided in the text it was parsed from


class Module:
    """The top-level container: one body block of ops, module attributes, resources."""

    def __init__(self, name: str = "model"):
        self.name = name
        self.attrs: dict[str, Attribute] = {}
        self.body = Block()
        self.resources: dict[str, Resource] = {}

    # ---- resources --------------------------------------------------------------------
    def add_resource(self, name: str, data: np.ndarray, type: TensorType | None = None) -> ResourceRef:
        """Store `data` under a unique name derived from `name`; return its reference."""
        from .types import ScalarType

        unique = name
        n = 1
        while unique in self.resources:
            unique = f"{name}_{n}"
            n += 1
        array = np.ascontiguousarray(data)
        if type is None:
            type = TensorType(array.shape, ScalarType.from_numpy(array.dtype))
        self.resources[unique] = Resource(type, array)
        return ResourceRef(unique)

    def resource_data(self, ref: ResourceRef | str) -> np.ndarray:
        name = ref.name if isinstance(ref, ResourceRef) else ref
        if name not in self.resources:
            raise VerifyError(f"unknown resource '{name}'")
        data = self.resources[name].data
        if data is None:
            raise VerifyError(f"resource '{name}' was elided from the IR text it was read from")
        return data

    def referenced_resources(self) -> list[str]:
        """Resource names used by some op attribute, in first-use order."""
        seen: dict[str, None] = {}

        def visit(value: Attribute) -> None:
            if isinstance(value, ResourceRef):
                seen.setdefault(value.name, None)
            elif isinstance(value, tuple):
                for v in value:
                    visit(v)

        for op in self.walk():
            for v in op.attrs.values():
                visit(v)
        return list(seen)

    def drop_unused_resources(self) -> None:
        used = set(self.referenced_resources())
        for name in [n for n in self.resources if n not in used]:
            del self.resources[name]

    # ---- traversal --------------------------------------------------------------------
    def walk(self) -> Iterator[Operation]:
        for op in list(self.body.ops):
            yield from op.walk()

    def verify(self) -> None:
        from .verifier import verify_module

        verify_module(self)

    def __str__(self) -> str:
        from .printer import print_module

        return print_module(self)


def is_buffer(value: Value) -> bool:
    return isinstance(value.type, MemRefType)
