"""The CMSIS-NN backend on the host (CMSIS-NN's portable C path) against TFLite Micro.

Every int8 shared model at -O0 and -O2 with `--kernels cmsis-nn`, and operator variants
that exercise each CMSIS-NN function utc calls (each convolution path, depthwise with and
without multiplier, per-tensor and per-channel fully connected, pooling, softmax, add and
mul), bit-exact with TFLite Micro's reference kernels on seeded random inputs. The DSP
and Helium paths are checked the same way on QEMU (tests/e2e/test_cortex_m.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import cmsis_nn_root, shared_model
from tests.e2e.harness import compile_and_build
from tests.e2e.test_real_models import INT8_MODELS
from tests.oracle import TflmRunner, random_inputs


def _kernels(module) -> list[str]:
    fn = main_function(module)
    return [op.attrs["callee"] for op in fn.block.ops if isinstance(op, buf.CallOp)]


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", [0, 2])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_bit_exact_with_cmsis_nn(name: str, opt_level: int, tmp_path: Path) -> None:
    cmsis_nn_root()
    path = shared_model(name)
    data = path.read_bytes()
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level, kernels="cmsis-nn")
    assert any(k.startswith("arm_") for k in _kernels(compiled.module))
    rng = np.random.default_rng(11)
    samples = [random_inputs(data, rng) for _ in range(50)]
    oracle = TflmRunner(data)
    for i, (sample, got) in enumerate(zip(samples, compiled.run(samples))):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            assert np.array_equal(g, w), f"{name} sample {i} output {k}: {int(np.sum(g != w))} differ"
