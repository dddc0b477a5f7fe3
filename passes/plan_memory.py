"""`plan-memory`: give every arena buffer an offset and a live range.

Liveness over the schedule (the order of `buf.call` ops) yields one interval per
`buf.alloc`: model inputs are live from the first step (and so is the buffer that holds
one as a view, see overlap-buffers), model outputs until the last, views keep their
source alive, and scratch buffers live for their one call. A buffer holding views uses
only a window of its bytes at each step (passes/planning/windows.py), which the
allocator and the bound see. The chosen
allocator (`strategy`) turns intervals into offsets; the pass also computes the
fixed-order lower bound (the most bytes ever live at once) and records on the function
the arena size (`arena_bytes`), that bound (`lower_bound`), the strategy, `gap` (arena
minus bound), the offset alignment (`plan_alignment`) and keeps the `copy_lower_bound`
an earlier pass recorded (the bound without views, in-place kernels, concatenation
placement or PAD folding; see passes/planning/copy_bound.py). It runs the allocator
overlap checker; `--verify-each` and the tests also run the IR-level checker
(passes/planning/verify_ir.py).

State buffers (`buf.state`, persistent variables) are not in the arena: they get
consecutive aligned offsets in the state region, whose size is `state_bytes`, and take
no part in the arena's liveness or reuse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Value
from utc.compiler.pass_manager import Pass, register_module_check, register_pass
from utc.dialects import buf, func
from utc.dialects.func import main_function
from utc.passes.planning.allocators import STRATEGIES, arena_size
from utc.passes.planning.checker import check_plan
from utc.passes.planning.intervals import Buffer, lower_bound
from utc.passes.planning.regions import RegionsFull, assign_regions, format_regions, parse_regions
from utc.passes.planning.state import pack_state
from utc.passes.planning.verify_ir import memory_plan_check
from utc.passes.planning.windows import windows
from utc.runtime.kernels import call_macs

# --verify-each replays the plan with the independent checker after every pass
register_module_check(memory_plan_check)


def _heat(fn: func.FuncOp, allocs: list[buf.AllocOp]) -> list[float]:
    """Multiply-accumulates of the calls touching each buffer, per byte of it."""
    work = {a: 0 for a in allocs}
    for call in (op for op in fn.block.ops if isinstance(op, buf.CallOp)):
        cost = call_macs(call)
        for a in {root_alloc(v) for v in call.operand_values} - {None}:
            work[a] += cost
    return [work[a] / max(1, int(a.size)) for a in allocs]


def root_alloc(value: Value) -> buf.AllocOp | None:
    """The arena buffer a value lives in (through views), or None for flash globals."""
    return buf.root_and_offset(value)[0]


def live_ranges(fn: func.FuncOp) -> dict[buf.AllocOp, list[int]]:
    """[first, last] schedule step of every arena buffer."""
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    last_step = max(len(calls) - 1, 0)
    ranges: dict[buf.AllocOp, list[int]] = {}
    for op in fn.block.ops:
        if isinstance(op, buf.AllocOp):
            ranges[op] = [None, None]
    for v in buf.model_inputs(fn.block.ops).values():
        # written before the first call: its buffer (the group holding it, when the
        # input is a view) is live from step 0
        r = ranges[root_alloc(v)]
        r[0], r[1] = 0, 0 if r[1] is None else r[1]
    for step, call in enumerate(calls):
        for v in call.operand_values:
            alloc = root_alloc(v)
            if alloc is None:
                continue
            r = ranges[alloc]
            r[0] = step if r[0] is None else min(r[0], step)
            r[1] = step if r[1] is None else max(r[1], step)
    for v in fn.return_op.operand_values:
        alloc = root_alloc(v)
        if alloc is not None:
            r = ranges[alloc]
            r[0] = 0 if r[0] is None else r[0]
            r[1] = last_step
    for alloc, r in ranges.items():
        if r[0] is None:  # never used: give it an empty life at step 0
            ranges[alloc] = [0, 0]
    return ranges


@register_pass
@dataclass(frozen=True)
class PlanMemory(Pass):
    """Assign arena offsets with an interval allocator; record arena size and lower bound."""

    name = "plan-memory"
    strategy: str = "optimal"
    alignment: int = 16
    #: Memory regions, `NAME:BYTES[:SECTION]` separated by ';' (fastest first): each an
    #: arena of its own (passes/planning/regions.py). Empty: one arena.
    regions: str = ""

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy '{self.strategy}' (available: "
                             f"{', '.join(STRATEGIES)})")
        if self.alignment < 1 or self.alignment & (self.alignment - 1):
            raise ValueError(f"alignment must be a power of two, got {self.alignment}")
        parse_regions(self.regions)  # ValueError on a malformed region

    def run(self, module: Module) -> None:
        fn = main_function(module)
        ranges = live_ranges(fn)
        allocs = list(ranges)
        used = windows(fn, ranges)
        buffers = [
            Buffer(f"b{i}", a.size, ranges[a][0], ranges[a][1], self.alignment,
                   used.get(a, ()))
            for i, a in enumerate(allocs)
        ]
        regions = parse_regions(self.regions)
        if regions:
            where, offsets, used = self._assign(fn, allocs, buffers, regions)
            size = sum(used)
        else:
            where, offsets = [None] * len(allocs), STRATEGIES[self.strategy](buffers)
            size = arena_size(buffers, offsets)
            used = [size]
        for r in range(len(regions) or 1):
            members = [k for k, w in enumerate(where) if w == (r if regions else None)]
            problems = check_plan([buffers[k] for k in members], [offsets[k] for k in members],
                                  used[r])
            if problems:
                raise CompileError(f"{self.name}: strategy '{self.strategy}' produced an "
                                   f"invalid plan: {problems[0]}")
        fn.attrs.pop("memory_regions", None)
        for alloc, offset, b, w in zip(allocs, offsets, buffers, where):
            alloc.offset = int(offset)
            alloc.live = (b.start, b.end)
            alloc.attrs.pop("region", None)
            if w is not None:
                alloc.region = regions[w].name
        if regions:
            fn.memory_regions = tuple((r.name, r.capacity, int(u), r.section or "")
                                      for r, u in zip(regions, used))
        bound = int(lower_bound(buffers, aligned=False))
        copy_bound = fn.attrs.pop("copy_lower_bound", None)
        for key in ("arena_bytes", "lower_bound", "plan_strategy", "gap", "plan_alignment"):
            fn.attrs.pop(key, None)
        fn.arena_bytes = int(size)
        fn.lower_bound = bound
        fn.plan_strategy = self.strategy
        fn.gap = int(size) - bound
        if copy_bound is not None:
            fn.copy_lower_bound = int(copy_bound)
        fn.plan_alignment = self.alignment
        states = buf.state_buffers(fn.block.ops)
        fn.state_bytes = None
        if states:
            state_offsets, state_size = pack_state([s.size for s in states], self.alignment)
            for s, offset in zip(states, state_offsets):
                s.offset = offset
            fn.state_bytes = state_size

    def _assign(self, fn: func.FuncOp, allocs: list[buf.AllocOp], buffers: list[Buffer],
                regions: list) -> tuple[list[int], list[int], list[int]]:
        # the allocators ignore names: the IR's make a refusal readable
        named = [replace(b, name=f"%{a.result.name_hint}" if a.result.name_hint else b.name)
                 for a, b in zip(allocs, buffers)]
        try:
            return assign_regions(named, _heat(fn, allocs), regions, STRATEGIES[self.strategy])
        except RegionsFull as e:
            total = sum(r.capacity for r in regions)
            raise CompileError(f"the model does not fit the memory regions "
                               f"({format_regions(regions)}, {total} B in all): {e}") from None

