"""`fold-pad`: fold a PAD of the spatial dimensions into the convolution that reads it.

A `tensor.pad` whose only user is the input of a `fused.conv2d` or
`fused.depthwise_conv2d`, that pads only H and W of an NHWC tensor, and whose padding
value is what the convolution's implicit padding stands for (the input zero point for
int8, 0.0 for float32), disappears: its amounts are added to the convolution's explicit
`pad` [top, bottom, left, right]. This is exact: TFLite's convolutions treat implicit
padding as the input zero point (a zero contribution), which is what the padded elements
contribute. The padded tensor then never exists, so neither its buffer nor the copy.

Before folding, the pass records the function's `copy_lower_bound` (see
`passes/planning/copy_bound.py`), which counts every PAD as a copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import F32, Location, Module, Operation, QuantizedType, is_quantized
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import fused, tensor
from utc.dialects.func import main_function
from utc.passes.planning.copy_bound import record_copy_lower_bound


def implicit_pad_value_matches(pad: tensor.PadOp) -> bool:
    """Is the PAD's value what a convolution's implicit padding means for its input?"""
    element = pad.operand("input").type.element
    value = pad.value
    if isinstance(element, QuantizedType):
        return value == element.zero_point
    if is_quantized(element):  # per-axis quantized activations: no single zero point
        return False
    return element == F32 and float(value) == 0.0


def foldable_pads(pad: tensor.PadOp) -> tuple[int, int, int, int] | None:
    """[top, bottom, left, right] when the PAD pads only H and W of a rank-4 tensor."""
    pads = pad.pads
    if len(pads) != 4 or tuple(pads[0]) != (0, 0) or tuple(pads[3]) != (0, 0):
        return None
    return (pads[1][0], pads[1][1], pads[2][0], pads[2][1])


class FoldPadIntoConv(RewritePattern):
    def __init__(self, root: type[Operation]):
        self.root = root

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        pad = getattr(op.operand("input"), "op", None)
        if not isinstance(pad, tensor.PadOp) or pad.result.uses != [(op, 0)]:
            return False
        extra = foldable_pads(pad)
        source = pad.operand("input")
        if (extra is None or not implicit_pad_value_matches(pad)
                or source.type.element != pad.result.type.element):
            return False
        op.set_operand(0, source)
        op.pad = tuple(a + b for a, b in zip(op.pad, extra))
        op.location = Location.merge(pad.location, op.location)
        rewriter.erase_op(pad)
        return True


PATTERNS = [FoldPadIntoConv(fused.Conv2DOp), FoldPadIntoConv(fused.DepthwiseConv2DOp)]


@register_pass
@dataclass(frozen=True)
class FoldPad(Pass):
    """Fold H/W zero-point padding into the following convolution's explicit padding."""

    name = "fold-pad"

    def run(self, module: Module) -> None:
        record_copy_lower_bound(main_function(module))
        apply_patterns_greedily(module, PATTERNS)
