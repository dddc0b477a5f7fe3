"""Compile-time constants of int8 DIV (passes/quantmath/elementwise.div_params: MUL's
constants with the multiplier of in1_scale / (in2_scale * out_scale) in double, and the
refusal of shifts where TFLite Micro's final rounding divide is undefined for every input)
and of 16x8 ABS and SQUARED_DIFFERENCE. The kernels are compared with TFLite Micro in
tests/e2e/test_builtins_tflm_gap.py."""

from __future__ import annotations

import pytest
from utc.passes.quantmath.elementwise import DIV_MAX_SHIFT, DIV_MIN_SHIFT, div_params
from utc.passes.quantmath.requant import UnsupportedQuantization


def test_power_of_two_quotients() -> None:
    p = div_params(0.5, 1, 0.25, -2, 1.0, 3, "relu")
    assert (p.output_mult, p.output_shift) == (1 << 30, 2)  # 2 = 0.5 * 2^2
    assert (p.lhs_zp, p.rhs_zp, p.output_zp) == (1, -2, 3)
    assert p.act == (3, 127)
    p = div_params(0.125, 0, 1.0, 0, 1.0, 0)
    assert (p.output_mult, p.output_shift) == (1 << 30, -2)


def test_shift_limits() -> None:
    assert div_params(2.0**DIV_MAX_SHIFT * 0.75, 0, 1.0, 0, 1.0, 0).output_shift == DIV_MAX_SHIFT
    assert div_params(2.0**(DIV_MIN_SHIFT - 1), 0, 1.0, 0, 1.0, 0).output_shift == DIV_MIN_SHIFT
    for scale in (2.0**DIV_MAX_SHIFT, 2.0**(DIV_MIN_SHIFT - 2)):
        with pytest.raises(UnsupportedQuantization, match="DIV: the output multiplier's shift"):
            div_params(scale, 0, 1.0, 0, 1.0, 0)
    with pytest.raises(UnsupportedQuantization, match="only int8"):
        div_params(0.5, 0, 0.5, 0, 0.5, 0, storage="i16")


def test_abs16_params() -> None:
    """16x8 ABS: no rescale for equal scales, QuantizeMultiplier of the quotient otherwise,
    zero points 0 only (TFLite Micro's int16 ABS)."""
    from utc.passes.quantmath.activation import abs16_params

    assert abs16_params(0.5, 0, 0.5, 0).attrs() == {"rescale": False, "mult": 0, "shift": 0}
    p = abs16_params(0.5, 0, 0.25, 0)
    assert (p.rescale, p.mult, p.shift) == (True, 1 << 30, 2)
    with pytest.raises(UnsupportedQuantization, match="zero points 0"):
        abs16_params(0.5, 1, 0.5, 0)


def test_squared_difference_int16_params() -> None:
    """16x8 SQUARED_DIFFERENCE: no left shift, the int16 clamp, zero points 0 only; int8
    unchanged (left shift 7, the int8 clamp)."""
    from utc.passes.quantmath.elementwise import squared_difference_params

    p = squared_difference_params(0.5, 0, 0.25, 0, 1.0, 0, "i16")
    assert (p.left_shift, p.act, p.lhs_mult, p.lhs_shift) == (0, (-32768, 32767), 1 << 30, 0)
    assert (p.output_mult, p.output_shift) == (1 << 30, 1)  # (2 * 0.5)^2 / 1 = 1
    assert squared_difference_params(0.5, 3, 0.25, 0, 1.0, 0).left_shift == 7
    with pytest.raises(UnsupportedQuantization, match="zero points 0"):
        squared_difference_params(0.5, 3, 0.25, 0, 1.0, 0, "i16")
