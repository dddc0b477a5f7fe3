"""int8 LOG_SOFTMAX's compile-time constants (passes/quantmath/softmax.log_softmax_params);
the kernel is compared with TFLite Micro in tests/e2e/test_builtins_tflm_gap.py."""

from __future__ import annotations

import pytest
from utc.passes.quantmath.requant import UnsupportedQuantization
from utc.passes.quantmath.softmax import log_softmax_params, softmax_params


def test_softmax_scaling_and_its_reverse() -> None:
    p = log_softmax_params(0.125, 16 / 256, 127)
    s = softmax_params(1.0, 0.125)
    assert (p.input_mult, p.input_left_shift, p.diff_min) == \
        (s.input_mult, s.input_left_shift, s.diff_min)
    # 0.125 * 2^26 = 2^23: multiplier 2^30 with left shift 24; reverse 2^7 / 2^30 = 2^-23
    assert (p.input_mult, p.input_left_shift) == (1 << 30, 24)
    assert (p.reverse_mult, p.reverse_shift) == (1 << 30, -22)


@pytest.mark.parametrize("scale,zp", [(1 / 16 + 1e-7, 127), (1 / 16, 0), (1 / 256, -128)])
def test_output_quantization_is_fixed(scale: float, zp: int) -> None:
    with pytest.raises(UnsupportedQuantization, match="scale 16/256 and zero point 127"):
        log_softmax_params(0.1, scale, zp)
