"""Overlapping a sliding-window kernel's output with its dying input
(passes/planning/overlap.py, the `overlap` flag of the kernel records in runtime/kernels.py):

- `min_overlap_offset` on hand-computed cases;
- a brute-force checker that simulates the kernels' access order element by element on
  small shapes and confirms the formula is safe (for the reference loop order and for a
  row-major order with channel blocks outermost inside a row, which the header contract
  also allows) and, for the reference order, tight to within one output row plus one
  horizontal input stride;
- every kernel with the `overlap` flag (`OVERLAP_SAFE_KERNELS`), run through ctypes with its output starting
  exactly `min_overlap_offset` bytes before its input in one buffer, gives the bytes it
  gives with separate buffers (this is the test that tells a kernel rewrite broke the
  header's access-order contract).
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.ir import F32, MemRefType, Value
from utc.dialects import fused, qnn
from utc.passes.fold_zero_point import zero_point_bias
from utc.passes.planning.aliasing import OVERLAP_SAFE_KERNELS, call_overlap_offset, call_overlap_rule
from utc.passes.planning.overlap import (
    OverlapRule,
    align_up,
    channelwise_overlap_pixels,
    min_overlap_offset,
    min_reverse_overlap,
)
from utc.runtime.kernels import KERNELS

from tests.kernel_harness import load_kernels, params_struct, ptr, seeded_rng

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
SEED = 20261127


# ---- the formula on hand-computed cases ------------------------------------------------


@pytest.mark.parametrize("in_shape,out_shape,stride,pad_top,elem,want", [
    # resnet8's 3x3 stride-1 SAME convolutions: two rows of 32 * 16 bytes
    ((1, 32, 32, 16), (1, 32, 32, 16), 1, 1, 1, 1024),
    ((1, 32, 32, 16), (1, 32, 32, 16), 1, 1, 4, 4096),
    # a 1x1 convolution keeping the channels: one row
    ((1, 8, 8, 4), (1, 8, 8, 4), 1, 0, 1, 32),
    ((1, 25, 5, 64), (1, 25, 5, 64), 1, 0, 1, 320),  # DS-CNN pointwise
    ((1, 25, 5, 64), (1, 25, 5, 64), 1, 1, 1, 640),  # DS-CNN depthwise 3x3
    # VALID 3x3: output row oy reads from input row oy on, one output row is narrower
    ((1, 6, 6, 2), (1, 4, 4, 2), 1, 0, 1, 8),
    # stride 2, SAME on an even size (pad_top 0): only the first row counts
    ((1, 8, 8, 4), (1, 4, 4, 4), 2, 0, 1, 16),
    # stride 2 with pad_top 1: row 0 (20 B) beats row 1 (40 - 36 = 4 B)
    ((1, 9, 9, 4), (1, 5, 5, 4), 2, 1, 1, 20),
    # stride 2, 1x1, doubling the channels (resnet8's shortcut): (oy+1)*512 - 2*oy*512
    ((1, 32, 32, 16), (1, 16, 16, 32), 2, 0, 1, 512),
])
def test_hand_computed_offsets(in_shape, out_shape, stride, pad_top, elem, want) -> None:
    assert min_overlap_offset(in_shape, out_shape, stride, pad_top, elem) == want


def test_expanding_channels_need_at_least_the_whole_input() -> None:
    """A 1x1 convolution doubling the channels writes its output faster than it reads its
    input: d = (H + 1) rows of the input, more than the input itself. The group
    max(d + in, out) still saves bytes while d < out (here 20 < 32: 36 B instead of 48 B)."""
    d = min_overlap_offset((1, 4, 4, 1), (1, 4, 4, 2), 1, 0, 1)
    assert d == 20 and d >= 16
    d = min_overlap_offset((1, 32, 32, 16), (1, 32, 32, 64), 1, 0, 1)
    assert d >= 32 * 32 * 16


def test_padding_rows_and_clamping() -> None:
    # pad_top 2, stride 1: the first three output rows all read from input row 0
    assert min_overlap_offset((1, 5, 2, 1), (1, 7, 2, 1), 1, 2, 1) == 6
    # a window entirely in the bottom padding reads nothing: the first row read is
    # clamped to the input height, which only makes the bound larger
    assert min_overlap_offset((1, 2, 1, 1), (1, 4, 1, 1), 1, 0, 1) == 2


def test_only_batch_1_and_nhwc() -> None:
    with pytest.raises(ValueError, match="batch 1"):
        min_overlap_offset((2, 4, 4, 1), (2, 4, 4, 1), 1, 0, 1)
    with pytest.raises(ValueError, match="NHWC"):
        min_overlap_offset((1, 4, 4), (1, 4, 4), 1, 0, 1)
    assert align_up(0, 16) == 0 and align_up(1, 16) == 16 and align_up(1024, 16) == 1024


# ---- brute force: simulate the access order ----------------------------------------------


def _out_size(n: int, k: int, s: int, d: int, p0: int, p1: int) -> int:
    return (n + p0 + p1 - ((k - 1) * d + 1)) // s + 1


def access_trace(kind: str, h: int, w: int, c: int, co: int, kh: int, kw: int, sh: int,
                 sw: int, dh: int, dw: int, pads: tuple[int, int, int, int], dm: int = 1,
                 order: str = "reference", block: int = 2):
    """Simulate a sliding-window kernel's reads and writes, one event per element.

    `order` "reference": pixel by pixel, channels inside (the loops of the reference
    kernels); "row-blocked": row by row, and inside a row blocks of `block` output
    channels outermost, then pixels (an order the header contract allows too);
    "reverse": output rows from the last to the first (the `overlap_reverse` contract);
    "channel-blocked": blocks of `block` channels outermost over the whole image (utc's
    depthwise kernel within one band), which only the channel-wise contract allows.
    Returns (in_shape, out_shape, last read time per input element (-1: never read),
    write time per output element)."""
    pt, pb, pl, pr = pads
    ho, wo = _out_size(h, kh, sh, dh, pt, pb), _out_size(w, kw, sw, dw, pl, pr)
    co = c * dm if kind == "depthwise" else (c if kind == "pool" else co)
    last = np.full(h * w * c, -1, np.int64)
    written = np.full(ho * wo * co, -1, np.int64)
    t = 0

    def pixel_channel(oy: int, ox: int, oc: int) -> None:
        nonlocal t
        taps = [(oy * sh - pt + dh * fy, ox * sw - pl + dw * fx)
                for fy in range(kh) for fx in range(kw)]
        for iy, ix in taps:
            if not (0 <= iy < h and 0 <= ix < w):
                continue
            channels = range(c) if kind == "conv" else [oc // dm if kind == "depthwise" else oc]
            for ic in channels:
                last[(iy * w + ix) * c + ic] = t
                t += 1
        written[(oy * wo + ox) * co + oc] = t
        t += 1

    if order == "reverse":  # rows from the last to the first, pixels inside as the reference
        for oy in reversed(range(ho)):
            for ox in range(wo):
                for oc in range(co):
                    pixel_channel(oy, ox, oc)
        return (1, h, w, c), (1, ho, wo, co), last, written
    if order == "channel-blocked":  # blocks of channels outermost over the whole image
        for oc0 in range(0, co, block):
            for oy in range(ho):
                for ox in range(wo):
                    for oc in range(oc0, min(co, oc0 + block)):
                        pixel_channel(oy, ox, oc)
        return (1, h, w, c), (1, ho, wo, co), last, written
    for oy in range(ho):
        if order == "reference":
            for ox in range(wo):
                for oc in range(co):
                    pixel_channel(oy, ox, oc)
        else:
            for oc0 in range(0, co, block):
                for ox in range(wo):
                    for oc in range(oc0, min(co, oc0 + block)):
                        pixel_channel(oy, ox, oc)
    return (1, h, w, c), (1, ho, wo, co), last, written


def is_safe(last: np.ndarray, written: np.ndarray, elem: int, d: int) -> bool:
    """With the output starting `d` bytes before the input: is no input byte overwritten
    before its last read?"""
    read_at = np.repeat(last, elem)
    write_at = np.repeat(written, elem)
    in_addr = np.arange(write_at.size) - d  # each output byte's address relative to the input
    hit = (in_addr >= 0) & (in_addr < read_at.size)
    return bool(np.all(write_at[hit] > read_at[in_addr[hit]]))


def least_safe_offset(last: np.ndarray, written: np.ndarray, elem: int) -> int:
    """The least d from which on every offset is safe (d >= the output size never overlaps)."""
    d = written.size * elem
    while d > 0 and is_safe(last, written, elem, d - 1):
        d -= 1
    return d


def _random_configs(count: int):
    rng = seeded_rng(SEED, "brute-force")
    out = []
    while len(out) < count:
        kind = ["conv", "depthwise", "pool"][int(rng.integers(3))]
        kh, kw = (int(x) for x in rng.integers(1, 4, 2))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        dh, dw = (1, 1) if kind == "pool" else (int(rng.choice([1, 1, 2])), int(rng.choice([1, 2])))
        pads = (int(rng.integers(kh)), int(rng.integers(kh)), int(rng.integers(kw)),
                int(rng.integers(kw)))
        h = int(rng.integers((kh - 1) * dh + 1, 8))
        w = int(rng.integers((kw - 1) * dw + 1, 7))
        c, co, dm = int(rng.integers(1, 4)), int(rng.integers(1, 6)), int(rng.integers(1, 3))
        elem = int(rng.choice([1, 4]))
        if _out_size(h, kh, sh, dh, pads[0], pads[1]) < 1 or \
                _out_size(w, kw, sw, dw, pads[2], pads[3]) < 1:
            continue
        out.append((kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads, dm, elem))
    return out


CONFIGS = _random_configs(240)


@pytest.mark.parametrize("order", ["reference", "row-blocked"])
def test_the_formula_is_safe_for_every_access_order_the_contract_allows(order: str) -> None:
    for kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads, dm, elem in CONFIGS:
        ins, outs, last, written = access_trace(kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads,
                                                dm, order=order)
        d = min_overlap_offset(ins, outs, sh, pads[0], elem)
        exact = least_safe_offset(last, written, elem)
        assert d >= exact, (kind, ins, outs, sh, pads, order, d, exact)
        # safe at the formula and at the rounded-up offsets the pass uses
        for extra in (0, 1, align_up(d, 16) - d):
            assert is_safe(last, written, elem, d + extra)


def test_the_formula_is_tight_to_within_one_row() -> None:
    """For the reference order the least safe offset is at most one output row plus one
    horizontal input stride below the formula (the row granularity is all it gives away;
    the stride term is the first input columns only the first pixel of a row reads)."""
    worst = 0.0
    for kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads, dm, elem in CONFIGS:
        ins, outs, last, written = access_trace(kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads,
                                                dm)
        d = min_overlap_offset(ins, outs, sh, pads[0], elem)
        exact = least_safe_offset(last, written, elem)
        row = outs[2] * outs[3] * elem
        assert d - exact <= row + sw * ins[3] * elem, (kind, ins, outs, sh, pads, d, exact)
        worst = max(worst, (d - exact) / row)
    assert worst > 0  # the checker does see the slack


def test_resnet8_shape_is_tight_to_one_row() -> None:
    # 8 columns instead of 32 to keep the simulation small; same structure
    ins, outs, last, written = access_trace("conv", 6, 8, 4, 4, 3, 3, 1, 1, 1, 1, (1, 1, 1, 1))
    d = min_overlap_offset(ins, outs, 1, 1, 1)
    exact = least_safe_offset(last, written, 1)
    assert d == 2 * 8 * 4 and d - exact < 8 * 4
    assert not is_safe(last, written, 1, exact - 1)


def test_a_later_input_row_read_early_is_caught() -> None:
    """The checker is not vacuous: an order that writes a row before reading the rows the
    previous row still needs (channels outermost over the whole image) is unsafe."""
    ins, outs, last, written = access_trace("conv", 5, 4, 2, 4, 3, 3, 1, 1, 1, 1, (1, 1, 1, 1))
    # permute the write times to "channel 0 everywhere first": the formula no longer holds
    co = outs[3]
    order = np.argsort(np.arange(written.size) % co, kind="stable")
    permuted = np.empty_like(written)
    permuted[order] = np.sort(written)
    d = min_overlap_offset(ins, outs, 1, 1, 1)
    assert is_safe(last, written, 1, d)
    assert not is_safe(last, permuted, 1, d)


# ---- reverse order (rows from the last to the first) -------------------------------------


@pytest.mark.parametrize("in_shape,out_shape,stride,pad_top,window,want", [
    # a 1x1 convolution keeping the channels: one row, as forward
    ((1, 25, 5, 64), (1, 25, 5, 64), 1, 0, 1, 320),
    # doubling the channels (VWW's 48x48 8 -> 16): the same as forward
    ((1, 48, 48, 8), (1, 48, 48, 16), 1, 0, 1, 18816),
    # 3x3 SAME stride 1: the bottom row reads two input rows below it... two rows up
    ((1, 8, 8, 4), (1, 8, 8, 4), 1, 1, 3, 64),
    # stride 2 on an even size, SAME (pad_top 0, one pad row at the bottom): one output row
    ((1, 8, 8, 4), (1, 4, 4, 4), 2, 0, 3, 16),
])
def test_hand_computed_reverse_overlap(in_shape, out_shape, stride, pad_top, window,
                                       want) -> None:
    assert min_reverse_overlap(in_shape, out_shape, stride, pad_top, window, 1) == want


@pytest.mark.parametrize("kind", ["conv", "depthwise"])
def test_the_reverse_formula_is_safe_for_the_reverse_order(kind: str) -> None:
    tight = 0
    for cfg_kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads, dm, elem in CONFIGS:
        if cfg_kind != kind:
            continue
        ins, outs, last, written = access_trace(kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads,
                                                dm, order="reverse")
        u = min_reverse_overlap(ins, outs, sh, pads[0], (kh - 1) * dh + 1, elem)
        in_bytes, out_bytes = last.size * elem, written.size * elem
        for extra in (0, 1, 16):  # the output ending u (or more) bytes after the input
            assert is_safe(last, written, elem, out_bytes - in_bytes - u - extra), \
                (kind, ins, outs, sh, pads, u)
        row = outs[2] * outs[3] * elem  # one output row closer is unsafe somewhere
        tight += u > 0 and not is_safe(last, written, elem, out_bytes - in_bytes - u + row)
    assert tight > 0


# ---- channel-wise overlap (depthwise multiplier 1, pooling) ------------------------------


@pytest.mark.parametrize("in_shape,out_shape,stride,pad,want", [
    # VWW's stride-2 depthwise: every output pixel reads from its own index on, so the
    # output may start right on its input (the row formula asks for one output row)
    ((1, 48, 48, 16), (1, 24, 24, 16), (2, 2), (0, 0), 0),
    # 3x3 stride 1 SAME: the pixel one row up and one column left, Wi + 1 pixels
    ((1, 48, 48, 8), (1, 48, 48, 8), (1, 1), (1, 1), 49),
    # VALID 3x3: output pixel (oy, ox) reads from input (oy, ox) on; output rows are
    # narrower, so P - first(P) is never positive
    ((1, 6, 6, 2), (1, 4, 4, 2), (1, 1), (0, 0), 0),
    # pad 2 on top: output rows 0-2 all read from input row 0
    ((1, 5, 3, 1), (1, 7, 3, 1), (1, 1), (2, 0), 6),
])
def test_hand_computed_channelwise_pixels(in_shape, out_shape, stride, pad, want) -> None:
    assert channelwise_overlap_pixels(in_shape, out_shape, stride, pad) == want


def test_channelwise_needs_equal_channels_batch_1_and_nhwc() -> None:
    with pytest.raises(ValueError, match="as many output"):
        channelwise_overlap_pixels((1, 4, 4, 2), (1, 4, 4, 4), (1, 1), (0, 0))
    with pytest.raises(ValueError, match="batch 1"):
        channelwise_overlap_pixels((2, 4, 4, 2), (2, 4, 4, 2), (1, 1), (0, 0))


def test_the_rule_allows_the_row_bound_and_the_channel_grid_only() -> None:
    rule = OverlapRule(row_bytes=768, channel_bytes=8, channel_min=392)
    assert rule.allows(768) and rule.allows(769) and rule.allows(392) and rule.allows(400)
    assert not rule.allows(384) and not rule.allows(396) and not rule.allows(0)
    assert not OverlapRule(768).allows(392)
    # least extra offset, a multiple of the alignment, given the part already fixed
    assert rule.least(0, 16) == 400  # 392 rounded onto both grids
    assert rule.least(8, 16) == 384  # 8 + 384 = 392, on the channel grid
    assert rule.least(4, 16) == 768  # 4 + 16t is never a multiple of 8: the row bound
    assert OverlapRule(384, 16, 0).least(0, 16) == 0
    assert OverlapRule(384).least(0, 16) == 384 and OverlapRule(384).least(400, 16) == 0
    for base in range(0, 64, 4):
        for r in (rule, OverlapRule(100, 12, 36), OverlapRule(50, 6, 0)):
            extra = r.least(base, 16)
            assert extra % 16 == 0 and r.allows(base + extra)
            assert not any(r.allows(base + e) for e in range(0, extra, 16))


def _channelwise_configs():
    return [cfg for cfg in CONFIGS if cfg[0] in ("depthwise", "pool")]


@pytest.mark.parametrize("order", ["reference", "channel-blocked"])
def test_the_channelwise_offsets_are_safe_for_the_channelwise_order(order: str) -> None:
    tight = 0
    for kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads, _, elem in _channelwise_configs():
        ins, outs, last, written = access_trace(kind, h, w, c, co, kh, kw, sh, sw, dh, dw, pads,
                                                1, order=order)
        k = channelwise_overlap_pixels(ins, outs, (sh, sw), (pads[0], pads[2]))
        step = c * elem
        for extra in range(4):
            assert is_safe(last, written, elem, (k + extra) * step), (kind, ins, outs, order, k)
        tight += k > 0 and not is_safe(last, written, elem, (k - 1) * step)
    assert tight > 0  # the bound is reached, not just safe


def test_an_offset_off_the_channel_grid_mixes_channels() -> None:
    """Half a pixel below the channel-wise offset, the channel-blocked order overwrites
    another channel's input before it is read: the grid is part of the rule."""
    ins, outs, last, written = access_trace("depthwise", 6, 6, 4, 4, 3, 3, 1, 1, 1, 1,
                                            (1, 1, 1, 1), 1, order="channel-blocked")
    k = channelwise_overlap_pixels(ins, outs, (1, 1), (1, 1))
    assert is_safe(last, written, 1, k * 4)
    assert not is_safe(last, written, 1, k * 4 + 2)


# ---- the overlap flag --------------------------------------------------------------------


_BY_NAME = {k.name: k for k in KERNELS}
_SLIDING = (qnn.Conv2DOp, qnn.DepthwiseConv2DOp, qnn.AvgPool2DOp, qnn.MaxPool2DOp,
            fused.Conv2DOp, fused.DepthwiseConv2DOp, fused.AvgPool2DOp, fused.MaxPool2DOp)


@pytest.mark.parametrize("name", sorted(OVERLAP_SAFE_KERNELS))
def test_every_allow_listed_kernel_documents_the_contract(name: str) -> None:
    kernel = _BY_NAME[name]
    assert kernel.op in _SLIDING
    if kernel.library == "cmsis-nn":  # an external library: its records say why
        notes = (RUNTIME / "cmsis_nn.py").read_text()
        section = notes[notes.index("# - overlap"):notes.index("# - in place")]
        assert name in section
        if kernel.overlap_channelwise:
            assert name in section[section.index("Channel-wise"):]
        return
    headers = [f for f in kernel.files if f.endswith(".h") and f != "utc_quant.h"]
    text = "".join((RUNTIME / h).read_text() for h in headers)
    assert "Access order (relied on by overlap-buffers" in text
    if kernel.overlap_channelwise:
        assert "Channel-wise (`overlap_channelwise`)" in text


def _value(shape, element=F32) -> Value:
    return Value(MemRefType(shape, element))


def test_call_overlap_offset_needs_the_allow_list_the_data_input_and_batch_1() -> None:
    attrs = {"stride": (1, 1), "pad": (1, 1, 1, 1)}
    x, y = _value((1, 8, 8, 4)), _value((1, 8, 8, 4))
    assert call_overlap_offset("utc_conv2d_f32", attrs, 0, x, y) == 2 * 8 * 4 * 4
    assert call_overlap_offset("utc_fully_connected_f32", attrs, 0, x, y) is None
    assert call_overlap_offset("utc_conv2d_f32", attrs, 1, x, y) is None
    b2 = _value((2, 8, 8, 4))
    assert call_overlap_offset("utc_conv2d_f32", attrs, 0, b2, b2) is None
    assert call_overlap_offset("utc_conv2d_f32", {"stride": (1, 1)}, 0, x, y) is None
    # the channel-wise offsets: only for a flagged kernel with the input's channels
    assert call_overlap_rule("utc_conv2d_f32", attrs, 0, x, y) == OverlapRule(2 * 8 * 4 * 4)
    assert call_overlap_rule("utc_depthwise_conv2d_f32", attrs, 0, x, y) == \
        OverlapRule(2 * 8 * 4 * 4, 4 * 4, 9 * 4 * 4)
    y2 = _value((1, 8, 8, 8))
    assert call_overlap_rule("utc_depthwise_conv2d_f32", attrs, 0, x, y2).channel_bytes is None


# ---- the kernels themselves, with overlapping buffers ----------------------------------


_KERNELS = sorted(k for k in OVERLAP_SAFE_KERNELS if k.startswith("utc_"))


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return load_kernels(_KERNELS + sorted({k.in_place_pixel for k in KERNELS if k.in_place_pixel}))


#: (in h, w, c), out channels (depth multiplier for depthwise), kernel (kh, kw),
#: stride (h, w), dilation (h, w), pads (top, bottom, left, right)
_CASES = [
    ((10, 10, 16), 16, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),  # resnet-like SAME
    ((7, 6, 8), 8, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),  # pointwise
    ((9, 9, 4), 8, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),  # stride 2, more channels
    ((8, 8, 6), 6, (3, 3), (2, 2), (1, 1), (0, 1, 0, 1)),  # SAME on an even size
    ((9, 8, 3), 5, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),  # dilation 2
    ((6, 5, 2), 2, (4, 3), (1, 2), (1, 1), (2, 1, 1, 1)),  # uneven window and pads
    ((5, 6, 4), 2, (2, 2), (1, 1), (1, 1), (0, 1, 0, 1)),  # fewer output channels
]


def _run_kernel(lib, name: str, case, overlap: int | None, reverse: int | None = None,
                pixel: np.ndarray | None = None, zp_bias: bool | None = None):
    """Run `name` on seeded data: with separate buffers (overlap None) or in one buffer
    with the output `overlap` bytes before the input (negative: after it); `reverse`: the
    convolutions' parameter (left out for the int8 ones when None); `pixel`: the int8
    convolution's two-pixel buffer (in place); `zp_bias`: pass the compile-time table
    (default: only to overlapped runs). Returns the output bytes."""
    (h, w, c), oc, (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = case
    kind = "pool" if "pool" in name else ("depthwise" if "depthwise" in name else "conv")
    f32 = name.endswith("_f32")
    if kind == "pool":
        dh = dw = 1
    ho, wo = _out_size(h, kh, sh, dh, pt, pb), _out_size(w, kw, sw, dw, pl, pr)
    dm = max(1, oc // c) if kind == "depthwise" else 1
    co = {"conv": oc, "depthwise": c * dm, "pool": c}[kind]
    rng = seeded_rng(SEED, name, case)
    s16 = name.endswith("_s16")
    dtype = np.float32 if f32 else np.int16 if s16 else np.int8
    if f32:
        x = rng.standard_normal((h, w, c)).astype(np.float32)
    elif s16:
        x = rng.integers(-32768, 32768, (h, w, c)).astype(np.int16)
    else:
        x = rng.integers(-128, 128, (h, w, c)).astype(np.int8)
    w_shape = (co, kh, kw, c) if kind == "conv" else (1, kh, kw, co)
    if f32:
        filt = rng.standard_normal(w_shape).astype(np.float32)
        bias = rng.standard_normal(co).astype(np.float32)
    else:
        filt = rng.integers(-127, 128, w_shape).astype(np.int8)
        bias = rng.integers(-2000, 2000, co).astype(np.int32)
    mult = rng.integers(1 << 29, 1 << 30, co).astype(np.int32)
    shift = rng.integers(-9, -6, co).astype(np.int32)
    out_elems, item = ho * wo * co, np.dtype(dtype).itemsize
    if overlap is None:
        x_buf, y_buf = x.copy(), np.zeros(out_elems, dtype)
        x_ptr, y_ptr = ptr(x_buf), ptr(y_buf)
    else:
        y_at = max(0, -overlap)  # the output's offset; the input's is y_at + overlap
        size = max(y_at + out_elems * item, y_at + overlap + x.nbytes)
        raw = np.zeros(size + 16, np.uint8)
        start = (-raw.ctypes.data) % 16  # as aligned as an arena offset
        whole = raw[start:start + size]
        whole[y_at + overlap:y_at + overlap + x.nbytes] = x.view(np.uint8).ravel()
        x_ptr, y_ptr = ctypes.c_void_p(whole.ctypes.data + y_at + overlap), ptr(whole[y_at:])
        arena = whole[y_at:]
    fn = getattr(lib, name)
    if kind == "pool":
        act = (-3.0e38, 3.0e38) if f32 else (-32768, 32767) if s16 else (-128, 127)
        fn(x_ptr, y_ptr, 1, h, w, c, ho, wo, kh, kw, sh, sw, pt, pl, *act)
    elif f32 and pixel is not None:  # the in-place kernel the record names
        getattr(lib, _BY_NAME[name].in_place_pixel)(
            x_ptr, ptr(filt), ptr(bias), y_ptr, 1, h, w, c, ho, wo, co, kh, kw, sh, sw, dh, dw,
            pt, pl, -3.0e38, 3.0e38, ptr(pixel))
    elif f32:
        fn(x_ptr, ptr(filt), ptr(bias), y_ptr, 1, h, w, c, ho, wo, co if kind == "conv" else dm,
           kh, kw, sh, sw, dh, dw, pt, pl, -3.0e38, 3.0e38,
           *((reverse or 0,) if kind == "conv" else ()))
    else:
        # the overlapped run takes the compile-time zp_bias table (-O2), the disjoint
        # reference run sums the filter at run time: both must agree
        table = zero_point_bias(filt, (1, 2, 3) if kind == "conv" else (0, 1, 2), bias, -3)
        zp_bias = ptr(table) if (overlap is not None if zp_bias is None else zp_bias) else None
        values = (x_ptr, ptr(filt), ptr(bias), zp_bias, y_ptr, 1, h, w, c, ho, wo, co, dm, kh, kw,
                  sh, sw, dh, dw, pt, pl, -3, 5, ptr(mult), ptr(shift), 1, -128, 127,
                  *(() if reverse is None else (reverse,)))
        if pixel is None:
            fn(*values)
        else:  # the in-place kernel the record names: the same struct, and the buffer
            params = params_struct(name)(*values)
            getattr(lib, _BY_NAME[name].in_place_pixel)(ctypes.addressof(params), ptr(pixel))
    got = y_buf.view(np.uint8) if overlap is None else arena[:out_elems * item]
    return got.copy(), (1, h, w, c), (1, ho, wo, co), item


@pytest.mark.parametrize("name", _KERNELS)
@pytest.mark.parametrize("case", _CASES, ids=[re.sub(r"[ ()]", "", str(c[0])) + f"-{i}"
                                              for i, c in enumerate(_CASES)])
def test_allow_listed_kernels_honour_the_access_order(lib, name: str, case) -> None:
    """The kernel in runtime/ computes the same output when it starts exactly
    `min_overlap_offset` bytes before its input (the tightest placement allowed)."""
    want, in_shape, out_shape, item = _run_kernel(lib, name, case, None)
    stride, pads = case[3], case[5]
    d = min_overlap_offset(in_shape, out_shape, stride[0], pads[0], item)
    assert d < want.size, f"case {case} was chosen to overlap, but {name} needs {d} B apart"
    got, *_ = _run_kernel(lib, name, case, d)
    assert np.array_equal(got, want), (
        f"{name} gives different bytes when its output overlaps its input at the offset "
        f"min_overlap_offset allows ({d} B): its loops no longer follow the access-order "
        f"contract of its header; clear its `overlap` flag "
        f"(runtime/kernels.py) or restore the order")


_CHANNELWISE = sorted(k for k in _KERNELS if _BY_NAME[k].overlap_channelwise)
#: the cases whose output has the input's channels (depthwise multiplier 1, pooling)
_CW_CASES = [c for c in _CASES if c[1] == c[0][2]] + [
    ((12, 12, 16), 16, (3, 3), (2, 2), (1, 1), (0, 1, 0, 1)),  # VWW's stride 2: k = 0
    ((7, 9, 5), 5, (3, 2), (1, 2), (1, 1), (2, 0, 1, 0)),
    ((9, 8, 3), 3, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),  # dilation 2
]


@pytest.mark.parametrize("name", _CHANNELWISE)
@pytest.mark.parametrize("case", _CW_CASES, ids=[re.sub(r"[ ()]", "", str(c[0])) + f"-{i}"
                                                 for i, c in enumerate(_CW_CASES)])
def test_channelwise_kernels_honour_the_channel_order(lib, name: str, case) -> None:
    """A kernel flagged `overlap_channelwise` computes the same output when it starts
    exactly `channelwise_overlap_pixels` whole pixels before its input."""
    want, in_shape, out_shape, item = _run_kernel(lib, name, case, None)
    stride, pads = case[3], case[5]
    k = channelwise_overlap_pixels(in_shape, out_shape, stride, (pads[0], pads[2]))
    d = k * in_shape[3] * item
    assert d < min_overlap_offset(in_shape, out_shape, stride[0], pads[0], item) or k == 0
    got, *_ = _run_kernel(lib, name, case, d)
    assert np.array_equal(got, want), (
        f"{name} gives different bytes when its output starts {k} pixels ({d} B) before its "
        f"input: it no longer keeps the pixel order within each channel; clear its "
        f"`overlap_channelwise` flag (runtime/kernels.py) or restore the order")


def test_the_channelwise_harness_sees_a_clobbered_input(lib) -> None:
    """One pixel closer than allowed, a 3x3 stride-1 depthwise convolution overwrites input
    it still needs."""
    case = _CASES[0]
    want, in_shape, out_shape, item = _run_kernel(lib, "utc_depthwise_conv2d_s8", case, None)
    k = channelwise_overlap_pixels(in_shape, out_shape, (1, 1), (1, 1))
    got, *_ = _run_kernel(lib, "utc_depthwise_conv2d_s8", case, (k - 1) * in_shape[3] * item)
    assert not np.array_equal(got, want)


_REVERSE = sorted([*(k for k in _KERNELS if k.endswith("_s8") and "conv" in k), "utc_conv2d_f32"])


@pytest.mark.parametrize("name", _REVERSE)
@pytest.mark.parametrize("case", _CASES, ids=[re.sub(r"[ ()]", "", str(c[0])) + f"-{i}"
                                              for i, c in enumerate(_CASES)])
def test_convolutions_honour_the_reverse_order(lib, name: str, case) -> None:
    """With `reverse` = 1 the convolutions (the int8 ones both, although only
    utc_conv2d_s8's record offers it to the planner; utc_conv2d_f32) compute the same
    output when it ends exactly
    `min_reverse_overlap` bytes after their input ends."""
    want, in_shape, out_shape, item = _run_kernel(lib, name, case, None, reverse=1)
    (kh, _), stride, dil, pads = case[2], case[3], case[4], case[5]
    u = min_reverse_overlap(in_shape, out_shape, stride[0], pads[0], (kh - 1) * dil[0] + 1, item)
    in_bytes, out_bytes = int(np.prod(in_shape)) * item, int(np.prod(out_shape)) * item
    d = out_bytes - in_bytes - u  # where the input starts inside the output's bytes
    got, *_ = _run_kernel(lib, name, case, d, reverse=1)
    assert np.array_equal(got, want), (
        f"{name} with reverse = 1 gives different bytes when its output ends {u} B after its "
        f"input: its rows no longer run in decreasing order; clear `overlap_reverse`")


def test_the_reverse_harness_sees_a_clobbered_input(lib) -> None:
    """Forward order at the reverse placement does clobber the input."""
    case = _CASES[0]
    want, in_shape, out_shape, item = _run_kernel(lib, "utc_conv2d_s8", case, None)
    u = min_reverse_overlap(in_shape, out_shape, 1, 1, 3, item)
    got, *_ = _run_kernel(lib, "utc_conv2d_s8", case, -u, reverse=0)
    assert not np.array_equal(got, want)


_PIXEL = sorted(k for k in _KERNELS if _BY_NAME[k].in_place_pixel)
#: 1x1 unpadded convolutions keeping the channels: in_c below, at and past a block of
#: 4 (portable) and the 8-channel chunk (DSP), odd counts
_PIXEL_CASES = [((7, 6, 16), 16, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
                ((5, 5, 9), 9, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
                ((3, 4, 33), 33, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
                ((1, 6, 5), 5, (1, 1), (2, 1), (1, 1), (0, 0, 0, 0)),
                ((1, 1, 12), 12, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0))]


def test_the_pixel_kernels_are_the_convolutions() -> None:
    assert _PIXEL == ["utc_conv2d_f32", "utc_conv2d_s8"]
    for name, dtype in (("utc_conv2d_s8", "s8"), ("utc_conv2d_f32", "f32")):
        assert _BY_NAME[name].in_place_pixel == f"utc_conv2d_pixel_{dtype}"
        # the in-place kernel names itself, and selection never picks it
        pixel = _BY_NAME[f"utc_conv2d_pixel_{dtype}"]
        assert pixel.in_place_pixel == pixel.name and pixel.constraint(None, None)
        # the header states the contract
        header = (RUNTIME / f"utc_conv_{dtype}.h").read_text()
        assert f"In place with a two-pixel buffer (`in_place_pixel`: {pixel.name}" in header


@pytest.mark.parametrize("name,zp_bias", [(n, z) for n in _PIXEL
                                           for z in ((True, False) if n.endswith("_s8") else (False,))])
@pytest.mark.parametrize("case", _PIXEL_CASES, ids=[re.sub(r"[ ()]", "", str(c[0]))
                                                    for c in _PIXEL_CASES])
def test_in_place_pixel_kernels_run_on_their_input(lib, name: str, zp_bias: bool, case) -> None:
    """A kernel flagged `in_place_pixel`, given a pixel buffer (two pixels: the kernels
    take pairs), computes the same output when it starts exactly on its input (offset 0,
    every output pixel over the input pixel it reads), and the buffer ends up holding the
    last input pixel: it did copy the pixels before writing over them. Odd and even pixel
    counts, a single pixel. (`zp_bias`: the int8 kernel with and without the
    compile-time table.)"""
    want, in_shape, out_shape, item = _run_kernel(lib, name, case, None)
    assert in_shape == out_shape
    f32 = name.endswith("_f32")
    pixels = in_shape[1] * in_shape[2]
    pixel = np.full((min(2, pixels), in_shape[3]), 0x55, np.float32 if f32 else np.int8)
    got, *_ = _run_kernel(lib, name, case, 0, reverse=0, pixel=pixel, zp_bias=zp_bias)
    assert np.array_equal(got, want), (
        f"{name} gives different bytes in place with a two-pixel buffer: it no longer "
        f"copies the input pixels before writing over them; clear `in_place_pixel`")
    rng = seeded_rng(SEED, name, case)  # the input _run_kernel drew
    x = (rng.standard_normal(case[0]).astype(np.float32) if f32
         else rng.integers(-128, 128, case[0]).astype(np.int8))
    # pixels go in pairs, a last lone one into the first slot
    assert np.array_equal(pixel[(pixels - 1) % 2], x[-1, -1])


@pytest.mark.parametrize("name", _PIXEL)
def test_the_pixel_harness_sees_a_clobbered_input(lib, name: str) -> None:
    """On its input without the pixel buffer the convolution overwrites input channels
    the next output channels still read."""
    case = _PIXEL_CASES[0]
    want, *_ = _run_kernel(lib, name, case, None)
    got, *_ = _run_kernel(lib, name, case, 0, reverse=0)
    assert not np.array_equal(got, want)


def test_the_kernel_harness_sees_a_clobbered_input(lib) -> None:
    """At no offset at all a 3x3 convolution does overwrite input it still needs."""
    case = _CASES[0]
    want, *_ = _run_kernel(lib, "utc_conv2d_f32", case, None)
    got, *_ = _run_kernel(lib, "utc_conv2d_f32", case, 0)
    assert not np.array_equal(got, want)


# ---- the IR-level plan checker accepts exactly this overlap -----------------------------


_CONV = ('stride = [1, 1], dilation = [1, 1], pad = [{p}, {p}, {p}, {p}], act = "none", '
         'kernel = "utc_conv2d_f32"')
_POOL = ('stride = [2, 2], window = [2, 2], pad = [0, 0, 0, 0], act = "none", '
         'kernel = "utc_max_pool_f32"')
_SOURCE = f"""
module @m {{
  func.func() {{sym_name = @main}} ({{
  ^entry(%x: tensor<1x8x8x2xf32>):
    %w0 = tensor.constant() {{value = dense_resource<w0>}} : tensor<4x1x1x2xf32>
    %w1 = tensor.constant() {{value = dense_resource<w1>}} : tensor<4x3x3x4xf32>
    %c0 = fused.conv2d(%x, %w0) {{{_CONV.format(p=0)}}} : tensor<1x8x8x4xf32>
    %c1 = fused.conv2d(%c0, %w1) {{{_CONV.format(p=1)}}} : tensor<1x8x8x4xf32>
    %p = fused.max_pool2d(%c1) {{{_POOL}}} : tensor<1x4x4x4xf32>
    func.return(%p) : ()
  }}) : ()
}}
{{-#
  dense_resources: {{
    w0: tensor<4x1x1x2xf32> = elided,
    w1: tensor<4x3x3x4xf32> = elided,
  }}
#-}}
"""
_PIPELINE = "bufferize,inplace,concat-in-place,overlap-buffers,plan-memory"


def _planned():
    import utc.passes  # noqa: F401
    from utc.compiler.driver import lower
    from utc.compiler.ir.parser import parse_module

    module = parse_module(_SOURCE)
    module.verify()
    lower(module, _PIPELINE)
    return module


def _ops(module) -> tuple[dict, list]:
    from utc.dialects import buf
    from utc.dialects.func import main_function

    ops = main_function(module).block.ops
    named = {op.result.name_hint: op for op in ops if isinstance(op, buf.AllocOp | buf.ViewOp)}
    return named, [op for op in ops if isinstance(op, buf.CallOp)]


def test_the_checker_accepts_the_planned_overlap() -> None:
    from utc.dialects import buf
    from utc.dialects.buf import root_and_offset
    from utc.dialects.func import main_function
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = _planned()
    named, calls = _ops(module)
    assert isinstance(named["c0"], buf.ViewOp) and isinstance(named["c1"], buf.ViewOp)
    # %c0 (the 1x1 expansion, run in reverse) ends where the dying model input ends,
    # containing it; %c1 starts two rows (256 B) before %c0 in the same buffer
    (r0, o0), (r1, o1) = root_and_offset(named["c0"].result), root_and_offset(named["c1"].result)
    assert r0 is r1 and o0 - o1 == 256 and calls[0].attrs.get("reverse") == 1
    attrs = main_function(module).attrs
    assert attrs["arena_bytes"] < attrs["no_overlap_lower_bound"]
    assert verify_memory_plan(module) == []
    # nothing the pass records is consulted: without it the verdict is the same
    del attrs["no_overlap_lower_bound"]
    assert verify_memory_plan(module) == []


def test_an_overlap_below_the_bound_is_reported() -> None:
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = _planned()
    named, _ = _ops(module)
    # %c0 sits in %c0_overlap (its group with the model input), placed in %c1's group
    # whose offset 0 is %c1: move that group so %c0 starts 16 B short of two rows after %c1
    inner = named["c0"].attrs["offset"]
    named["c0_overlap"].attrs["offset"] = 240 - inner
    problems = verify_memory_plan(module)
    assert any("starts 240 B before its input" in p and "at least 256 B before" in p
               for p in problems), problems
    named["c0_overlap"].attrs["offset"] = 0  # over the output, not below it: not allowed
    named["c0"].attrs["offset"] = 0
    problems = verify_memory_plan(module)
    assert any("starts 0 B before its input" in p for p in problems), problems


_DW_SOURCE = """
module @m {
  func.func() {sym_name = @main} ({
  ^entry(%x: tensor<1x8x8x4xf32>):
    %w = tensor.constant() {value = dense_resource<w>} : tensor<1x3x3x4xf32>
    %d = fused.depthwise_conv2d(%x, %w) {stride = [1, 1], dilation = [1, 1],
        pad = [1, 1, 1, 1], depth_multiplier = 1, act = "none",
        kernel = "utc_depthwise_conv2d_f32"} : tensor<1x8x8x4xf32>
    func.return(%d) : ()
  }) : ()
}
{-#
  dense_resources: {
    w: tensor<1x3x3x4xf32> = elided,
  }
#-}
"""


def test_the_planner_and_the_checker_use_the_channelwise_offset() -> None:
    """A 3x3 depthwise convolution over its dying model input: the output starts 9 pixels
    (Wi + 1, 144 B) before the input instead of two rows (256 B); the checker accepts that
    and rejects an offset below it, on the pixel grid or not."""
    import utc.passes  # noqa: F401
    from utc.compiler.driver import lower
    from utc.compiler.ir.parser import parse_module
    from utc.dialects.buf import root_and_offset
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = parse_module(_DW_SOURCE)
    module.verify()
    lower(module, _PIPELINE)
    named, _ = _ops(module)
    (rx, ox), (rd, od) = (root_and_offset(named[n].result) for n in ("x", "d"))
    assert rx is rd and ox - od == 144
    assert verify_memory_plan(module) == []
    for offset in (136, 128):  # half a pixel short; one whole pixel short
        named["x"].attrs["offset"] = offset
        problems = verify_memory_plan(module)
        assert any(f"starts {offset} B before its input" in p and "at least 256 B" in p
                   and "a multiple of 16 B from 144 B on" in p for p in problems), problems


def test_an_overlap_for_a_kernel_off_the_allow_list_is_reported() -> None:
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = _planned()
    _, calls = _ops(module)
    calls[1].attrs["callee"] = "utc_conv2d_f32_other_order"  # no overlap record
    problems = verify_memory_plan(module)
    assert any("may not run in place" in p for p in problems), problems


def test_reading_the_overwritten_input_later_is_reported() -> None:
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = _planned()
    named, calls = _ops(module)
    # the pooling reads %c0 (same shape) after the convolution wrote over its first rows
    calls[2].set_operand(0, named["c0"].result)
    problems = verify_memory_plan(module)
    assert any("overwrote some of its bytes" in p for p in problems), problems


# ---- in place with a two-pixel buffer: the pass's choice and the checker ------------------


def _pointwise_model(shape: list[int], layers: list[tuple[int, int]], seed: int) -> bytes:
    """An int8 chain of convolutions (out channels, kernel size; SAME, stride 1) from a
    model input of `shape`."""
    from tests.tflite_writer import ModelBuilder

    rng = seeded_rng(SEED, "pointwise", seed)
    b = ModelBuilder("utc in-place pixel test")
    x = last = b.add_tensor("x", shape, "int8", scale=0.05, zero_point=-3)
    c = shape[3]
    for i, (oc, k) in enumerate(layers):
        wt = b.add_tensor(f"w{i}", [oc, k, k, c], "int8", data=rng.integers(-127, 128, (oc, k, k, c)),
                          scale=list(rng.uniform(0.002, 0.02, oc)), zero_point=0,
                          quantized_dimension=0)
        y = b.add_tensor(f"y{i}", [*shape[:3], oc], "int8", scale=0.05, zero_point=-7)
        b.add_operator("CONV_2D", [last, wt, -1], [y], {"padding": "SAME",
                                                         "fused_activation_function": "RELU"})
        last, c = y, oc
    return b.build([x], [last])


def _lowered(model: bytes, tmp_path: Path, monkeypatch=None, pixel: bool = True):
    """The model at -O2 (reference kernels), planned; `pixel` False: with the in-place
    option taken away from overlap-buffers."""
    from utc.compiler.driver import import_model, load_builtin_passes, lower, pipeline_for
    from utc.passes import overlap_buffers

    if not pixel:
        monkeypatch.setattr(overlap_buffers, "call_pixel_in_place", lambda *a: None)
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    load_builtin_passes()
    module = import_model(path, "m")
    lower(module, pipeline_for(2))
    return module


def test_a_channel_keeping_pointwise_layer_runs_in_place(tmp_path: Path) -> None:
    """A 1x1 convolution keeping 16 channels over its dying model input: in place, the
    output on the input's bytes and a 32-byte buffer of two pixels, 1,056 B where forward
    (or reverse) overlap needs one row more (1,152 B); the checker accepts it and rejects
    it without the buffer or with a smaller one."""
    from utc.dialects import buf
    from utc.dialects.buf import root_and_offset
    from utc.dialects.func import main_function
    from utc.passes.planning.verify_ir import verify_memory_plan

    module = _lowered(_pointwise_model([1, 8, 8, 16], [(16, 1)], 1), tmp_path)
    fn = main_function(module)
    call, = (op for op in fn.block.ops if isinstance(op, buf.CallOp))
    assert root_and_offset(call.inputs[0]) == root_and_offset(call.outputs[0])
    pixel = [v for v in call.outputs if buf.is_scratch(v)]
    assert [v.type.byte_size for v in pixel] == [32] and "reverse" not in call.attrs
    assert call.callee == "utc_conv2d_pixel_s8"
    assert fn.attrs["arena_bytes"] == 1024 + 32 < 1024 + 8 * 16
    assert verify_memory_plan(module) == []
    # a pixel buffer too small, then none: the output may not sit on its input
    small = buf.AllocOp([], [pixel[0].type.__class__((16,), pixel[0].type.element)],
                        {"size": 16, "scratch": True, "offset": pixel[0].op.attrs["offset"]})
    fn.block.insert_before(call, small)
    call.set_operand(len(call.operand_values) - 1, small.result)
    for last in ("small", "none"):
        problems = verify_memory_plan(module)
        assert any("overlaps input %x" in p and "may not run in place" in p
                   for p in problems), (last, problems)
        if last == "small":
            call.set_operands(call.operand_values[:-1])
    # the plain kernel, which takes no pixel buffer, even with one
    call.set_operands([*call.operand_values, pixel[0]])
    assert verify_memory_plan(module) == []
    call.attrs["callee"] = "utc_conv2d_s8"
    problems = verify_memory_plan(module)
    assert any("starts 0 B before its input" in p and "at least 128 B before" in p
               for p in problems), problems


def test_in_place_is_chosen_only_where_the_arena_falls(tmp_path: Path, monkeypatch) -> None:
    """Between two 3x3 convolutions, the pointwise layer's in-place placement would not
    lower the peak (the 3x3 layers' steps are higher): the plan is exactly the one made
    without the in-place option."""
    model = _pointwise_model([1, 12, 12, 8], [(16, 3), (16, 1), (8, 3)], 2)
    with_option = str(_lowered(model, tmp_path))
    without = str(_lowered(model, tmp_path, monkeypatch, pixel=False))
    assert with_option == without and "pixel" not in with_option
