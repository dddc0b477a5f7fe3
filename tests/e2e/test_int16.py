"""16x8 quantization (int16 activations, int8 weights, int64 bias): the operators utc
implements for it, as single-operator and small chained models compiled by utc and
compared bit-exactly with TFLite Micro on seeded random inputs (uniform over the whole
int16 range, where saturation and rounding bugs live), and the clear refusals for what it
does not implement yet.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.e2e import test_ops as ops
from tests.e2e.op_models import check_against_oracle, int_const, single_op
from tests.kernel_harness import seeded_rng
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

SEED = 20261204
ACTS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


def _fc_layer(b: ModelBuilder, rng: np.random.Generator, x: int, x_scale: float, batches: int,
              depth: int, units: int, name: str, act: str = "NONE", bias: bool = True,
              per_channel: bool = False) -> tuple[int, float]:
    """A 16x8 FULLY_CONNECTED on tensor `x`; returns its output tensor and scale. The
    output scale follows the accumulator's spread so outputs use the int16 range."""
    w_scale: float | list[float] = (
        [float(s) for s in rng.uniform(0.002, 0.02, units)] if per_channel
        else float(rng.uniform(0.002, 0.02)))
    weights = rng.integers(-127, 128, size=(units, depth))
    w = b.add_tensor(f"{name}_w", [units, depth], "int8", data=weights, scale=w_scale,
                     zero_point=0)
    mean_w = float(np.mean(w_scale))
    bias_scale = [x_scale * s for s in w_scale] if per_channel else x_scale * mean_w
    bi = -1
    if bias:
        bi = b.add_tensor(f"{name}_b", [units], "int64",
                          data=rng.integers(-(1 << 20), 1 << 20, size=units),
                          scale=bias_scale, zero_point=0)
    out_scale = x_scale * mean_w * math.sqrt(depth) * 127 * 4 / 3
    y = b.add_tensor(f"{name}_y", [batches, units], "int16", scale=out_scale, zero_point=0)
    b.add_operator("FULLY_CONNECTED", [x, w, bi], [y],
                   {"fused_activation_function": act}, version=7)
    return y, out_scale


def fc16_model(batches: int, depth: int, units: int, act: str = "NONE", bias: bool = True,
               per_channel: bool = False, seed: tuple = ()) -> bytes:
    rng = _rng("fc16", batches, depth, units, act, bias, per_channel, *seed)
    b = ModelBuilder("utc 16x8 FULLY_CONNECTED")
    x_scale = float(rng.uniform(1e-4, 1e-3))
    x = b.add_tensor("x", [batches, depth], "int16", scale=x_scale, zero_point=0)
    y, _ = _fc_layer(b, rng, x, x_scale, batches, depth, units, "fc", act, bias, per_channel)
    return b.build([x], [y])


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", [(1, 4, 3), (2, 37, 11), (1, 300, 5), (3, 1, 1)])
def test_fully_connected_16x8(shape: tuple[int, int, int], act: str, tmp_path: Path) -> None:
    check_against_oracle(fc16_model(*shape, act=act), tmp_path)


def test_fully_connected_16x8_without_bias(tmp_path: Path) -> None:
    check_against_oracle(fc16_model(2, 24, 7, bias=False), tmp_path)


def test_fully_connected_16x8_per_channel(tmp_path: Path) -> None:
    check_against_oracle(fc16_model(2, 40, 9, act="RELU", per_channel=True), tmp_path)


def conv16_model(op: str, x_shape: list[int], kernel: tuple[int, int], n: int,
                 stride: tuple[int, int], dilation: tuple[int, int], padding: str,
                 act: str = "NONE", per_channel: bool = True, bias: bool = True) -> bytes:
    """A 16x8 CONV_2D (n output channels) or DEPTHWISE_CONV_2D (depth multiplier n)."""
    rng = _rng(op, *x_shape, *kernel, n, *stride, *dilation, padding, act, per_channel, bias)
    b = ModelBuilder(f"utc 16x8 {op}")
    batches, h, w, c = x_shape
    kh, kw = kernel
    out_c = n if op == "CONV_2D" else c * n
    w_shape = [out_c, kh, kw, c] if op == "CONV_2D" else [1, kh, kw, out_c]
    x_scale = float(rng.uniform(1e-4, 1e-3))
    w_scale: float | list[float] = (
        [float(v) for v in rng.uniform(0.002, 0.02, out_c)] if per_channel
        else float(rng.uniform(0.002, 0.02)))
    axis = 0 if op == "CONV_2D" else 3
    x = b.add_tensor("x", x_shape, "int16", scale=x_scale, zero_point=0)
    wt = b.add_tensor("w", w_shape, "int8", data=rng.integers(-127, 128, size=w_shape),
                      scale=w_scale, zero_point=0, quantized_dimension=axis)
    mean_w = float(np.mean(w_scale))
    bi = -1
    if bias:
        bias_scale = ([x_scale * v for v in w_scale] if per_channel else x_scale * mean_w)
        bi = b.add_tensor("b", [out_c], "int64",
                          data=rng.integers(-(1 << 20), 1 << 20, size=out_c),
                          scale=bias_scale, zero_point=0)

    def out_size(size: int, k: int, s: int, d: int) -> int:
        span = d * (k - 1) + 1
        return (size + s - 1) // s if padding == "SAME" else (size - span) // s + 1

    oh, ow = out_size(h, kh, stride[0], dilation[0]), out_size(w, kw, stride[1], dilation[1])
    taps = kh * kw * (c if op == "CONV_2D" else 1)
    out_scale = x_scale * mean_w * math.sqrt(taps) * 127 * 4 / 3
    y = b.add_tensor("y", [batches, oh, ow, out_c], "int16", scale=out_scale, zero_point=0)
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1],
            "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1],
            "fused_activation_function": act}
    if op == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = n
    b.add_operator(op, [x, wt, bi], [y], opts)
    return b.build([x], [y])


CONV16_CASES = {
    "3x3-same": ([1, 6, 7, 3], (3, 3), 4, (1, 1), (1, 1), "SAME"),
    "1x1": ([1, 5, 5, 8], (1, 1), 5, (1, 1), (1, 1), "VALID"),
    "stride2-valid": ([2, 9, 8, 2], (3, 2), 3, (2, 2), (1, 1), "VALID"),
    "dilated": ([1, 9, 9, 4], (3, 3), 2, (1, 2), (2, 2), "SAME"),
    "deep": ([1, 4, 4, 70], (3, 3), 3, (1, 1), (1, 1), "SAME"),
    "audio": ([1, 49, 10, 1], (10, 4), 8, (2, 2), (1, 1), "SAME"),
}


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("case", sorted(CONV16_CASES))
def test_convolutions_16x8(op: str, case: str, tmp_path: Path) -> None:
    check_against_oracle(conv16_model(op, *CONV16_CASES[case]), tmp_path)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_convolutions_16x8_activations_and_quantization(op: str, act: str,
                                                         tmp_path: Path) -> None:
    model = conv16_model(op, [1, 5, 6, 3], (3, 3), 2, (1, 1), (1, 1), "SAME", act=act,
                         per_channel=act != "RELU",
                         bias=act != "RELU6" or op == "DEPTHWISE_CONV_2D")
    check_against_oracle(model, tmp_path)


def _convert_model(in_dtype: str, in_q: tuple[float, int] | None, out_dtype: str,
                   out_q: tuple[float, int] | None, op: str = "QUANTIZE") -> bytes:
    b = ModelBuilder(f"utc {op} {in_dtype} -> {out_dtype}")
    shape = [2, 3, 17]
    kw_in = {"scale": in_q[0], "zero_point": in_q[1]} if in_q else {}
    kw_out = {"scale": out_q[0], "zero_point": out_q[1]} if out_q else {}
    x = b.add_tensor("x", shape, in_dtype, **kw_in)
    y = b.add_tensor("y", shape, out_dtype, **kw_out)
    b.add_operator(op, [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("case", [
    ("float32", None, "int16", (1 / 4096, 0)),
    ("float32", None, "int16", (3e-4, 7)),
    ("int8", (0.05, -3), "int16", (1e-4, 0)),
    ("int8", (0.05, -3), "int16", (0.3, 5)),
    ("int16", (1e-3, 0), "int8", (0.05, 4)),
    ("int16", (2e-4, 0), "int8", (0.5, -128)),
    ("int16", (1e-3, 0), "int16", (7e-4, 0)),
    ("int16", (1e-3, 0), "int16", (1e-3, 0)),
], ids=lambda c: f"{c[0]}-{c[2]}-{c[3][0]:g}-{c[3][1]}")
def test_quantize_to_and_from_int16(case, tmp_path: Path) -> None:
    check_against_oracle(_convert_model(*case), tmp_path, float_scale=4.0)


@pytest.mark.parametrize("q", [(1e-3, 0), (2.5e-4, -17)])
def test_dequantize_int16(q, tmp_path: Path) -> None:
    check_against_oracle(_convert_model("int16", q, "float32", None, op="DEQUANTIZE"), tmp_path)


def network_16x8(int16_input: bool = False) -> bytes:
    """float32 in, QUANTIZE to int16, three 16x8 layers, DEQUANTIZE out: what the TFLite
    converter writes for a 16x8 dense model with float interface (or with the int16
    interface it writes when asked for integer inputs and outputs)."""
    rng = _rng("network", int16_input)
    b = ModelBuilder("utc 16x8 network")
    x_scale = 4.0 / 32767
    x = b.add_tensor("xq", [1, 24], "int16", scale=x_scale, zero_point=0)
    xf = -1
    if not int16_input:
        xf = b.add_tensor("x", [1, 24], "float32")
        b.add_operator("QUANTIZE", [xf], [x])
    h, s = _fc_layer(b, rng, x, x_scale, 1, 24, 32, "fc1", act="RELU")
    h, s = _fc_layer(b, rng, h, s, 1, 32, 16, "fc2", act="RELU6", per_channel=True)
    h, s = _fc_layer(b, rng, h, s, 1, 16, 4, "fc3")
    if int16_input:
        return b.build([x], [h])
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("DEQUANTIZE", [h], [y])
    return b.build([xf], [y])


def test_a_16x8_network_over_consecutive_invocations(tmp_path: Path) -> None:
    check_against_oracle(network_16x8(), tmp_path, samples=12, float_scale=2.0)


def curves_16x8() -> bytes:
    """TANH -> LOGISTIC -> SOFTMAX on int16 tensors (each output feeds the next: the
    curves' output scale 2^-15 is a valid input scale for all three)."""
    b = ModelBuilder("utc 16x8 curves")
    x = b.add_tensor("x", [4, 24], "int16", scale=3e-4, zero_point=0)
    t = b.add_tensor("t", [4, 24], "int16", scale=2.0 ** -15, zero_point=0)
    g = b.add_tensor("g", [4, 24], "int16", scale=2.0 ** -15, zero_point=0)
    y = b.add_tensor("y", [4, 24], "int16", scale=1 / 32768, zero_point=0)
    b.add_operator("TANH", [x], [t], version=3)
    b.add_operator("LOGISTIC", [t], [g], version=3)
    b.add_operator("SOFTMAX", [g], [y], {"beta": 4.0}, version=3)
    return b.build([x], [y])


def test_curves_16x8_chained(tmp_path: Path) -> None:
    check_against_oracle(curves_16x8(), tmp_path)


QEMU_MODELS = {
    "curves": curves_16x8,
    "network": lambda: network_16x8(int16_input=True),
    "conv-audio": lambda: conv16_model("CONV_2D", *CONV16_CASES["audio"]),
    "depthwise-dilated": lambda: conv16_model("DEPTHWISE_CONV_2D", *CONV16_CASES["dilated"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("model_name", sorted(QEMU_MODELS))
@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4", "cortex-m55"])
def test_16x8_models_on_qemu(target: str, model_name: str, tmp_path: Path) -> None:
    """16x8 models cross-built for the processors they are for, run on QEMU, bit-exact
    with TFLite Micro's interpreter on the benchmark input rule."""
    from tests.e2e.test_cortex_m import lcg_inputs, run_on_qemu
    from tests.oracle import TflmRunner

    model = QEMU_MODELS[model_name]()
    path = tmp_path / "net16.tflite"
    path.write_bytes(model)
    _, ins, _, run = run_on_qemu(path, target, "auto", tmp_path / "work")
    assert run.status == 0 and run.instructions > 0
    want = TflmRunner(model).run(lcg_inputs(ins))
    assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("case", [([1, 7, 9, 5], (3, 3), (2, 2), "SAME"),
                                  ([2, 6, 6, 20], (2, 3), (1, 2), "VALID")])
def test_pooling_16x8(case, op: str, act: str, tmp_path: Path) -> None:
    shape, (fh, fw), (sh, sw), padding = case
    oh = -(-shape[1] // sh) if padding == "SAME" else (shape[1] - fh) // sh + 1
    ow = -(-shape[2] // sw) if padding == "SAME" else (shape[2] - fw) // sw + 1
    q = (2e-4, 0)
    model = single_op(op, [(shape, q)], [([shape[0], oh, ow, shape[3]], q)],
                      {"padding": padding, "stride_h": sh, "stride_w": sw, "filter_height": fh,
                       "filter_width": fw, "fused_activation_function": act},
                      qdtype="int16")
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("act", ACTS[:2] + ("RELU6",))
@pytest.mark.parametrize("shapes", sorted(ops.BROADCAST))
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
def test_add_sub_mul_16x8(op: str, shapes: str, act: str, tmp_path: Path) -> None:
    a, b = ops.BROADCAST[shapes]
    out = list(np.broadcast_shapes(tuple(a), tuple(b)))
    qa, qb, qo = (3e-4, 0), (5e-4, 0), ((2e-4, 0) if op == "MUL" else (6e-4, 0))
    if op == "MUL":
        qo = (qa[0] * qb[0] * 3000, 0)
    model = single_op(op, [(a, qa), (b, qb)], [(out, qo)], {"fused_activation_function": act},
                      qdtype="int16", version={"ADD": 3, "SUB": 3, "MUL": 4}[op])
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum_16x8(op: str, tmp_path: Path) -> None:
    q = (1e-3, 0)
    model = single_op(op, [([2, 1, 3, 1], q), ([1, 4, 1, 5], q)], [([2, 4, 3, 5], q)],
                      qdtype="int16", version=4)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("op", ["RELU", "RELU6"])
@pytest.mark.parametrize("scales", [(1e-3, 1e-3), (2e-4, 5e-4), (1e-2, 3e-3)])
def test_relu_16x8(op: str, scales, tmp_path: Path) -> None:
    qi, qo = (scales[0], 0), ((scales[1], 0) if op == "RELU" else (scales[0], 0))
    model = single_op(op, [([3, 17], qi)], [([3, 17], qo)], qdtype="int16")
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("alpha", [0.2, 1.7, -0.5])
def test_leaky_relu_16x8(alpha: float, tmp_path: Path) -> None:
    model = single_op("LEAKY_RELU", [([4, 33], (1e-3, 0))], [([4, 33], (8e-4, 0))],
                      {"alpha": alpha}, qdtype="int16", version=2)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("case", [([1, 5, 7, 12], [1, 2], True), ([3, 4, 6], [-1], False),
                                  ([2, 3, 4, 5], [0, 3], False)])
def test_mean_16x8(case, tmp_path: Path) -> None:
    shape, axes, keep = case
    resolved = {a % len(shape) for a in axes}
    out = [1 if i in resolved else d for i, d in enumerate(shape)] if keep else \
        [d for i, d in enumerate(shape) if i not in resolved]
    model = single_op("MEAN", [(shape, (1e-3, 0)), ([len(axes)], None)], [(out, (7e-4, 0))],
                      {"keep_dims": keep}, consts={1: int_const(axes)}, qdtype="int16")
    check_against_oracle(model, tmp_path)


# ---- LOGISTIC, TANH, SOFTMAX: TFLite's int16 algorithms ----------------------------------

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)


def _check_inputs(model: bytes, inputs: list[np.ndarray], tmp_path: Path) -> None:
    """Compile `model` (one int16 input) and compare its output on each given input with
    TFLite Micro's, bit for bit."""
    from tests.e2e.harness import compile_and_build
    from tests.oracle import TflmRunner

    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    runner = TflmRunner(model)
    for i, (x, got) in enumerate(zip(inputs, compiled.run([[x] for x in inputs]))):
        want = runner.run([x])[0]
        bad = np.flatnonzero(got[0].reshape(-1) != want.reshape(-1))
        assert bad.size == 0, (f"input {i}: {bad.size} values differ, first at input "
                               f"{x.reshape(-1)[bad[0]]}: {got[0].reshape(-1)[bad[0]]} vs "
                               f"{want.reshape(-1)[bad[0]]}")


#: Input scales of the int16 curves: 2^-12 and 2^-11 (TFLM's power-of-two paths; tanh takes
#: both, logistic only the first), 2^-12 * 1.0004 (counts as a power of two to CheckedLog2),
#: 2^-10 and 2^-13 (powers of two TFLM scales like any other), typical converter scales
#: and the extremes (a scale whose multiplier TFLM truncates from 32767.x, a tiny one).
CURVE16_SCALES = [2.0 ** -12, 2.0 ** -11, 2.0 ** -12 * 1.0004, 2.0 ** -10, 2.0 ** -13,
                  3.0517578e-4 * 1.7, 1.2e-4, 7.3e-3, 2.6, 1e-7, 1e-11]


@pytest.mark.parametrize("scale", CURVE16_SCALES)
@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_logistic_tanh_16x8_every_input(op: str, scale: float, tmp_path: Path) -> None:
    """All 65536 int16 inputs, bit-exact with TFLite Micro."""
    model = single_op(op, [([256, 256], (scale, 0))], [([256, 256], (2.0 ** -15, 0))],
                      qdtype="int16", version=3)
    _check_inputs(model, [ALL_INT16], tmp_path)


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_logistic_tanh_16x8_random_shapes(op: str, tmp_path: Path) -> None:
    model = single_op(op, [([2, 3, 5, 7], (4.1e-4, 0))], [([2, 3, 5, 7], (2.0 ** -15, 0))],
                      qdtype="int16", version=3)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("case", [
    ("input zero point", (1e-3, 5), (2.0 ** -15, 0), "zero points must be 0"),
    ("output scale", (1e-3, 0), (2.0 ** -14, 0), "output scale must be 2^-15"),
    ("input scale", (2.7, 0), (2.0 ** -15, 0), "input scale 2.7"),
])
@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_logistic_tanh_16x8_refusals(op: str, case, tmp_path: Path) -> None:
    """What TFLite Micro rejects (its Prepare, or its DCHECK on the multiplier) is refused
    with one line naming the operator."""
    _, qi, qo, message = case
    model = single_op(op, [([4, 8], qi)], [([4, 8], qo)], qdtype="int16", version=3)
    line = _compile_error(model, tmp_path)
    assert op in line and message in line, line


#: (shape, input scale, beta): typical, a long row, a single column, beta != 1, scales
#: where one step of the input is a large or a tiny step of the exp table.
SOFTMAX16_CASES = {
    "typical": ([4, 10], 1e-3, 1.0),
    "long-row": ([2, 1000], 3e-4, 1.0),
    "one-column": ([5, 1], 1e-3, 1.0),
    "rank4": ([2, 3, 4, 17], 5e-4, 1.0),
    "beta": ([3, 33], 2e-4, 2.5),
    "small-beta": ([3, 33], 1e-3, 0.05),
    "coarse": ([6, 12], 4.5e-3, 1.0),
    "fine": ([6, 12], 1e-5, 1.0),
    "huge-steps": ([4, 64], 0.3, 1.0),
}


@pytest.mark.parametrize("case", sorted(SOFTMAX16_CASES))
def test_softmax_16x8(case: str, tmp_path: Path) -> None:
    shape, scale, beta = SOFTMAX16_CASES[case]
    model = single_op("SOFTMAX", [(shape, (scale, 0))], [(shape, (1 / 32768, 0))],
                      {"beta": beta}, qdtype="int16", version=3)
    check_against_oracle(model, tmp_path, samples=16)


def test_softmax_16x8_every_exp_table_entry(tmp_path: Path) -> None:
    """Rows holding one value and every other int16 value below it: each entry and
    segment of the exp table, and many different sums for the reciprocal table."""
    model = single_op("SOFTMAX", [([256, 256], (10 / 65535, 0))], [([256, 256], (1 / 32768, 0))],
                      {"beta": 1.0}, qdtype="int16", version=3)
    rng = _rng("softmax16-table")
    ramp = ALL_INT16.copy()
    shuffled = rng.permutation(ALL_INT16.reshape(-1)).reshape(256, 256).astype(np.int16)
    sparse = np.full((256, 256), -32768, np.int16)
    sparse[:, 0] = 32767
    sparse[np.arange(256), 1 + np.arange(256) % 255] = np.arange(256, dtype=np.int16) * 128 - 1
    _check_inputs(model, [ramp, shuffled, sparse], tmp_path)


def test_softmax_16x8_tables_are_shared(tmp_path: Path) -> None:
    """Two int16 softmaxes read one copy of the exp and reciprocal tables in flash, and
    match TFLite Micro."""
    from tests.e2e.harness import compile_and_build

    b = ModelBuilder("utc 16x8 two softmaxes")
    x = b.add_tensor("x", [3, 20], "int16", scale=7e-4, zero_point=0)
    h = b.add_tensor("h", [3, 20], "int16", scale=1 / 32768, zero_point=0)
    y = b.add_tensor("y", [3, 20], "int16", scale=1 / 32768, zero_point=0)
    b.add_operator("SOFTMAX", [x], [h], {"beta": 1.0}, version=3)
    b.add_operator("SOFTMAX", [h], [y], {"beta": 30.0}, version=3)
    model = b.build([x], [y])
    check_against_oracle(model, tmp_path)
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "m.tflite").write_bytes(model)
    module = compile_and_build(tmp_path / "again" / "m.tflite", tmp_path / "again").module
    tables = sorted(name for name in module.resources if "lut" in name)
    assert tables == ["softmax16.exp_lut", "softmax16.recip_lut"]


@pytest.mark.parametrize("case", [
    ("output scale", (1e-3, 0), (1 / 256, 0), "output scale must be 1/32768"),
    ("zero point", (1e-3, 0), (1 / 32768, 3), "zero points must be 0"),
])
def test_softmax_16x8_refusals(case, tmp_path: Path) -> None:
    _, qi, qo, message = case
    model = single_op("SOFTMAX", [([4, 8], qi)], [([4, 8], qo)], {"beta": 1.0},
                      qdtype="int16", version=3)
    line = _compile_error(model, tmp_path)
    assert "SOFTMAX" in line and message in line, line


# ---- data movement: the operator sweep's cases with int16 tensors ---------------------

Q16 = (1e-3, 0)


def _move(op: str, inputs, outputs, options=None, consts=None) -> bytes:
    return single_op(op, inputs, outputs, options, consts, qdtype="int16")


def test_reshape_squeeze_expand_dims_int16(tmp_path: Path) -> None:
    for i, model in enumerate((
            _move("RESHAPE", [([1, 4, 6], Q16), ([2], None)], [([6, 4], Q16)],
                  consts={1: int_const([6, 4])}),
            _move("SQUEEZE", [([1, 4, 1, 6], Q16)], [([4, 6], Q16)], {"squeeze_dims": [0, 2]}),
            _move("EXPAND_DIMS", [([4, 6], Q16), ([], None)], [([4, 1, 6], Q16)],
                  consts={1: int_const(1)}))):
        (tmp_path / str(i)).mkdir()
        check_against_oracle(model, tmp_path / str(i))


@pytest.mark.parametrize("op", ["PAD", "PADV2"])
@pytest.mark.parametrize("case", sorted(ops.PAD_CASES))
def test_pad_int16(op: str, case: str, tmp_path: Path) -> None:
    shape, pads = ops.PAD_CASES[case]
    out = [d + a + b for d, (a, b) in zip(shape, pads)]
    inputs = [(shape, Q16), ([len(shape), 2], None)]
    consts = {1: int_const(pads)}
    if op == "PADV2":
        inputs.append(([], Q16))
        consts[2] = (np.array(-1234), None)
    check_against_oracle(_move(op, inputs, [(out, Q16)], consts=consts), tmp_path)


@pytest.mark.parametrize("case", sorted(ops.CONCAT_CASES))
def test_concatenation_int16(case: str, tmp_path: Path) -> None:
    shapes, axis = ops.CONCAT_CASES[case]
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    check_against_oracle(_move("CONCATENATION", [(s, Q16) for s in shapes], [(out, Q16)],
                               {"axis": axis}), tmp_path)


@pytest.mark.parametrize("case", sorted(ops.TRANSPOSE_CASES))
def test_transpose_int16(case: str, tmp_path: Path) -> None:
    shape, perm = ops.TRANSPOSE_CASES[case]
    check_against_oracle(_move("TRANSPOSE", [(shape, Q16), ([len(perm)], None)],
                               [([shape[p] for p in perm], Q16)],
                               consts={1: int_const(perm)}), tmp_path)


@pytest.mark.parametrize("case", sorted(ops.SLICE_CASES))
def test_strided_slice_int16(case: str, tmp_path: Path) -> None:
    shape, begin, end, strides, opts, out = ops.SLICE_CASES[case]
    r = len(shape)
    model = _move("STRIDED_SLICE", [(shape, Q16), ([r], None), ([r], None), ([r], None)],
                  [(out, Q16)], opts,
                  consts={1: int_const(begin), 2: int_const(end), 3: int_const(strides)})
    check_against_oracle(model, tmp_path)


def test_split_and_split_v_int16(tmp_path: Path) -> None:
    split = _move("SPLIT", [([], None), ([6, 4, 9], Q16)], [([6, 4, 3], Q16)] * 3,
                  {"num_splits": 3}, consts={0: int_const(-1)})
    split_v = _move("SPLIT_V", [([2, 10, 3], Q16), ([3], None), ([], None)],
                    [([2, 3, 3], Q16), ([2, 5, 3], Q16), ([2, 2, 3], Q16)], {"num_splits": 3},
                    consts={1: int_const([3, -1, 2]), 2: int_const(1)})
    for name, model in (("split", split), ("split_v", split_v)):
        (tmp_path / name).mkdir()
        check_against_oracle(model, tmp_path / name)


# ---- what is not implemented says so ---------------------------------------------------

def _compile_error(model: bytes, tmp_path: Path) -> str:
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                        "-o", str(out)], capture_output=True, text=True)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert not out.exists(), "no partial output on error"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_an_int16_operator_utc_lacks_is_refused_by_name(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int16", scale=1e-3, zero_point=0)
    y = b.add_tensor("y", [1, 4], "int16", scale=1 / 32768, zero_point=0)
    b.add_operator("HARD_SWISH", [x], [y], version=1)  # TFLite Micro has no int16 HARD_SWISH
    line = _compile_error(b.build([x], [y]), tmp_path)
    assert "operator #0 HARD_SWISH: tensor 'x' (#0): int16 tensors (16x8 quantization) are " \
           "not supported for HARD_SWISH yet (only for ABS, ADD, ASSIGN_VARIABLE, AVERAGE_POOL_2D, " in line


def test_16x8_fully_connected_needs_zero_point_0(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int16", scale=1e-3, zero_point=3)
    w = b.add_tensor("w", [2, 4], "int8", data=np.ones((2, 4)), scale=0.1, zero_point=0)
    y = b.add_tensor("y", [1, 2], "int16", scale=2e-3, zero_point=0)
    b.add_operator("FULLY_CONNECTED", [x, w, -1], [y], version=7)
    line = _compile_error(b.build([x], [y]), tmp_path)
    assert "int16 tensor 'x' (#0) has zero point 3: 16x8 operators need zero point 0" in line


def test_16x8_fully_connected_needs_an_int64_bias(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int16", scale=1e-3, zero_point=0)
    w = b.add_tensor("w", [2, 4], "int8", data=np.ones((2, 4)), scale=0.1, zero_point=0)
    bi = b.add_tensor("b", [2], "int32", data=np.zeros(2), scale=1e-4, zero_point=0)
    y = b.add_tensor("y", [1, 2], "int16", scale=2e-3, zero_point=0)
    b.add_operator("FULLY_CONNECTED", [x, w, bi], [y], version=7)
    line = _compile_error(b.build([x], [y]), tmp_path)
    assert "16x8 operators need an int64 bias" in line
