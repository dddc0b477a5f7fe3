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
CMSIS_LSTM_ATTRS = EFFECTIVE_BIAS_ATTRS + ("recurrent_range",)

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
