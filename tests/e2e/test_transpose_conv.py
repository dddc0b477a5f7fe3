"""TRANSPOSE_CONV: int8 (per-channel and per-tensor weights), 16x8 (int64 bias) and
float32, SAME and VALID, strides 1 to 3, with and without the optional bias, every fused
activation, compiled by utc and compared with TFLite Micro on seeded random inputs (int16
inputs uniform over the whole int16 range): bit-exact, float32 included (utc sums each
output's products in the order TFLite Micro scatters them)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.op_models import check_against_oracle
from tests.kernel_harness import seeded_rng
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

SEED = 20261205
ACTS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


def out_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """The output size the TFLite converter writes for a transposed convolution."""
    return size * stride if padding == "SAME" else (size - 1) * stride + kernel


def transpose_conv_model(dtype: str, x_shape: list[int], kernel: tuple[int, int], out_c: int,
                         stride: tuple[int, int], padding: str, act: str = "NONE",
                         bias: bool = True, per_channel: bool = True,
                         out_hw: tuple[int, int] | None = None, version: int = 4,
                         int16_bias: bool = False) -> bytes:
    """One TRANSPOSE_CONV: inputs (output_shape, filter, input[, bias]); `int16_bias`: a
    16x8 model's bias stored as int16 (older converters), which TFLite Micro widens."""
    rng = seeded_rng(SEED, dtype, *x_shape, *kernel, out_c, *stride, padding, act, bias,
                     per_channel, out_hw)
    b = ModelBuilder(f"utc TRANSPOSE_CONV {dtype}")
    n, h, w, c = x_shape
    kh, kw = kernel
    oh, ow = out_hw or (out_size(h, kh, stride[0], padding), out_size(w, kw, stride[1], padding))
    y_shape = [n, oh, ow, out_c]
    w_shape = [out_c, kh, kw, c]
    shape_t = b.add_tensor("output_shape", [4], "int32", data=np.array(y_shape))
    taps = max(1, (kh * kw * c) // (stride[0] * stride[1]))
    if dtype == "float32":
        x = b.add_tensor("x", x_shape, "float32")
        wt = b.add_tensor("w", w_shape, "float32",
                          data=rng.normal(0, 1 / math.sqrt(taps), w_shape).astype(np.float32))
        bi = b.add_tensor("b", [out_c], "float32",
                          data=rng.normal(0, 0.5, out_c).astype(np.float32)) if bias else -1
        y = b.add_tensor("y", y_shape, "float32")
    else:
        act_dtype, bias_dtype = ("int8", "int32") if dtype == "int8" else ("int16", "int64")
        if int16_bias:
            bias_dtype = "int16"
        x_scale = float(rng.uniform(0.005, 0.05)) if dtype == "int8" else \
            float(rng.uniform(1e-4, 1e-3))
        x_zp = int(rng.integers(-20, 20)) if dtype == "int8" else 0
        w_scale: float | list[float] = (
            [float(v) for v in rng.uniform(0.002, 0.02, out_c)] if per_channel
            else float(rng.uniform(0.002, 0.02)))
        x = b.add_tensor("x", x_shape, act_dtype, scale=x_scale, zero_point=x_zp)
        wt = b.add_tensor("w", w_shape, "int8", data=rng.integers(-127, 128, size=w_shape),
                          scale=w_scale, zero_point=0, quantized_dimension=0)
        mean_w = float(np.mean(w_scale))
        bi = -1
        if bias:
            bias_scale = ([x_scale * v for v in w_scale] if per_channel else x_scale * mean_w)
            limit = 1 << (12 if dtype == "int8" else 15 if int16_bias else 20)
            bi = b.add_tensor("b", [out_c], bias_dtype,
                              data=rng.integers(-limit, limit, size=out_c),
                              scale=bias_scale, zero_point=0)
        qmax = 127 if dtype == "int8" else 32767
        out_scale = x_scale * mean_w * math.sqrt(taps) * qmax / 40 if dtype == "int8" else \
            x_scale * mean_w * math.sqrt(taps) * 127 * 4 / 3
        y_zp = int(rng.integers(-10, 10)) if dtype == "int8" else 0
        y = b.add_tensor("y", y_shape, act_dtype, scale=out_scale, zero_point=y_zp)
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1],
            "fused_activation_function": act}
    b.add_operator("TRANSPOSE_CONV", [shape_t, wt, x] + ([bi] if bias else []), [y], opts,
                   version=version)
    return b.build([x], [y])


#: (input shape, kernel, output channels, stride, padding)
CASES = {
    "3x3-s1-same": ([1, 5, 6, 3], (3, 3), 4, (1, 1), "SAME"),
    "3x3-s2-same": ([1, 4, 5, 6], (3, 3), 5, (2, 2), "SAME"),
    "2x2-s2-valid": ([2, 4, 4, 8], (2, 2), 3, (2, 2), "VALID"),
    "4x4-s2-same": ([1, 3, 3, 4], (4, 4), 2, (2, 2), "SAME"),
    "3x2-s3-valid": ([1, 4, 3, 2], (3, 2), 6, (3, 3), "VALID"),
    "5x3-s(1,3)-same": ([1, 3, 4, 5], (5, 3), 3, (1, 3), "SAME"),
    "1x1-s1": ([1, 4, 4, 7], (1, 1), 9, (1, 1), "VALID"),
    "deep": ([1, 3, 3, 40], (3, 3), 6, (2, 2), "SAME"),
    "kernel-below-stride": ([1, 3, 4, 2], (2, 2), 3, (3, 3), "SAME"),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_transpose_conv(dtype: str, case: str, bias: bool, tmp_path: Path) -> None:
    check_against_oracle(transpose_conv_model(dtype, *CASES[case], bias=bias), tmp_path)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_transpose_conv_fused_activation(dtype: str, act: str, tmp_path: Path) -> None:
    check_against_oracle(transpose_conv_model(dtype, [1, 4, 4, 3], (3, 3), 4, (2, 2), "SAME",
                                              act=act), tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_transpose_conv_per_tensor_weights(dtype: str, tmp_path: Path) -> None:
    check_against_oracle(transpose_conv_model(dtype, [1, 4, 5, 3], (3, 3), 4, (2, 1), "SAME",
                                              per_channel=False), tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_transpose_conv_odd_output_size(dtype: str, tmp_path: Path) -> None:
    """An output one larger than SAME's: TFLite Micro uses the output tensor's size."""
    check_against_oracle(transpose_conv_model(dtype, [1, 4, 4, 2], (3, 3), 3, (2, 2), "SAME",
                                              out_hw=(9, 9)), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_transpose_conv_on_cortex_m4(dtype: str, tmp_path: Path) -> None:
    """Cross-built for Cortex-M4, run on QEMU, bit-exact with TFLite Micro."""
    from tests.e2e.test_cortex_m import lcg_inputs, run_on_qemu
    from tests.oracle import TflmRunner

    model = transpose_conv_model(dtype, *CASES["3x3-s2-same"], act="RELU")
    path = tmp_path / "tconv.tflite"
    path.write_bytes(model)
    _, ins, _, run = run_on_qemu(path, "cortex-m4", "auto", tmp_path / "work")
    assert run.status == 0 and run.instructions > 0
    want = TflmRunner(model).run(lcg_inputs(ins))
    if dtype == "float32":  # the M4 may contract products and sums into fused multiply-adds
        got = [np.frombuffer(o, np.float32) for o in run.outputs]
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, np.ravel(w), rtol=1e-5, atol=1e-5)
    else:
        assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]


def test_transpose_conv_16x8_int16_bias(tmp_path: Path) -> None:
    """TFLite Micro widens an int16 bias to int64 before each call; utc at compile time."""
    check_against_oracle(transpose_conv_model("int16", *CASES["3x3-s2-same"], int16_bias=True),
                         tmp_path)
