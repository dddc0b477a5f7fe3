"""fold-zero-point's table: bias - input_zp * sum(weights) per output channel, modulo 2^32."""

from __future__ import annotations

import numpy as np
from utc.passes.fold_zero_point import zero_point_bias


def test_conv_table_sums_each_output_channel() -> None:
    w = np.arange(2 * 2 * 2 * 3, dtype=np.int8).reshape(2, 2, 2, 3)  # [out_c, kh, kw, in_c]
    bias = np.array([100, -7], np.int32)
    got = zero_point_bias(w, (1, 2, 3), bias, -5)
    want = [100 + 5 * int(w[0].astype(np.int64).sum()), -7 + 5 * int(w[1].astype(np.int64).sum())]
    assert got.dtype == np.int32 and got.tolist() == want


def test_depthwise_table_sums_over_taps_per_channel() -> None:
    w = np.array([[[[1, -2], [3, 4]], [[5, 6], [-7, 8]]]], np.int8)  # [1, kh, kw, out_c]
    got = zero_point_bias(w, (0, 1, 2), None, 3)
    assert got.tolist() == [-3 * (1 + 3 + 5 - 7), -3 * (-2 + 4 + 6 + 8)]


def test_table_wraps_like_the_kernels_int32_accumulator() -> None:
    w = np.full((1, 4096), 127, np.int8)  # sum 520,192; * -128 is within int32
    bias = np.array([2**31 - 1], np.int32)
    got = zero_point_bias(w, (1,), bias, -128)
    exact = 2**31 - 1 + 128 * 127 * 4096
    assert got.tolist() == [(exact + 2**31) % 2**32 - 2**31]
