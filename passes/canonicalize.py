"""`canonicalize`: local simplifications that never change results.

Patterns, in this order: a reshape to the type it already has disappears; a reshape of
a reshape becomes one reshape of the original value; a QUANTIZE whose output has its
input's type (same dtype and the same quantization, so it computes the identity)
disappears.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module, Operation
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import tensor


class DropNoopReshape(RewritePattern):
    root = tensor.ReshapeOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        source = op.operand("input")
        if source.type != op.result.type:
            return False
        rewriter.replace_op(op, [source])
        return True


class FoldReshapeChain(RewritePattern):
    root = tensor.ReshapeOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        producer = getattr(op.operand("input"), "op", None)
        if not isinstance(producer, tensor.ReshapeOp):
            return False
        op.set_operand(0, producer.operand("input"))
        if not producer.result.uses:
            rewriter.erase_op(producer)
        rewriter.changed = True
        return True


class DropNoopQuantize(RewritePattern):
    root = tensor.QuantizeOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        source = op.operand("input")
        if source.type != op.result.type:
            return False
        rewriter.replace_op(op, [source])
        return True


PATTERNS = [DropNoopReshape(), FoldReshapeChain(), DropNoopQuantize()]


@register_pass
@dataclass(frozen=True)
class Canonicalize(Pass):
    """Remove no-op reshapes and quantizes, and merge reshape chains."""

    name = "canonicalize"
    max_iterations: int = 10

    def run(self, module: Module) -> None:
        apply_patterns_greedily(module, PATTERNS, self.max_iterations)
