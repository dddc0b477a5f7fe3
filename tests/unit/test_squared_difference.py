"""SQUARED_DIFFERENCE: the compile-time constants (`squared_difference_params`) and the
int8 and float32 kernels, run through ctypes against TFLite Micro.

The end-to-end sweep (tests/e2e/test_ops.py) checks the whole pipeline on random inputs;
here the kernel sees every one of the 65,536 int8 input pairs for a few quantizations,
including an output multiplier above one, where random inputs almost always saturate, and
a random sweep of scales and zero points checks the multiplier rounding. Comparisons are
bit-exact (float32 too: TFLM computes the same single rounding of d * d).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np
import pytest
from utc.dialects.shape_math import broadcast_shapes6
from utc.passes.quantmath import elementwise
from utc.passes.quantmath.requant import UnsupportedQuantization

from tests.kernel_harness import load_kernels, ptr, seeded_rng
from tests.oracle import run_tflm
from tests.tflite_writer import ModelBuilder

SEED = 20261210
_KEYS = ["lhs_zp", "rhs_zp", "output_zp", "left_shift", "lhs_mult", "lhs_shift", "rhs_mult",
         "rhs_shift", "output_mult", "output_shift"]


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return load_kernels(["utc_squared_difference_s8", "utc_squared_difference_f32"])


def _model(s1: Sequence[int], s2: Sequence[int], q: tuple | None) -> bytes:
    b = ModelBuilder("squared difference")
    so = list(np.broadcast_shapes(tuple(s1), tuple(s2)))
    if q is None:
        x1, x2, y = (b.add_tensor(n, s, "float32") for n, s in (("x1", s1), ("x2", s2),
                                                                ("y", so)))
    else:
        x1, x2, y = (b.add_tensor(n, s, "int8", scale=qq[0], zero_point=qq[1])
                     for n, s, qq in (("x1", s1, q[0]), ("x2", s2, q[1]), ("y", so, q[2])))
    b.add_operator("SQUARED_DIFFERENCE", [x1, x2], [y], version=1 if q is None else 2)
    return b.build([x1, x2], [y])


def _run_s8(lib: ctypes.CDLL, x1: np.ndarray, x2: np.ndarray, q: tuple,
            out: np.ndarray | None = None) -> np.ndarray:
    """The kernel with the constants the compiler would emit; `out` may alias x1."""
    a6, b6, o6 = broadcast_shapes6(x1.shape, x2.shape)
    if out is None:
        out = np.zeros(np.broadcast_shapes(x1.shape, x2.shape), np.int8)
    p = elementwise.squared_difference_params(*q[0], *q[1], *q[2])
    lib.utc_squared_difference_s8(ptr(x1), ptr(x2), ptr(out), ptr(a6), ptr(b6), ptr(o6),
                                  *[int(getattr(p, k)) for k in _KEYS], *p.act)
    return out


def test_params_on_power_of_two_scales() -> None:
    """Exact cases: equal scales give input multipliers of exactly one half; the output
    multiplier (2 * 2^-3)^2 / (2^14 * out_scale) is one (a positive shift) or one half."""
    p = elementwise.squared_difference_params(0.125, -3, 0.125, 4, 2.0**-18, 9)
    assert (p.left_shift, p.lhs_mult, p.lhs_shift) == (7, 1 << 30, 0)
    assert (p.rhs_mult, p.rhs_shift) == (1 << 30, 0)
    assert (p.output_mult, p.output_shift) == (1 << 30, 1)
    assert (p.lhs_zp, p.rhs_zp, p.output_zp, p.act[0], p.act[1]) == \
        (-3, 4, 9, -128, 127)
    p = elementwise.squared_difference_params(0.125, 0, 0.0625, 0, 2.0**-17, 0)
    assert (p.lhs_mult, p.lhs_shift) == (1 << 30, 0)  # 1/2
    assert (p.rhs_mult, p.rhs_shift) == (1 << 30, -1)  # 1/4
    assert (p.output_mult, p.output_shift) == (1 << 30, 0)


def test_params_refuse_int32_overflow_and_bad_zero_points() -> None:
    """A shift of one still fits (at most 2 * (255 * 2^6)^2 < 2^31); two could overflow
    TFLM's int32 product, which is undefined behaviour there."""
    elementwise.squared_difference_params(0.125, 0, 0.125, 0, 2.0**-18, 0)
    with pytest.raises(UnsupportedQuantization, match="overflows"):
        elementwise.squared_difference_params(0.125, 0, 0.125, 0, 2.0**-19, 0)
    with pytest.raises(UnsupportedQuantization, match="zero point"):
        elementwise.squared_difference_params(0.1, 128, 0.1, 0, 0.1, 0)


EXHAUSTIVE = {
    "typical": ((0.05, -3), (0.08, 10), (0.5, -128)),
    "extreme_zp": ((0.02, -128), (0.5, 127), (60.0, -128)),
    "output_shift": ((0.02, 3), (0.0199, 3), (6.5e-8, -128)),
    "equal_scales_shift_one": ((0.125, 0), (0.125, 0), (2.0**-18, -128)),
}


@pytest.mark.parametrize("quant", sorted(EXHAUSTIVE))
def test_s8_every_input_pair(lib: ctypes.CDLL, quant: str) -> None:
    q = EXHAUSTIVE[quant]
    x1 = np.repeat(np.arange(-128, 128, dtype=np.int8), 256)
    x2 = np.tile(np.arange(-128, 128, dtype=np.int8), 256)
    want = run_tflm(_model([65536], [65536], q), [x1, x2])[0]
    np.testing.assert_array_equal(_run_s8(lib, x1, x2, q), want)


def test_s8_random_quantization_sweep(lib: ctypes.CDLL) -> None:
    """Log-uniform scales over six decades and arbitrary zero points, broadcast shapes."""
    rng = seeded_rng(SEED, "sweep")
    checked = 0
    while checked < 40:
        q = tuple((float(10 ** rng.uniform(-5, 1)), int(rng.integers(-128, 128)))
                  for _ in range(3))
        try:
            elementwise.squared_difference_params(*q[0], *q[1], *q[2])
        except UnsupportedQuantization:
            continue  # TFLM would overflow int32 here: no oracle
        model = _model([3, 1, 17], [1, 2, 17], q)
        for _ in range(2):
            x1 = rng.integers(-128, 128, (3, 1, 17)).astype(np.int8)
            x2 = rng.integers(-128, 128, (1, 2, 17)).astype(np.int8)
            np.testing.assert_array_equal(_run_s8(lib, x1, x2, q),
                                          run_tflm(model, [x1, x2])[0], err_msg=str(q))
        checked += 1


def test_s8_runs_in_place(lib: ctypes.CDLL) -> None:
    """The record's in_place claim: the output may be the same-shape input's buffer."""
    q = EXHAUSTIVE["typical"]
    rng = seeded_rng(SEED, "in place")
    x1 = rng.integers(-128, 128, (4, 6, 5)).astype(np.int8)
    x2 = rng.integers(-128, 128, (6, 1)).astype(np.int8)
    want = run_tflm(_model([4, 6, 5], [6, 1], q), [x1, x2])[0]
    _run_s8(lib, x1, x2, q, out=x1)
    np.testing.assert_array_equal(x1, want)


@pytest.mark.parametrize("shapes", [([2, 3, 4, 5], [2, 3, 4, 5]), ([2, 1, 3, 1], [1, 4, 1, 5])])
def test_f32_bit_exact_and_in_place(lib: ctypes.CDLL, shapes: tuple) -> None:
    rng = seeded_rng(SEED, "f32", shapes)
    x1 = (rng.standard_normal(shapes[0]) * 1e3).astype(np.float32)
    x2 = (rng.standard_normal(shapes[1]) * 1e3).astype(np.float32)
    want = run_tflm(_model(shapes[0], shapes[1], None), [x1, x2])[0]
    a6, b6, o6 = broadcast_shapes6(x1.shape, x2.shape)
    out = np.zeros(want.shape, np.float32)
    lib.utc_squared_difference_f32(ptr(x1), ptr(x2), ptr(out), ptr(a6), ptr(b6), ptr(o6))
    np.testing.assert_array_equal(out, want)
    if x1.shape == want.shape:
        lib.utc_squared_difference_f32(ptr(x1), ptr(x2), ptr(x1), ptr(a6), ptr(b6), ptr(o6))
        np.testing.assert_array_equal(x1, want)
