"""`lower-to-qnn`: int8 ops become integer-only `qnn` ops with every requantization
constant computed at compile time (TFLite Micro's double-rounding arithmetic, see
`compiler/quantmath.py`). Float ops are left alone: they skip this level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from utc.compiler import quantmath
from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Operation, PerAxisQuantizedType, QuantizedType, is_quantized
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import fused, qnn, tensor

#: int8 ops that stay at the tensor level: dtype-agnostic data movement and constants.
NON_QNN_INT8_OPS = (tensor.ConstantOp, tensor.ReshapeOp)


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
    """A stable prefix for the resources an op owns, e.g. `conv_2d3`."""
    if op.location.sources:
        index, _ = op.location.sources[0]
        return f"{op.name.split('.')[-1]}{index}"
    return op.name.split(".")[-1]


def add_requant(module: Module, op: Operation, mult: np.ndarray, shift: np.ndarray) -> dict:
    base = op_base_name(op)
    return {
        "mult": module.add_resource(f"{base}.mult", np.asarray(mult, np.int32)),
        "shift": module.add_resource(f"{base}.shift", np.asarray(shift, np.int32)),
    }


def act_clamp(op: Operation) -> tuple[int, int]:
    out = op.result.type.element
    return quantmath.activation_range_int8(op.attrs["act"], out.scale, out.zero_point)


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
        mult, shift = quantmath.conv_requant_params(x.scale, scales, out.scale)
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
        mult, shift = quantmath.fc_requant_params(x.scale, scales_of(w), out.scale)
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


class _LowerAdd(RewritePattern):
    root = tensor.AddOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        a = op.operand("lhs").type.element
        b = op.operand("rhs").type.element
        out = op.result.type.element
        attrs = {"lhs_zp": a.zero_point, "rhs_zp": b.zero_point, "output_zp": out.zero_point,
                 **quantmath.add_params(a.scale, b.scale, out.scale), "act": act_clamp(op)}
        rewriter.replace_op(op, qnn.AddOp(op.operand_values, [op.result.type], attrs,
                                          location=op.location))
        return True


class _LowerSoftmax(RewritePattern):
    root = tensor.SoftmaxOp

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        if not is_int8(op):
            return False
        x = op.operand("input").type.element
        attrs = quantmath.softmax_params(op.attrs["beta"], x.scale)
        rewriter.replace_op(op, qnn.SoftmaxOp(op.operand_values, [op.result.type], attrs,
                                              location=op.location))
        return True


def patterns(module: Module) -> list[RewritePattern]:
    return [
        _LowerConv(module, fused.Conv2DOp, qnn.Conv2DOp),
        _LowerConv(module, fused.DepthwiseConv2DOp, qnn.DepthwiseConv2DOp),
        _LowerFullyConnected(module),
        _LowerPool(fused.AvgPool2DOp, qnn.AvgPool2DOp),
        _LowerPool(fused.MaxPool2DOp, qnn.MaxPool2DOp),
        _LowerAdd(),
        _LowerSoftmax(),
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
