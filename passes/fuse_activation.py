"""`fuse-activation`: absorb a standalone RELU, RELU6 or RELU_N1_TO_1 into the op that
produces its input.

A fused activation is a clamp of the producer's output, so the activation's own buffer,
kernel call and pass over memory disappear. The rewrite must not change a single bit:

* float32: clamping inside the producer is the same arithmetic as clamping afterwards;
* int8: only when the activation's output is quantized exactly like its input. TFLite
  Micro then runs the activation as a pure clamp of the stored values (RELU to
  [zero point, 127], RELU6 to [zero point, q(6)], RELU_N1_TO_1 to [q(-1), q(1)]), which
  is exactly the clamp `lower-to-qnn` derives for the fused activation. With different
  quantizations the standalone op rescales, a second rounding that a fused clamp would
  skip, so those stay separate.

The producer must have no activation yet and no other user. Runs at the `fused` level
(after `tensor-to-fused`, before `lower-to-qnn`).
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Location, Module, Operation, is_quantized
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import fused, tensor

#: ops whose `act` attribute is a clamp of their output (fused dialect activations)
PRODUCERS = (fused.Conv2DOp, fused.DepthwiseConv2DOp, fused.FullyConnectedOp,
             fused.AvgPool2DOp, fused.MaxPool2DOp, tensor.AddOp, tensor.SubOp, tensor.MulOp)
_ACT_OF = {tensor.ReluOp: "relu", tensor.Relu6Op: "relu6", tensor.ReluN1To1Op: "relu_n1_to_1"}


def can_fuse(activation: Operation, producer: Operation | None) -> bool:
    """Whether `activation` may become `producer`'s fused activation, bit for bit."""
    if not isinstance(producer, PRODUCERS) or producer.act != "none":
        return False
    source = activation.operand("input")
    if len(source.uses) != 1 or producer.kernel is not None:
        return False
    if is_quantized(source.type.element) or is_quantized(activation.result.type.element):
        return source.type == activation.result.type
    return True


class FuseActivation(RewritePattern):
    def __init__(self, root: type[Operation]):
        self.root = root

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        source = op.operand("input")
        producer = getattr(source, "op", None)
        if not can_fuse(op, producer):
            return False
        producer.act = _ACT_OF[type(op)]
        producer.location = Location.merge(producer.location, op.location)
        rewriter.replace_op(op, [source])
        return True


PATTERNS = [FuseActivation(cls) for cls in _ACT_OF]


@register_pass
@dataclass(frozen=True)
class FuseActivationPass(Pass):
    """Fold standalone RELU/RELU6/RELU_N1_TO_1 into their producer's fused activation."""

    name = "fuse-activation"

    def run(self, module: Module) -> None:
        apply_patterns_greedily(module, PATTERNS, max_iterations=2)
