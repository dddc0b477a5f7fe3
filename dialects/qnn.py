"""`qnn` dialect: integer-only, kernel-ready ops.

Every requantization constant is computed at compile time and stored on the op:
per-channel Q31 multipliers and shifts as module resources (`mult`, `shift`), zero
points with TFLite's meaning (`*_zp`), and the activation as an integer clamp `act`.
"""

from __future__ import annotations

from utc.compiler.ir import F32, Operation, QuantizedType, ResourceRef, attr, is_quantized, operand, result
from utc.compiler.ir.fields import Ints

from .common import (
    TRANSPOSE_CONV_PAD,
    TRANSPOSE_CONV_PAIR,
    Clamped,
    Convolution,
    ExplicitPadding,
    FullyConnected,
    KernelChoice,
    Pooling,
    Requantized,
    check_batch_matmul,
    check_fully_connected_shapes,
    check_rank,
    check_transpose_conv,
    check_window_shapes,
)
from .recurrent_math import check_lstm, check_svdf


class ZeroPointFolded:
    """Ops with weights (convolutions, fully connected) whose input zero point
    fold-zero-point can move into the bias: `zp_bias` = bias - input_zp * sum(weights)
    per output channel (a flash table the kernel uses for windows that lie wholly inside
    the input)."""

    zp_bias = attr(ResourceRef, optional=True)


def _check_int(op: Operation, *fields: str) -> None:
    for field in fields:
        value = op.operand(field)
        if value is not None and not is_quantized(value.type.element):
            raise op.error(f"operand '{field}' must be quantized, got {value.type}")
    if not isinstance(op.result.type.element, QuantizedType):
        raise op.error(f"result must be per-tensor quantized, got {op.result.type}")


def _check_clamp(op: Operation) -> None:
    lo, hi = op.attrs["act"]
    if lo > hi:
        raise op.error(f"empty activation range [{lo}, {hi}]")


class FullyConnectedOp(KernelChoice, ZeroPointFolded, FullyConnected, Requantized, Operation):
    """int8 fully connected: input [batches, depth], weights [units, depth], int32 bias."""

    name = "qnn.fully_connected"
    weights_zp = attr(int)

    def verify_(self) -> None:
        _check_int(self, "input", "weights")
        _check_clamp(self)
        check_rank(self, "weights", 2)
        check_fully_connected_shapes(self)


class Conv2DOp(KernelChoice, ZeroPointFolded, Convolution, ExplicitPadding, Requantized,
               Operation):
    """int8 convolution with per-channel requantization."""

    name = "qnn.conv2d"

    def verify_(self) -> None:
        _check_int(self, "input", "filter")
        _check_clamp(self)
        check_rank(self, "filter", 4)
        check_window_shapes(self, "conv")


class DepthwiseConv2DOp(KernelChoice, ZeroPointFolded, Convolution, ExplicitPadding,
                        Requantized, Operation):
    """int8 depthwise convolution with per-channel requantization."""

    name = "qnn.depthwise_conv2d"
    depth_multiplier = attr(int)

    def verify_(self) -> None:
        _check_int(self, "input", "filter")
        _check_clamp(self)
        check_rank(self, "filter", 4)
        check_window_shapes(self, "depthwise")


class _Pool(KernelChoice, Pooling, ExplicitPadding, Clamped, Operation):

    def verify_(self) -> None:
        _check_int(self, "input")
        _check_clamp(self)
        if self.operand("input").type.element != self.result.type.element:
            raise self.error("int8 pooling keeps the input's quantization")
        check_window_shapes(self, "pool")


class AvgPool2DOp(_Pool):
    """int8 average pooling (rounded average of in-bounds elements)."""

    name = "qnn.avg_pool2d"


class MaxPool2DOp(_Pool):
    """int8 max pooling."""

    name = "qnn.max_pool2d"


class _AddSub(KernelChoice, Operation):
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {
        "lhs_zp": int, "rhs_zp": int, "output_zp": int, "left_shift": int,
        "lhs_mult": int, "lhs_shift": int, "rhs_mult": int, "rhs_shift": int,
        "output_mult": int, "output_shift": int, "act": tuple,
    }

    def verify_(self) -> None:
        _check_int(self, "lhs", "rhs")
        _check_clamp(self)


class AddOp(_AddSub):
    """int8 broadcasting addition: both inputs rescaled (after `left_shift`) by their own
    multipliers, summed, rescaled to the output (TFLite's ADD arithmetic)."""

    name = "qnn.add"


class SubOp(_AddSub):
    """int8 broadcasting subtraction: ADD's arithmetic with the rescaled rhs subtracted."""

    name = "qnn.sub"


class SquaredDifferenceOp(_AddSub):
    """int8 broadcasting squared difference: ADD's constants (inputs shifted by
    `left_shift`, rescaled by their own multipliers to twice the larger input scale), the
    rescaled difference squared in int32 and rescaled once to the output; `act` is the
    int8 range (TFLite has no fused activation here)."""

    name = "qnn.squared_difference"


class MulOp(KernelChoice, Operation):
    """int8 broadcasting multiplication: (lhs - lhs_zp) * (rhs - rhs_zp) rescaled once."""

    name = "qnn.mul"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"lhs_zp": int, "rhs_zp": int, "output_zp": int, "output_mult": int,
                  "output_shift": int, "act": tuple}

    def verify_(self) -> None:
        _check_int(self, "lhs", "rhs")
        _check_clamp(self)


class DivOp(KernelChoice, Operation):
    """int8 broadcasting division, TFLite Micro's arithmetic: (lhs - lhs_zp) times the
    fixed-point reciprocal of (rhs - rhs_zp), rescaled once; MUL's attributes, with the
    multiplier of in1_scale / (in2_scale * out_scale). Not a MulOp subclass: no
    multiplication kernel may claim it."""

    name = "qnn.div"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"lhs_zp": int, "rhs_zp": int, "output_zp": int, "output_mult": int,
                  "output_shift": int, "act": tuple}

    def verify_(self) -> None:
        _check_int(self, "lhs", "rhs")
        _check_clamp(self)


class RequantizeOp(KernelChoice, Operation):
    """clamp(rescale(x - input_zp) + output_zp, act): RELU, RELU6, RELU_N1_TO_1 and
    QUANTIZE between int8 and int16 all lower to this one op (a clamp when the rescale is
    the identity)."""

    name = "qnn.requantize"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_zp": int, "output_zp": int, "mult": int, "shift": int, "act": tuple}

    def verify_(self) -> None:
        _check_int(self, "input")
        _check_clamp(self)


class _FixedPointCurve(KernelChoice, Operation):
    operands = ("input",)
    results = ("output",)
    attributes = {"input_zp": int, "input_range_radius": int, "input_mult": int,
                  "input_left_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class LogisticOp(_FixedPointCurve):
    """int8 logistic in gemmlowp fixed point; output scale 1/256, zero point -128."""

    name = "qnn.logistic"


class TanhOp(_FixedPointCurve):
    """int8 tanh in gemmlowp fixed point; output scale 1/128, zero point 0."""

    name = "qnn.tanh"


class HardSwishOp(KernelChoice, Operation):
    """int8 hard swish in TFLite's int16 fixed-point scheme (Q15 multipliers)."""

    name = "qnn.hard_swish"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_zp": int, "output_zp": int, "reluish_mult": int, "reluish_shift": int,
                  "output_mult": int, "output_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class LeakyReluOp(KernelChoice, Operation):
    """int8 leaky relu: identity or alpha rescale depending on the sign of x - input_zp."""

    name = "qnn.leaky_relu"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_zp": int, "output_zp": int, "identity_mult": int,
                  "identity_shift": int, "alpha_mult": int, "alpha_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class PreluOp(KernelChoice, Operation):
    """int8 prelu with a broadcast per-tensor-quantized alpha tensor."""

    name = "qnn.prelu"
    operands = ("input", "alpha")
    results = ("output",)
    attributes = {"input_zp": int, "alpha_zp": int, "output_zp": int, "identity_mult": int,
                  "identity_shift": int, "alpha_mult": int, "alpha_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input", "alpha")


class QuantizeOp(KernelChoice, Operation):
    """float32 -> int8 or int16: clamp(round(x / scale) + zp), the division in float32."""

    name = "qnn.quantize"
    operands = ("input",)
    results = ("output",)
    attributes = {"scale": float, "zp": int}


class DequantizeOp(KernelChoice, Operation):
    """int8 or int16 -> float32: scale * (x - zp)."""

    name = "qnn.dequantize"
    operands = ("input",)
    results = ("output",)
    attributes = {"scale": float, "zp": int}

    def verify_(self) -> None:
        if not is_quantized(self.operand("input").type.element):
            raise self.error("input must be quantized")


class MeanOp(KernelChoice, Operation):
    """int8 mean over `axes`: int32 sum, minus input_zp * n, one rescale that folds in 1/n."""

    name = "qnn.mean"
    operands = ("input",)
    results = ("output",)
    attributes = {"axes": tuple, "input_zp": int, "output_zp": int, "mult": int, "shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class SoftmaxOp(KernelChoice, Operation):
    """int8 softmax: fixed-point exp of (x - max) scaled by `input_mult`/`input_left_shift`,
    elements below `diff_min` contribute nothing; output scale 1/256, zero point -128."""

    name = "qnn.softmax"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_mult": int, "input_left_shift": int, "diff_min": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class LogSoftmaxOp(KernelChoice, Operation):
    """int8 log softmax (TFLite Micro's fixed-point arithmetic): exp of (x - max) as in
    softmax (`input_mult`, `input_left_shift`, `diff_min`), the log of their sum in Q5.26,
    (`reverse_mult`, `reverse_shift`) to find the differences that saturate; output scale
    16/256, zero point 127."""

    name = "qnn.log_softmax"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_mult": int, "input_left_shift": int, "reverse_mult": int,
                  "reverse_shift": int, "diff_min": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class CompareOp(KernelChoice, Operation):
    """int8 broadcasting comparison with a bool result (TFLite's comparisons with
    scaling): each input, minus its zero point and shifted left by `left_shift`, is
    multiplied by its own scale as a Q31 multiplier (`*_mult`, `*_shift`), and the two
    int32 results are compared by `predicate` (tensor.COMPARISONS)."""

    name = "qnn.compare"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"predicate": str, "lhs_zp": int, "rhs_zp": int, "left_shift": int,
                  "lhs_mult": int, "lhs_shift": int, "rhs_mult": int, "rhs_shift": int}

    def verify_(self) -> None:
        for field in ("lhs", "rhs"):
            if not is_quantized(self.operand(field).type.element):
                raise self.error(f"operand '{field}' must be quantized, got "
                                 f"{self.operand(field).type}")
        if str(self.result.type.element) != "i1":
            raise self.error(f"the result must be bool (i1), got {self.result.type}")


class SumOp(KernelChoice, Operation):
    """int8 / int16 sum over `axes`: int32 sum, minus input_zp * n, one rescale by
    input_scale / output_scale (TFLite's QuantizedMeanOrSum without MEAN's 1/n)."""

    name = "qnn.sum"
    operands = ("input",)
    results = ("output",)
    attributes = {"axes": tuple, "input_zp": int, "output_zp": int, "mult": int, "shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class SvdfOp(KernelChoice, Operation):
    """int8 SVDF with TFLite Micro's two requantizations (`passes/quantmath/svdf.py`): the
    feature stage (`feature_mult`/`feature_shift`, clamped to the state's int8 or int16
    range, plus `state_zp`) fills the state's newest column, the time stage
    (`time_mult`/`time_shift`, plus `output_zp`, clamped to int8) gives the output."""

    name = "qnn.svdf"
    input = operand()
    weights_feature = operand()
    weights_time = operand()
    state = operand()
    bias = operand(optional=True)  # optional operands trail
    output = result()
    new_state = result()
    rank = attr(int)
    input_zp = attr(int)
    state_zp = attr(int)
    output_zp = attr(int)
    feature_mult = attr(int)
    feature_shift = attr(int)
    time_mult = attr(int)
    time_shift = attr(int)
    # CMSIS-NN's arm_svdf_s8 on Helium (fold-zero-point): per filter, -input_zp times the
    # row sum of the feature weights (arm_vector_sum_s8's kernel sums), an int32 table
    kernel_sums = attr(ResourceRef, optional=True)

    def verify_(self) -> None:
        check_svdf(self)
        if self.operand("input").type.element == F32:
            raise self.error("qnn.svdf is the int8 SVDF; float32 stays tensor.svdf")


class LstmOp(KernelChoice, Operation):
    """int8 UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state, TFLite Micro's integer
    arithmetic (`passes/quantmath/lstm.py`): each gate's input and recurrent fully
    connected layers requantized to int16 Q3.12 by their own `<gate>_input_*` and
    `<gate>_recurrent_*` multiplier and shift, summed with saturation, then sigmoid (or
    tanh for the cell gate) to Q0.15; the cell update by `forget_cell_*` and `input_cell_*`
    (clipped to +-`cell_clip` when non-zero), the hidden state by tanh of the cell (input
    shift from `cell_scale_power`) times the output gate, `hidden_*` plus `hidden_zp`."""

    name = "qnn.lstm"
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
    input_zp = attr(int)
    hidden_zp = attr(int)
    input_gate_input_mult = attr(int)
    input_gate_input_shift = attr(int)
    input_gate_recurrent_mult = attr(int)
    input_gate_recurrent_shift = attr(int)
    forget_gate_input_mult = attr(int)
    forget_gate_input_shift = attr(int)
    forget_gate_recurrent_mult = attr(int)
    forget_gate_recurrent_shift = attr(int)
    cell_gate_input_mult = attr(int)
    cell_gate_input_shift = attr(int)
    cell_gate_recurrent_mult = attr(int)
    cell_gate_recurrent_shift = attr(int)
    output_gate_input_mult = attr(int)
    output_gate_input_shift = attr(int)
    output_gate_recurrent_mult = attr(int)
    output_gate_recurrent_shift = attr(int)
    forget_cell_mult = attr(int)
    forget_cell_shift = attr(int)
    input_cell_mult = attr(int)
    input_cell_shift = attr(int)
    hidden_mult = attr(int)
    hidden_shift = attr(int)
    cell_scale_power = attr(int)
    cell_clip = attr(int)
    # CMSIS-NN's arm_lstm_unidirectional_s8 (fold-zero-point, passes/quantmath/lstm_cmsis.py):
    # per gate, the input half's bias with the input zero point folded in and the recurrent
    # half's hidden zero point term, and the range of every recurrent half over all int8
    # hidden states (CMSIS-NN adds that half unclamped, TFLite Micro clamps it to int16)
    input_gate_input_effective_bias = attr(ResourceRef, optional=True)
    input_gate_recurrent_effective_bias = attr(ResourceRef, optional=True)
    forget_gate_input_effective_bias = attr(ResourceRef, optional=True)
    forget_gate_recurrent_effective_bias = attr(ResourceRef, optional=True)
    cell_gate_input_effective_bias = attr(ResourceRef, optional=True)
    cell_gate_recurrent_effective_bias = attr(ResourceRef, optional=True)
    output_gate_input_effective_bias = attr(ResourceRef, optional=True)
    output_gate_recurrent_effective_bias = attr(ResourceRef, optional=True)
    recurrent_range = attr(Ints(2, names="[lowest, highest] requantized recurrent output"),
                           optional=True)
    # 16x8 (arm_lstm_unidirectional_s16): the extremes of its int32 intermediates
    int32_range = attr(Ints(2, names="[lowest, highest] int32 intermediate"), optional=True)

    def verify_(self) -> None:
        check_lstm(self)


class _Curve16(KernelChoice, Operation):
    operands = ("input",)
    results = ("output",)
    attributes = {"input_mult": int, "input_left_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class Abs16Op(KernelChoice, Operation):
    """16x8 ABS (TFLM's int16 quantized path, zero points 0): |x|, rescaled by (`mult`,
    `shift`) when `rescale` (the scales differ), clamped to int16."""

    name = "qnn.abs16"
    operands = ("input",)
    results = ("output",)
    attributes = {"rescale": bool, "mult": int, "shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class Logistic16Op(_Curve16):
    """16x8 logistic (TFLM's int16 algorithm): x rescaled to Q3.12 by
    (x * input_mult + round) >> input_left_shift, then TFLite's 256-entry sigmoid table
    interpolated; output scale 2^-15, zero point 0."""

    name = "qnn.logistic16"


class Tanh16Op(_Curve16):
    """16x8 tanh (TFLM's int16 algorithm): the same rescale and sigmoid table walked at
    twice the rate (tanh(x) = 2 sigmoid(2x) - 1); output scale 2^-15, zero point 0."""

    name = "qnn.tanh16"


class Softmax16Op(KernelChoice, Operation):
    """16x8 softmax (TFLM's int16 algorithm): (x - max) rescaled by
    `input_mult`/`input_left_shift` onto the exp table's [-10, 0], interpolated exp and
    1 / (1 + x) tables (`exp_lut`, `recip_lut`: 513 int16 each, in flash); output scale
    1/32768, zero point 0."""

    name = "qnn.softmax16"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_mult": int, "input_left_shift": int, "exp_lut": ResourceRef,
                  "recip_lut": ResourceRef}

    def verify_(self) -> None:
        _check_int(self, "input")


class LookupOp(KernelChoice, Operation):
    """int8 elementwise function as a 256-entry table computed at compile time (TFLite
    Micro's PopulateLookupTable): output = table[(uint8_t)input]; the quantizations of
    input and output are folded into the table."""

    name = "qnn.lookup"
    operands = ("input",)
    results = ("output",)
    attributes = {"table": ResourceRef}

    def verify_(self) -> None:
        _check_int(self, "input")


class L2NormalizationOp(KernelChoice, Operation):
    """int8 L2 normalization along the last dimension, TFLite Micro's integer arithmetic:
    the sum of squares of (input - `input_zp`), its inverse square root as a multiplier
    and shift, each (input - `input_zp`) rescaled to the fixed output scale 1/128."""

    name = "qnn.l2_normalization"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_zp": int}

    def verify_(self) -> None:
        _check_int(self, "input")


class TransposeConv2DOp(KernelChoice, Requantized, Operation):
    """int8 or 16x8 transposed convolution: per-channel requantization (`mult`, `shift`,
    one entry per output channel), the clamp, stride and [top, left] padding."""

    name = "qnn.transpose_conv2d"
    input = operand()
    filter = operand()
    bias = operand(optional=True)
    output = result()
    stride = attr(TRANSPOSE_CONV_PAIR)
    pad = attr(TRANSPOSE_CONV_PAD)

    def verify_(self) -> None:
        _check_int(self, "input", "filter")
        _check_clamp(self)
        check_transpose_conv(self)


class BatchMatmulOp(KernelChoice, Operation):
    """int8 or 16x8 batched matrix product: sum((lhs - lhs_zp) * (rhs - rhs_zp)) (int32,
    or int64 for int16), one rescale (`mult`, `shift`), + output_zp, clamped to the storage
    range (TFLite's BATCH_MATMUL has no fused activation)."""

    name = "qnn.batch_matmul"
    lhs = operand()
    rhs = operand()
    output = result()
    adj_x = attr(bool)
    adj_y = attr(bool)
    lhs_zp = attr(int)
    rhs_zp = attr(int)
    output_zp = attr(int)
    mult = attr(int)
    shift = attr(int)

    def verify_(self) -> None:
        _check_int(self, "lhs", "rhs")
        check_batch_matmul(self)


class CumsumOp(KernelChoice, Operation):
    """int8 running sum along `axis`: each input minus `input_zp`, shifted left by
    `left_shift` and rescaled by (`input_mult`, `input_shift`), accumulated in int32 from
    the rescaled -input_zp (as TFLite Micro does), each partial sum rescaled by
    (`output_mult`, `output_shift`) to the output."""

    name = "qnn.cumsum"
    operands = ("input",)
    results = ("output",)
    attributes = {"axis": int, "exclusive": bool, "reverse": bool, "input_zp": int,
                  "output_zp": int, "left_shift": int, "input_mult": int, "input_shift": int,
                  "output_mult": int, "output_shift": int}

    def verify_(self) -> None:
        _check_int(self, "input")
