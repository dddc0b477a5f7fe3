"""`scratch-in-holes`: put a kernel's scratch buffer into bytes of a live buffer that
nothing needs during that kernel's step.

A kernel's scratch (CMSIS-NN's im2col or column buffers) lives for one step. plan-memory
places it like any other buffer, so when its step is at the arena's peak it raises the
arena by its size, even though a buffer live at that step often has bytes nobody needs
right then: `overlap-buffers` makes one buffer of a whole chain of convolutions (KWS: one
11,898 B group from the first convolution to the pooling), whose early steps use only the
top of it. This pass finds such holes and makes the scratch a `buf.view` (still marked
`scratch`) of the buffer that has one, at the lowest offset that fits.

A byte of a root buffer R is busy at step s when some value inside R covering it (R's own
value or any view of it) is in use over an interval of steps that contains s. A value's
interval is the hull of the steps at which it, or any buffer it is a view of, is a call
operand (written or read), widened to step 0 for a model input and to
the last step for a model output: a value is written at the first of those steps and
its bytes are needed until the last. The hole must also lie in R's own live range, so
plan-memory keeps R's bytes for R at that step. The plan checker
(`passes/planning/verify_ir.py`: interference and byte-level dataflow) still replays the
whole plan, so a wrong hole is a refused plan, not wrong outputs.

Runs after the passes that make views (inplace, concat-in-place, overlap-buffers) and
before plan-memory; it only moves scratch, so without scratch it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module, Value
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import buf, func
from utc.dialects.func import main_function
from utc.passes.plan_memory import live_ranges
from utc.passes.planning.overlap import align_up


def busy_ranges(fn: func.FuncOp, root: buf.AllocOp) -> list[tuple[int, int, int, int]]:
    """(first step, last step, first byte, end byte) of every value inside `root` whose
    bytes are ever needed (bytes relative to the root)."""
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    last_step = max(len(calls) - 1, 0)
    returned = {id(v) for v in fn.return_op.operand_values}
    inputs = {id(v) for v in buf.model_inputs(fn.block.ops).values()}
    step_of = {id(c): i for i, c in enumerate(calls)}
    # the tree of views: value -> (parent, byte offset in the root)
    parent: dict[int, Value | None] = {id(root.result): None}
    place: dict[int, tuple[Value, int]] = {id(root.result): (root.result, 0)}
    todo = [root.result]
    while todo:
        v = todo.pop()
        for user in v.users:
            if isinstance(user, buf.ViewOp) and user.operand("source") is v:
                w = user.result
                parent[id(w)] = v
                place[id(w)] = (w, place[id(v)][1] + int(user.offset))
                todo.append(w)
    own: dict[int, list[int]] = {}
    for key, (v, _) in place.items():
        steps = [step_of[id(u)] for u in v.users if isinstance(u, buf.CallOp)]
        if key in inputs:
            steps.append(0)
        if key in returned:
            steps += [0 if not steps else min(steps), last_step]
        if steps:
            own[key] = [min(steps), max(steps)]
    # a value's bytes are also needed while any buffer it is a view of is in use (a
    # concatenation's slots, written one by one, are read together); a buffer nobody
    # uses itself (a group of overlapping buffers) is busy only where its views are
    hull: dict[int, list[int]] = {}
    for key in place:
        h = list(own[key]) if key in own else None
        p = parent[key]
        while p is not None:
            r = own.get(id(p))
            if r is not None:
                h = [min(h[0], r[0]), max(h[1], r[1])] if h else list(r)
            p = parent[id(p)]
        if h is not None:
            hull[key] = h
    return sorted((h[0], h[1], place[key][1], place[key][1] + place[key][0].type.byte_size)
                  for key, h in hull.items())


def find_hole(busy: list[tuple[int, int, int, int]], step: int, size: int, capacity: int,
              alignment: int) -> int | None:
    """The lowest `alignment`-aligned offset of `size` free bytes in [0, capacity) at
    `step`, given the busy (first step, last step, start, end) ranges; None if none."""
    taken = sorted((lo, hi) for first, last, lo, hi in busy if first <= step <= last and lo < hi)
    offset = 0
    for lo, hi in taken:
        if offset + size <= lo:
            break
        offset = max(offset, align_up(hi, alignment))
    return offset if offset + size <= capacity else None


@register_pass
@dataclass(frozen=True)
class ScratchInHoles(Pass):
    """Place kernel scratch buffers inside bytes of live buffers unused at their step."""

    name = "scratch-in-holes"
    alignment: int = 16  # plan-memory's: keeps the scratch as aligned as an arena offset

    def __post_init__(self) -> None:
        if self.alignment < 1 or self.alignment & (self.alignment - 1):
            raise ValueError(f"alignment must be a power of two, got {self.alignment}")

    def run(self, module: Module) -> None:
        fn = main_function(module)
        calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
        if not calls:
            return
        ranges = live_ranges(fn)
        roots = [op for op in fn.block.ops if isinstance(op, buf.AllocOp)
                 and not op.scratch]
        busy = {id(r): busy_ranges(fn, r) for r in roots}
        for step, call in enumerate(calls):
            for v in call.outputs:
                scratch = v.op
                if not (isinstance(scratch, buf.AllocOp) and scratch.scratch) \
                        or len(v.users) != 1:
                    continue
                size = int(scratch.size)
                for root in roots:
                    first, last = ranges[root]
                    if not first <= step <= last:
                        continue
                    offset = find_hole(busy[id(root)], step, size, int(root.size),
                                       self.alignment)
                    if offset is None:
                        continue
                    view = buf.ViewOp([root.result], [v.type],
                                      {"offset": offset, "scratch": True},
                                      location=scratch.location, result_names=["scratch"])
                    fn.block.insert_before(call, view)  # the root is defined by now
                    v.replace_all_uses_with(view.result)
                    scratch.erase()
                    busy[id(root)].append((step, step, offset, offset + size))
                    break
