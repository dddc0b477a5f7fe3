"""Seeded, deterministic mutators of TFLite flatbuffers.

Two families, because they find different bugs:

* byte-level (`BitFlip`, `SetByte`, `SetInt32`, `Truncate`, `DuplicateChunk`,
  `RemoveChunk`): blind damage that exercises the reader's bounds checks, biased towards
  the flatbuffer's tables and vtables rather than the weight payloads (flipping a weight
  byte only changes a number);
* structure-aware (`Patch`): one field of one table, found by walking the flatbuffer with
  the `flatbuffers` table reader and patched in place in a bytearray, so the file still
  parses and the damage reaches the importer's semantic checks, the passes, the planner
  and the emitted C++: a tensor shape entry, type, buffer index, quantization scale, zero
  point or quantized dimension, a vector length (per-channel count, rank, operand count),
  an operator operand or opcode index, a builtin option field, the options union tag, a
  subgraph input/output, an opcode, a constant's byte count, a byte of a tensor name.

A `Patch` names its field by a path such as ``tensors[3].quantization.scale[1]`` or
``operators[0].builtin_options.stride_w`` (relative to subgraph 0 unless it starts at a
`Model` field such as ``operator_codes[1].version`` or ``buffers[4].data.length``); the
options table is the one the operator's union tag names *at the time of patching*. Field
positions come from the `tflite` package's generated builder functions (which vtable slot
each ``<Table>Add<Field>`` writes), not from hand-copied offsets. Only fields present in
the file can be patched in place: the self-built seeds are therefore written with every
default materialised (see `tests.fuzz.seeds`).

Every mutation is a small frozen dataclass with `apply` and `describe`, so a case is
reproducible from (seed model, list of mutations) alone: the regression list stores such
recipes instead of binary mutants. `make_mutant` derives a case from (seed, case index)
with `numpy.random.default_rng([seed, case])`: the same pair always gives the same bytes.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import tflite
from flatbuffers.table import Table
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

__all__ = [
    "BitFlip", "DuplicateChunk", "Mutant", "Mutation", "NotApplicable", "Patch", "RemoveChunk",
    "SetByte", "SetInt32", "Truncate", "apply_mutations", "locate", "make_mutant", "table_fields",
]


class NotApplicable(Exception):
    """A mutation cannot be applied to this buffer: its field is absent, or the bytes no
    longer parse far enough to reach it, or an offset is past the end."""


# ---- schema introspection ---------------------------------------------------------------

#: flatbuffers scalar kind (as in Prepend<Kind>Slot) -> struct format.
_FORMATS = {
    "Bool": "<B", "Int8": "<b", "Uint8": "<B", "Int16": "<h", "Uint16": "<H", "Int32": "<i",
    "Uint32": "<I", "Int64": "<q", "Uint64": "<Q", "Float32": "<f", "Float64": "<d",
    "UOffsetTRelative": "<I",
}
_OFFSET = "UOffsetTRelative"


class _SlotRecorder:
    """Stands in for a `flatbuffers.Builder`: records which ``Prepend<Kind>Slot(slot, ...)``
    a generated ``<Table>Add<Field>`` function calls, i.e. the field's vtable slot and kind."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.slot: int | None = None

    def __getattr__(self, name: str):
        match = re.fullmatch(r"Prepend(\w+)Slot", name)
        if match is None:
            raise AttributeError(name)

        def record(slot: int, *_args: object) -> None:
            self.kind, self.slot = match.group(1), slot

        return record


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


@functools.cache
def table_fields(table: str) -> dict[str, tuple[str, int]]:
    """Field name (snake_case) -> (scalar kind or ``UOffsetTRelative``, vtable offset) of a
    schema table, read off the generated builder functions of ``tflite.<table>``."""
    module = importlib.import_module(f"tflite.{table}")
    prefix = f"{table}Add"
    fields: dict[str, tuple[str, int]] = {}
    for name, fn in vars(module).items():
        if name.startswith(prefix) and callable(fn):
            recorder = _SlotRecorder()
            fn(recorder, 0)
            if recorder.kind is None or recorder.slot is None:
                raise AssertionError(f"{name} wrote no slot")  # generated code changed shape
            fields[_snake(name[len(prefix):])] = (recorder.kind, 4 + 2 * recorder.slot)
    return fields


#: (table, field) -> element kind, for vectors of scalars (and strings, as byte vectors).
_SCALAR_VECTORS = {
    ("Tensor", "shape"): "Int32", ("Tensor", "shape_signature"): "Int32",
    ("Tensor", "name"): "Uint8",
    ("QuantizationParameters", "scale"): "Float32", ("QuantizationParameters", "min"): "Float32",
    ("QuantizationParameters", "max"): "Float32", ("QuantizationParameters", "zero_point"): "Int64",
    ("Operator", "inputs"): "Int32", ("Operator", "outputs"): "Int32",
    ("SubGraph", "inputs"): "Int32", ("SubGraph", "outputs"): "Int32",
    ("SubGraph", "name"): "Uint8", ("Model", "description"): "Uint8",
    ("Buffer", "data"): "Uint8",
    ("ReshapeOptions", "new_shape"): "Int32", ("SqueezeOptions", "squeeze_dims"): "Int32",
}
#: (table, field) -> element table, for vectors of tables.
_TABLE_VECTORS = {
    ("Model", "subgraphs"): "SubGraph", ("Model", "operator_codes"): "OperatorCode",
    ("Model", "buffers"): "Buffer", ("SubGraph", "tensors"): "Tensor",
    ("SubGraph", "operators"): "Operator",
}
#: (table, field) -> table, for single sub-tables.
_SUB_TABLES = {("Tensor", "quantization"): "QuantizationParameters"}
#: union tag value -> options table name.
_UNION_TABLES = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_") and v}
_OP_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}

_STEP = re.compile(r"([a-z_0-9]+)(?:\[(\d+)\])?$")


def _parse_path(path: str) -> list[tuple[str, int | None]]:
    steps = []
    for part in path.split("."):
        match = _STEP.match(part)
        if match is None:
            raise ValueError(f"bad field path {path!r} (at {part!r})")
        steps.append((match.group(1), None if match.group(2) is None else int(match.group(2))))
    if steps[0][0] not in table_fields("Model"):
        steps.insert(0, ("subgraphs", 0))  # paths start at subgraph 0 unless they say otherwise
    return steps


def _get(data: bytearray | bytes, kind: str, pos: int) -> int | float:
    fmt = _FORMATS[kind]
    if not 0 <= pos <= len(data) - struct.calcsize(fmt):
        raise NotApplicable(f"offset {pos} is outside the {len(data)}-byte file")
    return struct.unpack_from(fmt, data, pos)[0]


def locate(data: bytearray | bytes, path: str) -> tuple[int, str]:
    """(byte offset, scalar kind) of the field `path` names in this buffer.

    The last step is a scalar field, an element ``name[i]`` of a scalar vector, or
    ``name.length`` (the vector's length prefix, kind Uint32). Raises `NotApplicable` when
    the field is absent or the walk leaves the buffer."""
    steps = _parse_path(path)
    try:
        tab = Table(data, _get(data, "Uint32", 0))
        table: str = "Model"
        k = 0
        while k < len(steps):
            name, index = steps[k]
            fields = table_fields(table)
            if name not in fields:
                raise NotApplicable(f"{table} has no field {name!r}")
            kind, vt = fields[name]
            o = tab.Offset(vt)
            if o == 0:
                raise NotApplicable(f"{table}.{name} is absent from the file")
            is_last = k == len(steps) - 1
            if kind != _OFFSET:
                if not is_last or index is not None:
                    raise ValueError(f"{path!r}: {table}.{name} is a scalar")
                _get(data, kind, tab.Pos + o)
                return tab.Pos + o, kind
            if (table, name) in _SCALAR_VECTORS or (table, name) in _TABLE_VECTORS:
                start, length = tab.Vector(o), tab.VectorLen(o)
                if k + 1 < len(steps) and steps[k + 1] == ("length", None) and index is None:
                    if k + 2 != len(steps):
                        raise ValueError(f"{path!r}: 'length' must be the last step")
                    _get(data, "Uint32", start - 4)
                    return start - 4, "Uint32"
                if index is None:
                    raise ValueError(f"{path!r}: {table}.{name} is a vector and needs an index")
                if index >= length:
                    raise NotApplicable(f"{table}.{name}[{index}] is past its length {length}")
                if (table, name) in _SCALAR_VECTORS:
                    if not is_last:
                        raise ValueError(f"{path!r}: {table}.{name} holds scalars")
                    elem = _SCALAR_VECTORS[(table, name)]
                    pos = start + index * struct.calcsize(_FORMATS[elem])
                    _get(data, elem, pos)
                    return pos, elem
                slot = start + 4 * index
                tab = Table(data, slot + _get(data, "Uint32", slot))
                table = _TABLE_VECTORS[(table, name)]
            elif (table, name) in _SUB_TABLES:
                tab = Table(data, tab.Indirect(tab.Pos + o))
                table = _SUB_TABLES[(table, name)]
            elif (table, name) == ("Operator", "builtin_options"):
                tag_kind, tag_vt = fields["builtin_options_type"]
                tag_o = tab.Offset(tag_vt)
                tag = _get(data, tag_kind, tab.Pos + tag_o) if tag_o else 0
                if tag not in _UNION_TABLES:
                    raise NotApplicable(f"builtin_options_type {tag} names no options table")
                tab = Table(data, tab.Indirect(tab.Pos + o))
                table = _UNION_TABLES[tag]
            else:
                raise NotApplicable(f"{table}.{name} is not a field the fuzzer walks into")
            k += 1
        raise ValueError(f"{path!r} ends at a table, not a field")
    except (IndexError, struct.error, OverflowError) as exc:
        raise NotApplicable(f"the buffer no longer parses up to {path!r} ({exc})") from None


def read_field(data: bytearray | bytes, path: str) -> int | float:
    """The current value of the field `path` names (see `locate`)."""
    pos, kind = locate(data, path)
    return _get(data, kind, pos)


# ---- mutations --------------------------------------------------------------------------

def _fmt_value(value: int | float) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


@dataclass(frozen=True)
class Patch:
    """Set the field `path` names (see `locate`) to `value`, in place. `note` is context
    for humans only (the operator a path points into); it never affects `apply`."""

    path: str
    value: int | float
    note: str = ""

    def apply(self, data: bytearray) -> bytearray:
        pos, kind = locate(data, self.path)
        fmt = _FORMATS[kind]
        value = float(self.value) if fmt in ("<f", "<d") else self.value
        if isinstance(value, float) and fmt not in ("<f", "<d"):
            raise ValueError(f"{self.describe()}: a float for an integer field")
        try:
            struct.pack_into(fmt, data, pos, value)
        except (struct.error, OverflowError) as exc:
            raise ValueError(f"{self.describe()}: value does not fit {kind} ({exc})") from None
        return data

    def describe(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"{self.path} = {_fmt_value(self.value)}{note}"


@dataclass(frozen=True)
class BitFlip:
    """Flip one bit of one byte."""

    offset: int
    bit: int

    def apply(self, data: bytearray) -> bytearray:
        _check_offset(data, self.offset, 1)
        data[self.offset] ^= 1 << self.bit
        return data

    def describe(self) -> str:
        return f"bit {self.bit} of byte {self.offset:#x} flipped"


@dataclass(frozen=True)
class SetByte:
    """Overwrite one byte."""

    offset: int
    value: int

    def apply(self, data: bytearray) -> bytearray:
        _check_offset(data, self.offset, 1)
        data[self.offset] = self.value
        return data

    def describe(self) -> str:
        return f"byte {self.offset:#x} = {self.value:#04x}"


@dataclass(frozen=True)
class SetInt32:
    """Overwrite a little-endian int32 (flatbuffer offsets, lengths and most scalars are
    4-byte fields)."""

    offset: int
    value: int

    def apply(self, data: bytearray) -> bytearray:
        _check_offset(data, self.offset, 4)
        struct.pack_into("<i", data, self.offset, self.value)
        return data

    def describe(self) -> str:
        return f"int32 at {self.offset:#x} = {self.value}"


@dataclass(frozen=True)
class Truncate:
    """Keep only the first `length` bytes."""

    length: int

    def apply(self, data: bytearray) -> bytearray:
        if self.length >= len(data):
            raise NotApplicable(f"cannot truncate {len(data)} bytes to {self.length}")
        return data[: self.length]

    def describe(self) -> str:
        return f"truncated to {self.length} bytes"


@dataclass(frozen=True)
class DuplicateChunk:
    """Insert a copy of bytes [start, start+length) at `dest` (shifts everything after)."""

    start: int
    length: int
    dest: int

    def apply(self, data: bytearray) -> bytearray:
        _check_offset(data, self.start, self.length)
        _check_offset(data, self.dest, 0)
        chunk = data[self.start: self.start + self.length]
        return data[: self.dest] + chunk + data[self.dest:]

    def describe(self) -> str:
        return (f"bytes {self.start:#x}..{self.start + self.length:#x} duplicated at "
                f"{self.dest:#x}")


@dataclass(frozen=True)
class RemoveChunk:
    """Delete bytes [start, start+length) (shifts everything after)."""

    start: int
    length: int

    def apply(self, data: bytearray) -> bytearray:
        _check_offset(data, self.start, self.length)
        return data[: self.start] + data[self.start + self.length:]

    def describe(self) -> str:
        return f"bytes {self.start:#x}..{self.start + self.length:#x} removed"


Mutation = Patch | BitFlip | SetByte | SetInt32 | Truncate | DuplicateChunk | RemoveChunk


def _check_offset(data: bytearray, offset: int, size: int) -> None:
    if not 0 <= offset <= len(data) - size:
        raise NotApplicable(f"offset {offset:#x} (+{size}) is past the {len(data)}-byte file")


def apply_mutations(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    """Apply mutations in order to a copy of `data`; raises `NotApplicable` if one does not
    apply (a recipe that no longer matches its seed model must fail loudly)."""
    out = bytearray(data)
    for m in mutations:
        out = m.apply(out)
    return bytes(out)


@dataclass(frozen=True)
class Mutant:
    """One fuzz case: the seed model's name, the mutations applied (in order) and the
    resulting bytes."""

    seed_model: str
    mutations: tuple[Mutation, ...]
    data: bytes

    def describe(self) -> str:
        return f"{self.seed_model}: " + "; ".join(m.describe() for m in self.mutations)


# ---- structure-aware candidates ---------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    """A patchable field of a seed model and what the value chooser needs to know."""

    category: str
    path: str
    kind: str
    current: int | float
    note: str = ""
    related: tuple[int, ...] = ()  # operand indices of the other side (for self-loops)


@dataclass(frozen=True)
class _SeedInfo:
    by_category: dict[str, list[_Candidate]]
    categories: tuple[str, ...]
    structure_offsets: np.ndarray  # byte offsets outside buffer payloads
    tensors: int
    opcodes: int
    buffers: int
    op_codes_used: tuple[int, ...]
    options_tags_used: tuple[int, ...]


def _op_name(model: tflite.Model, opcode_index: int) -> str:
    if not 0 <= opcode_index < model.OperatorCodesLength():
        return f"opcode {opcode_index}"
    code = model.OperatorCodes(opcode_index)
    builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
    return _OP_NAMES.get(builtin, f"builtin {builtin}")


@functools.lru_cache(maxsize=64)
def _seed_info(data: bytes) -> _SeedInfo:
    """Every patchable field of a (well-formed) seed model, grouped by category, and the
    byte offsets that hold structure rather than weights."""
    model = tflite.Model.GetRootAs(data, 0)
    found: dict[str, list[_Candidate]] = {}

    def add(category: str, path: str, note: str = "", related: tuple[int, ...] = ()) -> None:
        try:
            pos, kind = locate(data, path)
        except NotApplicable:
            return
        found.setdefault(category, []).append(
            _Candidate(category, path, kind, _get(data, kind, pos), note, related))

    n_tensors = 0
    tags: set[int] = set()
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        sp = "" if s == 0 else f"subgraphs[{s}]."
        n_tensors = max(n_tensors, graph.TensorsLength())
        for i in range(graph.TensorsLength()):
            t = graph.Tensors(i)
            tp = f"{sp}tensors[{i}]"
            for d in range(t.ShapeLength()):
                add("shape", f"{tp}.shape[{d}]")
            add("rank", f"{tp}.shape.length")
            add("type", f"{tp}.type")
            add("buffer", f"{tp}.buffer")
            name_len = len(t.Name() or b"")
            for j in sorted({0, name_len // 2, name_len - 1} if name_len else ()):
                add("name", f"{tp}.name[{j}]")
            q = t.Quantization()
            if q is not None:
                for j in range(q.ScaleLength()):
                    add("scale", f"{tp}.quantization.scale[{j}]")
                for j in range(q.ZeroPointLength()):
                    add("zero_point", f"{tp}.quantization.zero_point[{j}]")
                if q.ScaleLength():
                    add("quant_len", f"{tp}.quantization.scale.length")
                    add("quant_len", f"{tp}.quantization.zero_point.length")
                    add("quantized_dimension", f"{tp}.quantization.quantized_dimension")
        for k in range(graph.OperatorsLength()):
            op = graph.Operators(k)
            op_p = f"{sp}operators[{k}]"
            name = _op_name(model, op.OpcodeIndex())
            ins = tuple(int(x) for x in (op.InputsAsNumpy() if op.InputsLength() else ()))
            outs = tuple(int(x) for x in (op.OutputsAsNumpy() if op.OutputsLength() else ()))
            for j in range(len(ins)):
                add("op_io", f"{op_p}.inputs[{j}]", name, outs)
            for j in range(len(outs)):
                add("op_io", f"{op_p}.outputs[{j}]", name, ins)
            add("op_io_len", f"{op_p}.inputs.length", name)
            add("op_io_len", f"{op_p}.outputs.length", name)
            add("opcode_index", f"{op_p}.opcode_index", name)
            add("options_type", f"{op_p}.builtin_options_type", name)
            tag = int(op.BuiltinOptionsType())
            tags.add(tag)
            table = _UNION_TABLES.get(tag)
            if table is None:
                continue
            for fname, (kind, _vt) in sorted(table_fields(table).items()):
                path = f"{op_p}.builtin_options.{fname}"
                if kind != _OFFSET:
                    add("option", path, f"{name} {table}")
                elif (table, fname) in _SCALAR_VECTORS:
                    for j in range(8):
                        add("option", f"{path}[{j}]", f"{name} {table}")
        for role in ("inputs", "outputs"):
            count = graph.InputsLength() if role == "inputs" else graph.OutputsLength()
            for j in range(count):
                add("graph_io", f"{sp}{role}[{j}]")
            add("graph_io", f"{sp}{role}.length")
    used = []
    for c in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(c)
        used.append(max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode())))
        for fname in ("builtin_code", "deprecated_builtin_code", "version"):
            add("opcode", f"operator_codes[{c}].{fname}", _OP_NAMES.get(used[-1], ""))
    payload = np.zeros(len(data), dtype=bool)
    for b in range(model.BuffersLength()):
        buffer = model.Buffers(b)
        if buffer.DataLength():
            add("buffer_data", f"buffers[{b}].data.length")
            start, _ = locate(data, f"buffers[{b}].data[0]")
            payload[start: start + buffer.DataLength()] = True
    structure = np.flatnonzero(~payload)
    return _SeedInfo(found, tuple(sorted(found)), structure, n_tensors,
                     model.OperatorCodesLength(), model.BuffersLength(), tuple(sorted(set(used))),
                     tuple(sorted(tags)))


_INT_EDGES = (0, -1, 1, 2, 3, 7, 255, 256, 65535, 65536, 2**30, 2**31 - 1, -(2**31))
_FLOAT_EDGES = (math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e30, 1e-45, 1.0)
_TENSOR_TYPES = tuple(sorted(v for k, v in vars(TensorType).items() if not k.startswith("_")))


def _fit(kind: str, value: int) -> int:
    """Wrap an integer into the range of an integer field kind (e.g. -1 -> 0xffffffff)."""
    bits = 8 * struct.calcsize(_FORMATS[kind])
    value %= 1 << bits
    if _FORMATS[kind][1].islower() and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def _choose_value(c: _Candidate, info: _SeedInfo, rng: np.random.Generator) -> int | float:
    """An interesting replacement value for a field: edge cases of its kind plus values
    near the current one and, for indices, ones that are out of range or self-referential."""
    cur = c.current
    if c.kind in ("Float32", "Float64"):
        cur_f = float(cur)
        choices: list = [*_FLOAT_EDGES, -cur_f, cur_f * 256.0, cur_f / 256.0, cur_f * 1.0001]
        return float(_pick(rng, choices))
    cur = int(cur)
    if c.category == "shape":
        choices = [0, -1, 1, 2, 3, 65536, 2**31 - 1, -(2**31), 2**16 + 1, cur + 1, max(cur - 1, 0),
                   2 * cur, 1 << 20]
    elif c.category in ("rank", "op_io_len", "quant_len", "buffer_data") or c.path.endswith(".length"):
        choices = [0, max(cur - 1, 0), cur + 1, cur + 2, cur // 2, 1 << 20]
        if c.category == "buffer_data":
            choices += [cur + 16, cur - 4]
    elif c.category == "type":
        choices = [*_TENSOR_TYPES, -1, 100]
    elif c.category == "buffer":
        choices = [0, info.buffers, info.buffers - 1, 2**32 - 1, cur + 1,
                   int(rng.integers(max(info.buffers, 1)))]
    elif c.category == "zero_point":
        choices = [1000, -(2**31), 2**31 - 1, 128, -129, 127, -128, 1 << 40, -1, cur + 1]
    elif c.category == "quantized_dimension":
        choices = [-1, 1, 2, 3, 4, 100, 2**31 - 1]
    elif c.category in ("op_io", "graph_io"):
        choices = [-1, -2, info.tensors, 2**31 - 1, int(rng.integers(max(info.tensors, 1))),
                   cur + 1]
        if c.related:
            choices += list(c.related) * 2  # self-loops: an op reading its own output
    elif c.category == "opcode_index":
        choices = [info.opcodes, 2**32 - 1, int(rng.integers(max(info.opcodes, 1))), cur + 1]
    elif c.category == "options_type":
        choices = [0, 255, int(rng.integers(1, 127)), *info.options_tags_used]
    elif c.category == "opcode":
        if c.path.endswith(".version"):
            choices = [0, -1, 100, cur + 1, max(cur - 1, 0)]
        else:
            choices = [*info.op_codes_used, int(rng.integers(0, 210)), -1, 1000, 32, 127]
    elif c.category == "name":
        choices = [0x0A, 0x1B, 0x00, 0xFF, 0x7F, 0x22, 0x25, 0x0D, 0x09]
    elif c.category == "option":
        if c.kind in ("Int8", "Uint8"):
            choices = [0, 1, 2, 3, 4, 5, 6, 100, -1]
        elif c.kind == "Bool":
            choices = [0, 1, 2, 255]
        else:
            choices = [*_INT_EDGES, cur + 1, 2 * cur, 5, -cur]
    else:
        choices = [*_INT_EDGES, cur + 1]
    return _fit(c.kind, int(_pick(rng, choices)))


def _structure_mutations(data: bytes, info: _SeedInfo, rng: np.random.Generator,
                         count: int) -> list[Mutation]:
    out: list[Mutation] = []
    for _ in range(count):
        category = _pick(rng, info.categories)
        c = _pick(rng, info.by_category[category])
        value = _choose_value(c, info, rng)
        if value == c.current and not (isinstance(value, float) and math.isnan(value)):
            value = _fit(c.kind, int(c.current) + 1) if isinstance(value, int) else -1.0
        out.append(Patch(c.path, value, c.note))
    return out


def _byte_mutations(data: bytes, info: _SeedInfo, rng: np.random.Generator,
                    count: int) -> list[Mutation]:
    size = len(data)
    out: list[Mutation] = []
    for _ in range(count):
        if len(info.structure_offsets) and rng.random() < 0.85:
            offset = int(_pick(rng, info.structure_offsets))
        else:
            offset = int(rng.integers(size))
        kind = int(rng.integers(6))
        if kind == 0:
            out.append(BitFlip(offset, int(rng.integers(8))))
        elif kind == 1:
            out.append(SetByte(offset, int(_pick(rng, (0x00, 0xFF, 0x7F, 0x80, 0x01, 0x0A)))))
        elif kind == 2:
            aligned = min(offset - offset % 4, size - 4)
            out.append(SetInt32(aligned, int(_pick(rng, _INT_EDGES))))
        elif kind == 3:
            out.append(Truncate(int(rng.integers(size))))
        elif kind == 4:
            length = int(rng.integers(1, 65))
            out.append(DuplicateChunk(min(offset, size - length), length, int(rng.integers(size))))
        else:
            length = int(rng.integers(1, 65))
            out.append(RemoveChunk(min(offset, size - length), length))
    return out


def make_mutant(seeds: Mapping[str, bytes], seed: int, case: int) -> Mutant:
    """Case `case` of the campaign with seed `seed`: a seed model picked from `seeds` (by
    sorted name) and 1-3 structure-aware patches (65% of cases) or 1-4 byte-level
    mutations, all drawn from ``default_rng([seed, case])``. Mutations that do not apply
    (a later patch whose field an earlier one moved) are dropped, deterministically."""
    rng = np.random.default_rng([seed, case])
    name = sorted(seeds)[int(rng.integers(len(seeds)))]
    data = seeds[name]
    info = _seed_info(data)
    if rng.random() < 0.65:
        count = int(_pick(rng, (1, 1, 1, 1, 1, 2, 2, 2, 3)))
        planned = _structure_mutations(data, info, rng, count)
    else:
        count = int(_pick(rng, (1, 1, 1, 2, 2, 3, 4)))
        planned = _byte_mutations(data, info, rng, count)
    out = bytearray(data)
    applied: list[Mutation] = []
    for m in planned:
        try:
            out = m.apply(out)
        except NotApplicable:
            continue
        applied.append(m)
    return Mutant(name, tuple(applied), bytes(out))

