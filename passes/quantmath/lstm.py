"""UNIDIRECTIONAL_SEQUENCE_LSTM's compile-time constants for the int8 operator (int8
input, hidden state and output, int8 weights, int32 biases, int16 cell state): TFLite
Micro's `PrepareGateParametersInteger` and `CreateLstmCellStateInfo`
(`lstm_eval_common.cc`).

- Each gate's two fully connected layers (input . weights + bias, hidden . recurrent
  weights) produce int16 at the fixed scale 2^-12 (Q3.12, the sigmoid/tanh input): factor
  `float32(s_x * s_w) / 2^-12` in double, through `QuantizeMultiplier`, zero point 0, the
  int16 clamp; their sum saturates to int16.
- Gate nonlinearities output Q0.15 (scale 2^-15).
- forget * cell -> cell: factor 2^-15 * s_cell / s_cell; input * cell gate -> cell:
  2^-30 / s_cell; output * tanh(cell) -> hidden: 2^-30 / s_hidden, plus the hidden zero
  point, clamped to int8 (the products in double, as TFLite Micro computes them).
- The cell state's scale must be a power of two: `cell_scale_power` = round(log2(s_cell))
  (float32 arithmetic, as `CheckedLog2`), which sets tanh's input shift; `cell_clip` is
  quantized as int16(clamp(clip / s_cell, -32768, 32767)) (truncation).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from utc.passes.quantmath._scales import _check_scale, _check_zp
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import quantize_multiplier

GATES = ("input_gate", "forget_gate", "cell_gate", "output_gate")
#: The int16 scale of a gate's fully connected output (Q3.12).
GATE_INPUT_SCALE = 2.0 ** -12
#: The scale of a gate's sigmoid or tanh output (Q0.15).
GATE_OUTPUT_SCALE = 2.0 ** -15


def _fc_multiplier(input_scale: float, weight_scale: float) -> tuple[int, int]:
    product = float(np.float32(input_scale) * np.float32(weight_scale))
    return quantize_multiplier(product / GATE_INPUT_SCALE)


def cell_scale_power(cell_scale: float) -> int:
    """TFLite's CheckedLog2 on a float32 scale: round(log(x) * (1 / log(2))) in float32,
    half away from zero. TFLite Micro ignores whether the scale is a power of two (its tanh
    of the cell state then assumes the nearest one); utc computes the same integer."""
    x = np.float32(cell_scale)
    log2 = float(np.float32(np.log(x)) * (np.float32(1.0) / np.float32(np.log(np.float32(2.0)))))
    return int(math.floor(abs(log2) + 0.5)) * (1 if log2 >= 0 else -1)


def quantized_cell_clip(cell_clip: float, cell_scale: float) -> int:
    """int16(min(max(clip / scale, -32768), 32767)), the division in double."""
    value = min(max(float(np.float32(cell_clip)) / float(np.float32(cell_scale)), -32768.0), 32767.0)
    return int(value)  # C's conversion truncates toward zero, as int() does


@dataclasses.dataclass(frozen=True)
class LstmParams(QnnAttrs):
    """The `qnn.lstm` attributes (each gate's two Q31 multipliers and shifts by name)."""

    input_zp: int
    hidden_zp: int
    input_gate_input_mult: int
    input_gate_input_shift: int
    input_gate_recurrent_mult: int
    input_gate_recurrent_shift: int
    forget_gate_input_mult: int
    forget_gate_input_shift: int
    forget_gate_recurrent_mult: int
    forget_gate_recurrent_shift: int
    cell_gate_input_mult: int
    cell_gate_input_shift: int
    cell_gate_recurrent_mult: int
    cell_gate_recurrent_shift: int
    output_gate_input_mult: int
    output_gate_input_shift: int
    output_gate_recurrent_mult: int
    output_gate_recurrent_shift: int
    forget_cell_mult: int
    forget_cell_shift: int
    input_cell_mult: int
    input_cell_shift: int
    hidden_mult: int
    hidden_shift: int
    cell_scale_power: int
    cell_clip: int


def lstm_params(input_scale: float, input_zp: int, hidden_scale: float, hidden_zp: int,
                cell_scale: float, input_weight_scales: dict[str, float],
                recurrent_weight_scales: dict[str, float], cell_clip: float,
                storage: str = "i8") -> LstmParams:
    """TFLite Micro's Prepare constants of the int8 LSTM, or with `storage` "i16" of the
    16x8 one (the same formulas; gate names as in `GATES`)."""
    s_x = _check_scale("input", input_scale)
    s_h = _check_scale("hidden state", hidden_scale)
    s_c = _check_scale("cell state", cell_scale)
    fields: dict[str, int] = {"input_zp": _check_zp("input", input_zp, storage),
                              "hidden_zp": _check_zp("hidden state", hidden_zp, storage)}
    for gate in GATES:
        for kind, scale_in, scales in (("input", s_x, input_weight_scales),
                                       ("recurrent", s_h, recurrent_weight_scales)):
            mult, shift = _fc_multiplier(scale_in, _check_scale(f"{gate} {kind} weights",
                                                                scales[gate]))
            fields[f"{gate}_{kind}_mult"], fields[f"{gate}_{kind}_shift"] = mult, shift
    q15 = GATE_OUTPUT_SCALE
    fields["forget_cell_mult"], fields["forget_cell_shift"] = \
        quantize_multiplier(q15 * float(np.float32(s_c)) / float(np.float32(s_c)))
    fields["input_cell_mult"], fields["input_cell_shift"] = quantize_multiplier(q15 * q15 / s_c)
    fields["hidden_mult"], fields["hidden_shift"] = quantize_multiplier(q15 * q15 / s_h)
    fields["cell_scale_power"] = cell_scale_power(s_c)
    # -1: no clipping (TFLite Micro clips only when the float cell_clip is positive)
    fields["cell_clip"] = quantized_cell_clip(cell_clip, s_c) if cell_clip > 0 else -1
    return LstmParams(**fields)
