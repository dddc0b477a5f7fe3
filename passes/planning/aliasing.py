"""Which kernel calls may write their output over one of their inputs (in place).

An explicit allow-list keyed by the op class a `buf.call` was bufferized from (its `op`
attribute), naming the operand fields whose buffer the output may share. Every entry is
backed by the contract its kernels document in `runtime/`:

- elementwise binary ops (int8 `qnn.add/sub/mul`, `tensor.maximum/minimum`; float32
  `tensor.add/sub/mul/maximum/minimum`): utc_elementwise_s8.h / utc_elementwise_f32.h /
  utc_quant_ext.h state that the output may alias an input *that has the output's shape*
  (each output element is written after the inputs it depends on were read, and an input
  of the output's shape is read only at indices not yet written);
- unary activations and requantization (int8 `qnn.requantize/logistic/tanh/hard_swish/
  leaky_relu/prelu`, float32 `tensor.relu/relu6/relu_n1_to_1/logistic/tanh/hard_swish/
  leaky_relu/prelu`): utc_activation_s8.h / utc_activation_f32.h ("output may alias
  input"), prelu only over its `input` (not the broadcast alpha);
- softmax (int8 `qnn.softmax`, float32 `tensor.softmax`): utc_softmax_s8.h documents it;
  the float kernel reads a row's inputs (max first) before writing that row's outputs.

Conv, depthwise conv, fully connected, pooling, mean and data movement read inputs after
writing outputs and are absent on purpose. Any kernel later bound to one of the op
classes below must honour the same contract. Besides the allow-list, the aliased input
must have exactly the output's shape and byte size (which also rules out int8 softmax with
int16 output, quantize and dequantize): `may_alias` checks both.

A second, separate allow-list, `OVERLAP_SAFE_KERNELS`, names the sliding-window kernels
(by kernel name, since the property is one of the loop order of a kernel, not of the op)
whose output may *partly* overlap their data input, starting at least
`min_overlap_offset` bytes before it (passes/planning/overlap.py; used by the pass
`overlap-buffers` and accepted by the IR-level checker). Each of them documents the
access-order contract in its header ("Access order (relied on by overlap-buffers)"):
output elements written in increasing (batch, row, column, channel) order, the pixels of
output row `oy` reading only input rows >= `oy * stride_h - pad_top`, every read of an
element done before the writes that follow it in that order, and input and output never
`restrict`-qualified against each other. A kernel rewritten in another loop order (e.g.
output channels outermost) must leave this list. `call_overlap_offset` is the one place
that turns a call into the formula's arguments.
"""

from __future__ import annotations

from utc.compiler.ir import OP_REGISTRY, Operation, Value
from utc.dialects import qnn, tensor

_BINARY = ("lhs", "rhs")
_UNARY = ("input",)

#: op class -> operand fields whose buffer the output may reuse.
ALIAS_SAFE: dict[type[Operation], tuple[str, ...]] = {
    qnn.AddOp: _BINARY,
    qnn.SubOp: _BINARY,
    qnn.MulOp: _BINARY,
    tensor.AddOp: _BINARY,
    tensor.SubOp: _BINARY,
    tensor.MulOp: _BINARY,
    tensor.MaximumOp: _BINARY,
    tensor.MinimumOp: _BINARY,
    qnn.RequantizeOp: _UNARY,
    qnn.LogisticOp: _UNARY,
    qnn.TanhOp: _UNARY,
    qnn.HardSwishOp: _UNARY,
    qnn.LeakyReluOp: _UNARY,
    qnn.PreluOp: _UNARY,
    tensor.ReluOp: _UNARY,
    tensor.Relu6Op: _UNARY,
    tensor.ReluN1To1Op: _UNARY,
    tensor.LogisticOp: _UNARY,
    tensor.TanhOp: _UNARY,
    tensor.HardSwishOp: _UNARY,
    tensor.LeakyReluOp: _UNARY,
    tensor.PreluOp: _UNARY,
    qnn.SoftmaxOp: _UNARY,
    tensor.SoftmaxOp: _UNARY,
}


def aliasable_inputs(op_name: str) -> list[int]:
    """Positions (in the call's input list) of the operands the allow-list names for the
    op called `op_name`; empty when the op may not run in place."""
    cls = OP_REGISTRY.get(op_name)
    fields = ALIAS_SAFE.get(cls) if cls is not None else None
    if not fields:
        return []
    out = []
    for i, spec in enumerate(cls.operands):
        if spec.endswith("*"):
            break
        if spec.rstrip("?") in fields:
            out.append(i)
    return out


def may_alias(op_name: str, index: int, input_value: Value, output_value: Value) -> bool:
    """May the output `output_value` of a call of `op_name` share the buffer of its input
    number `index` (`input_value`)? Needs the allow-list and identical shape and bytes."""
    if index not in aliasable_inputs(op_name):
        return False
    a, b = input_value.type, output_value.type
    return tuple(a.shape) == tuple(b.shape) and a.byte_size == b.byte_size


#: Kernels whose output may start below their data input and overlap it (see the module
#: docstring and passes/planning/overlap.py), each backed by the "Access order" comment
#: of its header: utc_conv2d_s8.h, utc_depthwise_conv2d_s8.h, utc_pool_s8.h,
#: utc_conv_f32.h, utc_misc_f32.h.
OVERLAP_SAFE_KERNELS: frozenset[str] = frozenset({
    "utc_conv2d_s8",
    "utc_depthwise_conv2d_s8",
    "utc_avg_pool_s8",
    "utc_max_pool_s8",
    "utc_conv2d_f32",
    "utc_depthwise_conv2d_f32",
    "utc_avg_pool_f32",
    "utc_max_pool_f32",
})


def call_overlap_offset(callee: str, attrs: dict, index: int, input_value: Value,
                        output_value: Value) -> int | None:
    """The least `input_start - output_start` (bytes) at which the output `output_value`
    of a call of kernel `callee` (with kernel parameters `attrs`) may overlap its input
    number `index` (`input_value`), recomputed from the shapes and the `stride` and `pad`
    parameters alone; None when they may not overlap at all: the kernel is not on
    `OVERLAP_SAFE_KERNELS`, the input is not its data input (operand 0), the shapes are not
    NHWC with batch 1, or the element sizes differ."""
    from .overlap import min_overlap_offset

    if callee not in OVERLAP_SAFE_KERNELS or index != 0:
        return None
    a, b = input_value.type, output_value.type
    if len(a.shape) != 4 or len(b.shape) != 4 or a.shape[0] != 1 or b.shape[0] != 1:
        return None
    size = a.element.byte_width
    if size != b.element.byte_width or size < 1:
        return None
    stride, pad = attrs.get("stride"), attrs.get("pad")
    if not isinstance(stride, tuple | list) or not isinstance(pad, tuple | list) \
            or len(stride) != 2 or len(pad) != 4:
        return None
    return min_overlap_offset(tuple(a.shape), tuple(b.shape), int(stride[0]), int(pad[0]), size)
