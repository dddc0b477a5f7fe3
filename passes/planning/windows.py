"""The bytes of each arena buffer actually in use at each step (its window).

A root `buf.alloc` can hold several tensors one after another: overlap-buffers groups a
convolution's dying input with its output, and a chain of such layers slides down
through one buffer, each step touching only the two tensors of that layer; scratch
placed in holes and concatenation inputs are views live for fewer steps than the whole.
Planned as one interval of its full size, such a buffer would hold memory it does not
use (VWW: a 21-layer chain of 44,928 B, where no step needs more than 27,648 B). This
module finds, for each step of a buffer's live range, the smallest window [lo, hi) of
its bytes that holds everything in use then, so that the planner can let other buffers
use the rest and the lower bound and the report count only what is live.

A byte is in use from the first to the last step that any value covering it is used at
(a call operand; model inputs from step 0, model outputs to the last step): every write
and read of the byte falls in that span, whichever of the aliasing values (a tensor, a
reshape view of it, the overlapping next tensor) performs it. The window of a step is
the hull of the bytes in use then, so it may include dead bytes between two live
tensors, never exclude a live one.
"""

from __future__ import annotations

from utc.compiler.ir import Value
from utc.dialects import buf
from utc.dialects.func import FuncOp

Window = tuple[int, int]


def use_spans(fn: FuncOp) -> dict[Value, tuple[int, int]]:
    """[first, last] step of every arena value (alloc or view) that is used directly."""
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    last_step = max(len(calls) - 1, 0)
    spans: dict[Value, list[int]] = {}

    def touch(v: Value, first: int, last: int) -> None:
        r = spans.setdefault(v, [first, last])
        r[0], r[1] = min(r[0], first), max(r[1], last)

    for v in buf.model_inputs(fn.block.ops).values():
        touch(v, 0, 0)
    for step, call in enumerate(calls):
        for v in call.operand_values:
            touch(v, step, step)
    for v in fn.return_op.operand_values:
        touch(v, 0 if v not in spans else spans[v][0], last_step)
    return {v: (r[0], r[1]) for v, r in spans.items() if buf.root_and_offset(v)[0] is not None}


def byte_spans(pieces: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Merge the (start byte, end byte, first step, last step) of the values in one buffer
    into disjoint byte segments, each in use over the widest span of the values covering
    it: (start, end, first, last), sorted by start. Bytes no value covers are left out."""
    cuts = sorted({p[0] for p in pieces} | {p[1] for p in pieces})
    out: list[tuple[int, int, int, int]] = []
    for lo, hi in zip(cuts, cuts[1:]):
        covering = [p for p in pieces if p[0] <= lo and hi <= p[1]]
        if covering:
            out.append((lo, hi, min(p[2] for p in covering), max(p[3] for p in covering)))
    return out


def windows(fn: FuncOp, live: dict[buf.AllocOp, list[int]]) -> dict[buf.AllocOp, tuple[Window, ...]]:
    """Per-step windows of the buffers that have views (others use all their bytes while
    live): one (lo, hi) per step of `live[alloc]` (plan-memory's live range), (0, 0) at
    a step where none of its bytes is in use."""
    pieces: dict[buf.AllocOp, list[tuple[int, int, int, int]]] = {}
    has_view: set[buf.AllocOp] = set()
    for v, (first, last) in use_spans(fn).items():
        root, offset = buf.root_and_offset(v)
        if v is not root.result:
            has_view.add(root)
        pieces.setdefault(root, []).append((offset, offset + v.type.byte_size, first, last))
    out: dict[buf.AllocOp, tuple[Window, ...]] = {}
    for root in sorted(has_view, key=lambda a: live[a][0]):
        segments = byte_spans(pieces[root])
        start, end = live[root]
        steps = []
        for t in range(start, end + 1):
            used = [(lo, hi) for lo, hi, first, last in segments if first <= t <= last]
            steps.append((min(u[0] for u in used), max(u[1] for u in used)) if used else (0, 0))
        out[root] = tuple(steps)
    return out
