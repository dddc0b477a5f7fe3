"""`tensor` dialect: value-semantics ops with TFLite's semantics and framework-neutral
names. The importer produces it; weights are `tensor.constant` ops backed by module
resources; quantization lives in the element types.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, ResourceRef

from .common import KERNEL_ATTRS, PADDINGS, check_activation, check_pair, check_rank


class ConstantOp(Operation):
    """A constant tensor (weights, biases, shape operands) stored as a module resource."""

    name = "tensor.constant"
    results = ("result",)
    attributes = {"value": ResourceRef}


class _Conv(Operation):
    def verify_(self) -> None:
        if self.attrs["padding"] not in PADDINGS:
            raise self.error(f"padding must be SAME or VALID, got {self.attrs['padding']!r}")
        check_pair(self, "stride")
        check_pair(self, "dilation")
        check_activation(self)
        check_rank(self, "input", 4)
        check_rank(self, "filter", 4)
        check_rank(self, "bias", 1)


class Conv2DOp(_Conv):
    """2-D convolution, NHWC input, OHWI filter (TFLite CONV_2D)."""

    name = "tensor.conv2d"
    operands = ("input", "filter", "bias?")
    results = ("output",)
    attributes = {"padding": str, "stride": tuple, "dilation": tuple, "act": str}


class DepthwiseConv2DOp(_Conv):
    """Depthwise 2-D convolution, filter 1HWO with O = C * depth_multiplier."""

    name = "tensor.depthwise_conv2d"
    operands = ("input", "filter", "bias?")
    results = ("output",)
    attributes = {
        "padding": str, "stride": tuple, "dilation": tuple, "depth_multiplier": int, "act": str,
    }


class FullyConnectedOp(Operation):
    """y = x W^T + b over the last dimension (TFLite FULLY_CONNECTED)."""

    name = "tensor.fully_connected"
    operands = ("input", "weights", "bias?")
    results = ("output",)
    attributes = {"act": str, "keep_num_dims": bool}

    def verify_(self) -> None:
        check_activation(self)
        check_rank(self, "weights", 2)
        check_rank(self, "bias", 1)


class _Pool(Operation):
    operands = ("input",)
    results = ("output",)
    attributes = {"padding": str, "stride": tuple, "window": tuple, "act": str}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        if self.attrs["padding"] not in PADDINGS:
            raise self.error(f"padding must be SAME or VALID, got {self.attrs['padding']!r}")
        check_pair(self, "stride")
        check_pair(self, "window")
        check_activation(self)
        check_rank(self, "input", 4)


class AvgPool2DOp(_Pool):
    """Average pooling (TFLite AVERAGE_POOL_2D)."""

    name = "tensor.avg_pool2d"


class MaxPool2DOp(_Pool):
    """Max pooling (TFLite MAX_POOL_2D)."""

    name = "tensor.max_pool2d"


class _Binary(Operation):
    operands = ("lhs", "rhs")
    results = ("output",)
    attributes = {"act": str}
    optional_attributes = KERNEL_ATTRS

    def verify_(self) -> None:
        check_activation(self)


class AddOp(_Binary):
    """Broadcasting addition with fused activation (TFLite ADD)."""

    name = "tensor.add"


class SubOp(_Binary):
    """Broadcasting subtraction with fused activation (TFLite SUB)."""

    name = "tensor.sub"


class MulOp(_Binary):
    """Broadcasting multiplication with fused activation (TFLite MUL)."""

    name = "tensor.mul"


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


class SoftmaxOp(Operation):
    """softmax(beta * x) over the last dimension (TFLite SOFTMAX)."""

    name = "tensor.softmax"
    operands = ("input",)
    results = ("output",)
    attributes = {"beta": float}
    optional_attributes = KERNEL_ATTRS
