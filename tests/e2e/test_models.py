"""End to end: compile real and built-in models, build the C++ with the host compiler,
run seeded random inputs and compare with the TFLite Micro interpreter.

int8 models must be bit-exact; float models within 1e-6 relative (hello_world) /
1e-5 (larger float models), with an absolute floor of 1e-6 for values near zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_MODELS
from tests.e2e.harness import compile_and_build
from tests.models_builtin import sine_model_float, sine_model_int8
from tests.oracle import TflmRunner, random_inputs


def _compare(model_path: Path, tmp_path: Path, samples: int, opt_level: int, rtol: float) -> None:
    data = model_path.read_bytes()
    compiled = compile_and_build(model_path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(1234)
    batch = [random_inputs(data, rng) for _ in range(samples)]
    ours = compiled.run(batch)
    oracle = TflmRunner(data)
    for i, (sample, got) in enumerate(zip(batch, ours)):
        want = oracle.run(sample)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.shape == tuple(w.shape), f"output {k} shape"
            if np.issubdtype(w.dtype, np.integer):
                if not np.array_equal(g, w):
                    bad = int(np.sum(g != w))
                    pytest.fail(f"sample {i} output {k}: {bad} of {w.size} values differ "
                                f"(max diff {int(np.max(np.abs(g.astype(int) - w.astype(int))))})")
            else:
                np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6,
                                           err_msg=f"sample {i} output {k}")


def _builtin(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes({"int8": sine_model_int8, "float": sine_model_float}[name]())
    return path


@pytest.mark.parametrize("kind", ["int8", "float"])
@pytest.mark.parametrize("opt_level", [0, 2])
def test_hello_world_1000_inputs(kind: str, opt_level: int, tmp_path: Path) -> None:
    """The real hello_world models when ../shared is present, else the built-in twins."""
    shared = SHARED_MODELS / f"hello_world_{kind}.tflite"
    model = shared if shared.is_file() else _builtin(tmp_path, kind)
    _compare(model, tmp_path, 1000, opt_level, rtol=1e-6)


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_builtin_sine_models(kind: str, tmp_path: Path) -> None:
    """The project's own models (always available), so the suite runs without ../shared."""
    _compare(_builtin(tmp_path, kind), tmp_path, 200, 2, rtol=1e-6)
