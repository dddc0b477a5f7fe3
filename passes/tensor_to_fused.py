"""`tensor-to-fused`: give compute ops explicit per-side padding and a fusable activation.

TFLite's SAME/VALID padding is resolved here, once, with TFLite's own rule (the extra
pixel of an odd total padding goes after), so that later passes can fold a PAD operator
into the convolution and kernels never see padding modes.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Operation
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_conversion
from utc.dialects import fused, tensor
from utc.dialects.shape_math import same_padding, valid_padding


def explicit_pads(op: Operation, window: tuple[int, int], dilation: tuple[int, int]) -> tuple:
    """[top, bottom, left, right] for the op's padding mode, checked against its output."""
    _, in_h, in_w, _ = op.input.type.shape
    _, out_h, out_w, _ = op.output.type.shape
    pad_fn = same_padding if op.padding == "SAME" else valid_padding
    oh, top, bottom = pad_fn(in_h, window[0], op.stride[0], dilation[0])
    ow, left, right = pad_fn(in_w, window[1], op.stride[1], dilation[1])
    if (oh, ow) != (out_h, out_w):
        raise CompileError(f"{op.where()}: output is {out_h}x{out_w} but {op.padding} "
                           f"padding gives {oh}x{ow}")
    return (top, bottom, left, right)


class _ConvLowering(RewritePattern):
    def __init__(self, root: type[Operation], target: type[Operation]):
        self.root = root
        self.target = target

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        kh, kw = op.filter.type.shape[1:3]
        multiplier = ({"depth_multiplier": op.depth_multiplier}
                      if isinstance(op, tensor.DepthwiseConv2DOp) else {})
        new = self.target.build(input=op.input, filter=op.filter, bias=op.bias,
                                output=op.output.type, stride=op.stride, dilation=op.dilation,
                                pad=explicit_pads(op, (kh, kw), op.dilation), act=op.act,
                                **multiplier, location=op.location)
        rewriter.replace_op(op, new)
        return True


class _PoolLowering(RewritePattern):
    def __init__(self, root: type[Operation], target: type[Operation]):
        self.root = root
        self.target = target

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        rewriter.replace_op(op, self.target.build(
            input=op.input, output=op.output.type, stride=op.stride, window=op.window,
            pad=explicit_pads(op, op.window, (1, 1)), act=op.act, location=op.location))
        return True


class _FullyConnectedLowering(RewritePattern):
    root = tensor.FullyConnectedOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        rewriter.replace_op(op, fused.FullyConnectedOp.build(
            input=op.input, weights=op.weights, bias=op.bias, output=op.output.type, act=op.act,
            location=op.location))
        return True


PATTERNS = [
    _ConvLowering(tensor.Conv2DOp, fused.Conv2DOp),
    _ConvLowering(tensor.DepthwiseConv2DOp, fused.DepthwiseConv2DOp),
    _PoolLowering(tensor.AvgPool2DOp, fused.AvgPool2DOp),
    _PoolLowering(tensor.MaxPool2DOp, fused.MaxPool2DOp),
    _FullyConnectedLowering(),
]


@register_pass
@dataclass(frozen=True)
class TensorToFused(Pass):
    """Convert convolutions, pooling and fully connected ops to `fused` (explicit padding)."""

    name = "tensor-to-fused"

    def run(self, module: Module) -> None:
        apply_conversion(module, PATTERNS, illegal=[p.root for p in PATTERNS],
                         pass_name=self.name)
