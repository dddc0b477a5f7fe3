"""Row steps of patch-based execution (passes/planning/patching.py): the rows each call of
a step computes and reads, the padding that gives its windows those of the whole tensor,
the rows band buffers keep and move (row caching over a DAG with residual additions), and
the least offset at which the split tensor may start below the stage input, each checked
against a brute-force model on seeded random stages."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.planning.patching import (
    Layer,
    Move,
    Node,
    StepCall,
    cached_schedule,
    read_rows,
    split_overlap_bound,
    tile_bands,
)


def random_chain(rng: np.random.Generator, n: int) -> list[Layer]:
    """n layers with random windows, strides and SAME / VALID / explicit top padding."""
    h = int(rng.integers(12, 40))
    layers = []
    for _ in range(n):
        k, s = int(rng.integers(1, 6)), int(rng.integers(1, 3))
        pad = int(rng.choice([0, (k - 1) // 2, k // 2]))
        out = (h + pad + pad - k) // s + 1
        if out < 1:
            break
        layers.append(Layer(h, out, k, s, pad))
        h = out
    return layers


def rows_read(layer: Layer, out0: int, out1: int) -> set[int]:
    """Brute force: the input rows any output row in [out0, out1) reads."""
    return {y * layer.stride - layer.pad_top + f for y in range(out0, out1)
            for f in range(layer.window)} & set(range(layer.in_h))


def test_tile_bands() -> None:
    assert tile_bands(10, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert tile_bands(4, 8) == [(0, 4)]
    with pytest.raises(ValueError):
        tile_bands(4, 0)


def test_band_of_padding_only_is_refused() -> None:
    node = Node((0,), 1, Layer(4, 6, 1, 1, 1))  # row 0 of a 1x1 window with pad 1
    with pytest.raises(ValueError, match="read only padding"):
        read_rows(node, 0, 1)


@pytest.mark.parametrize("seed", range(40))
def test_read_rows_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for layer in random_chain(rng, 3):
        node = Node((0,), 1, layer)
        for a, b in tile_bands(layer.out_h, int(rng.integers(1, layer.out_h + 1))):
            try:
                in0, in1, pt, pb = read_rows(node, a, b)
            except ValueError:
                assert not rows_read(layer, a, b)
                continue
            need = rows_read(layer, a, b)
            assert in0 == min(need) and in1 == max(need) + 1
            rows = in1 - in0
            # the call has the same output height with its own padding
            assert (rows + pt + pb - layer.window) // layer.stride + 1 == b - a
            # every tap maps to the same whole-tensor row, inside the band iff inside [0, H)
            for y in range(a, b):
                for f in range(layer.window):
                    local = (y - a) * layer.stride - pt + f
                    whole = y * layer.stride - layer.pad_top + f
                    assert local + in0 == whole
                    assert (0 <= local < rows) == (0 <= whole < layer.in_h)
    assert read_rows(Node((0, 1), 2, None), 3, 5) == (3, 5, 0, 0)


def resnet8_stage() -> tuple[list[Node], list[int]]:
    """ResNet-8's first 8 calls: conv0 3x3 (32 rows), conv1a, conv1b, ADD(x0, conv1b) ->
    x1, conv2a 3x3/2 (TFLite SAME: no top padding) -> 16 rows, conv2b, the 1x1/2
    shortcut on x1, ADD -> x2."""
    same = Layer(32, 32, 3, 1, 1)
    nodes = [Node((0,), 1, same), Node((1,), 2, same), Node((2,), 3, same),
             Node((1, 3), 4, None), Node((4,), 5, Layer(32, 16, 3, 2, 0)),
             Node((5,), 6, Layer(16, 16, 3, 1, 1)), Node((4,), 7, Layer(32, 16, 1, 2, 0)),
             Node((6, 7), 8, None)]
    return nodes, [32] * 5 + [16] * 4


def test_resnet8_stage_by_hand() -> None:
    """One split row per step, every other tensor one row per call on demand. x0 is read
    by conv1a (rows r-1..r+1 for its row r) and by the addition (row r): its band holds 3
    rows; conv1b's input 3, the addition's other input 1; x1 is read by conv2a (3 rows
    from 2q) and by the shortcut (row 2q), the shortcut computed first (its path is
    shorter), so x1 holds 3 rows, not the 5 from the shortcut's row to conv2a's last."""
    nodes, heights = resnet8_stage()
    sched = cached_schedule(nodes, heights, 1)
    assert len(sched.steps) == 16
    assert sched.band_rows == (0, 3, 3, 1, 3, 3, 1, 1, 0)
    step0 = sched.steps[0].actions
    # x0 rows 0-1 (top padding row kept), then conv1a row 0 (reads x0 rows 0-1)
    assert step0[:3] == (StepCall(0, 0, 1, 0, 2, 1, 0), StepCall(0, 1, 2, 0, 3, 0, 0),
                         StepCall(1, 0, 1, 0, 2, 1, 0))
    assert step0[-3:] == (StepCall(4, 1, 2, 2, 5, 0, 0), StepCall(5, 0, 1, 0, 2, 1, 0),
                          StepCall(7, 0, 1, 0, 1, 0, 0))
    # steady state (step 5, x2 row 5): the shortcut row 5 reads x1 row 10; x0 drops one
    # row and keeps 2 before each new row; the addition's input b1 keeps none
    step5 = sched.steps[5].actions
    assert step5[:3] == (Move(7, 1, 0), StepCall(6, 5, 6, 10, 11, 0, 0), Move(1, 1, 2))
    assert Move(4, 2, 1) in step5 and Move(3, 1, 0) in step5
    assert step5[-1] == StepCall(7, 5, 6, 5, 6, 0, 0)
    # every row of every tensor is computed once, in order
    done = {i: 0 for i in range(1, 9)}
    for step in sched.steps:
        for c in step.calls:
            out = nodes[c.node].output
            assert c.out0 == done[out] and c.out1 == c.out0 + 1
            done[out] = c.out1
    assert done == {1: 32, 2: 32, 3: 32, 4: 32, 5: 16, 6: 16, 7: 16, 8: 16}


def random_dag(rng: np.random.Generator) -> tuple[list[Node], list[int]]:
    """A random stage: window layers, and residual additions of the current tensor with
    an earlier one of the same height (which then has two readers)."""
    h = int(rng.integers(8, 30))
    nodes: list[Node] = []
    heights = [h]
    cur = 0
    for _ in range(int(rng.integers(1, 7))):
        same = [i for i in range(cur) if heights[i] == heights[cur]
                and all(cur not in n.inputs for n in nodes)]
        if same and rng.random() < 0.4:
            other = int(rng.choice(same))
            nodes.append(Node((other, cur), len(heights), None))
            heights.append(heights[cur])
        else:
            k, s = int(rng.integers(1, 5)), int(rng.integers(1, 3))
            pad = int(rng.choice([0, (k - 1) // 2, k // 2]))
            out = (heights[cur] + 2 * pad - k) // s + 1
            if out < 1:
                break
            nodes.append(Node((cur,), len(heights), Layer(heights[cur], out, k, s, pad)))
            heights.append(out)
        cur = len(heights) - 1
    return nodes, heights


def simulate(nodes, heights, sched) -> None:
    """Brute force: run the schedule on band buffers of row ids; every row a call reads
    must be at the place the schedule says and within the band buffer, every tensor's
    rows computed once in order, the split tensor wholly."""
    split = nodes[-1].output
    band: dict[int, list[int | None]] = {i: [None] * sched.band_rows[i]
                                         for i in range(1, len(heights)) if i != split}
    lo = {i: 0 for i in band}
    done = {i: 0 for i in range(1, len(heights))}
    for step in sched.steps:
        for action in step.actions:
            if isinstance(action, Move):
                t = action.tensor
                assert action.src > 0 and action.src + action.rows <= len(band[t])
                kept = band[t][action.src:action.src + action.rows]
                band[t][:action.rows] = kept
                band[t][action.rows:] = [None] * (len(band[t]) - action.rows)
                lo[t] += action.src
                continue
            c = action
            node = nodes[c.node]
            for i in node.inputs:
                if i == 0 or i == split:
                    continue
                for r in range(c.in0, c.in1):
                    assert band[i][r - lo[i]] == r, (step, c, i, r)
            if node.layer is not None:
                assert set(range(c.in0, c.in1)) >= rows_read(node.layer, c.out0, c.out1)
            out = node.output
            assert c.out0 == done[out]
            for r in range(c.out0, c.out1):
                if out != split:
                    assert r - lo[out] >= 0
                    band[out][r - lo[out]] = r
            done[out] = c.out1
    assert done[split] == heights[split]


@pytest.mark.parametrize("seed", range(60))
def test_cached_schedule_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nodes, heights = random_dag(rng)
    if not nodes:
        return
    try:
        sched = cached_schedule(nodes, heights, int(rng.integers(1, 4)))
    except ValueError as e:
        assert "padding" in str(e)
        return
    simulate(nodes, heights, sched)


def test_resnet8_stage_brute_force() -> None:
    nodes, heights = resnet8_stage()
    for rows in (1, 2, 3, 5, 16):
        simulate(nodes, heights, cached_schedule(nodes, heights, rows))


def simulate_clobber(nodes, sched, in_row: int, out_row: int, d: int) -> bool:
    """Brute force: run the steps' calls in order with the split tensor `d` bytes below
    the input; True when a call reads an input byte a split write landed on earlier (or,
    the split tensor's own call, one it writes itself)."""
    last = len(nodes) - 1
    written: set[int] = set()
    for step in sched.steps:
        for c in step.calls:
            reads = set()
            if 0 in nodes[c.node].inputs:
                reads = set(range(d + c.in0 * in_row, d + c.in1 * in_row))
            writes = set(range(c.out0 * out_row, c.out1 * out_row)) if c.node == last else set()
            if reads & (written | writes):
                return True
            written |= writes
    return False


@pytest.mark.parametrize("seed", range(40))
def test_split_overlap_bound_is_least_safe_offset(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    nodes, heights = random_dag(rng)
    if not nodes:
        return
    in_row, out_row = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    try:
        sched = cached_schedule(nodes, heights, int(rng.integers(1, 4)))
    except ValueError:
        return
    d = split_overlap_bound(nodes, sched, in_row, out_row, heights[-1])
    assert not simulate_clobber(nodes, sched, in_row, out_row, d)
    # tight when the split tensor's call does not read the input itself (it then reads
    # the input before other calls of its step, which the bound counts too) or is alone
    if d > -heights[-1] * out_row and (len(nodes) == 1 or 0 not in nodes[-1].inputs):
        assert simulate_clobber(nodes, sched, in_row, out_row, d - 1)
    for extra in (1, 7, 64):
        assert not simulate_clobber(nodes, sched, in_row, out_row, d + extra)


def test_instruction_model_is_linear_in_rows() -> None:
    """A layer split into bands costs its whole-tensor estimate plus one per-call term
    per extra call: the budget charges a stage for its recomputed rows and its calls."""
    from utc.passes.planning.patching import INSTRUCTION_MODELS

    m = INSTRUCTION_MODELS["utc_conv2d_s8"]
    whole = m.estimate(1000.0, 9, 100.0, 25.0)
    halves = 2 * m.estimate(500.0, 9, 50.0, 12.5)
    assert halves == pytest.approx(whole + m.per_call)
    from utc.passes.patch_stages import PATCHABLE
    from utc.runtime.kernels import MOVE

    # every tiled kernel has its model, and the move too
    assert set(INSTRUCTION_MODELS) == {*PATCHABLE, MOVE.name}


@pytest.mark.parametrize("options, message", [
    ("layers=2", "layers and rows must both be > 0"),
    ("rows=3", "layers and rows must both be > 0"),
    ("max-recompute=-0.1", "max-recompute must be >= 0"),
    ("max-candidates=0", "max-candidates must be >= 1"),
])
def test_pass_options_are_checked(options: str, message: str) -> None:
    from utc.compiler.driver import load_builtin_passes
    from utc.compiler.errors import UtcError
    from utc.compiler.pass_manager import parse_pipeline

    load_builtin_passes()
    with pytest.raises(UtcError, match=message):
        parse_pipeline(f"patch-stages{{{options}}}")
