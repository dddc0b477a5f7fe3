"""`qnn` dialect: integer-only, kernel-ready ops.

Every requantization constant is computed at compile time and stored on the op:
per-channel Q31 multipliers and shifts as module resources (`mult`, `shift`), zero
points with TFLite's meaning (`*_zp`), and the activation as an integer clamp `act`.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, QuantizedType, ResourceRef, is_quantized

from .common import KERNEL_ATTRS, check_pads, check_pair, check_rank

_REQUANT = {
    "input_zp": int,
    "output_zp": int,
    "mult": ResourceRef,
    "shift": ResourceRef,
    "act": tuple,
}


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


class FullyConnectedOp(Operation):
    """int8 fully connected: input [batches, depth], weights [units, depth], int32 bias."""

    name = "qnn.fully_connected"
    operands = ("input", "weights", "bias?")
    results = ("output",)
    attributes = {**_REQUANT, "weights_zp": int}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "input", "weights")
        _check_clamp(self)
        check_rank(self, "weights", 2)


class Conv2DOp(Operation):
    """int8 convolution with per-channel requantization."""

    name = "qnn.conv2d"
    operands = ("input", "filter", "bias?")
    results = ("output",)
    attributes = {**_REQUANT, "stride": tuple, "dilation": tuple, "pad": tuple}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "input", "filter")
        _check_clamp(self)
        check_pair(self, "stride")
        check_pair(self, "dilation")
        check_pads(self)
        check_rank(self, "filter", 4)


class DepthwiseConv2DOp(Operation):
    """int8 depthwise convolution with per-channel requantization."""

    name = "qnn.depthwise_conv2d"
    operands = ("input", "filter", "bias?")
    results = ("output",)
    attributes = {
        **_REQUANT, "stride": tuple, "dilation": tuple, "pad": tuple, "depth_multiplier": int,
    }
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "input", "filter")
        _check_clamp(self)
        check_pair(self, "stride")
        check_pair(self, "dilation")
        check_pads(self)
        check_rank(self, "filter", 4)


class _Pool(Operation):
    operands = ("input",)
    results = ("output",)
    attributes = {"stride": tuple, "window": tuple, "pad": tuple, "act": tuple}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "input")
        _check_clamp(self)
        check_pair(self, "stride")
        check_pair(self, "window")
        check_pads(self)
        if self.operand("input").type.element != self.result.type.element:
            raise self.error("int8 pooling keeps the input's quantization")


class AvgPool2DOp(_Pool):
    """int8 average pooling (rounded average of in-bounds elements)."""

    name = "qnn.avg_pool2d"


class MaxPool2DOp(_Pool):
    """int8 max pooling."""

    name = "qnn.max_pool2d"


class AddOp(Operation):
    """int8 broadcasting addition: both inputs rescaled (after `left_shift`) by their own
    multipliers, summed, rescaled to the output (TFLite's ADD arithmetic)."""

    name = "qnn.add"
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {
        "lhs_zp": int, "rhs_zp": int, "output_zp": int, "left_shift": int,
        "lhs_mult": int, "lhs_shift": int, "rhs_mult": int, "rhs_shift": int,
        "output_mult": int, "output_shift": int, "act": tuple,
    }
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "lhs", "rhs")
        _check_clamp(self)


class SoftmaxOp(Operation):
    """int8 softmax: fixed-point exp of (x - max) scaled by `input_mult`/`input_left_shift`,
    elements below `diff_min` contribute nothing; output scale 1/256, zero point -128."""

    name = "qnn.softmax"
    operands = ("input",)
    results = ("output",)
    attributes = {"input_mult": int, "input_left_shift": int, "diff_min": int}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        _check_int(self, "input")
