"""`fused` dialect: composite compute ops that no single TFLite op expresses.

Padding is explicit per side (so a preceding PAD can be folded in), and the activation
is a separate attribute that may absorb a following RELU/RELU6. Ops are dtype-agnostic:
int8 ones continue to `qnn`, float32 ones go straight to kernels.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, attr

from .common import (
    Convolution,
    ExplicitPadding,
    FullyConnected,
    KernelChoice,
    NamedActivation,
    Pooling,
    check_activation,
    check_compute_types,
    check_fully_connected_shapes,
    check_rank,
    check_weight_types,
    check_window_shapes,
)

#: Activations a fused op can carry (tanh stays a separate op).
FUSED_ACTIVATIONS = ("none", "relu", "relu_n1_to_1", "relu6")


def _check_fused_act(op: Operation) -> None:
    check_activation(op)
    if op.attrs["act"] not in FUSED_ACTIVATIONS:
        raise op.error(f"activation '{op.attrs['act']}' cannot be fused")


class Conv2DOp(KernelChoice, Convolution, ExplicitPadding, NamedActivation, Operation):
    """Convolution with explicit padding and fused clamp activation."""

    name = "fused.conv2d"

    def verify_(self) -> None:
        _check_fused_act(self)
        check_rank(self, "input", 4)
        check_rank(self, "filter", 4)
        check_compute_types(self, "input", int16=True)
        check_weight_types(self, "filter")
        check_window_shapes(self, "conv")


class DepthwiseConv2DOp(KernelChoice, Convolution, ExplicitPadding, NamedActivation,
                        Operation):
    """Depthwise convolution with explicit padding and fused clamp activation."""

    name = "fused.depthwise_conv2d"
    depth_multiplier = attr(int)

    def verify_(self) -> None:
        _check_fused_act(self)
        check_rank(self, "input", 4)
        check_rank(self, "filter", 4)
        check_compute_types(self, "input", int16=True)
        check_weight_types(self, "filter")
        check_window_shapes(self, "depthwise")


class FullyConnectedOp(KernelChoice, FullyConnected, NamedActivation, Operation):
    """Fully connected layer on a [batches, depth] view of its input, fused activation."""

    name = "fused.fully_connected"

    def verify_(self) -> None:
        _check_fused_act(self)
        check_compute_types(self, "input", int16=True)
        check_weight_types(self, "weights")
        check_fully_connected_shapes(self)


class _Pool(KernelChoice, Pooling, ExplicitPadding, NamedActivation, Operation):

    def verify_(self) -> None:
        _check_fused_act(self)
        check_rank(self, "input", 4)
        check_compute_types(self, "input", int16=True)
        check_window_shapes(self, "pool")


class AvgPool2DOp(_Pool):
    """Average pooling over in-bounds elements, explicit padding."""

    name = "fused.avg_pool2d"


class MaxPool2DOp(_Pool):
    """Max pooling, explicit padding."""

    name = "fused.max_pool2d"
