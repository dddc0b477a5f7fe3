"""Compile-time constants of utc's int8 softmax kernels (``runtime/utc_softmax_s8``),
bit-exact with TFLite Micro's softmax_common.cc ``Prepare``."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
