"""Compile-time constants of utc's int8 elementwise, nonlinear and reduction kernels.

Every function here turns TFLite quantization parameters into the integers one kernel of
``runtime/utc_{elementwise,softmax,activation,reduce}_s8`` takes, reproducing what TFLite
Micro computes in its ``Prepare`` step, rounding decision for rounding decision: which
products are done in float32 and which in double, which multipliers are renormalised, which
radii are floored. utc's kernels are then bit-exact with TFLM without any floating point at
run time.

Conventions:

* Scales are read as float32 first (that is what a ``.tflite`` file stores), zero points as
  ints with TFLite's meaning (``real = scale * (q - zp)``).
* Each function returns a plain ``dict`` of Python ints (numpy arrays for shapes) whose keys
  are the kernel's scalar parameter names, in the kernel's argument order.
* Multiplier/shift pairs use TFLite's convention (Q31 multiplier, positive shift = left).
* Parameter combinations TFLM refuses in ``Prepare`` (or where its arithmetic is undefined
  behaviour) raise `UnsupportedQuantization`, so the compiler can reject the model with a
  clear message instead of emitting a kernel that disagrees with the oracle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from utc.dialects.shape_math import broadcast_shapes6, pad_shape6
from utc.passes.quantmath.requant import (
    UnsupportedQuantization,
    activation_range_int8,
    quantize_multiplier,
)

__all__ = [
    "UnsupportedQuantization", "activation_range", "add_params", "broadcast_shapes6",
    "dequantize_params", "hard_swish_params", "leaky_relu_params", "logistic_params",
    "maximum_minimum_params", "mean_params", "mul_params", "pad_shape6", "prelu_params",
    "quantize_params", "relu6_params", "relu_n1_to_1_params", "relu_params",
    "requantize_params", "softmax_params", "squared_difference_params", "sub_params",
    "tanh_params",
]

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

#: Integer bits of the fixed-point input of TFLM's int8 softmax exp (Q5.26).
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
#: Integer bits of the fixed-point input of TFLM's int8 logistic and tanh (Q4.27).
LOGISTIC_TANH_INPUT_INTEGER_BITS = 4
#: Left shift TFLM applies to both int8 ADD/SUB inputs before rescaling them.
ADD_SUB_LEFT_SHIFT = 20
#: Left shift TFLM applies to both int8 SQUARED_DIFFERENCE inputs: small enough that the
#: square of the rescaled difference, at most (255 * 2^7)^2, still fits int32.
SQUARED_DIFFERENCE_LEFT_SHIFT = 7


# ---- small helpers ---------------------------------------------------------------------

def _f32(x: float) -> float:
    """The float32 value a .tflite file stores for x, as a Python float (exact)."""
    return float(np.float32(x))


def _f32_div(a: float, b: float) -> float:
    """a / b evaluated in float32 (as C++ does on two float operands)."""
    return float(np.float32(a) / np.float32(b))


def _round_half_away(x: float) -> int:
    """std::round: halves round away from zero."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _check_zp(name: str, zp: int) -> int:
    zp = int(zp)
    if not INT8_MIN <= zp <= INT8_MAX:
        raise UnsupportedQuantization(f"{name} zero point {zp} is outside the int8 range")
    return zp


def _check_scale(name: str, scale: float) -> float:
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
    tmp = _round_half_away(float(np.float32(value) / np.float32(scale)))
    if not INT32_MIN <= tmp <= INT32_MAX:
        raise UnsupportedQuantization(f"{what}: {value} / {scale} overflows int32")
    return zp + tmp


def activation_range(act: str, out_scale: float, out_zp: int) -> tuple[int, int]:
    """The int8 clamp of a fused activation (TFLite's CalculateActivationRangeQuantized).

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
    return activation_range_int8(name, _f32(out_scale), int(out_zp))


# ---- binary elementwise ----------------------------------------------------------------

def add_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none") -> dict[str, int]:
    """Constants of ``utc_add_s8`` (TFLM add_common.cc, int8).

    Both inputs are shifted left by 20 bits and rescaled to twice the larger input scale, the
    sum to the output scale; all three multipliers are computed in double precision from the
    float32 scales and must be below one (TFLM aborts otherwise: the output scale may not be
    smaller than 2^-19 times the larger input scale).
    """
    s1, s2, so = (_check_scale(n, s) for n, s in
                  (("in1", in1_scale), ("in2", in2_scale), ("output", out_scale)))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one_exp(s1 / twice_max, "ADD input 1")
    m2, sh2 = _smaller_than_one_exp(s2 / twice_max, "ADD input 2")
    mo, sho = _smaller_than_one_exp(twice_max / ((1 << ADD_SUB_LEFT_SHIFT) * so), "ADD output")
    act_min, act_max = activation_range(act, so, out_zp)
    return {"in1_zp": _check_zp("in1", in1_zp), "in2_zp": _check_zp("in2", in2_zp),
            "out_zp": _check_zp("output", out_zp), "left_shift": ADD_SUB_LEFT_SHIFT,
            "in1_mult": m1, "in1_shift": sh1, "in2_mult": m2, "in2_shift": sh2,
            "out_mult": mo, "out_shift": sho, "act_min": act_min, "act_max": act_max}


def sub_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none") -> dict[str, int]:
    """Constants of ``utc_sub_s8`` (TFLM sub_common.cc, int8): ADD's scheme,
    with the rescaled second input subtracted.

    The multipliers are computed in double precision, as the TFLM build utc is checked
    against (tflite-micro 0.dev20261023, commit 8f6596d). TFLM sources up to mid-2026
    computed SUB's three real multipliers in float32 instead, which changes the last bits
    of some multipliers and a few outputs by one; the unit tests pin the double behaviour.
    """
    p = add_params(in1_scale, in1_zp, in2_scale, in2_zp, out_scale, out_zp, act)
    return p


def mul_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
               out_scale: float, out_zp: int, act: str = "none") -> dict[str, int]:
    """Constants of ``utc_mul_s8`` (TFLM mul_common.cc, int8): one multiplier for
    in1_scale * in2_scale / out_scale in double precision."""
    s1, s2, so = (_check_scale(n, s) for n, s in
                  (("in1", in1_scale), ("in2", in2_scale), ("output", out_scale)))
    mult, shift = quantize_multiplier(s1 * s2 / so)
    act_min, act_max = activation_range(act, so, out_zp)
    return {"in1_zp": _check_zp("in1", in1_zp), "in2_zp": _check_zp("in2", in2_zp),
            "out_zp": _check_zp("output", out_zp), "out_mult": mult, "out_shift": shift,
            "act_min": act_min, "act_max": act_max}


def squared_difference_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
                              out_scale: float, out_zp: int) -> dict[str, int]:
    """Constants of ``utc_squared_difference_s8`` (TFLM squared_difference.cc, int8).

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
    s1, s2, so = (_check_scale(n, s) for n, s in
                  (("in1", in1_scale), ("in2", in2_scale), ("output", out_scale)))
    shift = SQUARED_DIFFERENCE_LEFT_SHIFT
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one_exp(s1 / twice_max, "SQUARED_DIFFERENCE input 1")
    m2, sh2 = _smaller_than_one_exp(s2 / twice_max, "SQUARED_DIFFERENCE input 2")
    out_denominator = float(np.float32(1 << (2 * shift)) * np.float32(so))
    mo, sho = quantize_multiplier(twice_max * twice_max / out_denominator)
    # |x - zp| <= 255, so each rescaled input is at most 255 * 2^7 * its real multiplier
    # (plus one for rounding) and the squared difference at most the square of their sum
    biggest = 255 * (1 << shift)
    max_diff = biggest * (m1 * 2.0 ** (sh1 - 31) + m2 * 2.0 ** (sh2 - 31)) + 2
    if sho > 0 and max_diff * max_diff * 2.0 ** sho > INT32_MAX:
        raise UnsupportedQuantization(
            f"SQUARED_DIFFERENCE: output scale {out_scale!r} is so small against the input "
            f"scales ({in1_scale!r}, {in2_scale!r}) that TFLite Micro's int32 rescaling of "
            "the squared difference overflows")
    return {"in1_zp": _check_zp("in1", in1_zp), "in2_zp": _check_zp("in2", in2_zp),
            "out_zp": _check_zp("output", out_zp), "left_shift": shift,
            "in1_mult": m1, "in1_shift": sh1, "in2_mult": m2, "in2_shift": sh2,
            "out_mult": mo, "out_shift": sho, "act_min": INT8_MIN, "act_max": INT8_MAX}


def maximum_minimum_params(in1_scale: float, in1_zp: int, in2_scale: float, in2_zp: int,
                           out_scale: float, out_zp: int) -> dict[str, int]:
    """MAXIMUM/MINIMUM take no constants: TFLM compares the raw int8 values. That is only
    meaningful when both inputs and the output share one quantization (which the TFLite
    converter guarantees); anything else is refused here."""
    q = [(_f32(s), int(z)) for s, z in ((in1_scale, in1_zp), (in2_scale, in2_zp),
                                        (out_scale, out_zp))]
    if len(set(q)) != 1:
        raise UnsupportedQuantization(
            f"MAXIMUM/MINIMUM need one quantization for inputs and output, got {q}")
    return {}


# ---- softmax ---------------------------------------------------------------------------

def softmax_params(beta: float, input_scale: float, output_dtype: str = "int8",
                   output_scale: float | None = None,
                   output_zp: int | None = None) -> dict[str, int]:
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
    return {"input_mult": mult, "input_left_shift": shift, "diff_min": -math.floor(radius)}


# ---- logistic / tanh ---------------------------------------------------------------------

def _q4_input_params(input_scale: float, input_zp: int, what: str) -> dict[str, int]:
    """TFLM's int8 logistic/tanh input scaling: input_scale * 2^27 as frexp mantissa
    (rounded, *not* renormalised) and exponent, and the input radius beyond which the output
    saturates: floor(15 * 2^27 / 2^exponent)."""
    s = _check_scale("input", input_scale)
    ib = LOGISTIC_TANH_INPUT_INTEGER_BITS
    q, exponent = math.frexp(s * (1 << (31 - ib)))
    mult = _round_half_away(q * (1 << 31))
    if mult > INT32_MAX:  # impossible for a float32 scale (24-bit mantissa)
        raise UnsupportedQuantization(f"{what}: input scale {input_scale!r} rounds to 2^31")
    if exponent < 0:
        # TFLM shifts by a negative amount computing the radius (undefined behaviour)
        raise UnsupportedQuantization(f"{what}: input scale {input_scale!r} is below 2^-28")
    radius = math.floor(((1 << ib) - 1) * (1 << (31 - ib)) / (1 << exponent))
    return {"input_zp": _check_zp("input", input_zp), "input_range_radius": radius,
            "input_mult": mult, "input_left_shift": exponent}


def logistic_params(input_scale: float, input_zp: int,
                    output_zp: int | None = -128) -> dict[str, int]:
    """Constants of ``utc_logistic_s8`` (TFLM logistic_common.cc, int8).

    TFLM demands an output zero point of -128 and always produces output on the scale 1/256
    (it does not look at the output scale; the converter always writes 1/256).
    """
    if output_zp is not None and int(output_zp) != -128:
        raise UnsupportedQuantization(f"int8 LOGISTIC output zero point must be -128, "
                                      f"got {output_zp}")
    return _q4_input_params(input_scale, input_zp, "LOGISTIC")


def tanh_params(input_scale: float, input_zp: int) -> dict[str, int]:
    """Constants of ``utc_tanh_s8`` (TFLM tanh.cc, int8). The output is always on
    the scale 1/128 with zero point 0; TFLM checks neither."""
    return _q4_input_params(input_scale, input_zp, "TANH")


# ---- hard swish ------------------------------------------------------------------------

def _downscale_to_int16(mult: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if mult >= INT32_MAX - (1 << 15):
        return 32767
    return (mult + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, input_zp: int, out_scale: float,
                      out_zp: int) -> dict[str, int]:
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
    return {"input_zp": _check_zp("input", input_zp), "output_zp": _check_zp("output", out_zp),
            "reluish_mult": _downscale_to_int16(rel_m32), "reluish_shift": rel_shift,
            "output_mult": _downscale_to_int16(out_m32), "output_shift": out_shift}


# ---- leaky relu / prelu ------------------------------------------------------------------

def leaky_relu_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                      alpha: float) -> dict[str, int]:
    """Constants of ``utc_leaky_relu_s8`` (TFLM leaky_relu_common.cc, int8).

    Two multipliers, both computed in float32: input_scale / out_scale for x >= 0 and
    input_scale * alpha / out_scale for x < 0. A negative alpha gives a negative
    alpha_mult (TFLite's QuantizeMultiplier of a negative real), which the kernel multiplies
    with directly, as the pinned TFLM build does. (Newer TFLM sources multiply by |alpha_mult|
    and negate, which rounds some products differently.)
    """
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    alpha_real = float(np.float32(si) * np.float32(alpha) / np.float32(so))
    alpha_mult, alpha_shift = quantize_multiplier(alpha_real)
    id_mult, id_shift = quantize_multiplier(_f32_div(si, so))
    return {"input_zp": _check_zp("input", input_zp), "output_zp": _check_zp("output", out_zp),
            "identity_mult": id_mult, "identity_shift": id_shift,
            "alpha_mult": alpha_mult, "alpha_shift": alpha_shift}


def prelu_params(input_scale: float, input_zp: int, alpha_scale: float, alpha_zp: int,
                 out_scale: float, out_zp: int) -> dict[str, int]:
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
    return {"input_zp": _check_zp("input", input_zp), "alpha_zp": _check_zp("alpha", alpha_zp),
            "output_zp": _check_zp("output", out_zp), "identity_mult": m1, "identity_shift": s1,
            "alpha_mult": m2, "alpha_shift": s2}


# ---- requantize + clamp: RELU family, QUANTIZE int8 -> int8 ----------------------------

def _requant(input_zp: int, out_zp: int, mult: int, shift: int, act_min: int,
             act_max: int) -> dict[str, int]:
    return {"input_zp": _check_zp("input", input_zp), "output_zp": _check_zp("output", out_zp),
            "mult": int(mult), "shift": int(shift), "act_min": int(act_min),
            "act_max": int(act_max)}


def relu_params(input_scale: float, input_zp: int, out_scale: float,
                out_zp: int) -> dict[str, int]:
    """RELU for ``utc_requantize_s8`` (TFLM activations_common.cc): rescale by
    input_scale / out_scale (divided in float32), clamp to [max(-128, out_zp), 127]."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    mult, shift = quantize_multiplier(_f32_div(si, so))
    zp = _check_zp("output", out_zp)
    return _requant(input_zp, zp, mult, shift, max(INT8_MIN, zp), INT8_MAX)


def relu6_params(input_scale: float, input_zp: int) -> dict[str, int]:
    """RELU6 for ``utc_requantize_s8`` as TFLM does it (activations_common.cc):
    no rescaling at all, a clamp of the raw values to [input_zp, quantized 6.0] on the
    *input* quantization. TFLM ignores the output quantization (the converter gives RELU6
    the input's); utc follows it, so a model whose RELU6 output is quantized differently
    gets TFLM's result, not a rescaled one. The identity rescale makes the kernel a pure
    clamp."""
    si = _check_scale("input", input_scale)
    zp = _check_zp("input", input_zp)
    six = _quantize_clamp_bound(6.0, si, zp, "RELU6")
    six = min(max(six, INT8_MIN), INT8_MAX)
    return _requant(zp, zp, 1 << 30, 1, zp, six)


def relu_n1_to_1_params(input_scale: float, input_zp: int, out_scale: float,
                        out_zp: int) -> dict[str, int]:
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


def requantize_params(input_scale: float, input_zp: int, out_scale: float,
                      out_zp: int) -> dict[str, int]:
    """QUANTIZE int8 -> int8 for ``utc_requantize_s8`` (TFLM quantize_common.cc):
    one multiplier for input_scale / out_scale in double precision, clamp to int8."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    mult, shift = quantize_multiplier(si / so)
    return _requant(input_zp, out_zp, mult, shift, INT8_MIN, INT8_MAX)


def quantize_params(out_scale: float, out_zp: int) -> dict[str, float | int]:
    """QUANTIZE float32 -> int8 for ``utc_quantize_f32_s8``: the float32 scale
    (the kernel divides by it in float32, as TFLite's AffineQuantize) and zero point.
    Per-channel output quantization is refused by TFLM and by this kernel."""
    return {"scale": _check_scale("output", out_scale), "zp": _check_zp("output", out_zp)}


def dequantize_params(input_scale: float, input_zp: int) -> dict[str, float | int]:
    """DEQUANTIZE int8 -> float32 for ``utc_dequantize_s8_f32``: the float32 scale
    and zero point (per tensor)."""
    return {"scale": _check_scale("input", input_scale), "zp": _check_zp("input", input_zp)}


# ---- mean ----------------------------------------------------------------------------------

def mean_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                input_shape: Sequence[int], axes: Sequence[int]) -> dict[str, object]:
    """Constants of ``utc_mean_s8`` (TFLM reduce_common.cc + reference reduce.h
    QuantizedMeanOrSum, int8 MEAN).

    TFLM quantizes input_scale / out_scale (double), then folds 1/n (n = reduced elements
    per output) into it: with k = min(floor(log2 n), 32, 31 + shift) it uses
    (mult * 2^k) // n and shift - k. Axes may be negative or repeated (TFLite's
    ResolveAxis). keep_dims does not change any constant or the memory layout.

    Returns input_shape (6-D padded), reduce_axes (6 flags), input_zp, output_zp, mult,
    shift, plus num_elements (n) and output_shape (the kept dimensions, keep_dims=False).
    """
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    dims = [int(d) for d in input_shape]
    rank = len(dims)
    resolved: list[int] = []
    for a in axes:
        a = int(a)
        cur = a + rank if a < 0 else a
        if not 0 <= cur < rank:
            raise ValueError(f"MEAN axis {a} out of range for rank {rank}")
        if cur not in resolved:
            resolved.append(cur)
    mult, shift = quantize_multiplier(si / so)
    n = 1
    for a in resolved:
        n *= dims[a]
    if n > 0:
        k = min(n.bit_length() - 1, 32, 31 + shift)
        mult = (mult << k) // n
        shift -= k
    shape6 = pad_shape6(dims)
    flags = np.zeros(6, dtype=np.int32)
    for a in resolved:
        flags[6 - rank + a] = 1
    out_shape = [d for i, d in enumerate(dims) if i not in resolved]
    return {"input_shape": shape6, "reduce_axes": flags,
            "input_zp": _check_zp("input", input_zp), "output_zp": _check_zp("output", out_zp),
            "mult": int(mult), "shift": int(shift), "num_elements": n,
            "output_shape": out_shape}
