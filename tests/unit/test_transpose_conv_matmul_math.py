"""Pure functions behind TRANSPOSE_CONV and BATCH_MATMUL: the transposed convolution's
padding (TFLite Micro's ComputePaddingHeightWidth on the output size), BATCH_MATMUL's
output shape rule and its requantization constants. The e2e sweeps
(tests/e2e/test_transpose_conv.py, test_batch_matmul.py) check the whole path against
TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.importers.tflite import transpose_conv_padding
from utc.dialects.common import batch_matmul_shape
from utc.passes.quantmath.matmul import batch_matmul_params
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier


@pytest.mark.parametrize("args, want", [
    (("SAME", 8, 3, 2), 0),    # 4 pixels back: (4-1)*2 + 3 - 8 = 1 -> 0
    (("SAME", 10, 4, 2), 1),   # 5 back: 4*2 + 4 - 10 = 2 -> 1
    (("SAME", 5, 3, 1), 1),    # stride 1: (k - 1) / 2
    (("VALID", 9, 3, 2), 0),   # VALID: no padding
    (("SAME", 12, 2, 3), 0),   # kernel below the stride: negative total, clamped
    (("SAME", 9, 3, 2), 1),    # an output one above SAME's: 5 back, 8 + 3 - 9 = 2 -> 1
])
def test_transpose_conv_padding(args, want: int) -> None:
    assert transpose_conv_padding(*args) == want


@pytest.mark.parametrize("lhs, rhs, adj, want", [
    ((5, 7), (7, 3), (False, False), (5, 3)),
    ((7, 5), (3, 7), (True, True), (5, 3)),
    ((2, 1, 3, 8), (1, 4, 8, 2), (False, False), (2, 4, 3, 2)),
    ((4, 6), (3, 6, 5), (False, False), (3, 4, 5)),
    ((2, 4, 6), (3, 6, 5), (False, False), None),   # batch 2 against 3
    ((4, 6), (5, 5), (False, False), None),         # depth 6 against 5
    ((1, 1, 1, 1, 2, 3), (3, 2), (False, False), None),  # rank 6
])
def test_batch_matmul_shape(lhs, rhs, adj, want) -> None:
    assert batch_matmul_shape(lhs, rhs, *adj) == want


def test_batch_matmul_params_use_the_float32_scale_product() -> None:
    ls, rs, os_ = 0.0137, 0.0291, 0.0053
    p = batch_matmul_params(ls, 3, rs, -2, os_, 7)
    want = quantize_multiplier(float(np.float32(ls) * np.float32(rs)) / float(np.float32(os_)))
    assert (p.mult, p.shift) == want
    assert (p.lhs_zp, p.rhs_zp, p.output_zp) == (3, -2, 7)


def test_batch_matmul_16x8_zero_points() -> None:
    with pytest.raises(UnsupportedQuantization, match="zero points must be 0"):
        batch_matmul_params(0.01, 0, 0.01, 1, 0.01, 0, "i16")
