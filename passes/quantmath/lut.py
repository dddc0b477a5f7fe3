"""Compile-time int8 lookup tables (TFLite Micro's `PopulateLookupTable`, elu.cc, and the
integer arithmetic of int8 ABS evaluated for every input): one
output for each of the 256 int8 inputs, computed in float32 as TFLite Micro computes it
at `Prepare`, so the kernel only indexes the table (``runtime/utc_lookup``).

For each stored input v: x = in_scale * (v - in_zp) (float32), y = f(x) (float32),
q = round_half_away(y * (1 / out_scale)) + out_zp, clamped to [-128, 127]. The table is
indexed by the input's byte, (uint8_t)v. Transcendental functions are evaluated in double
and rounded to float32 (the correctly rounded value, which glibc's single-precision
functions return but for rare last-bit exceptions).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from utc.passes.quantmath._scales import _check_scale, _check_zp
from utc.passes.quantmath.requant import (
    UnsupportedQuantization,
    quantize_multiplier,
    round_half_away,
)


def _f32(x: float) -> np.float32:
    return np.float32(x)


def lookup_table_s8(in_scale: float, in_zp: int, out_scale: float, out_zp: int,
                    fn: Callable[[np.float32], np.float32]) -> np.ndarray:
    """The 256-entry int8 table of `fn` (float32 in, float32 out), indexed by (uint8_t)v."""
    si, so = _f32(_check_scale("input", in_scale)), _f32(_check_scale("output", out_scale))
    zi, zo = _check_zp("input", in_zp), _check_zp("output", out_zp)
    inverse = np.float32(1) / so
    table = np.zeros(256, np.int8)
    for v in range(-128, 128):
        x = np.float32(si * np.float32(v - zi))
        y = np.float32(fn(x))
        q = int(round_half_away(float(np.float32(y * inverse)))) + zo
        table[v & 0xFF] = max(-128, min(127, q))
    return table


def elu_f32(x: np.float32) -> np.float32:
    """TFLite Micro's int8 ELU transform: x < 0 ? exp(x) - 1 : x, in float32."""
    if x < 0:
        return np.float32(np.float32(math.exp(float(x))) - np.float32(1.0))
    return x


def elu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """Constants of ``utc_lookup_s8`` for int8 ELU (TFLite Micro elu.cc)."""
    return lookup_table_s8(in_scale, in_zp, out_scale, out_zp, elu_f32)


def _sat_rounding_doubling_high_mul(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values."""
    if a == b == -(2**31):
        return 2**31 - 1
    ab = a * b
    t = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(t) >> 31  # C++ division truncates toward zero
    return -q if t < 0 else q


def _rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier on int32 (x * 2^max(shift, 0) must fit)."""
    left, right = max(shift, 0), max(-shift, 0)
    shifted = x * (1 << left)
    if not -(2**31) <= shifted < 2**31:
        raise UnsupportedQuantization(f"{x} * 2^{left} overflows int32 (TFLite Micro "
                                      "leaves that undefined)")
    return _rounding_divide_by_pot(_sat_rounding_doubling_high_mul(shifted, multiplier), right)


def abs_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """Constants of ``utc_lookup_s8`` for int8 ABS (TFLite Micro elementwise.cc
    AbsEvalQuantized): |v - in_zp|, rescaled by QuantizeMultiplier(in_scale / out_scale,
    the quotient in float32) unless the two scales are equal, plus out_zp, clamped."""
    si, so = _f32(_check_scale("input", in_scale)), _f32(_check_scale("output", out_scale))
    zi, zo = _check_zp("input", in_zp), _check_zp("output", out_zp)
    rescale = si != so
    if rescale:
        mult, shift = quantize_multiplier(float(np.float32(si / so)))
    table = np.zeros(256, np.int8)
    for v in range(-128, 128):
        value = abs(v - zi)
        out = (multiply_by_quantized_multiplier(value, mult, shift) if rescale else value) + zo
        table[v & 0xFF] = max(-128, min(127, out))
    return table


def _sat_shl(x: int, exponent: int) -> int:
    """gemmlowp's SaturatingRoundingMultiplyByPOT with a positive exponent on int32."""
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return 2**31 - 1
    if x < -threshold:
        return -(2**31)
    return x << exponent


def _wrap32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, kReverseShift): 1 / sqrt(value) as
    a multiplier in Q0.31 and a left shift, by five Newton-Raphson steps in gemmlowp's
    Q3.28 fixed point (values <= 1 give (INT32_MAX, 0), as TFLite)."""
    if value <= 1:
        return 2**31 - 1, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    clz = 32 - value.bit_length()
    pairs = (clz - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    srdhm = _sat_rounding_doubling_high_mul
    x_in = value >> 1  # Q3.28
    half_input = _rounding_divide_by_pot(x_in, 1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # one in Q3.28
    for _ in range(5):
        x3 = _sat_shl(srdhm(srdhm(x, x), x), 6)  # Q9 product back to Q3
        x = _sat_shl(_wrap32(srdhm(half_three, x) - srdhm(half_input, x3)), 3)
    x = srdhm(x, 1518500250)  # times sqrt(2) / 2 (Q0.31)
    if shift < 0:
        x = _wrap32(x << -shift)
        shift = 0
    return x, -shift


#: TFLite Micro's int8 RSQRT keeps 20 extra bits between its two rescales
RSQRT_SHIFT = 20


def rsqrt_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """Constants of ``utc_lookup_s8`` for int8 RSQRT (TFLite Micro elementwise.cc
    RsqrtEvalQuantized): v - in_zp = 0 gives 127; otherwise 1 / sqrt(v - in_zp) from
    `inv_sqrt_multiplier_exp` applied to 1 << 20, then rescaled by QuantizeMultiplier(1 /
    (sqrtf(in_scale) * out_scale)) and 2^-20, plus out_zp, clamped. TFLite Micro fails the
    invocation for an input below the zero point (a negative value); the table gives such
    an input the result of the smallest positive one (what TFLite's arithmetic yields for
    values <= 1), so the generated code has no error path."""
    si, so = _f32(_check_scale("input", in_scale)), _f32(_check_scale("output", out_scale))
    zi, zo = _check_zp("input", in_zp), _check_zp("output", out_zp)
    mult, shift = quantize_multiplier(1.0 / float(np.float32(np.sqrt(si) * so)))
    if shift - RSQRT_SHIFT < -31:
        raise UnsupportedQuantization(f"RSQRT: output multiplier shift {shift} is below "
                                      f"{RSQRT_SHIFT - 31} (TFLite Micro's rescale is undefined)")
    table = np.zeros(256, np.int8)
    for v in range(-128, 128):
        value = v - zi
        if value == 0:
            out = 127
        else:
            inv, inv_shift = inv_sqrt_multiplier_exp(value)
            data = multiply_by_quantized_multiplier(1, inv, inv_shift + RSQRT_SHIFT)
            out = multiply_by_quantized_multiplier(data, mult, shift - RSQRT_SHIFT) + zo
        table[v & 0xFF] = max(-128, min(127, out))
    return table
