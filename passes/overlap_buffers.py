"""`overlap-buffers`: let a sliding-window kernel's output overlap the input that dies there.

A convolution, depthwise convolution or pooling kernel whose record has `overlap` (`runtime/kernels.py`)
(passes/planning/aliasing.py) writes its output in increasing row order and never
reads above the rows it has still to cover, so its output may start
`min_overlap_offset` bytes before its input, the two sharing the rest
(passes/planning/overlap.py). For every such `buf.call` whose

- data input lives in an arena buffer `R` (a `buf.alloc`, possibly a model input, not
  scratch or flash) that dies at this call: no later call touches `R` or any view of it
  and none of them is a model output, and no other operand of the call shares `R`;
- output is a fresh arena `buf.alloc` `O` (not a model input or scratch) with batch 1;
- overlap saves bytes: the offset `d` (the formula, rounded up to `alignment` so that the
  views stay aligned) leaves the group smaller than the two buffers apart;

the pass replaces `R` and `O` by one `buf.alloc` `G` of max(d + size(R), size(O)) bytes,
placed before both, with `O` becoming `buf.view(G, offset=0)` and `R`
`buf.view(G, offset=d)` (less the input's own offset inside `R`, rounded up). Earlier
views of `R` follow it. Because `R` may itself be a group made at an earlier step, a
chain of convolutions slides down through memory in one buffer.

`G` is one planning interval, live from `R`'s first use to `O`'s last, so at the steps
before the call it holds `d` bytes more than `R` did (and after it, more than `O` did when
the group is larger than the output). A grouping is therefore kept only when it lowers the
fixed-order lower bound of the plan (plan-memory's bound, over root buffers): one that
leaves the bound where it was saves no arena byte but still costs time, since an
overlapped kernel must finish its output row by row (VWW: 69 such groupings saved 0 B
and cost 5 M instructions on Cortex-M4). Groupings are tried in schedule order, each on
the plan the previous ones left. When one does not lower the bound, the chain it starts
(the next call that reads the group as it dies) is followed until the bound is below where
it was, and the whole prefix is kept (on a chain of equal layers such as DS-CNN's, where
every step is a peak, only the whole chain pays off); if the chain ends first, none of
it is.

A model input may be the dying input `R` too (TFLite Micro likewise reuses a consumed
input tensor's memory): a run then overwrites the input buffer, so with the zero-copy API
the caller fills `NAME_input(i)` before every `NAME_run()`, while `NAME_invoke` copies
the caller's arrays in and never touches them. The marker moves with the buffer: the
view of `G` that replaces the model input's `buf.alloc` carries its `input = i`
attribute (dialects/buf.py; `buf.model_inputs` finds the alloc or the view, and the
verifier allows one buffer per input index), so the emitter points `NAME_input(i)` and
`NAME_invoke`'s copy at the input's bytes inside `G`, plan-memory keeps `G` live from
step 0, and the plan checker treats those bytes as written before step 0. (A marker on
`G` with the input's offset would give `G` two meanings and the input's type would be
lost; on the view, the value that carries the marker is the input, type and address.)
Model outputs are never the dying input (they are read after the last call), and flash
buffers are not arena memory.

**In place with a two-pixel buffer.** A 1x1 unpadded convolution whose output has its
input's shape may instead run right over its input when its kernel's record names an
in-place kernel (`in_place_pixel`: utc_conv2d_s8 -> utc_conv2d_pixel_s8, which copies
each pair of input pixels into a scratch buffer of 2 in_c bytes before writing their
outputs, runtime/utc_conv_s8.h). That link puts the output exactly on the input inside
the source's group (no drift at all: the group keeps its size) and costs the pixel
buffer, a scratch `buf.alloc` live at that call alone (which scratch-in-holes may then
move into free bytes). Forward and reverse overlap need a row of bytes instead
(a pointwise layer's row bound), so in place is smaller wherever a row is more than two
pixels and that step is at the peak. It is tried last: after the searches above, the
same two searches run again from their result with in place as a third state of every
such link (a fresh budget), and their plan is taken only when it holds an in-place link
and its bound is below the plan made without the option, so a model where in place
saves nothing keeps exactly the plan (and the code) it had. The call then names the
in-place kernel and has the pixel buffer as its last operand, which the plan checker
requires before it lets an output sit on its input (passes/planning/verify_ir.py). On
DS-CNN it saves nothing: its depthwise layers slide the chain down one row and one
pixel each, which the pointwise layers' reverse placement slides back up by a row,
whereas in place would leave every depthwise step's drift in the group.

Before changing anything the pass records on the function `no_overlap_lower_bound`: the
fixed-order bound of the buffers as they are without overlap (what plan-memory's
`lower_bound` would be without this pass). plan-memory's `lower_bound` is then the bound
of the grouped buffers, which the arena is measured against (`gap`); both are kept. Run
after `inplace` and `concat-in-place`, right before `plan-memory`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from operator import add, sub

from utc.compiler.ir import I8, MemRefType, Module, Value
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import buf, func
from utc.dialects.buf import root_and_offset
from utc.dialects.func import FuncOp, main_function
from utc.passes.inplace import last_use
from utc.passes.plan_memory import live_ranges, root_alloc
from utc.passes.planning.aliasing import call_overlap_rule, call_pixel_in_place, call_reverse_overlap
from utc.passes.planning.intervals import Buffer, lower_bound
from utc.passes.planning.overlap import OverlapRule
from utc.passes.planning.windows import windows
from utc.runtime.kernels import KERNELS_BY_NAME

#: The function attribute holding the fixed-order bound without overlap (declared in
#: dialects/func.py).
ATTRIBUTE = "no_overlap_lower_bound"


@dataclass(frozen=True)
class Link:
    """What one call allows, read off the IR before any grouping."""

    step: int
    source: buf.AllocOp  # R: the arena buffer the data input lives in (dies at this call)
    input_offset: int  # the data input's byte offset inside R
    output: buf.AllocOp  # O: the fresh output buffer
    rule: OverlapRule  # the offsets the call's kernel allows (row- or channel-wise)
    in_bytes: int = 0  # the data input's bytes
    reverse_need: int | None = None  # min_reverse_overlap, when the kernel can run reversed
    reverse: bool = False  # this grouping runs the kernel's rows in reverse
    pixel: int | None = None  # the two-pixel buffer's bytes, when it can run in place
    in_place: bool = False  # this grouping runs it in place (output on input, pixel buffer)

    @property
    def mode(self) -> int:
        """How the grouping runs the kernel: 0 (False) forward, 1 (True) reversed, 2 in
        place with a two-pixel buffer."""
        return IN_PLACE if self.in_place else int(self.reverse)


#: `Link.mode` of a grouping that runs the kernel in place with a two-pixel buffer.
IN_PLACE = 2


@dataclass
class Group:
    """Root buffers planned as one interval: each member at a byte offset. `window`: the
    bytes (lo, hi) the group uses at each step start..end (the hull of its members'
    windows there; (0, 0) where none is in use)."""

    members: dict[buf.AllocOp, int]
    size: int
    start: int
    end: int
    dead_after: int | None  # the last step touching any member (None: a model output)
    source_offset: int = 0  # where the source's group went inside this one
    output_offset: int = 0  # and where the output went (0 unless the link runs reversed)
    window: tuple[tuple[int, int], ...] = ()

    def at(self, step: int) -> tuple[int, int]:
        return self.window[step - self.start] if self.window else (0, self.size)


def _hull(parts: list[tuple[Group, int]], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The window of groups placed at offsets inside a new one, step by step: at each step
    the lowest and highest byte any part uses there ((0, 0) where none uses any)."""
    n = end - start + 1
    low: list[int | None] = [None] * n
    high = [0] * n
    for g, off in parts:
        window = g.window or ((0, g.size),) * (g.end - g.start + 1)
        for i, (lo, hi) in enumerate(window, g.start - start):
            if hi > lo:
                first = low[i]
                if first is None:
                    low[i], high[i] = off + lo, off + hi
                else:
                    if off + lo < first:
                        low[i] = off + lo
                    if off + hi > high[i]:
                        high[i] = off + hi
    return tuple((0, 0) if lo is None else (lo, hi) for lo, hi in zip(low, high))


def plan_bound(fn: FuncOp) -> int:
    """plan-memory's fixed-order lower bound of the function's root buffers (raw sizes)."""
    ranges = live_ranges(fn)
    return int(lower_bound([Buffer(f"b{i}", a.size, *ranges[a])
                            for i, a in enumerate(ranges)], aligned=False))


def _fresh_output(call: buf.CallOp) -> Value | None:
    outs = [v for v in call.outputs
            if not (isinstance(v.op, buf.AllocOp) and v.op.scratch)]
    if len(outs) != 1:
        return None
    out = outs[0]
    alloc = getattr(out, "op", None)
    if not isinstance(alloc, buf.AllocOp) or alloc.input is not None or alloc.scratch:
        return None
    if any(not isinstance(user, buf.CallOp | func.ReturnOp | buf.ViewOp) for user in out.users):
        return None
    return out


def link(call: buf.CallOp, step: int, step_of: dict[buf.CallOp, int]) -> Link | None:
    """The grouping this call allows on the current IR (before sizes are weighed), or None:
    an allow-listed kernel with batch 1 whose data input's arena buffer (a model input
    too) dies here and is shared by no other operand, and whose output is a fresh arena
    buffer."""
    ins = call.inputs
    out = _fresh_output(call) if ins else None
    if out is None:
        return None
    v = ins[0]
    rule = call_overlap_rule(call.callee, call.attrs, 0, v, out)
    reverse = call_reverse_overlap(call.callee, call.attrs, v, out,
                                   ins[1] if len(ins) > 1 else None)
    pixel = call_pixel_in_place(call.callee, call.attrs, v, out, ins[1] if len(ins) > 1 else None)
    if rule is None:
        return None
    source, offset = root_and_offset(v)
    if source is None or source is out.op or source.scratch:
        return None
    end = last_use(source, step_of)
    if end is None or end > step:
        return None
    others = [w for w in call.operand_values if w is not v and w is not out]
    if any(root_alloc(w) in (source, out.op) for w in others):
        return None
    return Link(step, source, offset, out.op, rule, int(v.type.byte_size), reverse, pixel=pixel)


def merged(groups: dict[buf.AllocOp, Group], lk: Link, alignment: int) -> Group | None:
    """The group `lk` makes of the group holding its source and its output's, or None when
    that saves no byte or the source's group is not dead after the call."""
    src, dst = groups[lk.source], groups[lk.output]
    if src is dst or len(dst.members) != 1:
        return None
    if src.dead_after is None or src.dead_after > lk.step:
        return None
    base = src.members[lk.source] + lk.input_offset  # the input inside the source's group
    if lk.in_place:
        # the output exactly on the input, wherever the input sits in the source's group
        source_offset, output_offset = 0, base
    elif lk.reverse:
        # the output ends reverse_need bytes or more after the input ends: input_start -
        # output_start = (output - input bytes - that) at most, rounded down to the grid
        shift = -((-(base - (dst.size - lk.in_bytes - lk.reverse_need))) // alignment) * alignment
        source_offset, output_offset = max(0, -shift), max(0, shift)
    else:
        source_offset, output_offset = lk.rule.least(base, alignment), 0
    size = max(source_offset + src.size, output_offset + dst.size)
    if size >= src.size + dst.size:
        return None  # no byte saved
    members = {m: off + source_offset for m, off in src.members.items()}
    members[lk.output] = output_offset
    dead = None if dst.dead_after is None else max(src.dead_after, dst.dead_after)
    start, end = min(src.start, dst.start), max(src.end, dst.end)
    return Group(members, size, start, end, dead, source_offset, output_offset,
                 _hull([(src, source_offset), (dst, output_offset)], start, end))


def _bytes_in_use(g: Group) -> tuple[int, ...]:
    """The bytes `g` holds at each step g.start..g.end (its window's width, or its whole size
    where it has no window). Cached on the group: groups are never changed once made."""
    use = g.__dict__.get("_use")
    if use is None:
        use = (tuple(hi - lo for lo, hi in g.window) if g.window
               else (g.size,) * (g.end - g.start + 1))
        g.__dict__["_use"] = use
    return use


@dataclass
class Plan:
    """A state of the search: the group holding each root buffer, the bytes in use at each
    step (each group counting its window) and the largest group's size. Kept up to date
    one grouping at a time (`_with`), so weighing a plan never walks every group's window
    again."""

    groups: dict[buf.AllocOp, Group]
    use: list[int]
    largest: int

    @classmethod
    def of(cls, groups: dict[buf.AllocOp, Group]) -> Plan:
        unique = {id(g): g for g in groups.values()}.values()
        use = [0] * (max((g.end for g in unique), default=0) + 1)
        for g in unique:
            for t, b in enumerate(_bytes_in_use(g), g.start):
                use[t] += b
        return cls(groups, use, max((g.size for g in unique), default=0))


def _with(plan: Plan, g: Group, parts: tuple[Group, Group], scratch: tuple[int, int] = (0, 0)
          ) -> Plan:
    """The plan with `g` in place of `parts`, the two groups it merges (the source's and the
    output's). `g` is at least as large as either, so the largest size only grows.
    `scratch`: (step, bytes) of a scratch buffer the grouping adds (an in-place link's
    pixel buffer, live at its call alone)."""
    groups, use = plan.groups.copy(), plan.use[:]
    use[scratch[0]] += scratch[1]
    for old in parts:
        lo = old.start
        hi = lo + len(_bytes_in_use(old))
        use[lo:hi] = map(sub, use[lo:hi], _bytes_in_use(old))
    lo = g.start
    hi = lo + len(_bytes_in_use(g))
    use[lo:hi] = map(add, use[lo:hi], _bytes_in_use(g))
    for m in g.members:
        groups[m] = g
    return Plan(groups, use, max(plan.largest, g.size))


def _bound(plan: Plan) -> int:
    """The least arena the groups allow: the most bytes in use at one step (each group
    counting its window: plan-memory's lower bound), and at least every group whole (a
    group is one buffer: a chain that drifts far down through it needs all of it)."""
    return max(max(plan.use, default=0), plan.largest)


#: Most selections the local search in `choose` evaluates (a count, never a clock: the
#: same model always gets the same plan). Each costs about one pass over the links.
SEARCH_EVALUATIONS = 400


class _Merges:
    """`merged` remembered: the search re-applies the same links to the same groups over
    and over (every selection it weighs replays the links in schedule order, and the
    groups before the first changed link are the very objects of the previous replay),
    so each distinct (source group, output group, link) is merged once. Keyed by the
    groups' ids, the groups kept alive by the table so that no id is reused."""

    def __init__(self, alignment: int) -> None:
        self.alignment = alignment
        self.table: dict[tuple[int, int, int, int], tuple[Group, Group, Group | None]] = {}

    def parts_and_group(self, groups: dict[buf.AllocOp, Group], lk: Link
                        ) -> tuple[Group, Group, Group | None]:
        """The source's group, the output's and the group merging them (or None)."""
        src, dst = groups[lk.source], groups[lk.output]
        key = (id(src), id(dst), lk.step, lk.mode)
        hit = self.table.get(key)
        if hit is None:
            hit = self.table[key] = (src, dst, merged(groups, lk, self.alignment))
        return hit


def apply_links(initial: Plan, links: list[Link], merge: _Merges
                ) -> tuple[Plan, list[tuple[Link, Group]]]:
    """The groups the given links make, applied in schedule order (a link that no longer
    saves a byte or whose source is still needed is skipped), and the (link, group)
    pairs made."""
    plan, made = initial, []
    for lk in links:
        src, dst, g = merge.parts_and_group(plan.groups, lk)
        if g is not None:
            plan = _with(plan, g, (src, dst), (lk.step, lk.pixel or 0) if lk.in_place else (0, 0))
            made.append((lk, g))
    return plan, made


def choose(fn: FuncOp, alignment: int) -> list[tuple[Link, Group]]:
    """The groupings to make, in schedule order, with the group each one yields.

    First greedily, in schedule order: a grouping is kept when the plan's bound (`_bound`:
    the bytes in use at the fullest step, and every group whole) falls; when it does not,
    the chain it starts is followed (the call where the new group dies, if that call can
    extend it) until the bound is below where it was, and the whole prefix is kept. Then
    a local search toggles one grouping at a time, keeping a change when the bound falls
    or stays with fewer groupings (each costs time: an overlapped kernel finishes its
    output row by row). Dropping a link in the middle of a chain re-bases it: a forward
    chain slides down through memory (each output starts below its input), so a long
    one can need more bytes whole than any of its steps uses (VWW: steps 0-2 chained
    span 47,616 B where no step uses more than 37,248 B); split, the part after the
    break starts again wherever the planner puts it."""
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    step_of = {c: i for i, c in enumerate(calls)}
    links = [link(c, i, step_of) for i, c in enumerate(calls)]
    ranges = live_ranges(fn)
    used = windows(fn, ranges)
    groups0: dict[buf.AllocOp, Group] = {}
    for a, (start, end) in ranges.items():
        groups0[a] = Group({a: 0}, int(a.size), start, end, last_use(a, step_of),
                           window=used.get(a, ()))
    merge = _Merges(alignment)
    initial = Plan.of(groups0)
    plan, bound = initial, _bound(initial)
    chosen: list[tuple[Link, Group]] = []
    for lk in links:
        if lk is None:
            continue
        src, dst, g = merge.parts_and_group(plan.groups, lk)
        if g is None:
            continue
        trial, tentative = _with(plan, g, (src, dst)), [(lk, g)]
        while _bound(trial) >= bound:
            if trial.largest >= bound:
                # a merge is never smaller than its parts, so no longer chain can bring
                # the bound below where it was: give up now instead of at the chain's end
                break
            nxt = links[g.dead_after] if g.dead_after is not None else None
            if nxt is None or nxt.step <= lk.step or trial.groups[nxt.source] is not g:
                break
            src, dst, g = merge.parts_and_group(trial.groups, nxt)
            lk = nxt
            if g is None:
                break
            trial = _with(trial, g, (src, dst))
            tentative.append((lk, g))
        else:
            plan, bound = trial, _bound(trial)
            chosen += tentative
    candidates = {lk.step: lk for lk in links if lk is not None}
    # each candidate forward and (where the kernel allows) reversed, made once
    variants = {(t, r): replace(lk, reverse=r) for t, lk in candidates.items()
                for r in ((False, True) if lk.reverse_need is not None else (False,))}
    # and in place with a two-pixel buffer, where the kernel can (tried last, below)
    variants.update({(t, IN_PLACE): replace(lk, in_place=True) for t, lk in candidates.items()
                     if lk.pixel is not None})
    # step -> run reversed; the greedy start runs every link forward
    selected: dict[int, bool] = {lk.step: False for lk, _ in chosen}
    budget = [SEARCH_EVALUATIONS]

    def links_of(sel: dict[int, bool]) -> list[Link]:
        return [variants[t, sel[t]] for t in sorted(sel)]

    def search(selected: dict[int, bool], key, pixel: bool = False) -> dict[int, bool]:
        best = key(*apply_links(initial, links_of(selected), merge))
        # selection -> (its score, the groupings it made): a later sweep weighs many of
        # the same selections again; each still counts against the budget
        weighed: dict[tuple, tuple[tuple, dict[int, bool]]] = {}
        improved = True
        while improved and budget[0] > 0:
            improved = False
            for lk in candidates.values():
                # the other states of this link: off, forward, reversed (if it can)
                states = [None, False] + ([True] if lk.reverse_need is not None else [])
                if pixel and lk.pixel is not None:
                    states.append(IN_PLACE)
                for state in states:
                    if state == selected.get(lk.step) or budget[0] <= 0:
                        continue
                    budget[0] -= 1
                    trial_sel = {t: r for t, r in selected.items() if t != lk.step}
                    if state is not None:
                        trial_sel[lk.step] = state
                    sel_key = tuple(sorted(trial_sel.items()))
                    if sel_key not in weighed:
                        trial, made = apply_links(initial, links_of(trial_sel), merge)
                        weighed[sel_key] = (key(trial, made), {m.step: m.mode for m, _ in made})
                    score, made_sel = weighed[sel_key]
                    if score < best:
                        best, improved = score, True
                        selected = made_sel
        return selected

    # first lower the peak, also through moves that only make fewer steps reach it (two
    # steps at the peak each need their own grouping before the peak falls); then drop
    # the groupings that do not help; at equal bytes fewer groupings, then fewer reversed
    reversed_count = lambda made: sum(m.reverse for m, _ in made)  # noqa: E731
    selected = search(selected, lambda p, made: (*_peaks(p), len(made), reversed_count(made)))
    selected = search(selected, lambda p, made: (_bound(p), len(made), reversed_count(made)))
    today = apply_links(initial, links_of(selected), merge)
    if not any(lk.pixel is not None for lk in candidates.values()):
        return today[1]
    # then, from that plan, the same two searches with in-place links too (a fresh budget);
    # their result is taken only when it holds an in-place link and lowers the bound: where
    # in place saves nothing the plan (and the code) stays what it was without the option.
    # At equal bytes fewer links, then fewer reversed or in-place ones (an in-place
    # kernel copies every pair of pixels before computing it)
    budget[0] = SEARCH_EVALUATIONS
    special = lambda made: (sum(m.mode != 0 for m, _ in made), sum(m.in_place for m, _ in made))  # noqa: E731
    trial_sel = search(selected, lambda p, made: (*_peaks(p), len(made), *special(made)), True)
    trial_sel = search(trial_sel, lambda p, made: (_bound(p), len(made), *special(made)), True)
    trial = apply_links(initial, links_of(trial_sel), merge)
    if _bound(trial[0]) < _bound(today[0]) and any(m.in_place for m, _ in trial[1]):
        return trial[1]
    return today[1]


def _peaks(plan: Plan) -> tuple[int, int]:
    """`_bound` and how many steps (and whole groups) reach it."""
    top = _bound(plan)
    unique = {id(g): g for g in plan.groups.values()}.values()
    return top, plan.use.count(top) + sum(g.size == top for g in unique)


def group(fn: FuncOp, source: buf.AllocOp, output: buf.AllocOp, source_offset: int,
          size: int, output_offset: int = 0) -> buf.AllocOp:
    """Replace `source` and `output` by views (at `source_offset` and `output_offset`) of
    one new buffer of `size` bytes placed before both; return it. A model input's view
    keeps its `input` attribute."""
    block = fn.block
    first = min(block.ops.index(source), block.ops.index(output))
    out_name = output.result.name_hint or "out"
    g = buf.AllocOp([], [MemRefType((size,), I8)], {"size": size},
                    location=output.location, result_names=[f"{out_name}_overlap"])
    block.insert_before(block.ops[first], g)
    for alloc, offset in ((source, source_offset), (output, output_offset)):
        attrs = {"offset": offset}
        if alloc.input is not None:
            attrs["input"] = alloc.input
        view = buf.ViewOp([g.result], [alloc.result.type], attrs,
                          location=alloc.location, result_names=[alloc.result.name_hint])
        block.insert_before(alloc, view)
        alloc.result.replace_all_uses_with(view.result)
        alloc.erase()
    return g


def add_pixel_buffer(fn: FuncOp, call: buf.CallOp, size: int) -> buf.AllocOp:
    """Run `call` in place with a two-pixel buffer: switch it to the kernel its record
    names for that (`in_place_pixel`) and give it the buffer, a scratch `buf.alloc` of
    `size` bytes as its last operand (that kernel's `pixel` parameter is the call's
    scratch)."""
    call.attrs["callee"] = KERNELS_BY_NAME[call.callee].in_place_pixel
    pixel = buf.AllocOp([], [MemRefType((size,), I8)], {"size": size, "scratch": True},
                        location=call.location, result_names=["pixel"])
    fn.block.insert_before(call, pixel)
    call.set_operands([*call.operand_values, pixel.result])
    return pixel


@register_pass
@dataclass(frozen=True)
class OverlapBuffers(Pass):
    """Let conv/depthwise/pool outputs overlap the input that dies at the call."""

    name = "overlap-buffers"
    alignment: int = 16  # plan-memory's default: keeps the views as aligned as its offsets

    def __post_init__(self) -> None:
        if self.alignment < 1 or self.alignment & (self.alignment - 1):
            raise ValueError(f"alignment must be a power of two, got {self.alignment}")

    def run(self, module: Module) -> None:
        fn = main_function(module)
        if not any(isinstance(op, buf.CallOp) for op in fn.block.ops):
            return  # not bufferized (or nothing to run): no buffers to overlap
        fn.attrs.setdefault(ATTRIBUTE, plan_bound(fn))  # a second run keeps the first value
        holder: dict[buf.AllocOp, buf.AllocOp] = {}  # original root -> alloc holding it now
        calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
        for lk, g in choose(fn, self.alignment):
            source = holder.get(lk.source, lk.source)
            new = group(fn, source, lk.output, g.source_offset, g.size, g.output_offset)
            if lk.reverse:
                calls[lk.step].attrs["reverse"] = 1
            if lk.in_place:
                add_pixel_buffer(fn, calls[lk.step], lk.pixel)
            for m in g.members:
                holder[m] = new
