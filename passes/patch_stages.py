"""`patch-stages`: run the first layers of the network tile by tile (patch-based execution).

The first layers of an image model hold its largest feature maps, and they set the peak
of the arena while later layers need a fraction of it. This pass takes the chain of
sliding-window calls that starts at the model input (convolutions, depthwise
convolutions, pooling: each reads the previous one's output alone, nothing else reads
it) and splits a prefix of it, the stage, into bands of full-width rows
(passes/planning/patching.py): per tile, one call per layer of the stage on a
tile-sized buffer, the first reading a view of the input rows it needs, the last writing
its rows straight into the full-size tensor after the split point (a view: rows of an
NHWC tensor are contiguous). Each tile's call is the layer's own kernel, unchanged, with
the padding that makes its windows those of the whole tensor, so the outputs are
bit-exact. The stage's intermediate tensors then exist only as tile buffers.

The split tensor is placed over the dying input: both become views of one `buf.alloc`,
the split tensor starting `input_overlap_bound` bytes below the input (rounded up to
`alignment`), so the rows a tile writes lie on input rows no later tile reads. The
IR-level plan checker verifies this byte by byte (verify_ir.py: the dataflow check sees
a tile's write clobber an input row a later tile reads).

The split point and the rows per tile are chosen by search: every candidate whose
estimated instructions (the per-kernel cost model `INSTRUCTION_MODELS` of
passes/planning/patching.py, over the whole function) stay within `1 + max-recompute`
times the untiled ones is ranked by a cheap estimate of the stage's footprint, the best
`max-candidates` of them are planned for real (a copy of the function through the rest
of the -O2 pipeline, `PLAN_TAIL`), and the one with the smallest arena wins (ties: fewer
instructions). When no candidate lowers the arena of the untiled plan, nothing changes.
Every tile call carries `tile = [index, count]` in the printed IR; the function records
`patch_stage = [layers, rows per tile, tiles]`.

Run right after `bufferize` (before `inplace`): a call with a scratch buffer or a kernel
outside `PATCHABLE` (utc's reference kernels, CMSIS-NN's 3x3 depthwise convolution) ends
the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import I8, MemRefType, Module
from utc.compiler.pass_manager import Pass, parse_pipeline, register_pass, run_pipeline
from utc.dialects import buf
from utc.dialects.func import FuncOp, main_function
from utc.passes.planning.overlap import align_up
from utc.passes.planning.patching import (
    INSTRUCTION_MODELS,
    Layer,
    TileLayer,
    input_overlap_bound,
    tile_bands,
    tile_layers,
)
from utc.runtime.kernels import call_macs

#: Kernels whose calls may be tiled: they read `pad_top`/`pad_left` and take every
#: dimension from their buffers' shapes (runtime/kernels.py), so a call on a band of rows
#: with adjusted padding computes exactly those rows of the whole output.
#: CMSIS-NN's 3x3 depthwise convolution qualifies too: no scratch, dims from the buffers,
#: `padding` from the call, taps bounded by the input's height, and its constraint
#: (padding at most 1) holds for a tile, whose padding is at most the layer's. (Others of
#: CMSIS-NN's would as well; each needs its entry in `INSTRUCTION_MODELS` first.)
PATCHABLE = ("utc_conv2d_s8", "utc_depthwise_conv2d_s8", "utc_avg_pool_s8", "utc_max_pool_s8",
             "arm_depthwise_conv_3x3_s8")

#: The passes that plan a candidate: what -O1/-O2 run after bufferize.
PLAN_TAIL = "inplace,concat-in-place,overlap-buffers,scratch-in-holes,plan-memory"


@dataclass(frozen=True)
class Candidate:
    """A stage: its first `layers` chain calls, in bands of `rows` output rows."""

    layers: int
    rows: int


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
    `INSTRUCTION_MODELS` entry, else one per MAC."""
    macs, taps, outputs, pixels = _sizes(call, rows)
    model = INSTRUCTION_MODELS.get(call.callee)
    return model.estimate(macs, taps, outputs, pixels) if model else macs


def _geometry(call: buf.CallOp) -> Layer:
    """The height geometry of a patchable call."""
    x, y = call.inputs[0].type.shape, call.outputs[0].type.shape
    if "window" in call.attrs:
        window = int(call.attrs["window"][0])
    else:
        kh = call.inputs[1].type.shape[1]
        window = (kh - 1) * int(call.attrs["dilation"][0]) + 1
    return Layer(x[1], y[1], window, int(call.attrs["stride"][0]), int(call.attrs["pad"][0]))


def find_chain(fn: FuncOp) -> list[buf.CallOp]:
    """The chain of patchable calls from the (single) model input: consecutive in the
    schedule, each reading the previous output (or the input) as its data operand, the
    only reader of it; batch-1 NHWC; no scratch; no model output. Empty when there is
    none."""
    inputs = buf.model_inputs(fn.block.ops)
    if len(inputs) != 1:
        return []
    value = next(iter(inputs.values()))
    if not isinstance(value.op, buf.AllocOp) or value in fn.return_op.operand_values:
        return []
    calls = _calls(fn)
    chain: list[buf.CallOp] = []
    for call in calls:
        users = [u for u in value.users if not chain or u is not chain[-1]]
        if (len(users) != 1 or users[0] is not call or call.callee not in PATCHABLE
                or len(call.outputs) != 1 or call.operand_values.count(value) != 1
                or call.inputs[0] is not value):
            break
        out = call.outputs[0]
        if (not isinstance(out.op, buf.AllocOp) or out.op.scratch or out.op.input is not None
                or out.op.output is not None or out in fn.return_op.operand_values
                or len(out.type.shape) != 4 or out.type.shape[0] != 1
                or len(call.inputs[0].type.shape) != 4 or len(call.attrs["pad"]) != 4
                or calls.index(call) != len(chain)):
            break
        chain.append(call)
        value = out
    return chain


def _row_bytes(value) -> int:
    shape = value.type.shape
    return value.type.byte_size // shape[1]


def plan_tiles(chain: list[buf.CallOp], cand: Candidate) -> list[list[TileLayer]]:
    layers = [_geometry(c) for c in chain[:cand.layers]]
    return [tile_layers(layers, a, b) for a, b in tile_bands(layers[-1].out_h, cand.rows)]


def estimate(chain: list[buf.CallOp], cand: Candidate, alignment: int) -> tuple[int, int]:
    """(footprint estimate in bytes, estimated instructions of the tiled stage): the input and split
    tensor placed together plus the largest pair of tile buffers one call touches, or,
    when larger, the split tensor beside the output of the call that reads it next (the
    stage gains nothing if the layer after it needs more). A ranking, not a plan: the
    candidates ranked best are planned for real."""
    tiles = plan_tiles(chain, cand)
    stage = chain[:cand.layers]
    x, y = stage[0].inputs[0], stage[-1].outputs[0]
    d = align_up(input_overlap_bound(tiles, _row_bytes(x), _row_bytes(y)), alignment)
    hold = max(max(d, 0) + x.type.byte_size, max(-d, 0) + y.type.byte_size)
    rows_bytes = [_row_bytes(c.outputs[0]) for c in stage]
    pair = 0
    for tile in tiles:
        for i in range(1, len(tile) - 1):
            pair = max(pair, (tile[i - 1].out1 - tile[i - 1].out0) * rows_bytes[i - 1]
                       + (tile[i].out1 - tile[i].out0) * rows_bytes[i])
        if len(tile) > 1:
            pair = max(pair, (tile[0].out1 - tile[0].out0) * rows_bytes[0],
                       (tile[-2].out1 - tile[-2].out0) * rows_bytes[-2])
    cost = sum(instructions(c, tl.out1 - tl.out0) for tile in tiles for c, tl in zip(stage, tile))
    after = [c for c in chain[cand.layers:cand.layers + 1]]
    nxt = sum(v.type.byte_size for v in after[0].outputs) if after else 0
    return max(hold + pair, y.type.byte_size + nxt), cost


def _view(source, offset: int, shape: tuple[int, ...], like, name: str, **attrs) -> buf.ViewOp:
    return buf.ViewOp([source], [MemRefType(shape, like.type.element)],
                      {"offset": offset, **attrs}, location=getattr(like.op, "location", None),
                      result_names=[name])


def apply(fn: FuncOp, chain: list[buf.CallOp], cand: Candidate, alignment: int) -> None:
    """Rewrite `fn` (whose chain is `chain`) to run the candidate's stage tile by tile."""
    block = fn.block
    stage = chain[:cand.layers]
    tiles = plan_tiles(chain, cand)
    x, y = stage[0].inputs[0], stage[-1].outputs[0]
    ri, ro = _row_bytes(x), _row_bytes(y)
    d = align_up(input_overlap_bound(tiles, ri, ro), alignment)
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
    x.replace_all_uses_with(x_view.result)
    y.replace_all_uses_with(y_view.result)
    x_alloc.erase()
    anchor = stage[-1]  # after every constant the stage reads (they come before their call)
    for t, tile in enumerate(tiles):
        value = _view(x_view.result, tile[0].in0 * ri,
                      (1, tile[0].in1 - tile[0].in0, *x.type.shape[2:]), x,
                      f"{x.name_hint}_t{t}")
        block.insert_before(anchor, value)
        value = value.result
        for i, (call, tl) in enumerate(zip(stage, tile)):
            out = call.outputs[0]
            shape = (1, tl.out1 - tl.out0, *out.type.shape[2:])
            if i == len(stage) - 1:
                target = _view(y_view.result, tl.out0 * ro, shape, out, f"{name}_t{t}")
            else:
                target = buf.AllocOp([], [MemRefType(shape, out.type.element)],
                                     {"size": MemRefType(shape, out.type.element).byte_size},
                                     location=call.location,
                                     result_names=[f"{out.name_hint}_t{t}"])
            block.insert_before(anchor, target)
            attrs = dict(call.attrs)
            pad = list(attrs["pad"])
            attrs["pad"] = (tl.pad_top, tl.pad_bottom, pad[2], pad[3])
            attrs["tile"] = (t, len(tiles))
            operands = [value, *call.inputs[1:], target.result]
            block.insert_before(anchor, buf.CallOp(operands, [], attrs, location=call.location))
            value = target.result
    fn.patch_stage = (cand.layers, cand.rows, len(tiles))
    dead = [c.outputs[0].op for c in stage[:-1]] + [y_alloc]
    for call in stage:
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
        chain = find_chain(fn)
        if len(chain) < 2:
            return None
        base = total_instructions(fn)
        stage_cost = 0.0
        ranked = []
        for n in range(1, len(chain) + 1):
            stage_cost += instructions(chain[n - 1])
            out_h = chain[n - 1].outputs[0].type.shape[1]
            for rows in range(1, out_h // 2 + 1):
                if rows > 1 and -(-out_h // rows) == -(-out_h // (rows - 1)):
                    continue  # same number of tiles as a smaller band
                cand = Candidate(n, rows)
                try:
                    footprint, cost = estimate(chain, cand, self.alignment)
                except ValueError:
                    continue
                if base + cost - stage_cost > (1 + self.max_recompute) * base:
                    continue
                ranked.append((footprint, cost, n, rows))
        ranked.sort()
        best = (planned_arena(copy_module(module)), base, None)
        for _, _, n, rows in ranked[:self.max_candidates]:
            trial = copy_module(module)
            cand = Candidate(n, rows)
            apply(main_function(trial), find_chain(main_function(trial)), cand, self.alignment)
            cost = total_instructions(main_function(trial))
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
            chain = find_chain(fn)
            if len(chain) < self.layers:
                raise CompileError(f"{self.name}: layers={self.layers} but the chain of "
                                   f"tileable calls from the model input has {len(chain)}")
            try:
                plan_tiles(chain, cand)
            except ValueError as e:
                raise CompileError(f"{self.name}: layers={self.layers}, rows={self.rows}: {e}"
                                   ) from None
        else:
            cand = self.choose(module)
        if cand is not None:
            apply(fn, find_chain(fn), cand, self.alignment)
