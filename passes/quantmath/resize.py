"""Compile-time constants of utc's RESIZE_BILINEAR kernels (``runtime/utc_resize``),
bit-exact with TFLite Micro's reference ResizeBilinear (float32) and
ResizeBilinearInteger (int8).

float32: the source step per output pixel, in float32 as C++ divides two floats converted
from the sizes (with align_corners and more than one output pixel: (in - 1) / (out - 1)).
int8: the same step in Q10, rounded to nearest as TFLite's integer division does it:
(1024 * in + out / 2) / out, or (1024 * (in - 1) + (out - 1) / 2) / (out - 1).
"""

from __future__ import annotations

import numpy as np


def resize_scale_f32(in_size: int, out_size: int, align_corners: bool) -> float:
    """TFLite's float32 `height_scale` / `width_scale`, as the float32 value (a Python float)."""
    if align_corners and out_size > 1:
        return float(np.float32(in_size - 1) / np.float32(out_size - 1))
    return float(np.float32(in_size) / np.float32(out_size))


def resize_scale_q10(in_size: int, out_size: int, align_corners: bool) -> int:
    """TFLite's integer `height_scale_10` / `width_scale_10` (Q10)."""
    if align_corners and out_size > 1:
        return ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return ((1 << 10) * in_size + out_size // 2) // out_size
