"""Row steps of a stage of sliding-window and elementwise layers: what each step reads,
computes, keeps and costs.

Patch-based execution (MCUNetV2's idea) runs the first layers of a network piece by piece
so that their large feature maps never exist whole. utc splits by full-width bands of
rows: a band of rows of an NHWC tensor (batch 1) is one contiguous byte range, so a step's
input is a view of the stage input, its output a view of the full-size tensor after the
split point, and no gather or scatter copy is needed.

A stage is a DAG of calls (`Node`) from the stage input (tensor 0) to the split tensor
(the last node's output): sliding windows (`Layer`: height geometry alone) and
elementwise calls (row r from row r of every input, e.g. a residual addition). For output
rows [a, b) of a window layer the rows it reads are, before clipping, [a*S - P, (b-1)*S -
P + K) (S the stride, P the top padding of the whole tensor, K the dilated window
height); clipped to the input, [c0, c1). The call then runs the same kernel on an input
of c1 - c0 rows with top padding c0 - q0 and bottom padding q1 - c1: every tap lands on
the same input row it reads in the whole tensor, and a tap outside [c0, c1) is outside
[0, H) as well, so the kernel skips exactly the taps TFLite skips and the result is
bit-exact (`read_rows`).

**Row caching** (`cached_schedule`). Step t produces rows [a_t, b_t) of the split
tensor. Working backwards, every other tensor needs at step t the hull of the rows its
readers' calls read, [lo_t, hi_t), held in its band buffer; rows it computed at earlier
steps and still needs, [lo_t, hi_{t-1}), move to the front of the buffer (a byte move,
memmove semantics), and it computes only [max(lo_t, hi_{t-1}), hi_t). No row is computed
twice: the cost over the untiled network is the moves and the per-call overhead. A tensor
read by several calls (a residual block's input: its first convolution and the
addition) holds the union of their ranges.

**Placing the split tensor over the dying input** (`split_overlap_bound`). Step t writes
split rows up to b_t (its last call) after the steps before it; the input is still read
from the first row `first_u` any later step u reads. With the split tensor starting `d`
bytes below the input (row bytes `Ro` and `Ri`), no byte still to be read is overwritten
when

    d  >=  b_t * Ro  -  first_u * Ri        for every step t and later step u

(u = t too when the split tensor's own call reads the input: it reads and writes at
once). `d` may be negative (the split tensor starts inside the input). The IR-level plan
checker verifies the result byte by byte (verify_ir.py, dataflow).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Layer:
    """Height geometry of one sliding-window layer (batch 1, NHWC): input and output
    heights, dilated window height, stride and top padding of the whole tensor."""

    in_h: int
    out_h: int
    window: int
    stride: int
    pad_top: int


def tile_bands(out_h: int, rows: int) -> list[tuple[int, int]]:
    """Split `out_h` rows into consecutive bands of `rows` rows (the last one shorter)."""
    if out_h < 1 or rows < 1:
        raise ValueError(f"out_h and rows must be >= 1, got {out_h}, {rows}")
    return [(a, min(a + rows, out_h)) for a in range(0, out_h, rows)]


@dataclass(frozen=True)
class Node:
    """One call of a stage (a DAG of calls): the stage tensors it reads row by row (its
    data inputs), the tensor it writes, and its row geometry: a sliding window (`Layer`)
    or, None, elementwise (output row r reads row r of every input). Tensor 0 is the stage
    input (held whole), the last node's output the split tensor (written whole)."""

    inputs: tuple[int, ...]
    output: int
    layer: Layer | None


@dataclass(frozen=True)
class StepCall:
    """One call of one step: node `node` computes output rows [out0, out1) from input rows
    [in0, in1) of each of its inputs, with the padding that gives its windows those of the
    whole tensor (elementwise: the same rows, no padding)."""

    node: int
    out0: int
    out1: int
    in0: int
    in1: int
    pad_top: int
    pad_bottom: int


@dataclass(frozen=True)
class Move:
    """Tensor `tensor`'s band drops its first `src` rows: the `rows` rows after them (the
    ones it keeps, maybe none) move to the front of its band buffer (memmove semantics:
    the ranges may overlap)."""

    tensor: int
    src: int
    rows: int


@dataclass(frozen=True)
class Step:
    """One step: the moves and calls that produce the next band of the split tensor, in
    run order (a move of a tensor comes right before the call computing its next rows)."""

    actions: tuple[Move | StepCall, ...]

    @property
    def calls(self) -> tuple[StepCall, ...]:
        return tuple(a for a in self.actions if isinstance(a, StepCall))

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(a for a in self.actions if isinstance(a, Move))


@dataclass(frozen=True)
class Schedule:
    """A stage run in steps with row caching: `band_rows[i]` rows of tensor i's band
    buffer (0 for the stage input and the split tensor)."""

    steps: tuple[Step, ...]
    band_rows: tuple[int, ...]


def read_rows(node: Node, out0: int, out1: int) -> tuple[int, int, int, int]:
    """(in0, in1, pad_top, pad_bottom): the input rows a call computing output rows
    [out0, out1) of `node` reads (clipped to the input) and the padding of that call.
    ValueError when the rows read lie wholly in the padding."""
    layer = node.layer
    if layer is None:
        return out0, out1, 0, 0
    if not 0 <= out0 < out1 <= layer.out_h:
        raise ValueError(f"rows [{out0}, {out1}) outside an output of {layer.out_h} rows")
    q0 = out0 * layer.stride - layer.pad_top
    q1 = (out1 - 1) * layer.stride - layer.pad_top + layer.window
    c0, c1 = max(q0, 0), min(q1, layer.in_h)
    if c1 <= c0:
        raise ValueError(f"output rows [{out0}, {out1}) read only padding")
    return c0, c1, c0 - q0, q1 - c1


def _depths(nodes: Sequence[Node]) -> dict[int, int]:
    """Calls on the longest path from the stage input to each tensor."""
    depth = {0: 0}
    for node in nodes:
        depth[node.output] = 1 + max(depth[i] for i in node.inputs)
    return depth


def cached_schedule(nodes: Sequence[Node], heights: Sequence[int], rows: int) -> Schedule:
    """The steps of a stage (`nodes` in topological order over tensors of `heights` rows)
    whose split tensor is produced in bands of `rows` rows, with row caching.

    Demand-driven: to compute its next rows a call first has each input tensor computed
    up to the last row it reads, one row per call (the split tensor: `rows` per call), its
    inputs in order of increasing depth (a residual block's short path first, so the
    long path does not run ahead of rows the short one still needs). A tensor's band
    buffer holds the rows from the first one any reader's next call reads up to the last
    computed; rows below are dropped when the tensor computes its next rows, the kept
    ones moved to the front of the buffer (a `Move`). No row is computed twice, and each
    band holds about the rows its readers' windows span. ValueError when a call reads
    only padding."""
    if not nodes or rows < 1:
        raise ValueError("no nodes or rows < 1")
    split = nodes[-1].output
    producer: dict[int, int] = {}
    readers: dict[int, list[int]] = {i: [] for i in range(len(heights))}
    for k, node in enumerate(nodes):
        if any(i != 0 and i not in producer for i in node.inputs) or node.output in producer \
                or node.output == 0:
            raise ValueError("nodes are not in topological order over distinct outputs")
        producer[node.output] = k
        for i in set(node.inputs):
            readers[i].append(k)
    depth = _depths(nodes)
    hi = [0] * len(heights)
    hi[0] = heights[0]
    lo = [0] * len(heights)
    band_rows = [0] * len(heights)
    actions: list[Move | StepCall] = []

    def chunk(k: int) -> int:
        return rows if nodes[k].output == split else 1

    def next_read(t: int) -> int:
        """The first row of tensor t its readers' next calls read (its height when none
        reads it again)."""
        first = heights[t]
        for k in readers[t]:
            out = nodes[k].output
            if hi[out] < heights[out]:
                first = min(first, read_rows(nodes[k], hi[out],
                                             min(hi[out] + chunk(k), heights[out]))[0])
        return first

    def produce(t: int, target: int) -> None:
        while hi[t] < target:
            k = producer[t]
            node = nodes[k]
            c0, c1 = hi[t], min(hi[t] + chunk(k), heights[t])
            in0, in1, pt, pb = read_rows(node, c0, c1)
            for i in sorted(set(node.inputs), key=lambda i: (depth[i], i)):
                produce(i, in1)
            if t != split:
                keep_from = min(next_read(t), c0)
                if keep_from > lo[t]:
                    actions.append(Move(t, keep_from - lo[t], max(hi[t] - keep_from, 0)))
                    lo[t] = keep_from
                band_rows[t] = max(band_rows[t], c1 - lo[t])
            actions.append(StepCall(k, c0, c1, in0, in1, pt, pb))
            hi[t] = c1

    steps: list[Step] = []
    for _, b in tile_bands(heights[split], rows):
        produce(split, b)
        steps.append(Step(tuple(actions)))
        actions.clear()
    return Schedule(tuple(steps), tuple(band_rows))


def split_overlap_bound(nodes: Sequence[Node], schedule: Schedule, in_row_bytes: int,
                        out_row_bytes: int, split_rows: int) -> int:
    """The least `d = input_start - split_start` (bytes, may be negative) at which the
    split tensor may overlap the stage input (tensor 0), generalising
    `input_overlap_bound` to a DAG stage: after step t the split tensor's rows up to b_t
    are written, and every later step reads the input from its first row read on (a step
    whose split-producing call itself reads the input counts its own reads too: that call
    reads and writes at once). Never below minus the split tensor's size."""
    split_node = nodes[-1]
    own = 0 if 0 in split_node.inputs else 1
    firsts: list[int | None] = []
    written: list[int] = []
    for step in schedule.steps:
        reads = [c.in0 for c in step.calls if 0 in nodes[c.node].inputs]
        firsts.append(min(reads) if reads else None)
        written.append(max((c.out1 for c in step.calls if c.node == len(nodes) - 1), default=0))
    need = -split_rows * out_row_bytes
    for t in range(len(firsts)):
        later = [f for f in firsts[t + own:] if f is not None]
        if later and written[t]:
            need = max(need, written[t] * out_row_bytes - min(later) * in_row_bytes)
    return need


@dataclass(frozen=True)
class InstructionModel:
    """Instructions of one kernel call as a linear function of its size: per
    multiply-accumulate, per filter tap of each output element, per output element, per
    output pixel, and per call."""

    per_mac: float
    per_tap: float
    per_output: float
    per_pixel: float
    per_call: float

    def estimate(self, macs: float, taps: float, outputs: float, pixels: float) -> float:
        return (self.per_mac * macs + self.per_tap * taps * outputs + self.per_output * outputs
                + self.per_pixel * pixels + self.per_call)


#: The per-kernel cost model the search budgets with: Cortex-M4 instructions of utc's
#: reference kernels, fitted by least squares to QEMU's per-layer counts (`utc run
#: --profile --target cortex-m4 --kernels reference`) of VWW MobileNet at -O2 and tiled
#: (146 calls; largest error 7% per call; pooling: 3x3/1 SAME and 2x2/2 VALID layers over
#: 24x24x16, exact there). On DS-CNN and ResNet-8, which it was not
#: fitted to, the error per call is within 25% (mostly below 10%). Multiply-accumulates
#: alone would misjudge a stage badly: a depthwise layer costs about 14 instructions per
#: MAC, a 1x1 convolution over 32 channels 2.5, so recomputing a depthwise halo row costs
#: far more than its MACs say. Kernels not in the table count one instruction per MAC
#: (`call_macs`); they are never tiled, so this only sets the whole model's total.
INSTRUCTION_MODELS: dict[str, InstructionModel] = {
    "utc_conv2d_s8": InstructionModel(1.46, 1.36, 29.27, 113.0, 1859.5),
    "utc_depthwise_conv2d_s8": InstructionModel(6.97, 6.97, 0.77, 21.09, 0.0),
    "utc_avg_pool_s8": InstructionModel(6.78, 0.0, 30.3, 0.0, 0.0),
    "utc_max_pool_s8": InstructionModel(8.73, 0.0, 27.8, 0.0, 0.0),
    # CMSIS-NN's, built with its DSP path: VWW's 13 depthwise layers at -O2 on Cortex-M4
    # (largest error 13% per call)
    "arm_depthwise_conv_3x3_s8": InstructionModel(7.651, 0.0, 0.85, 82.84, 0.0),
    # ResNet-8's three additions at -O2 (16,384, 8,192 and 4,096 outputs; within 1%)
    "utc_add_s8": InstructionModel(0.0, 0.0, 78.6, 0.0, 0.0),
    # patch-stages' byte move (outputs = bytes): ResNet-8 with --memory=min, 512 B in 425
    # and 1,024 B in 809 instructions (newlib's memmove, word copies)
    "utc_move": InstructionModel(0.0, 0.0, 0.75, 0.0, 41.0),
}
