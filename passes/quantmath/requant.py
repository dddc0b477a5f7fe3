"""Compile-time requantization arithmetic, bit-exact with TFLite (Micro).

Every integer kernel rescales an int32 accumulator by a real factor. TFLite encodes that
factor as a Q31 fixed-point multiplier and a power-of-two shift, computed on the host in
double precision. utc computes the same constants at compile time, so these functions must
reproduce TFLite's rounding decisions exactly; they are pure and unit-tested.
"""

from __future__ import annotations

import math

INT32_MAX = 2**31 - 1
#: Value range of each quantized storage type: int8, and int16 of the 16x8 scheme.
STORAGE_RANGE = {"i8": (-128, 127), "i16": (-(2**15), 2**15 - 1),
                 "i32": (-(2**31), 2**31 - 1)}
#: Largest left shift the kernels' requantization can apply to an int32 without undefined
#: behaviour (`utc_multiply_by_quantized_multiplier` shifts an unsigned 32-bit value).
MAX_LEFT_SHIFT = 31


class UnsupportedQuantization(ValueError):
    """TFLite Micro refuses these quantization parameters for this op (or computes
    something undefined with them), so there is no oracle for a kernel to match."""


def round_half_away(x: float) -> int:
    """std::round: halves round away from zero (Python's round() rounds to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Return (q31 multiplier, shift) with real_multiplier ~= q31 * 2**(shift - 31).

    Mirrors TFLite's QuantizeMultiplier: frexp, round half away from zero, renormalise
    when rounding reaches 2**31, and flush to zero when the shift is below -31.
    """
    if not math.isfinite(real_multiplier):
        raise UnsupportedQuantization(f"rescale factor {real_multiplier!r} is not finite")
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift > MAX_LEFT_SHIFT:
        raise UnsupportedQuantization(f"rescale factor {real_multiplier!r} is too large "
                                      f"(at least 2^{MAX_LEFT_SHIFT}); the quantization scales "
                                      "are inconsistent")
    if shift < -31:
        shift = 0
        q_fixed = 0
    return q_fixed, shift


def quantize_multipliers(reals):
    """`quantize_multiplier` of every element of a float64 array, as (int32 multipliers,
    int32 shifts), with numpy: a model has one per output channel, tens of thousands in
    a MobileNet. The same IEEE operations in the same order (frexp, a product by 2^31,
    floor of x + 0.5), so the same bits. None when some element is one that
    `quantize_multiplier` refuses (not finite, or too large): the caller then runs it
    element by element, for the same error on the same element."""
    import numpy as np

    reals = np.asarray(reals, dtype=np.float64)
    if not np.isfinite(reals).all():
        return None
    q, shift = np.frexp(reals)
    x = q * float(1 << 31)
    q_fixed = np.where(x >= 0, np.floor(x + 0.5), -np.floor(-x + 0.5)).astype(np.int64)
    carry = q_fixed == (1 << 31)
    q_fixed = np.where(carry, q_fixed // 2, q_fixed)
    shift = shift.astype(np.int64) + carry
    if (shift > MAX_LEFT_SHIFT).any():
        return None
    flushed = shift < -31
    return (np.where(flushed, 0, q_fixed).astype(np.int32),
            np.where(flushed, 0, shift).astype(np.int32))


def conv_requant_params(input_scale: float, filter_scales, output_scale: float):
    """Per-channel (mult, shift) arrays for convolutions, as TFLite Micro computes them:
    input_scale * filter_scale / output_scale in double precision."""
    import numpy as np

    scales = np.asarray(filter_scales, dtype=np.float32).astype(np.float64)
    si, so = float(np.float32(input_scale)), float(np.float32(output_scale))
    if so != 0.0:
        with np.errstate(all="ignore"):  # inf and nan are refused below, as one by one
            real = si * scales / so  # (si * fs) / so per channel, as in the loop below
        found = quantize_multipliers(real)
        if found is not None:
            return found
    # what the vectorized form does not cover: the same arithmetic in Python floats,
    # raising exactly where and what it always raised
    mults, shifts = [], []
    for fs in filter_scales:
        real = float(np.float32(input_scale)) * float(np.float32(fs)) / float(np.float32(output_scale))
        m, s = quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    return np.array(mults, np.int32), np.array(shifts, np.int32)


def fc_requant_params(input_scale: float, filter_scales, output_scale: float):
    """(mult, shift) arrays for fully connected layers: input_scale * filter_scale /
    output_scale in double precision (checked bit-exact against TFLite Micro on the MLPerf
    Tiny autoencoder, where a float32 product of the scales is off by one LSB)."""
    import numpy as np

    if len(filter_scales) > 1:
        return conv_requant_params(input_scale, filter_scales, output_scale)
    product = float(np.float32(input_scale)) * float(np.float32(filter_scales[0]))
    m, s = quantize_multiplier(product / float(np.float32(output_scale)))
    return np.array([m], np.int32), np.array([s], np.int32)


def _quantize(value: float, scale: float, zero_point: int) -> int:
    import numpy as np

    # TFLite: zero_point + static_cast<int32_t>(TfLiteRound(f / scale)) in float32, and
    # TFLite refuses a quotient outside int32 (kernel_util.cc)
    quotient = float(np.float32(value) / np.float32(scale))
    if not -(2.0**31) <= quotient <= INT32_MAX:
        raise UnsupportedQuantization(f"activation bound {value} / scale {scale!r} overflows "
                                      "int32")
    return zero_point + round_half_away(quotient)


def activation_range_int8(act: str, scale: float, zero_point: int, qmin: int = -128,
                          qmax: int = 127) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized for a fused activation."""
    if act == "none":
        return qmin, qmax
    if act == "relu":
        return max(qmin, _quantize(0.0, scale, zero_point)), qmax
    if act == "relu6":
        return (max(qmin, _quantize(0.0, scale, zero_point)),
                min(qmax, _quantize(6.0, scale, zero_point)))
    if act == "relu_n1_to_1":
        return (max(qmin, _quantize(-1.0, scale, zero_point)),
                min(qmax, _quantize(1.0, scale, zero_point)))
    raise ValueError(f"activation '{act}' has no integer clamp range")
