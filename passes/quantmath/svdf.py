"""SVDF's compile-time constants: TFLite Micro's `PrepareSvdf` (`svdf_common.cc`) for the
int8 operator (int8 input, feature weights and output; int8 or int16 time weights and
activation state of one storage type).

Its `Eval` runs two requantizations:

1. feature stage: `acc1 = sum_c wf[f, c] * (x[b, c] - input_zp)`, then
   `clamp(MultiplyByQuantizedMultiplier(acc1, feature_mult, feature_shift), state range)
   + state_zp` becomes the newest column of the state (the clamp comes before the zero
   point is added, as TFLite Micro does it);
2. time stage: `acc2 = bias[u] + sum_r sum_m wt[f, m] * (state[b, f, m] - state_zp)` over
   the unit's `rank` filters, then `clamp(MultiplyByQuantizedMultiplier(acc2, time_mult,
   time_shift) + output_zp, -128, 127)`. The fused activation is not applied (TFLite
   Micro's integer SVDF ignores it).

The factors `s_in * s_wf / s_state` and `s_state * s_wt / s_out` are computed in double
precision from the float32 scales, each through plain `QuantizeMultiplier` (either may
exceed one). TFLite Micro's source has gone back and forth on this (its PR #1501 widened
each scale to double, a later revert multiplied the float32 scales first); the oracle
utc is checked against, the `tflite-micro` package, computes in double: on TFLite
Micro's keyword_scrambled.tflite, 256 consecutive invocations, the float32 product gives
a multiplier one ulp-of-float away (2134672896 instead of 2134672828 for the first SVDF)
and 7 of its 16,384 new state values differ by one, the double one none
(tests/e2e/test_keyword_scrambled.py compares the states layer by layer). Prepare also
requires the bias scale to be `s_state * s_wt` within 1e-5, and a bias at all (it reads
the bias tensor's scale unconditionally).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from utc.passes.quantmath._scales import _check_scale, _check_zp
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier

#: TFLite Micro's tolerance between the bias scale and s_state * s_wt.
BIAS_SCALE_TOLERANCE = 1e-5


@dataclasses.dataclass(frozen=True)
class SvdfParams(QnnAttrs):
    """The `qnn.svdf` attributes: zero points and both stages' Q31 multiplier and shift."""

    input_zp: int
    state_zp: int
    output_zp: int
    feature_mult: int
    feature_shift: int
    time_mult: int
    time_shift: int


def _product_quotient(a: float, b: float, c: float) -> float:
    """a * b / c in double precision from three float32 scales (module docstring)."""
    return float(np.float32(a)) * float(np.float32(b)) / float(np.float32(c))


def svdf_params(input_scale: float, input_zp: int, feature_scale: float, time_scale: float,
                state_scale: float, state_zp: int, output_scale: float, output_zp: int,
                bias_scale: float | None, state_storage: str = "i8") -> SvdfParams:
    """TFLite Micro's PrepareSvdf constants for the int8 SVDF (`state_storage` "i8" or
    "i16": the activation state's and time weights' type)."""
    s_in = _check_scale("input", input_scale)
    s_wf = _check_scale("feature weights", feature_scale)
    s_wt = _check_scale("time weights", time_scale)
    s_state = _check_scale("activation state", state_scale)
    s_out = _check_scale("output", output_scale)
    if bias_scale is None:
        raise UnsupportedQuantization("the int8 SVDF needs a bias (TFLite Micro reads its "
                                      "scale)")
    s_bias = _check_scale("bias", bias_scale)
    want = float(np.float32(s_state)) * float(np.float32(s_wt))
    if not abs(s_bias - want) < BIAS_SCALE_TOLERANCE:
        raise UnsupportedQuantization(f"bias scale {s_bias!r} is not activation state scale "
                                      f"* time weights scale ({want!r}) within 1e-5")
    m1, sh1 = quantize_multiplier(_product_quotient(s_in, s_wf, s_state))
    m2, sh2 = quantize_multiplier(_product_quotient(s_state, s_wt, s_out))
    return SvdfParams(_check_zp("input", input_zp), _check_zp("state", state_zp, state_storage),
                      _check_zp("output", output_zp), m1, sh1, m2, sh2)
