"""Builtins and dtypes TFLite Micro runs that utc lacked (issue 11 point 4): int8 RSQRT,
L2_NORMALIZATION and LOG_SOFTMAX, as single-operator models built by the suite's writer,
compiled by utc and compared with TFLite Micro's interpreter on seeded inputs (integers
bit-exact; float32 to the sweep's tolerance, in practice exact).
"""

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
             samples: int = 4, rtol: float = 0.0) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    batch = [make_sample() for _ in range(samples)]
    tflm = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch), strict=True)):
        for k, (g, w) in enumerate(zip(got, tflm.run(sample), strict=True)):
            assert g.shape == tuple(w.shape), f"sample {i} output {k}: {g.shape} vs {w.shape}"
            if rtol and np.issubdtype(w.dtype, np.floating):
                np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6,
                                           err_msg=f"sample {i} output {k}")
            else:
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
