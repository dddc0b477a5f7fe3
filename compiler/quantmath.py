"""Compile-time requantization arithmetic, bit-exact with TFLite (Micro).

Every integer kernel rescales an int32 accumulator by a real factor. TFLite encodes that
factor as a Q31 fixed-point multiplier and a power-of-two shift, computed on the host in
double precision. utc computes the same constants at compile time, so these functions must
reproduce TFLite's rounding decisions exactly; they are pure and unit-tested.
"""

from __future__ import annotations

import math

INT32_MAX = 2**31 - 1


def _round_half_away(x: float) -> int:
    """std::round: halves round away from zero (Python's round() rounds to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Return (q31 multiplier, shift) with real_multiplier ~= q31 * 2**(shift - 31).

    Mirrors TFLite's QuantizeMultiplier: frexp, round half away from zero, renormalise
    when rounding reaches 2**31, and flush to zero when the shift is below -31.
    """
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if q_fixed > INT32_MAX:
        raise ValueError(f"multiplier {real_multiplier!r} does not fit in Q31")
    if shift < -31:
        shift = 0
        q_fixed = 0
    return q_fixed, shift
