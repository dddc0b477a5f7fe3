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

**Channel-wise overlap.** Depthwise convolution (depth multiplier 1) and pooling compute
output channel `c` from input channel `c` alone. A kernel whose record has
`overlap_channelwise` also keeps, for every single channel, the pixel order: output pixels
of one channel are written in increasing (row, column) order, and every read of an input
element of channel `c` made for output pixel `P` happens before the write of channel `c`
of pixel `P` and of every later pixel (channel blocks may be outermost, and a kernel may
read the windows of a few pixels before writing them). When the output starts
`d = k * C * e` bytes before the input (`C` channels of `e` bytes, the same on both
sides), the output element `(P, c)` lands exactly on the input element `(P - k, c)`, of
the same channel; so it is correct as soon as no output pixel `P` reads an input pixel
below `P - k`:

    k  >=  max over output pixels P of (P - first(P)),

where `P` and `first(P)` are linear pixel indices (`oy * Wo + ox` and `iy * Wi + ix`) and
`first(P)` is the top-left tap of `P`'s window, clamped into the input (its lowest
address). Every larger `k` is safe too. The bound is pixel-granular: a stride-2
depthwise convolution may start right on its input (`k = 0`), where the row-granular
formula asks for one output row; a 3x3 stride-1 one needs `Wi + 1` pixels instead of two
rows. Offsets that are not a multiple of `C * e` mix channels and fall back to the row
formula. `OverlapRule` holds both and answers which offsets are allowed.

**Reverse order.** A kernel whose record has `overlap_reverse` runs its output rows in
decreasing order when the call says `reverse` (the mirror image of the contract above:
from the first write to output row `oy` on it reads only input rows below
`e(oy) = min(Hi, max(0, oy*stride_h - pad_top + window_h))`, `window_h` being the dilated
filter height). Its output may then END `u` bytes after the input ends, the two
overlapping, where the rows it has written (the top `(Ho - oy)` rows of the output) stay
above every byte it still reads:

    u  >=  ((Ho - oy) * Wo*Co  -  (Hi - e(oy)) * Wi*Ci) * e      for every oy,

and `u >= 0` (`min_reverse_overlap`). For a layer keeping its size that is the same
distance as forward, in the other direction: a chain of forward layers slides down
through memory, and a reverse layer in it slides back up.

**In place with a two-pixel buffer.** A 1x1 unpadded convolution keeping the input's
shape needs a whole row either way; a kernel that copies each pair of input pixels into
a buffer of `2 C e` bytes before writing them (the record's `in_place_pixel`) needs
`d >= 0`: its output may sit exactly on its input, at the price of that buffer
(`call_pixel_in_place`, passes/planning/aliasing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd


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


def min_reverse_overlap(in_shape: Sequence[int], out_shape: Sequence[int], stride_h: int,
                        pad_top: int, window_h: int, elem_size: int) -> int:
    """The least `u = output_end - input_end` (bytes, >= 0) at which a kernel running its
    rows in reverse (module docstring) computes the right output when its output overlaps
    its input. NHWC shapes, batch 1; `window_h` is the dilated filter (or pool window)
    height, `(kh - 1) * dil_h + 1`."""
    if len(in_shape) != 4 or len(out_shape) != 4:
        raise ValueError(f"expected NHWC shapes, got {list(in_shape)} and {list(out_shape)}")
    if in_shape[0] != 1 or out_shape[0] != 1:
        raise ValueError("only batch 1 is supported")
    if stride_h < 1 or elem_size < 1 or window_h < 1:
        raise ValueError(f"stride_h, window_h and elem_size must be >= 1, got {stride_h}, "
                         f"{window_h}, {elem_size}")
    _, in_h, in_w, in_c = (int(x) for x in in_shape)
    _, out_h, out_w, out_c = (int(x) for x in out_shape)
    in_row, out_row = in_w * in_c, out_w * out_c
    need = 0
    for oy in range(out_h):
        end_row = min(in_h, max(0, oy * stride_h - pad_top + window_h))
        need = max(need, (out_h - oy) * out_row - (in_h - end_row) * in_row)
    return need * elem_size


def channelwise_overlap_pixels(in_shape: Sequence[int], out_shape: Sequence[int],
                               stride: Sequence[int], pad_top_left: Sequence[int]) -> int:
    """The least `k >= 0` (pixels) such that an output starting `k * C * e` bytes before its
    input is correct for a kernel honouring the channel-wise order (module docstring): the
    largest `P - first(P)` over output pixels `P`. NHWC shapes, batch 1, equal channel
    counts; `stride` and `pad_top_left` are (h, w) pairs."""
    if len(in_shape) != 4 or len(out_shape) != 4:
        raise ValueError(f"expected NHWC shapes, got {list(in_shape)} and {list(out_shape)}")
    if in_shape[0] != 1 or out_shape[0] != 1:
        raise ValueError("only batch 1 is supported")
    if in_shape[3] != out_shape[3]:
        raise ValueError("channel-wise overlap needs as many output as input channels")
    _, in_h, in_w, _ = (int(x) for x in in_shape)
    _, out_h, out_w, _ = (int(x) for x in out_shape)
    sh, sw = (int(x) for x in stride)
    pt, pl = (int(x) for x in pad_top_left)
    if sh < 1 or sw < 1:
        raise ValueError(f"strides must be >= 1, got {sh}, {sw}")
    # P - first(P) = oy*Wo + ox - (row(oy)*Wi + col(ox)); rows and columns separate, so
    # the maximum is the sum of each part's maximum
    rows = max(oy * out_w - min(in_h - 1, max(0, oy * sh - pt)) * in_w for oy in range(out_h))
    cols = max(ox - min(in_w - 1, max(0, ox * sw - pl)) for ox in range(out_w))
    return max(0, rows + cols)


@dataclass(frozen=True)
class OverlapRule:
    """Which offsets `d = input_start - output_start` (bytes) a call's output may start
    below its input at: every `d >= row_bytes` (the row-granular contract), and, for a
    channel-wise kernel, every multiple of `channel_bytes` (`C * e`) from `channel_min`
    (`k * C * e`) on."""

    row_bytes: int
    channel_bytes: int | None = None
    channel_min: int | None = None

    def allows(self, d: int) -> bool:
        if d >= self.row_bytes:
            return True
        return (self.channel_bytes is not None and d >= self.channel_min
                and d % self.channel_bytes == 0)

    def least(self, base: int, alignment: int) -> int:
        """The least `extra >= 0`, a multiple of `alignment`, with `base + extra` allowed
        (`base`: the part of the offset already fixed by where the input sits in its own
        buffer)."""
        best = align_up(max(0, self.row_bytes - base), alignment)
        if self.channel_bytes is None:
            return best
        period = self.channel_bytes * alignment // gcd(self.channel_bytes, alignment)
        # the first multiple of `alignment` that brings base + extra onto the channel grid
        first = next((t * alignment for t in range(period // alignment)
                      if (base + t * alignment) % self.channel_bytes == 0), None)
        if first is None:
            return best
        low = max(0, self.channel_min - base)
        extra = first + max(0, -(-(low - first) // period)) * period
        return min(best, extra)


def align_up(value: int, alignment: int) -> int:
    """`value` rounded up to a multiple of `alignment` (>= 1)."""
    return -(-value // alignment) * alignment
