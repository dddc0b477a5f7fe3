"""fold-zero-point's kernel sums for CMSIS-NN's arm_svdf_s8 on Helium: per filter,
-input_zp times the feature weights' row sum (what arm_vector_sum_s8 computes for TFLite
Micro's CMSIS-NN port), against a direct numpy sum."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.fold_zero_point import svdf_kernel_sums


def _direct(weights: np.ndarray, input_zp: int) -> np.ndarray:
    """Row by row in Python integers, wrapped to int32 at the end."""
    sums = [-input_zp * int(sum(int(v) for v in row)) for row in weights]
    return np.array([(s + 2**31) % 2**32 - 2**31 for s in sums], dtype=np.int64)


@pytest.mark.parametrize("filters,input_size", [(1, 1), (4, 8), (6, 5), (15, 20), (7, 33)])
@pytest.mark.parametrize("input_zp", [-128, -3, 0, 1, 127])
def test_kernel_sums_match_a_direct_sum(filters: int, input_size: int, input_zp: int) -> None:
    rng = np.random.default_rng(filters * 100 + input_size)
    weights = rng.integers(-128, 128, (filters, input_size)).astype(np.int8)
    sums = svdf_kernel_sums(weights, input_zp)
    assert sums.dtype == np.int32 and sums.shape == (filters,)
    np.testing.assert_array_equal(sums.astype(np.int64), _direct(weights, input_zp))
    np.testing.assert_array_equal(sums, (-input_zp * weights.astype(np.int64).sum(axis=1))
                                  .astype(np.int32))


def test_kernel_sums_extremes_and_int32_wrap() -> None:
    """All -128 weights: the int8 sum must not wrap in int8; a row long enough for
    -input_zp * sum to leave int32 wraps as the kernel's int32 arithmetic does."""
    weights = np.full((2, 16), -128, dtype=np.int8)
    np.testing.assert_array_equal(svdf_kernel_sums(weights, -128), [-128 * 16 * 128] * 2)
    long_row = np.full((1, 140_000), -128, dtype=np.int8)  # 127 * 128 * 140000 > 2^31
    np.testing.assert_array_equal(svdf_kernel_sums(long_row, 127).astype(np.int64),
                                  _direct(long_row, 127))
    assert svdf_kernel_sums(long_row, 127)[0] != 127 * 128 * 140_000  # it did wrap
