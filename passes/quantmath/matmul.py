"""Compile-time constants of utc's integer BATCH_MATMUL kernels
(``runtime/utc_batch_matmul``), bit-exact with TFLite Micro's batch_matmul.cc ``Prepare``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from utc.passes.quantmath._scales import _check_scale, _check_zp
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier


@dataclass(frozen=True)
class BatchMatmulParams(QnnAttrs):
    """Attributes of `qnn.batch_matmul`: the zero points and one Q31 multiplier and shift
    for the whole output (TFLite quantizes both operands per tensor)."""

    lhs_zp: int
    rhs_zp: int
    output_zp: int
    mult: int
    shift: int


def batch_matmul_params(lhs_scale: float, lhs_zp: int, rhs_scale: float, rhs_zp: int,
                        out_scale: float, out_zp: int, storage: str = "i8") -> BatchMatmulParams:
    """TFLM's GetQuantizedConvolutionMultipler: (lhs_scale * rhs_scale, a float32
    product) / out_scale in double, through QuantizeMultiplier. 16x8 (`storage` "i16")
    needs every zero point 0, as TFLM checks."""
    sl = _check_scale("lhs", lhs_scale)
    sr = _check_scale("rhs", rhs_scale)
    so = _check_scale("output", out_scale)
    zps = (_check_zp("lhs", lhs_zp, storage), _check_zp("rhs", rhs_zp, storage),
           _check_zp("output", out_zp, storage))
    if storage == "i16" and any(zps):
        raise UnsupportedQuantization(f"int16 BATCH_MATMUL: zero points must be 0 (got "
                                      f"{', '.join(map(str, zps))})")
    product = float(np.float32(sl) * np.float32(sr))
    mult, shift = quantize_multiplier(product / so)
    return BatchMatmulParams(lhs_zp=zps[0], rhs_zp=zps[1], output_zp=zps[2], mult=mult,
                             shift=shift)
