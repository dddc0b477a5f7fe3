"""`tensor` dialect: value-semantics ops with TFLite's semantics and framework-neutral
names. The importer produces it; weights are `tensor.constant` ops backed by module
resources; quantization lives in the element types.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, ResourceRef, attr, operand, result

from .common import (
    PADDINGS,
    TRANSPOSE_CONV_PAD,
    TRANSPOSE_CONV_PAIR,
    Convolution,
    FullyConnected,
    ImplicitPadding,
    KernelChoice,
    NamedActivation,
    Pooling,
    broadcast_shape,
    check_activation,
    check_batch_matmul,
    check_broadcast_result,
    check_compute_types,
    check_fully_connected_shapes,
    check_rank,
    check_transpose_conv,
    check_weight_types,
    check_window_shapes,
    element_kind,
)
from .recurrent_math import check_lstm, check_svdf


class ConstantOp(Operation):
    """A constant tensor (weights, biases, shape operands) stored as a module resource."""

    name = "tensor.constant"
    result = result()
    value = attr(ResourceRef)


class _Conv(Convolution, ImplicitPadding, NamedActivation, Operation):
    window_kind = "conv"

    def verify_(self) -> None:
        if self.attrs["padding"] not in PADDINGS:
            raise self.error(f"padding must be SAME or VALID, got {self.attrs['padding']!r}")
        check_activation(self)
        check_rank(self, "input", 4)
        check_rank(self, "filter", 4)
        check_rank(self, "bias", 1)
        check_compute_types(self, "input", int16=True)
        check_weight_types(self, "filter")
        check_window_shapes(self, self.window_kind)


class Conv2DOp(_Conv):
    """2-D convolution, NHWC input, OHWI filter (TFLite CONV_2D)."""

    name = "tensor.conv2d"


class DepthwiseConv2DOp(_Conv):
    """Depthwise 2-D convolution, filter 1HWO with O = C * depth_multiplier."""

    name = "tensor.depthwise_conv2d"
    window_kind = "depthwise"
    depth_multiplier = attr(int)


class FullyConnectedOp(FullyConnected, NamedActivation, Operation):
    """y = x W^T + b over the last dimension (TFLite FULLY_CONNECTED)."""

    name = "tensor.fully_connected"
    keep_num_dims = attr(bool)

    def verify_(self) -> None:
        check_activation(self)
        check_rank(self, "weights", 2)
        check_rank(self, "bias", 1)
        check_compute_types(self, "input", int16=True)
        check_weight_types(self, "weights")
        check_fully_connected_shapes(self)


class _Pool(KernelChoice, Pooling, ImplicitPadding, NamedActivation, Operation):

    def verify_(self) -> None:
        if self.attrs["padding"] not in PADDINGS:
            raise self.error(f"padding must be SAME or VALID, got {self.attrs['padding']!r}")
        check_activation(self)
        check_rank(self, "input", 4)
        check_compute_types(self, "input", int16=True)
        check_window_shapes(self, "pool")


class AvgPool2DOp(_Pool):
    """Average pooling (TFLite AVERAGE_POOL_2D)."""

    name = "tensor.avg_pool2d"


class MaxPool2DOp(_Pool):
    """Max pooling (TFLite MAX_POOL_2D)."""

    name = "tensor.max_pool2d"


class _Binary(KernelChoice, NamedActivation, Operation):
    lhs = operand()
    rhs = operand()
    output = result()

    def verify_(self) -> None:
        check_activation(self)
        # int32: TFLite Micro's unquantized int32 ADD, SUB, MUL and DIV
        check_compute_types(self, "lhs", "rhs", int16=True, int32=True)
        check_broadcast_result(self, "lhs", "rhs")


class AddOp(_Binary):
    """Broadcasting addition with fused activation (TFLite ADD)."""

    name = "tensor.add"


class SubOp(_Binary):
    """Broadcasting subtraction with fused activation (TFLite SUB)."""

    name = "tensor.sub"


class MulOp(_Binary):
    """Broadcasting multiplication with fused activation (TFLite MUL)."""

    name = "tensor.mul"


class DivOp(_Binary):
    """Broadcasting division with fused activation (TFLite DIV): float32, int8 (TFLite
    Micro's fixed-point reciprocal, `lower-to-qnn`) or int32 (toward zero, as C++ and
    TFLite Micro)."""

    name = "tensor.div"

    def verify_(self) -> None:
        super().verify_()
        if element_kind(self.result.type.element) not in ("f32", "i32", "int8"):
            raise self.error(f"tensor.div is float32, int8 or int32 in utc, got "
                             f"{self.result.type}")


class ReshapeOp(Operation):
    """Same elements, new shape (the result type); RESHAPE, SQUEEZE, EXPAND_DIMS."""

    name = "tensor.reshape"
    operands = ("input",)
    results = ("output",)

    def verify_(self) -> None:
        src, dst = self.operand("input").type, self.result.type
        if src.num_elements != dst.num_elements:
            raise self.error(f"cannot reshape {src} into {dst}: element counts differ")
        if src.element != dst.element:
            raise self.error(f"reshape must keep the element type: {src} vs {dst}")


class SoftmaxOp(KernelChoice, Operation):
    """softmax(beta * x) over the last dimension (TFLite SOFTMAX)."""

    name = "tensor.softmax"
    operands = ("input",)
    results = ("output",)
    attributes = {"beta": float}

    def verify_(self) -> None:
        if (element_kind(self.operand("input").type.element), element_kind(
                self.result.type.element)) == ("int8", "int16"):
            # TFLite Micro's int8 -> int16 variant (its output quantization: the lowering)
            check_compute_types(self, "input", results=False)
        else:
            check_compute_types(self, "input", int16=True)
        x = self.operand("input").type
        if x.rank < 1 or x.shape != self.result.type.shape:
            raise self.error(f"softmax needs an output shaped like its input {x}, got "
                             f"{self.result.type}")


class _BroadcastBinary(KernelChoice, Operation):
    """Broadcasting binary op without a fused activation (int8, int16, float32, or plain
    int32 as TFLite Micro also runs them)."""

    operands = ("lhs", "rhs")
    results = ("output",)
    #: whether TFLite Micro also runs the op on plain int64 tensors (MAXIMUM, MINIMUM)
    int64 = False

    def verify_(self) -> None:
        check_compute_types(self, "lhs", "rhs", int16=True, int32=True, int64=self.int64)
        check_broadcast_result(self, "lhs", "rhs")


class MaximumOp(_BroadcastBinary):
    """Broadcasting elementwise maximum (TFLite MAXIMUM)."""

    name = "tensor.maximum"
    int64 = True


class MinimumOp(_BroadcastBinary):
    """Broadcasting elementwise minimum (TFLite MINIMUM)."""

    name = "tensor.minimum"
    int64 = True


class SquaredDifferenceOp(_BroadcastBinary):
    """Broadcasting (lhs - rhs)^2 (TFLite SQUARED_DIFFERENCE). No fused activation: TFLite's
    options table for it is empty."""

    name = "tensor.squared_difference"


class _Unary(KernelChoice, Operation):
    """Elementwise op on one tensor: same shape in and out (quantization may differ)."""

    operands = ("input",)
    results = ("output",)

    def verify_(self) -> None:
        if self.operand("input").type.shape != self.result.type.shape:
            raise self.error(f"shape changes from {self.operand('input').type} to "
                             f"{self.result.type}")
        self.verify_types()

    def verify_types(self) -> None:
        check_compute_types(self, "input", int16=True)


class LogisticOp(_Unary):
    """1 / (1 + exp(-x)) (TFLite LOGISTIC)."""

    name = "tensor.logistic"


class TanhOp(_Unary):
    """tanh(x) (TFLite TANH)."""

    name = "tensor.tanh"


class ReluOp(_Unary):
    """max(x, 0) (TFLite RELU)."""

    name = "tensor.relu"


class Relu6Op(_Unary):
    """min(max(x, 0), 6) (TFLite RELU6)."""

    name = "tensor.relu6"


class ReluN1To1Op(_Unary):
    """min(max(x, -1), 1) (TFLite RELU_N1_TO_1)."""

    name = "tensor.relu_n1_to_1"


class HardSwishOp(_Unary):
    """x * relu6(x + 3) / 6 (TFLite HARD_SWISH)."""

    name = "tensor.hard_swish"


class L2NormalizationOp(_Unary):
    """x / max(||x||_2, 1e-6) along the last dimension (TFLite L2_NORMALIZATION); int8
    output quantized with scale 1/128, zero point 0 (TFLite Micro's fixed output)."""

    name = "tensor.l2_normalization"


class LogSoftmaxOp(_Unary):
    """x - max - log(sum(exp(x - max))) along the last dimension (TFLite LOG_SOFTMAX)."""

    name = "tensor.log_softmax"


class LeakyReluOp(_Unary):
    """x >= 0 ? x : alpha * x (TFLite LEAKY_RELU)."""

    name = "tensor.leaky_relu"
    attributes = {"alpha": float}


class QuantizeOp(_Unary):
    """float32 -> int8/int16 quantization, or a requantization between int8 and int16
    (TFLite QUANTIZE)."""

    name = "tensor.quantize"

    def verify_types(self) -> None:
        kinds = (element_kind(self.operand("input").type.element),
                 element_kind(self.result.type.element))
        out = self.result.type.element
        if kinds[0] in ("int8", "int16") and hasattr(out, "zero_point") and \
                str(getattr(out, "storage", "")) == "i32":
            return  # TFLM's requantize into int32
        if kinds[0] not in ("int8", "int16", "f32") or kinds[1] not in ("int8", "int16"):
            raise self.error(f"quantizes float32, int8 or int16 into per-tensor int8 or int16, got "
                             f"{self.operand('input').type} -> {self.result.type}")


class DequantizeOp(_Unary):
    """int8 or int16 -> float32 (TFLite DEQUANTIZE)."""

    name = "tensor.dequantize"

    def verify_types(self) -> None:
        kinds = (element_kind(self.operand("input").type.element),
                 element_kind(self.result.type.element))
        if kinds not in (("int8", "f32"), ("int16", "f32")):
            raise self.error(f"dequantizes per-tensor int8 or int16 into float32, got "
                             f"{self.operand('input').type} -> {self.result.type}")


class _FloatMath(_Unary):
    """A float32-only elementwise function (TFLite Micro runs these on float32 only)."""

    def verify_types(self) -> None:
        check_compute_types(self, "input")
        if element_kind(self.result.type.element) != "f32":
            raise self.error(f"{self.name} is float32 only, got {self.result.type}")


class AbsOp(_FloatMath):
    """|x| (TFLite ABS); int8 becomes a 256-entry lookup table, int16 (16x8) `qnn.abs16`
    (`lower-to-qnn`)."""

    name = "tensor.abs"

    def verify_types(self) -> None:
        check_compute_types(self, "input", int16=True)


class NegOp(_FloatMath):
    """-x (TFLite NEG)."""

    name = "tensor.neg"


class FloorOp(_FloatMath):
    """Round toward minus infinity (TFLite FLOOR)."""

    name = "tensor.floor"


class CeilOp(_FloatMath):
    """Round toward plus infinity (TFLite CEIL)."""

    name = "tensor.ceil"


class RoundOp(_FloatMath):
    """Round half to even (banker's rounding, as tf.round) (TFLite ROUND)."""

    name = "tensor.round"


class SqrtOp(_FloatMath):
    """Square root (TFLite SQRT)."""

    name = "tensor.sqrt"


class RsqrtOp(_FloatMath):
    """1 / sqrt(x) (TFLite RSQRT); int8 becomes a 256-entry lookup table (`lower-to-qnn`)."""

    name = "tensor.rsqrt"

    def verify_types(self) -> None:
        check_compute_types(self, "input")


class ExpOp(_FloatMath):
    """E^x (TFLite EXP)."""

    name = "tensor.exp"


class LogOp(_FloatMath):
    """Natural logarithm (TFLite LOG)."""

    name = "tensor.log"


class PreluOp(KernelChoice, Operation):
    """x >= 0 ? x : alpha * x with a broadcast alpha tensor (TFLite PRELU)."""

    name = "tensor.prelu"
    operands = ("input", "alpha")
    results = ("output",)

    def verify_(self) -> None:
        check_compute_types(self, "input", "alpha")
        check_broadcast_result(self, "input", "alpha")


class MeanOp(KernelChoice, Operation):
    """Mean over `axes` (resolved, sorted, non-negative); the result type says whether the
    reduced dimensions are kept (TFLite MEAN)."""

    name = "tensor.mean"
    operands = ("input",)
    results = ("output",)
    attributes = {"axes": tuple}

    def verify_(self) -> None:
        rank = self.operand("input").type.rank
        axes = self.attrs["axes"]
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= rank:
            raise self.error(f"axes must be distinct sorted dimensions of rank {rank}, "
                             f"got {list(axes)}")
        check_compute_types(self, "input", int16=True)
        x = self.operand("input").type.shape
        kept = tuple(1 if k in axes else d for k, d in enumerate(x))
        dropped = tuple(d for k, d in enumerate(x) if k not in axes)
        if self.result.type.shape not in (kept, dropped):
            raise self.error(f"the mean of {list(x)} over axes {list(axes)} has shape "
                             f"{list(kept)} or {list(dropped)}, the model says {self.result.type}")


class PadOp(KernelChoice, Operation):
    """Constant padding: `pads` holds [before, after] per dimension and `value` the stored
    (int8 or float) padding element (TFLite PAD, PADV2)."""

    name = "tensor.pad"
    input = operand()
    output = result()
    pads = attr(tuple)
    value = attr((int, float))

    def verify_(self) -> None:
        x, y = self.input.type, self.result.type
        pads = self.pads
        if len(pads) != x.rank or any(len(p) != 2 or min(p) < 0 for p in pads):
            raise self.error(f"pads must be [before, after] >= 0 for each of {x.rank} "
                             f"dimensions, got {list(pads)}")
        want = tuple(d + b + a for d, (b, a) in zip(x.shape, pads))
        if want != y.shape:
            raise self.error(f"padding {x} by {list(pads)} gives {list(want)}, not {y}")
        check_compute_types(self, "input", int16=True)


class ConcatenationOp(KernelChoice, Operation):
    """Join tensors along `axis` (TFLite CONCATENATION)."""

    name = "tensor.concatenation"
    operands = ("inputs*",)
    results = ("output",)
    attributes = {"axis": int}

    def verify_(self) -> None:
        axis, y = self.attrs["axis"], self.result.type
        if not 0 <= axis < y.rank:
            raise self.error(f"axis {axis} out of range for {y}")
        total = 0
        for v in self.operand_values:
            s = v.type.shape
            if len(s) != y.rank or any(a != b for k, (a, b) in enumerate(zip(s, y.shape))
                                       if k != axis):
                raise self.error(f"input {v.type} does not fit output {y} on axis {axis}")
            total += s[axis]
        if total != y.shape[axis]:
            raise self.error(f"inputs sum to {total} along axis {axis}, output has "
                             f"{y.shape[axis]}")
        check_compute_types(self, "inputs", int16=True, int32=True, boolean=True, int64=True)


class TransposeOp(KernelChoice, Operation):
    """Permute dimensions: output dimension k is input dimension perm[k] (TFLite TRANSPOSE)."""

    name = "tensor.transpose"
    operands = ("input",)
    results = ("output",)
    attributes = {"perm": tuple}

    def verify_(self) -> None:
        x, y = self.operand("input").type, self.result.type
        perm = self.attrs["perm"]
        if sorted(perm) != list(range(x.rank)):
            raise self.error(f"perm {list(perm)} is not a permutation of {x.rank} dimensions")
        if tuple(x.shape[p] for p in perm) != y.shape:
            raise self.error(f"transposing {x} by {list(perm)} does not give {y}")
        check_compute_types(self, "input", int16=True)


class StridedSliceOp(KernelChoice, Operation):
    """A strided window of the input with every TFLite mask already resolved: `begin`,
    `strides` and `shape` are per input dimension (the result may drop shrunk dims)."""

    name = "tensor.strided_slice"
    operands = ("input",)
    results = ("output",)
    attributes = {"begin": tuple, "strides": tuple, "shape": tuple}

    def verify_(self) -> None:
        x = self.operand("input").type
        b, s, n = self.attrs["begin"], self.attrs["strides"], self.attrs["shape"]
        if not len(b) == len(s) == len(n) == x.rank:
            raise self.error(f"begin/strides/shape need {x.rank} entries each")
        for d, (b0, s0, n0) in enumerate(zip(b, s, n)):
            last = b0 + (n0 - 1) * s0
            if s0 == 0 or n0 < 0 or (n0 and not (0 <= b0 < x.shape[d] and 0 <= last < x.shape[d])):
                raise self.error(f"dimension {d}: slice begin {b0} stride {s0} count {n0} "
                                 f"leaves [0, {x.shape[d]})")
        count = 1
        for n0 in n:
            count *= n0
        if count != self.result.type.num_elements:
            raise self.error(f"slice of {list(n)} elements does not match {self.result.type}")
        check_compute_types(self, "input", int16=True, int32=True, boolean=True)


class BroadcastToOp(KernelChoice, Operation):
    """The input repeated along its size-1 (or missing leading) dimensions to the result's
    shape (TFLite BROADCAST_TO, and FILL with a computed value)."""

    name = "tensor.broadcast_to"
    operands = ("input",)
    results = ("output",)

    def verify_(self) -> None:
        x, y = self.operand("input").type, self.result.type
        lead = y.rank - x.rank
        if lead < 0 or any(d not in (1, y.shape[lead + k]) for k, d in enumerate(x.shape)):
            raise self.error(f"{x} does not broadcast to {y}")
        if x.element != y.element:
            raise self.error(f"broadcast must keep the element type: {x} vs {y}")
        check_compute_types(self, "input", int16=True, int32=True, int64=True)


class _ArgMinMax(KernelChoice, Operation):
    """The int32 index of the best input along `axis` (the axis is dropped from the shape)."""

    operands = ("input",)
    results = ("output",)
    attributes = {"axis": int}

    def verify_(self) -> None:
        x, y, axis = self.operand("input").type, self.result.type, self.attrs["axis"]
        if not 0 <= axis < x.rank:
            raise self.error(f"axis {axis} out of range for {x}")
        if y.shape != x.shape[:axis] + x.shape[axis + 1:]:
            raise self.error(f"reducing {x} over axis {axis} does not give {y}")
        if str(y.element) != "i32":
            raise self.error(f"the output must be int32, got {y}")
        check_compute_types(self, "input", results=False)


class ArgMaxOp(_ArgMinMax):
    """Index of the largest input along `axis`, the first on ties (TFLite ARG_MAX)."""

    name = "tensor.arg_max"


class ArgMinOp(_ArgMinMax):
    """Index of the smallest input along `axis`, the first on ties (TFLite ARG_MIN)."""

    name = "tensor.arg_min"


class GatherOp(KernelChoice, Operation):
    """Slices of `input` along `axis` picked by the int32 `indices` (TFLite GATHER). The
    first `batch_dims` dimensions of input and indices are shared batches; the output is
    input.shape[:axis] + indices.shape[batch_dims:] + input.shape[axis + 1:]."""

    name = "tensor.gather"
    operands = ("input", "indices")
    results = ("output",)
    attributes = {"axis": int, "batch_dims": int}

    def verify_(self) -> None:
        x, idx, y = self.operand("input").type, self.operand("indices").type, self.result.type
        axis, batch = self.attrs["axis"], self.attrs["batch_dims"]
        if not 0 <= batch <= axis < x.rank or batch > idx.rank:
            raise self.error(f"axis {axis} and batch_dims {batch} do not fit input {x} and "
                             f"indices {idx} (need 0 <= batch_dims <= axis < rank)")
        if x.shape[:batch] != idx.shape[:batch]:
            raise self.error(f"the {batch} batch dimensions of {x} and {idx} differ")
        if str(idx.element) != "i32":
            raise self.error(f"indices must be int32, got {idx}")
        want = x.shape[:axis] + idx.shape[batch:] + x.shape[axis + 1:]
        if y.shape != want:
            raise self.error(f"gathering {x} by {idx} on axis {axis} gives shape {list(want)}, "
                             f"not {y}")
        check_compute_types(self, "input", int16=True)


class SplitOp(KernelChoice, Operation):
    """Cut the input along `axis` into the results, in order (TFLite SPLIT, SPLIT_V)."""

    name = "tensor.split"
    operands = ("input",)
    results = ("outputs*",)
    attributes = {"axis": int}

    def verify_(self) -> None:
        x, axis = self.operand("input").type, self.attrs["axis"]
        if not 0 <= axis < x.rank:
            raise self.error(f"axis {axis} out of range for {x}")
        for r in self.result_values:
            s = r.type.shape
            if len(s) != x.rank or any(a != b for k, (a, b) in enumerate(zip(s, x.shape))
                                       if k != axis):
                raise self.error(f"result {r.type} is not a slice of {x} along axis {axis}")
        if sum(r.type.shape[axis] for r in self.result_values) != x.shape[axis]:
            raise self.error(f"results do not add up to {x} along axis {axis}")
        check_compute_types(self, "input", int16=True, int32=True)


class TransposeConv2DOp(KernelChoice, Operation):
    """Transposed 2-D convolution (TFLite TRANSPOSE_CONV): NHWC input, OHWI filter, an
    optional bias, the output's size given by its type; `pad` = [top, left] as TFLite
    computes it from SAME/VALID on the output size. Not a sliding window over the input (each
    input pixel spreads over the output), so it takes no part in window planning."""

    name = "tensor.transpose_conv2d"
    input = operand()
    filter = operand()
    bias = operand(optional=True)
    output = result()
    stride = attr(TRANSPOSE_CONV_PAIR)
    pad = attr(TRANSPOSE_CONV_PAD)
    act = attr(str)

    def verify_(self) -> None:
        check_activation(self)
        check_transpose_conv(self)


class BatchMatmulOp(KernelChoice, Operation):
    """Batched matrix product (TFLite BATCH_MATMUL): out[..., r, c] = sum over k of
    lhs[..., r, k] * rhs[..., k, c], `adj_x`/`adj_y` transposing an operand's last two
    dimensions first, batch dimensions broadcast (ranks 2 to 5)."""

    name = "tensor.batch_matmul"
    lhs = operand()
    rhs = operand()
    output = result()
    adj_x = attr(bool)
    adj_y = attr(bool)

    def verify_(self) -> None:
        check_batch_matmul(self)


#: The comparison predicates of `tensor.compare` / `qnn.compare`, in the order the kernels
#: number them (TFLite EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL).
COMPARISONS = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")


def _storage_name(value) -> str:
    element = value.type.element
    return str(getattr(element, "storage", element))


class CompareOp(KernelChoice, Operation):
    """Broadcasting elementwise comparison with a bool result; `predicate` names it. int8
    operands (per-tensor quantized, possibly differently) are compared after TFLite's
    rescaling of both to a common scale, which `lower-to-qnn` turns into `qnn.compare`;
    int32 and float32 operands (and bool, for equal/not_equal) compare the raw values."""

    name = "tensor.compare"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"predicate": str}

    def verify_(self) -> None:
        predicate = self.attrs["predicate"]
        if predicate not in COMPARISONS:
            raise self.error(f"unknown predicate {predicate!r} (one of {', '.join(COMPARISONS)})")
        check_broadcast_result(self, "lhs", "rhs")
        if str(self.result.type.element) != "i1":
            raise self.error(f"the result must be bool (i1), got {self.result.type}")
        lhs, rhs = self.operand("lhs").type.element, self.operand("rhs").type.element
        kinds = {element_kind(lhs), element_kind(rhs)}
        allowed = {"int8", "i32", "i64", "f32"} | ({"i1"} if predicate in COMPARISONS[:2] else set())
        if len(kinds) != 1 or not kinds <= allowed:
            raise self.error(f"{predicate} compares two int8 (per-tensor quantized), int32, int64 or "
                             f"float32 operands{' or two bools' if 'i1' in allowed else ''}, got "
                             f"{self.operand('lhs').type} and {self.operand('rhs').type}")


class LogicalOp(KernelChoice, Operation):
    """Broadcasting elementwise `and` / `or` of two bool tensors (TFLite LOGICAL_AND,
    LOGICAL_OR), by `kind`."""

    name = "tensor.logical"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"kind": str}

    def verify_(self) -> None:
        if self.attrs["kind"] not in ("and", "or"):
            raise self.error(f"kind must be 'and' or 'or', got {self.attrs['kind']!r}")
        check_broadcast_result(self, "lhs", "rhs")
        for v in self.operand_values + self.result_values:
            if str(v.type.element) != "i1":
                raise self.error(f"operands and result must be bool (i1), got {v.type}")


class LogicalNotOp(_Unary):
    """Elementwise negation of a bool tensor (TFLite LOGICAL_NOT)."""

    name = "tensor.logical_not"

    def verify_types(self) -> None:
        for v in (self.operand("input"), self.result):
            if str(v.type.element) != "i1":
                raise self.error(f"operand and result must be bool (i1), got {v.type}")


class SelectOp(KernelChoice, Operation):
    """`condition ? x : y` elementwise, the three operands broadcast to the result (TFLite
    SELECT_V2). Pure data movement: quantized x and y are copied as stored, without
    rescaling (as TFLite Micro does), so they and the result share one element type."""

    name = "tensor.select"
    operands = ("condition", "x", "y")
    results = ("output",)

    def verify_(self) -> None:
        c, x, y = (self.operand(f).type for f in ("condition", "x", "y"))
        if str(c.element) != "i1":
            raise self.error(f"the condition must be bool (i1), got {c}")
        want = broadcast_shape(self, broadcast_shape(self, c.shape, x.shape), y.shape)
        if self.result.type.shape != want:
            raise self.error(f"the output must have the broadcast shape {list(want)}, the "
                             f"model says {self.result.type}")
        if _storage_name(self.operand("x")) != _storage_name(self.operand("y")) or \
                _storage_name(self.operand("x")) != _storage_name(self.result):
            raise self.error(f"x, y and the result must share one element type, got {x}, {y} "
                             f"and {self.result.type}")


class _AxesReduction(KernelChoice, Operation):
    """A reduction over `axes` (resolved, sorted, non-negative); the result type says whether
    the reduced dimensions are kept (keep_dims)."""

    operands = ("input",)
    results = ("output",)
    attributes = {"axes": tuple}

    def verify_(self) -> None:
        rank = self.operand("input").type.rank
        axes = self.attrs["axes"]
        if not axes or list(axes) != sorted(set(axes)) or axes[0] < 0 or axes[-1] >= rank:
            raise self.error(f"axes must be distinct sorted dimensions of rank {rank}, "
                             f"got {list(axes)}")
        check_compute_types(self, "input", int16=True)
        x = self.operand("input").type.shape
        kept = tuple(1 if k in axes else d for k, d in enumerate(x))
        dropped = tuple(d for k, d in enumerate(x) if k not in axes)
        if self.result.type.shape not in (kept, dropped):
            raise self.error(f"reducing {list(x)} over axes {list(axes)} gives shape "
                             f"{list(kept)} or {list(dropped)}, the model says {self.result.type}")


class SumOp(_AxesReduction):
    """Sum over `axes` (TFLite SUM); int8/int16 rescale the sum once to the output."""

    name = "tensor.sum"


class ReduceMaxOp(_AxesReduction):
    """Maximum over `axes` (TFLite REDUCE_MAX); int8 compares the stored values, so input
    and output share one quantization."""

    name = "tensor.reduce_max"


class CastOp(_Unary):
    """Elementwise conversion between bool, int8, int16, int32, uint32 and float32 (TFLite CAST):
    C++'s static_cast of the stored values, as TFLite Micro does (quantization, when a
    tensor carries one, is ignored: the stored integers are converted)."""

    name = "tensor.cast"

    def verify_types(self) -> None:
        for v in (self.operand("input"), self.result):
            if _storage_name(v) not in ("i1", "i8", "i16", "i32", "ui32", "f32"):
                raise self.error(f"casts between bool, int8, int16, int32, uint32 and float32, got "
                                 f"{v.type}")


class ResizeBilinearOp(KernelChoice, Operation):
    """Bilinear resize of an NHWC image to the result's height and width (TFLite
    RESIZE_BILINEAR): `align_corners` and `half_pixel_centers` as TFLite (not both). int8
    interpolates the stored values in TFLite's Q10 arithmetic, so input and output share
    one quantization."""

    name = "tensor.resize_bilinear"
    operands = ("input",)
    results = ("output",)
    attributes = {"align_corners": bool, "half_pixel_centers": bool}

    def verify_(self) -> None:
        x, y = self.operand("input").type, self.result.type
        if x.rank != 4 or y.rank != 4 or x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
            raise self.error(f"resizes an NHWC image keeping batch and depth, got {x} -> {y}")
        if self.attrs["align_corners"] and self.attrs["half_pixel_centers"]:
            raise self.error("align_corners and half_pixel_centers cannot both be set")
        check_compute_types(self, "input")


class EluOp(_Unary):
    """x < 0 ? exp(x) - 1 : x (TFLite ELU); int8 becomes a 256-entry lookup table."""

    name = "tensor.elu"

    def verify_types(self) -> None:
        check_compute_types(self, "input")


class CumsumOp(_Unary):
    """Running sum along `axis` (TFLite CUMSUM), optionally `exclusive` (each output
    leaves out its own element) and `reverse` (summing from the end)."""

    name = "tensor.cumsum"
    attributes = {"axis": int, "exclusive": bool, "reverse": bool}

    def verify_types(self) -> None:
        check_compute_types(self, "input")
        if not 0 <= self.attrs["axis"] < self.operand("input").type.rank:
            raise self.error(f"axis {self.attrs['axis']} out of range for "
                             f"{self.operand('input').type}")


class SvdfOp(KernelChoice, Operation):
    """TFLite SVDF: each filter's feature (input . weights_feature row) enters the newest
    column of the activation `state` [batch, memory_size * num_filters], after the older
    columns shift left by one; each unit's output is its bias plus, over its `rank`
    filters, the dot product of weights_time with that filter's memory, then the fused
    activation (float32; TFLite Micro's int8 SVDF ignores it). `new_state` is the updated
    state, which the importer writes back to the state variable (`state.write`)."""

    name = "tensor.svdf"
    input = operand()
    weights_feature = operand()
    weights_time = operand()
    state = operand()
    bias = operand(optional=True)  # optional operands trail
    output = result()
    new_state = result()
    rank = attr(int)
    act = attr(str)

    def verify_(self) -> None:
        check_activation(self)
        check_svdf(self)


class LstmOp(KernelChoice, Operation):
    """TFLite UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro runs it (no CIFG, peephole,
    projection or layer normalisation). Per time step and batch row, every gate is
    `input_weights . x_t + bias + recurrent_weights . h`, through a sigmoid (input, forget,
    output gates) or `act` (the cell gate: tanh); then `c = forget * c + input * cell`
    (clipped to +-cell_clip when positive) and `h = output * tanh(c)`, which is also the
    step's output. `hidden_state`/`cell_state` are the variable tensors' values before the
    call, `new_hidden_state`/`new_cell_state` after it (written back by `state.write`)."""

    name = "tensor.lstm"
    input = operand()
    input_gate_input_weights = operand()
    forget_gate_input_weights = operand()
    cell_gate_input_weights = operand()
    output_gate_input_weights = operand()
    input_gate_recurrent_weights = operand()
    forget_gate_recurrent_weights = operand()
    cell_gate_recurrent_weights = operand()
    output_gate_recurrent_weights = operand()
    input_gate_bias = operand()
    forget_gate_bias = operand()
    cell_gate_bias = operand()
    output_gate_bias = operand()
    hidden_state = operand()
    cell_state = operand()
    output = result()
    new_hidden_state = result()
    new_cell_state = result()
    time_major = attr(bool)
    cell_clip = attr(float)
    act = attr(str)

    def verify_(self) -> None:
        if self.act != "tanh":
            raise self.error(f"the cell gate's activation must be tanh, got {self.act}")
        check_lstm(self)
