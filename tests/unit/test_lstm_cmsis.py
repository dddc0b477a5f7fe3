"""passes/quantmath/lstm_cmsis.py: the effective biases CMSIS-NN's int8 LSTM adds instead
of subtracting zero points, and the bound on each gate's recurrent half that decides
whether CMSIS-NN's unclamped add can differ from TFLite Micro's clamped one."""

from __future__ import annotations

import numpy as np
import pytest
from utc.passes.quantmath.lstm_cmsis import (
    CMSIS_LSTM_ATTRS,
    EFFECTIVE_BIAS_ATTRS,
    GATES,
    cmsis_lstm_tables,
    effective_bias,
    recurrent_range,
)
from utc.passes.quantmath.lut import multiply_by_quantized_multiplier


def test_effective_bias_is_the_zero_point_folded_sum() -> None:
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (6, 9)).astype(np.int8)
    bias = rng.integers(-5000, 5000, 6).astype(np.int32)
    x = rng.integers(-128, 128, 9)
    for zp in (-128, -3, 0, 7, 127):
        table = effective_bias(w, zp, bias)
        # what the kernel then computes equals TFLite Micro's bias + sum w * (x - zp)
        want = bias.astype(np.int64) + (w.astype(np.int64) * (x - zp)).sum(axis=1)
        got = table.astype(np.int64) + (w.astype(np.int64) * x).sum(axis=1)
        assert np.array_equal(got, want)
    assert np.array_equal(effective_bias(w, 5), -5 * w.astype(np.int64).sum(axis=1))


def test_effective_bias_wraps_to_int32() -> None:
    w = np.full((1, 4), 127, np.int8)
    table = effective_bias(w, -128, np.array([2**31 - 1], np.int64))
    assert table.dtype == np.int32
    assert int(table[0]) == (2**31 - 1 + 128 * 508) - 2**32


@pytest.mark.parametrize("zp", [-128, -2, 0, 9, 127])
@pytest.mark.parametrize("mult,shift", [(1374389504, -2), (1099511680, 1), (2**30, 0)])
def test_recurrent_range_is_exact_over_every_hidden_state(zp: int, mult: int, shift: int) -> None:
    """Two hidden units, every one of the 65,536 int8 hidden states: the bound is the
    actual smallest and largest requantized output (the box's corners are reachable)."""
    rng = np.random.default_rng(zp + 200)
    w = rng.integers(-128, 128, (3, 2)).astype(np.int8)
    h = np.arange(-128, 128)
    every = [multiply_by_quantized_multiplier(int(a), mult, shift)
             for row in w.astype(np.int64)
             for a in {int(v) for v in (row[0] * (h[:, None] - zp)
                                        + row[1] * (h[None, :] - zp)).ravel()}]
    assert recurrent_range(w, zp, mult, shift) == (min(every), max(every))


def test_recurrent_range_accumulator_overflow_is_none() -> None:
    w = np.full((1, 70000), 127, np.int8)  # 70000 * 127 * 255 > 2^31
    assert recurrent_range(w, -128, 2**30, 0) is None
    assert recurrent_range(np.full((1, 2), 127, np.int8), 0, 2**30, 25) is None  # shift overflows


def test_tables_name_every_attribute_and_join_the_gates_ranges() -> None:
    rng = np.random.default_rng(3)
    wi = {g: rng.integers(-127, 128, (4, 3)).astype(np.int8) for g in GATES}
    wr = {g: rng.integers(-127, 128, (4, 4)).astype(np.int8) for g in GATES}
    wr["cell_gate"] = np.full((4, 4), 127, np.int8)  # the widest gate
    bias = {g: rng.integers(-100, 100, 4).astype(np.int32) for g in GATES}
    requant = {g: (1374389504, -2) for g in GATES}
    tables, (low, high) = cmsis_lstm_tables(wi, wr, bias, 3, -2, requant)
    assert set(tables) == set(EFFECTIVE_BIAS_ATTRS) and set(CMSIS_LSTM_ATTRS) == \
        set(EFFECTIVE_BIAS_ATTRS) | {"recurrent_range", "int32_range"}
    assert (low, high) == recurrent_range(wr["cell_gate"], -2, 1374389504, -2)
    for g in GATES:
        assert np.array_equal(tables[f"{g}_input_effective_bias"], effective_bias(wi[g], 3, bias[g]))
        assert np.array_equal(tables[f"{g}_recurrent_effective_bias"], effective_bias(wr[g], -2))


def test_requantize_s64_is_tflite_micro_s_64_bit_rounding() -> None:
    """TFLite's 64-bit MultiplyByQuantizedMultiplier: the multiplier rounded to 16 bits,
    one round-half-up shift; e.g. 2^30 (one half) halves with ties up."""
    from utc.passes.quantmath.lstm_cmsis import requantize_s64

    assert requantize_s64(10, 1 << 30, 0) == 5 and requantize_s64(11, 1 << 30, 0) == 6
    assert requantize_s64(-11, 1 << 30, 0) == -5  # -5.5 rounds up
    assert requantize_s64(3, 0x7FFFFFFF, 2) == 12  # the 16-bit multiplier saturates at 0x7FFF
    rng = np.random.default_rng(5)
    for x, m, s in zip(rng.integers(-(1 << 40), 1 << 40, 200), rng.integers(1 << 30, 1 << 31, 200),
                       rng.integers(-20, 3, 200)):
        x, m, s = int(x), int(m), int(s)
        reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
        # CMSIS-NN's arm_nn_requantize_s64 in two shifts gives the same integer
        assert requantize_s64(x, m, s) == (((x * reduced) >> (14 - s)) + 1) >> 1


def test_int32_range16_sees_the_512_column_int32_sum() -> None:
    """-128 weights on 512 columns reach 2^31 with int16 inputs of -32768: one past int32."""
    from utc.passes.quantmath.lstm_cmsis import int32_range16, recurrent_range16

    w = np.full((1, 512), -128, np.int8)
    low, high = int32_range16(w, None, 1 << 30, -20)
    assert high == 1 << 31 and low == -128 * 512 * 32767
    assert int32_range16(w[:, :511], None, 1 << 30, -20)[1] == 511 * 128 * 32768
    bias = np.array([1 << 40], np.int64)  # the Helium path starts its int32 sum from the bias
    assert int32_range16(np.ones((1, 4), np.int8), bias, 1 << 30, -40)[1] >= 1 << 40
    assert recurrent_range16(np.ones((1, 2), np.int8), 1 << 30, 0) == (-32768, 32767)
