"""The memory passes on every model in ../shared/models at -O2: the plan is checked by the
IR-level checker (inside `compile_and_build`), outputs match the oracle, and the arena is
at the fixed-order lower bound rounded up for alignment and never above the copy bound.

On these models the peak step is always a convolution (or fully connected layer) with
its input and output live, which no alias can shrink: e.g. resnet8's first residual
block keeps its input, the first conv's output and the second conv's output (16 KiB
each) live at once. So the arena equals the copy bound here; what in-place ADD and
softmax and the reshape views save shows in the live bytes of their own steps, which this
test checks. (tests/e2e/test_memory_passes.py has models where the savings reach the
peak.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.compiler.planning.intervals import Buffer, arena_lower_bound
from utc.compiler.report import live_profile
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.plan_memory import root_alloc

from tests.conftest import shared_model
from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs, run_litert

#: model -> (copy_lower_bound, lower_bound, arena_bytes) at -O2.
EXPECTED = {
    "hello_world_float.tflite": (128, 128, 128),
    "hello_world_int8.tflite": (32, 32, 32),
    "micro_speech_quantized.tflite": (5960, 5960, 5960),
    "mlperf_ad_autoencoder_int8.tflite": (768, 768, 768),
    "mlperf_ic_resnet8_int8.tflite": (49152, 49152, 49152),
    "mlperf_kws_dscnn_float.tflite": (64000, 64000, 64000),
    "mlperf_kws_dscnn_int8.tflite": (16000, 16000, 16000),
    "mlperf_vww_mobilenet_int8.tflite": (55296, 55296, 55296),
}
SAMPLES = 10


def _calls(fn) -> list[buf.CallOp]:
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp)]


def _check_outputs(name: str, data: bytes, compiled) -> None:
    rng = np.random.default_rng(5)
    samples = [random_inputs(data, rng) for _ in range(SAMPLES)]
    ours = compiled.run(samples)
    if name == "mlperf_kws_dscnn_float.tflite":  # hybrid: TFLM refuses it (see test_real_models)
        for sample, got in zip(samples, ours):
            np.testing.assert_allclose(got[0], run_litert(data, sample)[0], atol=0.05)
        return
    oracle = TflmRunner(data)
    for i, (sample, got) in enumerate(zip(samples, ours)):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            if np.issubdtype(w.dtype, np.integer):
                assert np.array_equal(g, w), f"{name} sample {i} output {k}"
            else:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_model_memory_at_o2(name: str, tmp_path: Path) -> None:
    path = shared_model(name)
    compiled = compile_and_build(path, tmp_path, opt_level=2)
    _check_outputs(name, path.read_bytes(), compiled)
    module = compiled.module
    fn = main_function(module)
    attrs = fn.attrs
    copy_bound, bound, arena = attrs["copy_lower_bound"], attrs["lower_bound"], attrs["arena_bytes"]
    assert (copy_bound, bound, arena) == EXPECTED[name]
    allocs = [op for op in fn.block.ops if isinstance(op, buf.AllocOp)]
    aligned = arena_lower_bound([Buffer(f"b{i}", a.attrs["size"], *a.attrs["live"],
                                        attrs["plan_alignment"]) for i, a in enumerate(allocs)])
    assert bound <= arena <= aligned
    assert arena <= copy_bound and attrs["gap"] == arena - bound

    # every ADD and softmax ran in place: its output is a view into one of its inputs
    for step, call in enumerate(_calls(fn)):
        if call.attrs["op"] in ("qnn.add", "qnn.softmax", "tensor.softmax"):
            out = call.outputs[0]
            assert isinstance(out.op, buf.ViewOp), f"{name}: {call.attrs['op']} at step {step}"
            assert root_alloc(out) in {root_alloc(v) for v in call.inputs}
    profile = live_profile(module)
    if name == "mlperf_ic_resnet8_int8.tflite":
        adds = [c for c in _calls(fn) if c.attrs["op"] == "qnn.add"]
        assert len(adds) == 3
        # the first residual ADD: its two 16 KiB inputs, no third buffer for the sum
        first = _calls(fn).index(adds[0])
        assert profile[first] == 2 * 16384
