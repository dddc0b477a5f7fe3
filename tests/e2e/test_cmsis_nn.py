"""The CMSIS-NN backend on the host (CMSIS-NN's portable C path) against TFLite Micro.

Every int8 shared model at -O0 and -O2 with `--kernels cmsis-nn`, and operator variants
that exercise each CMSIS-NN function utc calls (each convolution path, depthwise with and
without multiplier, per-tensor and per-channel fully connected, pooling, softmax, add and
mul), bit-exact with TFLite Micro's reference kernels on seeded random inputs. The DSP
and Helium paths are checked the same way on QEMU (tests/e2e/test_cortex_m.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model
from utc.dialects import buf
from utc.dialects.func import main_function

import tests.e2e.test_ops as ops
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


# ---- the operator sweeps of tests/e2e/test_ops.py, int8, with --kernels cmsis-nn ---------
@pytest.fixture
def cmsis_nn(monkeypatch, tmp_path: Path):
    """Run test_ops' sweeps with CMSIS-NN kernels; yields a function that returns the
    CMSIS-NN functions the generated code called."""
    cmsis_nn_root()
    real = ops.check_against_oracle
    monkeypatch.setattr(ops, "check_against_oracle",
                        lambda *a, **k: real(*a, **{**k, "kernels": "cmsis-nn"}))

    def called() -> set[str]:
        text = (tmp_path / "out" / "m.cpp").read_text()
        return set(re.findall(r"\b(arm_\w+_s8\w*)\(", text))

    return called


@pytest.mark.parametrize("case", sorted(ops.CONV_CASES))
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_convolutions(cmsis_nn, op: str, case: str, tmp_path: Path) -> None:
    ops.test_convolutions(op, case, "int8", tmp_path)
    assert cmsis_nn()


@pytest.mark.parametrize("act", ops.ACTS)
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
def test_weighted_fused_activations(cmsis_nn, op: str, act: str, tmp_path: Path) -> None:
    ops.test_weighted_fused_activations(op, act, "int8", tmp_path)
    assert cmsis_nn()


@pytest.mark.parametrize("op,variant", [
    (op, v) for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
    for v in ("per_tensor", "no_bias", "extreme_input_zp", "tiny_scale")
    if (op, v) != ("DEPTHWISE_CONV_2D", "no_bias")])
def test_weighted_quantization_variants(cmsis_nn, op: str, variant: str, tmp_path: Path) -> None:
    ops.test_weighted_quantization_variants(op, variant, tmp_path)


@pytest.mark.parametrize("keep", [False, True])
def test_fully_connected_higher_rank(cmsis_nn, keep: bool, tmp_path: Path) -> None:
    ops.test_fully_connected_higher_rank(keep, "int8", tmp_path)
    assert cmsis_nn() == {"arm_fully_connected_s8"}


@pytest.mark.parametrize("act", ["NONE", "RELU6"])
@pytest.mark.parametrize("case", sorted(ops.POOL_CASES))
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pooling(cmsis_nn, op: str, case: str, act: str, tmp_path: Path) -> None:
    ops.test_pooling(op, case, "int8", act, tmp_path)
    assert cmsis_nn() == {"arm_avgpool_s8" if op == "AVERAGE_POOL_2D" else "arm_max_pool_s8"}


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.5])
@pytest.mark.parametrize("shape", [[1, 10], [3, 7], [2, 3, 33]])
def test_softmax(cmsis_nn, shape: list[int], beta: float, tmp_path: Path) -> None:
    ops.test_softmax(shape, beta, "int8", tmp_path)
    assert cmsis_nn() == {"arm_softmax_s8"}


@pytest.mark.parametrize("shapes", sorted(ops.BROADCAST))
@pytest.mark.parametrize("op", ["ADD", "MUL"])
def test_binary(cmsis_nn, op: str, shapes: str, tmp_path: Path) -> None:
    """Same shapes run CMSIS-NN; broadcasting ones fall back to utc's kernel (with a note)."""
    ops.test_binary_broadcasting(op, shapes, "int8", tmp_path)
    a, b = ops.BROADCAST[shapes]
    assert bool(cmsis_nn()) == (a == b)


@pytest.mark.parametrize("quant", ["extreme_zp", "saturating", "tiny_scales"])
@pytest.mark.parametrize("op", ["ADD", "MUL"])
def test_binary_extreme_quantization(cmsis_nn, op: str, quant: str, tmp_path: Path) -> None:
    ops.test_binary_extreme_quantization(op, quant, tmp_path)
    assert cmsis_nn() == {f"arm_elementwise_{op.lower()}_s8"}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_auto_never_takes_more_arena_than_the_reference_kernels(name: str, target: str,
                                                               tmp_path: Path) -> None:
    """`--kernels auto` on Cortex-M: CMSIS-NN where it costs no arena byte over utc's
    kernels; where utc's kernel shares memory CMSIS-NN's cannot, utc's stays, and says so."""
    path = shared_model(name)
    auto = compile_model(path, tmp_path / "auto", opt_level=2, kernels="auto", target=target)
    ref = compile_model(path, tmp_path / "ref", opt_level=2, kernels="reference", target=target)
    arena = lambda r: main_function(r.module).attrs["arena_bytes"]  # noqa: E731
    assert arena(auto) <= arena(ref)
    calls = [op for op in main_function(auto.module).block.ops if isinstance(op, buf.CallOp)]
    assert any(c.attrs["callee"].startswith("arm_") for c in calls)
    for c in calls:  # every utc kernel where a CMSIS-NN one exists says why
        if not c.attrs["callee"].startswith("arm_") and "kernel_note" in c.attrs:
            assert c.attrs["kernel_note"]
    if name == "mlperf_vww_mobilenet_int8":  # no memory sharing to lose: all CMSIS-NN
        assert all(c.attrs["callee"].startswith("arm_") for c in calls
                   if c.attrs["op"].startswith("qnn."))


@pytest.mark.parametrize("shapes", sorted(ops.BROADCAST))
@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum(cmsis_nn, op: str, shapes: str, tmp_path: Path) -> None:
    """CMSIS-NN broadcasts up to 4-D; rank 5 falls back to utc's kernel."""
    ops.test_binary_broadcasting(op, shapes, "int8", tmp_path)
    a, b = ops.BROADCAST[shapes]
    assert bool(cmsis_nn()) == (max(len(a), len(b)) <= 4)


@pytest.mark.parametrize("case", sorted(ops.PAD_CASES))
@pytest.mark.parametrize("op", ["PAD", "PADV2"])
def test_pad(cmsis_nn, op: str, case: str, tmp_path: Path) -> None:
    ops.test_pad(op, "int8", case, tmp_path)
    assert cmsis_nn() == {"arm_pad_s8"}


# ---- SVDF: arm_svdf_s8 (int8 state) and arm_svdf_state_s16_s8 (int16 state) ----------------
# Stateful: tests/e2e/test_rnn.py's check runs N consecutive invocations of the generated
# code and of one un-reset TFLite Micro interpreter. CMSIS-NN's SVDF has no state zero
# point, so these models use 0 (the others fall back to utc's kernel, with the reason).

def _svdf_called(tmp_path: Path) -> set[str]:
    return set(re.findall(r"\b(arm_svdf\w*)\(", (tmp_path / "out" / "m.cpp").read_text()))


SVDF_DEFAULT = [(1, 8, 4, 1, 4), (2, 5, 3, 2, 8)]


def _svdf_case(case, state16: bool, tmp_path: Path, seed: int = 1, opt_level: int = 2) -> None:
    from tests.e2e import test_rnn as rnn

    cmsis_nn_root()
    batch, input_size, units, rank, memory = case
    model = rnn.svdf_model("int8", batch, input_size, units, rank, memory, state16=state16,
                           seed=seed, state_zp=0)
    rnn._spread(rnn._check(model, tmp_path, f"cmsis-nn svdf {case} state16={state16}", memory,
                           kernels="cmsis-nn", opt_level=opt_level))
    assert _svdf_called(tmp_path) == {"arm_svdf_state_s16_s8" if state16 else "arm_svdf_s8"}
    # the kernel shifts the variable's own buffer: no copy of the state
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()


@pytest.mark.parametrize("case", SVDF_DEFAULT, ids=lambda c: "b{}_in{}_u{}_r{}_m{}".format(*c))
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf(case, state16: bool, tmp_path: Path) -> None:
    _svdf_case(case, state16, tmp_path)


@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_o0(state16: bool, tmp_path: Path) -> None:
    _svdf_case((2, 6, 3, 2, 5), state16, tmp_path, 4, opt_level=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("case", [(1, 8, 4, 2, 4), (1, 16, 8, 1, 1), (3, 4, 2, 1, 10),
                                  (2, 32, 16, 4, 6), (4, 10, 5, 1, 3)],
                         ids=lambda c: "b{}_in{}_u{}_r{}_m{}".format(*c))
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_sweep(case, state16: bool, seed: int, tmp_path: Path) -> None:
    _svdf_case(case, state16, tmp_path, seed)


@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_reset(state16: bool, tmp_path: Path) -> None:
    from tests.e2e import test_rnn as rnn

    cmsis_nn_root()
    model = rnn.svdf_model("int8", 2, 6, 3, 2, 4, state16=state16, seed=8, state_zp=0)
    check_reset(model, tmp_path, "cmsis-nn svdf reset vs TFLM")
    assert _svdf_called(tmp_path)


def check_reset(model: bytes, tmp_path: Path, label: str) -> None:
    """Three invocations, NAME_reset(), the same three again with CMSIS-NN kernels: equal
    to one TFLite Micro interpreter reset in between (a stateful kernel's state restored)."""
    from tests.e2e import test_rnn as rnn

    first = rnn._inputs(model, 3)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path, kernels="cmsis-nn", reset_before=3)
    got = compiled.run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    rnn._assert_same(got, want, label)


def test_svdf_state_zero_point_falls_back(tmp_path: Path) -> None:
    """A nonzero state zero point: utc's kernel runs it, and the report says why."""
    from tests.e2e import test_rnn as rnn

    cmsis_nn_root()
    model = rnn.svdf_model("int8", 1, 8, 4, 1, 4, seed=4)  # state zero point -5
    rnn._check(model, tmp_path, "svdf state zp -5", 4, kernels="cmsis-nn")
    assert not _svdf_called(tmp_path)
    path = tmp_path / "model.tflite"
    result = compile_model(path, tmp_path / "again", kernels="cmsis-nn")
    calls = [op for op in main_function(result.module).block.ops if isinstance(op, buf.CallOp)]
    note = next(c.attrs["kernel_note"] for c in calls if c.attrs["callee"] == "utc_svdf_s8")
    assert "arm_svdf_s8: state zero point -5 is not 0" in note


def test_svdf_report_names_the_cmsis_nn_kernel(tmp_path: Path) -> None:
    from utc.compiler.driver.report import layer_rows

    from tests.e2e import test_rnn as rnn

    path = tmp_path / "svdf.tflite"
    path.write_bytes(rnn.svdf_model("int8", 1, 8, 4, 1, 4, state16=True, seed=3, state_zp=0))
    result = compile_model(path, tmp_path / "out", kernels="cmsis-nn")
    rows = layer_rows(result.module)
    assert [r.kernel for r in rows] == ["arm_svdf_state_s16_s8"]
    assert rows[0].scratch_bytes == 4 * (4 + 4)  # batch x (filters + units) int32
