"""`lower-to-qnn`: int8 and 16x8 ops become integer-only `qnn` ops with every requantization
constant computed at compile time (TFLite Micro's double-rounding arithmetic, see
`passes/quantmath/requant.py`). Float ops are left alone: they skip this level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Operation, PerAxisQuantizedType, QuantizedType, ResourceRef, is_quantized
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import fused, qnn, tensor
from utc.dialects.common import NamedActivation
from utc.passes.quantmath import (
    activation,
    elementwise,
    lstm,
    matmul,
    quantize,
    reduce,
    softmax,
    svdf,
)
from utc.passes.quantmath import requant as quantmath
from utc.passes.quantmath.compare import compare_params
from utc.passes.quantmath.lut import abs_table, elu_table, rsqrt_table

#: int8 ops that stay at the tensor level: constants and ops that move or compare int8
#: values without any rescaling.
NON_QNN_INT8_OPS = (tensor.ConstantOp, tensor.ReshapeOp, tensor.MaximumOp, tensor.MinimumOp,
                    tensor.PadOp, tensor.ConcatenationOp, tensor.TransposeOp,
                    tensor.StridedSliceOp, tensor.SplitOp, tensor.GatherOp,
                    tensor.BroadcastToOp, tensor.SelectOp, tensor.ReduceMaxOp,
                    tensor.CastOp, tensor.ResizeBilinearOp)


def is_int8(op: Operation) -> bool:
    return all(is_quantized(r.type.element) for r in op.result_values)


def scales_of(element) -> list[float]:
    if isinstance(element, PerAxisQuantizedType):
        return list(element.scales)
    return [element.scale]


def zero_points_of(element) -> list[int]:
    if isinstance(element, PerAxisQuantizedType):
        return list(element.zero_points)
    return [element.zero_point]


def op_base_name(op: Operation) -> str:
    """The prefix of the resources an op owns, `<op><TFLite index>` (`conv2d3`), the same
    prefix the importer gave its filter and bias (`conv2d3.filter`), so an op's weights
    and requantization tables read as one family in the IR and the generated C++.

    A fused op's location lists every TFLite operator it was made from (fold-pad puts the
    PAD first, fuse-activation the RELU last), so the index is the one its own constant
    operands were named after; without such an operand (IR written by hand, a filter
    shared with an earlier op) it is the first source's."""
    kind = op.name.split(".")[-1]
    indices = [index for index, _ in op.location.sources]
    owners = {f"{kind}{index}" for index in indices}
    for value in op.operand_values:
        producer = getattr(value, "op", None)
        if isinstance(producer, tensor.ConstantOp):
            owner = producer.attrs["value"].name.split(".")[0]
            if owner in owners:
                return owner
    return f"{kind}{indices[0]}" if indices else kind


def add_requant(module: Module, op: Operation, mult: np.ndarray, shift: np.ndarray) -> dict:
    base = op_base_name(op)
    return {
        "mult": module.add_resource(f"{base}.mult", np.asarray(mult, np.int32)),
        "shift": module.add_resource(f"{base}.shift", np.asarray(shift, np.int32)),
    }


def act_clamp(op: Operation) -> tuple[int, int]:
    """The fused activation's clamp in the output's storage range (int8, or int16)."""
    out = op.result.type.element
    return _where(op, quantmath.activation_range_int8, op.act, out.scale, out.zero_point,
                  *quantmath.STORAGE_RANGE[str(out.storage)])


class _LowerConv(RewritePattern):
    def __init__(self, module: Module, root: type[Operation], target: type[Operation]):
        self.module, self.root, self.target = module, root, target

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x = op.operand("input").type.element
        w = op.operand("filter").type.element
        out = op.result.type.element
        n_out = op.result.type.shape[-1]
        scales = scales_of(w)
        if len(scales) == 1:
            scales = scales * n_out
        mult, shift = _where(op, quantmath.conv_requant_params, x.scale, scales, out.scale)
        attrs = {
            "input_zp": x.zero_point, "output_zp": out.zero_point,
            **add_requant(self.module, op, mult, shift),
            "act": act_clamp(op),
            "stride": op.attrs["stride"], "dilation": op.attrs["dilation"], "pad": op.attrs["pad"],
        }
        if "depth_multiplier" in op.attrs:
            attrs["depth_multiplier"] = op.attrs["depth_multiplier"]
        rewriter.replace_op(op, self.target(op.operand_values, [op.result.type], attrs,
                                            location=op.location))
        return True


class _LowerFullyConnected(RewritePattern):
    root = fused.FullyConnectedOp

    def __init__(self, module: Module):
        self.module = module

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x = op.operand("input").type.element
        w = op.operand("weights").type.element
        out = op.result.type.element
        mult, shift = _where(op, quantmath.fc_requant_params, x.scale, scales_of(w), out.scale)
        attrs = {
            "input_zp": x.zero_point, "weights_zp": zero_points_of(w)[0],
            "output_zp": out.zero_point,
            **add_requant(self.module, op, mult, shift),
            "act": act_clamp(op),
        }
        rewriter.replace_op(op, qnn.FullyConnectedOp(op.operand_values, [op.result.type], attrs,
                                                     location=op.location))
        return True


class _LowerPool(RewritePattern):
    def __init__(self, root: type[Operation], target: type[Operation]):
        self.root, self.target = root, target

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        if not isinstance(op.result.type.element, QuantizedType):
            return False
        attrs = {k: op.attrs[k] for k in ("stride", "window", "pad")}
        attrs["act"] = act_clamp(op)
        rewriter.replace_op(op, self.target(op.operand_values, [op.result.type], attrs,
                                            location=op.location))
        return True


def _where(op: Operation, fn, *args, **kwargs):
    """Call a quantmath function; TFLM-refused parameters become an error naming the op."""
    try:
        return fn(*args, **kwargs)
    except quantmath.UnsupportedQuantization as exc:
        raise CompileError(f"lower-to-qnn: {op.where()}: {exc}") from None


def _q(value) -> tuple[float, int]:
    el = value.type.element
    if not isinstance(el, QuantizedType):
        raise CompileError(f"lower-to-qnn: {value.type} must be quantized per tensor")
    return el.scale, el.zero_point


def _binary_attrs(op: Operation) -> dict:
    """ADD/SUB/MUL/DIV/SQUARED_DIFFERENCE constants. SQUARED_DIFFERENCE has no fused
    activation (its clamp is the storage type's range)."""
    fn = {tensor.AddOp: elementwise.add_params, tensor.SubOp: elementwise.sub_params,
          tensor.MulOp: elementwise.mul_params, tensor.DivOp: elementwise.div_params,
          tensor.SquaredDifferenceOp: elementwise.squared_difference_params}[type(op)]
    kw = {"act": op.act, "storage": _storage(op.result)} if isinstance(op, NamedActivation) \
        else {"storage": _storage(op.result)}
    return _where(op, fn, *_q(op.operand("lhs")), *_q(op.operand("rhs")), *_q(op.result),
                  **kw).attrs()


def _relu_attrs(op: Operation) -> dict:
    return _where(op, activation.relu_params, *_q(op.operand("input")), *_q(op.result),
                  _storage(op.result)).attrs()


def _relu6_attrs(op: Operation) -> dict:
    return _where(op, activation.relu6_params, *_q(op.operand("input")),
                  _storage(op.result)).attrs()


def _relu_n1_to_1_attrs(op: Operation) -> dict:
    return _where(op, activation.relu_n1_to_1_params, *_q(op.operand("input")),
                  *_q(op.result)).attrs()


def _logistic_attrs(op: Operation) -> dict:
    scale, zp = _q(op.result)
    if abs(scale - 1 / 256) > 1e-9:
        raise CompileError(f"lower-to-qnn: {op.where()}: int8 LOGISTIC output scale must be "
                           f"1/256, got {scale!r}")
    return _where(op, activation.logistic_params, *_q(op.operand("input")),
                  output_zp=zp).attrs()


def _tanh_attrs(op: Operation) -> dict:
    scale, zp = _q(op.result)
    if abs(scale - 1 / 128) > 1e-9 or zp != 0:
        raise CompileError(f"lower-to-qnn: {op.where()}: int8 TANH output must have scale "
                           f"1/128 and zero point 0, got {scale!r}, {zp}")
    return _where(op, activation.tanh_params, *_q(op.operand("input"))).attrs()


def _hard_swish_attrs(op: Operation) -> dict:
    return _where(op, activation.hard_swish_params, *_q(op.operand("input")),
                  *_q(op.result)).attrs()


def _leaky_relu_attrs(op: Operation) -> dict:
    return _where(op, activation.leaky_relu_params, *_q(op.operand("input")), *_q(op.result),
                  op.attrs["alpha"], _storage(op.result)).attrs()


def _prelu_attrs(op: Operation) -> dict:
    return _where(op, activation.prelu_params, *_q(op.operand("input")),
                  *_q(op.operand("alpha")), *_q(op.result)).attrs()


def _mean_attrs(op: Operation) -> dict:
    return _where(op, reduce.mean_params, *_q(op.operand("input")), *_q(op.result),
                  op.operand("input").type.shape, op.attrs["axes"], _storage(op.result)).attrs()


def _sum_attrs(op: Operation) -> dict:
    return _where(op, reduce.sum_params, *_q(op.operand("input")), *_q(op.result),
                  op.operand("input").type.shape, op.attrs["axes"], _storage(op.result)).attrs()


def _cumsum_attrs(op: Operation) -> dict:
    x = op.operand("input")
    keep = {k: op.attrs[k] for k in ("axis", "exclusive", "reverse")}
    return {**keep, **_where(op, reduce.cumsum_params, *_q(x), *_q(op.result),
                             x.type.shape[op.attrs["axis"]]).attrs()}


def _log_softmax_attrs(op: Operation) -> dict:
    return _where(op, softmax.log_softmax_params, _q(op.operand("input"))[0],
                  *_q(op.result)).attrs()


def _l2_normalization_attrs(op: Operation) -> dict:
    # TFLite Micro reads only the input's zero point; the output's 1/128 scale is fixed
    return {"input_zp": _q(op.operand("input"))[1]}


class _LowerWith(RewritePattern):
    """Replace an int8 op by `target` with the attributes `attrs(op)` computes."""

    def __init__(self, root: type[Operation], target: type[Operation], attrs):
        self.root, self.target, self.attrs = root, target, attrs

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        rewriter.replace_op(op, self.target(op.operand_values, [op.result.type], self.attrs(op),
                                            location=op.location))
        return True


class _LowerInt16(RewritePattern):
    """Replace a 16x8 op (int16 input) by `target`, whose algorithm is TFLM's int16 one
    (LOGISTIC, TANH: a different kernel from the int8 gemmlowp curves). Listed before the
    int8 pattern of the same root."""

    def __init__(self, root: type[Operation], target: type[Operation], attrs):
        self.root, self.target, self.attrs = root, target, attrs

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op) or _storage(op.operand("input")) != "i16":
            return False
        rewriter.replace_op(op, self.target(op.operand_values, [op.result.type], self.attrs(op),
                                            location=op.location))
        return True


def _logistic16_attrs(op: Operation) -> dict:
    return _where(op, activation.logistic16_params, *_q(op.operand("input")),
                  *_q(op.result)).attrs()


def _abs16_attrs(op: Operation) -> dict:
    return _where(op, activation.abs16_params, *_q(op.operand("input")), *_q(op.result)).attrs()


def _tanh16_attrs(op: Operation) -> dict:
    return _where(op, activation.tanh16_params, *_q(op.operand("input")), *_q(op.result)).attrs()


class _LowerSoftmax16(RewritePattern):
    """int16 SOFTMAX: the scalar constants, and TFLM's exp and 1 / (1 + x) tables as flash
    resources of the op."""

    root = tensor.SoftmaxOp

    def __init__(self, module: Module):
        self.module = module

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op) or _storage(op.operand("input")) != "i16":
            return False
        attrs = _where(op, softmax.softmax16_params, op.attrs["beta"],
                       *_q(op.operand("input")), *_q(op.result)).attrs()
        # the tables are the same for every softmax: one copy in flash for all of them
        for key, table in zip(("exp_lut", "recip_lut"), softmax.softmax16_luts()):
            name = f"softmax16.{key}"
            if name not in self.module.resources:
                self.module.add_resource(name, table)
            attrs[key] = ResourceRef(name)
        rewriter.replace_op(op, qnn.Softmax16Op(op.operand_values, [op.result.type], attrs,
                                                location=op.location))
        return True


class _LowerTransposeConv(RewritePattern):
    """int8 and 16x8 TRANSPOSE_CONV: the convolutions' per-channel requantization (TFLite
    Micro's PopulateConvolutionQuantizationParams), one table entry per output channel."""

    root = tensor.TransposeConv2DOp

    def __init__(self, module: Module):
        self.module = module

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x = op.operand("input").type.element
        out = op.result.type.element
        scales = scales_of(op.operand("filter").type.element)
        if len(scales) == 1:
            scales = scales * op.result.type.shape[-1]
        mult, shift = _where(op, quantmath.conv_requant_params, x.scale, scales, out.scale)
        attrs = {"input_zp": x.zero_point, "output_zp": out.zero_point,
                 **add_requant(self.module, op, mult, shift), "act": act_clamp(op),
                 "stride": op.attrs["stride"], "pad": op.attrs["pad"]}
        rewriter.replace_op(op, qnn.TransposeConv2DOp(op.operand_values, [op.result.type], attrs,
                                                      location=op.location))
        return True


def _batch_matmul_attrs(op: Operation) -> dict:
    attrs = _where(op, matmul.batch_matmul_params, *_q(op.operand("lhs")), *_q(op.operand("rhs")),
                   *_q(op.result), _storage(op.result)).attrs()
    return {"adj_x": op.attrs["adj_x"], "adj_y": op.attrs["adj_y"], **attrs}


def _storage(value) -> str:
    """The storage type of a quantized value: "i8", or "i16" (16x8 activations)."""
    return str(value.type.element.storage)


class _LowerLstm(RewritePattern):
    """int8 LSTM: TFLite Micro's per-gate constants (`quantmath/lstm.py`)."""

    root = tensor.LstmOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        weight_scales = {kind: {g: _q(op.operand(f"{g}_{kind}_weights"))[0] for g in lstm.GATES}
                         for kind in ("input", "recurrent")}
        params = _where(op, lstm.lstm_params, *_q(op.operand("input")),
                        *_q(op.operand("hidden_state")), _q(op.operand("cell_state"))[0],
                        weight_scales["input"], weight_scales["recurrent"], op.cell_clip,
                        _storage(op.operand("input")))
        rewriter.replace_op(op, qnn.LstmOp(op.operand_values, [r.type for r in op.result_values],
                                           {"time_major": op.time_major, **params.attrs()},
                                           location=op.location))
        return True


class _LowerSvdf(RewritePattern):
    """int8 SVDF: TFLite Micro's two requantizations (`quantmath/svdf.py`)."""

    root = tensor.SvdfOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x, wf, wt, s = (op.operand(f) for f in ("input", "weights_feature", "weights_time",
                                                  "state"))
        bias = op.operand("bias")
        bias_scale = getattr(bias.type.element, "scale", None) if bias is not None else None
        params = _where(op, svdf.svdf_params, *_q(x), _q(wf)[0], _q(wt)[0], *_q(s),
                        *_q(op.result_values[0]), bias_scale, _storage(s))
        rewriter.replace_op(op, qnn.SvdfOp(op.operand_values, [r.type for r in op.result_values],
                                           {"rank": op.rank, **params.attrs()},
                                           location=op.location))
        return True


class _LowerQuantize(RewritePattern):
    """QUANTIZE between integer types (int8, int16) is a requantization; float32 -> int8
    or int16 keeps scale and zero point."""

    root = tensor.QuantizeOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        x = op.operand("input")
        if is_quantized(x.type.element):
            target = qnn.RequantizeOp
            attrs = _where(op, activation.requantize_params, *_q(x), *_q(op.result),
                           _storage(x), _storage(op.result)).attrs()
        else:
            target = qnn.QuantizeOp
            attrs = _where(op, quantize.quantize_params, *_q(op.result),
                           _storage(op.result)).attrs()
        rewriter.replace_op(op, target([x], [op.result.type], attrs, location=op.location))
        return True


class _LowerDequantize(RewritePattern):
    root = tensor.DequantizeOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        x = op.operand("input")
        attrs = _where(op, quantize.dequantize_params, *_q(x), _storage(x)).attrs()
        rewriter.replace_op(op, qnn.DequantizeOp([x], [op.result.type], attrs,
                                                 location=op.location))
        return True


class _LowerSoftmax(RewritePattern):
    root = tensor.SoftmaxOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x = op.operand("input").type.element
        out = op.result.type.element
        # TFLM's int8 softmax writes int8 or (scale 1/65536, zero point -32768) int16
        out_dtype = "int16" if _storage(op.result) == "i16" else "int8"
        attrs = _where(op, softmax.softmax_params, op.attrs["beta"], x.scale, out_dtype,
                       output_scale=out.scale, output_zp=out.zero_point).attrs()
        rewriter.replace_op(op, qnn.SoftmaxOp(op.operand_values, [op.result.type], attrs,
                                              location=op.location))
        return True


class _LowerCompare(RewritePattern):
    """int8 comparisons (their result is bool, so `is_int8` does not see them): TFLite
    Micro's rescaling of both inputs, constants from `compare_params`."""

    root = tensor.CompareOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_quantized(op.operand("lhs").type.element):
            return False
        attrs = {"predicate": op.attrs["predicate"],
                 **_where(op, compare_params, *_q(op.operand("lhs")),
                          *_q(op.operand("rhs")), op.attrs["predicate"].upper()).attrs()}
        rewriter.replace_op(op, qnn.CompareOp(op.operand_values, [op.result.type], attrs,
                                              location=op.location))
        return True


class _LowerToLookup(RewritePattern):
    """int8 functions TFLite Micro evaluates through a 256-entry table (ELU): the table is
    a module resource `<op><index>.table`."""

    def __init__(self, module: Module, root: type[Operation], table_fn):
        self.module, self.root, self.table_fn = module, root, table_fn

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        table = _where(op, self.table_fn, *_q(op.operand("input")), *_q(op.result))
        ref = self.module.add_resource(f"{op_base_name(op)}.table", np.asarray(table, np.int8))
        rewriter.replace_op(op, qnn.LookupOp(op.operand_values, [op.result.type], {"table": ref},
                                             location=op.location))
        return True


def patterns(module: Module) -> list[RewritePattern]:
    return [
        _LowerConv(module, fused.Conv2DOp, qnn.Conv2DOp),
        _LowerConv(module, fused.DepthwiseConv2DOp, qnn.DepthwiseConv2DOp),
        _LowerFullyConnected(module),
        _LowerPool(fused.AvgPool2DOp, qnn.AvgPool2DOp),
        _LowerPool(fused.MaxPool2DOp, qnn.MaxPool2DOp),
        _LowerWith(tensor.AddOp, qnn.AddOp, _binary_attrs),
        _LowerWith(tensor.SubOp, qnn.SubOp, _binary_attrs),
        _LowerWith(tensor.MulOp, qnn.MulOp, _binary_attrs),
        _LowerWith(tensor.DivOp, qnn.DivOp, _binary_attrs),
        _LowerWith(tensor.SquaredDifferenceOp, qnn.SquaredDifferenceOp, _binary_attrs),
        _LowerWith(tensor.ReluOp, qnn.RequantizeOp, _relu_attrs),
        _LowerWith(tensor.Relu6Op, qnn.RequantizeOp, _relu6_attrs),
        _LowerWith(tensor.ReluN1To1Op, qnn.RequantizeOp, _relu_n1_to_1_attrs),
        _LowerInt16(tensor.LogisticOp, qnn.Logistic16Op, _logistic16_attrs),
        _LowerInt16(tensor.TanhOp, qnn.Tanh16Op, _tanh16_attrs),
        _LowerWith(tensor.LogisticOp, qnn.LogisticOp, _logistic_attrs),
        _LowerWith(tensor.TanhOp, qnn.TanhOp, _tanh_attrs),
        _LowerWith(tensor.HardSwishOp, qnn.HardSwishOp, _hard_swish_attrs),
        _LowerWith(tensor.LeakyReluOp, qnn.LeakyReluOp, _leaky_relu_attrs),
        _LowerWith(tensor.PreluOp, qnn.PreluOp, _prelu_attrs),
        _LowerWith(tensor.MeanOp, qnn.MeanOp, _mean_attrs),
        _LowerQuantize(),
        _LowerDequantize(),
        _LowerSoftmax16(module),
        _LowerSoftmax(),
        _LowerTransposeConv(module),
        _LowerWith(tensor.BatchMatmulOp, qnn.BatchMatmulOp, _batch_matmul_attrs),
        _LowerCompare(),
        _LowerWith(tensor.SumOp, qnn.SumOp, _sum_attrs),
        _LowerToLookup(module, tensor.EluOp, elu_table),
        _LowerInt16(tensor.AbsOp, qnn.Abs16Op, _abs16_attrs),
        _LowerToLookup(module, tensor.AbsOp, abs_table),
        _LowerToLookup(module, tensor.RsqrtOp, rsqrt_table),
        _LowerWith(tensor.L2NormalizationOp, qnn.L2NormalizationOp, _l2_normalization_attrs),
        _LowerWith(tensor.LogSoftmaxOp, qnn.LogSoftmaxOp, _log_softmax_attrs),
        _LowerWith(tensor.CumsumOp, qnn.CumsumOp, _cumsum_attrs),
        _LowerSvdf(),
        _LowerLstm(),
    ]


@register_pass
@dataclass(frozen=True)
class LowerToQnn(Pass):
    """Lower int8 ops to integer-only `qnn` ops with compile-time requantization constants."""

    name = "lower-to-qnn"

    def run(self, module: Module) -> None:
        apply_patterns_greedily(module, patterns(module), max_iterations=1)
        for op in module.walk():
            if op.name.startswith(("fused.", "tensor.")) and is_int8(op) and \
                    not isinstance(op, NON_QNN_INT8_OPS):
                raise CompileError(f"{self.name}: no integer lowering for {op.where()}")
