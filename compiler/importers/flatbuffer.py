"""A small, lazy flatbuffer reader driven by schema facts declared as data.

utc reads one kind of flatbuffer, a .tflite model, and reads little of it: counts,
indices, shapes, quantization vectors, a few option fields per operator and the weight
bytes. The `tflite` package (flatc-generated Python, ~200 modules over the `flatbuffers`
runtime) cost a third of a small model's compile just to import, so utc reads the format
itself: a table is a buffer and a position, each accessor follows the vtable with
`struct.unpack_from`, and vectors of numbers are numpy views of the file's bytes (zero
copy). Nothing is read before it is asked for.

The accessors have the names and results of flatc's Python code (`StrideW()`,
`ShapeAsNumpy()`, `TensorsLength()`, `BuiltinOptions()` with `.Bytes` / `.Pos`, ...) so
that importer code reads the same whichever module it was written against. A schema
(`Schema`) is data: for each table its fields in slot order as `name:type[=default]`
(`~` marks a deprecated field, which keeps its slot but has no accessor), and each enum
and union as `NAME=value` pairs. Classes are built on first use.

Damaged input fails as the flatbuffers runtime fails: `struct.error` for a read past the
end of the buffer, `ValueError` from numpy for a vector past the end, `TypeError` for a
vtable offset that points before the start, and truncated strings; the importer turns
each into one 'truncated or corrupt' line.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

_u32 = struct.Struct("<I").unpack_from
_i32 = struct.Struct("<i").unpack_from
_u16 = struct.Struct("<H").unpack_from

#: Schema scalar type -> (struct format, numpy dtype, default when absent).
SCALARS: dict[str, tuple[str, str, object]] = {
    "bool": ("<?", "?", False),
    "byte": ("<b", "i1", 0), "int8": ("<b", "i1", 0),
    "ubyte": ("<B", "u1", 0), "uint8": ("<B", "u1", 0),
    "short": ("<h", "<i2", 0), "int16": ("<h", "<i2", 0),
    "ushort": ("<H", "<u2", 0), "uint16": ("<H", "<u2", 0),
    "int": ("<i", "<i4", 0), "int32": ("<i", "<i4", 0),
    "uint": ("<I", "<u4", 0), "uint32": ("<I", "<u4", 0),
    "long": ("<q", "<i8", 0), "int64": ("<q", "<i8", 0),
    "ulong": ("<Q", "<u8", 0), "uint64": ("<Q", "<u8", 0),
    "float": ("<f", "<f4", 0.0), "float32": ("<f", "<f4", 0.0),
    "double": ("<d", "<f8", 0.0), "float64": ("<d", "<f8", 0.0),
}


class Table:
    """A flatbuffer table: the buffer and the table's position in it (the attributes
    flatbuffers' own `Table` has, which a union accessor returns), and its vtable's
    position and length once a field was read."""

    __slots__ = ("Bytes", "Pos", "_vtable", "_vtable_end")

    def __init__(self, buf=b"", pos: int = 0):
        self.Bytes = buf
        self.Pos = pos
        self._vtable = -1

    def Init(self, buf, pos: int) -> None:
        self.Bytes = buf
        self.Pos = pos
        self._vtable = -1

    def _slot(self, voffset: int) -> int:
        """The offset of a field from the table's start (0: absent), read from the
        table's vtable as flatbuffers does: fields past the vtable's end are absent. The
        vtable is located on the first read (which fails as flatbuffers' does on a
        damaged one) and kept for the others."""
        vtable = self._vtable
        if vtable < 0:
            buf = self.Bytes
            vtable = self.Pos - _i32(buf, self.Pos)[0]
            if vtable < 0:  # what the flatbuffers runtime raises for a negative position
                raise TypeError(f"bad number {vtable} for type uint32")
            self._vtable_end = _u16(buf, vtable)[0]
            self._vtable = vtable
        if voffset < self._vtable_end:
            return _u16(self.Bytes, vtable + voffset)[0]
        return 0

    @classmethod
    def GetRootAs(cls, buf, offset: int = 0) -> Table:
        return cls(buf, offset + _u32(buf, offset)[0])


def _enum_values(spelled: str) -> dict[str, int]:
    return {name: int(value) for name, _, value in (m.partition("=") for m in spelled.split())}


def accessor_name(field: str) -> str:
    """flatc's Python method name for a field: `stride_w` -> `StrideW`."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


class Schema:
    """Enums, unions and table classes of one flatbuffers schema, built when first asked
    for (`get`)."""

    def __init__(self, enums: dict[str, tuple[str, str]], unions: dict[str, str],
                 tables: dict[str, str]):
        self._enums = enums
        self._unions = unions
        self._tables = tables
        self._built: dict[str, type] = {}

    def names(self) -> list[str]:
        return [*self._enums, *self._unions, *self._tables]

    def get(self, name: str) -> type:
        """The class for `name`: an enum or union (its members as class attributes, as
        flatc writes them) or a table (its accessors). KeyError for unknown names."""
        cls = self._built.get(name)
        if cls is None:
            if name in self._enums:
                cls = type(name, (), _enum_values(self._enums[name][1]))
            elif name in self._unions:
                cls = type(name, (), _enum_values(self._unions[name]))
            else:
                cls = self._table_class(name, self._tables[name])
            self._built[name] = cls
        return cls

    # ---- tables -------------------------------------------------------------------------
    def _scalar(self, type_name: str) -> tuple[str, str, object] | None:
        """(struct format, numpy dtype, default) of a scalar or enum type, else None."""
        if type_name in SCALARS:
            return SCALARS[type_name]
        if type_name in self._enums:
            return SCALARS[self._enums[type_name][0]]
        return None

    def _default(self, type_name: str, spelled: str | None, fallback: object) -> object:
        if spelled is None:
            return fallback
        if type_name in self._enums:
            return _enum_values(self._enums[type_name][1])[spelled]
        if spelled in ("true", "false"):
            return spelled == "true"
        return float(spelled) if isinstance(fallback, float) else int(spelled, 0)

    def _table_class(self, name: str, spelled: str) -> type:
        methods: dict[str, Callable] = {"__slots__": ()}
        slot = 0
        for field in spelled.split():
            deprecated = field.startswith("~")
            fname, _, rest = field.lstrip("~").partition(":")
            ftype, _, default = rest.partition("=")
            union = ftype in self._unions
            if union:  # a union takes two slots: its type tag, then the table
                if not deprecated:
                    methods[accessor_name(fname) + "Type"] = _scalar_field(4 + 2 * slot, "<B", 0)
                slot += 1
            if not deprecated:
                methods.update(self._accessors(name, fname, ftype, default or None, 4 + 2 * slot))
            slot += 1
        cls = type(name, (Table,), methods)
        cls.__module__ = __name__
        setattr(cls, f"GetRootAs{name}", cls.GetRootAs)
        return cls

    def _accessors(self, table: str, fname: str, ftype: str, default: str | None,
                   voffset: int) -> dict[str, Callable]:
        name = accessor_name(fname)
        if ftype in self._unions:
            return {name: _table_field(voffset, lambda: Table)}
        if ftype == "string":
            return {name: _string_field(voffset)}
        if ftype in self._tables:
            return {name: _table_field(voffset, lambda: self.get(ftype))}
        scalar = self._scalar(ftype)
        if scalar is not None:
            return {name: _scalar_field(voffset, scalar[0], self._default(ftype, default, scalar[2]))}
        if ftype.startswith("[") and ftype.endswith("]"):
            element = ftype[1:-1]
            out = {f"{name}Length": _vector_length(voffset), f"{name}IsNone": _is_none(voffset)}
            scalar = self._scalar(element)
            if scalar is not None:
                out[name] = _scalar_element(voffset, scalar[0], struct.calcsize(scalar[0]))
                out[f"{name}AsNumpy"] = _vector_numpy(voffset, np.dtype(scalar[1]))
                return out
            if element in self._tables:
                out[name] = _table_element(voffset, lambda: self.get(element))
                return out
        raise ValueError(f"table {table}: field {fname} has a type this reader does not "
                         f"know ({ftype})")


# ---- accessor factories (the semantics of flatc's Python code) ------------------------------

def _scalar_field(voffset: int, fmt: str, default: object) -> Callable:
    unpack = struct.Struct(fmt).unpack_from

    def get(self):
        o = self._slot(voffset)
        return unpack(self.Bytes, self.Pos + o)[0] if o else default

    return get


def _string_field(voffset: int) -> Callable:
    def get(self):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return None
        at = self.Pos + o
        at += _u32(buf, at)[0]
        length = _u32(buf, at)[0]
        return bytes(buf[at + 4 : at + 4 + length])

    return get


def _table_field(voffset: int, cls: Callable[[], type]) -> Callable:
    def get(self):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return None
        at = self.Pos + o
        return cls()(buf, at + _u32(buf, at)[0])

    return get


def _vector_start(buf, pos: int, o: int) -> int:
    at = pos + o
    return at + _u32(buf, at)[0] + 4


def _vector_length(voffset: int) -> Callable:
    def get(self):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return 0
        at = self.Pos + o
        return _u32(buf, at + _u32(buf, at)[0])[0]

    return get


def _is_none(voffset: int) -> Callable:
    def get(self):
        return self._slot(voffset) == 0

    return get


def _scalar_element(voffset: int, fmt: str, size: int) -> Callable:
    unpack = struct.Struct(fmt).unpack_from

    def get(self, j: int):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return 0
        return unpack(buf, _vector_start(buf, self.Pos, o) + j * size)[0]

    return get


def _vector_numpy(voffset: int, dtype: np.dtype) -> Callable:
    def get(self):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return 0
        at = self.Pos + o
        at += _u32(buf, at)[0]
        return np.frombuffer(buf, dtype=dtype, count=_u32(buf, at)[0], offset=at + 4)

    return get


def _table_element(voffset: int, cls: Callable[[], type]) -> Callable:
    def get(self, j: int):
        buf = self.Bytes
        o = self._slot(voffset)
        if not o:
            return None
        at = _vector_start(buf, self.Pos, o) + j * 4
        return cls()(buf, at + _u32(buf, at)[0])

    return get
