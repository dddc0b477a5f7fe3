"""Shape and padding arithmetic shared by the importer and passes (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _effective(filter_size: int, dilation: int) -> int:
    return (filter_size - 1) * dilation + 1


def same_padding(in_size: int, filter_size: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """(out_size, pad_before, pad_after) for TFLite SAME padding.

    TFLite's ComputePaddingHeightWidth: out = ceil(in / stride), total padding
    max(0, (out - 1) * stride + effective_filter - in), the odd pixel goes after.
    """
    out = (in_size + stride - 1) // stride
    total = max(0, (out - 1) * stride + _effective(filter_size, dilation) - in_size)
    return out, total // 2, total - total // 2


def valid_padding(in_size: int, filter_size: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """(out_size, 0, 0) for TFLite VALID padding: out = ceil((in - eff + 1) / stride)."""
    out = (in_size - _effective(filter_size, dilation) + stride) // stride
    return max(out, 0), 0, 0


def pad_shape6(shape: Sequence[int]) -> np.ndarray:
    """A shape right-aligned into 6-D with leading 1s, as the broadcasting kernels take it."""
    dims = [int(d) for d in shape]
    if len(dims) > 6:
        raise ValueError(f"shape {dims} has more than 6 dimensions")
    return np.array([1] * (6 - len(dims)) + dims, dtype=np.int32)


def broadcast_shapes6(shape1: Sequence[int],
                      shape2: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(in1, in2, out) shapes padded to 6-D for a TFLite (numpy-style) broadcast.

    Raises ValueError when the shapes do not broadcast.
    """
    a, b = pad_shape6(shape1), pad_shape6(shape2)
    out = np.empty(6, dtype=np.int32)
    for d in range(6):
        if a[d] == b[d] or b[d] == 1:
            out[d] = a[d]
        elif a[d] == 1:
            out[d] = b[d]
        else:
            raise ValueError(f"shapes {list(shape1)} and {list(shape2)} do not broadcast")
    return a, b, out
