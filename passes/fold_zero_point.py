"""`fold-zero-point`: precompute each int8 convolution's and fully connected layer's
input-zero-point correction into flash.

TFLite Micro computes, per output, `bias + sum over in-bounds taps of w * (x - zp)`. When
every tap is in bounds (all outputs of a fully connected layer, interior pixels of a
convolution) that equals `sum w * x + (bias - zp * sum w)`, and the second term depends
on constants only: one int32 per output channel, `zp_bias`. The kernels used to compute
`sum w` on every call, and with overlap-buffers' row-at-a-time bands on every output
row (KWS: 17.2 M -> 21.0 M instructions on Cortex-M4); as a table in flash it costs 4
bytes per channel and no instructions. CMSIS-NN's fully connected layer on MVE wants the
same table (the "kernel sums" of `arm_vector_sum_s8` with the bias folded in).

The table is computed modulo 2^32, as the kernels accumulate (runtime/utc_conv_s8.cpp
explains why that stays bit-exact). Ops whose filter or bias is not a constant keep
computing the sums at run time.

The LSTM gets the same treatment for CMSIS-NN's LSTM functions (`_fold_lstm`): each gate's
effective biases, and the ranges the CMSIS-NN records check (passes/quantmath/lstm_cmsis.py).
So does the int8-state SVDF for arm_svdf_s8, whose Helium path starts each feature-stage
accumulator from a kernel sum read through its context (`_fold_svdf`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from utc.compiler.ir import Module, Operation, Value
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import qnn, tensor
from utc.passes.quantmath import lstm_cmsis

#: For each op class, the axes of its constant filter summed per output channel.
_SUM_AXES: dict[type[Operation], tuple[int, ...]] = {
    qnn.Conv2DOp: (1, 2, 3),  # filter [out_c, kh, kw, in_c]
    qnn.DepthwiseConv2DOp: (0, 1, 2),  # filter [1, kh, kw, out_c]
    qnn.FullyConnectedOp: (1,),  # weights [units, depth]
}


def _constant(module: Module, value: Value | None) -> np.ndarray | None:
    op = getattr(value, "op", None)
    if not isinstance(op, tensor.ConstantOp):
        return None
    return module.resource_data(op.value)


def zero_point_bias(filter_data: np.ndarray, axes: tuple[int, ...], bias: np.ndarray | None,
                    input_zp: int) -> np.ndarray:
    """`bias - input_zp * sum(filter over axes)` per output channel, wrapped to int32."""
    sums = filter_data.sum(axis=axes, dtype=np.int64)  # no int64 copy of the weights
    total = -int(input_zp) * sums
    if bias is not None:
        total = total + bias.astype(np.int64).reshape(-1)
    return ((total + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


@register_pass
@dataclass(frozen=True)
class FoldZeroPoint(Pass):
    """Precompute bias - input_zp * sum(weights) per output channel (`zp_bias`)."""

    name = "fold-zero-point"

    def run(self, module: Module) -> None:
        for op in module.walk():
            if isinstance(op, qnn.LstmOp):
                _fold_lstm(module, op)
                continue
            if isinstance(op, qnn.SvdfOp):
                _fold_svdf(module, op)
                continue
            axes = _SUM_AXES.get(type(op))
            if axes is None or op.zp_bias is not None:
                continue
            if str(op.operand("input").type.element.storage) != "i8":
                continue  # 16x8: int16 inputs have zero point 0, there is nothing to fold
            field = "weights" if isinstance(op, qnn.FullyConnectedOp) else "filter"
            weights = _constant(module, op.operand(field))
            bias_value = op.operand("bias")
            bias = _constant(module, bias_value)
            if weights is None or (bias_value is not None and bias is None):
                continue
            table = zero_point_bias(weights, axes, bias, op.input_zp)
            base = op.mult.name.rsplit(".", 1)[0]
            op.zp_bias = module.add_resource(f"{base}.zp_bias", table)


def _fold_lstm(module: Module, op: qnn.LstmOp) -> None:
    """The LSTM's tables for CMSIS-NN (passes/quantmath/lstm_cmsis.py). int8
    (arm_lstm_unidirectional_s8): each gate's effective biases and the recurrent halves'
    range. 16x8 (arm_lstm_unidirectional_s16; zero points 0, the int64 biases are the input
    halves' effective biases): one zero table the recurrent halves share, their range and
    the range of the kernel's int32 intermediates."""
    storage = str(op.operand("input").type.element.storage)
    if op.input_gate_recurrent_effective_bias is not None or storage not in ("i8", "i16"):
        return
    data = {}
    for gate in lstm_cmsis.GATES:
        for role in ("input_weights", "recurrent_weights", "bias"):
            values = _constant(module, op.operand(f"{gate}_{role}"))
            if values is None:
                return
            data[gate, role] = values
    weights = op.operand("input_gate_input_weights").op.value.name  # "<base>.<role>"
    base = weights.rsplit(".", 1)[0] if "." in weights else weights
    requant = {kind: {g: (op.attrs[f"{g}_{kind}_mult"], op.attrs[f"{g}_{kind}_shift"])
                      for g in lstm_cmsis.GATES} for kind in ("input", "recurrent")}
    if storage == "i16":
        zeros, bounds, int32s = lstm_cmsis.cmsis_lstm16_tables(
            {g: data[g, "input_weights"] for g in lstm_cmsis.GATES},
            {g: data[g, "recurrent_weights"] for g in lstm_cmsis.GATES},
            {g: data[g, "bias"] for g in lstm_cmsis.GATES}, requant["input"],
            requant["recurrent"])
        ref = module.add_resource(f"{base}.recurrent_zero_bias", zeros)
        for gate in lstm_cmsis.GATES:
            op.attrs[f"{gate}_recurrent_effective_bias"] = ref
        op.recurrent_range = bounds
        op.int32_range = int32s
        return
    tables, bounds = lstm_cmsis.cmsis_lstm_tables(
        {g: data[g, "input_weights"] for g in lstm_cmsis.GATES},
        {g: data[g, "recurrent_weights"] for g in lstm_cmsis.GATES},
        {g: data[g, "bias"] for g in lstm_cmsis.GATES}, op.input_zp, op.hidden_zp,
        requant["recurrent"])
    for key, table in tables.items():
        op.attrs[key] = module.add_resource(f"{base}.{key}", table)
    op.recurrent_range = bounds


def svdf_kernel_sums(weights_feature: np.ndarray, input_zp: int) -> np.ndarray:
    """arm_svdf_s8's kernel sums (CMSIS-NN's arm_vector_sum_s8 with lhs offset -input_zp,
    rhs offset -state_zp = 0 and no bias, as TFLite Micro's CMSIS-NN port calls it): per
    filter, `-input_zp * sum(weights_feature[filter, :])`, wrapped to int32. The Helium
    feature stage adds the plain dot product of input and weights to it, which is
    `sum (x - input_zp) * w` as TFLite Micro's reference computes."""
    return zero_point_bias(weights_feature, (1,), None, input_zp)


def _fold_svdf(module: Module, op: qnn.SvdfOp) -> None:
    """The kernel sums table for arm_svdf_s8 (int8 state; CMSIS-NN has no state zero
    point, and arm_svdf_state_s16_s8 sums the weights itself). Only the Helium path reads
    it; the records that do not drop it (`unused`)."""
    if op.kernel_sums is not None or op.attrs["state_zp"] != 0 \
            or str(op.operand("state").type.element.storage) != "i8":
        return
    weights = _constant(module, op.operand("weights_feature"))
    if weights is None:
        return
    name = op.operand("weights_feature").op.value.name  # "<base>.<role>"
    base = name.rsplit(".", 1)[0] if "." in name else name
    op.kernel_sums = module.add_resource(f"{base}.kernel_sums",
                                         svdf_kernel_sums(weights, op.attrs["input_zp"]))
