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

from pathlib import Path

import numpy as np
import pytest
from utc.compiler.planning.aliasing import call_overlap_offset
from utc.compiler.planning.intervals import Buffer, arena_lower_bound
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.inplace import root_and_offset

from tests.e2e.harness import compile_and_build
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
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(17)
    batch = [random_inputs(model, rng) for _ in range(SAMPLES)]
    oracle = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            if np.issubdtype(w.dtype, np.integer):
                assert np.array_equal(g, w), f"sample {i} output {k}: {int(np.sum(g != w))} differ"
            else:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    return compiled.module


def overlaps(module) -> dict[str, int]:
    """callee#step -> bytes the output starts before its data input, for every call whose
    output and input share a root buffer at different offsets (checked >= the bound)."""
    fn = main_function(module)
    out = {}
    for step, call in enumerate(op for op in fn.block.ops if isinstance(op, buf.CallOp)):
        if not call.inputs or not call.outputs:
            continue
        (src, s_off), (dst, d_off) = root_and_offset(call.inputs[0]), root_and_offset(call.outputs[0])
        if src is not None and src is dst and s_off != d_off:
            need = call_overlap_offset(call.attrs["callee"], call.attrs, 0, call.inputs[0],
                                       call.outputs[0])
            assert need is not None and s_off - d_off >= need, call
            assert (s_off - d_off) % main_function(module).attrs["plan_alignment"] == 0
            out[f"{call.attrs['callee']}#{step}"] = s_off - d_off
    return out


def assert_below_the_bound_without_overlap(module) -> dict:
    fn = main_function(module)
    attrs = fn.attrs
    aligned = arena_lower_bound([Buffer(f"b{i}", op.attrs["size"], *op.attrs["live"],
                                        attrs["plan_alignment"])
                                 for i, op in enumerate(fn.block.ops)
                                 if isinstance(op, buf.AllocOp)])
    assert attrs["lower_bound"] <= attrs["arena_bytes"] <= aligned
    assert attrs["arena_bytes"] < attrs["no_overlap_lower_bound"] <= attrs["copy_lower_bound"]
    return attrs


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_a_chain_of_same_convolutions_slides_down_one_buffer(q: bool, tmp_path: Path) -> None:
    # the first conv reads the model input (left alone); the next two overlap their inputs
    net = Chain(q, [1, 12, 12, 3], seed=1).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path)
    item = 1 if q else 4
    row = 12 * 8 * item
    assert list(overlaps(module).values()) == [2 * row, 2 * row]
    attrs = assert_below_the_bound_without_overlap(module)
    # without overlap: a conv's input and output (2 x 1152 B); with: the model input
    # (432 B) beside one group of 1152 B + 4 rows, live from step 0 on
    assert attrs["no_overlap_lower_bound"] == 2 * 12 * 12 * 8 * item
    assert attrs["lower_bound"] == (12 * 12 * 3 + 12 * 12 * 8) * item + 4 * row


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_depthwise_and_pointwise_layers_overlap(q: bool, tmp_path: Path) -> None:
    """DS-CNN's shape: after a stride-2 conv, depthwise 3x3 and pointwise layers alternate;
    each output starts two rows (depthwise) or one row (pointwise) below its input."""
    net = (Chain(q, [1, 50, 10, 1], seed=2).conv(16, k=3, stride=2)
           .conv(1, depthwise=True).conv(16, k=1).conv(1, depthwise=True).conv(16, k=1))
    module = run_and_compare(net.build(), tmp_path)
    row = 5 * 16 * (1 if q else 4)
    assert list(overlaps(module).values()) == [2 * row, row, 2 * row, row]
    attrs = assert_below_the_bound_without_overlap(module)
    assert attrs["no_overlap_lower_bound"] == 2 * 25 * row
    # the model input beside the one group: a 25-row buffer plus the 6 rows it slid by
    assert attrs["lower_bound"] == 50 * 10 * (1 if q else 4) + 25 * row + 6 * row


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
@pytest.mark.parametrize("first", ["stride", "dilation"])
def test_strided_and_dilated_convolutions(q: bool, first: str, tmp_path: Path) -> None:
    net = Chain(q, [1, 25, 11, 2], seed=3).conv(8, k=1)
    strided = lambda n: n.conv(8, k=3, stride=2)  # noqa: E731  (SAME on an odd size)
    dilated = lambda n: n.conv(8, k=3, dilation=2, same=False)  # noqa: E731
    net = dilated(strided(net)) if first == "stride" else strided(dilated(net))
    module = run_and_compare(net.build(), tmp_path)
    assert list(overlaps(module)) == [f"utc_conv2d_{'s8' if q else 'f32'}#1"]
    assert_below_the_bound_without_overlap(module)


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling(q: bool, kind: str, tmp_path: Path) -> None:
    other = "avg" if kind == "max" else "max"
    net = (Chain(q, [1, 16, 11, 2], seed=6).conv(8, k=1).pool(kind, 3, 1, same=True)
           .pool(other, 2, 2, same=False))
    module = run_and_compare(net.build(), tmp_path)
    assert list(overlaps(module)) == [f"utc_{kind}_pool_{'s8' if q else 'f32'}#1"]
    assert_below_the_bound_without_overlap(module)


@pytest.mark.parametrize("q", [True, False], ids=["int8", "f32"])
def test_expanding_and_shrinking_channels(q: bool, tmp_path: Path) -> None:
    """A 1x1 conv doubling the channels needs d >= its whole input, yet the group
    (d + input, within the larger output) is smaller than the two apart; a 3x3 conv
    shrinking them needs less than one input row."""
    net = Chain(q, [1, 8, 8, 3], seed=4).conv(8, k=1).conv(16, k=1).conv(4)
    module = run_and_compare(net.build(), tmp_path)
    found = overlaps(module)
    item = 1 if q else 4
    assert len(found) == 2, found
    expanding, shrinking = found.values()
    assert expanding >= 8 * 8 * 8 * item  # at least the input
    assert shrinking < 8 * 16 * item  # under one input row
    assert_below_the_bound_without_overlap(module)


def test_o1_overlaps_too(tmp_path: Path) -> None:
    net = Chain(True, [1, 12, 12, 3], seed=5).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path, opt_level=1)
    assert len(overlaps(module)) == 2
    assert_below_the_bound_without_overlap(module)


def test_o0_does_not_overlap(tmp_path: Path) -> None:
    net = Chain(True, [1, 12, 12, 3], seed=5).conv(8, k=1).conv(8).conv(8)
    module = run_and_compare(net.build(), tmp_path, opt_level=0)
    assert overlaps(module) == {}
    assert "no_overlap_lower_bound" not in main_function(module).attrs
