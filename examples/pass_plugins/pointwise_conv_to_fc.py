"""A utc pass plugin: lower pointwise int8 convolutions to fully connected layers.

A 1x1 convolution with stride 1 and no padding computes, for every pixel of its input
independently, one matrix-vector product of the pixel's C channels with the O x C
filter. That is exactly what a fully connected layer does to the N*H*W rows of C values
the same bytes hold: the pixel layout (NHWC) puts each pixel's channels next to each
other, so no data moves. This pass rewrites such `qnn.conv2d` ops into
`qnn.fully_connected` ops, so kernel selection picks a fully connected kernel
(`utc_fully_connected_s8`, or CMSIS-NN's `arm_fully_connected_per_channel_s8`)
instead of a convolution kernel.

It runs on the `qnn` level, right after `lower-to-qnn`, for a reason that matters for
bit-exactness: there, the convolution's requantization multipliers and shifts are
already computed the way TFLite Micro computes them for CONV_2D, and the new op simply
keeps them. (Lowering earlier, at the `fused` level, would let `lower-to-qnn` compute
them with TFLite Micro's FULLY_CONNECTED formula, whose float rounding differs in the
last bit for some scales.) Both kernels then compute the same integer arithmetic, so the
output stays bit-exact with TFLite Micro, which still runs the model's CONV_2D.

    utc compile model.tflite -o out --load-pass-plugin examples/pass_plugins/pointwise_conv_to_fc.py \
        --pipeline "canonicalize,...,lower-to-qnn,pointwise-conv-to-fc,fold-zero-point,..."

docs/writing-a-pass.md walks through this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module, Operation
from utc.compiler.pass_manager import Pass, register_pass
from utc.compiler.rewrite import RewritePattern, Rewriter, apply_patterns_greedily
from utc.dialects import qnn, tensor


class PointwiseConvToFullyConnected(RewritePattern):
    """qnn.conv2d with a 1x1 filter, stride 1, no padding -> qnn.fully_connected."""

    root = qnn.Conv2DOp  # the driver offers this pattern qnn.conv2d ops only

    def __init__(self, module: Module, max_rows: int = 1) -> None:
        self.module = module  # new weights are module resources
        self.max_rows = max_rows

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        # 1. match: return False (and change nothing) unless the rewrite is exact
        units, kh, kw, depth = op.filter.type.shape
        if (kh, kw) != (1, 1) or op.stride != (1, 1) or op.pad != (0, 0, 0, 0):
            return False
        rows = op.input.type.num_elements // depth  # pixels: N * H * W
        if self.max_rows and rows > self.max_rows:
            return False
        if "kernel" in op.attrs or "zp_bias" in op.attrs:
            return False  # too late: select-kernels or fold-zero-point already ran
        producer = getattr(op.filter, "op", None)  # an OpResult's defining op
        if not isinstance(producer, tensor.ConstantOp):
            return False  # weights computed at run time: not a pointwise layer we know
        element = op.filter.type.element  # per-channel (zero_points) or per-tensor
        if any(getattr(element, "zero_points", None) or (element.zero_point,)):
            return False  # TFLite's int8 weights are symmetric; keep anything else as is

        # 2. build: the weights as [units, depth] (the same bytes, a new shape) ...
        old = self.module.resources[producer.value.name]
        weights_type = op.filter.type.with_shape((units, depth))
        ref = self.module.add_resource(f"{producer.value.name}.fc",
                                       self.module.resource_data(producer.value)
                                       .reshape(units, depth),
                                       old.type.with_shape((units, depth)))
        weights = tensor.ConstantOp.build(value=ref, result=weights_type,
                                          location=producer.location)
        rewriter.insert_before(op, weights)
        weights.result.name_hint = f"{op.filter.name_hint or 'weights'}_fc"
        # ... and the fully connected op, keeping the convolution's zero points,
        # requantization constants (module resources), clamp and TFLite location
        fc = qnn.FullyConnectedOp.build(
            input=op.input, weights=weights.result, bias=op.bias, output=op.output.type,
            input_zp=op.input_zp, weights_zp=0, output_zp=op.output_zp, mult=op.mult,
            shift=op.shift, act=op.act, location=op.location)

        # 3. replace: every use of the convolution's result now reads the new op's
        rewriter.replace_op(op, fc)
        if not producer.result.uses:  # the 4-D filter constant is dead: drop it
            rewriter.erase_op(producer)
            if producer.value.name not in self.module.referenced_resources():
                del self.module.resources[producer.value.name]
        return True


@register_pass
@dataclass(frozen=True)
class PointwiseConvToFC(Pass):
    """Lower int8 1x1 convolutions (stride 1, no padding) to fully connected layers."""

    name = "pointwise-conv-to-fc"
    #: rewrite only convolutions over at most this many pixels (0: any). The default, 1,
    #: is a classifier head after global pooling, where CMSIS-NN's fully connected kernel
    #: takes 2.4x fewer instructions than its 1x1 convolution on Cortex-M4; over many
    #: pixels the 1x1 convolution kernel is the faster one (docs/writing-a-pass.md)
    max_rows: int = 1

    def __post_init__(self) -> None:
        if self.max_rows < 0:
            raise ValueError(f"max-rows must be 0 (any) or more, got {self.max_rows}")

    def run(self, module: Module) -> None:
        apply_patterns_greedily(module, [PointwiseConvToFullyConnected(module, self.max_rows)])
