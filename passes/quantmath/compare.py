"""Compile-time constants of utc's int8 comparisons (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL,
GREATER, GREATER_EQUAL; ``runtime/utc_compare``), bit-exact with TFLite Micro.

TFLite Micro's comparisons.cc `Prepare` (int8) rescales both inputs before comparing:
each input, minus its zero point and shifted left by 8 bits, is multiplied by its own
scale taken as a Q31 multiplier through `QuantizeMultiplierSmallerThanOneExp` (the scale
itself, not a ratio of scales, converted to double from the float32 the file stores), and
the two int32 results are compared. That function requires the scale to lie in (0, 1);
TFLite Micro aborts on other scales, so utc refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.passes.quantmath._scales import _check_scale, _check_zp, _smaller_than_one_exp
from utc.passes.quantmath.qnn_attrs import QnnAttrs

#: Left shift TFLite Micro applies to both int8 comparison inputs before rescaling them.
COMPARE_LEFT_SHIFT = 8


@dataclass(frozen=True)
class CompareParams(QnnAttrs):
    """Attributes of `qnn.compare` besides its predicate: zero points, the left shift and
    one (multiplier, shift) pair per input."""

    lhs_zp: int
    rhs_zp: int
    left_shift: int
    lhs_mult: int
    lhs_shift: int
    rhs_mult: int
    rhs_shift: int


def compare_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
                   builtin: str = "comparison") -> CompareParams:
    """Constants of ``utc_compare_s8`` (TFLite Micro comparisons.cc, int8); `builtin`
    names the operator in refusals."""
    s1, s2 = _check_scale("in1", in1_scale), _check_scale("in2", in2_scale)
    m1, sh1 = _smaller_than_one_exp(s1, f"{builtin}: input 1 scale")
    m2, sh2 = _smaller_than_one_exp(s2, f"{builtin}: input 2 scale")
    return CompareParams(lhs_zp=_check_zp("in1", in1_zp), rhs_zp=_check_zp("in2", in2_zp),
                         left_shift=COMPARE_LEFT_SHIFT, lhs_mult=m1, lhs_shift=sh1,
                         rhs_mult=m2, rhs_shift=sh2)
