"""Compile-time constants of the 16x8 LOGISTIC, TANH and SOFTMAX kernels
(`passes/quantmath`): TFLite's CheckedLog2, the int16 curves' input rescale with its
power-of-two paths, and the int16 softmax tables. The e2e tests in
tests/e2e/test_int16.py check the results bit for bit against TFLite Micro over every
int16 input; these pin the values that decide which path TFLM takes."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.quantmath import activation, softmax
from utc.passes.quantmath.requant import UnsupportedQuantization


@pytest.mark.parametrize("x, want", [
    (2.0 ** -12, (True, -12)), (2.0 ** -12 * 1.0004, (True, -12)),
    (2.0 ** -12 * 1.01, (False, -12)), (3.0, (False, 2)), (0.5, (True, -1)),
])
def test_checked_log2(x: float, want: tuple[bool, int]) -> None:
    assert activation.checked_log2(x) == want


def test_power_of_two_paths() -> None:
    # logistic: only 2^-12 is TFLM's power-of-two case; tanh also 2^-11 (times 6)
    assert activation.logistic16_params(2.0 ** -12, 0, 2.0 ** -15, 0).attrs() == \
        {"input_mult": 3, "input_left_shift": 0}
    assert activation.logistic16_params(2.0 ** -11, 0, 2.0 ** -15, 0).attrs() == \
        {"input_mult": 24576, "input_left_shift": 12}
    assert activation.tanh16_params(2.0 ** -11, 0, 2.0 ** -15, 0).attrs() == \
        {"input_mult": 6, "input_left_shift": 0}
    # a scale within CheckedLog2's tolerance of 2^-12 takes the power-of-two path
    assert activation.tanh16_params(2.0 ** -12 * 1.0004, 0, 2.0 ** -15, 0).input_mult == 3


def test_general_scale_is_doubled_then_truncated() -> None:
    p = activation.logistic16_params(1.2e-4, 0, 2.0 ** -15, 0)
    real = float(np.float32(1.2e-4)) * 4096 * 3 * 2 ** p.input_left_shift
    assert p.input_mult == int(real) and 16383.5 < real <= 32767


@pytest.mark.parametrize("args, message", [
    ((1e-3, 1, 2.0 ** -15, 0), "zero points must be 0"),
    ((1e-3, 0, 2.0 ** -14, 0), "output scale must be 2\\^-15"),
    ((2.7, 0, 2.0 ** -15, 0), "multiplier 33177 > 32767"),
    ((1e-15, 0, 2.0 ** -15, 0), "too small"),
])
def test_curve_refusals(args, message: str) -> None:
    with pytest.raises(UnsupportedQuantization, match=message):
        activation.tanh16_params(*args)


def test_softmax_tables() -> None:
    exp_lut, recip_lut = softmax.softmax16_luts()
    assert exp_lut.dtype == np.int16 and exp_lut.shape == (softmax.INT16_LUT_SIZE,)
    # exp(0) = 1 saturates at 32767; exp(-10) is about 1.5 on the Q0.15 scale (less the midpoint bias)
    assert exp_lut[-1] == 32767 and 1 <= exp_lut[0] <= 2
    assert np.all(np.diff(exp_lut.astype(int)) >= 0)
    # 1 / (1 + x) over [0, 1]: 1 saturates, 1/2 is exact
    assert recip_lut[0] == 32767 and recip_lut[-1] == 16384
    assert np.all(np.diff(recip_lut.astype(int)) <= 0)
    assert not exp_lut.flags.writeable


def test_softmax_params() -> None:
    p = softmax.softmax16_params(1.0, 10 / 65535, 0, 1 / 32768, 0)
    assert (p.input_mult, p.input_left_shift) == (1 << 30, 1)  # a multiplier of one
    with pytest.raises(UnsupportedQuantization, match="overflows"):
        softmax.softmax16_params(1.0, 10.0, 0, 1 / 32768, 0)
    with pytest.raises(UnsupportedQuantization, match="output scale must be 1/32768"):
        softmax.softmax16_params(1.0, 1e-3, 0, 1 / 256, 0)
