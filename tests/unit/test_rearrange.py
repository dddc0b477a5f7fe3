"""The reshape/transpose plans for SPACE_TO_DEPTH and DEPTH_TO_SPACE against TFLite's
index formulas written out element by element, and the PACK/UNPACK axis rules."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.importers import rearrange


def _apply(plan: rearrange.BlockPlan, x: np.ndarray) -> np.ndarray:
    return x.reshape(plan.split).transpose(plan.perm).reshape(plan.output)


def _space_to_depth_by_index(x: np.ndarray, b: int) -> np.ndarray:
    n, h, w, c = x.shape
    out = np.zeros((n, h // b, w // b, b * b * c), x.dtype)
    for i in np.ndindex(*x.shape):
        bn, ih, iw, ic = i
        out[bn, ih // b, iw // b, ((ih % b) * b + iw % b) * c + ic] = x[i]
    return out


def _depth_to_space_by_index(x: np.ndarray, b: int) -> np.ndarray:
    n, h, w, c = x.shape
    d = c // (b * b)
    out = np.zeros((n, h * b, w * b, d), x.dtype)
    for i in np.ndindex(*out.shape):
        bn, oh, ow, oc = i
        out[i] = x[bn, oh // b, ow // b, ((oh % b) * b + ow % b) * d + oc]
    return out


@pytest.mark.parametrize("shape,block", [((1, 4, 6, 3), 2), ((2, 6, 3, 2), 3), ((1, 2, 2, 5), 1)])
def test_space_to_depth_plan_matches_tflite_indexing(shape: tuple, block: int) -> None:
    x = np.arange(np.prod(shape)).reshape(shape)
    plan = rearrange.space_to_depth_plan(shape, block)
    np.testing.assert_array_equal(_apply(plan, x), _space_to_depth_by_index(x, block))
    assert plan.transposed == tuple(plan.split[p] for p in plan.perm)


@pytest.mark.parametrize("shape,block", [((1, 2, 3, 12), 2), ((2, 1, 2, 18), 3), ((1, 3, 3, 4), 1)])
def test_depth_to_space_plan_matches_tflite_indexing(shape: tuple, block: int) -> None:
    x = np.arange(np.prod(shape)).reshape(shape)
    plan = rearrange.depth_to_space_plan(shape, block)
    np.testing.assert_array_equal(_apply(plan, x), _depth_to_space_by_index(x, block))


def test_block_plans_are_inverse() -> None:
    x = np.arange(2 * 4 * 6 * 3).reshape(2, 4, 6, 3)
    s2d = rearrange.space_to_depth_plan(x.shape, 2)
    d2s = rearrange.depth_to_space_plan(s2d.output, 2)
    np.testing.assert_array_equal(_apply(d2s, _apply(s2d, x)), x)


@pytest.mark.parametrize("call,message", [
    (lambda: rearrange.space_to_depth_plan((1, 5, 4, 2), 2), "multiples of block_size 2"),
    (lambda: rearrange.space_to_depth_plan((4, 4, 2), 2), "rank 4"),
    (lambda: rearrange.space_to_depth_plan((1, 4, 4, 2), 0), "positive"),
    (lambda: rearrange.depth_to_space_plan((1, 2, 2, 6), 2), r"multiple of block_size\^2 = 4"),
])
def test_block_plans_refuse(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_axes() -> None:
    assert rearrange.pack_axis(-1, 2) == 2
    assert rearrange.pack_axis(0, 2) == 0
    assert rearrange.unpack_axis(-1, 3) == 2
    with pytest.raises(ValueError, match="rank 3"):
        rearrange.pack_axis(3, 2)
    with pytest.raises(ValueError, match="rank 2"):
        rearrange.unpack_axis(-3, 2)
    assert rearrange.insert_axis((2, 3), 1) == (2, 1, 3)


@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("sizes", [(4, 8), (8, 4), (3, 7), (7, 3), (5, 5), (1, 4), (4, 1), (6, 13)])
def test_nearest_sources(sizes: tuple, align: bool, half: bool) -> None:
    """Every source in range and never decreasing (the sweep compares the values with
    TFLite Micro)."""
    got = rearrange.nearest_sources(*sizes, align, half)
    assert len(got) == sizes[1] and all(0 <= s < sizes[0] for s in got)
    assert got == sorted(got)


def test_nearest_sources_known_values() -> None:
    assert rearrange.nearest_sources(2, 4, False, False) == [0, 0, 1, 1]
    assert rearrange.nearest_sources(3, 5, True, False) == [0, 1, 1, 2, 2]  # 0.5, 1.5 round up
    assert rearrange.nearest_sources(4, 2, False, True) == [1, 3]


def test_mirror_sources() -> None:
    assert rearrange.mirror_sources(3, 2, 2, reflect=True) == [2, 1, 0, 1, 2, 1, 0]
    assert rearrange.mirror_sources(3, 2, 1, reflect=False) == [1, 0, 0, 1, 2, 2]
    assert rearrange.mirror_sources(4, 0, 0, reflect=True) == [0, 1, 2, 3]
    assert rearrange.mirror_sources(1, 1, 1, reflect=False) == [0, 0, 0]
    with pytest.raises(ValueError, match=r"REFLECT paddings \(3, 0\) of a dimension of size 3 "
                                         r"must be in \[0, 2\]"):
        rearrange.mirror_sources(3, 3, 0, reflect=True)
    with pytest.raises(ValueError, match=r"SYMMETRIC paddings \(0, 4\)"):
        rearrange.mirror_sources(3, 0, 4, reflect=False)
