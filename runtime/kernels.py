"""The kernel table: one record per runtime kernel, beside the C++ it describes.

A record says which op (class and dtype) the kernel implements, under which constraints,
with how much scratch memory, which files it needs and which template renders its call,
and which memory sharing its access order allows: `in_place` (the output may reuse an
input's buffer) and `overlap` (a sliding-window output may start below its dying input).
The table sits below both the passes (kernel selection, in-place and overlap planning)
and code generation, so those facts have one home and no pass keys on kernel names.

Adding a kernel is one `Kernel(...)` row here, its C++ files in `runtime/` and a macro in
the family's template under `codegen/templates/kernels/`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from utc.compiler.ir import Operation, Value, is_quantized
from utc.dialects import func, fused, qnn, tensor

#: The buffers of one call by the field names of the kernel's op ('input', 'filter',
#: 'bias', 'lhs', 'output', ...): a Value, a list for a variadic field, None when absent.
Fields = dict[str, "Value | list[Value] | None"]
#: (fields, kernel parameters, output elements) -> multiply-accumulates, or for kernels
#: without MACs their basic arithmetic operations (0 for pure data movement).
CostFn = Callable[[Fields, dict, int], int]


def _shape(fields: Fields, key: str) -> tuple[int, ...]:
    value = fields.get(key)
    return tuple(value.type.shape) if isinstance(value, Value) else ()


def per_output(fields: Fields, params: dict, out: int) -> int:
    """One operation per output element: elementwise ops and activations."""
    return out


def no_compute(fields: Fields, params: dict, out: int) -> int:
    """Data movement: no arithmetic."""
    return 0


def conv_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: kh * kw * in_c MACs (filter [out_c, kh, kw, in_c])."""
    w = _shape(fields, "filter")
    return out * w[1] * w[2] * w[3] if len(w) == 4 else out


def depthwise_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: kh * kw MACs (filter [1, kh, kw, out_c])."""
    w = _shape(fields, "filter")
    return out * w[1] * w[2] if len(w) == 4 else out


def fully_connected_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: depth MACs (weights [units, depth])."""
    w = _shape(fields, "weights")
    return out * w[1] if len(w) == 2 else out


def pool_ops(fields: Fields, params: dict, out: int) -> int:
    """Each output element: one operation per window element."""
    window = params.get("window")
    return out * int(window[0]) * int(window[1]) if isinstance(window, tuple | list) else out


def input_elements(fields: Fields, params: dict, out: int) -> int:
    """Reductions: one operation per input element."""
    x = _shape(fields, "input")
    return math.prod(x) if x else out


@dataclass(frozen=True)
class Kernel:
    name: str  # the C function the generated code calls
    op: type[Operation] | tuple[type[Operation], ...]
    dtype: str  # "int8", "float32" (the op's output element type) or "any"
    files: tuple[str, ...]  # runtime files (headers and sources) to copy into out/
    family: str  # template file codegen/templates/kernels/<family>.j2
    summary: str
    constraint: Callable[[Operation], str | None] = lambda op: None  # why not applicable
    scratch: Callable[[Operation], int] = lambda op: 0
    #: Operand fields whose buffer the output may reuse (an input of exactly the output's
    #: shape and bytes, `passes/planning/aliasing.py`): the kernel writes each output
    #: element after reading every input element it depends on, and reads an input of the
    #: output's shape only at indices not yet written. Its header states the contract.
    in_place: tuple[str, ...] = ()
    #: The output may partly overlap the data input, starting `min_overlap_offset` bytes
    #: below it (`passes/planning/overlap.py`): outputs written in increasing (batch, row,
    #: column, channel) order, output row `oy` reading only input rows >= `oy * stride_h -
    #: pad_top`, no `restrict` between them. The header's "Access order" comment states it
    #: and tests/unit/test_overlap.py checks it by running the kernel on overlapped buffers.
    overlap: bool = False
    #: Multiply-accumulates of one call (the report's MAC column, instructions/MAC).
    cost: CostFn = per_output

    @property
    def op_class(self) -> type[Operation]:
        """The op class whose operand and result fields name the call's buffers (every
        class a record lists shares one field layout)."""
        return self.op[0] if isinstance(self.op, tuple) else self.op

    def fields(self, inputs: Sequence[Value], outputs: Sequence[Value]) -> Fields:
        """The call's input and (non-scratch) output buffers by the op's field names."""
        out: Fields = {}
        cls = self.op_class
        for i, spec in enumerate(cls.operands):
            key = spec.rstrip("?*")
            if spec.endswith("*"):
                out[key] = list(inputs[i:])
                break
            out[key] = inputs[i] if i < len(inputs) else None
        for spec, value in zip(cls.results, outputs):
            out[spec.rstrip("?*")] = value
        return out


def needs_kernel(op: Operation) -> bool:
    """Ops that become kernel calls (constants, reshapes and returns do not)."""
    return not isinstance(op, tensor.ConstantOp | tensor.ReshapeOp | func.FuncOp | func.ReturnOp)


def op_dtype(op: Operation) -> str:
    element = op.result_values[0].type.element
    if is_quantized(element):
        return "int8"
    return {"f32": "float32", "i8": "int8", "i32": "int32"}.get(str(element), str(element))


def _files(*names: str) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        out += [f"{n}.h", f"{n}.cpp"]
    return tuple(out)


_S8 = ("utc_quant.h",)
_S8X = ("utc_quant.h", "utc_quant_ext.h")
_ACT_S8 = _files("utc_activation_s8")
_EW_F32 = _files("utc_elementwise_f32")
_MOVE = _files("utc_data_movement")
_ACT_F32 = _files("utc_elementwise_f32", "utc_activation_f32")


def _same_shapes_or_broadcast(op: Operation) -> str | None:
    if op.operand("lhs").type.rank > 6 or op.operand("rhs").type.rank > 6:
        return "more than 6 dimensions"
    return None


_BINARY = ("lhs", "rhs")
_UNARY = ("input",)  # PRELU: never over the broadcast alpha

KERNELS: list[Kernel] = [
    Kernel("utc_fully_connected_s8", qnn.FullyConnectedOp, "int8",
           _S8 + ("utc_kernel_util.h",) + _files("utc_fully_connected_s8"), "fully_connected",
           "int8 fully connected, per-tensor or per-channel requantization", cost=fully_connected_macs),
    Kernel("utc_fully_connected_f32", fused.FullyConnectedOp, "float32",
           _files("utc_fully_connected_f32"), "fully_connected", "float32 fully connected",
           cost=fully_connected_macs),
    Kernel("utc_conv2d_s8", qnn.Conv2DOp, "int8",
           _S8 + ("utc_kernel_util.h",) + _files("utc_conv2d_s8"), "conv",
           "int8 convolution, per-channel requantization", overlap=True, cost=conv_macs),
    Kernel("utc_depthwise_conv2d_s8", qnn.DepthwiseConv2DOp, "int8",
           _S8 + ("utc_kernel_util.h",) + _files("utc_depthwise_conv2d_s8"), "conv",
           "int8 depthwise convolution", overlap=True, cost=depthwise_macs),
    Kernel("utc_conv2d_f32", fused.Conv2DOp, "float32", _files("utc_conv_f32"), "conv",
           "float32 convolution", overlap=True, cost=conv_macs),
    Kernel("utc_depthwise_conv2d_f32", fused.DepthwiseConv2DOp, "float32",
           _files("utc_conv_f32"), "conv", "float32 depthwise convolution", overlap=True,
           cost=depthwise_macs),
    Kernel("utc_avg_pool_s8", qnn.AvgPool2DOp, "int8", _S8 + _files("utc_pool_s8"), "pool",
           "int8 average pooling", overlap=True, cost=pool_ops),
    Kernel("utc_max_pool_s8", qnn.MaxPool2DOp, "int8", _S8 + _files("utc_pool_s8"), "pool",
           "int8 max pooling", overlap=True, cost=pool_ops),
    Kernel("utc_avg_pool_f32", fused.AvgPool2DOp, "float32", _files("utc_misc_f32"), "pool",
           "float32 average pooling", overlap=True, cost=pool_ops),
    Kernel("utc_max_pool_f32", fused.MaxPool2DOp, "float32", _files("utc_misc_f32"), "pool",
           "float32 max pooling", overlap=True, cost=pool_ops),
    Kernel("utc_elementwise_add_s8", qnn.AddOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "elementwise", "int8 broadcasting addition", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_elementwise_sub_s8", qnn.SubOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "elementwise", "int8 broadcasting subtraction", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_elementwise_mul_s8", qnn.MulOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "elementwise", "int8 broadcasting multiplication", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_squared_difference_s8", qnn.SquaredDifferenceOp, "int8",
           _S8X + _files("utc_elementwise_s8"), "elementwise",
           "int8 broadcasting squared difference", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_elementwise_maximum_s8", tensor.MaximumOp, "int8",
           _S8X + _files("utc_elementwise_s8"), "elementwise", "int8 broadcasting maximum",
           constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_elementwise_minimum_s8", tensor.MinimumOp, "int8",
           _S8X + _files("utc_elementwise_s8"), "elementwise", "int8 broadcasting minimum",
           constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_add_f32", tensor.AddOp, "float32", _EW_F32, "elementwise",
           "float32 broadcasting addition", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_sub_f32", tensor.SubOp, "float32", _EW_F32, "elementwise",
           "float32 broadcasting subtraction", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_mul_f32", tensor.MulOp, "float32", _EW_F32, "elementwise",
           "float32 broadcasting multiplication", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_squared_difference_f32", tensor.SquaredDifferenceOp, "float32", _EW_F32,
           "elementwise", "float32 broadcasting squared difference",
           constraint=_same_shapes_or_broadcast, in_place=_BINARY),
    Kernel("utc_maximum_f32", tensor.MaximumOp, "float32", _EW_F32, "elementwise",
           "float32 broadcasting maximum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_minimum_f32", tensor.MinimumOp, "float32", _EW_F32, "elementwise",
           "float32 broadcasting minimum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY),
    Kernel("utc_mean_f32", tensor.MeanOp, "float32", _EW_F32, "reduce",
           "float32 mean over any axes", cost=input_elements),
    Kernel("utc_logistic_f32", tensor.LogisticOp, "float32", _ACT_F32, "activation",
           "float32 logistic", in_place=_UNARY),
    Kernel("utc_tanh_f32", tensor.TanhOp, "float32", _ACT_F32, "activation", "float32 tanh", in_place=_UNARY),
    Kernel("utc_clamp_f32", (tensor.ReluOp, tensor.Relu6Op, tensor.ReluN1To1Op), "float32",
           _ACT_F32, "activation", "float32 clamp (RELU, RELU6, RELU_N1_TO_1)", in_place=_UNARY),
    Kernel("utc_leaky_relu_f32", tensor.LeakyReluOp, "float32", _ACT_F32, "activation",
           "float32 leaky relu", in_place=_UNARY),
    Kernel("utc_hard_swish_f32", tensor.HardSwishOp, "float32", _ACT_F32, "activation",
           "float32 hard swish", in_place=_UNARY),
    Kernel("utc_prelu_f32", tensor.PreluOp, "float32", _ACT_F32, "activation",
           "float32 prelu with broadcast alpha", in_place=_UNARY),
    Kernel("utc_activation_requantize_s8", qnn.RequantizeOp, "int8", _S8X + _ACT_S8,
           "activation", "int8 rescale and clamp (RELU, RELU6, RELU_N1_TO_1, QUANTIZE)", in_place=_UNARY),
    Kernel("utc_activation_logistic_s8", qnn.LogisticOp, "int8", _S8X + _ACT_S8, "activation",
           "int8 logistic (gemmlowp fixed point)", in_place=_UNARY),
    Kernel("utc_activation_tanh_s8", qnn.TanhOp, "int8", _S8X + _ACT_S8, "activation",
           "int8 tanh (gemmlowp fixed point)", in_place=_UNARY),
    Kernel("utc_activation_hard_swish_s8", qnn.HardSwishOp, "int8", _S8X + _ACT_S8,
           "activation", "int8 hard swish", in_place=_UNARY),
    Kernel("utc_activation_leaky_relu_s8", qnn.LeakyReluOp, "int8", _S8X + _ACT_S8,
           "activation", "int8 leaky relu", in_place=_UNARY),
    Kernel("utc_activation_prelu_s8", qnn.PreluOp, "int8", _S8X + _ACT_S8, "activation",
           "int8 prelu with broadcast alpha", in_place=_UNARY),
    Kernel("utc_activation_quantize_f32_s8", qnn.QuantizeOp, "int8", _S8X + _ACT_S8,
           "activation", "float32 -> int8 quantization"),
    Kernel("utc_activation_dequantize_s8_f32", qnn.DequantizeOp, "float32", _S8X + _ACT_S8,
           "activation", "int8 -> float32 dequantization"),
    Kernel("utc_reduce_mean_s8", qnn.MeanOp, "int8", _S8 + _files("utc_reduce_s8"), "reduce",
           "int8 mean over any axes", cost=input_elements),
    Kernel("utc_pad", tensor.PadOp, "any", _MOVE, "data_movement",
           "constant padding (PAD, PADV2), any element type", cost=no_compute),
    Kernel("utc_concatenation", tensor.ConcatenationOp, "any", _MOVE, "data_movement",
           "concatenation along any axis, any element type", cost=no_compute),
    Kernel("utc_transpose", tensor.TransposeOp, "any", _MOVE, "data_movement",
           "transpose up to 6-D, any element type", cost=no_compute),
    Kernel("utc_strided_slice", tensor.StridedSliceOp, "any", _MOVE, "data_movement",
           "strided slice up to 6-D, any element type", cost=no_compute),
    Kernel("utc_split", tensor.SplitOp, "any", _MOVE, "data_movement",
           "split along any axis (SPLIT, SPLIT_V), any element type", cost=no_compute),
    Kernel("utc_softmax_s8", qnn.SoftmaxOp, "int8", _S8 + _files("utc_softmax_s8"), "softmax",
           "int8 softmax (fixed-point exp, TFLite Micro arithmetic)", in_place=_UNARY),
    Kernel("utc_softmax_f32", tensor.SoftmaxOp, "float32", _files("utc_misc_f32"), "softmax",
           "float32 softmax", in_place=_UNARY),
]

#: kernel name -> record
KERNELS_BY_NAME: dict[str, Kernel] = {k.name: k for k in KERNELS}
