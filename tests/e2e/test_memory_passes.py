"""End to end for the memory passes on small models built for them: fold-pad, inplace,
reorder-for-memory, concat-in-place and the no-op QUANTIZE canonicalization. Each model
is compiled at -O2, built, run on seeded random inputs and compared with TFLite Micro
(bit-exact for int8); the IR must show the optimization, the IR-level plan checker runs
inside `compile_and_build`, and the arena must be at the fixed-order bound (rounded up
for alignment) and strictly below the copy bound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.planning.intervals import Buffer, arena_lower_bound

from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs
from tests.tflite_writer import ModelBuilder

SAMPLES = 20


class Net:
    """A tiny model writer: int8 (per-tensor activations, per-channel weights) or float."""

    def __init__(self, q: bool, seed: int = 0):
        self.b = ModelBuilder("utc memory-pass test")
        self.q = q
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def act(self, shape, scale: float = 0.05, zp: int = -3) -> int:
        self.n += 1
        if self.q:
            return self.b.add_tensor(f"t{self.n}", shape, "int8", scale=scale, zero_point=zp)
        return self.b.add_tensor(f"t{self.n}", shape, "float32")

    def conv(self, x: int, in_shape, out_c: int, k: int = 1, depthwise: bool = False,
             out_scale: float = 0.08, out_zp: int = 2, in_scale: float = 0.05) -> tuple[int, list]:
        n, h, w, c = in_shape
        out_shape = [n, h - k + 1, w - k + 1, out_c]
        w_shape = [1, k, k, out_c] if depthwise else [out_c, k, k, c]
        self.n += 1
        if self.q:
            scales = self.rng.uniform(0.002, 0.02, out_c)
            wt = self.b.add_tensor(f"w{self.n}", w_shape, "int8",
                                   data=self.rng.integers(-127, 128, w_shape),
                                   scale=list(scales), zero_point=0,
                                   quantized_dimension=3 if depthwise else 0)
            bias = self.b.add_tensor(f"b{self.n}", [out_c], "int32",
                                     data=self.rng.integers(-500, 500, out_c),
                                     scale=list(in_scale * scales), zero_point=0)
        else:
            wt = self.b.add_tensor(f"w{self.n}", w_shape, "float32",
                                   data=self.rng.standard_normal(w_shape).astype(np.float32))
            bias = self.b.add_tensor(f"b{self.n}", [out_c], "float32",
                                     data=self.rng.standard_normal(out_c).astype(np.float32))
        y = self.act(out_shape, out_scale, out_zp)
        op = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        self.b.add_operator(op, [x, wt, bias], [y], {"padding": "VALID"})
        return y, out_shape

    def op(self, name: str, inputs: list[int], out_shape, options=None, scale: float = 0.05,
           zp: int = -3) -> int:
        y = self.act(out_shape, scale, zp)
        self.b.add_operator(name, inputs, [y], options)
        return y

    def const_i32(self, data) -> int:
        self.n += 1
        data = np.asarray(data, dtype=np.int64)
        return self.b.add_tensor(f"c{self.n}", list(data.shape), "int32", data=data)


def run_and_compare(model: bytes, tmp_path: Path, opt_level: int = 2, samples: int = SAMPLES,
                    seed: int = 11, atol: float = 1e-6):
    """Compile `model` at `opt_level`, build it, run it on `samples` seeded random inputs
    and compare with TFLite Micro: bit-exact for integer outputs, within rtol 1e-5 and
    `atol` for float ones. Returns the compiled module. (Shared with test_overlap.py.)"""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(seed)
    batch = [random_inputs(model, rng) for _ in range(samples)]
    oracle = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            if np.issubdtype(w.dtype, np.integer):
                assert np.array_equal(g, w), f"sample {i} output {k}: {int(np.sum(g != w))} differ"
            else:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=atol)
    return compiled.module


def calls(module) -> list[buf.CallOp]:
    return [op for op in main_function(module).block.ops if isinstance(op, buf.CallOp)]


def aligned_bound(module) -> int:
    """The fixed-order bound with every buffer's offset rounded up to the plan alignment
    (`arena_lower_bound`), from the planned buffers in the IR."""
    fn = main_function(module)
    align = fn.attrs["plan_alignment"]
    return arena_lower_bound([Buffer(f"b{i}", op.attrs["size"], *op.attrs["live"], align)
                              for i, op in enumerate(fn.block.ops)
                              if isinstance(op, buf.AllocOp)])


def assert_tight(module, strict: bool = True) -> dict:
    """arena <= the bound rounded up for alignment (and < the copy bound when `strict`)."""
    attrs = main_function(module).attrs
    assert attrs["lower_bound"] <= attrs["arena_bytes"] <= aligned_bound(module)
    assert attrs["gap"] == attrs["arena_bytes"] - attrs["lower_bound"]
    if strict:
        assert attrs["arena_bytes"] < attrs["copy_lower_bound"], attrs
    return attrs


@pytest.mark.parametrize("q,depthwise", [(True, False), (True, True), (False, False),
                                         (False, True)])
def test_pad_folds_into_the_convolution(q: bool, depthwise: bool, tmp_path: Path) -> None:
    net = Net(q, seed=1)
    x = net.act([1, 6, 6, 3])
    pads = net.const_i32([[0, 0], [1, 2], [2, 1], [0, 0]])
    p = net.op("PAD", [x, pads], [1, 9, 9, 3])
    y, _ = net.conv(p, [1, 9, 9, 3], 3 if depthwise else 4, k=3, depthwise=depthwise)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    assert [c.attrs["op"].split(".")[1] for c in calls(module)] == [
        "depthwise_conv2d" if depthwise else "conv2d"]
    assert calls(module)[0].attrs["pad"] == (1, 2, 2, 1)
    assert_tight(module)


@pytest.mark.parametrize("q", [True, False])
def test_activations_run_in_place(q: bool, tmp_path: Path) -> None:
    net = Net(q, seed=2)
    x = net.act([1, 8, 8, 2])
    c, shape = net.conv(x, [1, 8, 8, 2], 16)
    t = net.op("TANH", [c], shape, scale=1 / 128, zp=0)
    y = net.op("LOGISTIC", [t], shape, scale=1 / 256, zp=-128)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    for call in calls(module)[1:]:  # TANH over the conv output, LOGISTIC over TANH's
        assert isinstance(call.outputs[0].op, buf.ViewOp)
        assert call.outputs[0].op.operand("source") is call.inputs[0]
    item = 1 if q else 4
    attrs = assert_tight(module)
    # the conv step: its output starts 1024 - 7 * 16 elements before the model input (128
    # elements) dying there, one group for both (overlap-buffers)
    assert attrs["lower_bound"] == (1024 - 7 * 16 + 128) * item
    assert attrs["copy_lower_bound"] == 2 * 1024 * item


@pytest.mark.parametrize("q", [True, False])
def test_a_broadcast_multiply_runs_in_place(q: bool, tmp_path: Path) -> None:
    """MUL of a conv output by a per-channel constant writes over the conv output."""
    net = Net(q, seed=8)
    x = net.act([1, 6, 6, 2])
    c, shape = net.conv(x, [1, 6, 6, 2], 8)
    net.n += 1
    if q:
        k = net.b.add_tensor("k", [8], "int8", data=net.rng.integers(-127, 128, 8),
                             scale=0.01, zero_point=0)
    else:
        k = net.b.add_tensor("k", [8], "float32",
                             data=net.rng.standard_normal(8).astype(np.float32))
    y = net.op("MUL", [c, k], shape, {"fused_activation_function": "RELU"}, scale=0.02, zp=-1)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    mul = calls(module)[1]
    assert isinstance(mul.outputs[0].op, buf.ViewOp)
    assert mul.outputs[0].op.operand("source") is mul.inputs[0]
    assert_tight(module, strict=False)  # the conv step (input + output) is the peak


def test_branches_are_reordered_at_o2(tmp_path: Path) -> None:
    net = Net(True, seed=3)
    x = net.act([1, 8, 8, 4])
    a, s = net.conv(x, [1, 8, 8, 4], 32)
    b, _ = net.conv(x, [1, 8, 8, 4], 32, out_zp=-5)
    a2, s2 = net.conv(a, s, 2)
    b2, _ = net.conv(b, s, 2, out_zp=7)
    y = net.op("ADD", [a2, b2], s2, {"fused_activation_function": "NONE"}, scale=0.1, zp=1)
    model = net.b.build([x], [y])
    o1 = run_and_compare(model, tmp_path / "o1", opt_level=1)
    o2 = run_and_compare(model, tmp_path / "o2", opt_level=2)
    # -O1 keeps the importer's order: both 2 KiB branch tensors live at once, the second
    # in a group with the model input that dies at its conv (it starts 2048 - 7 * 32
    # bytes before the input); the first branch's 128 B result shares the group of its
    # 2 KiB input and is not in use yet at that step (the bound counts bytes in use)
    assert main_function(o1).attrs["lower_bound"] == 2048 + (2048 - 7 * 32 + 256)
    # -O2 finishes one branch first: the input + one branch tensor, whose 128 B result
    # overlaps it, starting 16 B below (the copy bound is of the same, reordered
    # schedule)
    attrs = assert_tight(o2, strict=False)
    assert attrs["lower_bound"] == 256 + 2048 + 16
    assert attrs["arena_bytes"] < main_function(o1).attrs["arena_bytes"]


def test_a_quantize_to_the_same_quantization_disappears(tmp_path: Path) -> None:
    net = Net(True, seed=4)
    x = net.act([1, 4, 4, 2])
    c, shape = net.conv(x, [1, 4, 4, 2], 8, out_scale=0.07, out_zp=3)
    y = net.op("QUANTIZE", [c], shape, scale=0.07, zp=3)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    assert [c.attrs["callee"] for c in calls(module)] == ["utc_conv2d_s8"]


@pytest.mark.parametrize("pads,value", [([[0, 0], [1, 1], [1, 1], [0, 0]], 9),
                                        ([[0, 0], [0, 0], [0, 0], [1, 2]], None)])
def test_other_pads_stay(pads, value, tmp_path: Path) -> None:
    """A PADV2 with a value other than the zero point, or a PAD of the channels, stays."""
    net = Net(True, seed=6)
    x = net.act([1, 5, 5, 3])
    out = [d + a + b for d, (a, b) in zip([1, 5, 5, 3], pads)]
    inputs = [x, net.const_i32(pads)]
    if value is not None:
        net.n += 1
        inputs.append(net.b.add_tensor(f"v{net.n}", [], "int8", data=np.array(value),
                                       scale=0.05, zero_point=-3))
    p = net.op("PADV2" if value is not None else "PAD", inputs, out)
    y, _ = net.conv(p, out, 4, k=3)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    assert [c.attrs["op"] for c in calls(module)] == ["tensor.pad", "qnn.conv2d"]
    assert_tight(module, strict=False)


@pytest.mark.parametrize("q", [True, False])
def test_concatenation_inputs_are_produced_in_place(q: bool, tmp_path: Path) -> None:
    net = Net(q, seed=5)
    x = net.act([1, 4, 8, 3])
    a, s = net.conv(x, [1, 4, 8, 3], 8, out_scale=0.06, out_zp=1)
    b, _ = net.conv(x, [1, 4, 8, 3], 8, out_scale=0.06, out_zp=1)
    cat = net.op("CONCATENATION", [a, b], [1, 8, 8, 8], {"axis": 1}, scale=0.06, zp=1)
    y, _ = net.conv(cat, [1, 8, 8, 8], 4, in_scale=0.06)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    assert all(c.attrs["op"] != "tensor.concatenation" for c in calls(module))
    assert_tight(module)


def test_a_concatenation_of_interleaved_rows_stays(tmp_path: Path) -> None:
    net = Net(True, seed=7)
    x = net.act([1, 4, 4, 3])
    a, s = net.conv(x, [1, 4, 4, 3], 4, out_scale=0.06, out_zp=1)
    b, _ = net.conv(x, [1, 4, 4, 3], 4, out_scale=0.06, out_zp=1)
    cat = net.op("CONCATENATION", [a, b], [1, 4, 4, 8], {"axis": 3}, scale=0.06, zp=1)
    y, _ = net.conv(cat, [1, 4, 4, 8], 4, in_scale=0.06)
    module = run_and_compare(net.b.build([x], [y]), tmp_path)
    assert [c.attrs["op"] for c in calls(module)].count("tensor.concatenation") == 1
