"""Compile-time constants of utc's int8 softmax kernels (``runtime/utc_softmax_s8``),
bit-exact with TFLite Micro's softmax_common.cc ``Prepare``."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from utc.passes.quantmath._scales import INT32_MAX, _check_scale, _f32
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier

#: Integer bits of the fixed-point input of TFLM's int8 softmax exp (Q5.26).
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5


@dataclass(frozen=True)
class SoftmaxParams(QnnAttrs):
    """Attributes of `qnn.softmax` (TFLM softmax_common.cc PreprocessSoftmaxScaling and
    CalculateInputRadius): the Q31 multiplier and left shift that scale input differences
    into Q5.26, and the most negative difference whose exp still matters."""

    input_mult: int
    input_left_shift: int
    diff_min: int


def softmax_params(beta: float, input_scale: float, output_dtype: str = "int8",
                   output_scale: float | None = None,
                   output_zp: int | None = None) -> SoftmaxParams:
    """Constants of ``utc_softmax_s8`` / ``utc_softmax_s8_s16`` (TFLM softmax_common.cc).

    beta * input_scale * 2^26 (capped at 2^31 - 1) in double precision becomes the Q31
    multiplier and left shift that scale input differences into Q5.26
    (PreprocessSoftmaxScaling), and diff_min = -floor(31 * 2^26 / 2^shift) is the most
    negative difference whose exp still matters (CalculateInputRadius). TFLM refuses a
    multiplier of one or less (beta * input_scale <= 2^-26).

    When output_scale/output_zp are given they are checked against what TFLM demands:
    1/256 and -128 for an int8 output, 1/65536 (within 0.1%) and -32768 for int16.
    """
    if output_dtype not in ("int8", "int16"):
        raise UnsupportedQuantization(f"int8 softmax output must be int8 or int16, "
                                      f"got {output_dtype}")
    if output_zp is not None:
        want_zp = -128 if output_dtype == "int8" else -32768
        if int(output_zp) != want_zp:
            raise UnsupportedQuantization(f"{output_dtype} softmax output zero point must be "
                                          f"{want_zp}, got {output_zp}")
    if output_scale is not None:
        s = _f32(output_scale)
        ok = (s == _f32(1 / 256) if output_dtype == "int8"
              else abs(s - 1 / 65536) <= 0.001 / 65536)
        if not ok:
            raise UnsupportedQuantization(f"{output_dtype} softmax output scale must be "
                                          f"{'1/256' if output_dtype == 'int8' else '1/65536'}"
                                          f", got {output_scale!r}")
    ib = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(_f32(beta) * _check_scale("input", input_scale) * (1 << (31 - ib)),
               float(INT32_MAX))
    if not real > 1.0:
        raise UnsupportedQuantization(f"softmax: beta * input_scale = {real / 2**26!r} is too "
                                      "small (TFLM needs it above 2^-26)")
    mult, shift = quantize_multiplier(real)
    radius = ((1 << ib) - 1) * (1 << (31 - ib)) / (1 << shift)
    return SoftmaxParams(input_mult=mult, input_left_shift=shift, diff_min=-math.floor(radius))


# ---- 16x8 softmax ------------------------------------------------------------------------

#: Entries of TFLite's int16 interpolating lookup tables: 512 segments and the end point.
INT16_LUT_SIZE = 513


def _f32_round(x: np.float32) -> np.float32:
    """TfLiteRound on a float: half away from zero."""
    return np.float32(math.floor(abs(float(x)) + 0.5) * (1.0 if x >= 0 else -1.0))


def int16_lut(transform, input_scale: np.float32, input_zp: int, output_scale: np.float32,
              output_zp: int) -> np.ndarray:
    """TFLite's LUTPopulate<int16_t> (float32 arithmetic throughout): 512 samples of
    `transform` over the int16 input range, each corrected by half the error of linear
    interpolation at the segment midpoint, and the value at the end of the range; clamped to
    int16. `transform` maps a float32 to a float32."""
    f = np.float32
    input_min = f(input_scale * f(-32768 - input_zp))
    input_max = f(input_scale * f(32767 - input_zp))
    output_min = f(output_scale * f(-32768 - output_zp))
    output_max = f(output_scale * f(32767 - output_zp))
    steps = INT16_LUT_SIZE - 1
    step = f(f(input_max - input_min) / f(steps))
    half_step = f(step / f(2))
    inv = f(f(65536) / f(output_max - output_min))
    out = np.empty(INT16_LUT_SIZE, np.int16)
    for i in range(steps):
        x = f(input_min + f(f(i) * step))
        val = transform(x)
        val_mid = transform(f(x + half_step))
        val_next = transform(f(input_min + f(f(i + 1) * step)))
        sample = _f32_round(f(val * inv))
        interp = _f32_round(f(f(f(val_next * inv) + sample) / f(2)))
        mid = _f32_round(f(val_mid * inv))
        bias = _f32_round(f(f(interp - mid) / f(2)))
        out[i] = int(min(max(f(sample - bias), f(-32768)), f(32767)))
    out[steps] = int(min(max(_f32_round(f(transform(input_max) * inv)), f(-32768)), f(32767)))
    return out


def _expf(x: np.float32) -> np.float32:
    """exp of a float32: the double result rounded to float32, i.e. correctly rounded and
    the same on every host. TFLM calls the host's expf, which may differ in the last bit at
    near ties (glibc's does at one of the 1537 points the exp table samples,
    x = -2.216796875); no table entry changes by it, so the tables equal TFLM's."""
    return np.float32(math.exp(float(x)))


def _one_over_one_plus(x: np.float32) -> np.float32:
    return np.float32(np.float32(1.0) / np.float32(np.float32(1.0) + x))


@functools.cache
def softmax16_luts() -> tuple[np.ndarray, np.ndarray]:
    """TFLM's two int16 softmax tables (softmax_common.cc), the same for every model:
    exp over [-10, 0] (inputs scaled by 10 / 65535, zero point 32767) and 1 / (1 + x)
    over [0, 1] (inputs scaled by 1 / 65535, zero point -32768), both on the output scale
    2 / 65535. Returned read-only."""
    f = np.float32
    span = f(65535)
    exp_lut = int16_lut(_expf, f(f(10) / span), 32767, f(f(2) / span), 0)
    recip_lut = int16_lut(_one_over_one_plus, f(f(1) / span), -32768, f(f(2) / span), 0)
    exp_lut.setflags(write=False)
    recip_lut.setflags(write=False)
    return exp_lut, recip_lut


@dataclass(frozen=True)
class Softmax16Params(QnnAttrs):
    """Scalar attributes of `qnn.softmax16` (TFLM softmax_common.cc, int16): the multiplier
    and shift that map input differences so that [-65535, 0] covers [-10, 0] (the exp
    table's domain)."""

    input_mult: int
    input_left_shift: int


#: Largest left shift of the int16 softmax multiplier for which TFLM's
#: MultiplyByQuantizedMultiplier keeps a difference of -65535 inside int32.
SOFTMAX16_MAX_LEFT_SHIFT = 15


def softmax16_params(beta: float, input_scale: float, input_zp: int, output_scale: float,
                     output_zp: int) -> Softmax16Params:
    """Constants of ``utc_softmax_s16``: input_scale * beta / (10 / 65535) in double
    through QuantizeMultiplier. TFLM demands zero points 0 and an output scale of 1/32768
    (within 0.1%)."""
    si = _check_scale("input", input_scale)
    if int(input_zp) != 0 or int(output_zp) != 0:
        raise UnsupportedQuantization(f"int16 SOFTMAX: zero points must be 0 "
                                      f"(got {input_zp}, {output_zp})")
    so = _f32(output_scale)
    if not abs(so - 1 / 32768) <= float(np.float32(0.001) * np.float32(1 / 32768)):
        raise UnsupportedQuantization(f"int16 SOFTMAX: output scale must be 1/32768, "
                                      f"got {output_scale!r}")
    real = si * _f32(beta) / (10.0 / 65535.0)
    if not real > 0.0:
        raise UnsupportedQuantization(f"int16 SOFTMAX: beta {beta!r} must be positive")
    mult, shift = quantize_multiplier(real)
    if shift > SOFTMAX16_MAX_LEFT_SHIFT:
        raise UnsupportedQuantization(f"int16 SOFTMAX: beta * input_scale = {si * _f32(beta)!r}"
                                      " overflows TFLite Micro's int32 rescale")
    return Softmax16Params(input_mult=mult, input_left_shift=shift)


# ---- int8 LOG_SOFTMAX --------------------------------------------------------------------

#: TFLite Micro's fixed int8 LOG_SOFTMAX output quantization: scale 16/256, zero point 127
LOG_SOFTMAX_OUTPUT_SCALE, LOG_SOFTMAX_OUTPUT_ZP = 16.0 / 256, 127


@dataclass(frozen=True)
class LogSoftmaxParams(QnnAttrs):
    """Attributes of `qnn.log_softmax` (TFLM log_softmax.cc Prepare): softmax's input
    multiplier, left shift and diff_min, and the reverse scaling (multiplier below one,
    shift <= 0) that maps the Q5.26 log-sum back to input differences."""

    input_mult: int
    input_left_shift: int
    reverse_mult: int
    reverse_shift: int
    diff_min: int


def log_softmax_params(input_scale: float, output_scale: float,
                       output_zp: int) -> LogSoftmaxParams:
    """Constants of ``utc_log_softmax_s8`` (TFLM PreprocessLogSoftmaxScalingExp with beta 1
    and CalculateInputRadius): softmax's (beta * input_scale * 2^26 as a Q31 multiplier
    and left shift, diff_min), and 2^(31 - left_shift) / multiplier in double through
    QuantizeMultiplierSmallerThanOneExp. TFLM demands the output scale 16/256 and zero
    point 127 exactly."""
    from utc.passes.quantmath._scales import _smaller_than_one_exp

    if _f32(output_scale) != _f32(LOG_SOFTMAX_OUTPUT_SCALE) or int(output_zp) != LOG_SOFTMAX_OUTPUT_ZP:
        raise UnsupportedQuantization(f"int8 LOG_SOFTMAX output must be quantized with scale "
                                      f"16/256 and zero point 127, got {output_scale!r}, "
                                      f"{output_zp}")
    p = softmax_params(1.0, input_scale)
    real = (1 << (31 - p.input_left_shift)) / float(p.input_mult)
    mult, shift = _smaller_than_one_exp(real, "LOG_SOFTMAX reverse scaling")
    return LogSoftmaxParams(input_mult=p.input_mult, input_left_shift=p.input_left_shift,
                            reverse_mult=mult, reverse_shift=shift, diff_min=p.diff_min)
