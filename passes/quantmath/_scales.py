"""What every topic module of the quantization math reads first: the float32 scales and
int8 zero points a ``.tflite`` file stores, checked the way TFLite Micro's ``Prepare``
checks them, and the few float32 / multiplier conversions TFLM applies to them.

Private to `utc.passes.quantmath`: parameter combinations TFLM refuses raise
`UnsupportedQuantization`, so the compiler rejects the model with a clear message instead of
emitting a kernel that disagrees with the oracle.
"""

from __future__ import annotations

import math

import numpy as np
from utc.passes.quantmath.requant import (
    STORAGE_RANGE,
    UnsupportedQuantization,
    quantize_multiplier,
    round_half_away,
)

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _f32(x: float) -> float:
    """The float32 value a .tflite file stores for x, as a Python float (exact)."""
    return float(np.float32(x))


def _f32_div(a: float, b: float) -> float:
    """a / b evaluated in float32 (as C++ does on two float operands)."""
    return float(np.float32(a) / np.float32(b))


def _check_zp(name: str, zp: int, storage: str = "i8") -> int:
    """A zero point as a Python int, inside its storage type's range (`i8`, `i16`, or `i32`
    for QUANTIZE into int32);
    TFLM's kernels refuse anything wider."""
    zp = int(zp)
    lo, hi = STORAGE_RANGE[storage]
    if not lo <= zp <= hi:
        kind = {"i8": "int8", "i16": "int16", "i32": "int32"}[storage]
        raise UnsupportedQuantization(f"{name} zero point {zp} is outside the {kind} range")
    return zp


def _check_scale(name: str, scale: float) -> float:
    """The float32 scale as a Python float; zero, negative or non-finite scales have no
    meaning (and make TFLM divide by zero or compute NaN multipliers)."""
    s = _f32(scale)
    if not (s > 0.0 and math.isfinite(s)):
        raise UnsupportedQuantization(f"{name} scale {scale!r} is not a positive finite float32")
    return s


def _smaller_than_one_exp(real: float, what: str) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, shift <= 0."""
    if not 0.0 < real < 1.0:
        raise UnsupportedQuantization(f"{what}: multiplier {real!r} is not in (0, 1) "
                                      "(TFLite Micro refuses it)")
    mult, shift = quantize_multiplier(real)
    if shift > 0:  # cannot happen for real < 1, kept as TFLite's check
        raise UnsupportedQuantization(f"{what}: multiplier {real!r} has a positive shift")
    return mult, shift


def _quantize_clamp_bound(value: float, scale: float, zp: int, what: str) -> int:
    """zp + round(value / scale) with the division in float32 and TFLite's int32 overflow
    check (kernel_util.cc Quantize)."""
    tmp = round_half_away(float(np.float32(value) / np.float32(scale)))
    if not INT32_MIN <= tmp <= INT32_MAX:
        raise UnsupportedQuantization(f"{what}: {value} / {scale} overflows int32")
    return zp + tmp
