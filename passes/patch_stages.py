"""`patch-stages`: run the first layers of the network step by step (patch-based execution).

The first layers of an image model hold its largest feature maps, and they set the peak
of the arena while later layers need a fraction of it. This pass takes a stage: the first
calls of the schedule from the model input up to a split tensor such that every other
tensor they read or write has all its readers among them (a cut; `find_stages`), made of
sliding-window calls (convolutions of any window and stride, depthwise convolutions,
pooling) and elementwise additions (a residual block's ADD). It runs the stage in steps,
each producing a band of full-width rows of the split tensor straight into the full-size
tensor (a view: rows of an NHWC tensor are contiguous).

Every other stage tensor exists only as a band buffer holding the rows its readers need
at the current step (passes/planning/patching.py, `cached_schedule`): each step first
moves the rows a band keeps to its front (`utc_move`, memmove semantics), then runs each
layer's own kernel, unchanged, on the rows it has not computed yet, with the padding that
makes its windows those of the whole tensor: outputs are bit-exact and no row is
computed twice. In the IR each band buffer is a `buf.alloc`; every time its rows shift it
starts a new generation (a view of the whole buffer) that the step's writes and reads lie
in, so the IR-level plan checker (verify_ir.py, dataflow) sees every byte a call reads
written in that generation, by the move (which reads the previous one) or by a call.

The split tensor is placed over the dying input: both become views of one `buf.alloc`,
the split tensor starting `split_overlap_bound` bytes below the input (rounded up to
`alignment`), so the rows a step writes lie on input rows no later step reads; the plan
checker verifies this byte by byte too.

The cut and the rows per step are chosen by search: every candidate whose estimated
instructions (the per-kernel cost model `INSTRUCTION_MODELS` of
passes/planning/patching.py, moves included, over the whole function) stay within `1 +
max-recompute` times the untiled ones is ranked by a cheap estimate of the stage's
footprint, the best `max-candidates` of them are planned for real (a copy of the function
through the rest of the -O2 pipeline, `PLAN_TAIL`), and the one with the smallest arena
wins (ties: fewer instructions). When no candidate lowers the arena of the untiled plan,
nothing changes. Every step's call (moves included) carries `tile = [index, count]` in
the printed IR; the function records `patch_stage = [calls, rows per step, steps]`.

The generated C runs the stage's calls as one loop over a compact schedule table, one
call site per layer (codegen/patch_loop.py), so the stage costs about 1 KB of flash, not
a constant parameter struct per tile.

Run right after `bufferize` (before `inplace`): a call with a scratch buffer or a kernel
outside `PATCHABLE` (utc's reference kernels, CMSIS-NN's 3x3 depthwise convolution) ends
the tileable prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import I8, MemRefType, Module, Value
from utc.compiler.pass_manager import Pass, parse_pipeline, register_pass, run_pipeline
from utc.dialects import buf, state
from utc.dialects.func import FuncOp, main_function
from utc.passes.planning.overlap import align_up
from utc.passes.planning.patching import (
    INSTRUCTION_MODELS,
    Layer,
    Move,
    Node,
    Schedule,
    cached_schedule,
    split_overlap_bound,
)
from utc.runtime.kernels import MOVE, call_macs

#: Kernels whose calls may be tiled: they read `pad_top`/`pad_left` and take every
#: dimension from their buffers' shapes (runtime/kernels.py), so a call on a band of rows
#: with adjusted padding computes exactly those rows of the whole output.
#: CMSIS-NN's 3x3 depthwise convolution qualifies too: no scratch, dims from the buffers,
#: `padding` from the call, taps bounded by the input's height, and its constraint
#: (padding at most 1) holds for a tile, whose padding is at most the layer's. (Others of
#: CMSIS-NN's would as well; each needs its entry in `INSTRUCTION_MODELS` first.)
PATCHABLE = ("utc_conv2d_s8", "utc_depthwise_conv2d_s8", "utc_avg_pool_s8", "utc_max_pool_s8",
             "arm_depthwise_conv_3x3_s8", "utc_add_s8")

#: Patchable kernels that compute output row r from row r of each input (no window):
#: utc_add_s8 takes every shape from its buffers (`in1_shape`, `in2_shape`, `out_shape`),
#: so a call on the same band of rows of inputs and output adds exactly those rows.
ELEMENTWISE = ("utc_add_s8",)

#: The passes that plan a candidate: what -O1/-O2 run after bufferize.
PLAN_TAIL = "inplace,concat-in-place,overlap-buffers,scratch-in-holes,plan-memory"


@dataclass(frozen=True)
class Candidate:
    """A stage: the first `layers` calls of the schedule (a cut), in steps of `rows` rows
    of the split tensor."""

    layers: int
    rows: int


@dataclass
class Stage:
    """A cut of the schedule: its `calls`, the stage tensors (index 0 the model input,
    i + 1 the output of call i; the last the split tensor) and the pure geometry."""

    calls: list[buf.CallOp]
    tensors: list[Value]
    nodes: list[Node]

    @property
    def heights(self) -> list[int]:
        return [v.type.shape[1] for v in self.tensors]


def _calls(fn: FuncOp) -> list[buf.CallOp]:
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp)]


def _sizes(call: buf.CallOp, rows: int | None = None) -> tuple[float, float, float, float]:
    """(MACs, filter taps, output elements, output pixels) of a call, or of the same call
    computing `rows` of its output rows (every row of a layer costs the same)."""
    y = call.outputs[0].type.shape
    share = 1.0 if rows is None or len(y) != 4 else rows / y[1]
    taps = 0
    if "window" not in call.attrs and len(call.inputs) > 1 and len(call.inputs[1].type.shape) == 4:
        taps = call.inputs[1].type.shape[1] * call.inputs[1].type.shape[2]
    outputs = call.outputs[0].type.num_elements
    pixels = y[1] * y[2] if len(y) == 4 else 0
    return call_macs(call) * share, taps, outputs * share, pixels * share


def instructions(call: buf.CallOp, rows: int | None = None) -> float:
    """Estimated instructions of a call (or of `rows` of its output rows): the kernel's
    `INSTRUCTION_MODELS` entry, else one per MAC. A move costs by the bytes it moves."""
    if call.callee == MOVE.name:
        return move_instructions(call.outputs[0].type.byte_size)
    macs, taps, outputs, pixels = _sizes(call, rows)
    model = INSTRUCTION_MODELS.get(call.callee)
    return model.estimate(macs, taps, outputs, pixels) if model else macs


def move_instructions(nbytes: int) -> float:
    """Estimated instructions of one move of `nbytes` bytes."""
    return INSTRUCTION_MODELS[MOVE.name].estimate(0, 0, nbytes, 0)


def _geometry(call: buf.CallOp) -> Layer | None:
    """The height geometry of a patchable call (None: elementwise)."""
    if call.callee in ELEMENTWISE:
        return None
    x, y = call.inputs[0].type.shape, call.outputs[0].type.shape
    if "window" in call.attrs:
        window = int(call.attrs["window"][0])
    else:
        kh = call.inputs[1].type.shape[1]
        window = (kh - 1) * int(call.attrs["dilation"][0]) + 1
    return Layer(x[1], y[1], window, int(call.attrs["stride"][0]), int(call.attrs["pad"][0]))


def _data_inputs(call: buf.CallOp) -> list[Value]:
    """The operands a call reads row by row: both of an elementwise kernel's, the first
    of a sliding-window kernel's (the rest are weights)."""
    return list(call.inputs[:2]) if call.callee in ELEMENTWISE else [call.inputs[0]]


def _tileable(call: buf.CallOp, known: dict[Value, int], fn: FuncOp) -> bool:
    """May `call` join a stage whose tensors so far are `known`: a patchable kernel with
    one fresh batch-1 NHWC output, reading stage tensors as its data inputs and nothing
    else of the stage; an elementwise call reads inputs of its output's exact shape."""
    if call.callee not in PATCHABLE or len(call.outputs) != 1:
        return False
    out = call.outputs[0]
    if (not isinstance(out.op, buf.AllocOp) or out.op.scratch or out.op.input is not None
            or out.op.output is not None or out in fn.return_op.operand_values
            or len(out.type.shape) != 4 or out.type.shape[0] != 1):
        return False
    data = _data_inputs(call)
    if any(v not in known or len(v.type.shape) != 4 for v in data):
        return False
    if any(v in known for v in call.inputs[len(data):]):
        return False
    if call.callee in ELEMENTWISE:
        return all(tuple(v.type.shape) == tuple(out.type.shape) for v in data)
    return len(call.attrs["pad"]) == 4


def find_stages(fn: FuncOp) -> list[Stage]:
    """Every cut of the schedule's tileable prefix, shortest first: the first k calls,
    from the (single) model input, such that every tensor they read or write except the
    last call's output (the split tensor) has all its readers among them. Empty when
    there is none."""
    inputs = buf.model_inputs(fn.block.ops)
    if len(inputs) != 1:
        return []
    x = next(iter(inputs.values()))
    if (not isinstance(x.op, buf.AllocOp) or x in fn.return_op.operand_values
            or len(x.type.shape) != 4 or x.type.shape[0] != 1):
        return []
    known: dict[Value, int] = {x: 0}
    tensors, nodes, prefix = [x], [], []
    stages: list[Stage] = []
    for call in _calls(fn):
        if not _tileable(call, known, fn):
            break
        out = call.outputs[0]
        known[out] = len(tensors)
        tensors.append(out)
        nodes.append(Node(tuple(known[v] for v in _data_inputs(call)), known[out],
                          _geometry(call)))
        prefix.append(call)
        inside = set(prefix)
        if all(all(u in inside for u in v.users) for v in tensors[:-1]):
            stages.append(Stage(list(prefix), list(tensors), list(nodes)))
    return stages


def _row_bytes(value) -> int:
    shape = value.type.shape
    return value.type.byte_size // shape[1]


def schedule(stage: Stage, rows: int) -> Schedule:
    """The stage's steps with row caching, `rows` rows of the split tensor per step."""
    return cached_schedule(stage.nodes, stage.heights, rows)


def _overlap(stage: Stage, sched: Schedule, alignment: int) -> int:
    x, y = stage.tensors[0], stage.tensors[-1]
    return align_up(split_overlap_bound(stage.nodes, sched, _row_bytes(x), _row_bytes(y),
                                        y.type.shape[1]), alignment)


def estimate(stage: Stage, rows: int, alignment: int) -> tuple[int, float]:
    """(footprint estimate in bytes, estimated instructions of the tiled stage): the input
    and split tensor placed together plus every band buffer (they live through the whole
    stage); the instructions of every step call and move. A ranking, not a plan: the
    candidates ranked best are planned for real."""
    sched = schedule(stage, rows)
    x, y = stage.tensors[0], stage.tensors[-1]
    d = _overlap(stage, sched, alignment)
    hold = max(max(d, 0) + x.type.byte_size, max(-d, 0) + y.type.byte_size)
    bands = sum(align_up(n * _row_bytes(v), alignment)
                for n, v in zip(sched.band_rows, stage.tensors))
    cost = 0.0
    for step in sched.steps:
        cost += sum(instructions(stage.calls[c.node], c.out1 - c.out0) for c in step.calls)
        cost += sum(move_instructions(m.rows * _row_bytes(stage.tensors[m.tensor]))
                    for m in step.moves if m.rows)
    return hold + bands, cost


def _view(source, offset: int, shape: tuple[int, ...], like, name: str, **attrs) -> buf.ViewOp:
    return buf.ViewOp([source], [MemRefType(shape, like.type.element)],
                      {"offset": offset, **attrs}, location=getattr(like.op, "location", None),
                      result_names=[name])


def apply(fn: FuncOp, stage: Stage, cand: Candidate, alignment: int) -> None:
    """Rewrite `fn` to run the candidate's stage in steps with row caching.

    Each intermediate tensor gets one band buffer; every time its band moves down (a
    move, or rows dropped) the buffer starts a new generation, a view of the whole
    buffer that the step's writes (the move's destination, the new rows) and reads lie
    in, so the plan checker sees every byte a call reads written in the same generation
    (by a move, which reads the previous generation, or by a call)."""
    block = fn.block
    sched = schedule(stage, cand.rows)
    calls = stage.calls
    x, y = stage.tensors[0], stage.tensors[-1]
    split = len(stage.tensors) - 1
    d = _overlap(stage, sched, alignment)
    in_off, out_off = max(d, 0), max(-d, 0)
    size = max(in_off + x.type.byte_size, out_off + y.type.byte_size)
    x_alloc, y_alloc = x.op, y.op
    name = y.name_hint or "split"
    g = buf.AllocOp([], [MemRefType((size,), I8)], {"size": size}, location=x_alloc.location,
                    result_names=[f"{name}_patched"])
    block.insert_before(x_alloc, g)
    x_view = _view(g.result, in_off, x.type.shape, x, x.name_hint, input=x_alloc.input)
    block.insert_before(x_alloc, x_view)
    y_view = _view(g.result, out_off, y.type.shape, y, name)
    block.insert_before(x_alloc, y_view)
    anchor = calls[-1]  # after every constant the stage reads (they come before their call)
    bands: dict[int, buf.AllocOp] = {}
    for i, v in enumerate(stage.tensors):
        if 0 < i < split and sched.band_rows[i]:
            shape = (1, sched.band_rows[i], *v.type.shape[2:])
            t = MemRefType(shape, v.type.element)
            bands[i] = buf.AllocOp([], [t], {"size": t.byte_size}, location=v.op.location,
                                   result_names=[f"{v.name_hint}_band"])
            block.insert_before(anchor, bands[i])
    x.replace_all_uses_with(x_view.result)
    y.replace_all_uses_with(y_view.result)
    x_alloc.erase()
    stage.tensors[0], stage.tensors[-1] = x_view.result, y_view.result
    gens: dict[int, Value] = {}
    ngen: dict[int, int] = {}
    lo = [0] * len(stage.tensors)
    n = len(sched.steps)

    def emit(op):
        block.insert_before(anchor, op)
        return op

    def rows_view(i: int, r0: int, r1: int, tag: str) -> Value:
        v = stage.tensors[i]
        shape = (1, r1 - r0, *v.type.shape[2:])
        if i == 0 or i == split:
            src = x_view.result if i == 0 else y_view.result
            return emit(_view(src, r0 * _row_bytes(v), shape, v, f"{v.name_hint}_{tag}")).result
        return emit(_view(gens[i], (r0 - lo[i]) * _row_bytes(v), shape, v,
                          f"{v.name_hint}_{tag}")).result

    def generation(i: int) -> Value:
        v = stage.tensors[i]
        k = ngen.get(i, 0)
        gen = emit(_view(bands[i].result, 0, tuple(bands[i].result.type.shape), v,
                         f"{v.name_hint}_g{k}")).result
        ngen[i] = k + 1
        return gen

    for t, step in enumerate(sched.steps):
        for action in step.actions:
            if isinstance(action, Move):
                i = action.tensor
                v = stage.tensors[i]
                gen = generation(i)
                if action.rows:
                    shape = (1, action.rows, *v.type.shape[2:])
                    k = ngen[i] - 1
                    src = emit(_view(gens[i], action.src * _row_bytes(v), shape, v,
                                     f"{v.name_hint}_g{k - 1}_kept")).result
                    dst = emit(_view(gen, 0, shape, v, f"{v.name_hint}_g{k}_kept")).result
                    emit(buf.CallOp([src, dst], [], {"callee": MOVE.name,
                                                     "op": state.CopyOp.name,
                                                     "num_inputs": 1, "tile": (t, n)},
                                    location=calls[i - 1].location))
                gens[i] = gen
                lo[i] += action.src
                continue
            c = action
            call = calls[c.node]
            node = stage.nodes[c.node]
            if node.output in bands and node.output not in gens:
                gens[node.output] = generation(node.output)
            operands = [rows_view(i, c.in0, c.in1, f"r{t}") for i in node.inputs]
            operands += list(call.inputs[len(node.inputs):])
            operands.append(rows_view(node.output, c.out0, c.out1, f"t{t}"))
            attrs = dict(call.attrs)
            if node.layer is not None:
                pad = list(attrs["pad"])
                attrs["pad"] = (c.pad_top, c.pad_bottom, pad[2], pad[3])
            attrs["tile"] = (t, n)
            emit(buf.CallOp(operands, [], attrs, location=call.location))
    fn.patch_stage = (cand.layers, cand.rows, n)
    dead = [v.op for v in stage.tensors[1:-1]] + [y_alloc]
    for call in calls:
        call.erase()
    for alloc in dead:
        alloc.erase()


def total_instructions(fn: FuncOp) -> float:
    return sum(instructions(c) for c in _calls(fn))


def copy_module(module: Module) -> Module:
    """A deep copy of `module`'s ops sharing its resources (read only here)."""
    new = Module(module.name)
    new.attrs = dict(module.attrs)
    new.resources = module.resources
    for op in module.body.ops:
        new.body.append(op.clone())
    return new


def planned_arena(module: Module) -> int:
    """The arena of `module` planned by `PLAN_TAIL` (the module is changed)."""
    run_pipeline(module, parse_pipeline(PLAN_TAIL))
    return int(main_function(module).arena_bytes)


@register_pass
@dataclass(frozen=True)
class PatchStages(Pass):
    """Run the first layers tile by tile (row bands) where that lowers the arena."""

    name = "patch-stages"
    max_recompute: float = 0.15  # at most this many more (estimated) instructions than untiled
    max_candidates: int = 12  # candidates planned for real (a deterministic work budget)
    alignment: int = 16  # plan-memory's default
    #: a fixed stage instead of the search (both > 0): its first `layers` chain calls in
    #: bands of `rows` rows, whatever it costs (for tests and experiments)
    layers: int = 0
    rows: int = 0

    def __post_init__(self) -> None:
        if (self.layers > 0) != (self.rows > 0) or self.layers < 0 or self.rows < 0:
            raise ValueError(f"layers and rows must both be > 0 (a fixed stage) or both 0, "
                             f"got {self.layers}, {self.rows}")
        if not self.max_recompute >= 0:
            raise ValueError(f"max-recompute must be >= 0, got {self.max_recompute}")
        if self.max_candidates < 1:
            raise ValueError(f"max-candidates must be >= 1, got {self.max_candidates}")

    def choose(self, module: Module) -> Candidate | None:
        fn = main_function(module)
        stages = find_stages(fn)
        if not stages:
            return None
        base = total_instructions(fn)
        ranked = []
        for stage in stages:
            if len(stage.calls) < 2:
                continue
            stage_cost = sum(instructions(c) for c in stage.calls)
            out_h = stage.heights[-1]
            for rows in range(1, out_h // 2 + 1):
                if rows > 1 and -(-out_h // rows) == -(-out_h // (rows - 1)):
                    continue  # same number of steps as a smaller band
                try:
                    footprint, cost = estimate(stage, rows, self.alignment)
                except ValueError:
                    continue
                if base + cost - stage_cost > (1 + self.max_recompute) * base:
                    continue
                ranked.append((footprint, cost, len(stage.calls), rows))
        ranked.sort()
        best = (planned_arena(copy_module(module)), base, None)
        for _, _, n, rows in ranked[:self.max_candidates]:
            trial = copy_module(module)
            cand = Candidate(n, rows)
            tfn = main_function(trial)
            apply(tfn, _stage(tfn, n), cand, self.alignment)
            cost = total_instructions(tfn)
            if cost > (1 + self.max_recompute) * base:
                continue
            score = (planned_arena(trial), cost, cand)
            if score[:2] < best[:2]:
                best = score
        return best[2]

    def run(self, module: Module) -> None:
        fn = main_function(module)
        if not any(isinstance(op, buf.CallOp) for op in fn.block.ops):
            return
        if self.layers:
            cand = Candidate(self.layers, self.rows)
            stage = _stage(fn, self.layers)
            if stage is None:
                cuts = [len(s.calls) for s in find_stages(fn)]
                raise CompileError(f"{self.name}: layers={self.layers} is not a cut of the "
                                   f"tileable calls from the model input (cuts: "
                                   f"{', '.join(map(str, cuts)) or 'none'})")
            try:
                schedule(stage, cand.rows)
            except ValueError as e:
                raise CompileError(f"{self.name}: layers={self.layers}, rows={self.rows}: {e}"
                                   ) from None
        else:
            cand = self.choose(module)
            stage = None if cand is None else _stage(fn, cand.layers)
        if cand is not None and stage is not None:
            apply(fn, stage, cand, self.alignment)


def _stage(fn: FuncOp, layers: int) -> Stage | None:
    """The cut of `layers` calls, or None."""
    return next((s for s in find_stages(fn) if len(s.calls) == layers), None)
