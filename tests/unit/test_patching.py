"""Row tiles of patch-based execution (passes/planning/patching.py): the rows each layer of
a tile computes and reads, the padding that gives its windows those of the whole tensor,
and the least offset at which the split tensor may start below the stage input, each
checked against a brute-force model on seeded random layer chains."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.planning.patching import (
    Layer,
    input_overlap_bound,
    recompute_macs,
    tile_bands,
    tile_layers,
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


def test_vww_first_stage_by_hand() -> None:
    """VWW's first four layers (3x3/2 conv, 3x3/1 depthwise, 1x1 conv, 3x3/2 depthwise,
    SAME), one output row of the 24-row split tensor per tile."""
    layers = [Layer(96, 48, 3, 2, 0), Layer(48, 48, 3, 1, 1), Layer(48, 48, 1, 1, 0),
              Layer(48, 24, 3, 2, 0)]
    t0 = tile_layers(layers, 0, 1)
    assert [(t.out0, t.out1) for t in t0] == [(0, 4), (0, 3), (0, 3), (0, 1)]
    assert (t0[1].in0, t0[1].in1, t0[1].pad_top, t0[1].pad_bottom) == (0, 4, 1, 0)
    assert (t0[0].in0, t0[0].in1) == (0, 9)
    t5 = tile_layers(layers, 5, 6)
    assert [(t.out0, t.out1) for t in t5] == [(9, 14), (10, 13), (10, 13), (5, 6)]
    assert (t5[0].in0, t5[0].in1, t5[0].pad_top) == (18, 29, 0)
    tiles = [tile_layers(layers, a, b) for a, b in tile_bands(24, 1)]
    # split rows of 24*16 B over input rows of 96*3 B: tile 0 writes 384 B while tile 1
    # still reads from input row 2*(2*1-1) = 2 on (576 B)
    assert input_overlap_bound(tiles, 288, 384) == max(
        (t + 1) * 384 - tiles[t + 1][0].in0 * 288 for t in range(23))


def test_band_of_padding_only_is_refused() -> None:
    with pytest.raises(ValueError, match="read only padding"):
        tile_layers([Layer(4, 6, 1, 1, 1)], 0, 1)  # row 0 of a 1x1 window with pad 1


@pytest.mark.parametrize("seed", range(40))
def test_tile_layers_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    layers = random_chain(rng, int(rng.integers(1, 5)))
    if not layers:
        return
    last = layers[-1]
    for a, b in tile_bands(last.out_h, int(rng.integers(1, last.out_h + 1))):
        try:
            tile = tile_layers(layers, a, b)
        except ValueError:
            continue  # some layer's band reads only padding (checked below)
        assert (tile[-1].out0, tile[-1].out1) == (a, b)
        for i, (layer, tl) in enumerate(zip(layers, tile)):
            need = rows_read(layer, tl.out0, tl.out1)
            # the band holds every row read, and nothing else beyond the hull
            assert need <= set(range(tl.in0, tl.in1))
            assert tl.in0 == min(need) and tl.in1 == max(need) + 1
            # the tile's call has the same output height with its own padding
            rows = tl.in1 - tl.in0
            assert (rows + tl.pad_top + tl.pad_bottom - layer.window) // layer.stride + 1 \
                == tl.out1 - tl.out0
            # every tap maps to the same whole-tensor row: local row + in0 - pad_top...
            for y in range(tl.out0, tl.out1):
                for f in range(layer.window):
                    local = (y - tl.out0) * layer.stride - tl.pad_top + f
                    whole = y * layer.stride - layer.pad_top + f
                    assert local + tl.in0 == whole
                    assert (0 <= local < rows) == (0 <= whole < layer.in_h)
            if i:
                assert (tile[i - 1].out0, tile[i - 1].out1) == (tl.in0, tl.in1)


def simulate_clobber(tiles, in_row: int, out_row: int, d: int) -> bool:
    """Brute force: run the tiles (input read at its first call, split rows written at
    the last; one call when the stage has one layer) with the split tensor `d` bytes
    below the input; True when a write lands on an input byte read later (or, in one
    call, read by that call)."""
    one = len(tiles[0]) == 1
    written: set[int] = set()
    for tile in tiles:
        reads = set(range(d + tile[0].in0 * in_row, d + tile[0].in1 * in_row))
        writes = set(range(tile[-1].out0 * out_row, tile[-1].out1 * out_row))
        if reads & written or (one and reads & writes):
            return True
        written |= writes
    return False


@pytest.mark.parametrize("seed", range(40))
def test_overlap_bound_is_least_safe_offset(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    layers = random_chain(rng, int(rng.integers(1, 4)))
    if not layers:
        return
    in_row, out_row = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    try:
        tiles = [tile_layers(layers, a, b)
                 for a, b in tile_bands(layers[-1].out_h, int(rng.integers(1, 4)))]
    except ValueError:
        return
    d = input_overlap_bound(tiles, in_row, out_row)
    assert not simulate_clobber(tiles, in_row, out_row, d)
    if d > -tiles[-1][-1].out1 * out_row:  # a constraint is active: one byte less fails
        assert simulate_clobber(tiles, in_row, out_row, d - 1)
    for extra in (1, 7, 64):
        assert not simulate_clobber(tiles, in_row, out_row, d + extra)


def test_recompute_macs_counts_halo_rows() -> None:
    layers = [Layer(16, 16, 3, 1, 1), Layer(16, 16, 3, 1, 1)]
    tiles = [tile_layers(layers, a, b) for a, b in tile_bands(16, 4)]
    # layer 0 computes 4 + 2 halo rows per tile, 5 at the borders; layer 1 exactly 16
    assert recompute_macs([10, 100], tiles) == 10 * (5 + 6 + 6 + 5) + 100 * 16


def test_instruction_model_is_linear_in_rows() -> None:
    """A layer split into bands costs its whole-tensor estimate plus one per-call term
    per extra call: the budget charges a stage for its recomputed rows and its calls."""
    from utc.passes.planning.patching import INSTRUCTION_MODELS

    m = INSTRUCTION_MODELS["utc_conv2d_s8"]
    whole = m.estimate(1000.0, 9, 100.0, 25.0)
    halves = 2 * m.estimate(500.0, 9, 50.0, 12.5)
    assert halves == pytest.approx(whole + m.per_call)
    from utc.passes.patch_stages import PATCHABLE

    assert set(INSTRUCTION_MODELS) == set(PATCHABLE)  # every tiled kernel has its model


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
