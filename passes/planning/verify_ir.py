"""The IR-level memory-plan checker: re-derives, from the final `buf` IR alone, every arena
byte range each kernel call reads and writes, and checks that the plan is sound.

It shares nothing with the allocators, the liveness of plan-memory or the `live`
attributes they record (which it only checks against): everything is recomputed from the
ops. A value's bytes are found by walking `buf.view`s to their root `buf.alloc`
(`offset` + view offsets), the schedule is the order of `buf.call`s, a call reads its
first `num_inputs` operands and writes the others (outputs and scratch), model inputs are
written before step 0 and model outputs read after the last step. Model input i is the
value carrying `input = i` (`buf.model_inputs`): its own alloc, or a view inside a buffer
overlap-buffers shares with a convolution's output; either way its bytes are written
before step 0 and its root is live from step 0. Checks:

1. Layout: every alloc has an offset that is a multiple of the plan's alignment
   (`plan_alignment`, 16 when absent) and lies inside `arena_bytes`; every view lies
   inside its source; every buffer address is aligned to its element size.
2. Interference: two different root buffers whose live ranges (first to last step that
   touches them, through views) intersect share no byte in use by both at one step (a
   byte is in use from the first to the last step any value covering it is used at: a
   buffer holding a chain of overlapped layers uses a window of its bytes at each step);
   the recorded `live` range of a root covers the derived one.
3. Calls: a call's outputs (and scratch) never overlap each other, and overlap an input
   only when it is exactly the same bytes, the op may run in place on that input
   (`passes/planning/aliasing.py`) and the input has the output's shape; or when the
   kernel is on `OVERLAP_SAFE_KERNELS`, the input is its data input and the output starts
   at least `min_overlap_offset` bytes before it, or, for a channel-wise kernel, a whole
   number of pixels from `channelwise_overlap_pixels` on (passes/planning/overlap.py), or,
   for a call marked `reverse`, the output ends at least `min_reverse_overlap` bytes after
   the input, that rule recomputed here from the call's kernel name, shapes and `stride`/`pad`
   parameters (nothing overlap-buffers records is read); or when the kernel's record has
   `move` (memmove semantics, any overlap). No other partial overlap of an input and an
   output is accepted.
   A kernel with `in_place_pixel` may also have its output start on its data input (or
   below it) when the call is a 1x1 unpadded convolution keeping the input's shape and
   passes a scratch buffer of at least two input pixels (`call_pixel_in_place`): the
   kernel copies each pair of pixels there before writing over them.
4. Dataflow: simulating the schedule byte by byte, every byte a call (or the model's
   output) reads was last written by the value that is meant to hold it: the value
   itself, or, for a view nobody writes (a reshape), what its source holds, or, for a
   value nobody writes directly that has written views inside it (a concatenation placed
   in place), any view inside it; and the written views inside such a container that is
   read do not overlap each other. This is what catches an alias that clobbers data still
   needed (a bad in-place, overlap or view), which the interference check alone, at the
   granularity of root buffers, cannot see. (Written views may overlap inside a buffer
   nobody reads as a whole, e.g. the group of an overlapped input and output: each of them
   is then read only through itself and checked exactly.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from utc.compiler.ir import Module, Value
from utc.dialects import buf
from utc.dialects.func import FuncOp, main_function
from utc.runtime.kernels import KERNELS_BY_NAME

from .aliasing import call_overlap_rule, call_pixel_in_place, call_reverse_overlap, may_alias, may_move_over
from .checker import PlanError
from .regions import region_bases


@dataclass
class _Place:
    """Where an arena value lives: its root alloc, absolute byte range, parent view."""

    value: Value
    root: buf.AllocOp
    start: int
    end: int
    parent: Value | None
    written: bool = False
    children: list[Value] = field(default_factory=list)
    slots: list[Value] | None = None  # _slots, once computed (after `written` is final)


def _name(v: Value) -> str:
    return f"%{v.name_hint}" if v.name_hint else repr(v)


def _places(fn: FuncOp, arena: int, alignment: int, problems: list[str]) -> dict[Value, _Place]:
    places: dict[Value, _Place] = {}
    bases = region_bases(fn.memory_regions, alignment)
    used = {r[0]: int(r[2]) for r in fn.memory_regions or ()}
    for op in fn.block.ops:
        if isinstance(op, buf.AllocOp):
            v = op.result
            if op.offset is None:
                problems.append(f"{_name(v)} has no offset (memory is not planned)")
                continue
            off, size = int(op.offset), int(op.size)
            if off < 0 or off % alignment:
                problems.append(f"{_name(v)}: offset {off} is not a multiple of {alignment}")
            limit, where = arena, "the arena"
            if op.region is not None or bases:
                if op.region not in bases:
                    problems.append(f"{_name(v)}: region {op.region!r} is not one of the "
                                    f"function's memory regions {sorted(bases)}")
                    continue
                limit, where = used[op.region], f"region {op.region}"
            if off + size > limit:
                problems.append(f"{_name(v)}: bytes [{off}, {off + size}) end past {where} "
                                f"({limit} B)")
            off += bases.get(op.region, 0)  # regions side by side in one address space
            places[v] = _Place(v, op, off, off + v.type.byte_size, None)
        elif isinstance(op, buf.ViewOp):
            src = op.operand("source")
            if src not in places:
                continue  # a view of a flash global: not arena memory
            p = places[src]
            start = p.start + int(op.offset)
            end = start + op.result.type.byte_size
            if op.offset < 0 or end > p.end:
                problems.append(f"{_name(op.result)}: view bytes [{start}, {end}) leave its "
                                f"source {_name(src)} [{p.start}, {p.end})")
            places[op.result] = _Place(op.result, p.root, start, end, src)
            p.children.append(op.result)
    for v, p in places.items():
        width = v.type.element.byte_width
        if width > 1 and p.start % width:
            problems.append(f"{_name(v)}: address {p.start} is not aligned to its "
                            f"{width}-byte elements")
    return places


def _model_inputs(fn: FuncOp, places: dict[Value, _Place]) -> list[_Place]:
    """The places of the model inputs (written before step 0), in index order."""
    return [places[v] for v in buf.model_inputs(fn.block.ops).values() if v in places]


def _overlap(a: _Place, b: _Place) -> bool:
    return a.start < a.end and b.start < b.end and max(a.start, b.start) < min(a.end, b.end)


def _check_interference(fn: FuncOp, calls: list[buf.CallOp], places: dict[Value, _Place],
                        problems: list[str]) -> None:
    last = max(len(calls) - 1, 0)
    span: dict[buf.AllocOp, list[int]] = {}
    for p in _model_inputs(fn, places):
        span[p.root] = [0, 0]
    for step, call in enumerate(calls):
        for v in call.operand_values:
            if v in places:
                r = span.setdefault(places[v].root, [step, step])
                r[0], r[1] = min(r[0], step), max(r[1], step)
    for v in fn.return_op.operand_values:
        if v in places:
            r = span.setdefault(places[v].root, [0, last])
            r[1] = last
    for root, (a, b) in span.items():
        live = root.live
        if live is not None and (live[0] > a or live[1] < b):
            problems.append(f"{_name(root.result)}: recorded live range {list(live)} does not "
                            f"cover its uses [{a}, {b}]")
    roots = sorted(span, key=lambda r: (span[r][0], span[r][1]))
    byte_life = _byte_lives(fn, calls, places)
    for i, r1 in enumerate(roots):
        p1 = places[r1.result]
        lo1 = p1.start
        hi1 = lo1 + int(r1.size)
        for r2 in roots[i + 1:]:
            if span[r2][0] > span[r1][1]:
                break
            lo2 = places[r2.result].start
            hi2 = lo2 + int(r2.size)
            if lo1 < hi1 and lo2 < hi2 and max(lo1, lo2) < min(hi1, hi2):
                first, final = max(span[r1][0], span[r2][0]), min(span[r1][1], span[r2][1])
                step = _shared_step(byte_life(r1), lo1, byte_life(r2), lo2, first, final)
                if step is not None:
                    problems.append(f"{_name(p1.value)} [{lo1}, {hi1}) and {_name(r2.result)} "
                                    f"[{lo2}, {hi2}) share bytes in use at step {step}")


def _byte_lives(fn: FuncOp, calls: list[buf.CallOp], places: dict[Value, _Place]):
    """A function root -> (first, last) step arrays over the root's bytes: when each byte
    is in use, from the first to the last step any value covering it is used at (model
    inputs from step 0, outputs to the last step); bytes no value covers are never in use
    (first > last). Computed here from the calls alone, byte by byte."""
    last_step = max(len(calls) - 1, 0)
    uses: dict[Value, list[int]] = {}

    def touch(v: Value, a: int, b: int) -> None:
        r = uses.setdefault(v, [a, b])
        r[0], r[1] = min(r[0], a), max(r[1], b)

    for p in _model_inputs(fn, places):
        touch(p.value, 0, 0)
    for step, call in enumerate(calls):
        for v in call.operand_values:
            if v in places:
                touch(v, step, step)
    for v in fn.return_op.operand_values:
        if v in places:  # from its write (or step 0, if no call writes it) to the end
            touch(v, uses[v][0] if v in uses else 0, last_step)
    cache: dict[buf.AllocOp, tuple[np.ndarray, np.ndarray]] = {}

    def life(root: buf.AllocOp) -> tuple[np.ndarray, np.ndarray]:
        if root not in cache:
            base = places[root.result].start
            first = np.full(int(root.size), len(calls) + 1, np.int64)
            last = np.full(int(root.size), -1, np.int64)
            for v, (a, b) in uses.items():
                p = places[v]
                if p.root is root:
                    lo, hi = p.start - base, p.end - base
                    first[lo:hi] = np.minimum(first[lo:hi], a)
                    last[lo:hi] = np.maximum(last[lo:hi], b)
            cache[root] = (first, last)
        return cache[root]

    return life


def _shared_step(life1, lo1: int, life2, lo2: int, first: int, final: int) -> int | None:
    """The first step in [first, final] at which a byte at the same address is in use in
    both roots (placed at lo1 and lo2), or None."""
    f1, l1 = life1
    f2, l2 = life2
    a, b = max(lo1, lo2), min(lo1 + len(f1), lo2 + len(f2))
    f1, l1 = f1[a - lo1:b - lo1], l1[a - lo1:b - lo1]
    f2, l2 = f2[a - lo2:b - lo2], l2[a - lo2:b - lo2]
    lo, hi = np.maximum(np.maximum(f1, f2), first), np.minimum(np.minimum(l1, l2), final)
    both = lo <= hi
    return int(lo[both].min()) if both.any() else None


def _check_calls(calls: list[buf.CallOp], places: dict[Value, _Place],
                 problems: list[str]) -> None:
    for step, call in enumerate(calls):
        ins = call.inputs
        outs = [v for v in call.outputs if v in places]
        for i, a in enumerate(outs):
            for b in outs[i + 1:]:
                if _overlap(places[a], places[b]):
                    problems.append(f"step {step} ({call.attrs['callee']}): outputs {_name(a)} "
                                    f"and {_name(b)} overlap")
        for w in outs:
            pw = places[w]
            scratch = bool(getattr(w.op, "attrs", {}).get("scratch"))
            for index, v in enumerate(ins):
                if v not in places or not _overlap(pw, places[v]):
                    continue
                pv = places[v]
                same = (pv.start, pv.end) == (pw.start, pw.end)
                if not scratch and same and may_alias(call.callee, index, v, w):
                    continue  # in place
                if not scratch and index == 0 and may_move_over(call.callee):
                    continue  # memmove semantics: any overlap
                if not scratch and index == 0 and _pixel_in_place(call, v, w, pv, pw):
                    continue  # in place with a two-pixel buffer
                if call.attrs.get("reverse"):
                    problems.extend(_reverse_problems(step, call, index, v, w, pv, pw, scratch))
                    continue
                rule = call_overlap_rule(call.callee, call.attrs, index, v, w)
                if not scratch and rule is not None and rule.allows(pv.start - pw.start):
                    continue  # the output runs ahead of the input it overwrites
                if rule is not None and not scratch:
                    gap = pv.start - pw.start
                    where = f"{gap} B before" if gap >= 0 else f"{-gap} B after"
                    problems.append(f"step {step} ({call.attrs['callee']}): output {_name(w)} "
                                    f"[{pw.start}, {pw.end}) starts {where} its input "
                                    f"{_name(v)} [{pv.start}, {pv.end}); the kernel's access "
                                    f"order needs it to start at least {rule.row_bytes} B before"
                                    + ("" if rule.channel_bytes is None else
                                       f" (or a multiple of {rule.channel_bytes} B from "
                                       f"{rule.channel_min} B on, channel-wise)"))
                else:
                    problems.append(f"step {step} ({call.attrs['callee']}): output {_name(w)} "
                                    f"[{pw.start}, {pw.end}) overlaps input {_name(v)} "
                                    f"[{pv.start}, {pv.end}) and the kernel may not run in "
                                    "place there")


def _pixel_in_place(call, v: Value, w: Value, pv: _Place, pw: _Place) -> bool:
    """A kernel with `in_place_pixel` may have its output start on its data input or below
    it when the call is a 1x1 convolution keeping the input's shape
    (`call_pixel_in_place`) and passes a scratch buffer of at least two pixels' bytes
    (the kernel's `pixel`: its first scratch buffer, which the checks above keep off the
    input and the output)."""
    ins = call.inputs
    need = call_pixel_in_place(call.callee, call.attrs, v, w, ins[1] if len(ins) > 1 else None)
    if need is None or pv.start < pw.start or KERNELS_BY_NAME[call.callee].in_place_pixel != call.callee:
        return False  # (the kernel itself must be the in-place one: it then gets the buffer)
    pixel = [u for u in call.outputs if buf.is_scratch(u)]
    return bool(pixel) and pixel[0].type.byte_size >= need


def _reverse_problems(step: int, call, index: int, v: Value, w: Value, pv: _Place,
                      pw: _Place, scratch: bool) -> list[str]:
    """A call that runs its rows in reverse (`reverse` attribute) may overlap only its data
    input, with its output ending at least `call_reverse_overlap` bytes after it."""
    ins = call.inputs
    need = None if scratch or index != 0 else call_reverse_overlap(
        call.callee, call.attrs, v, w, ins[1] if len(ins) > 1 else None)
    if need is not None and pw.end - pv.end >= need:
        return []
    callee = call.attrs["callee"]
    if need is None:
        return [f"step {step} ({callee}): output {_name(w)} [{pw.start}, {pw.end}) overlaps "
                f"input {_name(v)} [{pv.start}, {pv.end}) and the kernel may not run in "
                "reverse over it"]
    return [f"step {step} ({callee}): output {_name(w)} [{pw.start}, {pw.end}) ends "
            f"{pw.end - pv.end} B after its input {_name(v)} [{pv.start}, {pv.end}) ends; the "
            f"kernel's reverse access order needs at least {need} B"]


def _slots(p: _Place, places: dict[Value, _Place]) -> list[Value]:
    """The written views inside `p`, reached through views nobody writes.

    Memoized on the place (`slots`) once the `written` flags are final: `_holder` asks
    again for every ancestor of every value read, which on a long chain of views (a
    thousand reshapes) would otherwise walk the same subtrees again and again (cubic)."""
    if p.slots is not None:
        return p.slots
    slots, todo = [], list(p.children)
    while todo:
        c = todo.pop()
        if places[c].written:
            slots.append(c)
        else:
            todo.extend(places[c].children)
    p.slots = slots
    return slots


def _holder(v: Value, places: dict[Value, _Place]) -> Value:
    """The value whose writes define what `v` reads: itself when written or when it is a
    container (nobody writes it but views inside it are written), else up the views while
    nobody writes them; a root nobody writes is its own holder."""
    p = places[v]
    while not p.written and p.parent is not None and not _slots(p, places):
        p = places[p.parent]
    return p.value


def _inside(v: Value, container: Value, places: dict[Value, _Place]) -> bool:
    p = places[v]
    while p.parent is not None:
        if p.parent is container:
            return True
        p = places[p.parent]
    return False


def _check_dataflow(fn: FuncOp, calls: list[buf.CallOp], places: dict[Value, _Place],
                    arena: int, problems: list[str]) -> None:
    for call in calls:
        for v in call.outputs:
            if v in places:
                places[v].written = True
    inputs = _model_inputs(fn, places)
    for p in inputs:
        p.written = True
    # containers that are read: the written views inside them (through unwritten views)
    # are their slots, any of which a read of the container accepts, so they must not
    # overlap each other
    # (a slot first written after the container's last read, e.g. an in-place call's
    # output over a patch stage's split tensor, is not one of the container's contents)
    last_read: dict[Value, int] = {}
    first_write: dict[Value, int] = {}
    for step, call in enumerate(calls):
        for v in call.inputs:
            if v in places:
                last_read[_holder(v, places)] = step
        for v in call.outputs:
            first_write.setdefault(v, step)
    for v in fn.return_op.operand_values:
        if v in places:
            last_read[_holder(v, places)] = len(calls)
    for c in last_read:
        p = places[c]
        if p.written:
            continue
        slots = sorted((s for s in _slots(p, places) if first_write.get(s, -1) < last_read[c]),
                       key=lambda s: (places[s].start, places[s].end))
        for i, a in enumerate(slots):
            for b in slots[i + 1:]:
                if places[b].start >= places[a].end:
                    break
                if _overlap(places[a], places[b]):
                    problems.append(f"{_name(a)} and {_name(b)} are written into overlapping "
                                    f"bytes of {_name(p.value)}")
    ids = {v: i for i, v in enumerate(places)}
    values = list(places)
    owner = np.full(max(arena, 1), -1, dtype=np.int64)
    for p in inputs:  # written before step 0
        owner[p.start:p.end] = ids[p.value]

    def read(v: Value, where: str) -> None:
        p = places[v]
        holder = _holder(v, places)
        hp = places[holder]
        for w_id in np.unique(owner[p.start:p.end]):
            if w_id < 0:
                problems.append(f"{where} reads {_name(v)} [{p.start}, {p.end}) before all of "
                                "its bytes were written")
                continue
            w = values[w_id]
            ok = w is holder or (not hp.written and _inside(w, holder, places))
            if not ok:
                problems.append(f"{where} reads {_name(v)} [{p.start}, {p.end}) but {_name(w)} "
                                f"overwrote some of its bytes")

    for step, call in enumerate(calls):
        where = f"step {step} ({call.attrs['callee']})"
        for v in call.inputs:
            if v in places:
                read(v, where)
        for v in call.outputs:
            if v in places:
                p = places[v]
                owner[p.start:p.end] = ids[v]
    for v in fn.return_op.operand_values:
        if v in places:
            read(v, "the model output")


def verify_memory_plan(module: Module) -> list[str]:
    """Every problem of the module's memory plan, as sentences; empty when it is sound."""
    fn = main_function(module)
    if fn.arena_bytes is None:
        return ["memory is not planned (no arena_bytes on the function)"]
    arena = int(fn.arena_bytes)
    alignment = int(fn.plan_alignment or 16)
    problems: list[str] = []
    places = _places(fn, arena, alignment, problems)
    if problems:
        return problems
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    _check_interference(fn, calls, places, problems)
    _check_calls(calls, places, problems)
    _check_dataflow(fn, calls, places, arena, problems)
    return problems


def assert_memory_plan(module: Module) -> None:
    """Raise `PlanError` listing every problem `verify_memory_plan` finds."""
    problems = verify_memory_plan(module)
    if problems:
        raise PlanError(f"invalid memory plan ({len(problems)} problem"
                        f"{'s' if len(problems) != 1 else ''}):\n  " + "\n  ".join(problems))


def is_planned(module: Module) -> bool:
    """Does the module carry a memory plan (a function with `arena_bytes`)?"""
    try:
        fn = main_function(module)
    except ValueError:
        return False
    return fn.arena_bytes is not None


def memory_plan_check(module: Module) -> list[str]:
    """The `--verify-each` form of the checker: nothing to check before plan-memory ran."""
    if not is_planned(module):
        return []
    return [f"the memory plan is invalid: {p}" for p in verify_memory_plan(module)]


def verify_shared_arena(modules: list[Module], offsets: list[int], arena_bytes: int,
                        alignment: int, concurrent: bool) -> list[str]:
    """Every problem of several models planned into one arena (`planning/shared.py`), as
    sentences; empty when sound. Each model's own plan is checked in full
    (`verify_memory_plan`); then, from its `buf.alloc`s alone (not the recorded layout):
    its base offset is a multiple of `alignment` and of its own plan alignment, and every
    allocation, moved to that base, ends inside the shared arena. For concurrent models
    (runs may interleave, so all of one model's buffers may be live during any step of
    another) no byte of one model's allocations is a byte of another's."""
    problems: list[str] = []
    if len(offsets) != len(modules):
        return [f"{len(offsets)} offsets for {len(modules)} models"]
    ranges: list[list[tuple[int, int, str]]] = []
    for module, base in zip(modules, offsets):
        fn = main_function(module)
        problems += [f"{module.name}: {p}" for p in verify_memory_plan(module)]
        if fn.memory_regions:
            problems.append(f"{module.name}: memory regions cannot share an arena")
        own = int(fn.plan_alignment or 16)
        if base < 0 or base % alignment or base % own:
            problems.append(f"{module.name}: base offset {base} is not a multiple of the shared "
                            f"alignment {alignment} and its own {own}")
        if base + int(fn.arena_bytes or 0) > arena_bytes:
            problems.append(f"{module.name}: its arena [{base}, {base + int(fn.arena_bytes)}) ends "
                            f"past the shared arena ({arena_bytes} B)")
        spans = []
        for op in fn.block.ops:
            if isinstance(op, buf.AllocOp) and op.offset is not None and int(op.size) > 0:
                lo = base + int(op.offset)
                hi = lo + int(op.size)
                if hi > arena_bytes:
                    problems.append(f"{module.name}: {_name(op.result)} bytes [{lo}, {hi}) end "
                                    f"past the shared arena ({arena_bytes} B)")
                spans.append((lo, hi, _name(op.result)))
        ranges.append(spans)
    if concurrent:
        for i in range(len(modules)):
            for j in range(i + 1, len(modules)):
                for lo1, hi1, n1 in ranges[i]:
                    for lo2, hi2, n2 in ranges[j]:
                        if max(lo1, lo2) < min(hi1, hi2):
                            problems.append(
                                f"concurrent models share bytes: {modules[i].name} {n1} "
                                f"[{lo1}, {hi1}) and {modules[j].name} {n2} [{lo2}, {hi2})")
    return problems
