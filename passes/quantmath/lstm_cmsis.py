"""What CMSIS-NN's int8 LSTM (`arm_lstm_unidirectional_s8`) needs beyond the `qnn.lstm`
constants, computed at compile time: its eight "effective bias" tables and the range its
recurrent fully connected layers can reach.

CMSIS-NN multiplies the raw int8 input and hidden state by the weights and adds one int32
per gate row instead of subtracting zero points (facts from CMSIS-NN's `cmsis_nn_lstm_gate`
documentation and TFLite Micro's CMSIS-NN port, which fills them with
`arm_vector_sum_s8`):

- input effective bias = gate bias - input_zp * (row sum of the gate's input weights),
- recurrent effective bias = -hidden_zp * (row sum of the gate's recurrent weights).

Both are taken modulo 2^32, as the kernel accumulates: where TFLite Micro's int32 sum
`bias + sum w * (x - zp)` does not overflow, the wrapped sum is the same number.

One difference in arithmetic stays: TFLite Micro clamps each gate's recurrent fully
connected output to int16 before the saturating add of the two halves; CMSIS-NN adds the
recurrent half unclamped and clamps the sum. The two agree whenever the recurrent half
cannot leave int16, which `recurrent_range` bounds over every possible int8 hidden state
(each weight times its worst-case `h - hidden_zp`, requantized with TFLite Micro's
rounding: the requantization is monotonic, so the row extremes bound every output).
"""

from __future__ import annotations

import numpy as np
from utc.passes.quantmath.lut import UnsupportedQuantization, multiply_by_quantized_multiplier

GATES = ("input_gate", "forget_gate", "cell_gate", "output_gate")
#: The `qnn.lstm` attributes holding the tables, per gate: the input half's (bias folded
#: in) and the recurrent half's.
EFFECTIVE_BIAS_ATTRS = tuple(f"{gate}_{kind}_effective_bias" for gate in GATES
                             for kind in ("input", "recurrent"))
#: Every attribute fold-zero-point adds to a `qnn.lstm` for CMSIS-NN (utc's own LSTM
#: kernels read none of them; select-kernels drops them).
CMSIS_LSTM_ATTRS = EFFECTIVE_BIAS_ATTRS + ("recurrent_range", "int32_range")

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1


def effective_bias(weights: np.ndarray, zero_point: int, bias: np.ndarray | None = None
                   ) -> np.ndarray:
    """`bias - zero_point * sum(weights row)` per row of a [rows, cols] int8 matrix, wrapped
    to int32 (no bias: the recurrent half)."""
    total = -int(zero_point) * weights.astype(np.int64).sum(axis=1)
    if bias is not None:
        total = total + bias.astype(np.int64).reshape(-1)
    return ((total + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def _requantize(x: int, multiplier: int, shift: int) -> int | None:
    """TFLite's MultiplyByQuantizedMultiplier (double rounding); None when `x` or its left
    shift leaves int32 (undefined there)."""
    if not _INT32_MIN <= x <= _INT32_MAX:
        return None
    try:
        return multiply_by_quantized_multiplier(x, multiplier, shift)
    except UnsupportedQuantization:
        return None


def recurrent_range(weights: np.ndarray, hidden_zp: int, multiplier: int, shift: int,
                    lo: int = -128, hi: int = 127) -> tuple[int, int] | None:
    """The smallest and largest requantized recurrent fully connected output of one gate
    over every hidden state in [lo, hi] (`sum w * (h - hidden_zp)` per row, then the gate's
    recurrent multiplier and shift); None if an accumulator could leave int32."""
    w = weights.astype(np.int64)
    a, b = w * (lo - int(hidden_zp)), w * (hi - int(hidden_zp))
    row_min, row_max = np.minimum(a, b).sum(axis=1), np.maximum(a, b).sum(axis=1)
    outs = [_requantize(int(v), multiplier, shift)
            for v in (row_min.min(), row_max.max())]
    if outs[0] is None or outs[1] is None:
        return None
    return outs[0], outs[1]


def cmsis_lstm_tables(input_weights: dict[str, np.ndarray],
                      recurrent_weights: dict[str, np.ndarray], biases: dict[str, np.ndarray],
                      input_zp: int, hidden_zp: int,
                      recurrent_requant: dict[str, tuple[int, int]]
                      ) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """The eight effective-bias tables by attribute name, and the range of every gate's
    recurrent half together ([-2^31, 2^31 - 1] when an accumulator could overflow int32,
    which then reads as "outside int16")."""
    tables: dict[str, np.ndarray] = {}
    lows, highs = [], []
    for gate in GATES:
        tables[f"{gate}_input_effective_bias"] = effective_bias(input_weights[gate], input_zp,
                                                                biases[gate])
        tables[f"{gate}_recurrent_effective_bias"] = effective_bias(recurrent_weights[gate],
                                                                    hidden_zp)
        bounds = recurrent_range(recurrent_weights[gate], hidden_zp, *recurrent_requant[gate])
        low, high = bounds if bounds is not None else (_INT32_MIN, _INT32_MAX)
        lows.append(low)
        highs.append(high)
    return tables, (min(lows), max(highs))


# ---- 16x8 (arm_lstm_unidirectional_s16) -----------------------------------------------------
# int16 input and hidden state with zero point 0, int64 biases: the input half's effective
# bias is the bias itself and the recurrent half's is zero (CMSIS-NN still reads a table).
# TFLite Micro accumulates in int64 and requantizes with its 64-bit
# MultiplyByQuantizedMultiplier (multiplier rounded to 16 bits, one rounding); CMSIS-NN
# does the same, except that it sums the first 512 columns of a row in int32 (and on the
# Helium path starts that int32 sum from the int64 bias truncated to int32) and forms
# twice the requantized value in int32 before its last rounding shift. `int32_range`
# bounds all of these, which must fit int32 for CMSIS-NN to agree with TFLite Micro.

#: Columns CMSIS-NN's 16x8 matrix-vector product sums in int32 (MAX_COL_COUNT).
INT32_COLUMNS = 512
_I16_LO, _I16_HI = -32768, 32767


def requantize_s64(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier on an int64 accumulator: the multiplier
    rounded to 16 bits, one rounding right shift by 15 - shift (exact integers; the caller
    checks the int32 range)."""
    reduced = (multiplier + (1 << 15)) >> 16 if multiplier < 0x7FFF0000 else 0x7FFF
    total = 15 - shift
    return (x * reduced + (1 << (total - 1))) >> total


def _row_extremes(w: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = w.astype(np.int64) * lo, w.astype(np.int64) * hi
    return np.minimum(a, b).sum(axis=1), np.maximum(a, b).sum(axis=1)


def recurrent_range16(weights: np.ndarray, multiplier: int, shift: int) -> tuple[int, int]:
    """The smallest and largest requantized recurrent half of one 16x8 gate over every
    int16 hidden state (zero point 0)."""
    row_min, row_max = _row_extremes(weights, _I16_LO, _I16_HI)
    return (requantize_s64(int(row_min.min()), multiplier, shift),
            requantize_s64(int(row_max.max()), multiplier, shift))


def int32_range16(weights: np.ndarray, bias: np.ndarray | None, multiplier: int,
                  shift: int) -> tuple[int, int]:
    """The extremes of CMSIS-NN's int32 intermediates for one half of a 16x8 gate: the sum
    of the first 512 columns (with the bias, as the Helium path starts from it) and twice
    the requantized full sum."""
    b = np.zeros(weights.shape[0], np.int64) if bias is None else bias.astype(np.int64)
    part_min, part_max = _row_extremes(weights[:, :INT32_COLUMNS], _I16_LO, _I16_HI)
    full_min, full_max = _row_extremes(weights, _I16_LO, _I16_HI)
    lows = [int((part_min + np.minimum(b, 0)).min()), int(part_min.min()),
            2 * requantize_s64(int((full_min + b).min()), multiplier, shift)]
    highs = [int((part_max + np.maximum(b, 0)).max()), int(part_max.max()),
             2 * requantize_s64(int((full_max + b).max()), multiplier, shift)]
    return min(lows), max(highs)


def cmsis_lstm16_tables(input_weights: dict[str, np.ndarray],
                        recurrent_weights: dict[str, np.ndarray], biases: dict[str, np.ndarray],
                        input_requant: dict[str, tuple[int, int]],
                        recurrent_requant: dict[str, tuple[int, int]]
                        ) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """The recurrent halves' zero effective bias (one int64 table the four gates share),
    the range of every recurrent half, and of every int32 intermediate."""
    zeros = np.zeros(next(iter(recurrent_weights.values())).shape[0], np.int64)
    ranges, int32s = [], []
    for gate in GATES:
        ranges.append(recurrent_range16(recurrent_weights[gate], *recurrent_requant[gate]))
        int32s.append(int32_range16(input_weights[gate], biases[gate], *input_requant[gate]))
        int32s.append(int32_range16(recurrent_weights[gate], None, *recurrent_requant[gate]))
    return (zeros, (min(r[0] for r in ranges), max(r[1] for r in ranges)),
            (min(r[0] for r in int32s), max(r[1] for r in int32s)))
