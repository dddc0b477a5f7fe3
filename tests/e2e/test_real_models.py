"""Every model in ../shared/models at -O0 and -O2 against the oracles.

int8 models: bit-exact with TFLite Micro on 200 seeded random inputs each.
float32 hello_world: within 1e-5 relative of TFLite Micro.
mlperf_kws_dscnn_float is a hybrid model (float activations, int8 weights) that TFLite
Micro refuses; utc dequantizes its weights at compile time and is compared with LiteRT,
whose hybrid kernels quantize activations on the fly: outputs (softmax probabilities)
must agree within 0.05 absolute and pick the same class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_model
from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs, run_litert

INT8_MODELS = [
    "hello_world_int8.tflite",
    "micro_speech_quantized.tflite",
    "mlperf_ad_autoencoder_int8.tflite",
    "mlperf_ic_resnet8_int8.tflite",
    "mlperf_kws_dscnn_int8.tflite",
    "mlperf_vww_mobilenet_int8.tflite",
]
HYBRID_ATOL = 0.05


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", [0, 2])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_bit_exact(name: str, opt_level: int, tmp_path: Path) -> None:
    path = shared_model(name)
    data = path.read_bytes()
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(200)]
    ours = compiled.run(samples)
    oracle = TflmRunner(data)
    for i, (sample, got) in enumerate(zip(samples, ours)):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            assert np.array_equal(g, w), f"{name} sample {i} output {k}: {int(np.sum(g != w))} differ"


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", [0, 2])
def test_float_hello_world(opt_level: int, tmp_path: Path) -> None:
    path = shared_model("hello_world_float.tflite")
    data = path.read_bytes()
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(200)]
    oracle = TflmRunner(data)
    for sample, got in zip(samples, compiled.run(samples)):
        np.testing.assert_allclose(got[0], oracle.run(sample)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", [0, 2])
def test_hybrid_kws_against_litert(opt_level: int, tmp_path: Path) -> None:
    path = shared_model("mlperf_kws_dscnn_float.tflite")
    data = path.read_bytes()
    compiled = compile_and_build(path, tmp_path, opt_level=opt_level)
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(50)]
    for sample, got in zip(samples, compiled.run(samples)):
        want = run_litert(data, sample)[0]
        np.testing.assert_allclose(got[0], want, atol=HYBRID_ATOL)
        assert np.argmax(got[0]) == np.argmax(want)
