"""The memory passes on every model in ../shared/models at -O2: the plan is checked by the
IR-level checker (inside `compile_and_build`), outputs match the oracle, and the arena is
at the fixed-order lower bound rounded up for alignment and never above the copy bound.

On these models the peak step is always a convolution (or fully connected layer) with
its input and output live, which no alias can shrink: e.g. resnet8's first residual
block keeps its input, the first conv's output and the second conv's output (16 KiB
each) live at once, so without overlap (`no_overlap_lower_bound`) the arena equals the
copy bound. `overlap-buffers` lets the second conv's output start 1 KiB (two rows) below
its dying input, one 17 KiB buffer for both: 49152 -> 33792 B. DS-CNN's conv/depthwise
chain shares one buffer (int8 16000 -> 8576 B, float 64000 -> 34304 B; the bound, 8490
and 33960 B, counts only the two tensors in use at each step): its depthwise links slide
down by 21 pixels, Wi + 1, instead of two rows, since a depthwise kernel keeps the pixel
order within each channel, and its pointwise convolutions run their rows in reverse,
sliding back up, so the chain does not drift a row per layer.
micro_speech's peak is its one depthwise convolution, whose output now starts 2240 B
before the dying model input (one 4200-byte group instead of 1960 + 4000 B): 5960 -> 4200
B. A model input overlapped this way is a view (`input = i`) inside the group, live from
step 0; a run consumes it. VWW's peak, a pointwise conv doubling the channels at 48x48
(18,432 B in, 36,864 B out), overlaps too now that a group counts only the bytes in use
at each step: its output starts 18,816 B below its input, and the stride-2 depthwise convolution
after it starts its output right on its input (channel-wise, no pixel of it reads below
its own index), so the chain needs no more than its peak step: 55296 -> 37248 B, the
bound. What in-place ADD and
softmax and the reshape views save shows in the live bytes of their
own steps, which this test checks. (tests/e2e/test_memory_passes.py and
tests/e2e/test_overlap.py have models where the savings reach the peak.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver.report import live_profile
from utc.dialects import buf
from utc.dialects.buf import root_and_offset
from utc.dialects.func import main_function
from utc.passes.plan_memory import root_alloc
from utc.passes.planning.aliasing import call_overlap_rule, call_reverse_overlap
from utc.passes.planning.intervals import Buffer, arena_lower_bound

from tests.conftest import shared_model
from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs, run_litert

#: model -> (copy_lower_bound, no_overlap_lower_bound, lower_bound, arena_bytes) at -O2.
EXPECTED = {
    "hello_world_float.tflite": (128, 128, 128, 128),
    "hello_world_int8.tflite": (32, 32, 32, 32),
    "micro_speech_quantized.tflite": (5960, 5960, 4200, 4200),
    "mlperf_ad_autoencoder_int8.tflite": (768, 768, 768, 768),
    "mlperf_ic_resnet8_int8.tflite": (49152, 49152, 33792, 33792),
    "mlperf_kws_dscnn_float.tflite": (64000, 64000, 33960, 34304),
    "mlperf_kws_dscnn_int8.tflite": (16000, 16000, 8490, 8576),
    "mlperf_vww_mobilenet_int8.tflite": (55296, 55296, 37248, 37248),
}
#: models whose arena overlap-buffers takes below the fixed-order bound without overlap
OVERLAPPED = {"micro_speech_quantized.tflite", "mlperf_ic_resnet8_int8.tflite",
              "mlperf_kws_dscnn_float.tflite", "mlperf_kws_dscnn_int8.tflite",
              "mlperf_vww_mobilenet_int8.tflite"}
#: models whose first convolution overlaps the model input (a view inside a group)
#: (DS-CNN's first convolution no longer does: its input is small beside the chain, and
#: linking it would only add drift to the chain's group)
INPUT_OVERLAPPED = {"micro_speech_quantized.tflite", "mlperf_vww_mobilenet_int8.tflite"}
SAMPLES = 10


def _calls(fn) -> list[buf.CallOp]:
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp)]


def _smaller(call) -> bool:
    """An output on the very bytes its input starts at, yet not an in-place alias: a
    channel-wise overlap at offset 0 (a stride-2 depthwise or pooling layer)."""
    return call.outputs[0].type.byte_size < call.inputs[0].type.byte_size


def _overlapped_calls(fn) -> dict[buf.CallOp, int]:
    """Calls whose output shares a root buffer with their data input without being it,
    with how many bytes before the input the output starts (always an offset the kernel's
    overlap rule allows: the row bound or, channel-wise, a whole number of pixels)."""
    out = {}
    for call in _calls(fn):
        ins, outs = call.inputs, call.outputs
        if not ins or not outs or root_alloc(ins[0]) is None:
            continue
        (src, s_off), (dst, d_off) = root_and_offset(ins[0]), root_and_offset(outs[0])
        if src is dst and (s_off != d_off or _smaller(call)):
            if call.attrs.get("reverse"):  # rows backwards: the output ends past the input
                need = call_reverse_overlap(call.attrs["callee"], call.attrs, ins[0], outs[0],
                                            ins[1])
                assert need is not None
                assert d_off + outs[0].type.byte_size - s_off - ins[0].type.byte_size >= need
            else:
                rule = call_overlap_rule(call.attrs["callee"], call.attrs, 0, ins[0], outs[0])
                assert rule is not None and rule.allows(s_off - d_off)
            out[call] = s_off - d_off
    return out


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
    separate = attrs["no_overlap_lower_bound"]
    assert (copy_bound, separate, bound, arena) == EXPECTED[name]
    assert bound <= separate
    overlapped = _overlapped_calls(fn)
    if name in OVERLAPPED:
        assert arena < separate and overlapped
    else:  # a grouping that does not lower the bound saves nothing and costs row order
        assert not overlapped
    # a model input inside a group: the first call reads it there, and the group is live
    # from step 0 (the input is written before the first call)
    inputs = buf.model_inputs(fn.block.ops)
    viewed = {i for i, v in inputs.items() if isinstance(v.op, buf.ViewOp)}
    assert viewed == ({0} if name in INPUT_OVERLAPPED else set())
    for i in viewed:
        group = root_alloc(inputs[i])
        assert group.attrs["live"][0] == 0
        reader = next(c for c in _calls(fn) if root_alloc(c.inputs[0]) is group)
        assert reader in overlapped and root_alloc(reader.outputs[0]) is group
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
        # the first residual ADD: its two 16 KiB inputs, no third buffer for the sum; the
        # second lives in the group of the conv before (its output and dying input), of
        # which only that output is in use at the ADD
        first = _calls(fn).index(adds[0])
        group = root_alloc(adds[0].inputs[1])
        assert group.attrs["size"] == 16384 + 1024
        assert profile[first] == 16384 + 16384
        # that conv's output starts two input rows (1 KiB) below its input
        conv = _calls(fn)[first - 1]
        assert overlapped[conv] == 1024
