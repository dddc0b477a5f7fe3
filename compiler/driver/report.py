"""The compile report: per-layer memory and compute, and a memory map of the arena.

`utc compile --report` answers the questions a firmware engineer asks before flashing a
model: which layer costs the most compute, how much flash the weights take, how full the
arena is at every step, where each output lands, and how far the plan is from the best
possible one for this schedule (DESIGN.md §5: the lower bound is recorded and reported).

Everything here is a pure function of a planned `buf`-level module, reading only what
the IR records (the `live`/`offset`/`size` of every `buf.alloc`, the calls in schedule
order, the function's `arena_bytes`, `lower_bound`, `gap` and `copy_lower_bound`): no
side tables, and the same module always gives the same text and the same SVG bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Value
from utc.compiler.ir.printer import sanitize_name
from utc.dialects import buf, state
from utc.dialects.func import FuncOp, main_function
from utc.passes.plan_memory import root_alloc
from utc.passes.planning.regions import region_bases
from utc.passes.planning.windows import windows
from utc.runtime.kernels import MOVE, call_macs

if TYPE_CHECKING:
    from utc.compiler.driver.footprint import Footprint

# ---- the data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArenaBuffer:
    """One `buf.alloc`: a block of arena bytes [offset, offset + size) that is live over
    schedule steps [first, last] (both inclusive). `kind` is input, output, activation or
    scratch; `name` is the buffer's IR name hint, made unique. `windows`: for a buffer
    holding views (an overlap chain, scratch in a hole), the bytes (lo, hi) relative to
    the offset it uses at each step first..last (passes/planning/windows.py); empty: all
    of them."""

    name: str
    kind: str
    size: int
    offset: int
    first: int
    last: int
    windows: tuple[tuple[int, int], ...] = ()
    #: Its memory region (`--memory-region`), or None with one arena. `offset` is then in
    #: the regions laid side by side (passes/planning/regions.py: `region_bases`).
    region: str | None = None

    def live_at(self, step: int) -> bool:
        return self.first <= step <= self.last

    def window(self, step: int) -> tuple[int, int]:
        """The bytes (lo, hi) in use at `step`, relative to the offset; (0, 0) when not
        live."""
        if not self.live_at(step):
            return (0, 0)
        return self.windows[step - self.first] if self.windows else (0, self.size)

    def used(self, step: int) -> int:
        """Bytes in use at `step`."""
        lo, hi = self.window(step)
        return hi - lo


@dataclass(frozen=True)
class LayerRow:
    """One kernel call (`buf.call`) of the schedule, with what it costs."""

    step: int
    location: str  # op.location.describe(): 'TFLite op #3 (model/conv/Relu)'
    sources: tuple[tuple[int, str], ...]  # the TFLite (operator index, tensor name) pairs
    op: str  # the source op, 'qnn.conv2d'
    kernel: str  # the callee, 'utc_conv2d_s8'
    output_shapes: tuple[tuple[int, ...], ...]
    output_dtypes: tuple[str, ...]  # storage types, 'i8'
    macs: int
    weight_bytes: int  # flash: the buf.global operands of this call
    live_bytes: int  # arena bytes live during this step (each buffer counted once)
    output_offsets: tuple[int, ...]  # byte offset of each output in the arena
    scratch_bytes: int
    #: why the preferred library's kernels were passed over (select-kernels), or ""
    kernel_note: str = ""
    #: (index, count) when the call is one tile of a patch stage (`tile = [i, n]`)
    tile: tuple[int, int] | None = None


ARENA_KINDS = ("input", "output", "activation", "scratch")


def _function(module: Module) -> FuncOp:
    fn = main_function(module)
    if fn.arena_bytes is None:
        raise CompileError("report: memory is not planned (run plan-memory first)")
    return fn


def _calls(fn: FuncOp) -> list[buf.CallOp]:
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp)]


def arena_buffers(module: Module) -> list[ArenaBuffer]:
    """Every arena buffer of the planned module, in IR order.

    Views are not listed: they alias bytes of their root buffer, which is what occupies
    the arena. Model outputs are recognised by the function's return (the source of
    truth; an `output` attribute counts too), so no pass has to mark them for the report.
    """
    fn = _function(module)
    bases = region_bases(fn.memory_regions)
    used = windows(fn, {op: list(op.live) for op in fn.block.ops
                        if isinstance(op, buf.AllocOp) and op.live is not None})
    returned = {root_alloc(v) for v in fn.return_op.operand_values}
    holds_input = {root_alloc(v) for v in buf.model_inputs(fn.block.ops).values()}
    taken: set[str] = set()
    out: list[ArenaBuffer] = []
    for op in fn.block.ops:
        if not isinstance(op, buf.AllocOp):
            continue
        if op.live is None or op.offset is None:
            raise CompileError(f"report: {op.where()} has no offset/live range "
                               "(run plan-memory first)")
        if op.scratch:
            kind = "scratch"
        elif op in holds_input:  # a model input's buffer, or the group holding it
            kind = "input"
        elif op in returned or op.output is not None:
            kind = "output"
        else:
            kind = "activation"
        base = sanitize_name(op.result.name_hint or kind)
        name, n = base, 1
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        first, last = op.live
        out.append(ArenaBuffer(name, kind, int(op.size), bases.get(op.region, 0) + int(op.offset),
                               int(first), int(last), used.get(op, ()), op.region))
    return out


def live_profile(module: Module) -> list[int]:
    """Arena bytes live at each schedule step (raw sizes, each buffer once; a buffer
    holding an overlap chain counts only the window in use at that step).

    Its maximum is the fixed-order lower bound plan-memory records: no allocator can make
    this schedule fit in fewer bytes, so it is the yardstick for the arena size.
    """
    fn = _function(module)
    buffers = arena_buffers(module)
    steps = max(len(_calls(fn)), 1)
    return [sum(b.used(s) for b in buffers) for s in range(steps)]


def peak(module: Module) -> tuple[int, int]:
    """(step, bytes) of the most bytes live at once; the earliest such step on ties."""
    profile = live_profile(module)
    best = max(profile)
    return profile.index(best), best


# ---- MACs ----------------------------------------------------------------------------------


def macs(call: buf.CallOp) -> int:
    """Multiply-accumulates of one kernel call (`runtime.kernels.call_macs`)."""
    return call_macs(call)


# ---- rows ----------------------------------------------------------------------------------


def _address(value: Value, bases: dict[str, int]) -> int:
    """Arena byte offset of a value (through views; memory regions side by side at
    `bases`), or -1 for flash."""
    root, offset = buf.root_and_offset(value)
    if root is None:
        return -1
    return bases.get(root.region, 0) + root.offset + offset


def layer_rows(module: Module) -> list[LayerRow]:
    """One row per `buf.call`, in schedule order (step i is the i-th call)."""
    fn = _function(module)
    profile = live_profile(module)
    bases = region_bases(fn.memory_regions)
    rows = []
    for step, call in enumerate(_calls(fn)):
        outs = [v for v in call.outputs if not buf.is_scratch(v)]
        scratch = [v for v in call.outputs if buf.is_scratch(v)]
        weights = sum(v.type.byte_size for v in call.inputs if isinstance(v.op, buf.GlobalOp))
        loc = call.location
        rows.append(LayerRow(
            step=step,
            location=loc.describe(),
            sources=tuple(loc.sources) if loc else (),
            op=call.op,
            kernel=call.callee,
            output_shapes=tuple(tuple(v.type.shape) for v in outs),
            output_dtypes=tuple(str(v.type.element.storage) for v in outs),
            macs=macs(call),
            weight_bytes=int(weights),
            live_bytes=profile[step],
            output_offsets=tuple(_address(v, bases) for v in outs),
            scratch_bytes=sum(v.type.byte_size for v in scratch),
            kernel_note=call.kernel_note or "",
            tile=tile_of(call),
        ))
    return rows


@dataclass(frozen=True)
class StageLayer:
    """One layer of a patch stage: its step calls' MACs summed (`macs`) against the MACs
    of the rows they compute counted once (`untiled_macs`). `patch-stages` caches rows
    (each row is computed once, kept rows move inside their band buffer), so the two are
    equal; the untiled layer may compute trailing rows no later layer reads, which the
    stage skips."""

    sources: tuple[tuple[int, str], ...]
    op: str
    kernel: str
    macs: int
    untiled_macs: int


@dataclass(frozen=True)
class PatchStage:
    """The layers `patch-stages` runs step by step (the function's `patch_stage =
    [layers, rows, tiles]`): steps `first`..`last` of the schedule, `tiles` steps of
    `rows` output rows of the stage's split tensor, each running the moves of the rows its
    band buffers keep and the calls computing new rows (`tile_starts`: the schedule step
    each starts at)."""

    layers: int
    rows: int
    tiles: int
    first: int
    last: int
    stage_layers: tuple[StageLayer, ...]
    tile_starts: tuple[int, ...] = ()
    moves: int = 0
    moved_bytes: int = 0

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self.stage_layers)

    @property
    def untiled_macs(self) -> int:
        return sum(s.untiled_macs for s in self.stage_layers)

    @property
    def recomputed_macs(self) -> int:
        return self.macs - self.untiled_macs


def patch_stage(module: Module) -> PatchStage | None:
    """The patch stage of a planned module, or None when nothing runs tile by tile.

    Read from the IR alone: the calls carrying `tile = [t, n]`, grouped into layers by
    their TFLite source and kernel (first appearance order), the moves (kernel
    `utc_move`) counted apart. Every layer's MACs per output row are uniform."""
    fn = _function(module)
    if fn.patch_stage is None:
        return None
    layers, rows, tiles = (int(v) for v in fn.patch_stage)
    steps = [(s, c) for s, c in enumerate(_calls(fn)) if "tile" in c.attrs]
    if not steps or {int(c.attrs["tile"][1]) for _, c in steps} != {tiles}:
        raise CompileError(f"report: patch_stage = [{layers}, {rows}, {tiles}] but the tile "
                           "calls say otherwise")
    starts: dict[int, int] = {}
    groups: dict[tuple, list[buf.CallOp]] = {}
    moves = moved = 0
    for s, c in steps:
        starts.setdefault(int(c.attrs["tile"][0]), s)
        if c.callee == MOVE.name:
            moves += 1
            moved += c.outputs[0].type.byte_size
            continue
        loc = c.location
        key = (tuple(loc.sources) if loc else (), c.op, c.callee)
        groups.setdefault(key, []).append(c)
    if len(groups) != layers or sorted(starts) != list(range(tiles)):
        raise CompileError(f"report: patch_stage = [{layers}, {rows}, {tiles}] but the tile "
                           f"calls hold {len(groups)} layers in {len(starts)} steps")
    out_layers: list[StageLayer] = []
    for (sources, op, kernel), calls in groups.items():
        total_rows = 0
        per_rows = set()
        for c in calls:
            h = c.outputs[0].type.shape[1]
            per_row, rest = divmod(call_macs(c), h)
            if rest:
                raise CompileError(f"report: {c.where()}: MACs not uniform over rows")
            per_rows.add(per_row)
            total_rows += h
        if len(per_rows) != 1:
            raise CompileError(f"report: {calls[0].where()}: MACs per row differ between steps")
        macs = sum(call_macs(c) for c in calls)
        out_layers.append(StageLayer(sources, op, kernel, macs, per_rows.pop() * total_rows))
    return PatchStage(layers, rows, tiles, steps[0][0], steps[-1][0], tuple(out_layers),
                      tuple(starts[t] for t in range(tiles)), moves, moved)


def tile_of(call: buf.CallOp) -> tuple[int, int] | None:
    """(index, count) of a tile call, or None."""
    tile = call.attrs.get("tile")
    return None if tile is None else (int(tile[0]), int(tile[1]))


def flash_bytes(module: Module) -> tuple[int, int]:
    """(weight tensors, other constants) in bytes: every module resource the IR refers
    to, counted once. Weight tensors are the `buf.global`s; the rest are kernel parameter
    arrays such as per-channel requantization multipliers and shifts. Both end up in
    `NAME_weights.cpp`, so their sum is the model's constant flash."""
    fn = _function(module)
    tensors = {op.value.name for op in fn.block.ops if isinstance(op, buf.GlobalOp)}
    a = b = 0
    for name in module.referenced_resources():
        size = module.resources[name].type.byte_size
        if name in tensors:
            a += size
        else:
            b += size
    return int(a), int(b)


# ---- text ----------------------------------------------------------------------------------


def _n(x: int) -> str:
    return f"{x:,}"


def _clip(text: str, width: int) -> str:
    """Keep the end of a long name (its most specific part) and mark the cut."""
    return text if len(text) <= width else "..." + text[-(width - 3):]


def operator_label(row: LayerRow, op_types: Sequence[str] = ()) -> str:
    """'#3 CONV_2D': the TFLite operator index(es) and type(s) of a call. A fused op lists
    every source (`#2,#3 PAD+CONV_2D`); when the model's operator types are not known
    (`op_types` empty, IR given as text) the IR op stands for them (`#3 qnn.conv2d`)."""
    if not row.sources:
        return row.location
    indices = ",".join(f"#{i}" for i, _ in row.sources)
    types: list[str] = []
    for i, _ in row.sources:
        kind = op_types[i] if 0 <= i < len(op_types) else row.op
        if kind not in types:
            types.append(kind)
    return indices + " " + "+".join(types)


def _operator(row: LayerRow, width: int, op_types: Sequence[str] = ()) -> str:
    return _clip(operator_label(row, op_types), width)


def _shapes(row: LayerRow) -> str:
    return ", ".join("x".join(map(str, s)) + " " + d
                     for s, d in zip(row.output_shapes, row.output_dtypes))


def footprint_lines(footprint: Footprint | None, label: int) -> list[str]:
    """The `code` and `stack` lines of the totals (nothing when not asked for)."""
    if footprint is None:
        return []
    if footprint.code_bytes is None:
        code = footprint.code_note
    else:
        code = (f"{_n(footprint.code_bytes)} B  (.text {_n(footprint.text_bytes)} B + .rodata "
                f"{_n(footprint.rodata_bytes)} B; {footprint.code_note})")
    stack = (footprint.stack_note if footprint.stack_bytes is None
             else f"{_n(footprint.stack_bytes)} B  ({footprint.stack_note})")
    return [f"{'code':<{label}}{code}", f"{'stack':<{label}}{stack}"]


def format_report(module: Module, op_types: Sequence[str] = (),
                  footprint: Footprint | None = None) -> str:
    """The per-layer table followed by the totals, as fixed-width text.

    Numbers use thousands separators; offsets are plain decimals, as in the IR and the
    generated `arena + N` expressions. The peak step is marked with '*'. `op_types`: the
    model's TFLite operator types by index (the operator column); `footprint`: the
    measured code and stack (`footprint.Footprint`), printed next to arena and weights."""
    fn = _function(module)
    rows = layer_rows(module)
    buffers = arena_buffers(module)
    arena, bound = int(fn.arena_bytes), int(fn.lower_bound or 0)
    peak_step, peak_bytes = peak(module)

    stage = patch_stage(module)
    headers = ("step", "operator", "kernel", "output shape", "MACs", "weights B", "live B",
               "offset", "scratch B")
    right = (True, False, False, False, True, True, True, True, True)
    table = [
        (("*" if r.step == peak_step and rows else "") + str(r.step), _operator(r, 48, op_types),
         r.kernel,
         _shapes(r), _n(r.macs), _n(r.weight_bytes), _n(r.live_bytes),
         ",".join(map(str, r.output_offsets)), _n(r.scratch_bytes))
        for r in rows
    ]
    if stage is not None:  # a tile column: 'i/n' counting from 1, blank outside the stage
        headers = headers[:2] + ("tile",) + headers[2:]
        right = right[:2] + (True,) + right[2:]
        table = [t[:2] + ((f"{r.tile[0] + 1}/{r.tile[1]}" if r.tile else ""),) + t[2:]
                 for t, r in zip(table, rows)]
    widths = [max([len(h)] + [len(t[i]) for t in table]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right)).rstrip()

    out = [f"utc report: {module.name}: {len(rows)} kernel calls, memory plan "
           f"'{fn.attrs.get('plan_strategy', '?')}' ('*' marks the peak step)", ""]
    if stage is not None:
        out += [stage_headline(stage, stage_code(module)), ""]
    out += [line(headers), line(["-" * w for w in widths])]
    out += [line(t) for t in table]
    out.append(line(["-" * w for w in widths]))
    if stage is not None:
        out += ["", *stage_lines(stage, op_types)]
    notes = [r for r in rows if r.kernel_note]
    if notes:
        out += ["", "kernel choices (why the preferred library's kernel was not used):"]
        out += [f"  step {r.step}: {r.kernel}: {r.kernel_note}" for r in notes]

    tensors, constants = flash_bytes(module)
    gap = int(fn.gap if fn.gap is not None else arena - bound)
    pct = f"{100.0 * gap / bound:.1f}%" if bound else "n/a"
    copy_bound = fn.copy_lower_bound
    peak_row = rows[peak_step] if rows else None
    label = 20
    out += [
        "",
        f"{'flash (weights)':<{label}}{_n(tensors + constants)} B  (tensors {_n(tensors)} B + "
        f"requantization/kernel constants {_n(constants)} B)",
        *footprint_lines(footprint, label),
        f"{'total MACs':<{label}}{_n(sum(r.macs for r in rows))}",
        f"{'arena':<{label}}{_n(arena)} B",
        f"{'lower bound':<{label}}{_n(bound)} B  (most bytes live at once in this schedule)",
        f"{'gap':<{label}}{_n(gap)} B ({pct})",
    ]
    for name, capacity, used, section in fn.memory_regions or ():
        where = f", section {section}" if section else ""
        out.append(f"{'region ' + name:<{label}}{_n(int(used))} B of {_n(int(capacity))} B"
                   f"{where}  (at {region_bases(fn.memory_regions)[name]} in the offsets above)")
    if fn.state_bytes is not None:
        out.append(state_line(module, label))
    no_overlap = fn.no_overlap_lower_bound
    if no_overlap is not None:
        out.append(f"{'no-overlap bound':<{label}}{_n(int(no_overlap))} B  (the bound without "
                   f"overlapping convolution outputs with their inputs: overlap-buffers saves "
                   f"{_n(int(no_overlap) - bound)} B)")
    if copy_bound is not None:
        saved = int(copy_bound) - bound
        out.append(f"{'copy bound':<{label}}{_n(int(copy_bound))} B  (one buffer per tensor; "
                   f"views, in-place kernels, concat placement, PAD folding and overlap save "
                   f"{_n(saved)} B)")
    out += [
        f"{'peak':<{label}}step {peak_step}, {_n(peak_bytes)} B live"
        + (f"  [{_operator(peak_row, 60, op_types)}, {peak_row.kernel}]" if peak_row else ""),
    ]
    live = sorted((b for b in buffers if b.used(peak_step)),
                  key=lambda b: (b.offset + b.window(peak_step)[0], b.name))
    if live:
        name_w = max(len(b.name) for b in live)
        size_w = max(len(_n(b.used(peak_step))) for b in live)
        out.append(f"{'live at the peak':<{label}}(offset, size, live steps, kind; an overlap "
                   "chain: the bytes it uses at that step)")
        for b in live:
            lo, hi = b.window(peak_step)
            out.append(f"{'':<{label}}{b.name:<{name_w}}  @{b.offset + lo:<7} "
                       f"{_n(hi - lo):>{size_w}} B  [{b.first}, {b.last}]  {b.kind}")
    return "\n".join(out) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:+.1f}%" if whole else "n/a"


def stage_headline(stage: PatchStage, code: str = "") -> str:
    """The line above the table: which steps run tile by tile, and what it costs (`code`:
    `stage_code`, appended when given)."""
    s = "s" if stage.rows != 1 else ""
    return (f"patch stage: steps {stage.first}-{stage.last} run the first {stage.layers} layers "
            f"tile by tile, {stage.tiles} tiles of {stage.rows} output row{s} of the last; "
            f"{_n(stage.macs)} MACs vs {_n(stage.untiled_macs)} untiled "
            f"({_pct(stage.recomputed_macs, stage.untiled_macs)} recomputed halo rows); "
            f"{_n(stage.moves)} moves of kept rows, {_n(stage.moved_bytes)} B"
            + (f"; {code}" if code else ""))


def stage_code(module: Module) -> str:
    """What the stage costs in code: the generated C runs its calls as one loop over a
    schedule table (codegen/patch_loop.py), so the flash it adds is that table plus one
    call site per group of calls. Empty when the module cannot be emitted as it is."""
    from utc.codegen.emit_cpp import Emitter

    try:
        plans = Emitter(module, "model").stage_plans()
    except (CompileError, ValueError):
        return ""
    return "; ".join(f"code: one loop over a {_n(plan.table_bytes())} B schedule table "
                     f"({_n(calls)} calls, {len(plan.groups)} call sites)"
                     for _, calls, plan in plans)


def stage_lines(stage: PatchStage, op_types: Sequence[str] = ()) -> list[str]:
    """The stage summary under the table: one line per stage layer, its MACs summed over
    its tiles against the layer untiled."""
    cells = [(operator_label(LayerRow(0, "", s.sources, s.op, s.kernel, (), (), 0, 0, 0, (), 0),
                             op_types), s.kernel, _n(s.macs), _n(s.untiled_macs),
              _pct(s.macs - s.untiled_macs, s.untiled_macs)) for s in stage.stage_layers]
    cells.append(("total", "", _n(stage.macs), _n(stage.untiled_macs),
                  _pct(stage.recomputed_macs, stage.untiled_macs)))
    heads = ("layer", "kernel", "MACs (all tiles)", "untiled", "recomputed")
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]

    def line(row: Sequence[str]) -> str:
        return "  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return [f"patch stage ({stage.tiles} tiles x {stage.layers} layers, steps "
            f"{stage.first}-{stage.last}):", line(heads), *(line(c) for c in cells)]


def state_line(module: Module, label: int = 20) -> str:
    """The report's line on persistent state: the state region's bytes (`NAME_STATE_BYTES`),
    how many variables it holds, and the flash their initial values take."""
    fn = _function(module)
    states = buf.state_buffers(fn.block.ops)
    inits = {v.sym_name: v.init.name for v in state.variables(module)}
    init_bytes = sum(module.resources[inits[s.variable]].type.byte_size for s in states
                     if s.variable in inits)
    count = f"{len(states)} variable{'s' if len(states) != 1 else ''}"
    return (f"{'state':<{label}}{_n(int(fn.state_bytes))} B  ({count}, kept between runs "
            f"apart from the arena; initial values: {_n(init_bytes)} B of the flash above)")


# ---- SVG -----------------------------------------------------------------------------------

#: Fill colours by buffer kind (colour-blind safe, Tableau 10).
KIND_COLORS = {"input": "#4e79a7", "output": "#e15759", "activation": "#59a14f",
               "scratch": "#f28e2b"}


def _f(x: float) -> str:
    """Coordinates with two decimals and no '-0': fixed text for fixed input."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _nice_step(span: float, target: int) -> int:
    """A 1-2-5 tick spacing giving at most about `target` ticks over `span`."""
    if span <= 0:
        return 1
    raw = span / max(target, 1)
    mag = 10 ** int(math.floor(math.log10(raw))) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return int(m * mag)
    return int(10 * mag)


def memory_svg(module: Module) -> str:
    """The arena over time as SVG: x = schedule step, y = arena offset (0 at the bottom).

    Each buffer is a rectangle over its live steps and its bytes, coloured by kind, with
    a `<title>` tooltip; dashed lines mark the lower bound and the arena size, and the
    peak step is shaded. Hand-written XML, so the same module gives the same bytes."""
    fn = _function(module)
    buffers = arena_buffers(module)
    steps = max(len(_calls(fn)), 1)
    arena, bound = int(fn.arena_bytes), int(fn.lower_bound or 0)
    peak_step, peak_bytes = peak(module)

    left, right, top, bottom = 90.0, 170.0, 50.0, 60.0
    pw, ph = 900.0, 480.0
    width, height = left + pw + right, top + ph + bottom
    ymax = max(arena, bound, max((b.offset + b.size for b in buffers), default=0), 1)
    sx, sy = pw / steps, ph / ymax

    def x(step: float) -> float:
        return left + step * sx

    def y(addr: float) -> float:
        return top + ph - addr * sy

    o: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(f'utc arena map: {module.name}')}</title>",
        f'<rect class="background" x="0" y="0" width="{_f(width)}" height="{_f(height)}" '
        'fill="#ffffff"/>',
        f'<text x="{_f(left)}" y="20" font-size="14" font-weight="bold">'
        f"{escape(f'{module.name}: arena {arena:,} B, lower bound {bound:,} B, {steps} steps')}"
        "</text>",
        f'<rect class="plot" x="{_f(left)}" y="{_f(top)}" width="{_f(pw)}" height="{_f(ph)}" '
        'fill="#f7f7f7" stroke="#999999"/>',
    ]
    # grid and axes
    ystep = _nice_step(ymax, 8)
    for a in range(0, ymax + 1, ystep):
        o.append(f'<line x1="{_f(left)}" y1="{_f(y(a))}" x2="{_f(left + pw)}" y2="{_f(y(a))}" '
                 'stroke="#e0e0e0"/>')
        o.append(f'<text x="{_f(left - 6)}" y="{_f(y(a) + 4)}" text-anchor="end">{a:,}</text>')
    xstep = _nice_step(steps, 25)
    for s in range(0, steps, xstep):
        cx = x(s + 0.5)
        o.append(f'<text x="{_f(cx)}" y="{_f(top + ph + 16)}" text-anchor="middle">{s}</text>')
    o.append(f'<text x="{_f(left + pw / 2)}" y="{_f(height - 18)}" text-anchor="middle">'
             "schedule step (kernel call)</text>")
    o.append(f'<text x="20" y="{_f(top + ph / 2)}" text-anchor="middle" '
             f'transform="rotate(-90 20 {_f(top + ph / 2)})">arena offset (bytes)</text>')
    # buffers
    for b in buffers:
        h = b.size * sy
        h = max(h, 2.0) if b.size else 0.0  # keep tiny buffers visible
        tip = (f"{b.name} ({b.kind}): {b.size:,} B at offset {b.offset}..{b.offset + b.size - 1}, "
               f"live steps {b.first}-{b.last}")
        if b.windows:  # an overlap chain: the window it uses, step by step
            for step in range(b.first, b.last + 1):
                lo, hi = b.window(step)
                if hi > lo:
                    hs = max((hi - lo) * sy, 2.0)
                    o.append(f'<rect class="buf" x="{_f(x(step))}" '
                             f'y="{_f(y(b.offset + lo) - hs)}" width="{_f(sx)}" '
                             f'height="{_f(hs)}" fill="{KIND_COLORS[b.kind]}" stroke="#ffffff" '
                             f'stroke-width="0.5"><title>{escape(tip)}; step {step}: '
                             f"{hi - lo:,} B in use at {b.offset + lo}</title></rect>")
            continue
        o.append(f'<rect class="buf" x="{_f(x(b.first))}" y="{_f(y(b.offset) - h)}" '
                 f'width="{_f((b.last - b.first + 1) * sx)}" height="{_f(h)}" '
                 f'fill="{KIND_COLORS[b.kind]}" stroke="#ffffff" stroke-width="0.5">'
                 f"<title>{escape(tip)}</title></rect>")
        w = (b.last - b.first + 1) * sx
        fits = int((w - 6) / 6.5)  # characters of 11 px sans-serif that fit the width
        if h >= 14 and len(b.name) <= fits:  # a cut name would be ambiguous: tooltip only
            o.append(f'<text class="name" x="{_f(x(b.first) + 3)}" y="{_f(y(b.offset) - h + 12)}" '
                     f'fill="#ffffff" pointer-events="none">{escape(b.name)}</text>')
    # patch stage: a labelled band over its steps, a tick at each tile's first step
    stage = patch_stage(module)
    if stage is not None:
        x0, x1 = x(stage.first), x(stage.last + 1)
        tip = stage_headline(stage)
        o.append(f'<rect class="patch-stage" x="{_f(x0)}" y="{_f(top)}" width="{_f(x1 - x0)}" '
                 f'height="{_f(ph)}" fill="#7b3294" fill-opacity="0.07" stroke="#7b3294" '
                 f'stroke-dasharray="4,3" pointer-events="none"><title>{escape(tip)}</title></rect>')
        for t in range(1, stage.tiles):
            tx = x(stage.tile_starts[t])
            o.append(f'<line class="tile" x1="{_f(tx)}" y1="{_f(top)}" x2="{_f(tx)}" '
                     f'y2="{_f(top + 8)}" stroke="#7b3294"/>')
        o.append(f'<text class="patch-stage" x="{_f(x0 + 3)}" y="{_f(top + 20)}" fill="#7b3294">'
                 f"{escape(f'patch stage: {stage.layers} layers x {stage.tiles} tiles of {stage.rows} rows')}"
                 "</text>")
    # peak step
    tip = f"peak: step {peak_step}, {peak_bytes:,} B live"
    o.append(f'<rect class="peak" x="{_f(x(peak_step))}" y="{_f(top)}" width="{_f(sx)}" '
             f'height="{_f(ph)}" fill="#ffd400" fill-opacity="0.18" stroke="#b8860b" '
             f'stroke-dasharray="2,2" pointer-events="none"><title>{escape(tip)}</title></rect>')
    o.append(f'<text x="{_f(x(peak_step + 0.5))}" y="{_f(top - 6)}" text-anchor="middle" '
             f'fill="#8b6508">peak {peak_bytes:,} B</text>')
    # lower bound and arena lines: the arena label above its line, the bound's below
    for value, color, label, dy in ((bound, "#333333", f"lower bound {bound:,} B", 13),
                                    (arena, "#c00000", f"arena {arena:,} B", -4)):
        o.append(f'<line class="limit" x1="{_f(left)}" y1="{_f(y(value))}" x2="{_f(left + pw)}" '
                 f'y2="{_f(y(value))}" stroke="{color}" stroke-width="1.2" '
                 'stroke-dasharray="6,4"/>')
        o.append(f'<text x="{_f(left + pw + 6)}" y="{_f(y(value) + dy)}" fill="{color}">'
                 f"{escape(label)}</text>")
    # legend
    for i, kind in enumerate(ARENA_KINDS):
        ly = top + ph - 80 + i * 18
        o.append(f'<rect class="legend" x="{_f(left + pw + 8)}" y="{_f(ly)}" width="12" '
                 f'height="12" fill="{KIND_COLORS[kind]}"/>')
        o.append(f'<text x="{_f(left + pw + 26)}" y="{_f(ly + 10)}">{escape(kind)}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


# ---- several models in one arena -------------------------------------------------------------


def _app_parts(app) -> list[str]:
    """One line per model of an app (`driver.AppResult`): its bytes of the shared arena."""
    lines = []
    for comp, offset in zip(app.compilations, app.offsets):
        fn = _function(comp.module)
        arena = int(fn.arena_bytes)
        state = f", state {_n(int(fn.state_bytes))} B of its own" if fn.state_bytes else ""
        lines.append(f"  {comp.name:<16} bytes [{offset}, {offset + arena}) of {app.name}_arena: "
                     f"arena {_n(arena)} B, lower bound {_n(int(fn.lower_bound or 0))} B, weights "
                     f"{_n(sum(flash_bytes(comp.module)))} B{state}  ({comp.source})")
    return lines


def format_app_report(app, footprints: Sequence[Footprint | None] = ()) -> str:
    """The report of several models sharing one arena (`utc compile A B --report`): the
    shared arena and each model's part of it, then each model's own report (the offsets
    in a model's table are relative to its part's first byte)."""
    how = ("concurrent: disjoint parts, the sum" if app.concurrent else
           "exclusive: one model runs at a time, the largest")
    out = [f"utc report: {app.name}: {len(app.compilations)} models, shared arena "
           f"{_n(app.arena_bytes)} B ({how}), aligned to {app.alignment}"]
    out += _app_parts(app)
    fps = list(footprints) or [None] * len(app.compilations)
    for comp, offset, fp in zip(app.compilations, app.offsets, fps):
        out += ["", f"== model {comp.name} (offsets below are from byte {offset} of "
                f"{app.name}_arena) ==", ""]
        out.append(format_report(comp.module, comp.op_types, fp).rstrip("\n"))
    return "\n".join(out) + "\n"


def app_memory_svg(app) -> str:
    """The shared arena as SVG: a title band naming each model's bytes of the arena, then
    one band per model, its own arena map (`memory_svg`) over its schedule."""
    bands = []
    for comp in app.compilations:
        svg = memory_svg(comp.module)
        svg = svg[svg.index("<svg"):]
        bands.append(svg)
    sizes = [(float(re.search(r'width="([0-9.]+)"', b).group(1)),
              float(re.search(r'height="([0-9.]+)"', b).group(1))) for b in bands]
    head = 30.0 + 16.0 * len(bands)
    width = max(w for w, _ in sizes)
    height = head + sum(h for _, h in sizes)
    how = "concurrent, sum" if app.concurrent else "exclusive, largest"
    o = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(f'utc arena map: {app.name}')}</title>",
        f'<rect class="background" x="0" y="0" width="{_f(width)}" height="{_f(head)}" '
        'fill="#ffffff"/>',
        f'<text x="90" y="20" font-size="14" font-weight="bold">'
        f"{escape(f'{app.name}: shared arena {app.arena_bytes:,} B ({how})')}</text>",
    ]
    for i, line in enumerate(_app_parts(app)):
        o.append(f'<text class="model" x="90" y="{_f(36 + 16 * i)}">{escape(line.strip())}</text>')
    y = head
    for band, (_, h), comp in zip(bands, sizes, app.compilations):
        o.append(f'<g class="model-band" id="{escape(comp.name)}">')
        o.append(band.replace("<svg ", f'<svg y="{_f(y)}" ', 1).rstrip("\n"))
        o.append("</g>")
        y += h
    o.append("</svg>")
    return "\n".join(o) + "\n"


__all__ = [
    "ARENA_KINDS", "KIND_COLORS", "ArenaBuffer", "LayerRow", "app_memory_svg", "arena_buffers",
    "flash_bytes", "footprint_lines", "format_app_report", "format_report", "layer_rows",
    "PatchStage", "StageLayer", "live_profile", "macs", "memory_svg", "operator_label",
    "patch_stage", "peak", "stage_headline", "stage_lines", "tile_of",
]
