"""Shape and padding arithmetic shared by the importer and passes (pure functions)."""

from __future__ import annotations


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
