"""Compile-time constants of utc's int8 broadcasting binary kernels: ADD, SUB, MUL and
SQUARED_DIFFERENCE (``runtime/utc_elementwise_s8``), bit-exact with TFLite Micro.

Each function reproduces the named TFLM reference kernel's ``Prepare`` step, rounding
decision for rounding decision (which products are float32 and which double, which
multipliers must stay below one), and returns a frozen `QnnAttrs` bundle whose fields are
the attributes of the `qnn` op it lowers to. Multiplier/shift pairs use TFLite's convention
(Q31 multiplier, positive shift = left).

MAXIMUM and MINIMUM take no constants: TFLM compares the raw int8 values, which is only
meaningful when both inputs and the output share one quantization; the importer refuses
anything else, and the ops stay at the tensor level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from utc.passes.quantmath._scales import (
    INT8_MAX,
    INT8_MIN,
    INT32_MAX,
    _check_scale,
    _check_zp,
    _smaller_than_one_exp,
)
from utc.passes.quantmath.activation import activation_range
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier

#: Left shift TFLM applies to both ADD/SUB inputs before rescaling them: 20 for int8,
#: 15 for int16 (the rescaled int16 values must still fit int32).
ADD_SUB_LEFT_SHIFT = {"i8": 20, "i16": 15}
#: Left shift TFLM applies to both int8 SQUARED_DIFFERENCE inputs: small enough that the
#: square of the rescaled difference, at most (255 * 2^7)^2, still fits int32.
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


@dataclass(frozen=True)
class AddSubParams(QnnAttrs):
    """Attributes of `qnn.add`, `qnn.sub` and `qnn.squared_difference` (TFLM's add_common.cc,
    sub_common.cc and squared_difference.cc, int8): both inputs shifted left by
    `left_shift`, each rescaled to twice the larger input scale by its own multiplier, the
    result rescaled once to the output and clamped to `act`."""

    lhs_zp: int
    rhs_zp: int
    output_zp: int
    left_shift: int
    lhs_mult: int
    lhs_shift: int
    rhs_mult: int
    rhs_shift: int
    output_mult: int
    output_shift: int
    act: tuple[int, int]


@dataclass(frozen=True)
class MulParams(QnnAttrs):
    """Attributes of `qnn.mul` (TFLM's mul_common.cc, int8): one multiplier for
    lhs_scale * rhs_scale / output_scale, then the clamp `act`."""

    lhs_zp: int
    rhs_zp: int
    output_zp: int
    output_mult: int
    output_shift: int
    act: tuple[int, int]


def _check_scales(in1_scale: float, in2_scale: float,
                  out_scale: float) -> tuple[float, float, float]:
    return (_check_scale("in1", in1_scale), _check_scale("in2", in2_scale),
            _check_scale("output", out_scale))


def add_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none",
               storage: str = "i8") -> AddSubParams:
    """Constants of ``utc_add_s8`` / ``utc_add_s16`` (TFLM add_common.cc, int8 and int16).

    Both inputs are shifted left by 20 bits (int16: 15) and rescaled to twice the larger
    input scale, the sum to the output scale; all three multipliers are computed in double
    precision from the float32 scales and must be below one (TFLM aborts otherwise: the
    output scale may not be smaller than 2^-19 (int16: 2^-14) times the larger input scale).
    """
    s1, s2, so = _check_scales(in1_scale, in2_scale, out_scale)
    left_shift = ADD_SUB_LEFT_SHIFT[storage]
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one_exp(s1 / twice_max, "ADD input 1")
    m2, sh2 = _smaller_than_one_exp(s2 / twice_max, "ADD input 2")
    mo, sho = _smaller_than_one_exp(twice_max / ((1 << left_shift) * so), "ADD output")
    clamp = activation_range(act, so, out_zp, storage)
    return AddSubParams(lhs_zp=_check_zp("in1", in1_zp, storage),
                        rhs_zp=_check_zp("in2", in2_zp, storage),
                        output_zp=_check_zp("output", out_zp, storage), left_shift=left_shift,
                        lhs_mult=m1, lhs_shift=sh1, rhs_mult=m2, rhs_shift=sh2,
                        output_mult=mo, output_shift=sho, act=clamp)


def sub_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none",
               storage: str = "i8") -> AddSubParams:
    """Constants of ``utc_sub_s8`` (TFLM sub_common.cc, int8): ADD's scheme,
    with the rescaled second input subtracted.

    The multipliers are computed in double precision, as the TFLM build utc is checked
    against (tflite-micro 0.dev20261023, commit 8f6596d). TFLM sources up to mid-2026
    computed SUB's three real multipliers in float32 instead, which changes the last bits
    of some multipliers and a few outputs by one; the unit tests pin the double behaviour.
    """
    return add_params(in1_scale, in1_zp, in2_scale, in2_zp, out_scale, out_zp, act, storage)


def mul_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none",
               storage: str = "i8") -> MulParams:
    """Constants of ``utc_mul_s8`` / ``utc_mul_s16`` (TFLM mul_common.cc, int8 and int16):
    one multiplier for in1_scale * in2_scale / out_scale in double precision."""
    s1, s2, so = _check_scales(in1_scale, in2_scale, out_scale)
    mult, shift = quantize_multiplier(s1 * s2 / so)
    clamp = activation_range(act, so, out_zp, storage)
    return MulParams(lhs_zp=_check_zp("in1", in1_zp, storage),
                     rhs_zp=_check_zp("in2", in2_zp, storage),
                     output_zp=_check_zp("output", out_zp, storage), output_mult=mult,
                     output_shift=shift, act=clamp)


#: int8 DIV's output shift range: the kernel's final rounding divide then takes an exponent
#: in [0, 63] (see div_params)
DIV_MIN_SHIFT, DIV_MAX_SHIFT = -25, 23


def div_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none",
               storage: str = "i8") -> MulParams:
    """Constants of ``utc_div_s8`` (TFLM div.cc, int8): one multiplier for in1_scale /
    (in2_scale * out_scale), in double from the float32 scales as the pinned TFLM build
    computes it (MUL's constants, so the result is a `MulParams`).

    Per element the kernel divides by TFLM's fixed-point reciprocal of the divisor and
    ends with a rounding divide by 2^(recip_shift + headroom - output_shift), where the
    reciprocal's shift is 0..7 and the numerator's headroom 23..31. An output shift above
    23 would make that exponent negative, one below -25 would take it past 63: both are
    undefined in TFLM for every input, so such models are refused."""
    if storage != "i8":
        raise UnsupportedQuantization("DIV: only int8 is quantized in TFLite Micro")
    s1, s2, so = _check_scales(in1_scale, in2_scale, out_scale)
    mult, shift = quantize_multiplier(s1 / (s2 * so))
    if not DIV_MIN_SHIFT <= shift <= DIV_MAX_SHIFT:
        raise UnsupportedQuantization(f"DIV: the output multiplier's shift {shift} is outside "
                                      f"[{DIV_MIN_SHIFT}, {DIV_MAX_SHIFT}] (in1_scale / "
                                      "(in2_scale * out_scale) = "
                                      f"{s1 / (s2 * so):.3g}), where TFLite Micro's division "
                                      "is undefined")
    clamp = activation_range(act, so, out_zp, storage)
    return MulParams(lhs_zp=_check_zp("in1", in1_zp, storage),
                     rhs_zp=_check_zp("in2", in2_zp, storage),
                     output_zp=_check_zp("output", out_zp, storage), output_mult=mult,
                     output_shift=shift, act=clamp)


def squared_difference_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
                              out_scale: float, out_zp: int,
                              storage: str = "i8") -> AddSubParams:
    """Constants of ``utc_squared_difference_s8`` (TFLM squared_difference.cc, int8), and
    with storage "i16" of ``utc_squared_difference_s16`` (its int16 path: zero points 0, no
    left shift, the int16 range as the clamp).

    Like ADD, both inputs are shifted left (by 7 bits, not 20, because the difference is
    squared in int32) and rescaled to twice the larger input scale with multipliers below
    one; the squared difference is then rescaled to the output by
    (2 * max_scale)^2 / (2^14 * out_scale), computed in double from the float32 scales (the
    2^14 * out_scale product is float32 in TFLM, exact for a power of two). Unlike ADD that
    last multiplier may exceed one (a positive shift). There is no fused activation: the
    clamp is the int8 range.

    TFLM multiplies the squared difference by 2^shift in int32 before its high multiply; a
    model where that can overflow (only with an output scale far below the inputs' squared
    scales) is undefined behaviour there, so it is refused here rather than given an
    oracle-free meaning.
    """
    s1, s2, so = _check_scales(in1_scale, in2_scale, out_scale)
    int16 = storage == "i16"
    if int16 and (int(in1_zp), int(in2_zp), int(out_zp)) != (0, 0, 0):
        raise UnsupportedQuantization(f"16x8 SQUARED_DIFFERENCE needs zero points 0 (TFLite "
                                      f"Micro's), got {in1_zp}, {in2_zp}, {out_zp}")
    shift = 0 if int16 else SQUARED_DIFFERENCE_LEFT_SHIFT
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one_exp(s1 / twice_max, "SQUARED_DIFFERENCE input 1")
    m2, sh2 = _smaller_than_one_exp(s2 / twice_max, "SQUARED_DIFFERENCE input 2")
    out_denominator = float(np.float32(1 << (2 * shift)) * np.float32(so))
    mo, sho = quantize_multiplier(twice_max * twice_max / out_denominator)
    # |x - zp| <= 255, so each rescaled input is at most 255 * 2^7 * its real multiplier
    # (plus one for rounding) and the squared difference at most the square of their sum
    biggest = 32768 if int16 else 255 * (1 << shift)
    max_diff = biggest * (m1 * 2.0 ** (sh1 - 31) + m2 * 2.0 ** (sh2 - 31)) + 2
    if sho > 0 and max_diff * max_diff * 2.0 ** sho > INT32_MAX:
        raise UnsupportedQuantization(
            f"SQUARED_DIFFERENCE: output scale {out_scale!r} is so small against the input "
            f"scales ({in1_scale!r}, {in2_scale!r}) that TFLite Micro's int32 rescaling of "
            "the squared difference overflows")
    if int16:
        return AddSubParams(lhs_zp=0, rhs_zp=0, output_zp=0, left_shift=shift, lhs_mult=m1,
                            lhs_shift=sh1, rhs_mult=m2, rhs_shift=sh2, output_mult=mo,
                            output_shift=sho, act=(-32768, 32767))
    return AddSubParams(lhs_zp=_check_zp("in1", in1_zp), rhs_zp=_check_zp("in2", in2_zp),
                        output_zp=_check_zp("output", out_zp), left_shift=shift,
                        lhs_mult=m1, lhs_shift=sh1, rhs_mult=m2, rhs_shift=sh2,
                        output_mult=mo, output_shift=sho, act=(INT8_MIN, INT8_MAX))
