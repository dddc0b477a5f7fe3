"""SVDF's and the int8 LSTM's compile-time constants (passes/quantmath/svdf.py, lstm.py)
on values whose TFLite Micro result is known exactly (powers of two), and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.quantmath.lstm import (
    GATES,
    cell_scale_power,
    lstm_params,
    quantized_cell_clip,
)
from utc.passes.quantmath.requant import UnsupportedQuantization
from utc.passes.quantmath.svdf import svdf_params


def test_svdf_power_of_two_scales() -> None:
    # feature: 2^-4 * 2^-6 / 2^-8 = 2^-2 -> (2^30, -1); time: 2^-8 * 2^-7 / 2^-10 = 2^-5
    p = svdf_params(2**-4, 3, 2**-6, 2**-7, 2**-8, -5, 2**-10, 2, 2**-15)
    assert (p.feature_mult, p.feature_shift) == (2**30, -1)
    assert (p.time_mult, p.time_shift) == (2**30, -4)
    assert (p.input_zp, p.state_zp, p.output_zp) == (3, -5, 2)


def test_svdf_factor_above_one() -> None:
    p = svdf_params(0.5, 0, 0.5, 1.0, 2**-6, 0, 2**-10, 0, 2**-6)
    assert p.feature_shift == 5 and p.time_shift == 5


def test_svdf_scales_multiply_in_double() -> None:
    """keyword_scrambled.tflite's first SVDF: in float32 the feature factor would round to
    2134672896, which the `tflite-micro` oracle does not use (it gives 7 state values one
    lower over 256 invocations; tests/e2e/test_keyword_scrambled.py)."""
    s_in, s_wf, s_wt, s_state = (float(np.float32(v)) for v in
                                 ("0.059208333", "0.0091712065", "0.0037055062", "0.004370165"))
    p = svdf_params(s_in, -128, s_wf, s_wt, s_state, 0, 0.1, 0, s_state * s_wt, "i16")
    assert (p.feature_mult, p.feature_shift) == (2134672828, -3)


def test_svdf_bias_scale_and_presence_checked() -> None:
    with pytest.raises(UnsupportedQuantization, match="bias scale"):
        svdf_params(0.1, 0, 0.1, 0.1, 0.1, 0, 0.1, 0, 0.5)
    with pytest.raises(UnsupportedQuantization, match="needs a bias"):
        svdf_params(0.1, 0, 0.1, 0.1, 0.1, 0, 0.1, 0, None)
    with pytest.raises(UnsupportedQuantization, match="zero point"):
        svdf_params(0.1, 0, 0.1, 0.1, 0.1, 200, 0.1, 0, float(np.float32(0.1) * np.float32(0.1)))
    svdf_params(0.1, 0, 0.1, 0.1, 0.1, 200, 0.1, 0, float(np.float32(0.1) * np.float32(0.1)),
                state_storage="i16")


@pytest.mark.parametrize("scale,power", [(2**-11, -11), (2**-15, -15), (1.0, 0), (4.0, 2),
                                         (3e-4, -12)])
def test_cell_scale_power(scale: float, power: int) -> None:
    assert cell_scale_power(scale) == power


def test_quantized_cell_clip_truncates_and_saturates() -> None:
    assert quantized_cell_clip(3.0, 2**-11) == 6144
    assert quantized_cell_clip(1.0, 3e-4) == 3333  # 3333.33 truncated
    assert quantized_cell_clip(100.0, 2**-11) == 32767


def test_lstm_params_power_of_two() -> None:
    ones = {g: 2**-7 for g in GATES}
    p = lstm_params(2**-5, 3, 2**-7, -2, 2**-11, ones, ones, 0.0)
    # input FC: 2^-5 * 2^-7 / 2^-12 = 1 -> (2^30, 1); recurrent: 2^-14 / 2^-12 = 2^-2
    assert (p.forget_gate_input_mult, p.forget_gate_input_shift) == (2**30, 1)
    assert (p.forget_gate_recurrent_mult, p.forget_gate_recurrent_shift) == (2**30, -1)
    assert (p.forget_cell_mult, p.forget_cell_shift) == (2**30, -14)   # 2^-15
    assert (p.input_cell_mult, p.input_cell_shift) == (2**30, -18)     # 2^-30 / 2^-11
    assert (p.hidden_mult, p.hidden_shift) == (2**30, -22)             # 2^-30 / 2^-7
    assert p.cell_scale_power == -11 and p.cell_clip == -1
    assert lstm_params(2**-5, 3, 2**-7, -2, 2**-11, ones, ones, 0.5).cell_clip == 1024
