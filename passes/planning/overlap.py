"""How far below its input a sliding-window kernel's output may start and still be correct.

A convolution, depthwise convolution or pooling kernel that honours the access-order
contract of its header (runtime/utc_conv_s8.h and friends: output elements written in
increasing (batch, row, column, channel) order, every read of an output pixel in row `oy`
at or after input row `oy * stride_h - pad_top`, all reads of an element done before
writes that follow it, and no `restrict` between input and output) may have its output
buffer begin `d` bytes *before* its input buffer, the two overlapping, provided no byte it
writes is read afterwards. With batch 1, NHWC, element size `e`, `Wo*Co` output elements
per output row and `Wi*Ci` input elements per input row, the bytes written for output rows
up to `oy` end at `out + (oy+1) * Wo*Co * e`, and every later read lies at or above
`in + max(0, oy*stride_h - pad_top) * Wi*Ci * e`, so it suffices that for every `oy`

    d  >=  ((oy+1) * Wo*Co  -  max(0, oy*stride_h - pad_top) * Wi*Ci) * e,

and `d >= 0`. Rows are a conservative granularity: inside row `oy`, pixel `(oy, ox)`
writes below the row's end and every read from then on lies at or above the row's first
read, so the bound is safe there too, and it is tight to within one output row (the first
element of row `oy` is written before later reads of the same first input row).
Dilation does not change it: the first input row an output row reads is still its top
tap `oy*stride_h - pad_top` (or 0 in the padding), later taps read later rows. The first
input row is also clamped to the input's height, which only makes the bound larger.

`min_overlap_offset` is a pure function of the shapes; the pass `overlap-buffers` uses it
to group an input that dies at such a call with the call's output, and the IR-level plan
checker (verify_ir.py) recomputes it from the call alone to accept exactly that overlap.
"""

from __future__ import annotations

from collections.abc import Sequence


def min_overlap_offset(in_shape: Sequence[int], out_shape: Sequence[int], stride_h: int,
                       pad_top: int, elem_size: int) -> int:
    """The least `d = input_start - output_start` (bytes, >= 0) at which a sliding-window
    kernel honouring the access-order contract computes the right output when its output
    overlaps its input. NHWC shapes, batch 1; `elem_size` is the byte size of one element
    of input and output alike."""
    if len(in_shape) != 4 or len(out_shape) != 4:
        raise ValueError(f"expected NHWC shapes, got {list(in_shape)} and {list(out_shape)}")
    if in_shape[0] != 1 or out_shape[0] != 1:
        raise ValueError("only batch 1 is supported")
    if stride_h < 1 or elem_size < 1:
        raise ValueError(f"stride_h and elem_size must be >= 1, got {stride_h}, {elem_size}")
    _, in_h, in_w, in_c = (int(x) for x in in_shape)
    _, out_h, out_w, out_c = (int(x) for x in out_shape)
    in_row, out_row = in_w * in_c, out_w * out_c
    need = 0
    for oy in range(out_h):
        first_read_row = min(in_h, max(0, oy * stride_h - pad_top))
        need = max(need, (oy + 1) * out_row - first_read_row * in_row)
    return need * elem_size


def align_up(value: int, alignment: int) -> int:
    """`value` rounded up to a multiple of `alignment` (>= 1)."""
    return -(-value // alignment) * alignment
