"""Test-only TFLite flatbuffer writer.

Builds single- and multi-operator models for tests (and the bundled example) with the
`tflite` package's generated builder functions. Buffer 0 is the empty sentinel and
operator codes carry both the deprecated and the extended builtin code, as real
converters write them, so the models load in TFLite Micro and LiteRT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.Padding import Padding
from tflite.TensorType import TensorType

_DTYPES = {
    "float32": (TensorType.FLOAT32, np.float32), "int8": (TensorType.INT8, np.int8),
    "int16": (TensorType.INT16, np.int16), "int32": (TensorType.INT32, np.int32),
    "int64": (TensorType.INT64, np.int64), "uint8": (TensorType.UINT8, np.uint8),
    "bool": (TensorType.BOOL, np.bool_),
}

#: op -> options table name (the union member); ops absent here take no options.
_OPTIONS = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions", "AVERAGE_POOL_2D": "Pool2DOptions",
    "MAX_POOL_2D": "Pool2DOptions", "ADD": "AddOptions", "SUB": "SubOptions",
    "MUL": "MulOptions", "SOFTMAX": "SoftmaxOptions", "RESHAPE": "ReshapeOptions",
    "SQUEEZE": "SqueezeOptions", "CONCATENATION": "ConcatenationOptions",
    "STRIDED_SLICE": "StridedSliceOptions", "SPLIT": "SplitOptions",
    "LEAKY_RELU": "LeakyReluOptions", "MEAN": "ReducerOptions", "PAD": "PadOptions",
    "PADV2": "PadV2Options", "TRANSPOSE": "TransposeOptions",
    "EXPAND_DIMS": "ExpandDimsOptions", "MAXIMUM": "MaximumMinimumOptions",
    "MINIMUM": "MaximumMinimumOptions", "QUANTIZE": "QuantizeOptions",
    "DEQUANTIZE": "DequantizeOptions", "HARD_SWISH": "HardSwishOptions",
}
_ENUMS = {
    "padding": {k: v for k, v in vars(Padding).items() if not k.startswith("_")},
    "fused_activation_function": {k: v for k, v in vars(ActivationFunctionType).items()
                                  if not k.startswith("_")},
}


def _camel(key: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in key.split("_"))


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    ttype: int
    buffer: int
    scale: list[float] | None
    zero_point: list[int] | None
    quantized_dimension: int
    shape_signature: list[int] | None


@dataclass
class _Operator:
    opcode: int
    inputs: list[int]
    outputs: list[int]
    options: dict
    op: str


@dataclass
class _Subgraph:
    tensors: list[_Tensor] = field(default_factory=list)
    operators: list[_Operator] = field(default_factory=list)


class ModelBuilder:
    """Assemble a model tensor by tensor and operator by operator, then `build()`."""

    def __init__(self, description: str = "utc test model"):
        self.description = description
        self.buffers: list[bytes] = [b""]
        self.opcodes: list[tuple[int, int, str | None]] = []
        self.subgraphs: list[_Subgraph] = [_Subgraph()]

    @property
    def _graph(self) -> _Subgraph:
        return self.subgraphs[-1]

    def add_tensor(self, name: str, shape: Sequence[int], dtype: str,
                   data: np.ndarray | None = None,
                   scale: float | Sequence[float] | None = None,
                   zero_point: int | Sequence[int] | None = None,
                   quantized_dimension: int = 0,
                   shape_signature: Sequence[int] | None = None) -> int:
        if dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}")
        ttype, np_type = _DTYPES[dtype]
        buffer = 0
        if data is not None:
            arr = np.asarray(data, dtype=np_type)
            if arr.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"data for {name} has {arr.size} elements, shape {list(shape)}")
            self.buffers.append(arr.astype(np.dtype(np_type).newbyteorder("<")).tobytes())
            buffer = len(self.buffers) - 1
        scales = None if scale is None else [float(s) for s in np.atleast_1d(scale)]
        zps = None
        if scales is not None:
            zps = [int(z) for z in np.atleast_1d(zero_point if zero_point is not None else 0)]
            if len(zps) == 1 and len(scales) > 1:
                zps = zps * len(scales)
        self._graph.tensors.append(_Tensor(name, [int(d) for d in shape], ttype, buffer, scales,
                                           zps, quantized_dimension,
                                           None if shape_signature is None
                                           else [int(d) for d in shape_signature]))
        return len(self._graph.tensors) - 1

    def add_operator(self, op: str, inputs: Sequence[int], outputs: Sequence[int],
                     options: dict | None = None, version: int = 1,
                     custom_code: str | None = None) -> None:
        if custom_code is None and op not in vars(BuiltinOperator):
            raise ValueError(f"unknown builtin operator {op!r}")
        code = BuiltinOperator.CUSTOM if custom_code is not None else vars(BuiltinOperator)[op]
        options = dict(options or {})
        if options and op not in _OPTIONS:
            raise ValueError(f"{op} takes no options, got {sorted(options)}")
        if op in _OPTIONS:
            table = _OPTIONS[op]
            for key in options:
                if not hasattr(tflite, f"{table}Add{_camel(key)}"):
                    raise ValueError(f"{op} has no option {key!r}")
        key = (code, version, custom_code)
        if key not in self.opcodes:
            self.opcodes.append(key)
        self._graph.operators.append(_Operator(self.opcodes.index(key), list(inputs),
                                               list(outputs), options, op))

    def add_subgraph(self) -> None:
        self.subgraphs.append(_Subgraph())

    # ---- serialisation ------------------------------------------------------------------
    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        b = flatbuffers.Builder(1024)

        def int_vector(start, values, dtype="int32"):
            start(b, len(values))
            for v in reversed(values):
                {"int32": b.PrependInt32, "int64": b.PrependInt64, "float32": b.PrependFloat32,
                 "uint8": b.PrependUint8}[dtype](v)
            return b.EndVector()

        buffers = []
        for data in self.buffers:
            vec = b.CreateByteVector(data) if data else None
            tflite.BufferStart(b)
            if vec is not None:
                tflite.BufferAddData(b, vec)
            buffers.append(tflite.BufferEnd(b))
        codes = []
        for code, version, custom in self.opcodes:
            custom_off = b.CreateString(custom) if custom is not None else None
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            if custom_off is not None:
                tflite.OperatorCodeAddCustomCode(b, custom_off)
            codes.append(tflite.OperatorCodeEnd(b))
        graphs = []
        for gi, g in enumerate(self.subgraphs):
            graphs.append(self._build_graph(b, g, inputs if gi == 0 else [],
                                            outputs if gi == 0 else [], int_vector))
        desc = b.CreateString(self.description)
        vec = lambda start, items: (start(b, len(items)),  # noqa: E731
                                    [b.PrependUOffsetTRelative(x) for x in reversed(items)],
                                    b.EndVector())[2]
        codes_v = vec(tflite.ModelStartOperatorCodesVector, codes)
        graphs_v = vec(tflite.ModelStartSubgraphsVector, graphs)
        buffers_v = vec(tflite.ModelStartBuffersVector, buffers)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_v)
        tflite.ModelAddSubgraphs(b, graphs_v)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buffers_v)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _build_graph(self, b, g: _Subgraph, inputs, outputs, int_vector) -> int:
        tensors = []
        for t in g.tensors:
            name = b.CreateString(t.name)
            shape = int_vector(tflite.TensorStartShapeVector, t.shape)
            sig = (int_vector(tflite.TensorStartShapeSignatureVector, t.shape_signature)
                   if t.shape_signature is not None else None)
            quant = None
            if t.scale is not None:
                scale = int_vector(tflite.QuantizationParametersStartScaleVector, t.scale, "float32")
                zp = int_vector(tflite.QuantizationParametersStartZeroPointVector, t.zero_point,
                                "int64")
                tflite.QuantizationParametersStart(b)
                tflite.QuantizationParametersAddScale(b, scale)
                tflite.QuantizationParametersAddZeroPoint(b, zp)
                tflite.QuantizationParametersAddQuantizedDimension(b, t.quantized_dimension)
                quant = tflite.QuantizationParametersEnd(b)
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape)
            if sig is not None:
                tflite.TensorAddShapeSignature(b, sig)
            tflite.TensorAddType(b, t.ttype)
            tflite.TensorAddBuffer(b, t.buffer)
            tflite.TensorAddName(b, name)
            if quant is not None:
                tflite.TensorAddQuantization(b, quant)
            tensors.append(tflite.TensorEnd(b))
        ops = []
        for op in g.operators:
            opts, opts_type = self._build_options(b, op)
            ins = int_vector(tflite.OperatorStartInputsVector, op.inputs)
            outs = int_vector(tflite.OperatorStartOutputsVector, op.outputs)
            tflite.OperatorStart(b)
            tflite.OperatorAddOpcodeIndex(b, op.opcode)
            tflite.OperatorAddInputs(b, ins)
            tflite.OperatorAddOutputs(b, outs)
            if opts is not None:
                tflite.OperatorAddBuiltinOptionsType(b, opts_type)
                tflite.OperatorAddBuiltinOptions(b, opts)
            ops.append(tflite.OperatorEnd(b))
        tensors_v = self._offsets(b, tflite.SubGraphStartTensorsVector, tensors)
        ops_v = self._offsets(b, tflite.SubGraphStartOperatorsVector, ops)
        ins_v = int_vector(tflite.SubGraphStartInputsVector, list(inputs))
        outs_v = int_vector(tflite.SubGraphStartOutputsVector, list(outputs))
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_v)
        tflite.SubGraphAddOperators(b, ops_v)
        tflite.SubGraphAddInputs(b, ins_v)
        tflite.SubGraphAddOutputs(b, outs_v)
        return tflite.SubGraphEnd(b)

    @staticmethod
    def _offsets(b, start, items) -> int:
        start(b, len(items))
        for x in reversed(items):
            b.PrependUOffsetTRelative(x)
        return b.EndVector()

    def _build_options(self, b, op: _Operator):
        table = _OPTIONS.get(op.op)
        if table is None:
            return None, 0
        vectors = {}
        for key, value in op.options.items():
            if isinstance(value, list | tuple | np.ndarray):
                start = getattr(tflite, f"{table}Start{_camel(key)}Vector")
                start(b, len(value))
                for v in reversed(list(value)):
                    b.PrependInt32(int(v))
                vectors[key] = b.EndVector()
        getattr(tflite, f"{table}Start")(b)
        for key, value in op.options.items():
            add = getattr(tflite, f"{table}Add{_camel(key)}")
            if key in vectors:
                add(b, vectors[key])
            elif key in _ENUMS:
                add(b, _ENUMS[key][value] if isinstance(value, str) else int(value))
            elif isinstance(value, bool):
                add(b, value)
            elif isinstance(value, float):
                add(b, value)
            else:
                add(b, int(value))
        return getattr(tflite, f"{table}End")(b), vars(BuiltinOptions)[table]
