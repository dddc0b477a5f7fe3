"""TFLite flatbuffer importer: the only module that reads the model (`tflite` is utc's reader).

The importer turns one TFLite subgraph into a `func.func` of `tensor` dialect ops.
Operators are described by a declarative table (`OP_TABLE`): each row names the TFLite
builtin, the versions and dtypes utc implements, the constraints it checks, and a small
builder function. Adding an operator is one row plus one builder here, one op class in
`dialects/tensor.py`, a lowering pattern and a kernel.

Everything the importer cannot represent faithfully is refused with one line naming the
file, the operator (name and index) or tensor, and the reason.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from utc.compiler.errors import ImportError_, printable
from utc.compiler.importers import rearrange
from utc.compiler.importers import tflite_checks as checks
from utc.compiler.importers import tflite_schema as tflite
from utc.compiler.importers.resource_variables import (
    Handle,
    HandleError,
    default_fill,
    resolve_handles,
)
from utc.compiler.importers.tflite_schema import BuiltinOperator, BuiltinOptions
from utc.compiler.importers.tflite_schema import TensorType as TflType
from utc.compiler.importers.variable_tensors import VariableTensorError
from utc.compiler.importers.variable_tensors import check_uses as check_variable_uses
from utc.compiler.importers.variable_tensors import initial_value as variable_initial_value
from utc.compiler.ir import (
    F32,
    I32,
    Block,
    Location,
    Module,
    Operation,
    PerAxisQuantizedType,
    QuantizedType,
    Region,
    ScalarType,
    SymbolRef,
    TensorType,
    Value,
    VerifyError,
)
from utc.dialects import func, state, tensor

BUILTIN_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_TFL_TYPE_NAMES = {v: k for k, v in vars(TflType).items() if not k.startswith("_")}
_SCALAR_OF = {
    TflType.FLOAT32: "f32",
    TflType.INT8: "i8",
    TflType.INT16: "i16",
    TflType.INT32: "i32",
    TflType.INT64: "i64",
    TflType.BOOL: "i1",
    TflType.UINT32: "ui32",  # TFLite Micro's signal library (energies, filter bank channels)
    TflType.UINT64: "ui64",
}
_REFUSED_TYPES = {
    TflType.UINT8: "legacy uint8 quantization is not supported (re-convert the model with "
    "int8 quantization)",
    TflType.FLOAT16: "float16 tensors are not supported (convert to float32 or int8)",
}
ACTIVATION_NAMES = {0: "none", 1: "relu", 2: "relu_n1_to_1", 3: "relu6", 4: "tanh", 5: "sign_bit"}
PADDING_NAMES = {0: "SAME", 1: "VALID"}
SUPPORTED_OPS_HINT = "see SUPPORTED_OPS.md or `utc list-ops`"
#: Operators that run other subgraphs.
_CONTROL_FLOW = ("WHILE", "IF", "CALL_ONCE", "CALL", "STABLEHLO_WHILE", "STABLEHLO_CASE")


@dataclass
class TflTensor:
    """One tensor of the flatbuffer as read, before it becomes an IR value."""

    index: int
    name: str
    shape: tuple[int, ...]
    tfl_type: int
    scales: np.ndarray | None
    zero_points: np.ndarray | None
    quantized_dimension: int
    data: np.ndarray | None
    #: TFLite's `is_variable`: persistent state (SVDF's activation state, LSTM's cell and
    #: output state) that TFLite Micro keeps in its own buffer between invocations
    is_variable: bool = False


@dataclass
class TflOperator:
    """One operator of the flatbuffer as read: its type, operands and options."""

    index: int
    builtin: str
    version: int
    inputs: list[int]
    outputs: list[int]
    raw: object  # tflite.Operator
    where: str = ""  # "file: operator #i NAME", for errors found while reading options
    custom: str = ""  # a CUSTOM operator's custom_code (printable), else ""

    def options(self, cls: type) -> object | None:
        """The operator's options table read as `cls`, or None when it is absent or its
        union type tag names another table: TFLite Micro then leaves the parameters at
        their zero defaults, so callers treat None exactly like that."""
        table = self.raw.BuiltinOptions()
        if table is None or self.raw.BuiltinOptionsType() != getattr(BuiltinOptions, cls.__name__):
            return None
        if not checks.table_in_bounds(table.Bytes, table.Pos):
            raise ImportError_(f"{self.where}: corrupt options table (its vtable lies outside "
                               "the file)")
        opts = cls()
        opts.Init(table.Bytes, table.Pos)
        return opts


@dataclass(frozen=True)
class OpRule:
    """One row of the operator table."""

    builtin: str
    build: Callable[[ImportContext, TflOperator], None]
    versions: tuple[int, int]  # inclusive range of operator versions utc implements
    dtypes: tuple[str, ...]  # activation dtypes: "int8", "int16" (16x8), "float32"
    summary: str
    constraints: str = ""
    inputs: tuple[int, int | None] = (1, 1)  # operand count range TFLite Micro accepts
    outputs: tuple[int, int | None] = (1, 1)


OP_TABLE: dict[str, OpRule] = {}
#: CUSTOM operators utc implements, by custom_code (TFLite Micro's signal library):
#: compiler/importers/tflite_signal.py fills it.
CUSTOM_OP_TABLE: dict[str, OpRule] = {}


def op_rule(builtin: str, versions: tuple[int, int], dtypes: tuple[str, ...], summary: str,
            constraints: str = "", inputs: tuple[int, int | None] = (1, 1),
            outputs: tuple[int, int | None] = (1, 1)) -> Callable:
    """Decorator adding a builder function to OP_TABLE (one row per TFLite builtin)."""

    def register(fn: Callable[[ImportContext, TflOperator], None]) -> Callable:
        OP_TABLE[builtin] = OpRule(builtin, fn, versions, dtypes, summary, constraints,
                                   inputs, outputs)
        return fn

    return register


def _text(raw: bytes | None) -> str:
    """A name from the file as printable ASCII (escapes for control characters, invalid
    UTF-8 and non-ASCII), made once on reading: no message, IR dump or generated comment
    can then be broken over lines or show something other than what the file holds."""
    decoded = printable((raw or b"").decode("utf-8", "backslashreplace"))
    return decoded.encode("ascii", "backslashreplace").decode("ascii")


def _short_name(tensor_name: str) -> str:
    """A readable SSA name hint from a (often very long) TFLite tensor name."""
    first = tensor_name.split(";")[0]
    parts = [p for p in first.split("/") if p]
    tail = "_".join(parts[-2:]) if len(parts) >= 2 else (parts[0] if parts else "t")
    return re.sub(r"[^A-Za-z0-9_]", "_", tail)[:40] or "t"


class ImportContext:
    """State while importing one subgraph: the tensor-index → Value map and the block."""

    def __init__(self, path: str, module: Module, block: Block, tensors: list[TflTensor]):
        self.path = path
        self.module = module
        self.block = block
        self.tensors = tensors
        self.values: dict[int, Value] = {}
        self.current: TflOperator | None = None
        #: resource tensor index (a VAR_HANDLE output) -> the variable's symbol
        self.handles: dict[int, SymbolRef] = {}
        #: the symbol of every VAR_HANDLE operator of the subgraph, by operator index
        self.variable_of: dict[int, SymbolRef] = {}
        #: variable tensor index (`is_variable`) -> the symbol of its state.variable
        self.variable_tensors: dict[int, SymbolRef] = {}

    # ---- errors -------------------------------------------------------------------------
    def fail(self, message: str) -> ImportError_:
        op = self.current
        where = f"operator #{op.index} {op.builtin}" if op else "model"
        return ImportError_(f"{self.path}: {where}: {message}")

    # ---- types --------------------------------------------------------------------------
    def tensor_type(self, t: TflTensor) -> TensorType:
        if t.tfl_type in _REFUSED_TYPES:
            raise self.fail(f"tensor '{t.name}' (#{t.index}): {_REFUSED_TYPES[t.tfl_type]}")
        if t.tfl_type not in _SCALAR_OF:
            name = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise self.fail(f"tensor '{t.name}' (#{t.index}) has unsupported type {name}")
        storage = ScalarType(_SCALAR_OF[t.tfl_type])
        element = storage
        if t.scales is not None and len(t.scales) > 0 and t.tfl_type != TflType.FLOAT32:
            zps = t.zero_points if t.zero_points is not None else np.zeros(len(t.scales), np.int64)
            if len(t.scales) == 1:
                element = QuantizedType(storage, float(t.scales[0]), int(zps[0]))
            else:
                element = PerAxisQuantizedType(  # tolist: the same Python floats and ints
                    storage, t.quantized_dimension,
                    tuple(t.scales.tolist()), tuple(np.asarray(zps).tolist()),
                )
        return TensorType(t.shape, element)

    # ---- values -------------------------------------------------------------------------
    def input(self, op: TflOperator, position: int, optional: bool = False) -> Value | None:
        """The Value for the operator's input `position` (None if absent and optional)."""
        if position >= len(op.inputs) or op.inputs[position] < 0:
            if optional:
                return None
            raise self.fail(f"input {position} is missing")
        index = op.inputs[position]
        if index in self.variable_tensors:
            return self.read_variable_tensor(index)
        if index in self.values:
            return self.values[index]
        return self.constant(index)  # check_dataflow: not computed means constant

    def read_variable_tensor(self, index: int) -> Value:
        """A `state.read` of a variable tensor's state, at the operator reading it (each
        operator reads afresh: an SVDF or LSTM earlier in the subgraph may have updated
        it)."""
        t = self.tensors[index]
        op = self.emit_step(state.ReadOp, [], [self.tensor_type(t)],
                            {"variable": self.variable_tensors[index]}, [_short_name(t.name)])
        return op.result

    def write_variable_tensor(self, tfl: TflOperator, position: int, value: Value) -> None:
        """The operator's new value of the variable tensor it reads at input `position`
        (the state SVDF and LSTM update in place in TFLite Micro)."""
        index = tfl.inputs[position]
        if index not in self.variable_tensors:
            t = self.tensors[index]
            raise self.fail(f"input {position} ('{t.name}') must be a variable tensor (the "
                            "state the operator keeps between invocations)")
        self.emit_step(state.WriteOp, [value], [], {"variable": self.variable_tensors[index]})

    def tensor_at(self, op: TflOperator, position: int) -> TflTensor:
        """The tensor of a required input (an omitted one, index -1, is an error)."""
        if position >= len(op.inputs) or op.inputs[position] < 0:
            raise self.fail(f"input {position} is missing")
        return self.tensors[op.inputs[position]]

    def required_options(self, op: TflOperator, cls: type) -> object:
        """Options an operator cannot run without (strides, filter sizes): TFLite Micro
        would run with zero strides and divide by zero; utc refuses."""
        opts = op.options(cls)
        if opts is None:
            raise self.fail(f"the operator has no {cls.__name__} (absent, or its type tag "
                            "names another options table)")
        return opts

    def check_rank(self, value: Value, rank: int, role: str) -> None:
        if value.type.rank != rank:
            raise self.fail(f"{role} must have rank {rank}, got {value.type}")

    def constant(self, index: int, dequantize: bool = False, role: str | None = None) -> Value:
        """A tensor.constant for a constant tensor, created at its first use.

        Its resource is named `<op><index>.<role>` after its consumer (`conv2d0.filter`),
        with the builtin spelled as the dialects spell the op (CONV_2D -> `conv2d`), so
        that the requantization tables lower-to-qnn adds for the same op
        (`op_base_name`: `conv2d0.mult`) share the prefix and the generated C++ has one
        naming scheme; a constant no operator consumes (a constant model output) is
        `tensor<tensor index>.const`. The op's location carries the consumer's index
        and the constant's own full TFLite tensor name, which is what the tensor.constant
        outputs, so the generated weight arrays can say which tensor they hold."""
        t = self.tensors[index]
        ttype = self.tensor_type(t)
        data = t.data
        if dequantize and ttype.element != F32:
            data = _dequantize(t, ttype)
            ttype = TensorType(t.shape, F32)
        key = -index - 1 if dequantize else index
        if key in self.values:
            return self.values[key]
        consumer = self.current
        if consumer is not None:
            kind = re.sub(r"_(?=\d)", "", consumer.builtin.lower())
            if consumer.custom:  # a custom_code may hold anything: a resource name may not
                kind = re.sub(r"[^a-z0-9_]+", "_", consumer.custom.lower()).strip("_") or "custom"
            name = f"{kind}{consumer.index}.{role or 'const'}"
            location = Location(((consumer.index, t.name),))
        else:
            name = f"tensor{index}.const"
            location = Location()
        ref = self.module.add_resource(name, data.reshape(t.shape), TensorType(t.shape, ttype.element))
        op = tensor.ConstantOp([], [ttype], {"value": ref}, location=location,
                               result_names=[ref.name])
        self.block.append(op)
        self.values[key] = op.result
        return op.result

    def const_data(self, op: TflOperator, position: int) -> np.ndarray:
        """The data of a constant integer input (paddings, axes, permutations, slice
        bounds), as int64."""
        t = self.tensor_at(op, position)
        if t.data is None:
            raise self.fail(f"input {position} ('{t.name}') must be a constant")
        if t.tfl_type not in (TflType.INT32, TflType.INT64):
            tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise self.fail(f"input {position} ('{t.name}') must be int32 or int64, got {tname}")
        return t.data.reshape(t.shape).astype(np.int64)

    def output_type(self, op: TflOperator, position: int = 0) -> TensorType:
        return self.tensor_type(self.tensors[op.outputs[position]])

    def location(self) -> Location:
        op = self.current
        if op is None:
            return Location()
        # an operator without outputs (ASSIGN_VARIABLE) is named by its first input
        named = op.outputs or [i for i in op.inputs if i >= 0]
        name = self.tensors[named[0]].name if named else ""
        return Location(((op.index, name.split(";")[0]),))

    def emit(self, op_cls: type[Operation], tfl: TflOperator, operands: list[Value | None],
             attributes: dict | None = None, result_types: list[TensorType] | None = None) -> Operation:
        """Append an op whose results are the TFLite operator's outputs."""
        types = result_types or [self.output_type(tfl, i) for i in range(len(tfl.outputs))]
        names = [_short_name(self.tensors[o].name) for o in tfl.outputs]
        op = self.emit_step(op_cls, operands, types, attributes, names)
        for index, result in zip(tfl.outputs, op.result_values):
            self.values[index] = result
        return op

    def emit_step(self, op_cls: type[Operation], operands: list[Value | None],
                  result_types: list[TensorType], attributes: dict | None = None,
                  names: list[str] | None = None) -> Operation:
        """Append one verified op of the current TFLite operator without binding its
        results to the operator's outputs: a step of an operator written as several ops
        (SPACE_TO_DEPTH as reshape, transpose, reshape)."""
        op = op_cls([v for v in operands if v is not None], result_types, attributes or {},
                    location=self.location(), result_names=names)
        try:
            # the dialect's verifier holds the shape rules (output shape inferred from the
            # inputs and options, bias length, per-channel counts): one home for them,
            # shared with `utc opt`; here its message is re-anchored on the TFLite operator
            op.verify()
        except VerifyError as exc:
            message = str(exc).removeprefix(f"{op.where()}: ")
            raise self.fail(message) from None
        self.block.append(op)
        return op

    def bind(self, tfl: TflOperator, position: int, value: Value) -> None:
        """Make `value` the TFLite operator's output `position`."""
        self.values[tfl.outputs[position]] = value

    def output_name(self, tfl: TflOperator, position: int = 0, suffix: str = "") -> str:
        """The SSA name hint of an output, with `suffix` for the steps leading to it."""
        return _short_name(self.tensors[tfl.outputs[position]].name) + suffix

    def activation(self, code: int) -> str:
        name = ACTIVATION_NAMES.get(code)
        if name is None or name == "sign_bit":
            raise self.fail(f"unsupported fused activation {name or code}")
        return name

    def padding(self, code: int) -> str:
        if code not in PADDING_NAMES:
            raise self.fail(f"unknown padding mode {code}")
        return PADDING_NAMES[code]


def _dequantize(t: TflTensor, ttype: TensorType) -> np.ndarray:
    """Weights of a hybrid model, turned into float32 exactly as TFLite dequantizes."""
    q = t.data.reshape(t.shape).astype(np.float32)
    el = ttype.element
    if isinstance(el, QuantizedType):
        return ((q - np.float32(el.zero_point)) * np.float32(el.scale)).astype(np.float32)
    if isinstance(el, PerAxisQuantizedType):
        shape = [1] * len(t.shape)
        shape[el.axis] = len(el.scales)
        scales = np.array(el.scales, np.float32).reshape(shape)
        zps = np.array(el.zero_points, np.float32).reshape(shape)
        return ((q - zps) * scales).astype(np.float32)
    return q


# ---- reading the flatbuffer -------------------------------------------------------------

def _read_tensors(path: str, model: tflite.Model, graph: tflite.SubGraph,
                  file_bytes: int) -> list[TflTensor]:
    """Read every tensor of the subgraph, checking what makes it safe to use: its shape
    (positive, bounded), its quantization (finite, in range, one entry per channel) and
    its buffer (in range, sized for the shape)."""
    num_buffers = model.BuffersLength()
    checks.check_count(path, "tensor", graph.TensorsLength(), file_bytes)
    placeholders = _intermediates_only(graph)
    out = []
    for i in range(graph.TensorsLength()):
        t = graph.Tensors(i)
        name = _text(t.Name())
        label = checks.tensor_label(i, name)
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        if not t.ShapeSignatureIsNone() and t.ShapeSignatureLength():
            sig = [int(d) for d in t.ShapeSignatureAsNumpy()]
            dynamic = [k for k, d in enumerate(sig) if d < 0]
            # a dynamic batch dimension is taken as its static size, as TFLite Micro does
            if any(k != 0 for k in dynamic) or (dynamic and shape and shape[0] < 1):
                raise ImportError_(f"{path}: {label} has dynamic dimensions {sig}; utc needs "
                                   "static shapes")
        if any(d < 0 for d in shape):
            raise ImportError_(f"{path}: {label} has unknown dimensions {list(shape)}")
        tfl_type = t.Type()
        itemsize = np.dtype(_NP_OF[tfl_type]).itemsize if tfl_type in _NP_OF else 8
        if not (i in placeholders and 0 in shape):
            checks.check_shape(path, label, shape, itemsize)
        if t.Sparsity() is not None:
            raise ImportError_(f"{path}: {label} is stored sparse (sparse weights are not "
                               "supported; re-convert the model without sparsity)")
        q = t.Quantization()
        scales = zps = None
        qdim = 0
        if q is not None and q.ScaleLength() and tfl_type != TflType.FLOAT32:
            scales = q.ScaleAsNumpy().astype(np.float32)
            zps = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else None
            qdim = checks.effective_quantized_dimension(shape, scales, q.QuantizedDimension())
            checks.check_quantization(path, label, _TFL_TYPE_NAMES.get(tfl_type, "?"), shape,
                                      scales, zps, qdim)
        data = None
        buf_index = t.Buffer()
        if not 0 <= buf_index < num_buffers:
            raise ImportError_(f"{path}: {label} names buffer #{buf_index}, but the model has "
                               f"{num_buffers} buffers")
        if buf_index > 0:
            buf = model.Buffers(buf_index)
            if buf.Offset() > 1:
                raise ImportError_(f"{path}: {label} stores its data outside the flatbuffer "
                                   "(models over 2 GB are not supported)")
            if buf.DataLength():
                # a view of the file's bytes: the weights are not copied on import
                data = _decode(path, label, tfl_type, buf.DataAsNumpy(), shape)
        out.append(TflTensor(i, name, shape, tfl_type, scales, zps, qdim, data,
                             bool(t.IsVariable())))
    return out


def _intermediates_only(graph: tflite.SubGraph) -> set[int]:
    """Tensors an operator lists only as `intermediates` (the quantized LSTM's converter
    records gate scales there, often with shape [0]): no operator reads or writes them and
    TFLite Micro never allocates them, so their shape does not need to be a real one."""
    named, used = set(), set()
    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        if op.IntermediatesLength():
            named.update(int(x) for x in op.IntermediatesAsNumpy())
        for vector in (op.InputsAsNumpy() if op.InputsLength() else (),
                       op.OutputsAsNumpy() if op.OutputsLength() else ()):
            used.update(int(x) for x in vector)
    for vector in (graph.InputsAsNumpy() if graph.InputsLength() else (),
                   graph.OutputsAsNumpy() if graph.OutputsLength() else ()):
        used.update(int(x) for x in vector)
    return named - used


_NP_OF = {
    TflType.FLOAT32: "<f4", TflType.INT8: "i1", TflType.INT32: "<i4", TflType.INT64: "<i8",
    TflType.BOOL: "?", TflType.UINT8: "u1", TflType.INT16: "<i2",
    TflType.UINT32: "<u4", TflType.UINT64: "<u8",
}


def _decode(path: str, label: str, ttype: int, raw: np.ndarray, shape: tuple) -> np.ndarray:
    """The constant's elements, a read-only view of `raw` (the file's bytes) wherever its
    little-endian layout is this machine's, so a model's weights exist once in memory."""
    if ttype in _REFUSED_TYPES:
        raise ImportError_(f"{path}: constant {label}: {_REFUSED_TYPES[ttype]}")
    if ttype not in _NP_OF:
        tname = _TFL_TYPE_NAMES.get(ttype, str(ttype))
        raise ImportError_(f"{path}: constant {label} has unsupported type {tname}")
    dtype = np.dtype(_NP_OF[ttype])
    count = math.prod(shape)
    if len(raw) != count * dtype.itemsize:
        raise ImportError_(f"{path}: constant {label} holds {len(raw)} bytes, its shape "
                           f"{list(shape)} needs {count * dtype.itemsize}")
    return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=False)


def load_flatbuffer(path: str | Path,
                    max_bytes: int = checks.MAX_MODEL_BYTES) -> tuple[bytes, tflite.Model]:
    """Read and sanity-check a .tflite file; corrupt input becomes one clear ImportError_.

    Only regular files are read, and at most `max_bytes` of them, so a device or a pipe
    (`/dev/zero`) cannot make utc read without end."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ImportError_(f"{path}: not a regular file")
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read file ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise ImportError_(f"{path}: the file is larger than the {max_bytes}-byte limit of a "
                           "model")
    return data, parse_flatbuffer(data, path)


def parse_flatbuffer(data: bytes, path: str) -> tflite.Model:
    """The root table of a flatbuffer held in memory, after the checks that make reading
    it safe to start (`path` names the model in messages: its file, or what the caller
    calls bytes it was given)."""
    if len(data) < 8:
        raise ImportError_(f"{path}: not a TFLite flatbuffer (file is only {len(data)} bytes)")
    if data[4:8] != b"TFL3":
        raise ImportError_(f"{path}: not a TFLite flatbuffer (missing the 'TFL3' file identifier)")
    root = int.from_bytes(data[0:4], "little")
    if root >= len(data):
        raise ImportError_(f"{path}: truncated TFLite flatbuffer (root table at {root} is past "
                           f"the end of the {len(data)}-byte file)")
    return tflite.Model.GetRootAsModel(data, 0)


def _operators(path: str, model: tflite.Model, graph: tflite.SubGraph,
               file_bytes: int) -> list[TflOperator]:
    checks.check_count(path, "operator", graph.OperatorsLength(), file_bytes)
    num_codes = model.OperatorCodesLength()
    num_tensors = graph.TensorsLength()
    ops = []
    for i in range(graph.OperatorsLength()):
        raw = graph.Operators(i)
        opcode = raw.OpcodeIndex()
        if not 0 <= opcode < num_codes:
            raise ImportError_(f"{path}: operator #{i} names operator code #{opcode}, but the "
                               f"model has {num_codes}")
        code = model.OperatorCodes(opcode)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = BUILTIN_NAMES.get(builtin, f"builtin code {builtin}")
        custom = ""
        if name == "CUSTOM":
            custom = _text(code.CustomCode())[:80]
            name = f"CUSTOM '{custom}'"
        inputs = [int(x) for x in raw.InputsAsNumpy()] if raw.InputsLength() else []
        outputs = [int(x) for x in raw.OutputsAsNumpy()] if raw.OutputsLength() else []
        checks.check_operator_indices(path, f"operator #{i} {name}", inputs, outputs,
                                      num_tensors)
        ops.append(TflOperator(i, name, code.Version(), inputs, outputs, raw,
                               f"{path}: operator #{i} {name}", custom))
    return ops


def import_tflite(path: str | Path, name: str = "model",
                  max_bytes: int = checks.MAX_MODEL_BYTES) -> Module:
    """Import a TFLite model file into a `tensor`-dialect module.

    Reading the flatbuffer is guarded: a damaged offset or length that the checks did not
    catch still ends as one 'corrupt flatbuffer' line. Building the IR is not guarded that
    way, so a utc bug there surfaces as an internal error instead of being misreported."""
    path = str(path)
    data, model = load_flatbuffer(path, max_bytes)
    return _import(path, data, model, name)


def import_tflite_bytes(data: bytes, name: str = "model", label: str = "<model bytes>",
                        max_bytes: int = checks.MAX_MODEL_BYTES) -> Module:
    """Import a TFLite model held in memory (the Python API's `utc.compile(bytes)`), with
    the same checks as a file; `label` stands for the file name in messages."""
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImportError_(f"{label}: the model is larger than the {max_bytes}-byte limit of a "
                           "model")
    return _import(label, data, parse_flatbuffer(data, label), name)


def _import(path: str, data: bytes, model: tflite.Model, name: str) -> Module:
    try:
        graph, tensors, ops, inits = _read(path, model, len(data))
    except (IndexError, ValueError, TypeError, AttributeError, UnicodeDecodeError,
            struct.error) as exc:
        if isinstance(exc, ImportError_):
            raise
        raise ImportError_(f"{path}: truncated or corrupt TFLite flatbuffer ({type(exc).__name__}"
                           f": {printable(exc)})") from None
    try:
        return _build(path, name, graph, tensors, ops, inits)
    except struct.error as exc:  # an options table pointing outside the file
        raise ImportError_(f"{path}: truncated or corrupt TFLite flatbuffer ({exc})") from None


def _read(path: str, model: tflite.Model, file_bytes: int) -> tuple:
    """Read and validate the main subgraph (tensors, operators, dataflow) and the
    initialisation subgraphs its CALL_ONCE operators run."""
    checks.check_count(path, "buffer", model.BuffersLength(), file_bytes)
    checks.check_count(path, "operator code", model.OperatorCodesLength(), file_bytes)
    checks.check_count(path, "subgraph", model.SubgraphsLength(), file_bytes)
    count = model.SubgraphsLength()
    if count == 0:
        raise ImportError_(f"{path}: model has 0 subgraphs (control flow "
                           "or several signatures); utc supports exactly one")
    graph = model.Subgraphs(0)
    init_indices: list[int] = []
    if count > 1:
        main_ops = _operators(path, model, graph, file_bytes)
        flow = [op for op in main_ops if op.builtin in _CONTROL_FLOW and op.builtin != "CALL_ONCE"]
        if flow:
            raise ImportError_(f"{path}: operator #{flow[0].index} {flow[0].builtin}: "
                               f"control flow is not supported (the model has {count} "
                               "subgraphs; utc compiles one, plus the initialisation "
                               "subgraphs CALL_ONCE runs)")
        init_indices = _init_subgraph_indices(path, main_ops, count)
        others = [k for k in range(1, count) if k not in init_indices]
        if others:
            raise ImportError_(f"{path}: model has {count} subgraphs (control flow "
                               "or several signatures); utc supports exactly one, plus the "
                               f"initialisation subgraphs CALL_ONCE runs (#{others[0]} is "
                               "none)")
    # operators first: an unsupported operator is what to name, not the tensors it uses
    # (an LSTM's variable state tensor, an SVDF's unnamed one)
    ops = _operators(path, model, graph, file_bytes)
    _check_rules(path, ops)
    tensors = _read_tensors(path, model, graph, file_bytes)
    checks.check_count(path, "model input", graph.InputsLength(), file_bytes)
    checks.check_count(path, "model output", graph.OutputsLength(), file_bytes)
    inputs = [int(i) for i in graph.InputsAsNumpy()] if graph.InputsLength() else []
    outputs = [int(i) for i in graph.OutputsAsNumpy()] if graph.OutputsLength() else []
    variables = {t.index for t in tensors if t.is_variable}
    if variables:
        try:
            check_variable_uses(
                variables, inputs, outputs,
                [(f"operator #{op.index} {op.builtin}", op.inputs, op.outputs) for op in ops],
                [checks.tensor_label(t.index, t.name) for t in tensors])
        except VariableTensorError as exc:
            raise ImportError_(f"{path}: {exc}") from None
    checks.check_dataflow(
        path, inputs, outputs,
        [(f"operator #{op.index} {op.builtin}", op.inputs, op.outputs) for op in ops],
        # a variable tensor is there before any operator runs, like a constant
        [t.data is not None or t.is_variable for t in tensors],
        [checks.tensor_label(t.index, t.name) for t in tensors])
    inits = []
    for k in init_indices:
        sub = model.Subgraphs(k)
        where = f"{path}: subgraph #{k} (run by CALL_ONCE)"
        if sub.InputsLength() or sub.OutputsLength():
            raise ImportError_(f"{where} has inputs or outputs; CALL_ONCE runs subgraphs "
                               "without any")
        sub_tensors = _read_tensors(where, model, sub, file_bytes)
        sub_ops = _operators(where, model, sub, file_bytes)
        for op in sub_ops:
            if op.builtin not in _INIT_OPS:
                raise ImportError_(f"{where}: operator #{op.index} {op.builtin}: an "
                                   "initialisation subgraph may only assign constants to "
                                   "variables (VAR_HANDLE, ASSIGN_VARIABLE); utc evaluates it "
                                   "at compile time")
        _check_rules(where, sub_ops)
        checks.check_dataflow(
            where, [], [],
            [(f"operator #{op.index} {op.builtin}", op.inputs, op.outputs) for op in sub_ops],
            [t.data is not None for t in sub_tensors],
            [checks.tensor_label(t.index, t.name) for t in sub_tensors])
        inits.append(InitSubgraph(k, where, sub_tensors, sub_ops))
    return (inputs, outputs), tensors, ops, inits


def _check_rules(path: str, ops: list[TflOperator]) -> None:
    """Refuse unsupported operators, versions and operand counts before doing any work."""
    for op in ops:
        if op.builtin.startswith("CUSTOM"):
            _check_custom(path, op)
            continue
        rule = OP_TABLE.get(op.builtin)
        if rule is None:
            raise ImportError_(f"{path}: operator #{op.index} {op.builtin} is not supported "
                               f"({SUPPORTED_OPS_HINT})")
        lo, hi = rule.versions
        if not lo <= op.version <= hi:
            raise ImportError_(f"{path}: operator #{op.index} {op.builtin} version {op.version} "
                               f"is not supported (utc implements versions {lo}-{hi})")
        checks.check_arity(path, f"operator #{op.index} {op.builtin}", op.inputs, op.outputs,
                           rule.inputs, rule.outputs)


def _check_custom(path: str, op: TflOperator) -> None:
    """A CUSTOM operator is refused unless utc implements its custom_code, with what
    produced it where that is recognisable (custom_origin)."""
    where = f"{path}: operator #{op.index} {op.builtin}"
    rule = CUSTOM_OP_TABLE.get(op.custom) if op.custom else None
    if rule is None:
        origin = custom_origin(op.custom)
        raise ImportError_(f"{where}: {origin}" if origin else
                           f"{where} is not supported ({SUPPORTED_OPS_HINT})")
    checks.check_arity(path, f"operator #{op.index} {op.builtin}", op.inputs, op.outputs,
                       rule.inputs, rule.outputs)


def custom_origin(code: str) -> str | None:
    """Why a CUSTOM operator utc does not implement is refused, naming what produced it
    when the custom_code says so (None: nothing recognisable)."""
    if code == "ethos-u":
        return ("an Ethos-U NPU command stream (from Arm's Vela); utc compiles the original "
                ".tflite instead")
    if code.startswith("Flex"):
        return ("a TensorFlow operator kept by the converter's SELECT_TF_OPS (Flex delegate), "
                "which TFLite Micro cannot run either; convert with TFLite builtins only")
    if code == "TFLite_Detection_PostProcess":
        return ("SSD detection post-processing (from TensorFlow's object detection export) "
                f"is not supported ({SUPPORTED_OPS_HINT})")
    if code in ("AudioSpectrogram", "Mfcc"):
        return (f"TensorFlow Lite's {code} audio operator is not supported (TFLite Micro's "
                "audio front end is its signal library, SignalRfft ...)")
    if code.startswith("Signal"):
        return (f"'{code}' is not one of the TFLite Micro signal-library operators utc "
                f"implements ({SUPPORTED_OPS_HINT})")
    if not code:
        return "a CUSTOM operator without a custom_code is not supported"
    return None


def _init_subgraph_indices(path: str, main_ops: list[TflOperator], count: int) -> list[int]:
    """The subgraphs the main subgraph's CALL_ONCE operators run, in first-run order."""
    found: list[int] = []
    for op in main_ops:
        if op.builtin != "CALL_ONCE":
            continue
        opts = op.options(tflite.CallOnceOptions)
        index = opts.InitSubgraphIndex() if opts is not None else 0
        if not 0 < index < count:
            raise ImportError_(f"{path}: operator #{op.index} CALL_ONCE runs subgraph "
                               f"#{index}, but the model has subgraphs #1..#{count - 1} "
                               "besides the main one")
        if index not in found:
            found.append(index)
    return found


@dataclass
class InitSubgraph:
    """A subgraph CALL_ONCE runs, read and validated."""

    index: int
    where: str  # "file: subgraph #k (...)", the prefix of its errors
    tensors: list[TflTensor]
    ops: list[TflOperator]


#: The operators an initialisation subgraph may hold: utc evaluates it at compile time.
_INIT_OPS = ("VAR_HANDLE", "ASSIGN_VARIABLE")
_ACCESS_OPS = ("READ_VARIABLE", "ASSIGN_VARIABLE")


@dataclass
class _Variable:
    """A resource variable while importing: its TFLite names and its accesses."""

    handle: Handle
    accesses: list[tuple[str, str, TflTensor]]  # (where, builtin, the tensor read or assigned)
    init: TflTensor | None = None  # the constant the initialisation assigns last
    symbol: SymbolRef | None = None


def _handle_of(where: str, op: TflOperator) -> Handle:
    opts = op.options(tflite.VarHandleOptions)
    shared = opts.SharedName() if opts is not None else None
    if shared is None:
        raise ImportError_(f"{where}: operator #{op.index} VAR_HANDLE has no shared_name "
                           "(TFLite Micro needs one to find the variable)")
    container = opts.Container()
    return Handle(None if container is None else _text(container), _text(shared))


def _resource_variables(path: str, tensors: list[TflTensor], ops: list[TflOperator],
                        inits: list[InitSubgraph]) -> dict[tuple[int, int], _Variable]:
    """Resolve every VAR_HANDLE (main subgraph, then the initialisation subgraphs: TFLite
    Micro's prepare order) to a variable, collect each variable's reads and assignments,
    and evaluate the initialisation subgraphs in the order CALL_ONCE runs them: the
    constant assigned last becomes the initial value. Keys are (subgraph index, VAR_HANDLE
    operator index)."""
    graphs = [(0, path, tensors, ops)] + [(g.index, g.where, g.tensors, g.ops)
                                          for g in sorted(inits, key=lambda g: g.index)]
    sites, handles = [], []
    for index, where, _, graph_ops in graphs:
        for op in graph_ops:
            if op.builtin == "VAR_HANDLE":
                sites.append((index, op.index))
                handles.append(_handle_of(where, op))
    try:
        ids = resolve_handles(handles)
    except HandleError as exc:
        raise ImportError_(f"{path}: {exc}") from None
    variables: dict[int, _Variable] = {}
    by_site = {site: variables.setdefault(vid, _Variable(handle, []))
               for site, handle, vid in zip(sites, handles, ids)}
    run = [(0, path, tensors, ops)] + [(g.index, g.where, g.tensors, g.ops) for g in inits]
    for index, where, graph_tensors, graph_ops in run:
        producer = {op.outputs[0]: by_site[(index, op.index)] for op in graph_ops
                    if op.builtin == "VAR_HANDLE"}
        for op in graph_ops:
            if op.builtin not in _ACCESS_OPS:
                continue
            label = f"{where}: operator #{op.index} {op.builtin}"
            if min(op.inputs) < 0:
                raise ImportError_(f"{label}: an input is missing")
            if op.inputs[0] not in producer:
                raise ImportError_(f"{label}: input 0 is not the output of a VAR_HANDLE of "
                                   "this subgraph")
            var = producer[op.inputs[0]]
            value = graph_tensors[op.outputs[0] if op.builtin == "READ_VARIABLE" else op.inputs[1]]
            var.accesses.append((label, op.builtin, value))
            if index:
                if value.data is None:
                    raise ImportError_(f"{label}: assigns the computed tensor '{value.name}'; "
                                       "an initialisation subgraph may only assign constants")
                var.init = value
    return by_site


def _check_call_once_first(path: str, ops: list[TflOperator]) -> None:
    """CALL_ONCE runs its initialisation on the first invocation, where it stands; utc
    makes that the initial state, which is the same only if no variable is read or
    assigned before it."""
    first = next((op for op in ops if op.builtin in _ACCESS_OPS), None)
    for op in ops:
        if op.builtin == "CALL_ONCE" and first is not None and op.index > first.index:
            raise ImportError_(f"{path}: operator #{op.index} CALL_ONCE runs after operator "
                               f"#{first.index} {first.builtin}; utc needs the "
                               "initialisation before any variable is read or assigned")


def _declare_variables(ctx: ImportContext, by_site: dict[tuple[int, int], _Variable],
                       ops: list[TflOperator]) -> None:
    """One `state.variable` per variable the main subgraph reads or assigns, in first-use
    order, with its type (every read and assignment must agree) and initial value."""
    taken: set[str] = set()
    accessed = {op.inputs[0] for op in ops if op.builtin in _ACCESS_OPS}
    for op in ops:
        if op.builtin == "VAR_HANDLE" and op.outputs[0] in accessed:
            var = by_site[(0, op.index)]
            ctx.variable_of[op.index] = var.symbol or _declare(ctx, var, taken)


def _declare(ctx: ImportContext, var: _Variable, taken: set[str]) -> SymbolRef:
    name = var.handle.shared_name
    symbol = SymbolRef(_unique_symbol(name, taken))
    var.symbol = symbol
    if not var.accesses:
        return symbol  # a handle nothing reads or assigns: no storage in TFLite Micro either
    label, _, first = var.accesses[0]
    ttype = ctx.tensor_type(first)
    for where, _, t in var.accesses[1:]:
        other = ctx.tensor_type(t)
        if other != ttype:
            raise ImportError_(f"{where}: variable '{name}' holds {ttype}, but this operator "
                               f"uses it as {other}")
    if not any(builtin == "ASSIGN_VARIABLE" for _, builtin, _ in var.accesses):
        raise ImportError_(f"{label}: variable '{name}' is read but never assigned "
                           "(TFLite Micro gives it no storage)")
    if ttype.element.storage not in (ScalarType("i8"), ScalarType("i16"), F32):
        raise ImportError_(f"{label}: variable '{name}' holds {ttype}; utc keeps int8, "
                           "int16 and float32 variables")
    if var.init is not None:
        data = var.init.data.reshape(var.init.shape)
    else:
        zp = None
        if first.scales is not None:
            zp = int(first.zero_points[0]) if first.zero_points is not None else 0
        data = default_fill(first.shape, np.dtype(_NP_OF[first.tfl_type]), zp)
    ref = ctx.module.add_resource(f"{symbol.name}.init", data, ttype)
    attrs = {"sym_name": symbol, "type": ttype, "init": ref, "shared_name": name}
    if var.handle.container is not None:
        attrs["container"] = var.handle.container
    ctx.module.body.append(state.VariableOp([], [], attrs))
    return symbol


def _declare_variable_tensors(ctx: ImportContext, ops: list[TflOperator]) -> None:
    """One `state.variable` per variable tensor (`is_variable`) an operator reads, in
    first-use order, holding TFLite Micro's initial fill (`variable_tensors.py`)."""
    taken = {op.sym_name.name for op in state.variables(ctx.module)}
    for op in ops:
        for index in op.inputs:
            if index < 0 or index in ctx.variable_tensors or not ctx.tensors[index].is_variable:
                continue
            t = ctx.tensors[index]
            ctx.current = op
            ttype = ctx.tensor_type(t)
            if ttype.element.storage not in (ScalarType("i8"), ScalarType("i16"), F32):
                raise ctx.fail(f"variable tensor '{t.name}' (#{t.index}) holds {ttype}; utc "
                               "keeps int8, int16 and float32 state")
            zp = None
            if t.scales is not None:
                zp = int(t.zero_points[0]) if t.zero_points is not None else 0
            data = variable_initial_value(t.shape, np.dtype(_NP_OF[t.tfl_type]),
                                          t.tfl_type == TflType.INT8, zp)
            symbol = SymbolRef(_unique_symbol(_short_name(t.name), taken))
            ref = ctx.module.add_resource(f"{symbol.name}.init", data, ttype)
            ctx.module.body.append(state.VariableOp([], [], {
                "sym_name": symbol, "type": ttype, "init": ref}))
            ctx.variable_tensors[index] = symbol
    ctx.current = None


def _unique_symbol(name: str, taken: set[str]) -> str:
    """A symbol (`@name`) for a variable from its shared_name: letters, digits and `_`."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")[:40] or "var"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _build(path: str, name: str, graph: tuple, tensors: list[TflTensor],
           ops: list[TflOperator], inits: list[InitSubgraph]) -> Module:
    inputs, outputs = graph
    module = Module(name)
    block = Block()
    ctx = ImportContext(path, module, block, tensors)
    if inits or any(op.builtin == "VAR_HANDLE" for op in ops):
        _check_call_once_first(path, ops)
        _declare_variables(ctx, _resource_variables(path, tensors, ops, inits), ops)
    _declare_variable_tensors(ctx, ops)
    for idx in inputs:
        arg = block.add_argument(ctx.tensor_type(tensors[idx]), _short_name(tensors[idx].name))
        ctx.values[idx] = arg
    for op in ops:
        ctx.current = op
        _check_int16(ctx, op)
        rule_of(op).build(ctx, op)
    ctx.current = None
    results = []
    for idx in outputs:
        if idx not in ctx.values:  # check_dataflow: a constant output
            ctx.constant(idx)
        results.append(ctx.values[idx])
    block.append(func.ReturnOp(results))
    fn = func.FuncOp([], [], {
        "sym_name": SymbolRef("main"),
        "inputs": tuple(tensors[i].name for i in inputs),
        "outputs": tuple(tensors[i].name for i in outputs),
    }, [Region([block])])
    module.body.append(fn)
    return module


# ---- the operator table ------------------------------------------------------------------

#: Inputs that may be int16 in an operator whose activations are int8: the int8 SVDF's
#: time weights and activation state (TFLite Micro's int16 state variant).
INT16_STATE_INPUTS: dict[str, tuple[int, ...]] = {"SVDF": (2, 4),
                                                  "UNIDIRECTIONAL_SEQUENCE_LSTM": (19,)}


def rule_of(op: TflOperator) -> OpRule:
    """The operator's row: by custom_code for a CUSTOM operator, else by builtin."""
    return CUSTOM_OP_TABLE[op.custom] if op.custom else OP_TABLE[op.builtin]


def _check_unsigned(ctx: ImportContext, op: TflOperator) -> None:
    """uint32 and uint64 tensors (TFLite Micro's signal library) reach a builtin operator
    only when its row lists that dtype, so no kernel sees a type it was not written for."""
    dtypes = OP_TABLE[op.builtin].dtypes
    for index in (*op.inputs, *op.outputs):
        if index >= 0 and ctx.tensors[index].tfl_type in (TflType.UINT32, TflType.UINT64):
            t = ctx.tensors[index]
            if ("uint32" if t.tfl_type == TflType.UINT32 else "uint64") in dtypes:
                continue
            name = _TFL_TYPE_NAMES[t.tfl_type]
            raise ctx.fail(f"tensor '{t.name}' (#{t.index}) has type {name}, which utc "
                           "supports only for TFLite Micro's signal-library operators")


#: int16 variants TFLite Micro's kernels have but whose result is undefined there, so utc
#: refuses them with the reason instead of "not supported yet". GREATER: comparisons.cc
#: compares int16 inputs with TFLite's rescaling (offsets, left shift, multipliers), but its
#: Prepare computes those constants for int8 inputs only; for int16 they are whatever the
#: persistent arena buffer held.
INT16_UNDEFINED = {
    "GREATER": "TFLite Micro compares int16 inputs with rescaling constants its Prepare never "
               "computes for int16 (uninitialised memory), so its result is undefined",
}


def _check_int16(ctx: ImportContext, op: TflOperator) -> None:
    """int16 tensors (16x8 quantization) only where the operator's row implements them, so
    no other operator ever sees an int16 operand it was not written and tested for."""
    if op.custom:
        return  # the signal library's operators check their own types
    _check_unsigned(ctx, op)
    if "int16" in OP_TABLE[op.builtin].dtypes:
        return
    state_inputs = INT16_STATE_INPUTS.get(op.builtin, ())
    for index in (*op.inputs, *op.outputs):
        if index in [op.inputs[k] for k in state_inputs if k < len(op.inputs)]:
            continue  # the row's builder checks these itself
        if index >= 0 and ctx.tensors[index].tfl_type == TflType.INT16:
            t = ctx.tensors[index]
            if op.builtin in INT16_UNDEFINED:
                raise ctx.fail(f"tensor '{t.name}' (#{t.index}): int16 inputs are not "
                               f"supported: {INT16_UNDEFINED[op.builtin]}")
            have = ", ".join(sorted(b for b, r in OP_TABLE.items() if "int16" in r.dtypes))
            raise ctx.fail(f"tensor '{t.name}' (#{t.index}): int16 tensors (16x8 quantization) "
                           f"are not supported for {op.builtin} yet (only for {have})")


def _activation_dtype_check(ctx: ImportContext, op: TflOperator, dtypes: tuple[str, ...],
                            position: int = 0) -> str:
    """Check the dtype of the operator's data input; return 'int8', 'int16', 'int32',
    'int64', 'float32' or 'bool' (int32, int64 and bool only where the caller lists them)."""
    t = ctx.tensor_at(op, position)
    kind = {TflType.INT8: "int8", TflType.INT16: "int16", TflType.INT32: "int32",
            TflType.FLOAT32: "float32", TflType.BOOL: "bool",
            TflType.INT64: "int64"}.get(t.tfl_type)
    if kind is None or kind not in dtypes:
        ctx.tensor_type(t)  # raises the specific dtype message when there is one
        tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
        raise ctx.fail(f"input type {tname} is not supported (supported: {', '.join(dtypes)})")
    return kind


def _weights(ctx: ImportContext, op: TflOperator, position: int, kind: str,
             role: str = "weights") -> Value:
    """Filter/weights input; hybrid float models get their int8 weights dequantized here."""
    t = ctx.tensor_at(op, position)
    if t.data is None:
        raise ctx.fail(f"weights '{t.name}' must be constant (utc compiles weights into flash)")
    hybrid = kind == "float32" and t.tfl_type != TflType.FLOAT32
    if kind in ("int8", "int16") and t.tfl_type != TflType.INT8:
        tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
        raise ctx.fail(f"{kind} operators need int8 weights, got {tname}")
    if hybrid and (t.tfl_type != TflType.INT8 or t.scales is None):
        tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
        raise ctx.fail(f"float32 operators need float32 or quantized int8 weights, got {tname}")
    return ctx.constant(t.index, dequantize=hybrid, role=role)


def _bias(ctx: ImportContext, op: TflOperator, position: int, kind: str) -> Value | None:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    t = ctx.tensors[op.inputs[position]]
    if t.data is None:
        raise ctx.fail(f"bias '{t.name}' must be constant")
    if kind == "int8" and t.tfl_type != TflType.INT32:
        tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
        raise ctx.fail(f"int8 operators need an int32 bias, got {tname}")
    if kind == "int16" and t.tfl_type != TflType.INT64:
        tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
        raise ctx.fail(f"16x8 operators need an int64 bias (what the TFLite converter writes), "
                       f"got {tname}")
    return ctx.constant(op.inputs[position], dequantize=kind == "float32", role="bias")


def _check_16x8_zero_points(ctx: ImportContext, op: TflOperator) -> None:
    """TFLite Micro's 16x8 kernels require zero point 0 on the int16 input and output."""
    for t in (ctx.tensor_at(op, 0), ctx.tensors[op.outputs[0]]):
        zps = t.zero_points if t.zero_points is not None else ()
        if any(int(z) != 0 for z in zps):
            raise ctx.fail(f"int16 tensor '{t.name}' (#{t.index}) has zero point "
                           f"{int(zps[0])}: 16x8 operators need zero point 0")


@op_rule("FULLY_CONNECTED", (1, 12), ("int8", "int16", "float32"),
         "fully connected layer, any input rank, optional bias",
         "default weights format only; keep_num_dims supported; int8 weights symmetric; "
         "16x8: zero points 0, int64 bias", inputs=(2, 3))
def _fully_connected(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    if kind == "int16":
        _check_16x8_zero_points(ctx, op)
    opts = op.options(tflite.FullyConnectedOptions)
    act, keep = "none", False
    if opts is not None:
        if opts.WeightsFormat() != 0:
            raise ctx.fail("shuffled weights format is not supported")
        act = ctx.activation(opts.FusedActivationFunction())
        keep = bool(opts.KeepNumDims())
    if act == "tanh":
        raise ctx.fail("fused TANH activation is not supported on FULLY_CONNECTED")
    ctx.emit(tensor.FullyConnectedOp, op, [
        ctx.input(op, 0), _weights(ctx, op, 1, kind), _bias(ctx, op, 2, kind),
    ], {"act": act, "keep_num_dims": keep})


def _conv_common(ctx: ImportContext, opts: object) -> dict:
    act = ctx.activation(opts.FusedActivationFunction())
    if act == "tanh":
        raise ctx.fail("fused TANH activation is not supported on convolutions")
    return {
        "padding": ctx.padding(opts.Padding()),
        "stride": (opts.StrideH(), opts.StrideW()),
        "dilation": (opts.DilationHFactor(), opts.DilationWFactor()),
        "act": act,
    }


@op_rule("CONV_2D", (1, 8), ("int8", "int16", "float32"),
         "2-D convolution, NHWC, SAME/VALID padding, strides, dilation",
         "int8: per-channel or per-tensor weights; no grouped convolution; "
         "16x8: zero points 0, int64 bias", inputs=(2, 3))
def _conv2d(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    if kind == "int16":
        _check_16x8_zero_points(ctx, op)
    attrs = _conv_common(ctx, ctx.required_options(op, tflite.Conv2DOptions))
    x = ctx.input(op, 0)
    w = _weights(ctx, op, 1, kind, "filter")
    ctx.check_rank(x, 4, "the input")
    ctx.check_rank(w, 4, "the filter")
    if w.type.shape[3] != x.type.shape[3]:
        raise ctx.fail(f"grouped convolution (filter depth {w.type.shape[3]}, input depth "
                       f"{x.type.shape[3]}) is not supported")
    ctx.emit(tensor.Conv2DOp, op, [x, w, _bias(ctx, op, 2, kind)], attrs)


@op_rule("DEPTHWISE_CONV_2D", (1, 7), ("int8", "int16", "float32"),
         "depthwise 2-D convolution, any depth multiplier, SAME/VALID, strides, dilation",
         "16x8: zero points 0, int64 bias", inputs=(2, 3))
def _depthwise_conv2d(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    if kind == "int16":
        _check_16x8_zero_points(ctx, op)
    opts = ctx.required_options(op, tflite.DepthwiseConv2DOptions)
    attrs = _conv_common(ctx, opts)
    x = ctx.input(op, 0)
    w = _weights(ctx, op, 1, kind, "filter")
    ctx.check_rank(x, 4, "the input")
    ctx.check_rank(w, 4, "the filter")
    in_c, out_c = x.type.shape[3], w.type.shape[3]
    if out_c % in_c:
        raise ctx.fail(f"filter depth {out_c} is not a multiple of input depth {in_c}")
    attrs["depth_multiplier"] = out_c // in_c
    if opts.DepthMultiplier() not in (0, attrs["depth_multiplier"]):
        # TFLite Micro loops over the option's multiplier, not the shapes': a model whose
        # option disagrees with its filter makes it read and write out of bounds
        raise ctx.fail(f"depth_multiplier option {opts.DepthMultiplier()} disagrees with the "
                       f"filter depth {out_c} / input depth {in_c}")
    bias = _bias(ctx, op, 2, kind)
    if bias is None:
        raise ctx.fail("DEPTHWISE_CONV_2D needs a bias (TFLite and TFLite Micro require one)")
    ctx.emit(tensor.DepthwiseConv2DOp, op, [x, w, bias], attrs)


def transpose_conv_padding(padding: str, out_size: int, kernel: int, stride: int) -> int:
    """TFLite Micro's padding of a transposed convolution on one axis (its
    ComputePaddingHeightWidth called with the OUTPUT size as the input size and dilation 1):
    half the total padding, rounded down, of the convolution that maps the output back to
    ceil(out / stride) (SAME) or (out - kernel + stride) / stride (VALID) pixels."""
    n = -(-out_size // stride) if padding == "SAME" else (out_size - kernel + stride) // stride
    return max(0, (n - 1) * stride + kernel - out_size) // 2


@op_rule("TRANSPOSE_CONV", (1, 5), ("int8", "int16", "float32"),
         "transposed 2-D convolution, NHWC, SAME/VALID, strides, optional bias",
         "int8: per-channel or per-tensor weights; 16x8: zero points 0, int64 or int16 bias; "
         "the output shape operand is not read (the output tensor's shape is used, as "
         "TFLite Micro does)", inputs=(3, 4))
def _transpose_conv(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"), position=2)
    if kind == "int16":
        for t in (ctx.tensor_at(op, 2), ctx.tensors[op.outputs[0]]):
            zps = t.zero_points if t.zero_points is not None else ()
            if any(int(z) != 0 for z in zps):
                raise ctx.fail(f"int16 tensor '{t.name}' (#{t.index}) has zero point "
                               f"{int(zps[0])}: 16x8 operators need zero point 0")
    opts = ctx.required_options(op, tflite.TransposeConvOptions)
    act = ctx.activation(opts.FusedActivationFunction())
    if act == "tanh":
        raise ctx.fail("fused TANH activation is not supported on TRANSPOSE_CONV")
    x = ctx.input(op, 2)
    w = _weights(ctx, op, 1, kind, "filter")
    ctx.check_rank(x, 4, "the input")
    ctx.check_rank(w, 4, "the filter")
    out = ctx.output_type(op)
    if out.rank != 4:
        raise ctx.fail(f"the output must have rank 4, got {out}")
    padding = ctx.padding(opts.Padding())
    stride = (opts.StrideH(), opts.StrideW())
    if min(stride) < 1:
        raise ctx.fail(f"strides must be at least 1, got {list(stride)}")
    pad = (transpose_conv_padding(padding, out.shape[1], w.type.shape[1], stride[0]),
           transpose_conv_padding(padding, out.shape[2], w.type.shape[2], stride[1]))
    bias = _int16_bias_widened(ctx, op, 3) if kind == "int16" else None
    ctx.emit(tensor.TransposeConv2DOp, op, [x, w, bias or _bias(ctx, op, 3, kind)],
             {"stride": stride, "pad": pad, "act": act})


def _int16_bias_widened(ctx: ImportContext, op: TflOperator, position: int) -> Value | None:
    """A 16x8 TRANSPOSE_CONV's int16 bias as the int64 constant TFLite Micro converts it to
    before every call (older converters wrote int16 biases); None for any other bias."""
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    t = ctx.tensors[op.inputs[position]]
    if t.tfl_type != TflType.INT16 or t.data is None:
        return None
    element = ctx.tensor_type(t).element
    wide = (QuantizedType(ScalarType("i64"), element.scale, element.zero_point)
            if isinstance(element, QuantizedType) else
            PerAxisQuantizedType(ScalarType("i64"), element.axis, element.scales,
                                 element.zero_points)
            if isinstance(element, PerAxisQuantizedType) else ScalarType("i64"))
    wide_type = TensorType(t.shape, wide)
    ref = ctx.module.add_resource(f"transpose_conv{op.index}.bias",
                                  np.asarray(t.data, np.int64).reshape(t.shape), wide_type)
    const = tensor.ConstantOp([], [wide_type], {"value": ref},
                              location=Location(((op.index, t.name),)), result_names=[ref.name])
    ctx.block.append(const)
    return const.result


@op_rule("BATCH_MATMUL", (1, 4), ("int8", "int16", "float32"),
         "batched matrix product, adj_x/adj_y, batch dimensions broadcast (ranks 2-5)",
         "operands of one dtype, per-tensor quantized; 16x8: zero points 0", inputs=(2, 2))
def _batch_matmul(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    if _activation_dtype_check(ctx, op, ("int8", "int16", "float32"), position=1) != kind:
        raise ctx.fail("both operands must have one dtype (TFLite Micro has no hybrid "
                       "BATCH_MATMUL)")
    opts = op.options(tflite.BatchMatMulOptions)
    adj_x = bool(opts.AdjX()) if opts is not None else False
    adj_y = bool(opts.AdjY()) if opts is not None else False
    lhs, rhs = ctx.input(op, 0), ctx.input(op, 1)
    for value, role in ((lhs, "lhs"), (rhs, "rhs")):
        if isinstance(value.type.element, PerAxisQuantizedType):
            raise ctx.fail(f"the {role} must be quantized per tensor (TFLite Micro reads one "
                           "scale)")
    ctx.emit(tensor.BatchMatmulOp, op, [lhs, rhs], {"adj_x": adj_x, "adj_y": adj_y})


def _pool(ctx: ImportContext, op: TflOperator, cls: type[Operation]) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    opts = ctx.required_options(op, tflite.Pool2DOptions)
    act = ctx.activation(opts.FusedActivationFunction())
    if act == "tanh":
        raise ctx.fail("fused TANH activation is not supported on pooling")
    ctx.emit(cls, op, [ctx.input(op, 0)], {
        "padding": ctx.padding(opts.Padding()),
        "stride": (opts.StrideH(), opts.StrideW()),
        "window": (opts.FilterHeight(), opts.FilterWidth()),
        "act": act,
    })


@op_rule("AVERAGE_POOL_2D", (1, 3), ("int8", "int16", "float32"), "average pooling, SAME/VALID, strides")
def _avg_pool(ctx: ImportContext, op: TflOperator) -> None:
    _pool(ctx, op, tensor.AvgPool2DOp)


@op_rule("MAX_POOL_2D", (1, 3), ("int8", "int16", "float32"), "max pooling, SAME/VALID, strides")
def _max_pool(ctx: ImportContext, op: TflOperator) -> None:
    _pool(ctx, op, tensor.MaxPool2DOp)


def _binary(ctx: ImportContext, op: TflOperator, cls: type[Operation], opts_cls: type) -> None:
    kind = _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes)
    opts = op.options(opts_cls)
    act = ctx.activation(opts.FusedActivationFunction()) if opts is not None else "none"
    if act == "tanh":
        raise ctx.fail("fused TANH activation is not supported")
    if kind == "int32":
        _plain_int32(ctx, op)
        if op.builtin == "ADD":
            act = "none"  # TFLite Micro's int32 ADD clamps to the whole int32 range
    ctx.emit(cls, op, [ctx.input(op, 0), ctx.input(op, 1)], {"act": act})


@op_rule("ADD", (1, 5), ("int8", "int16", "int32", "float32"),
         "elementwise addition with broadcasting",
         "int8: inputs and output per-tensor quantized; int32: unquantized, wraps, the fused "
         "activation ignored and broadcasting up to 4-D (as TFLite Micro)", inputs=(2, 2))
def _add(ctx: ImportContext, op: TflOperator) -> None:
    _binary(ctx, op, tensor.AddOp, tflite.AddOptions)


def _reshape_like(ctx: ImportContext, op: TflOperator) -> None:
    # the row's dtypes: TFLite Micro's RESHAPE and SQUEEZE copy bytes of any type (int32
    # and int64 too), its EXPAND_DIMS only int8, int16 and float32
    _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes)
    x = ctx.input(op, 0)
    out = ctx.output_type(op)
    if out.num_elements != x.type.num_elements:
        raise ctx.fail(f"output shape {list(out.shape)} has a different element count than "
                       f"the input {list(x.type.shape)}")
    if out.element != x.type.element:
        raise ctx.fail("reshape changes the quantization parameters")
    ctx.emit(tensor.ReshapeOp, op, [x])


@op_rule("RESHAPE", (1, 2), ("int8", "int16", "int32", "int64", "float32"),
         "reshape (becomes a view: no copy)",
         "output shape must be static", inputs=(1, 2))
def _reshape(ctx: ImportContext, op: TflOperator) -> None:
    _reshape_like(ctx, op)


@op_rule("SOFTMAX", (1, 3), ("int8", "int16", "float32"), "softmax over the last dimension",
         "int8 output must have scale 1/256 and zero point -128 (int16 output of an int8 "
         "input: 1/65536, -32768); int16: zero points 0, output scale 1/32768")
def _softmax(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    opts = op.options(tflite.SoftmaxOptions)
    beta = float(opts.Beta()) if opts is not None else 0.0  # TFLite Micro's zero default
    out = ctx.output_type(op)
    out_int16 = isinstance(out.element, QuantizedType) and str(out.element.storage) == "i16"
    if kind == "int8" and out_int16 and (
        out.element.zero_point != -32768 or abs(out.element.scale - 1 / 65536) > 0.001 / 65536
    ):
        # TFLM's int8 -> int16 variant (softmax_common.cc checks the same, within 0.1%)
        raise ctx.fail("int8 SOFTMAX with int16 output must be quantized with scale 1/65536, "
                       "zero point -32768")
    if kind == "int8" and not out_int16 and isinstance(out.element, QuantizedType) and (
        out.element.zero_point != -128 or abs(out.element.scale - 1 / 256) > 1e-9
    ):
        raise ctx.fail("int8 SOFTMAX output must be quantized with scale 1/256, zero point -128")
    ctx.emit(tensor.SoftmaxOp, op, [ctx.input(op, 0)], {"beta": beta})


# ---- elementwise arithmetic ----------------------------------------------------------------

@op_rule("SUB", (1, 3), ("int8", "int16", "int32", "float32"),
         "elementwise subtraction with broadcasting",
         "int8: inputs and output per-tensor quantized; int32: unquantized, wraps, "
         "broadcasting up to 5-D (as TFLite Micro)", inputs=(2, 2))
def _sub(ctx: ImportContext, op: TflOperator) -> None:
    _binary(ctx, op, tensor.SubOp, tflite.SubOptions)


@op_rule("MUL", (1, 4), ("int8", "int16", "int32", "float32"),
         "elementwise multiplication with broadcasting",
         "int8: inputs and output per-tensor quantized; int32: unquantized, wraps, "
         "broadcasting up to 4-D (as TFLite Micro)", inputs=(2, 2))
def _mul(ctx: ImportContext, op: TflOperator) -> None:
    _binary(ctx, op, tensor.MulOp, tflite.MulOptions)


@op_rule("DIV", (1, 2), ("int8", "int32", "float32"),
         "elementwise division with broadcasting (up to 5-D)",
         "int8: TFLite Micro's fixed-point reciprocal arithmetic, per-tensor quantized; "
         "int32: unquantized, rounds toward zero; a divisor equal to zero (its zero point "
         "for int8) is undefined in TFLite Micro: utc gives 0 (int32) or the clamp bound of "
         "the numerator's sign (int8), and refuses a constant one", inputs=(2, 2))
def _div(ctx: ImportContext, op: TflOperator) -> None:
    rank = max(len(ctx.tensor_at(op, 0).shape), len(ctx.tensor_at(op, 1).shape))
    if rank > 5:
        raise ctx.fail(f"rank {rank} is not supported (TFLite Micro divides up to 5-D)")
    divisor = ctx.tensor_at(op, 1)
    if divisor.tfl_type in (TflType.INT32, TflType.INT8) and divisor.data is not None:
        zero = int(divisor.zero_points[0]) if divisor.tfl_type == TflType.INT8 and \
            divisor.zero_points is not None and len(divisor.zero_points) else 0
        if (np.asarray(divisor.data).astype(np.int64) == zero).any():
            raise ctx.fail("the constant divisor holds a zero (TFLite Micro's integer "
                           "division by zero is undefined)")
    _binary(ctx, op, tensor.DivOp, tflite.DivOptions)


@op_rule("SQUARED_DIFFERENCE", (1, 2), ("int8", "int16", "int32", "float32"),
         "elementwise (x - y)^2 with broadcasting",
         "int8: inputs and output per-tensor quantized; 16x8: zero points 0; int32: "
         "unquantized, wraps", inputs=(2, 2))
def _squared_difference(ctx: ImportContext, op: TflOperator) -> None:
    # no options to read: TFLite's SquaredDifferenceOptions table is empty (no activation)
    if _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "float32")) == "int32":
        _plain_int32(ctx, op)
    ctx.emit(tensor.SquaredDifferenceOp, op, [ctx.input(op, 0), ctx.input(op, 1)])


# ---- comparisons, logical operators and SELECT_V2 (bool tensors) -----------------------------

_KIND_OF = {TflType.INT8: "int8", TflType.INT16: "int16", TflType.INT32: "int32",
            TflType.FLOAT32: "float32", TflType.BOOL: "bool", TflType.UINT32: "uint32",
            TflType.INT64: "int64"}


def _typed_inputs(ctx: ImportContext, op: TflOperator, dtypes: tuple[str, ...],
                  positions: tuple[int, ...]) -> str:
    """The one dtype the inputs at `positions` share, which must be one of `dtypes` (these
    operators also take int32 and bool tensors, which `_activation_dtype_check` does not)."""
    kinds = []
    for position in positions:
        t = ctx.tensor_at(op, position)
        kind = _KIND_OF.get(t.tfl_type)
        if kind is None or kind not in dtypes:
            ctx.tensor_type(t)  # raises the specific dtype message when there is one
            tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise ctx.fail(f"input {position} type {tname} is not supported (supported: "
                           f"{', '.join(dtypes)})")
        if kind == "int8" and (t.scales is None or len(t.scales) != 1):
            raise ctx.fail(f"input {position} ('{t.name}') must be per-tensor quantized int8")
        kinds.append(kind)
    if len(set(kinds)) != 1:
        raise ctx.fail(f"the inputs must share one type, got {', '.join(kinds)}")
    return kinds[0]


def _bool_output(ctx: ImportContext, op: TflOperator) -> None:
    out = ctx.tensors[op.outputs[0]]
    if out.tfl_type != TflType.BOOL:
        tname = _TFL_TYPE_NAMES.get(out.tfl_type, str(out.tfl_type))
        raise ctx.fail(f"output type {tname} is not supported (the output must be bool)")


def _broadcast_4d(ctx: ImportContext, op: TflOperator) -> None:
    """TFLite Micro's comparisons and logical operators broadcast in 4-D only."""
    a, b = ctx.tensor_at(op, 0).shape, ctx.tensor_at(op, 1).shape
    if a != b and max(len(a), len(b)) > 4:
        raise ctx.fail(f"broadcasting {list(a)} with {list(b)} needs more than 4 dimensions "
                       "(TFLite Micro broadcasts this operator in 4-D only)")


_COMPARISON_PREDICATES = {"EQUAL": "equal", "NOT_EQUAL": "not_equal", "LESS": "less",
                          "LESS_EQUAL": "less_equal", "GREATER": "greater",
                          "GREATER_EQUAL": "greater_equal"}


def _comparison(ctx: ImportContext, op: TflOperator) -> None:
    _typed_inputs(ctx, op, OP_TABLE[op.builtin].dtypes, (0, 1))
    _bool_output(ctx, op)
    _broadcast_4d(ctx, op)
    ctx.emit(tensor.CompareOp, op, [ctx.input(op, 0), ctx.input(op, 1)],
             {"predicate": _COMPARISON_PREDICATES[op.builtin]})


for _builtin, _versions in (("EQUAL", (1, 4)), ("NOT_EQUAL", (1, 4)), ("LESS", (1, 3)),
                            ("LESS_EQUAL", (1, 3)), ("GREATER", (1, 3)),
                            ("GREATER_EQUAL", (1, 3))):
    op_rule(_builtin, _versions,
            ("int8", "int32", "int64", "float32", "bool") if _builtin in ("EQUAL", "NOT_EQUAL")
            else ("int8", "int32", "int64", "float32"),
            f"elementwise x {_builtin.lower().replace('_', ' ')} y with broadcasting, bool output",
            "int8: each input rescaled by its own scale as TFLite Micro does (scales below "
            "one); int32, int64: the stored values; broadcasting up to 4-D (as TFLite Micro)"
            + ("; int16 refused: TFLite Micro's int16 GREATER reads rescaling constants its "
               "Prepare leaves uninitialised" if _builtin == "GREATER" else ""),
            inputs=(2, 2))(_comparison)


@op_rule("LOGICAL_AND", (1, 1), ("bool",), "elementwise x && y with broadcasting",
         "broadcasting up to 4-D (as TFLite Micro)", inputs=(2, 2))
def _logical_and(ctx: ImportContext, op: TflOperator) -> None:
    _logical(ctx, op, "and")


@op_rule("LOGICAL_OR", (1, 1), ("bool",), "elementwise x || y with broadcasting",
         "broadcasting up to 4-D (as TFLite Micro)", inputs=(2, 2))
def _logical_or(ctx: ImportContext, op: TflOperator) -> None:
    _logical(ctx, op, "or")


def _logical(ctx: ImportContext, op: TflOperator, kind: str) -> None:
    _typed_inputs(ctx, op, ("bool",), (0, 1))
    _bool_output(ctx, op)
    _broadcast_4d(ctx, op)
    ctx.emit(tensor.LogicalOp, op, [ctx.input(op, 0), ctx.input(op, 1)], {"kind": kind})


@op_rule("LOGICAL_NOT", (1, 1), ("bool",), "elementwise !x")
def _logical_not(ctx: ImportContext, op: TflOperator) -> None:
    _typed_inputs(ctx, op, ("bool",), (0,))
    _bool_output(ctx, op)
    ctx.emit(tensor.LogicalNotOp, op, [ctx.input(op, 0)])


@op_rule("SELECT_V2", (1, 2), ("int8", "int16", "float32"),
         "condition ? x : y elementwise, the three broadcast together (up to 5-D)",
         "bool condition; x, y and output of one type; int8/int16 values copied as stored, "
         "without rescaling (as TFLite Micro)", inputs=(3, 3))
def _select_v2(ctx: ImportContext, op: TflOperator) -> None:
    _typed_inputs(ctx, op, ("bool",), (0,))
    kind = _typed_inputs(ctx, op, ("int8", "int16", "float32"), (1, 2))
    out = ctx.tensors[op.outputs[0]]
    if _KIND_OF.get(out.tfl_type) != kind:
        tname = _TFL_TYPE_NAMES.get(out.tfl_type, str(out.tfl_type))
        raise ctx.fail(f"output type {tname} must be the type of x and y ({kind})")
    shapes = [ctx.tensor_at(op, k).shape for k in range(3)]
    if len(set(shapes)) > 1 and max(len(s) for s in shapes) > 5:
        raise ctx.fail(f"broadcasting {', '.join(str(list(s)) for s in shapes)} needs more "
                       "than 5 dimensions (TFLite Micro's SELECT_V2 broadcasts in 5-D)")
    ctx.emit(tensor.SelectOp, op, [ctx.input(op, k) for k in range(3)])


def _same_quantization(ctx: ImportContext, op: TflOperator, positions: list[int],
                       outputs: bool = True) -> None:
    """Ops that move values without rescaling need one quantization for all of them."""
    types = [ctx.tensor_type(ctx.tensor_at(op, p)).element for p in positions]
    if outputs:
        types += [ctx.output_type(op, i).element for i in range(len(op.outputs))]
    if any(t != types[0] for t in types):
        raise ctx.fail("inputs and outputs must share one quantization (utc moves int8 values "
                       f"without rescaling, as TFLite Micro does); got {', '.join(map(str, types))}")


def _plain_int32(ctx: ImportContext, op: TflOperator) -> None:
    """int32 arithmetic and data movement are on plain integers in TFLite Micro (its ADD and
    DIV refuse quantized int32): every tensor int32, none quantized."""
    _plain_ints(ctx, op, "int32")


def _plain_ints(ctx: ImportContext, op: TflOperator, kind: str) -> None:
    """Every input and output of the operator a plain (unquantized) integer of `kind`
    ('int32' or 'int64'): TFLite Micro's integer arithmetic, MAXIMUM/MINIMUM and data
    movement read the stored values, so utc refuses a quantized one rather than guess its
    meaning."""
    tfl_type = {"int32": TflType.INT32, "int64": TflType.INT64}[kind]
    for index in (*op.inputs, *op.outputs):
        if index < 0:
            continue
        t = ctx.tensors[index]
        if t.tfl_type != tfl_type:
            tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise ctx.fail(f"tensor '{t.name}' (#{index}) is {tname}; {kind} {op.builtin} needs "
                           f"every input and output {kind}")
        if t.scales is not None and len(t.scales) > 0:
            raise ctx.fail(f"tensor '{t.name}' (#{index}) is a quantized {kind}; TFLite Micro's "
                           f"{kind} {op.builtin} takes plain integers")


def _min_max(ctx: ImportContext, op: TflOperator, cls: type[Operation]) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "int64", "float32"))
    if kind in ("int32", "int64"):
        _plain_ints(ctx, op, kind)
    _same_quantization(ctx, op, [0, 1])
    ctx.emit(cls, op, [ctx.input(op, 0), ctx.input(op, 1)])


@op_rule("MAXIMUM", (1, 4), ("int8", "int16", "int32", "int64", "float32"),
         "elementwise maximum with broadcasting",
         "int8: inputs and output share one quantization; int32, int64: unquantized", inputs=(2, 2))
def _maximum(ctx: ImportContext, op: TflOperator) -> None:
    _min_max(ctx, op, tensor.MaximumOp)


@op_rule("MINIMUM", (1, 4), ("int8", "int16", "int32", "int64", "float32"),
         "elementwise minimum with broadcasting",
         "int8: inputs and output share one quantization; int32, int64: unquantized", inputs=(2, 2))
def _minimum(ctx: ImportContext, op: TflOperator) -> None:
    _min_max(ctx, op, tensor.MinimumOp)


# ---- activations and (de)quantization ------------------------------------------------------

def _unary(ctx: ImportContext, op: TflOperator, cls: type[Operation],
           attributes: dict | None = None) -> None:
    _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes)
    ctx.emit(cls, op, [ctx.input(op, 0)], attributes)


def _unary_rule(builtin: str, versions: tuple[int, int], cls: type[Operation], summary: str,
                constraints: str = "", dtypes: tuple[str, ...] = ("int8", "float32")) -> None:
    op_rule(builtin, versions, dtypes, summary, constraints)(
        lambda ctx, op: _unary(ctx, op, cls))


def _fixed_output_quantization(ctx: ImportContext, op: TflOperator, scale: float, zp: int,
                               scale_text: str) -> None:
    """int8 LOGISTIC/TANH/L2_NORMALIZATION produce one fixed output quantization (TFLite
    Micro assumes it)."""
    out = ctx.output_type(op).element
    if isinstance(out, QuantizedType) and (out.zero_point != zp or abs(out.scale - scale) > 1e-9):
        raise ctx.fail(f"int8 {op.builtin} output must be quantized with scale {scale_text}, "
                       f"zero point {zp} (got {out.scale!r}, {out.zero_point})")


@op_rule("LOGISTIC", (1, 3), ("int8", "int16", "float32"), "sigmoid",
         "int8 output: scale 1/256, zero point -128; int16: zero points 0, output scale 2^-15")
def _logistic(ctx: ImportContext, op: TflOperator) -> None:
    if _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes) != "int16":
        _fixed_output_quantization(ctx, op, 1 / 256, -128, "1/256")
    _unary(ctx, op, tensor.LogisticOp)


@op_rule("TANH", (1, 3), ("int8", "int16", "float32"), "hyperbolic tangent",
         "int8 output: scale 1/128, zero point 0; int16: zero points 0, output scale 2^-15")
def _tanh(ctx: ImportContext, op: TflOperator) -> None:
    if _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes) != "int16":
        _fixed_output_quantization(ctx, op, 1 / 128, 0, "1/128")
    _unary(ctx, op, tensor.TanhOp)
_unary_rule("RELU", (1, 3), tensor.ReluOp, "max(x, 0)", "16x8: zero points 0",
            dtypes=("int8", "int16", "float32"))
_unary_rule("RELU6", (1, 3), tensor.Relu6Op, "min(max(x, 0), 6)",
            "int8/int16: output quantized like the input (as TFLite Micro assumes)",
            dtypes=("int8", "int16", "float32"))
_unary_rule("RELU_N1_TO_1", (1, 1), tensor.ReluN1To1Op, "min(max(x, -1), 1)")
_unary_rule("HARD_SWISH", (1, 1), tensor.HardSwishOp, "x * relu6(x + 3) / 6")


# float32 elementwise math (runtime/utc_math_f32.h says how each is computed)
_F32_ONLY = "float32 only, as in TFLite Micro"
for _builtin, _cls, _summary, _constraint in (
        ("NEG", tensor.NegOp, "-x", _F32_ONLY),
        ("FLOOR", tensor.FloorOp, "round toward minus infinity", _F32_ONLY),
        ("CEIL", tensor.CeilOp, "round toward plus infinity", _F32_ONLY),
        ("ROUND", tensor.RoundOp, "round half to even (banker's rounding, as tf.round)", _F32_ONLY),
        ("SQRT", tensor.SqrtOp, "square root", _F32_ONLY),
        ("EXP", tensor.ExpOp, "e^x", _F32_ONLY),
        ("LOG", tensor.LogOp, "natural logarithm", _F32_ONLY)):
    _unary_rule(_builtin, (1, 1), _cls, _summary, _constraint, dtypes=("float32",))


_unary_rule("RSQRT", (1, 2), tensor.RsqrtOp, "1 / sqrt(x)",
            "int8: a 256-entry table of TFLite Micro's integer arithmetic, computed at compile "
            "time; an input below the zero point (negative), on which TFLite Micro fails the "
            "invocation, gives the result for the smallest positive input")
_unary_rule("ABS", (1, 3), tensor.AbsOp, "absolute value",
            "int8: a 256-entry table of TFLite Micro's integer arithmetic, computed at compile "
            "time; int16 (16x8): zero points 0, rescaled when the scales differ; TFLite Micro's "
            "unquantized int16 ABS is not in utc", dtypes=("int8", "int16", "float32"))


#: the int8 L2_NORMALIZATION's int32 sum of squares holds this many (255^2) terms
L2_NORM_MAX_DEPTH = (2**31 - 1) // (255 * 255)


@op_rule("L2_NORMALIZATION", (1, 2), ("int8", "float32"),
         "x / max(sqrt(sum(x^2)), 1e-6) along the last dimension",
         "rank at most 4 and no fused activation (as TFLite Micro); int8: output scale "
         f"1/128, zero point 0, a last dimension of at most {L2_NORM_MAX_DEPTH} (the int32 "
         "sum of squares)")
def _l2_normalization(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "float32"))
    opts = op.options(tflite.L2NormOptions)
    act = ctx.activation(opts.FusedActivationFunction()) if opts is not None else "none"
    if act != "none":
        raise ctx.fail(f"fused activation {act.upper()} is not supported (TFLite Micro "
                       "refuses it)")
    x = ctx.input(op, 0)
    if x.type.rank > 4:
        raise ctx.fail(f"rank {x.type.rank} is not supported (TFLite Micro normalizes up "
                       "to 4-D)")
    if kind == "int8":
        _fixed_output_quantization(ctx, op, 1 / 128, 0, "1/128")
        if x.type.rank and x.type.shape[-1] > L2_NORM_MAX_DEPTH:
            raise ctx.fail(f"a last dimension of {x.type.shape[-1]} overflows TFLite Micro's "
                           f"int32 sum of squares (at most {L2_NORM_MAX_DEPTH})")
    ctx.emit(tensor.L2NormalizationOp, op, [x])


@op_rule("LOG_SOFTMAX", (1, 2), ("int8", "float32"), "x - max - log(sum(exp(x - max))) along "
         "the last dimension", "int8: output scale 16/256, zero point 127 (as TFLite Micro "
         "requires), its fixed-point exp and log")
def _log_softmax(ctx: ImportContext, op: TflOperator) -> None:
    _unary(ctx, op, tensor.LogSoftmaxOp)


@op_rule("LEAKY_RELU", (1, 2), ("int8", "int16", "float32"), "x >= 0 ? x : alpha * x")
def _leaky_relu(ctx: ImportContext, op: TflOperator) -> None:
    opts = op.options(tflite.LeakyReluOptions)
    alpha = float(np.float32(opts.Alpha())) if opts is not None else 0.0
    _unary(ctx, op, tensor.LeakyReluOp, {"alpha": alpha})


@op_rule("PRELU", (1, 1), ("int8", "float32"), "x >= 0 ? x : alpha * x, alpha broadcast",
         "int8: alpha quantized per tensor", inputs=(2, 2))
def _prelu(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    alpha = ctx.input(op, 1)
    if isinstance(alpha.type.element, PerAxisQuantizedType):
        raise ctx.fail("per-channel quantized PRELU alpha is not supported (TFLite Micro reads "
                       "only its first scale)")
    ctx.emit(tensor.PreluOp, op, [ctx.input(op, 0), alpha])


@op_rule("QUANTIZE", (1, 2), ("int8", "int16", "float32"),
         "float32 -> int8/int16, or a requantize between int8 and int16",
         "output int8 or int16 per tensor (or int32 from int8/int16, as TFLite Micro)")
def _quantize(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    out = ctx.output_type(op)
    # TFLM also requantizes int8 or int16 into a quantized int32 output
    storages = (ScalarType("i8"), ScalarType("i16")) + ((ScalarType("i32"),) if kind != "float32"
                                                        else ())
    if not isinstance(out.element, QuantizedType) or out.element.storage not in storages:
        raise ctx.fail(f"QUANTIZE output must be per-tensor quantized int8 or int16"
                       f"{' (or int32 from an integer input)' if kind != 'float32' else ''}, "
                       f"got {out}")
    x = ctx.input(op, 0)
    if isinstance(x.type.element, PerAxisQuantizedType):
        raise ctx.fail("QUANTIZE of a per-channel quantized tensor is not supported")
    ctx.emit(tensor.QuantizeOp, op, [x])


@op_rule("DEQUANTIZE", (1, 5), ("int8", "int16"),
         "int8 or int16 -> float32 (folded when the input is constant)",
         "non-constant input per-tensor quantized")
def _dequantize_op(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16"))
    index = ctx.tensor_at(op, 0).index
    if index not in ctx.values and ctx.tensors[index].data is not None:
        # dequantized weights: fold at compile time, the float constant goes to flash
        ctx.values[op.outputs[0]] = ctx.constant(index, dequantize=True, role="dequantized")
        return
    x = ctx.input(op, 0)
    if not isinstance(x.type.element, QuantizedType):
        raise ctx.fail(f"DEQUANTIZE input must be per-tensor quantized, got {x.type}")
    ctx.emit(tensor.DequantizeOp, op, [x])


# ---- reductions -------------------------------------------------------------------------------

def _axes(ctx: ImportContext, op: TflOperator, position: int, rank: int) -> list[int]:
    """A constant axis operand (scalar or list), negative axes resolved, deduplicated."""
    raw = [int(a) for a in ctx.const_data(op, position).reshape(-1)]
    out = []
    for a in raw:
        if not -rank <= a < rank:
            raise ctx.fail(f"axis {a} is out of range for rank {rank}")
        a = a + rank if a < 0 else a
        if a not in out:
            out.append(a)
    return sorted(out)


@op_rule("MEAN", (1, 3), ("int8", "int16", "float32"), "mean over constant axes, keep_dims or not",
         "int8/int16: input and output per-tensor quantized", inputs=(2, 2))
def _mean(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    x = ctx.input(op, 0)
    axes = _axes(ctx, op, 1, x.type.rank)
    if not axes:
        raise ctx.fail("MEAN over no axes is not supported")
    ctx.emit(tensor.MeanOp, op, [x], {"axes": tuple(axes)})


def _reduction(ctx: ImportContext, op: TflOperator, cls: type[Operation]) -> None:
    """SUM / REDUCE_MAX: constant int32 axes (TFLite Micro requires int32), keep_dims read
    from the result shape the model gives (the verifier checks it)."""
    _activation_dtype_check(ctx, op, OP_TABLE[op.builtin].dtypes)
    if ctx.tensor_at(op, 1).tfl_type != TflType.INT32:
        raise ctx.fail("the axis operand must be int32 (TFLite Micro requires it)")
    x = ctx.input(op, 0)
    axes = _axes(ctx, op, 1, x.type.rank)
    if not axes:
        raise ctx.fail(f"{op.builtin} over no axes is not supported")
    out = ctx.tensors[op.outputs[0]]
    if out.tfl_type != ctx.tensor_at(op, 0).tfl_type:
        raise ctx.fail("the output must have the input's type")
    x_t = ctx.tensor_at(op, 0)
    if x_t.tfl_type != TflType.FLOAT32 and any(t.scales is None or len(t.scales) != 1
                                               for t in (x_t, out)):
        raise ctx.fail("int8/int16 input and output must be per-tensor quantized")
    ctx.emit(cls, op, [x], {"axes": tuple(axes)})


@op_rule("ELU", (1, 2), ("int8", "float32"), "x < 0 ? exp(x) - 1 : x",
         "int8: a 256-entry table computed at compile time, as TFLite Micro does")
def _elu(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    if ctx.tensors[op.outputs[0]].tfl_type != ctx.tensor_at(op, 0).tfl_type:
        raise ctx.fail("the output must have the input's type")
    ctx.emit(tensor.EluOp, op, [ctx.input(op, 0)])


@op_rule("CUMSUM", (1, 1), ("int8", "float32"), "running sum along a constant axis",
         "constant int32 axis; exclusive and reverse; int8: TFLite Micro's rescaling, axes of "
         "at most 15 elements (longer ones overflow its int32 accumulator)", inputs=(2, 2))
def _cumsum(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    x = ctx.input(op, 0)
    if ctx.tensor_at(op, 1).tfl_type != TflType.INT32 or ctx.const_data(op, 1).size != 1:
        raise ctx.fail("the axis must be one constant int32 (as TFLite Micro requires)")
    axis = int(ctx.const_data(op, 1).reshape(-1)[0])
    if not -x.type.rank <= axis < x.type.rank:
        raise ctx.fail(f"axis {axis} is out of range for rank {x.type.rank}")
    opts = op.options(tflite.CumsumOptions)
    ctx.emit(tensor.CumsumOp, op, [x], {
        "axis": axis % x.type.rank,
        "exclusive": bool(opts.Exclusive()) if opts is not None else False,
        "reverse": bool(opts.Reverse()) if opts is not None else False})


@op_rule("SUM", (1, 2), ("int8", "int16", "float32"), "sum over constant axes, keep_dims or not",
         "int32 axes; int8/int16: input and output per-tensor quantized, one rescale as "
         "TFLite Micro", inputs=(2, 2))
def _sum(ctx: ImportContext, op: TflOperator) -> None:
    _reduction(ctx, op, tensor.SumOp)


@op_rule("REDUCE_MAX", (1, 3), ("int8", "float32"), "maximum over constant axes, keep_dims or not",
         "int32 axes; int8: input and output share one quantization (as TFLite Micro requires)",
         inputs=(2, 2))
def _reduce_max(ctx: ImportContext, op: TflOperator) -> None:
    if ctx.tensor_at(op, 0).tfl_type == TflType.INT8:
        _same_quantization(ctx, op, [0])
    _reduction(ctx, op, tensor.ReduceMaxOp)


_CAST_FROM = ("bool", "int8", "int16", "int32", "uint32", "float32")
_CAST_TO = ("int8", "int16", "int32", "uint32", "float32")


@op_rule("CAST", (1, 7), _CAST_FROM, "elementwise type conversion (C++ static_cast, as TFLite "
         "Micro)", "from bool, int8, int16, int32, uint32 or float32 to int8, int16, int32, uint32 "
         "or float32; "
         "the stored values are converted (quantization ignored, as TFLite Micro); float32 "
         "values outside the target range are undefined there", inputs=(1, 1))
def _cast(ctx: ImportContext, op: TflOperator) -> None:
    x, out = ctx.tensor_at(op, 0), ctx.tensors[op.outputs[0]]
    for t, allowed, role in ((x, _CAST_FROM, "input"), (out, _CAST_TO, "output")):
        kind = _KIND_OF.get(t.tfl_type)
        if kind not in allowed:
            ctx.tensor_type(t)  # raises the specific dtype message when there is one
            tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise ctx.fail(f"{role} type {tname} is not supported (supported: "
                           f"{', '.join(allowed)})")
    ctx.emit(tensor.CastOp, op, [ctx.input(op, 0)])


# ---- shape and data movement ------------------------------------------------------------------

@op_rule("SQUEEZE", (1, 2), ("int8", "int16", "int32", "int64", "float32"),
         "drop size-1 dimensions (a view: no copy)")
def _squeeze(ctx: ImportContext, op: TflOperator) -> None:
    _reshape_like(ctx, op)


@op_rule("EXPAND_DIMS", (1, 2), ("int8", "int16", "float32"), "insert a size-1 dimension (a view: no copy)",
         inputs=(2, 2))
def _expand_dims(ctx: ImportContext, op: TflOperator) -> None:
    _reshape_like(ctx, op)


def _pad_common(ctx: ImportContext, op: TflOperator, value_position: int | None) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    pads = ctx.const_data(op, 1).astype(np.int64)
    if pads.shape != (x.type.rank, 2):
        raise ctx.fail(f"paddings must have shape [{x.type.rank}, 2], got {list(pads.shape)}")
    if (pads < 0).any():
        raise ctx.fail(f"negative paddings {pads.tolist()} are not supported")
    out = ctx.output_type(op)
    value: int | float = out.element.zero_point if kind != "float32" else 0.0
    if value_position is not None and value_position < len(op.inputs) and \
            op.inputs[value_position] >= 0:
        vt = ctx.tensors[op.inputs[value_position]]
        if vt.data is None or vt.data.size != 1:
            raise ctx.fail("the padding value must be a constant scalar")
        if ctx.tensor_type(vt).element != out.element:
            raise ctx.fail("the padding value must be quantized like the output")
        value = int(vt.data.reshape(-1)[0]) if kind != "float32" else float(vt.data.reshape(-1)[0])
    ctx.emit(tensor.PadOp, op, [x], {"pads": tuple(tuple(int(v) for v in p) for p in pads),
                                     "value": value})


@op_rule("PAD", (1, 4), ("int8", "int16", "float32"), "constant padding (zero, or the zero point)",
         "constant paddings; int8: output quantized like the input", inputs=(2, 2))
def _pad(ctx: ImportContext, op: TflOperator) -> None:
    _pad_common(ctx, op, None)


@op_rule("PADV2", (1, 4), ("int8", "int16", "float32"), "constant padding with a given value",
         "constant paddings and value; int8: value and output quantized like the input", inputs=(2, 3))
def _padv2(ctx: ImportContext, op: TflOperator) -> None:
    _pad_common(ctx, op, 2)


@op_rule("CONCATENATION", (1, 3), ("int8", "int16", "int32", "int64", "float32", "bool"),
         "join tensors along an axis",
         "no fused activation; int8: inputs and output share one quantization; int32, int64: "
         "unquantized", inputs=(1, None))
def _concatenation(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "int64", "float32", "bool"))
    if kind in ("int32", "int64"):
        _plain_ints(ctx, op, kind)
    _same_quantization(ctx, op, list(range(len(op.inputs))))
    opts = op.options(tflite.ConcatenationOptions)  # absent: axis 0, no activation
    act = ctx.activation(opts.FusedActivationFunction()) if opts is not None else "none"
    if act != "none":
        raise ctx.fail(f"fused activation {act.upper()} on CONCATENATION is not supported")
    rank = ctx.output_type(op).rank
    axis = int(opts.Axis()) if opts is not None else 0
    if not -rank <= axis < rank:
        raise ctx.fail(f"axis {axis} is out of range for rank {rank}")
    ctx.emit(tensor.ConcatenationOp, op, [ctx.input(op, i) for i in range(len(op.inputs))],
             {"axis": axis % rank})


@op_rule("TRANSPOSE", (1, 6), ("int8", "int16", "float32"), "permute dimensions (up to 6-D)",
         "constant permutation; int8: output quantized like the input", inputs=(2, 2))
def _transpose(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    perm = [int(p) for p in ctx.const_data(op, 1).reshape(-1)]
    if x.type.rank > 6:
        raise ctx.fail(f"TRANSPOSE of rank {x.type.rank} is not supported (at most 6)")
    perm = [p + x.type.rank if p < 0 else p for p in perm]
    if sorted(perm) != list(range(x.type.rank)):
        raise ctx.fail(f"perm {perm} is not a permutation of {x.type.rank} dimensions")
    ctx.emit(tensor.TransposeOp, op, [x], {"perm": tuple(perm)})


@op_rule("STRIDED_SLICE", (1, 6), ("int8", "int16", "int32", "float32", "bool"),
         "strided window with begin/end/shrink-axis masks (up to 6-D)",
         "constant begin/end/strides; int8: output quantized like the input; int32: "
         "unquantized", inputs=(4, 4))
def _strided_slice(ctx: ImportContext, op: TflOperator) -> None:
    from utc.dialects import slice_math

    if _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "float32", "bool")) == "int32":
        _plain_int32(ctx, op)
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    o = op.options(tflite.StridedSliceOptions)
    masks = (o.BeginMask(), o.EndMask(), o.EllipsisMask(), o.NewAxisMask(),
             o.ShrinkAxisMask()) if o is not None else (0, 0, 0, 0, 0)
    if o is not None and o.Offset():
        raise ctx.fail("offset=true is not supported (TFLite Micro ignores it, so there is no "
                       "reference result to match)")
    offset = False
    begin, end, strides = (ctx.const_data(op, i).reshape(-1).tolist() for i in (1, 2, 3))
    try:
        b6, s6, n6, shape = slice_math.resolve_strided_slice(
            list(x.type.shape), begin, end, strides, *masks, offset=offset)
    except ValueError as exc:
        raise ctx.fail(str(exc).removeprefix("STRIDED_SLICE: ")) from None
    rank = x.type.rank
    out = ctx.output_type(op)
    if tuple(int(d) for d in shape) != out.shape:
        raise ctx.fail(f"the slice gives shape {list(shape)} but the model says {list(out.shape)}")
    ctx.emit(tensor.StridedSliceOp, op, [x], {
        "begin": tuple(int(v) for v in b6[6 - rank:]),
        "strides": tuple(int(v) for v in s6[6 - rank:]),
        "shape": tuple(int(v) for v in n6[6 - rank:]),
    })


def _split_common(ctx: ImportContext, op: TflOperator, data: int, axis_pos: int) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "float32"), data)
    _same_quantization(ctx, op, [data])
    x = ctx.input(op, data)
    axis = _axes(ctx, op, axis_pos, x.type.rank)
    if len(axis) != 1:
        raise ctx.fail("split needs exactly one axis")
    ctx.emit(tensor.SplitOp, op, [x], {"axis": axis[0]})


@op_rule("SPLIT", (1, 3), ("int8", "int16", "int32", "float32"),
         "cut into equal parts along a constant axis",
         inputs=(2, 2), outputs=(1, None))
def _split(ctx: ImportContext, op: TflOperator) -> None:
    _split_common(ctx, op, data=1, axis_pos=0)


@op_rule("SPLIT_V", (1, 2), ("int8", "int16", "int32", "float32"),
         "cut into given sizes along a constant axis",
         inputs=(3, 3), outputs=(1, None))
def _split_v(ctx: ImportContext, op: TflOperator) -> None:
    _split_common(ctx, op, data=0, axis_pos=2)


def _block_rearrange(ctx: ImportContext, op: TflOperator, options: type, plan_fn: Callable) -> None:
    """SPACE_TO_DEPTH / DEPTH_TO_SPACE: a view, one transpose, a view (`rearrange.py`)."""
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    block = int(ctx.required_options(op, options).BlockSize())
    try:
        plan = plan_fn(x.type.shape, block)
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    out = ctx.output_type(op)
    if out.shape != plan.output:
        raise ctx.fail(f"block_size {block} gives shape {list(plan.output)} but the model says "
                       f"{list(out.shape)}")
    element = x.type.element
    split = ctx.emit_step(tensor.ReshapeOp, [x], [TensorType(plan.split, element)],
                          names=[ctx.output_name(op, suffix="_blocks")])
    moved = ctx.emit_step(tensor.TransposeOp, [split.result], [TensorType(plan.transposed, element)],
                          {"perm": plan.perm}, names=[ctx.output_name(op, suffix="_moved")])
    ctx.emit(tensor.ReshapeOp, op, [moved.result])


@op_rule("SPACE_TO_DEPTH", (1, 2), ("int8", "float32"),
         "move b x b spatial blocks into depth (NHWC; a view, one transpose, a view)",
         "rank 4; output quantized like the input")
def _space_to_depth(ctx: ImportContext, op: TflOperator) -> None:
    _block_rearrange(ctx, op, tflite.SpaceToDepthOptions, rearrange.space_to_depth_plan)


@op_rule("DEPTH_TO_SPACE", (1, 2), ("int8", "float32"),
         "move depth into b x b spatial blocks (NHWC, DCR order; a view, one transpose, a view)",
         "rank 4; output quantized like the input")
def _depth_to_space(ctx: ImportContext, op: TflOperator) -> None:
    _block_rearrange(ctx, op, tflite.DepthToSpaceOptions, rearrange.depth_to_space_plan)


def _batch_space(ctx: ImportContext, op: TflOperator, plan_fn: Callable, what: str) -> None:
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND as data movement (`rearrange.py`): views, a pad
    or a crop, one transpose."""
    kind = _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    block = [int(v) for v in ctx.const_data(op, 1).reshape(-1)]
    pairs = ctx.const_data(op, 2)
    try:
        plan = plan_fn(x.type.shape, block, pairs.reshape(-1, 2).tolist() if pairs.size else [])
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    out = ctx.output_type(op)
    if out.shape != plan.output:
        raise ctx.fail(f"block {block} and {what} {pairs.tolist()} give shape "
                       f"{list(plan.output)} but the model says {list(out.shape)}")
    # TFLite Micro pads with params.output_offset, which it never sets (its padded
    # elements are undefined); utc pads with zero, stored as the zero point, as LiteRT does
    padded = any(v for p in plan.pads for v in p)
    element = x.type.element
    cur = x
    steps = [(tensor.ReshapeOp, plan.input4, {}, "_nhwc")] if plan.input4 != x.type.shape else []
    if padded:
        pad_shape = tuple(d + a + b for d, (a, b) in zip(plan.input4, plan.pads))
        value = 0.0 if kind == "float32" else out.element.zero_point
        steps.append((tensor.PadOp, pad_shape, {"pads": plan.pads, "value": value}, "_padded"))
    steps += [(tensor.ReshapeOp, plan.split, {}, "_blocks"),
              (tensor.TransposeOp, plan.transposed, {"perm": plan.perm}, "_moved"),
              (tensor.ReshapeOp, plan.joined, {}, "_joined")]
    if plan.output4 != plan.joined:
        steps.append((tensor.StridedSliceOp, plan.output4,
                      {"begin": plan.crop_begin, "strides": (1, 1, 1, 1), "shape": plan.output4},
                      "_cropped"))
    for cls, shape, attrs, suffix in steps:
        cur = ctx.emit_step(cls, [cur], [TensorType(shape, element)], attrs,
                            names=[ctx.output_name(op, suffix=suffix)]).result
    if cur.type.shape == out.shape:
        ctx.bind(op, 0, cur)
    else:
        ctx.emit(tensor.ReshapeOp, op, [cur])


@op_rule("SPACE_TO_BATCH_ND", (1, 4), ("int8", "float32"),
         "move spatial blocks into the batch (NHWC or NHC; views, a zero pad, one transpose)",
         "rank 3 or 4; constant block shape and paddings; output quantized like the input; "
         "pads with zero (the zero point) as LiteRT does (TFLite Micro leaves its pad value "
         "unset)",
         inputs=(3, 3))
def _space_to_batch_nd(ctx: ImportContext, op: TflOperator) -> None:
    _batch_space(ctx, op, rearrange.space_to_batch_plan, "paddings")


@op_rule("BATCH_TO_SPACE_ND", (1, 4), ("int8", "float32"),
         "move batch blocks back into space (NHWC or NHC; views, one transpose, a crop)",
         "rank 3 or 4; constant block shape and crops; output quantized like the input",
         inputs=(3, 3))
def _batch_to_space_nd(ctx: ImportContext, op: TflOperator) -> None:
    _batch_space(ctx, op, rearrange.batch_to_space_plan, "crops")


def _view(ctx: ImportContext, op: TflOperator, position: int, ttype: TensorType, name: str) -> Value:
    """Input `position` reshaped to `ttype`: a reshape of a computed value (a view), or a
    constant stored in that shape (a view of flash data would have no arena address)."""
    t = ctx.tensor_at(op, position)
    value = ctx.values.get(t.index)
    if value is not None and not isinstance(getattr(value, "op", None), tensor.ConstantOp):
        return ctx.emit_step(tensor.ReshapeOp, [value], [ttype], names=[name]).result
    kind = re.sub(r"_(?=\d)", "", op.builtin.lower())
    ref = ctx.module.add_resource(f"{kind}{op.index}.input{position}",
                                  t.data.reshape(ttype.shape), ttype)
    const = tensor.ConstantOp([], [ttype], {"value": ref}, location=Location(((op.index, t.name),)),
                              result_names=[ref.name])
    ctx.block.append(const)
    return const.result


@op_rule("PACK", (1, 3), ("int8", "int16", "int32", "int64", "float32"),
         "stack same-shaped tensors along a new axis (views joined by a concatenation)",
         "inputs and output share one quantization; int32, int64: unquantized", inputs=(1, None))
def _pack(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "int64", "float32"))
    if kind in ("int32", "int64"):
        _plain_ints(ctx, op, kind)
    _same_quantization(ctx, op, list(range(len(op.inputs))))
    opts = ctx.required_options(op, tflite.PackOptions)
    values = [ctx.tensor_type(ctx.tensor_at(op, i)) for i in range(len(op.inputs))]
    shape = values[0].shape
    if any(v.shape != shape for v in values):
        raise ctx.fail("inputs must all have one shape, got "
                       f"{', '.join(str(list(v.shape)) for v in values)}")
    if opts.ValuesCount() != len(values):
        raise ctx.fail(f"values_count {opts.ValuesCount()} differs from the {len(values)} inputs")
    try:
        axis = rearrange.pack_axis(int(opts.Axis()), len(shape))
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    slice_type = TensorType(rearrange.insert_axis(shape, axis), values[0].element)
    slices = [_view(ctx, op, k, slice_type, ctx.output_name(op, suffix=f"_slice{k}"))
              for k in range(len(values))]
    ctx.emit(tensor.ConcatenationOp, op, slices, {"axis": axis})


@op_rule("UNPACK", (1, 4), ("int8", "int16", "int32", "float32"),
         "cut a tensor into its slices along an axis (a split, then views)",
         "inputs and outputs share one quantization; int32: unquantized", outputs=(1, None))
def _unpack(ctx: ImportContext, op: TflOperator) -> None:
    if _activation_dtype_check(ctx, op, ("int8", "int16", "int32", "float32")) == "int32":
        _plain_int32(ctx, op)
    _same_quantization(ctx, op, [0])
    opts = ctx.required_options(op, tflite.UnpackOptions)
    x = ctx.input(op, 0)
    try:
        axis = rearrange.unpack_axis(int(opts.Axis()), x.type.rank)
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    count = x.type.shape[axis]
    if opts.Num() != count or len(op.outputs) != count:
        raise ctx.fail(f"num {opts.Num()} and the {len(op.outputs)} outputs must equal the "
                       f"{count} slices along axis {axis}")
    part = TensorType(x.type.shape[:axis] + (1,) + x.type.shape[axis + 1:], x.type.element)
    split = ctx.emit_step(tensor.SplitOp, [x], [part] * count, {"axis": axis},
                          names=[ctx.output_name(op, k, "_part") for k in range(count)])
    for k, piece in enumerate(split.result_values):
        view = ctx.emit_step(tensor.ReshapeOp, [piece], [ctx.output_type(op, k)],
                             names=[ctx.output_name(op, k)])
        ctx.bind(op, k, view.result)


@op_rule("GATHER", (1, 5), ("int8", "float32"),
         "slices picked by int32 indices (constant or computed) along an axis, with batch dims",
         "int32 indices (constant indices must be in range); output quantized like the input",
         inputs=(2, 2))
def _gather(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    idx_t = ctx.tensor_at(op, 1)
    if idx_t.tfl_type != TflType.INT32:
        tname = _TFL_TYPE_NAMES.get(idx_t.tfl_type, str(idx_t.tfl_type))
        raise ctx.fail(f"indices '{idx_t.name}' must be int32 (as TFLite Micro requires), got {tname}")
    opts = op.options(tflite.GatherOptions)  # absent: axis 0, batch_dims 0
    axis = int(opts.Axis()) if opts is not None else 0
    batch = int(opts.BatchDims()) if opts is not None else 0
    rank, idx_rank = x.type.rank, len(idx_t.shape)
    axis = axis + rank if axis < 0 else axis
    batch = batch + idx_rank if batch < 0 else batch
    if not 0 <= axis < rank:
        raise ctx.fail(f"axis {axis} is out of range for rank {rank}")
    if not 0 <= batch <= min(axis, idx_rank):
        raise ctx.fail(f"batch_dims {batch} must be in [0, min(axis {axis}, indices rank {idx_rank})]")
    if idx_t.data is not None:
        bad = idx_t.data[(idx_t.data < 0) | (idx_t.data >= x.type.shape[axis])]
        if bad.size:
            raise ctx.fail(f"constant index {int(bad[0])} is out of range [0, {x.type.shape[axis]}) "
                           f"on axis {axis}")
    ctx.emit(tensor.GatherOp, op, [x, ctx.input(op, 1)], {"axis": axis, "batch_dims": batch})


@op_rule("BROADCAST_TO", (1, 3), ("int8", "int16", "int64", "float32"),
         "repeat along size-1 and new leading dimensions (up to 5-D, as TFLite Micro)",
         "constant shape; output quantized like the input", inputs=(2, 2))
def _broadcast_to(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "int64", "float32"))
    _same_quantization(ctx, op, [0])
    x, out = ctx.input(op, 0), ctx.output_type(op)
    shape = [int(d) for d in ctx.const_data(op, 1).reshape(-1)]
    if shape != list(out.shape):
        raise ctx.fail(f"shape {shape} differs from the output shape {list(out.shape)}")
    if out.rank > 5:
        raise ctx.fail(f"rank {out.rank} is not supported (TFLite Micro broadcasts up to 5-D)")
    ctx.emit(tensor.BroadcastToOp, op, [x])


@op_rule("RESIZE_NEAREST_NEIGHBOR", (1, 4), ("int8", "int16", "float32"),
         "nearest-neighbour resize of NHWC images (two gathers with constant indices)",
         "constant size; align_corners and half_pixel_centers as TFLite Micro (not both); "
         "output quantized like the input", inputs=(2, 2))
def _resize_nearest(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    _same_quantization(ctx, op, [0])
    x, out = ctx.input(op, 0), ctx.output_type(op)
    ctx.check_rank(x, 4, "the input")
    size = [int(v) for v in ctx.const_data(op, 1).reshape(-1)]
    n, h, w, c = x.type.shape
    if len(size) != 2 or out.shape != (n, size[0], size[1], c):
        raise ctx.fail(f"size {size} does not give the output shape {list(out.shape)}")
    opts = op.options(tflite.ResizeNearestNeighborOptions)
    align = bool(opts.AlignCorners()) if opts is not None else False
    half = bool(opts.HalfPixelCenters()) if opts is not None else False
    if align and half:
        raise ctx.fail("align_corners together with half_pixel_centers is not supported "
                       "(TFLite's converters never set both)")
    rows = rearrange.nearest_sources(h, size[0], align, half)
    cols = rearrange.nearest_sources(w, size[1], align, half)
    _constant_gathers(ctx, op, x, {1: rows, 2: cols})


@op_rule("RESIZE_BILINEAR", (1, 4), ("int8", "float32"),
         "bilinear resize of NHWC images (TFLite Micro's float and Q10 integer arithmetic)",
         "constant size; align_corners and half_pixel_centers as TFLite Micro (not both); "
         "int8: output quantized like the input", inputs=(2, 2))
def _resize_bilinear(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    x, out = ctx.input(op, 0), ctx.output_type(op)
    ctx.check_rank(x, 4, "the input")
    size_t = ctx.tensor_at(op, 1)
    if size_t.tfl_type != TflType.INT32:
        raise ctx.fail("size must be int32 (as TFLite Micro requires)")
    size = [int(v) for v in ctx.const_data(op, 1).reshape(-1)]
    n, h, w, c = x.type.shape
    if len(size) != 2 or min(size) < 1 or out.shape != (n, size[0], size[1], c):
        raise ctx.fail(f"size {size} does not give the output shape {list(out.shape)}")
    opts = op.options(tflite.ResizeBilinearOptions)
    align = bool(opts.AlignCorners()) if opts is not None else False
    half = bool(opts.HalfPixelCenters()) if opts is not None else False
    if align and half:
        raise ctx.fail("align_corners together with half_pixel_centers is refused by "
                       "TFLite Micro")
    ctx.emit(tensor.ResizeBilinearOp, op, [x], {"align_corners": align,
                                               "half_pixel_centers": half})


def _constant_gathers(ctx: ImportContext, op: TflOperator, x: Value,
                      sources: dict[int, list[int]]) -> None:
    """Output 0 of `op` as one GATHER with constant indices per axis (`sources[axis]`: the
    input index each output position reads), skipping axes read unchanged; an identity is
    a view."""
    value, out = x, ctx.output_type(op)
    axes = [a for a in sorted(sources) if sources[a] != list(range(x.type.shape[a]))]
    kind = re.sub(r"_(?=\d)", "", op.builtin.lower())
    for k, axis in enumerate(axes):
        table = np.array(sources[axis], np.int32)
        ttype = TensorType(table.shape, I32)
        ref = ctx.module.add_resource(f"{kind}{op.index}.axis{axis}", table, ttype)
        index = ctx.emit_step(tensor.ConstantOp, [], [ttype], {"value": ref},
                              names=[ref.name]).result
        shape = list(value.type.shape)
        shape[axis] = len(table)
        last = k == len(axes) - 1
        value = ctx.emit_step(tensor.GatherOp, [value, index], [TensorType(tuple(shape), out.element)],
                              {"axis": axis, "batch_dims": 0},
                              names=[ctx.output_name(op, suffix="" if last else f"_axis{axis}")]).result
    if value is x:
        value = ctx.emit_step(tensor.ReshapeOp, [x], [out], names=[ctx.output_name(op)]).result
    ctx.bind(op, 0, value)


@op_rule("GATHER_ND", (1, 4), ("int8", "float32"),
         "slices picked by int32 index tuples (one GATHER with constant indices on a view)",
         "constant int32 indices (in range, index depth 1 to 5); output quantized like the "
         "input", inputs=(2, 2))
def _gather_nd(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    idx_t = ctx.tensor_at(op, 1)
    if idx_t.tfl_type != TflType.INT32:
        tname = _TFL_TYPE_NAMES.get(idx_t.tfl_type, str(idx_t.tfl_type))
        raise ctx.fail(f"indices must be int32 (as TFLite Micro requires), got {tname}")
    if idx_t.data is None:
        raise ctx.fail("computed indices are not supported yet (constant indices become one "
                       "GATHER)")
    params = ctx.tensor_at(op, 0)
    try:
        view, flat, out_shape = rearrange.gather_nd_plan(params.shape, ctx.const_data(op, 1))
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    out = ctx.output_type(op)
    if out.shape != out_shape:
        raise ctx.fail(f"gathering {list(params.shape)} by indices {list(idx_t.shape)} gives "
                       f"shape {list(out_shape)} but the model says {list(out.shape)}")
    element = ctx.tensor_type(params).element
    x = _view(ctx, op, 0, TensorType(view, element), ctx.output_name(op, suffix="_rows"))
    ttype = TensorType(flat.shape, I32)
    kind = re.sub(r"_(?=\d)", "", op.builtin.lower())
    ref = ctx.module.add_resource(f"{kind}{op.index}.rows", flat, ttype)
    index = ctx.emit_step(tensor.ConstantOp, [], [ttype], {"value": ref}, names=[ref.name]).result
    ctx.emit(tensor.GatherOp, op, [x, index], {"axis": 0, "batch_dims": 0})


@op_rule("MIRROR_PAD", (1, 3), ("int8", "float32"),
         "REFLECT or SYMMETRIC padding (one gather with constant indices per padded axis)",
         "constant paddings no wider than the input allows; output quantized like the input",
         inputs=(2, 2))
def _mirror_pad(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    _same_quantization(ctx, op, [0])
    x = ctx.input(op, 0)
    pads = ctx.const_data(op, 1)
    if pads.shape != (x.type.rank, 2):
        raise ctx.fail(f"paddings must have shape [{x.type.rank}, 2], got {list(pads.shape)}")
    opts = ctx.required_options(op, tflite.MirrorPadOptions)
    reflect = opts.Mode() == 0  # MirrorPadMode: REFLECT = 0, SYMMETRIC = 1
    try:
        sources = {d: rearrange.mirror_sources(size, int(pads[d][0]), int(pads[d][1]), reflect)
                   for d, size in enumerate(x.type.shape)}
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None
    want = tuple(len(s) for s in sources.values())
    if ctx.output_type(op).shape != want:
        raise ctx.fail(f"the paddings give shape {list(want)} but the model says "
                       f"{list(ctx.output_type(op).shape)}")
    _constant_gathers(ctx, op, x, sources)


# ---- operators known at compile time (folded into constants) ----------------------------------

def _fold(ctx: ImportContext, op: TflOperator, data: np.ndarray) -> None:
    """The operator's output does not depend on input values: it becomes a constant tensor,
    as if the model stored it (a consumer or the model output then reads it from flash, and
    an operator that needs a constant operand, such as RESHAPE's shape, accepts it)."""
    out = ctx.tensors[op.outputs[0]]
    out.data = np.asarray(data).astype(np.dtype(_NP_OF[out.tfl_type]).newbyteorder("=")) \
        .reshape(out.shape)


@op_rule("SHAPE", (1, 1), ("int8", "int16", "float32"), "the input's shape (folded to a constant)",
         "int32 output (TFLite Micro has no int64 SHAPE)")
def _shape(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    x, out = ctx.tensor_at(op, 0), ctx.tensors[op.outputs[0]]
    if out.tfl_type != TflType.INT32:
        tname = _TFL_TYPE_NAMES.get(out.tfl_type, str(out.tfl_type))
        raise ctx.fail(f"output type {tname} is not supported (TFLite Micro's SHAPE writes int32)")
    if out.shape != (len(x.shape),):
        raise ctx.fail(f"output shape {list(out.shape)} must be [{len(x.shape)}], the input's rank")
    _fold(ctx, op, np.array(x.shape, np.int64))


@op_rule("ZEROS_LIKE", (1, 1), ("int8", "int32", "int64", "float32"),
         "zeros shaped like the input (folded to a constant)",
         "int8: stored zeros, whatever the zero point (as TFLite Micro)")
def _zeros_like(ctx: ImportContext, op: TflOperator) -> None:
    _activation_dtype_check(ctx, op, ("int8", "int32", "int64", "float32"))
    x, out = ctx.tensor_at(op, 0), ctx.tensors[op.outputs[0]]
    if out.tfl_type != x.tfl_type or out.shape != x.shape:
        raise ctx.fail("the output must have the input's type and shape")
    _fold(ctx, op, np.zeros(out.shape))


@op_rule("FILL", (1, 3), ("int8", "int32", "float32"),
         "a tensor of the given shape filled with one value",
         "constant dims (as TFLite Micro requires); a constant value is folded, a computed "
         "one is broadcast (BROADCAST_TO's kernel); int8: the value's stored integer, "
         "quantized like the output; int32: unquantized", inputs=(2, 2))
def _fill(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int32", "float32"), position=1)
    value_t, out = ctx.tensor_at(op, 1), ctx.tensors[op.outputs[0]]
    dims = ctx.tensor_at(op, 0)
    if dims.data is None:
        raise ctx.fail(f"dims '{dims.name}' must be a constant (TFLite Micro requires it)")
    if [int(d) for d in ctx.const_data(op, 0).reshape(-1)] != list(out.shape) or len(dims.shape) != 1:
        raise ctx.fail(f"dims {ctx.const_data(op, 0).tolist()} must be a 1-D list equal to the "
                       f"output shape {list(out.shape)}")
    if value_t.shape != ():
        raise ctx.fail(f"the value must be a scalar, got shape {list(value_t.shape)}")
    if ctx.tensor_type(value_t).element != ctx.output_type(op).element:
        raise ctx.fail("the value and the output must have one type" +
                       (" and quantization" if kind == "int8" else ""))
    if value_t.data is not None:
        _fold(ctx, op, np.full(out.shape, value_t.data.reshape(-1)[0]))
        return
    value = ctx.input(op, 1)
    ctx.emit(tensor.BroadcastToOp, op, [value])


def _arg_min_max(ctx: ImportContext, op: TflOperator, cls: type[Operation]) -> None:
    _activation_dtype_check(ctx, op, ("int8", "float32"))
    x, out = ctx.input(op, 0), ctx.tensors[op.outputs[0]]
    if out.tfl_type != TflType.INT32:
        tname = _TFL_TYPE_NAMES.get(out.tfl_type, str(out.tfl_type))
        raise ctx.fail(f"output type {tname} is not supported (TFLite Micro writes int32)")
    if ctx.tensor_at(op, 1).tfl_type != TflType.INT32:
        raise ctx.fail("the axis must be an int32 constant (TFLite Micro reads int32)")
    axis = _axes(ctx, op, 1, x.type.rank)
    if ctx.tensor_at(op, 1).data.size != 1:
        raise ctx.fail("the axis must be one value")
    ctx.emit(cls, op, [x], {"axis": axis[0]})


@op_rule("ARG_MAX", (1, 2), ("int8", "float32"), "index of the largest value along an axis",
         "constant int32 axis; int32 output", inputs=(2, 2))
def _arg_max(ctx: ImportContext, op: TflOperator) -> None:
    _arg_min_max(ctx, op, tensor.ArgMaxOp)


@op_rule("ARG_MIN", (1, 2), ("int8", "float32"), "index of the smallest value along an axis",
         "constant int32 axis; int32 output", inputs=(2, 2))
def _arg_min(ctx: ImportContext, op: TflOperator) -> None:
    _arg_min_max(ctx, op, tensor.ArgMinOp)


# ---- resource variables (state kept between invocations) ---------------------------------

@op_rule("CALL_ONCE", (1, 1), ("int8", "int16", "float32"),
         "runs a variable initialisation subgraph on the first invocation",
         "the subgraph may only assign constants (VAR_HANDLE, ASSIGN_VARIABLE): utc evaluates "
         "it at compile time into the variables' initial values; it must run before any "
         "variable is read or assigned", inputs=(0, 0), outputs=(0, 0))
def _call_once(ctx: ImportContext, op: TflOperator) -> None:
    """Nothing to build: the initialisation is the variables' `init` values."""


@op_rule("VAR_HANDLE", (1, 1), ("int8", "int16", "float32"),
         "names a resource variable (container, shared_name)",
         "variables become persistent state (NAME_STATE_BYTES, NAME_reset)",
         inputs=(0, 0))
def _var_handle(ctx: ImportContext, op: TflOperator) -> None:
    if op.index in ctx.variable_of:
        ctx.handles[op.outputs[0]] = ctx.variable_of[op.index]


def _variable(ctx: ImportContext, op: TflOperator) -> SymbolRef:
    symbol = ctx.handles.get(op.inputs[0])
    if symbol is None:  # _resource_variables checked the handle comes from a VAR_HANDLE
        raise ctx.fail("input 0 is not the output of a VAR_HANDLE")
    return symbol


@op_rule("READ_VARIABLE", (1, 1), ("int8", "int16", "float32"),
         "the variable's current value", "int8, int16 and float32 variables",
         inputs=(1, 1))
def _read_variable(ctx: ImportContext, op: TflOperator) -> None:
    ctx.emit(state.ReadOp, op, [], {"variable": _variable(ctx, op)})


@op_rule("ASSIGN_VARIABLE", (1, 1), ("int8", "int16", "float32"),
         "sets the variable; later reads and invocations see the value",
         "the value's type is the variable's", inputs=(2, 2), outputs=(0, 0))
def _assign_variable(ctx: ImportContext, op: TflOperator) -> None:
    ctx.emit(state.WriteOp, op, [ctx.input(op, 1)], {"variable": _variable(ctx, op)})


# ---- recurrent layers (state in variable tensors) -------------------------------------------

@op_rule("SVDF", (1, 4), ("int8", "float32"),
         "singular value decomposition filter; its activation state (a variable tensor) "
         "persists between invocations",
         "weights and bias constant, bias required; int8: int8 or int16 time weights and "
         "state (one type), int32 bias, the fused activation is ignored as in TFLite Micro; "
         "float32: "
         "float32 weights (hybrid int8 weights refused, as TFLite Micro does)",
         inputs=(5, 5))
def _svdf(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "float32"))
    opts = ctx.required_options(op, tflite.SVDFOptions)
    act = ctx.activation(opts.FusedActivationFunction())
    weights = []
    for position, role in ((1, "weights_feature"), (2, "weights_time")):
        t = ctx.tensor_at(op, position)
        if t.data is None:
            raise ctx.fail(f"{role} '{t.name}' must be constant (utc compiles weights into "
                           "flash)")
        allowed = (TflType.FLOAT32,) if kind == "float32" else \
            (TflType.INT8,) if position == 1 else (TflType.INT8, TflType.INT16)
        if t.tfl_type not in allowed:
            tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
            raise ctx.fail(f"{kind} SVDF needs {role} of type "
                           f"{' or '.join(_TFL_TYPE_NAMES[a] for a in allowed)}, got {tname}"
                           + (" (hybrid SVDF is not supported by TFLite Micro)"
                              if kind == "float32" else ""))
        weights.append(ctx.constant(t.index, role=role))
    state_t = ctx.tensor_at(op, 4)
    if not state_t.is_variable:
        raise ctx.fail(f"input 4 ('{state_t.name}'), the activation state, must be a variable "
                       "tensor (TFLite Micro requires it)")
    bias = _bias(ctx, op, 3, kind)
    if bias is None:
        raise ctx.fail("a bias is required (TFLite Micro's SVDF reads it unconditionally)")
    x = ctx.input(op, 0)
    s = ctx.input(op, 4)
    svdf = ctx.emit_step(tensor.SvdfOp, [x, *weights, s, bias], [ctx.output_type(op), s.type],
                         {"rank": int(opts.Rank()), "act": act},
                         [ctx.output_name(op), ctx.output_name(op, suffix="_state")])
    ctx.bind(op, 0, svdf.result_values[0])
    ctx.write_variable_tensor(op, 4, svdf.result_values[1])


#: UNIDIRECTIONAL_SEQUENCE_LSTM's inputs TFLite Micro does not implement (it requires them
#: absent), by position, with what they are.
_LSTM_ABSENT = {9: "peephole weights", 10: "peephole weights", 11: "peephole weights",
                16: "projection weights", 17: "projection bias",
                20: "layer normalisation coefficients", 21: "layer normalisation coefficients",
                22: "layer normalisation coefficients", 23: "layer normalisation coefficients"}
_LSTM_GATES = ("input_gate", "forget_gate", "cell_gate", "output_gate")


@op_rule("UNIDIRECTIONAL_SEQUENCE_LSTM", (1, 4), ("int8", "int16", "float32"),
         "LSTM over a sequence, time-major or batch-major; its hidden and cell state "
         "(variable tensors) persist between invocations",
         "weights and biases constant; cell gate activation tanh; cell_clip supported; no "
         "CIFG, peephole, projection or layer normalisation (as TFLite Micro); int8: int16 "
         "cell state, per-tensor int8 weights with zero point 0, int32 biases; 16x8: the "
         "same with int16 activations and int64 biases",
         inputs=(24, 24))
def _unidirectional_sequence_lstm(ctx: ImportContext, op: TflOperator) -> None:
    kind = _activation_dtype_check(ctx, op, ("int8", "int16", "float32"))
    present = lambda k: k < len(op.inputs) and op.inputs[k] >= 0  # noqa: E731
    for position, what in _LSTM_ABSENT.items():
        if present(position):
            raise ctx.fail(f"{what} (input {position}) are not supported (TFLite Micro's LSTM "
                           "has no peephole, projection or layer normalisation)")
    if not all(present(k) for k in (1, 5, 12)):
        raise ctx.fail("CIFG (no input gate weights) is not supported (TFLite Micro needs "
                       "all four gates)")
    opts = ctx.required_options(op, tflite.UnidirectionalSequenceLSTMOptions)
    act = ctx.activation(opts.FusedActivationFunction())
    if act != "tanh":
        raise ctx.fail(f"cell gate activation {act} is not supported (TFLite Micro's LSTM runs "
                       "tanh)")
    if opts.DiagonalRecurrentTensors():
        raise ctx.fail("diagonal recurrent weights are not supported")
    operands = [ctx.input(op, 0)]
    for first, role in ((1, "input_weights"), (5, "recurrent_weights"), (12, "bias")):
        for k, gate in enumerate(_LSTM_GATES):
            t = ctx.tensor_at(op, first + k)
            if t.data is None:
                raise ctx.fail(f"{gate} {role.replace('_', ' ')} '{t.name}' must be constant "
                               "(utc compiles weights into flash)")
            want = TflType.FLOAT32 if kind == "float32" else TflType.INT8 if role != "bias" \
                else TflType.INT64 if kind == "int16" else TflType.INT32
            if t.tfl_type != want:
                tname = _TFL_TYPE_NAMES.get(t.tfl_type, str(t.tfl_type))
                raise ctx.fail(f"{kind} LSTM needs {_TFL_TYPE_NAMES[want]} {role.replace('_', ' ')}, "
                               f"got {tname} for '{t.name}'"
                               + (" (hybrid LSTM is not supported by TFLite Micro)"
                                  if kind == "float32" else ""))
            operands.append(ctx.constant(t.index, role=f"{gate}_{role}"))
    for position, what in ((18, "hidden (output) state"), (19, "cell state")):
        t = ctx.tensor_at(op, position)
        if not t.is_variable:
            raise ctx.fail(f"input {position} ('{t.name}'), the {what}, must be a variable "
                           "tensor (TFLite Micro requires it)")
    h, c = ctx.input(op, 18), ctx.input(op, 19)
    lstm = ctx.emit_step(tensor.LstmOp, [*operands, h, c], [ctx.output_type(op), h.type, c.type],
                         {"time_major": bool(opts.TimeMajor()),
                          "cell_clip": float(opts.CellClip()), "act": act},
                         [ctx.output_name(op), ctx.output_name(op, suffix="_hidden"),
                          ctx.output_name(op, suffix="_cell")])
    ctx.bind(op, 0, lstm.result_values[0])
    ctx.write_variable_tensor(op, 18, lstm.result_values[1])
    ctx.write_variable_tensor(op, 19, lstm.result_values[2])


@dataclass(frozen=True)
class OperatorTensors:
    """What `utc verify --per-layer` needs to find a TFLite tensor: each operator's type
    and output tensor indices (main subgraph), and every tensor's name; `variables`, each
    operator's variable-tensor inputs (`is_variable`, in input order): the state an SVDF or
    LSTM updates in place, which utc's call writes as an output of its own."""

    builtins: tuple[str, ...]
    outputs: tuple[tuple[int, ...], ...]
    tensor_names: tuple[str, ...]
    variables: tuple[tuple[int, ...], ...] = ()


def operator_tensors(data: bytes, label: str) -> OperatorTensors:
    """The operators' outputs of a model held in memory, read with the importer's checks
    (an index outside the tensor table is an error here, never a read out of bounds)."""
    model = parse_flatbuffer(bytes(data), label)
    try:
        graph = model.Subgraphs(0)
        if graph is None:
            raise ImportError_(f"{label}: model has 0 subgraphs")
        ops = _operators(label, model, graph, len(data))
        names = tuple(_text(graph.Tensors(i).Name()) for i in range(graph.TensorsLength()))
        variables = tuple(tuple(i for i in op.inputs if 0 <= i < len(names)
                                and graph.Tensors(i).IsVariable()) for op in ops)
    except (IndexError, ValueError, TypeError, AttributeError, UnicodeDecodeError,
            struct.error) as exc:
        if isinstance(exc, ImportError_):
            raise
        raise ImportError_(f"{label}: truncated or corrupt TFLite flatbuffer ({type(exc).__name__}"
                           f": {printable(exc)})") from None
    return OperatorTensors(tuple(op.builtin for op in ops), tuple(tuple(op.outputs) for op in ops),
                           names, variables)


# The signal library's CUSTOM operators register their rows in CUSTOM_OP_TABLE.
from . import tflite_signal  # noqa: E402, F401
