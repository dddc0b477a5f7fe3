"""End to end for `overlap-buffers`: small chains of convolutions, depthwise convolutions
and poolings (int8 and float32; SAME and VALID, strides, dilation, expanding and shrinking
channels) compiled at -O2 (and -O1), built, run on seeded random inputs and compared with
TFLite Micro (bit-exact for int8). The IR-level plan checker runs inside
`compile_and_build`; here the IR must show the overlaps (each output starting at least
`min_overlap_offset` bytes before its dying input inside one buffer) and the arena must be
below the fixed-order bound of the buffers without overlap (`no_overlap_lower_bound`)
while staying at the bound of the planned ones, rounded up for alignment.
(tests/e2e/test_memory_real_models.py does the same for every model in ../shared/models.)
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from utc.dialects import buf
from utc.dialects.buf import root_and_offset
from utc.dialects.func import main_function
from utc.passes.planning.aliasing import call_overlap_rule, call_reverse_overlap
from utc.passes.planning.overlap import align_up, min_reverse_overlap

from tests.e2e.harness import compile_and_build
from tests.e2e.test_memory_passes import aligned_bound
from tests.e2e.test_memory_passes import run_and_compare as compare_with_tflm
from tests.oracle import TflmRunner, random_inputs
from tests.tflite_writer import ModelBuilder

SAMPLES = 12


def _out(n: int, k: int, s: int, d: int, same: bool) -> int:
    return -(-n // s) if same else -(-(n - (k - 1) * d) // s)


class Chain:
    """A model written layer by layer: int8 (per-tensor activations, per-channel weights)
    or float32, each layer reading the previous one."""

    def __init__(self, q: bool, shape: list[int], seed: int = 0):
        self.b = ModelBuilder("utc overlap-buffers test")
        self.q, self.rng, self.n = q, np.random.default_rng(seed), 0
        self.scale = 0.05
        self.x = self.last = self._act(shape, self.scale, -3)
        self.shape = list(shape)

    def _act(self, shape, scale: float, zp: int) -> int:
        self.n += 1
        if self.q:
            return self.b.add_tensor(f"t{self.n}", shape, "int8", scale=scale, zero_point=zp)
        return self.b.add_tensor(f"t{self.n}", shape, "float32")

    def conv(self, out_c: int, k: int = 3, stride: int = 1, same: bool = True,
             dilation: int = 1, depthwise: bool = False, act: str = "RELU") -> Chain:
        _, h, w, c = self.shape
        out_c = c * out_c if depthwise else out_c  # depthwise: out_c is the multiplier
        out = [1, _out(h, k, stride, dilation, same), _out(w, k, stride, dilation, same), out_c]
        w_shape = [1, k, k, out_c] if depthwise else [out_c, k, k, c]
        self.n += 1
        if self.q:
            scales = self.rng.uniform(0.002, 0.02, out_c)
            wt = self.b.add_tensor(f"w{self.n}", w_shape, "int8",
                                   data=self.rng.integers(-127, 128, w_shape), scale=list(scales),
                                   zero_point=0, quantized_dimension=3 if depthwise else 0)
            bias = self.b.add_tensor(f"b{self.n}", [out_c], "int32",
                                     data=self.rng.integers(-500, 500, out_c),
                                     scale=list(self.scale * scales), zero_point=0)
            depth = k * k * (1 if depthwise else c)
            out_scale = float(self.scale * np.mean(scales) * 127 * np.sqrt(depth) / 12)
        else:
            wt = self.b.add_tensor(f"w{self.n}", w_shape, "float32",
                                   data=(self.rng.standard_normal(w_shape) / k).astype(np.float32))
            bias = self.b.add_tensor(f"b{self.n}", [out_c], "float32",
                                     data=self.rng.standard_normal(out_c).astype(np.float32))
            out_scale = 0.0
        y = self._act(out, out_scale, -7)
        options = {"padding": "SAME" if same else "VALID", "stride_h": stride,
                   "stride_w": stride, "fused_activation_function": act}
        if dilation != 1:
            options.update(dilation_h_factor=dilation, dilation_w_factor=dilation)
        if depthwise:
            options["depth_multiplier"] = out_c // c
        self.b.add_operator("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D",
                            [self.last, wt, bias], [y], options,
                            version=2 if dilation != 1 else 1)
        self.last, self.shape, self.scale = y, out, out_scale or self.scale
        return self

    def pool(self, kind: str, k: int, stride: int, same: bool) -> Chain:
        _, h, w, c = self.shape
        out = [1, _out(h, k, stride, 1, same), _out(w, k, stride, 1, same), c]
        y = self._act(out, self.scale, -7)
        self.b.add_operator("MAX_POOL_2D" if kind == "max" else "AVERAGE_POOL_2D", [self.last],
                            [y], {"padding": "SAME" if same else "VALID", "stride_h": stride,
                                  "stride_w": stride, "filter_height": k, "filter_width": k})
        self.last, self.shape = y, out
        return self

    def build(self) -> bytes:
        return self.b.build([self.x], [self.last])


def run_and_compare(model: bytes, tmp_path: Path, opt_level: int = 2):
    return compare_with_tflm(model, tmp_path, opt_level, samples=SAMPLES, seed=17, atol=1e-5)


def _smaller(call) -> bool:
    """An output on the very bytes its input starts at, yet not an in-place alias: a
    channel-wise overlap at offset 0 (a stride-2 depthwise or pooling layer)."""
    return call.outputs[0].type.byte_size < call.inputs[0].type.byte_size


def overlaps(module) -> dict[str, int]:
    """callee#step -> bytes the output starts before its data input (negative: after it),
    for every call whose output and input share a root buffer at different offsets
    (checked against the kernel's overlap rule: the row bound, or a whole number of pixels
    channel-wise; or, for a call running its rows in reverse, the output ending at least
    `min_reverse_overlap` bytes after the input)."""
    fn = main_function(module)
    out = {}
    for step, call in enumerate(op for op in fn.block.ops if isinstance(op, buf.CallOp)):
        if not call.inputs or not call.outputs:
            continue
        (src, s_off), (dst, d_off) = root_and_offset(call.inputs[0]), root_and_offset(call.outputs[0])
        if src is not None and src is dst and (s_off != d_off or _smaller(call)):
            x, y = call.inputs[0], call.outputs[0]
            if call.attrs.get("reverse"):  # rows run backwards: the output ends past the input
                need = call_reverse_overlap(call.attrs["callee"], call.attrs, x, y, call.inputs[1])
                assert need is not None, call
                assert (d_off + y.type.byte_size) - (s_off + x.type.byte_size) >= need, call
            else:
                rule = call_overlap_rule(call.attrs["callee"], call.attrs, 0, x, y)
                assert rule is not None and rule.allows(s_off - d_off), call
            assert (s_off - d_off) % main_function(module).attrs["plan_alignment"] == 0
            out[f"{call.attrs['callee']}#{step}"] = s_off - d_off
    return out


def assert_below_the_bound_without_overlap(module) -> dict:
    attrs = main_function(module).attrs
    assert attrs["lower_bound"] <= attrs["arena_bytes"] <= aligned_bound(module)
    assert attrs["arena_bytes"] < attrs["no_overlap_lower_bound"] <= attrs["copy_lower_bound"]
    return attrs


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_a_chain_of_same_convolutions_slides_down_one_buffer(q: bool, tmp_path: Path) -> None:
    # the last two convs start two rows below their inputs. The first (1x1, 3 -> 8
    # channels) may overlap the model input dying there, its output starting 12 output
    # rows less 11 input rows before it (rounded up to 16 B, the plan's alignment), but
    # that link only pays when the whole chain (the input `first` bytes in, then slid
    # down 4 rows) is smaller than the input and the first output apart: not in int8,
    # by 48 B in float32
    net = Chain(q, [1, 12, 12, 3], seed=1).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path)
    item = 1 if q else 4
    row = 12 * 8 * item
    first = align_up((12 * 12 * 8 - 11 * 12 * 3) * item, 16)
    chain = first + 12 * 12 * 3 * item + 4 * row
    apart = 12 * 12 * 3 * item + 12 * 12 * 8 * item
    found = list(overlaps(module).values())
    attrs = assert_below_the_bound_without_overlap(module)
    # without overlap: a conv's input and output (2 x 1152 B)
    assert attrs["no_overlap_lower_bound"] == 2 * 12 * 12 * 8 * item
    # the convolutions may also run their rows in reverse: a reversed link slides the
    # chain back up (negative), taken only where the arena falls below the forward plan
    # (all forward: min(chain, apart))
    assert any(v < 0 for v in found) and attrs["arena_bytes"] < min(chain, apart)
    assert all(abs(v) in (first, 2 * row) for v in found), found


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_depthwise_and_pointwise_layers_overlap(q: bool, tmp_path: Path) -> None:
    """DS-CNN's shape: after a stride-2 conv, depthwise 3x3 and pointwise layers alternate;
    each output starts Wi + 1 pixels (depthwise: channel-wise) or one row (pointwise)
    below its input."""
    net = (Chain(q, [1, 50, 10, 1], seed=2).conv(16, k=3, stride=2)
           .conv(1, depthwise=True).conv(16, k=1).conv(1, depthwise=True).conv(16, k=1))
    module = run_and_compare(net.build(), tmp_path)
    item = 1 if q else 4
    row = 5 * 16 * item
    pixels = (5 + 1) * 16 * item  # the depthwise layers: one row and one pixel
    # the stride-2 conv over the model input: output row oy reads from input row 2 oy on,
    # so the bound is at the last row, 25 output rows less 48 input rows of 10 elements
    first = (25 * 5 * 16 - 48 * 10) * item
    found = list(overlaps(module).values())
    # the pointwise layers run their rows in reverse (their output ends one row after
    # their input: -row), which slides the chain back up instead of further down
    pointwise = -row
    # the first conv may run reversed too: its output then ends u bytes or more after the
    # model input
    u = min_reverse_overlap((1, 50, 10, 1), (1, 25, 5, 16), 2, 0, 3, item)
    first_reversed = -align_up(50 * 10 * item + u - 25 * 5 * 16 * item, 16)
    assert found[-4:] == [pixels, pointwise, pixels, pointwise]
    assert found[:-4] in ([], [first], [first_reversed])
    attrs = assert_below_the_bound_without_overlap(module)
    assert attrs["no_overlap_lower_bound"] == 2 * 25 * row
    # never above one group holding all (the model input `first` bytes in, then the
    # rows and pixels it slid by) by more than the alignment of a second buffer: the link
    # over the model input is kept only where it lowers the bound
    slid = 2 * row + 2 * pixels
    assert attrs["lower_bound"] <= first + 50 * 10 * item + slid
    assert attrs["arena_bytes"] <= align_up(first + 50 * 10 * item + slid, 16)


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
@pytest.mark.parametrize("first", ["stride", "dilation"])
def test_strided_and_dilated_convolutions(q: bool, first: str, tmp_path: Path) -> None:
    net = Chain(q, [1, 25, 11, 2], seed=3).conv(8, k=1)
    strided = lambda n: n.conv(8, k=3, stride=2)  # noqa: E731  (SAME on an odd size)
    dilated = lambda n: n.conv(8, k=3, dilation=2, same=False)  # noqa: E731
    net = dilated(strided(net)) if first == "stride" else strided(dilated(net))
    module = run_and_compare(net.build(), tmp_path)
    # at least two of the 1x1 conv over the model input, the strided and the dilated one
    # (a link is kept only where it lowers the bound)
    found = list(overlaps(module))
    calls = [f"utc_conv2d_{'s8' if q else 'f32'}#{i}" for i in range(3)]
    assert len(found) >= 2 and set(found) <= set(calls)
    assert_below_the_bound_without_overlap(module)


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling(q: bool, kind: str, tmp_path: Path) -> None:
    other = "avg" if kind == "max" else "max"
    net = (Chain(q, [1, 16, 11, 2], seed=6).conv(8, k=1).pool(kind, 3, 1, same=True)
           .pool(other, 2, 2, same=False))
    module = run_and_compare(net.build(), tmp_path)
    t = "s8" if q else "f32"
    assert list(overlaps(module)) == [f"utc_conv2d_{t}#0", f"utc_{kind}_pool_{t}#1",
                                      f"utc_{other}_pool_{t}#2"]
    assert_below_the_bound_without_overlap(module)


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_expanding_and_shrinking_channels(q: bool, tmp_path: Path) -> None:
    """A 1x1 conv doubling the channels needs d >= its whole input, yet the group
    (d + input, within the larger output) is smaller than the two apart; a 3x3 conv
    shrinking them needs less than one input row. (The first conv overlaps the model
    input.)"""
    net = Chain(q, [1, 8, 8, 3], seed=4).conv(8, k=1).conv(16, k=1).conv(4)
    module = run_and_compare(net.build(), tmp_path)
    found = overlaps(module)
    item = 1 if q else 4
    assert len(found) in (2, 3), found
    expanding, shrinking = list(found.values())[-2:]
    assert expanding >= 8 * 8 * 8 * item or expanding < 0  # at least the input, or reversed
    assert shrinking < 8 * 16 * item  # under one input row
    assert_below_the_bound_without_overlap(module)


def test_o1_overlaps_too(tmp_path: Path) -> None:
    net = Chain(True, [1, 12, 12, 3], seed=5).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path, opt_level=1)
    assert len(overlaps(module)) >= 2
    assert_below_the_bound_without_overlap(module)


def test_o0_does_not_overlap(tmp_path: Path) -> None:
    net = Chain(True, [1, 12, 12, 3], seed=5).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path, opt_level=0)
    assert overlaps(module) == {}
    assert "no_overlap_lower_bound" not in main_function(module).attrs


# ---- the model input as the dying input ------------------------------------------------


def _input_view(module, index: int = 0) -> buf.ViewOp:
    """The buffer of model input `index`: a view carrying `input` inside a group."""
    fn = main_function(module)
    assert not any(isinstance(op, buf.AllocOp) and op.attrs.get("input") == index
                   for op in fn.block.ops)
    view = buf.model_inputs(fn.block.ops)[index].op
    assert isinstance(view, buf.ViewOp) and view.attrs["input"] == index
    return view


def _header_and_source(tmp_path: Path) -> tuple[str, str]:
    out = tmp_path / "out"
    return (out / "m.h").read_text(), (out / "m.cpp").read_text()


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_a_convolution_overlaps_the_dying_model_input(q: bool, tmp_path: Path) -> None:
    """The model's first op, a 3x3 convolution (SAME, stride 1) on the model input,
    writes its output from `min_overlap_offset` bytes below the input (one group, live
    from step 0); `m_input(0)` and `m_invoke`'s copy address the input inside the group,
    and the header still describes the input itself. Bit-exact with TFLite Micro through
    `m_invoke` (the harness)."""
    net = Chain(q, [1, 10, 9, 4], seed=7).conv(6).conv(6, k=1)
    module = run_and_compare(net.build(), tmp_path)
    item = 1 if q else 4
    fn = main_function(module)
    conv = next(op for op in fn.block.ops if isinstance(op, buf.CallOp))
    if conv.attrs.get("reverse"):  # int8: rows backwards, the output ending u bytes or more
        # after the input (bottom row first: it reads the last two input rows)
        u = min_reverse_overlap((1, 10, 9, 4), (1, 10, 9, 6), 1, 1, 3, item)
        first = -align_up(10 * 9 * 4 * item + u - 10 * 9 * 6 * item, 16)
    else:
        first = align_up((10 * 9 * 6 - 8 * 9 * 4) * item, 16)  # output row 9 reads from row 8
    assert list(overlaps(module).values())[0] == first
    view = _input_view(module)
    assert root_and_offset(conv.inputs[0]) == root_and_offset(view.result)
    group, at = root_and_offset(view.result)
    assert group.attrs["live"][0] == 0  # written before the first call
    assert at - root_and_offset(conv.outputs[0])[1] == first
    address = group.attrs["offset"] + at
    header, source = _header_and_source(tmp_path)
    nbytes = 10 * 9 * 4 * item
    assert f"#define M_INPUT0_BYTES {nbytes}\n" in header
    assert "#define M_INPUT0_DIMS { 1, 10, 9, 4 }\n" in header
    assert f"#define M_INPUT0_TYPE_{'INT8' if q else 'FLOAT32'} 1\n" in header
    ctype = "int8_t" if q else "float"
    input_buffer = re.search(r"case 0: return (buf_\w+);", source)[1]
    assert f"#define {input_buffer} (({ctype} *)(arena + {address}))\n" in source
    assert f"memcpy({input_buffer}, inputs[0], {nbytes});" in source


def test_an_input_consumed_after_step_0_is_live_from_step_0(tmp_path: Path) -> None:
    """Two inputs and two outputs: a tiny conv on the first input runs first, then a 3x3
    conv overlaps the second input, which dies at step 1. That input is written before
    step 0, so its group is live from step 0 and nothing written at step 0 may take its
    bytes (the plan checker replays that)."""
    net = Chain(True, [1, 2, 2, 1], seed=8).conv(1, k=1)
    x1, y1 = net.x, net.last
    net.scale = 0.05
    x2 = net._act([1, 12, 12, 3], net.scale, -3)
    net.last, net.shape = x2, [1, 12, 12, 3]
    net.conv(8)
    module = run_and_compare(net.b.build([x1, x2], [y1, net.last]), tmp_path)
    assert list(overlaps(module)) == ["utc_conv2d_s8#1"]
    view = _input_view(module, 1)
    group, _ = root_and_offset(view.result)
    fn = main_function(module)
    steps = [i for i, op in enumerate(op for op in fn.block.ops if isinstance(op, buf.CallOp))
             if root_and_offset(op.inputs[0])[0] is group]
    assert steps == [1] and group.attrs["live"][0] == 0
    assert_below_the_bound_without_overlap(module)


ZERO_COPY_MAIN = r"""
/* The zero-copy API: fill m_input(0), m_run(), read m_output(0); samples from stdin. */
#include <stdio.h>
#include <string.h>
#include "m.h"

int main(int argc, char **argv) {
  static unsigned char sample[3][M_INPUT0_BYTES], copy[M_INPUT0_BYTES];
  static unsigned char out[M_OUTPUT0_BYTES];
  const void *ins[1];
  void *outs[1];
  int s;
  (void)argc; (void)argv;
  for (s = 0; s < 3; ++s)
    if (fread(sample[s], 1, M_INPUT0_BYTES, stdin) != M_INPUT0_BYTES) return 3;
  for (s = 0; s < 3; ++s) {  /* refill the input before every run */
    memcpy(m_input(0), sample[s], M_INPUT0_BYTES);
    if (m_run() != 0) return 4;
    fwrite(m_output(0), 1, M_OUTPUT0_BYTES, stdout);
  }
  /* the run consumed its input: report whether the arena still holds the last sample */
  fputc(memcmp(m_input(0), sample[2], M_INPUT0_BYTES) == 0, stdout);
  /* m_invoke copies the caller's input in and never writes to it */
  memcpy(copy, sample[0], M_INPUT0_BYTES);
  ins[0] = sample[0];
  outs[0] = out;
  if (m_invoke(ins, outs) != 0) return 4;
  if (memcmp(copy, sample[0], M_INPUT0_BYTES) != 0) return 5;
  fwrite(out, 1, M_OUTPUT0_BYTES, stdout);
  return 0;
}
"""


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_the_zero_copy_api_with_the_input_overlapped(q: bool, tmp_path: Path) -> None:
    """A C main on the zero-copy API (the input refilled before each of three runs) gives
    TFLite Micro's outputs although each run overwrites the input buffer, and m_invoke
    after them leaves the caller's array untouched."""
    net = Chain(q, [1, 10, 9, 4], seed=9).conv(6).conv(6, k=1)
    model = net.build()
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    _input_view(compiled.module)
    main_c, main_o, exe = tmp_path / "zero_copy.c", tmp_path / "zero_copy.o", tmp_path / "zc"
    main_c.write_text(ZERO_COPY_MAIN)
    out = tmp_path / "out"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{out}", "-c",
                    str(main_c), "-o", str(main_o)], check=True)
    objects = [tmp_path / f"{src.stem}.o" for src in sorted(out.glob("*.cpp"))]
    subprocess.run(["g++", str(main_o), *map(str, objects), "-o", str(exe)], check=True)
    rng = np.random.default_rng(23)
    samples = [random_inputs(model, rng)[0] for _ in range(3)]
    proc = subprocess.run([str(exe)], input=b"".join(x.tobytes() for x in samples),
                          capture_output=True, check=True)
    oracle = TflmRunner(model)
    want = [oracle.run([x])[0] for x in samples]
    (shape, dtype), = compiled.outputs
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    got = [np.frombuffer(proc.stdout[i * size:(i + 1) * size], dtype=dtype).reshape(shape)
           for i in range(3)]
    consumed = proc.stdout[3 * size]
    invoked = np.frombuffer(proc.stdout[3 * size + 1:], dtype=dtype).reshape(shape)
    assert len(proc.stdout) == 4 * size + 1
    for g, w in zip(got + [invoked], want + [want[0]]):
        if q:
            assert np.array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    assert consumed == 0  # the run overwrote (part of) the input buffer, as documented


# ---- in place with a two-pixel buffer ----------------------------------------------------


def _in_place(module) -> list[int]:
    """The steps whose convolution runs in place: output on its data input's bytes, with
    a scratch pixel buffer of the input's channel bytes."""
    fn = main_function(module)
    steps = []
    for step, call in enumerate(op for op in fn.block.ops if isinstance(op, buf.CallOp)):
        if call.inputs and call.outputs and not _smaller(call) and \
                root_and_offset(call.inputs[0]) == root_and_offset(call.outputs[0]):
            pixel = [v for v in call.outputs if buf.is_scratch(v)]
            x = call.inputs[0].type
            assert [v.type.byte_size for v in pixel] == [2 * x.shape[3] * x.element.byte_width], call
            assert call.attrs["callee"].startswith("utc_conv2d_pixel_"), call
            steps.append(step)
    return steps


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_channel_keeping_pointwise_layers_run_in_place(q: bool, tmp_path: Path) -> None:
    """Two 1x1 convolutions keeping 20 channels, then a pooling: both convolutions run in
    place over their dying inputs (the first over the model input) with a buffer of
    two pixels, so the arena is one tensor and two pixels (int8: 2,040 B) where forward
    or reverse overlap needs a row more for each (2,208 B). Bit-exact with TFLite Micro
    (float32: within 1e-5)."""
    net = (Chain(q, [1, 10, 10, 20], seed=10).conv(20, k=1).conv(20, k=1)
           .pool("max", 2, 2, same=False))
    module = run_and_compare(net.build(), tmp_path)
    assert _in_place(module) == [0, 1]
    attrs = assert_below_the_bound_without_overlap(module)
    item = 1 if q else 4
    assert attrs["arena_bytes"] == (10 * 10 * 20 + 2 * 20) * item


def test_in_place_is_not_taken_where_overlap_is_as_small(tmp_path: Path) -> None:
    """DS-CNN's shape (pointwise layers between depthwise ones that slide the chain down):
    in place would not lower the arena, so the pointwise layers keep their reverse
    placement, no pixel buffer. Bit-exact with TFLite Micro."""
    net = (Chain(True, [1, 9, 7, 12], seed=11).conv(12, k=1, act="NONE")
           .conv(1, k=3, depthwise=True).conv(12, k=1))
    module = run_and_compare(net.build(), tmp_path)
    assert _in_place(module) == []
    fn = main_function(module)
    assert not any(isinstance(op, buf.AllocOp) and op.scratch for op in fn.block.ops)
