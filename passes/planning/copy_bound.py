"""The copy lower bound: what the schedule needs when every tensor has its own buffer.

`plan-memory` records the fixed-order lower bound of the buffers *as planned*, after
reshapes became views, in-place kernels reuse their input's buffer, concatenation inputs
were placed into their output and PADs were folded into convolutions. To show what those
optimizations buy, the compiler also records `copy_lower_bound` on the function: the same
fixed-order bound for the value-semantics program those optimizations start from, where

- every tensor value (model input, op result) is a buffer of its own byte size, live from
  the step that defines it (step 0 for model inputs) to its last use (the last step for
  model outputs);
- every op except constants is a step, in block order, so a reshape is a copy and a PAD
  or a CONCATENATION runs as a kernel;
- a kernel's `scratch` bytes (known once select-kernels ran) are live during its step.

It is computed from the IR the first memory-shaping pass receives: `fold-pad` records it
before it folds anything (kernel scratch is not known yet at that level), and `bufferize`
raises it to the bound of its own input (which has scratch, but no folded PADs left).
Both are lower bounds of the copy program with PADs and scratch, so their maximum is
too. The schedule is the final one: `reorder-for-memory` runs before either of them.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, Value
from utc.dialects import func, tensor
from utc.dialects.common import KernelChoice
from utc.passes.planning.intervals import Buffer, lower_bound

#: The function attribute the bound is carried in.
ATTRIBUTE = "copy_lower_bound"


def _is_step(op: Operation) -> bool:
    return not isinstance(op, tensor.ConstantOp | func.ReturnOp)


def copy_buffers(fn: func.FuncOp) -> list[Buffer]:
    """One `Buffer` per tensor value (and per kernel scratch) of a value-semantics function,
    over the steps described in the module docstring."""
    steps = [op for op in fn.block.ops if _is_step(op)]
    last = max(len(steps) - 1, 0)
    first: dict[Value, int] = {}
    final: dict[Value, int] = {}
    for arg in fn.block.args:
        first[arg] = 0
        final[arg] = 0
    buffers: list[Buffer] = []
    for step, op in enumerate(steps):
        for v in op.operand_values:
            if v in first:
                final[v] = max(final[v], step)
        for r in op.result_values:
            first[r] = final[r] = step
        scratch = (op.scratch or 0) if isinstance(op, KernelChoice) else 0
        if scratch > 0:
            buffers.append(Buffer(f"scratch{step}", scratch, step, step, 1))
    for v in fn.return_op.operand_values:
        if v in first:
            final[v] = last
    for i, (v, start) in enumerate(first.items()):
        buffers.append(Buffer(v.name_hint or f"v{i}", v.type.byte_size, start, final[v], 1))
    return buffers


def copy_lower_bound(fn: func.FuncOp) -> int:
    """The most bytes live at once when every value has a buffer of its own."""
    return lower_bound(copy_buffers(fn), aligned=False)


def record_copy_lower_bound(fn: func.FuncOp) -> int:
    """Raise the function's `copy_lower_bound` to this IR's copy bound; return the result."""
    value = max(copy_lower_bound(fn), int(fn.attrs.get(ATTRIBUTE, 0)))
    fn.attrs[ATTRIBUTE] = value
    return value
