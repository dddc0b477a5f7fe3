"""Compile-time constants of utc's float32 <-> int8/int16 conversion kernels
(``utc_quantize_f32_s8``, ``utc_dequantize_s8_f32`` and their int16 twins). QUANTIZE
between integer types is a requantization: `activation.requantize_params`."""

from __future__ import annotations

from dataclasses import dataclass

from utc.passes.quantmath._scales import _check_scale, _check_zp
from utc.passes.quantmath.qnn_attrs import QnnAttrs


@dataclass(frozen=True)
class ScaleAndZeroPoint(QnnAttrs):
    """Attributes of `qnn.quantize` and `qnn.dequantize`: the per-tensor float32 scale
    (TFLite's AffineQuantize divides by it in float32, AffineDequantize multiplies) and
    the zero point."""

    scale: float
    zp: int


def quantize_params(out_scale: float, out_zp: int, storage: str = "i8") -> ScaleAndZeroPoint:
    """QUANTIZE float32 -> int8 for ``utc_quantize_f32_s8`` (TFLM quantize_common.cc): the
    float32 scale (the kernel divides by it in float32, as TFLite's AffineQuantize) and zero
    point. Per-channel output quantization is refused by TFLM and by this kernel."""
    return ScaleAndZeroPoint(scale=_check_scale("output", out_scale),
                             zp=_check_zp("output", out_zp, storage))


def dequantize_params(input_scale: float, input_zp: int,
                      storage: str = "i8") -> ScaleAndZeroPoint:
    """DEQUANTIZE int8 -> float32 for ``utc_dequantize_s8_f32`` (TFLM dequantize_common.cc):
    the float32 scale and zero point (per tensor)."""
    return ScaleAndZeroPoint(scale=_check_scale("input", input_scale),
                             zp=_check_zp("input", input_zp, storage))
