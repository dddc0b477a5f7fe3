"""Small single-operator TFLite models for the operator sweep, and the comparison that
runs them through utc and through the oracle.

Every factory returns the flatbuffer bytes of one model built with the test writer.
Quantization parameters are given as (scale, zero_point) pairs; ``None`` means float32.
Weights and biases are drawn from a seeded generator and output scales are chosen from
the accumulation range, so outputs use the int8 range instead of saturating.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.e2e.harness import compile_and_build
from tests.oracle import LiteRTRunner, TflmRunner, random_inputs
from tests.tflite_writer import ModelBuilder

Q = tuple[float, int] | None


def tensor(b: ModelBuilder, name: str, shape: Sequence[int], q: Q, data=None,
           dtype: str | None = None) -> int:
    """An int8 tensor when `q` is given, a float32 one otherwise (or `dtype`)."""
    if q is None:
        return b.add_tensor(name, shape, dtype or "float32", data=data)
    return b.add_tensor(name, shape, dtype or "int8", data=data, scale=q[0], zero_point=q[1])


def single_op(op: str, inputs: Sequence[tuple[Sequence[int], Q]],
              outputs: Sequence[tuple[Sequence[int], Q]], options: dict | None = None,
              consts: dict[int, tuple[np.ndarray, str | None]] | None = None,
              version: int = 1, qdtype: str = "int8") -> bytes:
    """A model running `op` once. `consts` maps input positions to (data, dtype) constants
    (dtype None: `qdtype`/float32 from the input's q); all other inputs are model inputs.
    Quantized tensors are `qdtype` (int8, or int16 for 16x8 models)."""
    b = ModelBuilder(f"utc op sweep: {op}")
    consts = consts or {}
    ins, model_inputs = [], []
    for k, (shape, q) in enumerate(inputs):
        if k in consts:
            data, dtype = consts[k]
            quantized = dtype in (None, qdtype)
            ins.append(tensor(b, f"c{k}", shape, q if quantized else None, data,
                              dtype or (qdtype if q else None)))
        else:
            ins.append(tensor(b, f"x{k}", shape, q, dtype=qdtype if q else None))
            model_inputs.append(ins[-1])
    outs = [tensor(b, f"y{k}", shape, q, dtype=qdtype if q else None)
            for k, (shape, q) in enumerate(outputs)]
    b.add_operator(op, ins, outs, options, version=version)
    return b.build(model_inputs, outs)


def int_const(values: Sequence[int] | np.ndarray, dtype: str = "int32") -> tuple[np.ndarray, str]:
    return np.asarray(values, dtype=np.int64), dtype


def random_int8(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    return rng.integers(-127, 128, size=tuple(shape)).astype(np.int8)


def conv_like(op: str, x_shape: Sequence[int], w_shape: Sequence[int], out_shape: Sequence[int],
              options: dict, q: bool, rng: np.random.Generator, per_channel: bool = True,
              in_q: tuple[float, int] = (0.05, -3), bias: bool = True) -> bytes:
    """CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with seeded weights and a bias.

    int8: symmetric weights (per output channel when `per_channel`), int32 bias on
    input_scale * weight_scale, output scale from the accumulation depth."""
    out_channels = w_shape[-1] if op == "DEPTHWISE_CONV_2D" else w_shape[0]
    depth = int(np.prod(w_shape)) // out_channels
    b = ModelBuilder(f"utc op sweep: {op}")
    if q:
        w_scales = (rng.uniform(0.002, 0.02, out_channels) if per_channel
                    else np.full(1, rng.uniform(0.002, 0.02)))
        qdim = 3 if op == "DEPTHWISE_CONV_2D" else 0
        x = b.add_tensor("x", x_shape, "int8", scale=in_q[0], zero_point=in_q[1])
        w = b.add_tensor("w", w_shape, "int8", data=random_int8(rng, w_shape),
                         scale=list(w_scales) if per_channel else float(w_scales[0]),
                         zero_point=0, quantized_dimension=qdim)
        bias_scales = in_q[0] * (w_scales if per_channel else np.full(out_channels, w_scales[0]))
        bi = -1
        if bias:
            bi = b.add_tensor("b", [out_channels], "int32",
                              data=rng.integers(-2000, 2000, out_channels),
                              scale=list(bias_scales) if per_channel else float(bias_scales[0]),
                              zero_point=0)
        kept = 1.0 if op == "DEPTHWISE_CONV_2D" else float(np.sqrt(depth))
        out_scale = float(in_q[0] * np.mean(w_scales) * 127 * kept / 24)
        y = b.add_tensor("y", out_shape, "int8", scale=out_scale, zero_point=int(rng.integers(-20, 20)))
    else:
        x = b.add_tensor("x", x_shape, "float32")
        w = b.add_tensor("w", w_shape, "float32",
                         data=rng.standard_normal(w_shape).astype(np.float32))
        bi = b.add_tensor("b", [out_channels], "float32",
                          data=rng.standard_normal(out_channels).astype(np.float32)) if bias else -1
        y = b.add_tensor("y", out_shape, "float32")
    b.add_operator(op, [x, w, bi], [y], options)
    return b.build([x], [y])


def check_against_oracle(model: bytes, tmp_path: Path, samples: int = 8, oracle: str = "tflm",
                         opt_level: int = 2, rtol: float = 1e-5, seed: int = 0,
                         float_scale: float = 3.0, kernels: str = "reference") -> None:
    """Compile with utc, build with the host compiler, run `samples` seeded random inputs
    and compare every output with TFLite Micro (bit-exact for integers) or LiteRT."""
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level, kernels=kernels)
    rng = np.random.default_rng(seed)
    batch = [random_inputs(model, rng, float_scale) for _ in range(samples)]
    runner = TflmRunner(model) if oracle == "tflm" else LiteRTRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        want = runner.run(sample)
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.shape == tuple(w.shape), f"sample {i} output {k}: shape {g.shape} vs {w.shape}"
            if np.issubdtype(w.dtype, np.integer):
                bad = int(np.sum(g != w))
                assert bad == 0, (f"sample {i} output {k}: {bad} of {w.size} values differ, "
                                  f"max |diff| {int(np.max(np.abs(g.astype(int) - w.astype(int))))}")
            else:
                np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6,
                                           err_msg=f"sample {i} output {k}")
