"""Unit tests of the pure functions behind the builtins of issue 11 point 4: the
comparison and SUM constants, RESIZE_BILINEAR's scales, and the data-movement plans of
SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND and GATHER_ND (checked against direct loops written
from TFLite Micro's reference kernels)."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.importers import rearrange
from utc.passes.quantmath.compare import COMPARE_LEFT_SHIFT, compare_params
from utc.passes.quantmath.reduce import sum_params
from utc.passes.quantmath.requant import UnsupportedQuantization
from utc.passes.quantmath.resize import resize_scale_f32, resize_scale_q10


def test_compare_params_power_of_two_scales() -> None:
    p = compare_params(0.5, -3, 0.25, 7)
    assert (p.lhs_zp, p.rhs_zp, p.left_shift) == (-3, 7, COMPARE_LEFT_SHIFT) == (-3, 7, 8)
    assert (p.lhs_mult, p.lhs_shift) == (1 << 30, 0)
    assert (p.rhs_mult, p.rhs_shift) == (1 << 30, -1)


@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_compare_params_refuses_scales_of_one_or_more(scale: float) -> None:
    with pytest.raises(UnsupportedQuantization, match="LESS: input 1 scale"):
        compare_params(scale, 0, 0.1, 0, "LESS")


def test_compare_params_zero_point_range() -> None:
    with pytest.raises(UnsupportedQuantization, match="zero point"):
        compare_params(0.1, 128, 0.1, 0)


def test_sum_params_has_no_one_over_n() -> None:
    p = sum_params(0.5, 3, 0.25, -1, [2, 3, 4], [1, 2])
    assert (p.mult, p.shift) == (1 << 30, 2)  # 2.0 = 2^30 * 2^(2 - 31), MEAN would fold 1/12
    assert (p.input_zp, p.output_zp, p.axes) == (3, -1, (1, 2))


def test_sum_params_refuses_overflow_at_the_bound() -> None:
    # 12 elements: 255 * 12 * 2^shift must stay within int32
    assert sum_params(0.5, 0, 0.5 / 2**18, 0, [12], [0]).shift == 19  # 3060 * 2^19 < 2^31
    with pytest.raises(UnsupportedQuantization, match="overflows int32"):
        sum_params(0.5, 0, 0.5 / 2**19, 0, [12], [0])  # shift 20: 3060 * 2^20 > 2^31


def test_resize_scales() -> None:
    assert resize_scale_q10(3, 6, False) == 512
    assert resize_scale_q10(3, 7, True) == (1024 * 2 + 3) // 6
    assert resize_scale_q10(4, 1, True) == 4096  # one output pixel: no align_corners
    assert resize_scale_f32(3, 7, False) == float(np.float32(3) / np.float32(7))
    assert resize_scale_f32(5, 3, True) == 2.0


def _space_to_batch_loop(x: np.ndarray, block, pads) -> np.ndarray:
    """TFLite Micro's SpaceToBatchND loop (NHWC), padding with zeros."""
    n, h, w, c = x.shape
    bh, bw = block
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    out = np.zeros((n * bh * bw, hp // bh, wp // bw, c), x.dtype)
    for ob in range(out.shape[0]):
        ib, sw, sh = ob % n, (ob // n) % bw, (ob // n) // bw
        for oh in range(out.shape[1]):
            for ow in range(out.shape[2]):
                ih, iw = oh * bh + sh - pads[0][0], ow * bw + sw - pads[1][0]
                if 0 <= ih < h and 0 <= iw < w:
                    out[ob, oh, ow] = x[ib, ih, iw]
    return out


def _batch_to_space_loop(x: np.ndarray, block, crops) -> np.ndarray:
    """TFLite Micro's BatchToSpaceND loop (NHWC)."""
    b, h, w, c = x.shape
    bh, bw = block
    n = b // (bh * bw)
    out = np.zeros((n, h * bh - sum(crops[0]), w * bw - sum(crops[1]), c), x.dtype)
    for ib in range(b):
        ob, off = ib % n, ib // n
        for ih in range(h):
            oh = ih * bh + off // bw - crops[0][0]
            for iw in range(w):
                ow = iw * bw + off % bw - crops[1][0]
                if 0 <= oh < out.shape[1] and 0 <= ow < out.shape[2]:
                    out[ob, oh, ow] = x[ib, ih, iw]
    return out


def _run_plan(x: np.ndarray, plan: rearrange.BatchSpacePlan) -> np.ndarray:
    y = np.pad(x.reshape(plan.input4), plan.pads).reshape(plan.split).transpose(plan.perm)
    y = y.reshape(plan.joined)
    b = plan.crop_begin
    y = y[tuple(slice(b[k], b[k] + plan.output4[k]) for k in range(4))]
    return y.reshape(plan.output)


@pytest.mark.parametrize("shape,block,pads", [
    ((2, 5, 3, 2), [2, 3], [[1, 0], [2, 1]]),
    ((1, 4, 4, 1), [2, 2], [[0, 0], [0, 0]]),
    ((3, 2, 7, 2), [1, 4], [[0, 0], [0, 1]]),
])
def test_space_to_batch_plan_matches_the_loop(shape, block, pads) -> None:
    x = np.arange(1, np.prod(shape) + 1).reshape(shape)
    plan = rearrange.space_to_batch_plan(shape, block, pads)
    np.testing.assert_array_equal(_run_plan(x, plan), _space_to_batch_loop(x, block, pads))


@pytest.mark.parametrize("shape,block,crops", [
    ((12, 3, 2, 2), [2, 3], [[1, 0], [2, 1]]),
    ((4, 2, 2, 1), [2, 2], [[0, 0], [0, 0]]),
])
def test_batch_to_space_plan_matches_the_loop(shape, block, crops) -> None:
    x = np.arange(1, np.prod(shape) + 1).reshape(shape)
    plan = rearrange.batch_to_space_plan(shape, block, crops)
    np.testing.assert_array_equal(_run_plan(x, plan), _batch_to_space_loop(x, block, crops))


def test_batch_space_rank3_and_refusals() -> None:
    plan = rearrange.space_to_batch_plan((2, 6, 4), [3], [[0, 0]])
    assert plan.input4 == (2, 6, 1, 4) and plan.output == (6, 2, 4)
    with pytest.raises(ValueError, match="multiple"):
        rearrange.space_to_batch_plan((1, 5, 5, 1), [2, 2], [[0, 0], [0, 0]])
    with pytest.raises(ValueError, match="rank 3 or 4"):
        rearrange.batch_to_space_plan((4, 2), [2], [[0, 0]])


def test_gather_nd_plan() -> None:
    params = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    idx = np.array([[[1, 2], [0, 0]], [[1, 0], [0, 2]]])
    view, flat, out = rearrange.gather_nd_plan(params.shape, idx)
    assert view == (6, 4) and out == (2, 2, 4)
    want = np.stack([params[tuple(t)] for t in idx.reshape(-1, 2)]).reshape(out)
    np.testing.assert_array_equal(params.reshape(view)[flat], want)
    with pytest.raises(ValueError, match="outside"):
        rearrange.gather_nd_plan((2, 3), np.array([[2]]))
    with pytest.raises(ValueError, match="index depth"):
        rearrange.gather_nd_plan((2, 3), np.zeros((1, 3), np.int64))
