"""Test-only TFLite flatbuffer writer.

Tests need many small models that exercise one operator and one parameter variant at a
time; no converter produces those on demand, and the project must not depend on
TensorFlow. This module writes them directly with the `tflite` package's generated
flatbuffer builder functions.

The output follows the conventions of real converter output (checked against the models in
../shared/models), so that the importer sees in tests what it sees in the field:

* buffer 0 is the empty sentinel; every tensor then gets a buffer of its own, empty for
  activations and holding the little-endian data (16-byte aligned, as the schema's
  ``force_align`` asks) for constants;
* every tensor carries a ``QuantizationParameters`` table, empty when unquantized;
* operator codes carry both ``deprecated_builtin_code`` (``min(code, 127)``) and
  ``builtin_code``;
* operators carry the builtin options table their op declares in the schema, with the
  matching ``BuiltinOptions`` union type, even when all its fields keep their defaults
  (RESHAPE is the exception: like the MLIR converter it gets ``ReshapeOptions`` only when
  ``new_shape`` is given);
* the first subgraph is named ``main``.

Anything the writer does not understand (an unknown op, option key, option value or dtype,
a tensor index out of range, data that does not fit the dtype) raises ``ValueError``: a
test must never silently build a different model from the one it describes.

Where the schema default of an option is not a usable value, an omitted key gets the
value every converter writes instead (see ``_CONVENIENCE_DEFAULTS``): strides of 1,
softmax ``beta`` 1.0, ``depth_multiplier`` inferred from the tensor shapes, split and
pack counts from the operand counts. Pool filter sizes have no sensible default and are
required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.FullyConnectedOptionsWeightsFormat import FullyConnectedOptionsWeightsFormat
from tflite.MirrorPadMode import MirrorPadMode
from tflite.Padding import Padding
from tflite.TensorType import TensorType

__all__ = ["DTYPES", "OPTION_FIELDS", "OP_OPTIONS", "RESOURCE", "ModelBuilder", "flexbuffer_map"]


def _enum_members(enum_class: type) -> dict[str, int]:
    """Name -> value of a flatc-generated Python enum class."""
    return {k: v for k, v in vars(enum_class).items() if not k.startswith("_")}


#: dtype name accepted by `ModelBuilder.add_tensor` -> (TensorType value, numpy dtype).
DTYPES: dict[str, tuple[int, np.dtype]] = {
    "float32": (TensorType.FLOAT32, np.dtype(np.float32)),
    "float16": (TensorType.FLOAT16, np.dtype(np.float16)),
    "int8": (TensorType.INT8, np.dtype(np.int8)),
    "int16": (TensorType.INT16, np.dtype(np.int16)),
    "int32": (TensorType.INT32, np.dtype(np.int32)),
    "int64": (TensorType.INT64, np.dtype(np.int64)),
    "uint8": (TensorType.UINT8, np.dtype(np.uint8)),
    "uint32": (TensorType.UINT32, np.dtype(np.uint32)),  # TFLite Micro's signal library
    "uint64": (TensorType.UINT64, np.dtype(np.uint64)),
    "bool": (TensorType.BOOL, np.dtype(np.bool_)),
}
#: The dtype name of a resource handle (VAR_HANDLE's output): a tensor that names a
#: resource variable and holds no data of its own, so it is not in DTYPES.
RESOURCE = "resource"

_OPERATORS = _enum_members(BuiltinOperator)
_UNION_TYPES = _enum_members(BuiltinOptions)

# Option value kinds: a scalar kind name, or an enum (name -> value mapping).
_Kind = str | Mapping[str, int]
_PADDING = _enum_members(Padding)
_ACTIVATION = _enum_members(ActivationFunctionType)
_WEIGHTS_FORMAT = _enum_members(FullyConnectedOptionsWeightsFormat)
_MIRROR_PAD_MODE = _enum_members(MirrorPadMode)
# TensorType-valued options accept the writer's dtype names ("int32") and schema names ("INT32").
_TENSOR_TYPE = {**_enum_members(TensorType), **{k: v[0] for k, v in DTYPES.items()}}

#: options table name -> {snake_case key: kind}. Kinds: "int" (int32), "float", "bool",
#: "ints" (int32 vector), "str" (a string) or an enum mapping (the value may be the name or the number).
OPTION_FIELDS: dict[str, dict[str, _Kind]] = {
    "Conv2DOptions": {
        "padding": _PADDING, "stride_w": "int", "stride_h": "int",
        "fused_activation_function": _ACTIVATION, "dilation_w_factor": "int",
        "dilation_h_factor": "int", "quantized_bias_type": _TENSOR_TYPE},
    "DepthwiseConv2DOptions": {
        "padding": _PADDING, "stride_w": "int", "stride_h": "int", "depth_multiplier": "int",
        "fused_activation_function": _ACTIVATION, "dilation_w_factor": "int",
        "dilation_h_factor": "int"},
    "TransposeConvOptions": {
        "padding": _PADDING, "stride_w": "int", "stride_h": "int",
        "fused_activation_function": _ACTIVATION, "quantized_bias_type": _TENSOR_TYPE},
    "FullyConnectedOptions": {
        "fused_activation_function": _ACTIVATION, "weights_format": _WEIGHTS_FORMAT,
        "keep_num_dims": "bool", "asymmetric_quantize_inputs": "bool",
        "quantized_bias_type": _TENSOR_TYPE},
    "Pool2DOptions": {
        "padding": _PADDING, "stride_w": "int", "stride_h": "int", "filter_width": "int",
        "filter_height": "int", "fused_activation_function": _ACTIVATION},
    "AddOptions": {"fused_activation_function": _ACTIVATION, "pot_scale_int16": "bool"},
    "SubOptions": {"fused_activation_function": _ACTIVATION, "pot_scale_int16": "bool"},
    "MulOptions": {"fused_activation_function": _ACTIVATION},
    "DivOptions": {"fused_activation_function": _ACTIVATION},
    "L2NormOptions": {"fused_activation_function": _ACTIVATION},
    "SoftmaxOptions": {"beta": "float"},
    "LogSoftmaxOptions": {},
    "ReshapeOptions": {"new_shape": "ints"},
    "SqueezeOptions": {"squeeze_dims": "ints"},
    "ConcatenationOptions": {"axis": "int", "fused_activation_function": _ACTIVATION},
    "StridedSliceOptions": {
        "begin_mask": "int", "end_mask": "int", "ellipsis_mask": "int",
        "new_axis_mask": "int", "shrink_axis_mask": "int", "offset": "bool"},
    "SplitOptions": {"num_splits": "int"},
    "SplitVOptions": {"num_splits": "int"},
    "LeakyReluOptions": {"alpha": "float"},
    "ReducerOptions": {"keep_dims": "bool"},
    "PadOptions": {},
    "PadV2Options": {},
    "MirrorPadOptions": {"mode": _MIRROR_PAD_MODE},
    "TransposeOptions": {},
    "ExpandDimsOptions": {},
    "MaximumMinimumOptions": {},
    "QuantizeOptions": {},
    "DequantizeOptions": {},
    "HardSwishOptions": {},
    "GatherOptions": {"axis": "int", "batch_dims": "int"},
    "GatherNdOptions": {},
    "ArgMaxOptions": {"output_type": _TENSOR_TYPE},
    "ArgMinOptions": {"output_type": _TENSOR_TYPE},
    "BatchMatMulOptions": {"adj_x": "bool", "adj_y": "bool", "asymmetric_quantize_inputs": "bool"},
    "PackOptions": {"values_count": "int", "axis": "int"},
    "UnpackOptions": {"num": "int", "axis": "int"},
    "ResizeBilinearOptions": {"align_corners": "bool", "half_pixel_centers": "bool"},
    "ResizeNearestNeighborOptions": {"align_corners": "bool", "half_pixel_centers": "bool"},
    "SpaceToDepthOptions": {"block_size": "int"},
    "DepthToSpaceOptions": {"block_size": "int"},
    "BatchToSpaceNDOptions": {},
    "SpaceToBatchNDOptions": {},
    "SquaredDifferenceOptions": {},
    "ShapeOptions": {"out_type": _TENSOR_TYPE},
    "SliceOptions": {},
    "TileOptions": {},
    "ExpOptions": {},
    "CastOptions": {"in_data_type": _TENSOR_TYPE, "out_data_type": _TENSOR_TYPE},
    "FloorDivOptions": {},
    "FloorModOptions": {},
    "SelectOptions": {},
    "SelectV2Options": {},
    "EqualOptions": {},
    "NotEqualOptions": {},
    "LessOptions": {},
    "LessEqualOptions": {},
    "GreaterOptions": {},
    "GreaterEqualOptions": {},
    "ZerosLikeOptions": {},
    "FillOptions": {},
    "AbsOptions": {},
    "NegOptions": {},
    "SquareOptions": {},
    "PowOptions": {},
    "LogicalAndOptions": {},
    "LogicalOrOptions": {},
    "LogicalNotOptions": {},
    "ReverseV2Options": {},
    "CumsumOptions": {"exclusive": "bool", "reverse": "bool"},
    "BroadcastToOptions": {},
    "SVDFOptions": {"rank": "int", "fused_activation_function": _ACTIVATION,
                    "asymmetric_quantize_inputs": "bool"},
    "UnidirectionalSequenceLSTMOptions": {
        "fused_activation_function": _ACTIVATION, "cell_clip": "float", "proj_clip": "float",
        "time_major": "bool", "asymmetric_quantize_inputs": "bool",
        "diagonal_recurrent_tensors": "bool"},
    "IfOptions": {"then_subgraph_index": "int", "else_subgraph_index": "int"},
    "WhileOptions": {"cond_subgraph_index": "int", "body_subgraph_index": "int"},
    "CallOnceOptions": {"init_subgraph_index": "int"},
    "VarHandleOptions": {"container": "str", "shared_name": "str"},
    "ReadVariableOptions": {},
    "AssignVariableOptions": {},
}

#: BuiltinOperator name -> its builtin options table (the union member). Builtin ops not
#: listed here are written without options and accept none (LOGISTIC, TANH, RELU, RELU6,
#: RELU_N1_TO_1, PRELU, FLOOR, SQRT, ... have no options table in the schema).
OP_OPTIONS: dict[str, str] = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions", "FULLY_CONNECTED": "FullyConnectedOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions",
    "ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions",
    "L2_NORMALIZATION": "L2NormOptions",
    "SOFTMAX": "SoftmaxOptions", "LOG_SOFTMAX": "LogSoftmaxOptions",
    "RESHAPE": "ReshapeOptions", "SQUEEZE": "SqueezeOptions",
    "CONCATENATION": "ConcatenationOptions", "STRIDED_SLICE": "StridedSliceOptions",
    "SPLIT": "SplitOptions", "SPLIT_V": "SplitVOptions", "LEAKY_RELU": "LeakyReluOptions",
    "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions",
    "PAD": "PadOptions", "PADV2": "PadV2Options", "MIRROR_PAD": "MirrorPadOptions",
    "TRANSPOSE": "TransposeOptions", "EXPAND_DIMS": "ExpandDimsOptions",
    "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "QUANTIZE": "QuantizeOptions", "DEQUANTIZE": "DequantizeOptions",
    "HARD_SWISH": "HardSwishOptions",
    "GATHER": "GatherOptions", "GATHER_ND": "GatherNdOptions",
    "ARG_MAX": "ArgMaxOptions", "ARG_MIN": "ArgMinOptions",
    "BATCH_MATMUL": "BatchMatMulOptions", "PACK": "PackOptions", "UNPACK": "UnpackOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "SPACE_TO_DEPTH": "SpaceToDepthOptions", "DEPTH_TO_SPACE": "DepthToSpaceOptions",
    "BATCH_TO_SPACE_ND": "BatchToSpaceNDOptions", "SPACE_TO_BATCH_ND": "SpaceToBatchNDOptions",
    "SQUARED_DIFFERENCE": "SquaredDifferenceOptions", "SHAPE": "ShapeOptions",
    "SLICE": "SliceOptions", "TILE": "TileOptions", "EXP": "ExpOptions", "CAST": "CastOptions",
    "FLOOR_DIV": "FloorDivOptions", "FLOOR_MOD": "FloorModOptions",
    "SELECT": "SelectOptions", "SELECT_V2": "SelectV2Options",
    "EQUAL": "EqualOptions", "NOT_EQUAL": "NotEqualOptions", "LESS": "LessOptions",
    "LESS_EQUAL": "LessEqualOptions", "GREATER": "GreaterOptions",
    "GREATER_EQUAL": "GreaterEqualOptions",
    "ZEROS_LIKE": "ZerosLikeOptions", "FILL": "FillOptions", "ABS": "AbsOptions",
    "NEG": "NegOptions", "SQUARE": "SquareOptions", "POW": "PowOptions",
    "LOGICAL_AND": "LogicalAndOptions", "LOGICAL_OR": "LogicalOrOptions",
    "LOGICAL_NOT": "LogicalNotOptions", "REVERSE_V2": "ReverseV2Options",
    "CUMSUM": "CumsumOptions", "BROADCAST_TO": "BroadcastToOptions", "SVDF": "SVDFOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "IF": "IfOptions", "WHILE": "WhileOptions", "CALL_ONCE": "CallOnceOptions",
    "VAR_HANDLE": "VarHandleOptions", "READ_VARIABLE": "ReadVariableOptions",
    "ASSIGN_VARIABLE": "AssignVariableOptions",
}

# Ops whose options table is written only when options are given (as the MLIR converter
# does for RESHAPE, whose target shape usually comes from the second input).
_OPTIONS_ONLY_WHEN_GIVEN = frozenset({"RESHAPE"})

# Pool ops: their filter size has no usable default, so it must be given.
_REQUIRED: dict[str, tuple[str, ...]] = {
    op: ("filter_width", "filter_height")
    for op in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")}

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def flexbuffer_map(options: Mapping[str, int | bool]) -> bytes:
    """A custom operator's options as TFLite Micro's kernels read them: a FlexBuffers map
    (keys sorted by the format, which is the order TFLite Micro reads them by position).
    Values are ints or bools; anything else raises ValueError."""
    from flatbuffers import flexbuffers

    b = flexbuffers.Builder()
    with b.Map():
        for key, value in options.items():
            if isinstance(value, bool):
                b.Bool(key, value)
            elif isinstance(value, int | np.integer):
                b.Int(key, int(value))
            else:
                raise ValueError(f"custom option {key!r}: {value!r} is not an int or bool")
    return bytes(b.Finish())


def _camel(key: str) -> str:
    """snake_case option key -> the CamelCase used by the generated builder functions."""
    return "".join(p[:1].upper() + p[1:] for p in key.split("_"))


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    ttype: int
    data: bytes | None
    scale: list[float] | None
    zero_point: list[int] | None
    quantized_dimension: int
    shape_signature: list[int] | None
    is_variable: bool


@dataclass
class _Operator:
    op: str
    opcode_index: int
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] | None  # resolved (validated, defaults applied); None: no table
    custom_options: bytes | None


@dataclass
class _Subgraph:
    name: str
    tensors: list[_Tensor] = field(default_factory=list)
    operators: list[_Operator] = field(default_factory=list)
    inputs: list[int] | None = None
    outputs: list[int] | None = None


class ModelBuilder:
    """Assemble a model tensor by tensor and operator by operator, then `build()` it.

    Tensors and operators go to the current subgraph: the first one (``main``) until
    `add_subgraph()` starts another. Tensor indices are per subgraph.
    """

    def __init__(self, description: str = "utc test model"):
        self.description = description
        self._opcodes: list[tuple[int, int, str | None]] = []  # (builtin code, version, custom)
        self._subgraphs: list[_Subgraph] = [_Subgraph("main")]

    @property
    def _graph(self) -> _Subgraph:
        return self._subgraphs[-1]

    # ---- construction -----------------------------------------------------------------
    def add_tensor(self, name: str, shape: Sequence[int], dtype: str,
                   data: np.ndarray | None = None,
                   scale: float | Sequence[float] | None = None,
                   zero_point: int | Sequence[int] | None = None,
                   quantized_dimension: int = 0,
                   shape_signature: Sequence[int] | None = None,
                   *, is_variable: bool = False) -> int:
        """Add a tensor to the current subgraph and return its index.

        ``data`` makes it a constant (any array with the right element count, stored in
        C order; integer data must be exactly representable in ``dtype``). A scalar
        ``scale`` quantizes per tensor, a sequence per axis along ``quantized_dimension``;
        a scalar ``zero_point`` is repeated for every scale, an omitted one is 0.
        ``is_variable`` marks state tensors (SVDF, LSTM). The dtype ``"resource"`` makes
        a resource handle (VAR_HANDLE's output), which takes no data or quantization.
        """
        if dtype == RESOURCE:
            if data is not None or scale is not None:
                raise ValueError(f"tensor {name!r}: a resource handle holds no data or "
                                 "quantization")
            ttype, np_dtype = TensorType.RESOURCE, np.dtype(np.int32)
        elif dtype not in DTYPES:
            raise ValueError(f"tensor {name!r}: unknown dtype {dtype!r} (known: "
                             f"{sorted(DTYPES)} and {RESOURCE!r})")
        else:
            ttype, np_dtype = DTYPES[dtype]
        dims = [int(d) for d in shape]
        if any(d < 0 for d in dims):
            raise ValueError(f"tensor {name!r}: shape {dims} has a negative dimension "
                             "(put -1 in shape_signature instead)")
        payload = None if data is None else _encode_data(name, data, dims, np_dtype)

        scales = zps = None
        if scale is not None:
            scales = [float(s) for s in np.atleast_1d(np.asarray(scale, dtype=np.float64))]
            zps = [int(z) for z in np.atleast_1d(np.asarray(0 if zero_point is None else zero_point))]
            if len(zps) == 1 and len(scales) > 1:
                zps = zps * len(scales)
            if not scales or len(zps) != len(scales):
                raise ValueError(f"tensor {name!r}: {len(scales)} scales but {len(zps)} zero points")
            if len(scales) > 1:
                if not 0 <= quantized_dimension < len(dims):
                    raise ValueError(f"tensor {name!r}: quantized_dimension {quantized_dimension} "
                                     f"out of range for shape {dims}")
                if dims[quantized_dimension] != len(scales):
                    raise ValueError(f"tensor {name!r}: {len(scales)} scales for dimension "
                                     f"{quantized_dimension} of size {dims[quantized_dimension]}")
        elif zero_point is not None:
            raise ValueError(f"tensor {name!r}: zero_point given without scale")

        signature = None
        if shape_signature is not None:
            signature = [int(d) for d in shape_signature]
            if len(signature) != len(dims) or any(s not in (-1, d) for s, d in zip(signature, dims)):
                raise ValueError(f"tensor {name!r}: shape_signature {signature} does not match "
                                 f"shape {dims}")
        self._graph.tensors.append(_Tensor(name, dims, ttype, payload, scales, zps,
                                           int(quantized_dimension), signature, bool(is_variable)))
        return len(self._graph.tensors) - 1

    def add_operator(self, op: str, inputs: Sequence[int], outputs: Sequence[int],
                     options: dict | None = None, version: int = 1,
                     custom_code: str | None = None,
                     *, custom_options: bytes | None = None) -> None:
        """Append an operator to the current subgraph (operators run in insertion order).

        ``op`` is a BuiltinOperator name. A custom operator is ``op="CUSTOM"`` (or the
        custom name itself) with ``custom_code`` naming it, and optionally raw
        ``custom_options`` bytes. ``options`` are the builtin options in snake_case; see
        `OP_OPTIONS` and `OPTION_FIELDS` for what each op accepts. ``-1`` in ``inputs`` marks
        an absent optional input.
        """
        if custom_code is not None:
            if op not in ("CUSTOM", custom_code):
                raise ValueError(f"custom_code {custom_code!r} given for op {op!r}: "
                                 "use op='CUSTOM'")
            code, op = BuiltinOperator.CUSTOM, "CUSTOM"
        else:
            if op not in _OPERATORS:
                raise ValueError(f"unknown builtin operator {op!r}")
            if op == "CUSTOM":
                raise ValueError("a CUSTOM operator needs custom_code")
            code = _OPERATORS[op]
            if custom_options is not None:
                raise ValueError(f"custom_options given for builtin operator {op}")
        if int(version) < 1:
            raise ValueError(f"{op}: operator version must be >= 1, got {version}")
        ins = [int(i) for i in inputs]
        outs = [int(i) for i in outputs]
        count = len(self._graph.tensors)
        for role, indices, allow_absent in (("input", ins, True), ("output", outs, False)):
            for i in indices:
                if not (0 <= i < count or (allow_absent and i == -1)):
                    raise ValueError(f"{op}: {role} tensor index {i} out of range "
                                     f"(subgraph has {count} tensors)")
        resolved = self._resolve_options(op, dict(options or {}), ins, outs)

        key = (code, int(version), custom_code)
        if key not in self._opcodes:
            self._opcodes.append(key)
        self._graph.operators.append(_Operator(op, self._opcodes.index(key), ins, outs, resolved,
                                               None if custom_options is None
                                               else bytes(custom_options)))

    def add_subgraph(self) -> int:
        """Start a new, empty subgraph (for IF/WHILE bodies or multi-subgraph tests).

        Later tensors and operators go into it; `set_subgraph_io` sets its inputs and
        outputs. Returns its index (for IfOptions etc.).
        """
        self._subgraphs.append(_Subgraph(f"subgraph_{len(self._subgraphs)}"))
        return len(self._subgraphs) - 1

    def set_subgraph_io(self, inputs: Sequence[int], outputs: Sequence[int]) -> None:
        """Set the inputs and outputs of the current subgraph (the first one's come from
        `build`)."""
        self._check_io(self._graph, inputs, outputs)
        self._graph.inputs = [int(i) for i in inputs]
        self._graph.outputs = [int(i) for i in outputs]

    # ---- options ------------------------------------------------------------------------
    def _resolve_options(self, op: str, options: dict[str, Any], inputs: list[int],
                         outputs: list[int]) -> dict[str, Any] | None:
        """Validate option keys and values, fill the convenience defaults, and return the
        fields to write (None: write no options table)."""
        table = OP_OPTIONS.get(op)
        if table is None:
            if options:
                raise ValueError(f"{op} takes no builtin options, got {sorted(options)}")
            return None
        if op in _OPTIONS_ONLY_WHEN_GIVEN and not options:
            return None
        spec = OPTION_FIELDS[table]
        unknown = sorted(set(options) - set(spec))
        if unknown:
            raise ValueError(f"{op} ({table}) has no option(s) {unknown}; known: {sorted(spec)}")
        missing = [k for k in _REQUIRED.get(op, ()) if k not in options]
        if missing:
            raise ValueError(f"{op} needs option(s) {missing}")
        for key, default in _CONVENIENCE_DEFAULTS.get(op, {}).items():
            if key not in options:
                value = default(self, inputs, outputs) if callable(default) else default
                if value is not None:
                    options[key] = value
        return {key: _check_value(op, key, spec[key], value) for key, value in options.items()}

    def _depth_multiplier(self, inputs: list[int], outputs: list[int]) -> int | None:
        """DEPTHWISE_CONV_2D's multiplier from the shapes: filter channels / input channels."""
        if len(inputs) < 2 or min(inputs[:2]) < 0:
            return None
        x, w = (self._graph.tensors[i].shape for i in inputs[:2])
        if len(x) != 4 or len(w) != 4 or x[3] == 0 or w[3] % x[3]:
            return None
        return w[3] // x[3]

    # ---- serialisation ----------------------------------------------------------------
    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        """Serialise the model; ``inputs``/``outputs`` are the first subgraph's. The
        builder stays usable (build is repeatable and does not change it)."""
        self._check_io(self._subgraphs[0], inputs, outputs)
        b = flatbuffers.Builder(4096)

        # Buffer 0 is the empty sentinel; then one buffer per tensor, in subgraph order.
        buffer_of: list[list[int]] = []
        payloads: list[bytes | None] = [None]
        for g in self._subgraphs:
            buffer_of.append([])
            for t in g.tensors:
                buffer_of[-1].append(len(payloads))
                payloads.append(t.data)
        buffers = []
        for payload in payloads:
            data = _aligned_byte_vector(b, payload, 16) if payload else None
            tflite.BufferStart(b)
            if data is not None:
                tflite.BufferAddData(b, data)
            buffers.append(tflite.BufferEnd(b))

        codes = []
        for code, version, custom in self._opcodes:
            custom_name = b.CreateString(custom) if custom is not None else None
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            if custom_name is not None:
                tflite.OperatorCodeAddCustomCode(b, custom_name)
            codes.append(tflite.OperatorCodeEnd(b))

        graphs = []
        for gi, g in enumerate(self._subgraphs):
            ins = list(inputs) if gi == 0 else (g.inputs or [])
            outs = list(outputs) if gi == 0 else (g.outputs or [])
            graphs.append(_build_subgraph(b, g, buffer_of[gi], ins, outs))

        description = b.CreateString(self.description)
        codes_v = _offset_vector(b, tflite.ModelStartOperatorCodesVector, codes)
        graphs_v = _offset_vector(b, tflite.ModelStartSubgraphsVector, graphs)
        buffers_v = _offset_vector(b, tflite.ModelStartBuffersVector, buffers)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_v)
        tflite.ModelAddSubgraphs(b, graphs_v)
        tflite.ModelAddDescription(b, description)
        tflite.ModelAddBuffers(b, buffers_v)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    @staticmethod
    def _check_io(g: _Subgraph, inputs: Sequence[int], outputs: Sequence[int]) -> None:
        for role, indices in (("input", inputs), ("output", outputs)):
            for i in indices:
                if not 0 <= int(i) < len(g.tensors):
                    raise ValueError(f"subgraph {g.name}: {role} tensor index {i} out of range "
                                     f"({len(g.tensors)} tensors)")


#: op -> {key: value or callable(builder, inputs, outputs) -> value | None}, applied when
#: the key is omitted because the schema default is not a usable value.
_CONVENIENCE_DEFAULTS: dict[str, dict[str, Any]] = {
    **{op: {"stride_w": 1, "stride_h": 1}
       for op in ("CONV_2D", "TRANSPOSE_CONV", "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")},
    "DEPTHWISE_CONV_2D": {"stride_w": 1, "stride_h": 1,
                          "depth_multiplier": ModelBuilder._depth_multiplier},
    "SOFTMAX": {"beta": 1.0},
    "SPLIT": {"num_splits": lambda _b, _i, outs: len(outs)},
    "SPLIT_V": {"num_splits": lambda _b, _i, outs: len(outs)},
    "PACK": {"values_count": lambda _b, ins, _o: len(ins)},
    "UNPACK": {"num": lambda _b, _i, outs: len(outs)},
}


def _check_value(op: str, key: str, kind: _Kind, value: Any) -> Any:
    """Validate one option value against its kind and return the value to write."""
    where = f"{op} option {key}"
    if isinstance(kind, Mapping):
        if isinstance(value, str):
            if value not in kind:
                raise ValueError(f"{where}: unknown value {value!r} (known: {sorted(kind)})")
            return kind[value]
        if isinstance(value, int | np.integer) and not isinstance(value, bool) \
                and int(value) in kind.values():
            return int(value)
        raise ValueError(f"{where}: {value!r} is not one of {sorted(kind)}")
    if kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{where}: expected a bool, got {value!r}")
        return bool(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                or not _INT32_MIN <= int(value) <= _INT32_MAX:
            raise ValueError(f"{where}: expected an int32, got {value!r}")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if kind == "ints":
        if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
            raise ValueError(f"{where}: expected a sequence of ints, got {value!r}")
        return [_check_value(op, key, "int", v) for v in value]
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    raise AssertionError(f"unknown option kind {kind!r}")  # a bug in OPTION_FIELDS


def _encode_data(name: str, data: np.ndarray, dims: list[int], np_dtype: np.dtype) -> bytes:
    """Constant data as little-endian bytes, refusing values the dtype cannot hold."""
    arr = np.asarray(data)
    expected = int(np.prod(dims, dtype=np.int64))
    if arr.size != expected:
        raise ValueError(f"tensor {name!r}: data has {arr.size} elements, shape {dims} "
                         f"needs {expected}")
    if np_dtype.kind in "iub":
        if arr.dtype.kind not in "iub" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise ValueError(f"tensor {name!r}: non-integer data for dtype {np_dtype}")
        cast = arr.astype(np_dtype)
        if not np.array_equal(cast, arr):
            raise ValueError(f"tensor {name!r}: data does not fit dtype {np_dtype} "
                             f"(range {arr.min()}..{arr.max()})")
    else:
        cast = arr.astype(np_dtype)
    return np.ascontiguousarray(cast.reshape(-1)).astype(np_dtype.newbyteorder("<")).tobytes()


def _aligned_byte_vector(b: flatbuffers.Builder, data: bytes, alignment: int) -> int:
    """A [ubyte] vector whose first byte is `alignment`-aligned in the final buffer
    (the schema's force_align on Buffer.data; kernels read int32/float data in place)."""
    b.StartVector(1, len(data), alignment)
    b.head = b.head - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return b.EndVector()


def _offset_vector(b: flatbuffers.Builder, start: Callable[[flatbuffers.Builder, int], Any],
                   items: Sequence[int]) -> int:
    """A vector of table offsets (items in order)."""
    start(b, len(items))
    for x in reversed(items):
        b.PrependUOffsetTRelative(x)
    return b.EndVector()


def _scalar_vector(b: flatbuffers.Builder, start: Callable[[flatbuffers.Builder, int], Any],
                   values: Sequence[Any], prepend: Callable[[Any], None]) -> int:
    """A vector of scalars (values in order), written with the given Prepend method."""
    start(b, len(values))
    for v in reversed(values):
        prepend(v)
    return b.EndVector()


def _build_quantization(b: flatbuffers.Builder, t: _Tensor) -> int:
    scale = zero_point = None
    if t.scale is not None:
        scale = _scalar_vector(b, tflite.QuantizationParametersStartScaleVector, t.scale,
                               b.PrependFloat32)
        zero_point = _scalar_vector(b, tflite.QuantizationParametersStartZeroPointVector,
                                    t.zero_point or [], b.PrependInt64)
    tflite.QuantizationParametersStart(b)
    if scale is not None:
        tflite.QuantizationParametersAddScale(b, scale)
        tflite.QuantizationParametersAddZeroPoint(b, zero_point)
        tflite.QuantizationParametersAddQuantizedDimension(b, t.quantized_dimension)
    return tflite.QuantizationParametersEnd(b)


def _build_options(b: flatbuffers.Builder, op: _Operator) -> tuple[int, int]:
    """The builtin options table of `op` and its union type."""
    table = OP_OPTIONS[op.op]
    assert op.options is not None
    vectors = {}  # vectors and strings are written before the table that points to them
    for key, value in op.options.items():
        if isinstance(value, list):
            start = getattr(tflite, f"{table}Start{_camel(key)}Vector")
            vectors[key] = _scalar_vector(b, start, value, b.PrependInt32)
        elif isinstance(value, str):
            vectors[key] = b.CreateString(value)
    getattr(tflite, f"{table}Start")(b)
    for key, value in op.options.items():
        getattr(tflite, f"{table}Add{_camel(key)}")(b, vectors.get(key, value))
    return getattr(tflite, f"{table}End")(b), _UNION_TYPES[table]


def _build_subgraph(b: flatbuffers.Builder, g: _Subgraph, buffers: list[int],
                    inputs: Sequence[int], outputs: Sequence[int]) -> int:
    tensors = []
    for t, buffer in zip(g.tensors, buffers):
        name = b.CreateString(t.name)
        shape = _scalar_vector(b, tflite.TensorStartShapeVector, t.shape, b.PrependInt32)
        signature = (None if t.shape_signature is None else
                     _scalar_vector(b, tflite.TensorStartShapeSignatureVector, t.shape_signature,
                                    b.PrependInt32))
        quantization = _build_quantization(b, t)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        if signature is not None:
            tflite.TensorAddShapeSignature(b, signature)
        tflite.TensorAddType(b, t.ttype)
        tflite.TensorAddBuffer(b, buffer)
        tflite.TensorAddName(b, name)
        tflite.TensorAddQuantization(b, quantization)
        if t.is_variable:
            tflite.TensorAddIsVariable(b, True)
        tensors.append(tflite.TensorEnd(b))

    operators = []
    for op in g.operators:
        options = _build_options(b, op) if op.options is not None else None
        custom = (None if op.custom_options is None else
                  _scalar_vector(b, tflite.OperatorStartCustomOptionsVector,
                                 list(op.custom_options), b.PrependUint8))
        ins = _scalar_vector(b, tflite.OperatorStartInputsVector, op.inputs, b.PrependInt32)
        outs = _scalar_vector(b, tflite.OperatorStartOutputsVector, op.outputs, b.PrependInt32)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, op.opcode_index)
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, options[1])
            tflite.OperatorAddBuiltinOptions(b, options[0])
        if custom is not None:
            tflite.OperatorAddCustomOptions(b, custom)
        operators.append(tflite.OperatorEnd(b))

    name = b.CreateString(g.name)
    tensors_v = _offset_vector(b, tflite.SubGraphStartTensorsVector, tensors)
    operators_v = _offset_vector(b, tflite.SubGraphStartOperatorsVector, operators)
    inputs_v = _scalar_vector(b, tflite.SubGraphStartInputsVector, list(inputs), b.PrependInt32)
    outputs_v = _scalar_vector(b, tflite.SubGraphStartOutputsVector, list(outputs), b.PrependInt32)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_v)
    tflite.SubGraphAddOperators(b, operators_v)
    tflite.SubGraphAddInputs(b, inputs_v)
    tflite.SubGraphAddOutputs(b, outputs_v)
    tflite.SubGraphAddName(b, name)
    return tflite.SubGraphEnd(b)
