"""Compile-time constants of utc's int8 activation kernels, bit-exact with TFLite Micro:
the fused activation clamp, LOGISTIC and TANH (``utc_logistic_s8``, ``utc_tanh_s8``),
HARD_SWISH, LEAKY_RELU, PRELU, and everything lowered to one requantize-and-clamp
(``utc_requantize_s8``): RELU, RELU6, RELU_N1_TO_1 and int8 -> int8 QUANTIZE.

Each function reproduces the named TFLM (or, for RELU_N1_TO_1, LiteRT) reference kernel's
``Prepare`` arithmetic and returns a frozen `QnnAttrs` bundle whose fields are the
attributes of the `qnn` op it lowers to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from utc.passes.quantmath._scales import (
    INT8_MAX,
    INT8_MIN,
    INT32_MAX,
    _check_scale,
    _check_zp,
    _f32,
    _f32_div,
    _quantize_clamp_bound,
)
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import (
    STORAGE_RANGE,
    UnsupportedQuantization,
    activation_range_int8,
    quantize_multiplier,
    round_half_away,
)

#: Integer bits of the fixed-point input of TFLM's int8 logistic and tanh (Q4.27).
LOGISTIC_TANH_INPUT_INTEGER_BITS = 4


# ---- fused activation ------------------------------------------------------------------

def activation_range(act: str, out_scale: float, out_zp: int,
                     storage: str = "i8") -> tuple[int, int]:
    """The clamp of a fused activation in the output's storage range (int8 or int16;
    TFLite's CalculateActivationRangeQuantized).

    ``act`` is ``none``, ``relu``, ``relu6`` or ``relu_n1_to_1`` (TFLite enum names in any
    case are accepted). TFLM silently ignores the other fused activations (TANH, SIGN_BIT)
    on int8 ops; utc refuses them rather than drop an activation without a word.
    """
    name = str(act).lower()
    if name not in ("none", "relu", "relu6", "relu_n1_to_1"):
        raise UnsupportedQuantization(f"fused activation {act!r} is not supported on int8 ops")
    bounds = {"relu": (0.0,), "relu6": (0.0, 6.0), "relu_n1_to_1": (-1.0, 1.0)}.get(name, ())
    for v in bounds:  # TFLite refuses bounds whose quantized value overflows int32
        _quantize_clamp_bound(v, out_scale, out_zp, f"fused {name}")
    return activation_range_int8(name, _f32(out_scale), int(out_zp), *STORAGE_RANGE[storage])


# ---- logistic / tanh ---------------------------------------------------------------------

@dataclass(frozen=True)
class FixedPointCurveParams(QnnAttrs):
    """Attributes of `qnn.logistic` and `qnn.tanh` (TFLM logistic_common.cc and tanh.cc,
    int8): the input scale as a Q31 mantissa and left shift into Q4.27, and the input
    radius beyond which the output saturates."""

    input_zp: int
    input_range_radius: int
    input_mult: int
    input_left_shift: int


def _q4_input_params(input_scale: float, input_zp: int, what: str) -> FixedPointCurveParams:
    """TFLM's int8 logistic/tanh input scaling: input_scale * 2^27 as frexp mantissa
    (rounded, *not* renormalised) and exponent, and the input radius beyond which the output
    saturates: floor(15 * 2^27 / 2^exponent)."""
    s = _check_scale("input", input_scale)
    ib = LOGISTIC_TANH_INPUT_INTEGER_BITS
    q, exponent = math.frexp(s * (1 << (31 - ib)))
    mult = round_half_away(q * (1 << 31))
    if mult > INT32_MAX:  # impossible for a float32 scale (24-bit mantissa)
        raise UnsupportedQuantization(f"{what}: input scale {input_scale!r} rounds to 2^31")
    if exponent < 0:
        # TFLM shifts by a negative amount computing the radius (undefined behaviour)
        raise UnsupportedQuantization(f"{what}: input scale {input_scale!r} is below 2^-28")
    radius = math.floor(((1 << ib) - 1) * (1 << (31 - ib)) / (1 << exponent))
    return FixedPointCurveParams(input_zp=_check_zp("input", input_zp),
                                 input_range_radius=radius, input_mult=mult,
                                 input_left_shift=exponent)


def logistic_params(input_scale: float, input_zp: int,
                    output_zp: int | None = -128) -> FixedPointCurveParams:
    """Constants of ``utc_logistic_s8`` (TFLM logistic_common.cc, int8).

    TFLM demands an output zero point of -128 and always produces output on the scale 1/256
    (it does not look at the output scale; the converter always writes 1/256).
    """
    if output_zp is not None and int(output_zp) != -128:
        raise UnsupportedQuantization(f"int8 LOGISTIC output zero point must be -128, "
                                      f"got {output_zp}")
    return _q4_input_params(input_scale, input_zp, "LOGISTIC")


def tanh_params(input_scale: float, input_zp: int) -> FixedPointCurveParams:
    """Constants of ``utc_tanh_s8`` (TFLM tanh.cc, int8). The output is always on
    the scale 1/128 with zero point 0; TFLM checks neither."""
    return _q4_input_params(input_scale, input_zp, "TANH")


# ---- hard swish ------------------------------------------------------------------------

@dataclass(frozen=True)
class HardSwishParams(QnnAttrs):
    """Attributes of `qnn.hard_swish` (TFLM hard_swish_common.cc, int8): zero points and
    the Q15 "relu-ish" and output multipliers with their shifts."""

    input_zp: int
    output_zp: int
    reluish_mult: int
    reluish_shift: int
    output_mult: int
    output_shift: int


def _downscale_to_int16(mult: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if mult >= INT32_MAX - (1 << 15):
        return 32767
    return (mult + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, input_zp: int, out_scale: float,
                      out_zp: int) -> HardSwishParams:
    """Constants of ``utc_hard_swish_s8`` (TFLM hard_swish_common.cc, int8).

    In float32: hires_input_scale = input_scale / 128, the output multiplier is
    hires_input_scale / out_scale and the "relu-ish" multiplier
    hires_input_scale / (3 / 32768); each is quantized to Q31 and then rounded to a Q15 int16
    multiplier. TFLM requires the output multiplier's exponent to be <= 0.
    """
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    hires = np.float32(1.0 / 128.0) * np.float32(si)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    out_m32, out_shift = quantize_multiplier(float(hires / np.float32(so)))
    if out_shift > 0:
        raise UnsupportedQuantization("HARD_SWISH: input_scale / (128 * output_scale) >= 1 "
                                      "(TFLM refuses it)")
    rel_m32, rel_shift = quantize_multiplier(float(hires / reluish_scale))
    if rel_shift > 30:
        raise UnsupportedQuantization(f"HARD_SWISH: input scale {input_scale!r} is too large")
    return HardSwishParams(input_zp=_check_zp("input", input_zp),
                           output_zp=_check_zp("output", out_zp),
                           reluish_mult=_downscale_to_int16(rel_m32), reluish_shift=rel_shift,
                           output_mult=_downscale_to_int16(out_m32), output_shift=out_shift)


# ---- leaky relu / prelu ------------------------------------------------------------------

@dataclass(frozen=True)
class LeakyReluParams(QnnAttrs):
    """Attributes of `qnn.leaky_relu` (TFLM leaky_relu_common.cc, int8): the rescale for
    x >= input_zp (identity) and the one for x < input_zp (alpha)."""

    input_zp: int
    output_zp: int
    identity_mult: int
    identity_shift: int
    alpha_mult: int
    alpha_shift: int


def leaky_relu_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                      alpha: float, storage: str = "i8") -> LeakyReluParams:
    """Constants of ``utc_leaky_relu_s8`` / ``_s16`` (TFLM leaky_relu_common.cc, int8 and
    int16).

    Two multipliers: input_scale / out_scale for x >= 0 and input_scale * alpha / out_scale
    for x < 0, both in double precision from the float32 values, as the `tflite-micro` build
    utc is checked against computes them (the mirrored source of mid-2026 multiplies and
    divides in float32; tests/e2e/test_scale_precision.py has scales where that differs).
    A negative alpha gives a negative alpha_mult (TFLite's QuantizeMultiplier of a negative
    real), which the kernel multiplies with directly, as the pinned TFLM build does. (Newer
    TFLM sources multiply by |alpha_mult| and negate, which rounds some products
    differently.)
    """
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    alpha_real = si * float(np.float32(alpha)) / so
    alpha_mult, alpha_shift = quantize_multiplier(alpha_real)
    id_mult, id_shift = quantize_multiplier(si / so)
    return LeakyReluParams(input_zp=_check_zp("input", input_zp, storage),
                           output_zp=_check_zp("output", out_zp, storage),
                           identity_mult=id_mult, identity_shift=id_shift,
                           alpha_mult=alpha_mult, alpha_shift=alpha_shift)


@dataclass(frozen=True)
class PreluParams(QnnAttrs):
    """Attributes of `qnn.prelu` (TFLM prelu_common.cc, int8): zero points, the rescale
    for x >= input_zp (identity) and the one for the product with alpha."""

    input_zp: int
    alpha_zp: int
    output_zp: int
    identity_mult: int
    identity_shift: int
    alpha_mult: int
    alpha_shift: int


def prelu_params(input_scale: float, input_zp: int, alpha_scale: float, alpha_zp: int,
                 out_scale: float, out_zp: int) -> PreluParams:
    """Scalar constants of ``utc_prelu_s8`` (TFLM prelu_common.cc, int8), in
    double precision: input_scale / out_scale for x >= 0 and
    input_scale * alpha_scale / out_scale for the product (x - zp) * (alpha - alpha_zp).
    The alpha tensor should be quantized per tensor: TFLM reads only the first scale and zero
    point of a per-channel alpha (checked: utc matches TFLM when given those, while LiteRT
    applies every channel's scale), so a compiler should refuse per-channel alpha rather
    than reproduce that."""
    si = _check_scale("input", input_scale)
    sa = _check_scale("alpha", alpha_scale)
    so = _check_scale("output", out_scale)
    m1, s1 = quantize_multiplier(si / so)
    m2, s2 = quantize_multiplier(si * sa / so)
    return PreluParams(input_zp=_check_zp("input", input_zp),
                       alpha_zp=_check_zp("alpha", alpha_zp),
                       output_zp=_check_zp("output", out_zp), identity_mult=m1,
                       identity_shift=s1, alpha_mult=m2, alpha_shift=s2)


# ---- requantize + clamp: RELU family, QUANTIZE int8 -> int8 ----------------------------

@dataclass(frozen=True)
class RequantizeParams(QnnAttrs):
    """Attributes of `qnn.requantize`: clamp(rescale(x - input_zp) + output_zp, act), the
    one kernel RELU, RELU6, RELU_N1_TO_1 and int8 QUANTIZE lower to (TFLM
    activations_common.cc and quantize_common.cc; LiteRT activations.cc for
    RELU_N1_TO_1)."""

    input_zp: int
    output_zp: int
    mult: int
    shift: int
    act: tuple[int, int]


def _requant(input_zp: int, out_zp: int, mult: int, shift: int, act_min: int,
             act_max: int, in_storage: str = "i8", out_storage: str = "i8") -> RequantizeParams:
    return RequantizeParams(input_zp=_check_zp("input", input_zp, in_storage),
                            output_zp=_check_zp("output", out_zp, out_storage), mult=int(mult),
                            shift=int(shift), act=(int(act_min), int(act_max)))


def relu_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                storage: str = "i8") -> RequantizeParams:
    """RELU for ``utc_requantize_s8`` / ``utc_requantize_s16`` (TFLM
    activations_common.cc): rescale by input_scale / out_scale, clamp to
    [max(type min, out_zp), type max]. The quotient is taken in double precision from the
    float32 scales, as the `tflite-micro` build utc is checked against does (TFLite Micro's
    PR #1501; the mirrored source of mid-2026 divides in float32): on scales where the two
    multipliers differ, the oracle's outputs follow the double one
    (tests/e2e/test_scale_precision.py)."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    mult, shift = quantize_multiplier(si / so)
    zp = _check_zp("output", out_zp, storage)
    lo, hi = STORAGE_RANGE[storage]
    return _requant(input_zp, zp, mult, shift, max(lo, zp), hi, storage, storage)


def relu6_params(input_scale: float, input_zp: int, storage: str = "i8") -> RequantizeParams:
    """RELU6 for ``utc_requantize_s8`` as TFLM does it (activations_common.cc):
    no rescaling at all, a clamp of the raw values to [input_zp, quantized 6.0] on the
    *input* quantization. TFLM ignores the output quantization (the converter gives RELU6
    the input's); utc follows it, so a model whose RELU6 output is quantized differently
    gets TFLM's result, not a rescaled one. The identity rescale makes the kernel a pure
    clamp."""
    si = _check_scale("input", input_scale)
    zp = _check_zp("input", input_zp, storage)
    six = _quantize_clamp_bound(6.0, si, zp, "RELU6")
    lo, hi = STORAGE_RANGE[storage]
    six = min(max(six, lo), hi)
    return _requant(zp, zp, 1 << 30, 1, zp, six, storage, storage)


def relu_n1_to_1_params(input_scale: float, input_zp: int, out_scale: float,
                        out_zp: int) -> RequantizeParams:
    """RELU_N1_TO_1 for ``utc_requantize_s8``. TFLM has no such op; this is
    LiteRT's (activations.cc QuantizedReluX): rescale by input_scale / out_scale (float32
    division), clamp to the quantized [-1, 1] on the output scale."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    mult, shift = quantize_multiplier(_f32_div(si, so))
    zp = _check_zp("output", out_zp)
    lo = max(INT8_MIN, _quantize_clamp_bound(-1.0, so, zp, "RELU_N1_TO_1"))
    hi = min(INT8_MAX, _quantize_clamp_bound(1.0, so, zp, "RELU_N1_TO_1"))
    return _requant(input_zp, zp, mult, shift, lo, hi)


def requantize_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                      in_storage: str = "i8", out_storage: str = "i8") -> RequantizeParams:
    """QUANTIZE between int8 and int16 (either way, or to the same type) for
    ``utc_requantize_s8`` and its int16 twins (TFLM quantize_common.cc, reference
    Requantize): one multiplier for input_scale / out_scale in double precision, clamp to
    the output type's range."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    mult, shift = quantize_multiplier(si / so)
    return _requant(input_zp, out_zp, mult, shift, *STORAGE_RANGE[out_storage], in_storage,
                    out_storage)


# ---- 16x8 logistic / tanh ------------------------------------------------------------------

#: Integer bits of the Q3.12 input of TFLM's int16 logistic and tanh.
LOGISTIC_TANH_INT16_INPUT_INTEGER_BITS = 3
#: Largest input multiplier of the int16 curves (TFLM's DCHECK; above it x * mult can
#: overflow int32 in its release build).
CURVE16_MAX_MULT = 32767


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (whether x is a power of two to within 1e-3 in
    log2, the rounded log2). Scales a hair away from a power of two count as one."""
    x32 = np.float32(x)
    inv_ln2 = np.float32(1.0) / np.float32(math.log(np.float32(2.0)))
    x_log2 = np.float32(np.float32(math.log(x32)) * inv_ln2)
    rounded = np.float32(round_half_away(float(x_log2)))
    frac = np.float32(x_log2 - rounded)
    return bool(abs(frac) < np.float32(1e-3)), int(rounded)


@dataclass(frozen=True)
class Curve16Params(QnnAttrs):
    """Attributes of `qnn.logistic16` and `qnn.tanh16` (TFLM logistic_common.cc and tanh.cc,
    int16): the input x becomes (x * input_mult + round) >> input_left_shift in Q3.12 (Q4.11
    for the table walk of tanh). TFLM's power-of-two case (multiplier 0 meaning 3 <<
    shift, shift 0) is resolved here, so the kernel has one formula."""

    input_mult: int
    input_left_shift: int


def _curve16_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                    what: str, pot_shifts: tuple[int, ...]) -> Curve16Params:
    """TFLM's int16 logistic/tanh Prepare. A power-of-two input scale whose shift
    (12 + log2 scale) is in `pot_shifts` multiplies by 3 << shift; otherwise
    scale * 4096 * 3 (double) is doubled, counting the shift, until it exceeds 32767 / 2
    (or the shift passes 30), then truncated. The output scale must be 2^-15 (CheckedLog2)
    and both zero points 0."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    if int(input_zp) != 0 or int(out_zp) != 0:
        raise UnsupportedQuantization(f"int16 {what}: zero points must be 0 "
                                      f"(got {input_zp}, {out_zp})")
    out_pot, out_log2 = checked_log2(so)
    if not out_pot or out_log2 != -15:
        raise UnsupportedQuantization(f"int16 {what}: output scale must be 2^-15, "
                                      f"got {out_scale!r}")
    pot, log2 = checked_log2(si)
    shift = (15 - LOGISTIC_TANH_INT16_INPUT_INTEGER_BITS) + log2
    if pot and shift in pot_shifts:
        return Curve16Params(input_mult=3 << shift, input_left_shift=0)
    multiplier = si * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    mult = int(multiplier)
    if mult == 0:
        # TFLM's kernel reads a zero multiplier as its power-of-two case and shifts 3 by 31
        raise UnsupportedQuantization(f"int16 {what}: input scale {input_scale!r} is too small "
                                      "(its multiplier truncates to 0)")
    if mult > CURVE16_MAX_MULT:
        raise UnsupportedQuantization(f"int16 {what}: input scale {input_scale!r} is too large "
                                      f"(multiplier {mult} > 32767; TFLite Micro rejects it)")
    return Curve16Params(input_mult=mult, input_left_shift=shift)


def logistic16_params(input_scale: float, input_zp: int, out_scale: float,
                      out_zp: int) -> Curve16Params:
    """Constants of ``utc_logistic_s16`` (TFLM logistic_common.cc, int16): the
    power-of-two path only for an input scale of exactly 2^-12 (shift 0)."""
    return _curve16_params(input_scale, input_zp, out_scale, out_zp, "LOGISTIC", (0,))


def tanh16_params(input_scale: float, input_zp: int, out_scale: float,
                  out_zp: int) -> Curve16Params:
    """Constants of ``utc_tanh_s16`` (TFLM tanh.cc, int16): the power-of-two path for input
    scales 2^-12 and 2^-11 (shift 0 or 1)."""
    return _curve16_params(input_scale, input_zp, out_scale, out_zp, "TANH", (0, 1))


@dataclass(frozen=True)
class Abs16Params(QnnAttrs):
    """Attributes of `qnn.abs16` (TFLM elementwise.cc, int16 ABS): whether the scales
    differ, and then the multiplier and shift of input_scale / output_scale."""

    rescale: bool
    mult: int
    shift: int


def abs16_params(input_scale: float, input_zp: int, out_scale: float,
                 out_zp: int) -> Abs16Params:
    """Constants of ``utc_abs_s16``: TFLM requires zero points 0; when the float32 scales
    differ, QuantizeMultiplier of their float32 quotient (in double)."""
    si, so = _f32(_check_scale("input", input_scale)), _f32(_check_scale("output", out_scale))
    if int(input_zp) != 0 or int(out_zp) != 0:
        raise UnsupportedQuantization(f"int16 ABS needs zero points 0 (TFLite Micro's), got "
                                      f"{input_zp} and {out_zp}")
    if si == so:
        return Abs16Params(rescale=False, mult=0, shift=0)
    mult, shift = quantize_multiplier(float(np.float32(si / so)))
    if shift > 15:  # |x| <= 32768 shifted left must fit int32, as TFLM assumes
        raise UnsupportedQuantization(f"int16 ABS: input_scale / output_scale = "
                                      f"{float(si / so):.3g} overflows TFLite Micro's rescale")
    return Abs16Params(rescale=True, mult=mult, shift=shift)
