"""Builtins and dtypes TFLite Micro runs that utc lacked (issue 11 point 4): int8 DIV and
RSQRT, 16x8 ABS and SQUARED_DIFFERENCE, L2_NORMALIZATION and LOG_SOFTMAX (int8, float32),
as single-operator models built by the suite's writer, compiled by utc and compared with
TFLite Micro's interpreter on seeded inputs, bit-exact (float32 included: the same float
operations in the same order)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.e2e.op_models import tensor as op_tensor
from tests.oracle import TflmRunner
from tests.tflite_writer import ModelBuilder


def _compare(model: bytes, tmp_path: Path, make_sample: Callable[[], list[np.ndarray]],
             samples: int = 4) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    batch = [make_sample() for _ in range(samples)]
    tflm = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch), strict=True)):
        for k, (g, w) in enumerate(zip(got, tflm.run(sample), strict=True)):
            assert g.shape == tuple(w.shape), f"sample {i} output {k}: {g.shape} vs {w.shape}"
            assert np.array_equal(g, w), (f"sample {i} output {k} differs at "
                                          f"{np.flatnonzero(g.ravel() != w.ravel())[:8]}:\n"
                                          f"utc  {g.ravel()[:8]}\nTFLM {w.ravel()[:8]}")


def _unary_model(op: str, shape: list, q_in, q_out, version: int, options=None) -> bytes:
    b = ModelBuilder(f"utc builtins sweep: {op}")
    x, y = op_tensor(b, "x", shape, q_in), op_tensor(b, "y", shape, q_out)
    b.add_operator(op, [x], [y], options, version=version)
    return b.build([x], [y])


# ---- int8 RSQRT (TFLite Micro's integer arithmetic as a 256-entry table) ----------------------

RSQRT_QUANT = {
    "typical": ((0.05, -128), (0.02, -128)),
    "zp_mid": ((0.1, -3), (0.05, -100)),
    "small_input_scale": ((0.002, -128), (0.5, -128)),
    "large_output": ((0.8, 10), (0.004, -128)),
}


@pytest.mark.parametrize("quant", sorted(RSQRT_QUANT))
def test_rsqrt_int8_every_input(quant: str, tmp_path: Path) -> None:
    """Every stored input from the zero point up (TFLite Micro fails the invocation below
    it, on negative values)."""
    q_in, q_out = RSQRT_QUANT[quant]
    zp = q_in[1]
    n = 128 - zp
    model = _unary_model("RSQRT", [n], q_in, q_out, version=2)
    rng = np.random.default_rng(sorted(RSQRT_QUANT).index(quant))
    values = np.arange(zp, 128)
    _compare(model, tmp_path, lambda: [rng.permutation(values).astype(np.int8)], samples=2)


# ---- L2_NORMALIZATION (int8: output scale 1/128, zero point 0; float32) --------------------

@pytest.mark.parametrize("shape,q_in", [
    ([2, 5, 16], (0.05, -3)),
    ([1, 3, 3, 8], (0.02, 100)),
    ([4, 1], (0.1, -128)),  # one element per row: the inverse square root's <= 1 case
    ([3, 200], (0.5, 0)),
])
def test_l2_normalization_int8(shape: list, q_in: tuple, tmp_path: Path) -> None:
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    model = _unary_model("L2_NORMALIZATION", shape, q_in, (1 / 128, 0), version=2,
                         options={"fused_activation_function": "NONE"})

    def sample() -> list[np.ndarray]:
        x = rng.integers(-128, 128, size=shape)
        if rng.random() < 0.5:  # values near the zero point: small sums of squares
            x = np.clip(q_in[1] + rng.integers(-2, 3, size=shape), -128, 127)
        return [x.astype(np.int8)]

    _compare(model, tmp_path, sample)


@pytest.mark.parametrize("shape", [[2, 7], [1, 2, 3, 10], [5]])
def test_l2_normalization_float32(shape: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(sum(shape))
    model = _unary_model("L2_NORMALIZATION", shape, None, None, version=1,
                         options={"fused_activation_function": "NONE"})
    _compare(model, tmp_path, lambda: [(rng.standard_normal(shape) * 3).astype(np.float32)])


def test_l2_normalization_refusals(tmp_path: Path) -> None:
    from tests.e2e.test_int32_ops import _refused

    relu = _unary_model("L2_NORMALIZATION", [2, 4], None, None, version=1,
                        options={"fused_activation_function": "RELU"})
    assert "L2_NORMALIZATION: fused activation RELU is not supported" in \
        _refused(relu, tmp_path / "a")
    scale = _unary_model("L2_NORMALIZATION", [2, 4], (0.1, 0), (1 / 256, 0), version=2,
                         options={"fused_activation_function": "NONE"})
    assert "output must be quantized with scale 1/128" in _refused(scale, tmp_path / "b")


# ---- LOG_SOFTMAX (float32) ----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [[3, 10], [2, 2, 5], [1, 1000]])
def test_log_softmax_float32(shape: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(shape[-1])
    model = _unary_model("LOG_SOFTMAX", shape, None, None, version=1)
    _compare(model, tmp_path, lambda: [(rng.standard_normal(shape) * 4).astype(np.float32)])


# ---- int8 DIV (TFLite Micro's fixed-point reciprocal) -------------------------------------------

DIV_QUANT = {  # (in1, in2, out) scale and zero point
    "typical": ((0.05, -3), (0.04, 5), (0.1, 2)),
    "small_quotients": ((0.02, 0), (0.5, -128), (0.01, -10)),
    "large_quotients": ((0.5, 127), (0.01, 10), (2.0, 0)),
    "equal_scales": ((0.1, 0), (0.1, 0), (0.1, 0)),
}


def _div_model(shape1: list, shape2: list, out: list, q: tuple, act: str = "NONE") -> bytes:
    b = ModelBuilder("utc builtins sweep: DIV int8")
    x, y = op_tensor(b, "x", shape1, q[0]), op_tensor(b, "y", shape2, q[1])
    o = op_tensor(b, "o", out, q[2])
    b.add_operator("DIV", [x, y], [o], {"fused_activation_function": act}, version=2)
    return b.build([x, y], [o])


@pytest.mark.parametrize("quant", sorted(DIV_QUANT))
def test_div_int8_every_pair(quant: str, tmp_path: Path) -> None:
    """Every (numerator, divisor) pair of stored values except a divisor at its zero point
    (undefined in TFLite Micro)."""
    q = DIV_QUANT[quant]
    a = np.repeat(np.arange(-128, 128), 256)
    d = np.tile(np.arange(-128, 128), 256)
    keep = d != q[1][1]
    a, d = a[keep].astype(np.int8), d[keep].astype(np.int8)
    model = _div_model([a.size], [d.size], [a.size], q)
    _compare(model, tmp_path, lambda: [a, d], samples=1)


@pytest.mark.parametrize("shape1,shape2,out,act", [
    ([2, 3, 4], [4], [2, 3, 4], "RELU"),
    ([1, 2, 1, 3, 2], [2, 1, 4, 1, 2], [2, 2, 4, 3, 2], "NONE"),  # 5-D broadcasting
    ([6], [1], [6], "RELU6"),
])
def test_div_int8_broadcast(shape1: list, shape2: list, out: list, act: str,
                            tmp_path: Path) -> None:
    q = DIV_QUANT["typical"]
    rng = np.random.default_rng(len(shape1) * 10 + len(shape2))

    def sample() -> list[np.ndarray]:
        d = rng.integers(-128, 128, size=shape2)
        d[d == q[1][1]] = q[1][1] + 1  # no zero divisor
        return [rng.integers(-128, 128, size=shape1).astype(np.int8), d.astype(np.int8)]

    _compare(_div_model(shape1, shape2, out, q, act), tmp_path, sample)


# ---- int8 LOG_SOFTMAX (output scale 16/256, zero point 127) -----------------------------------

@pytest.mark.parametrize("shape,q_in", [
    ([4, 10], (0.1, -5)),
    ([2, 3, 16], (0.05, 20)),
    ([3, 200], (0.5, -128)),   # wide rows and a coarse scale: many saturated outputs
    ([5, 7], (0.004, 0)),      # a fine scale: small differences
])
def test_log_softmax_int8(shape: list, q_in: tuple, tmp_path: Path) -> None:
    rng = np.random.default_rng(shape[-1] + len(shape))
    model = _unary_model("LOG_SOFTMAX", shape, q_in, (16 / 256, 127), version=2)
    _compare(model, tmp_path,
             lambda: [rng.integers(-128, 128, size=shape).astype(np.int8)], samples=6)


# ---- 16x8 ABS (zero points 0) --------------------------------------------------------------------

@pytest.mark.parametrize("q_in,q_out", [
    ((0.01, 0), (0.01, 0)),     # equal scales: |x|, and |-32768| saturates
    ((0.01, 0), (0.003, 0)),    # rescaled up (saturates for large |x|)
    ((0.02, 0), (0.05, 0)),     # rescaled down
])
def test_abs_int16(q_in: tuple, q_out: tuple, tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: ABS int16")
    x = op_tensor(b, "x", [4096], q_in, dtype="int16")
    y = op_tensor(b, "y", [4096], q_out, dtype="int16")
    b.add_operator("ABS", [x], [y], None, version=3)
    rng = np.random.default_rng(int(q_out[0] * 1000))

    def sample() -> list[np.ndarray]:
        v = rng.integers(-32768, 32768, size=4096)
        v[:4] = (-32768, 32767, 0, -1)
        return [v.astype(np.int16)]

    _compare(b.build([x], [y]), tmp_path, sample, samples=2)


# ---- 16x8 SQUARED_DIFFERENCE (zero points 0) ---------------------------------------------------

@pytest.mark.parametrize("shape1,shape2,out,scales", [
    ([2, 64], [2, 64], [2, 64], (0.01, 0.02, 0.5)),
    ([3, 1, 32], [4, 1], [3, 4, 32], (0.003, 0.003, 0.02)),
    ([128], [128], [128], (0.001, 0.0005, 1e-4)),  # a fine output scale: many saturate
])
def test_squared_difference_int16(shape1: list, shape2: list, out: list, scales: tuple,
                                  tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: SQUARED_DIFFERENCE int16")
    x = op_tensor(b, "x", shape1, (scales[0], 0), dtype="int16")
    y = op_tensor(b, "y", shape2, (scales[1], 0), dtype="int16")
    o = op_tensor(b, "o", out, (scales[2], 0), dtype="int16")
    b.add_operator("SQUARED_DIFFERENCE", [x, y], [o], None, version=2)
    rng = np.random.default_rng(len(shape1) + out[-1])

    def sample() -> list[np.ndarray]:
        scale = 32768 if rng.random() < 0.5 else 400
        return [rng.integers(-scale, scale, size=shape1).astype(np.int16),
                rng.integers(-scale, scale, size=shape2).astype(np.int16)]

    _compare(b.build([x, y], [o]), tmp_path, sample)
