"""Which kernel calls may write their output over one of their inputs (in place), or
partly over their data input (overlap).

Both are properties of a kernel's loop order, so both are read from its record in the
kernel table (`runtime/kernels.py`: `in_place` names the operand fields whose buffer the
output may share, `overlap` marks sliding-window kernels), each backed by the contract the
kernel's header documents in `runtime/`:

- elementwise binary kernels (int8 add/sub/mul/maximum/minimum, their float32 twins):
  the output may alias an input *that has the output's shape* (each output element is
  written after the inputs it depends on were read, and an input of the output's shape
  is read only at indices not yet written);
- unary activations and requantization (int8 and float32), prelu only over its `input`
  (not the broadcast alpha);
- softmax (int8 and float32): a row's inputs are read (max first) before that row's
  outputs are written.

Convolutions, fully connected, pooling, mean and data movement read inputs after writing
outputs and carry no `in_place` fields. Besides the record, the aliased input must have
exactly the output's shape and byte size (which also rules out int8 softmax with int16
output, quantize and dequantize): `may_alias` checks both.

`overlap` kernels may have their output start at least `min_overlap_offset` bytes before
their data input (passes/planning/overlap.py; used by the pass `overlap-buffers` and
accepted by the IR-level checker). Each documents the access-order contract in its header
("Access order (relied on by overlap-buffers)"): output elements written in increasing
(batch, row, column, channel) order, the pixels of output row `oy` reading only input
rows >= `oy * stride_h - pad_top`, every read of an element done before the writes that
follow it in that order, and input and output never `restrict`-qualified against each
other. A kernel rewritten in another loop order (e.g. output channels outermost) must
lose the flag. `call_overlap_offset` is the one place that turns a call into the
formula's arguments.

A depthwise (multiplier 1) or pooling kernel whose record also has `overlap_channelwise`
keeps the pixel order within every channel as well, which allows smaller offsets that are
a whole number of pixels (`channelwise_overlap_pixels`); `call_overlap_rule` gives both.
A kernel with `overlap_reverse` may instead run its rows in reverse, its output ending at
least `call_reverse_overlap` bytes after the input ends (the call's `reverse` attribute
says which order it runs). A kernel with `in_place_pixel` may run a channel-keeping 1x1
convolution right over its input given a two-pixel scratch buffer (`call_pixel_in_place`
says how many bytes; the call passes it as its scratch).
"""

from __future__ import annotations

from utc.compiler.ir import Value
from utc.runtime.kernels import KERNELS, KERNELS_BY_NAME

from .overlap import OverlapRule, channelwise_overlap_pixels, min_overlap_offset, min_reverse_overlap

#: Kernels whose output may start below their data input and overlap it.
OVERLAP_SAFE_KERNELS: frozenset[str] = frozenset(k.name for k in KERNELS if k.overlap)


def aliasable_inputs(callee: str) -> list[int]:
    """Positions (in the call's input list) of the operands kernel `callee`'s record
    allows the output to reuse; empty when the kernel may not run in place."""
    kernel = KERNELS_BY_NAME.get(callee)
    if kernel is None or not kernel.in_place:
        return []
    op_cls = kernel.op[0] if isinstance(kernel.op, tuple) else kernel.op
    out = []
    for i, spec in enumerate(op_cls.operands):
        if spec.endswith("*"):
            break
        if spec.rstrip("?") in kernel.in_place:
            out.append(i)
    return out


def may_alias(callee: str, index: int, input_value: Value, output_value: Value) -> bool:
    """May the output `output_value` of a call of kernel `callee` share the buffer of its
    input number `index` (`input_value`)? Needs the record's `in_place` and identical
    shape and bytes."""
    if index not in aliasable_inputs(callee):
        return False
    a, b = input_value.type, output_value.type
    return tuple(a.shape) == tuple(b.shape) and a.byte_size == b.byte_size


def may_move_over(callee: str) -> bool:
    """May the output of a call of kernel `callee` overlap its data input anywhere? Only for
    a kernel whose record has `move` (memmove semantics)."""
    kernel = KERNELS_BY_NAME.get(callee)
    return bool(kernel and kernel.move)


def call_overlap_offset(callee: str, attrs: dict, index: int, input_value: Value,
                        output_value: Value) -> int | None:
    """The least `input_start - output_start` (bytes) from which on every offset lets the
    output `output_value` of a call of kernel `callee` (with kernel parameters `attrs`)
    overlap its input number `index` (`input_value`): the row-granular bound, recomputed
    from the shapes and the `stride` and `pad` parameters alone; None when they may not
    overlap at all: the kernel is not on `OVERLAP_SAFE_KERNELS`, the input is not its data
    input (operand 0), the shapes are not NHWC with batch 1, or the element sizes differ.
    `call_overlap_rule` adds the channel-wise offsets below it."""
    rule = call_overlap_rule(callee, attrs, index, input_value, output_value)
    return None if rule is None else rule.row_bytes


def call_overlap_rule(callee: str, attrs: dict, index: int, input_value: Value,
                      output_value: Value) -> OverlapRule | None:
    """Every offset at which the call's output may start below its input (see
    `call_overlap_offset`): the row-granular bound, and for a kernel whose record has
    `overlap_channelwise` and as many output as input channels, the channel-wise
    offsets (passes/planning/overlap.py)."""
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
    in_shape, out_shape = tuple(a.shape), tuple(b.shape)
    row = min_overlap_offset(in_shape, out_shape, int(stride[0]), int(pad[0]), size)
    if not KERNELS_BY_NAME[callee].overlap_channelwise or in_shape[3] != out_shape[3]:
        return OverlapRule(row)
    # pad is (top, bottom, left, right)
    k = channelwise_overlap_pixels(in_shape, out_shape, (int(stride[0]), int(stride[1])),
                                   (int(pad[0]), int(pad[2])))
    channel = in_shape[3] * size
    return OverlapRule(row, channel, k * channel)


def call_reverse_overlap(callee: str, attrs: dict, input_value: Value, output_value: Value,
                         filter_value: Value | None) -> int | None:
    """The least `output_end - input_end` (bytes) at which the output of a call of kernel
    `callee` may overlap its data input when the call runs its rows in reverse
    (`min_reverse_overlap`); None when the kernel has no `overlap_reverse`, the shapes are
    not NHWC with batch 1, the element sizes differ, or the filter (whose height and the
    `dilation` give the window) is missing."""
    kernel = KERNELS_BY_NAME.get(callee)
    if kernel is None or not kernel.overlap_reverse or filter_value is None:
        return None
    a, b = input_value.type, output_value.type
    if len(a.shape) != 4 or len(b.shape) != 4 or a.shape[0] != 1 or b.shape[0] != 1:
        return None
    size = a.element.byte_width
    stride, pad, dilation = attrs.get("stride"), attrs.get("pad"), attrs.get("dilation")
    if size != b.element.byte_width or size < 1 or len(filter_value.type.shape) != 4 \
            or not all(isinstance(x, tuple | list) for x in (stride, pad, dilation)):
        return None
    window_h = (int(filter_value.type.shape[1]) - 1) * int(dilation[0]) + 1
    return min_reverse_overlap(tuple(a.shape), tuple(b.shape), int(stride[0]), int(pad[0]),
                               window_h, size)


def call_pixel_in_place(callee: str, attrs: dict, input_value: Value, output_value: Value,
                        filter_value: Value | None) -> int | None:
    """The bytes of the pixel buffer (two pixels of in_c elements, one when the tensor has
    a single pixel) with which a call of kernel `callee` may run in place, its output
    starting on its data input or below it (the record's `in_place_pixel`: each pair of
    input pixels copied before their outputs are written; runtime/utc_conv_s8.h); None
    when the kernel has no such contract, the filter is not 1x1, the call pads, or input
    and output differ in shape or element (batch 1, NHWC)."""
    kernel = KERNELS_BY_NAME.get(callee)
    if kernel is None or not kernel.in_place_pixel or filter_value is None:
        return None
    a, b = input_value.type, output_value.type
    if len(a.shape) != 4 or a.shape[0] != 1 or tuple(a.shape) != tuple(b.shape) \
            or a.element.byte_width != b.element.byte_width or a.byte_size != b.byte_size:
        return None
    pad, w = attrs.get("pad"), filter_value.type.shape
    if not isinstance(pad, tuple | list) or any(int(x) for x in pad) or len(w) != 4 \
            or tuple(int(x) for x in w[1:3]) != (1, 1):
        return None
    pixels = 2 if int(a.shape[1]) * int(a.shape[2]) > 1 else 1  # the kernels take pairs
    return pixels * int(a.shape[3]) * a.element.byte_width
