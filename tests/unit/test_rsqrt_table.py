"""int8 RSQRT's compile-time arithmetic (passes/quantmath/lut.py): TFLite's
GetInvSqrtQuantizedMultiplierExp and the 256-entry table built from it. The e2e sweep
(tests/e2e/test_builtins_tflm_gap.py) compares the tables with TFLite Micro bit for bit;
these check the values' meaning and the edge rules."""

from __future__ import annotations

import math

import pytest
from utc.passes.quantmath.lut import UnsupportedQuantization, inv_sqrt_multiplier_exp, rsqrt_table


@pytest.mark.parametrize("value", [2, 3, 4, 17, 255, 1000, 2**20 + 7, 2**29 + 3, 2**31 - 1])
def test_inv_sqrt_multiplier_is_one_over_the_square_root(value: int) -> None:
    mult, shift = inv_sqrt_multiplier_exp(value)
    assert 0 < mult < 2**31
    assert math.isclose(mult / 2**31 * 2.0**shift, 1 / math.sqrt(value), rel_tol=1e-5)


def test_inv_sqrt_of_one_and_below_is_the_largest_multiplier() -> None:
    for value in (-5, 0, 1):
        assert inv_sqrt_multiplier_exp(value) == (2**31 - 1, 0)


def test_rsqrt_table_edges() -> None:
    table = rsqrt_table(0.25, 0, 0.25, -128)
    assert table[0] == 127  # the zero point: TFLite Micro's "close to 0" maximum
    # 1 / sqrt(4 * 0.25) = 1 -> 1 / 0.25 - 128 = -124; 1 / sqrt(64 * 0.25) = 0.25 -> -127
    assert table[4] == -124 and table[64] == -127
    assert table[256 - 3] == table[1]  # negative inputs: the smallest positive's result
    with pytest.raises(UnsupportedQuantization):
        rsqrt_table(1e6, 0, 1e6, 0)
