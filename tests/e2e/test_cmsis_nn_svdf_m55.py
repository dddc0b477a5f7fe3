"""CMSIS-NN's SVDF functions on Cortex-M55 (Helium): arm_svdf_s8 reads the feature
weights' kernel sums (fold-zero-point's `kernel_sums` table in flash) through its context;
arm_svdf_state_s16_s8 sums the weights itself on every path and needs no table. 8
consecutive invocations of the firmware on QEMU against one un-reset TFLite Micro
interpreter (`utc verify`), on writer-built models of several shapes and ranks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model
from utc.compiler.driver.report import layer_rows

from tests.conftest import cmsis_nn_root, require_tools
from tests.e2e.test_rnn import Q_IN, svdf_model

#: (batch, input_size, units, rank, memory): filter counts off the Helium loops' 4 and 5
#: rows, input sizes under, at and over one 16-byte vector, ranks 1 to 3
CASES = [(1, 8, 4, 1, 4), (2, 5, 3, 2, 8), (1, 20, 5, 3, 3), (3, 33, 7, 1, 2), (2, 16, 4, 2, 6)]
_ID = "b{}_in{}_u{}_r{}_m{}".format


def _model(case, state16: bool, seed: int, tmp_path: Path) -> Path:
    batch, input_size, units, rank, memory = case
    path = tmp_path / "svdf.tflite"
    path.write_bytes(svdf_model("int8", batch, input_size, units, rank, memory,
                                state16=state16, seed=seed, state_zp=0))
    return path


def _calls(result) -> list:
    return [op for op in result.module.walk() if op.name == "buf.call"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: _ID(*c))
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_cmsis_nn_on_cortex_m55(case, state16: bool, tmp_path: Path) -> None:
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    cmsis_nn_root()
    path = _model(case, state16, 7 + sum(case), tmp_path)
    kernel = "arm_svdf_state_s16_s8" if state16 else "arm_svdf_s8"
    result = compile_model(path, tmp_path / "out", name="model", kernels="cmsis-nn",
                           target="cortex-m55")
    assert [c.attrs["callee"] for c in _calls(result)] == [kernel]
    weights = (tmp_path / "out" / "model_weights.cpp").read_text()
    assert ("kernel_sums" in weights) is (not state16)
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--target", "cortex-m55", "--kernels", "cmsis-nn", "--samples", "8"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    batch, _, units, _, _ = case
    elements = 8 * batch * units
    assert f"8/8 samples and {elements}/{elements} elements bit-exact" in proc.stdout + proc.stderr


def _table(weights_cpp: str, name: str) -> np.ndarray:
    body = re.search(rf"int32_t \w*{name}\[\d+\] = {{([^}}]*)}}", weights_cpp)
    assert body, f"no {name} table"
    return np.array([int(v) for v in body.group(1).replace("\n", " ").split(",") if v.strip()])


@pytest.mark.parametrize("case", [(3, 33, 7, 1, 2), (1, 20, 5, 3, 3)], ids=lambda c: _ID(*c))
def test_svdf_kernel_sums_table_on_cortex_m55_only(case, tmp_path: Path) -> None:
    """The table in flash is -input_zp times each feature-weight row's sum, passed as
    arm_svdf_s8's ctx; on the host and Cortex-M4 (no Helium) nothing reads it and it is
    not emitted (ctx stays NULL), nor for utc's own kernel."""
    cmsis_nn_root()
    batch, input_size, units, rank, memory = case
    path = _model(case, False, 5, tmp_path)
    result = compile_model(path, tmp_path / "m55", name="model", kernels="cmsis-nn",
                           target="cortex-m55")
    assert [c.attrs["callee"] for c in _calls(result)] == ["arm_svdf_s8"]
    weights_cpp = (tmp_path / "m55" / "model_weights.cpp").read_text()
    code = (tmp_path / "m55" / "model.cpp").read_text()
    filters = units * rank
    assert re.search(rf"cmsis_nn_context ctx = {{\(void \*\)model_w_\w*kernel_sums, {4 * filters}}}",
                     code)
    # svdf_model's feature weights are its generator's first draw; the input zero point Q_IN's
    feature = np.random.default_rng(5).integers(-127, 128, (filters, input_size))
    np.testing.assert_array_equal(_table(weights_cpp, "kernel_sums"),
                                  -Q_IN[1] * feature.sum(axis=1))
    for target, kernels in (("host", "cmsis-nn"), ("cortex-m4", "cmsis-nn"),
                            ("cortex-m55", "reference")):
        out = tmp_path / f"{target}-{kernels}"
        compile_model(path, out, name="model", kernels=kernels, target=target)
        assert "kernel_sums" not in (out / "model_weights.cpp").read_text()
        assert "kernel_sums" not in (out / "model.cpp").read_text()


def test_svdf_o0_on_cortex_m55_keeps_utc_kernel_and_says_why(tmp_path: Path) -> None:
    """Without fold-zero-point (-O0) there is no table, so arm_svdf_s8 is refused on
    Helium with the reason in the report; arm_svdf_state_s16_s8 needs none."""
    cmsis_nn_root()
    path = _model((2, 5, 3, 2, 8), False, 1, tmp_path)
    result = compile_model(path, tmp_path / "o0", name="model", kernels="cmsis-nn",
                           target="cortex-m55", opt_level=0)
    calls = _calls(result)
    assert [c.attrs["callee"] for c in calls] == ["utc_svdf_s8"]
    assert "arm_svdf_s8: the MVE path needs the kernel sums fold-zero-point computes " \
           "(-O1 and up)" in calls[0].attrs["kernel_note"]
    (tmp_path / "s16").mkdir()
    path16 = _model((2, 5, 3, 2, 8), True, 1, tmp_path / "s16")
    result = compile_model(path16, tmp_path / "o0_16", name="model", kernels="cmsis-nn",
                           target="cortex-m55", opt_level=0)
    assert [c.attrs["callee"] for c in _calls(result)] == ["arm_svdf_state_s16_s8"]


def test_svdf_report_names_arm_svdf_s8_on_cortex_m55(tmp_path: Path) -> None:
    cmsis_nn_root()
    path = _model((1, 8, 4, 1, 4), False, 3, tmp_path)
    result = compile_model(path, tmp_path / "out", name="model", kernels="cmsis-nn",
                           target="cortex-m55")
    rows = layer_rows(result.module)
    assert [r.kernel for r in rows] == ["arm_svdf_s8"]
    assert rows[0].scratch_bytes == 4 * (4 + 4)  # kernel sums are in flash, not scratch


def svdf_chain_model(second_state16: bool, seed: int = 11) -> bytes:
    """x -> SVDF (rank 2, int8 state) -> SVDF (rank 1, int8 or int16 state) -> y: two
    states and a second SVDF whose input zero point (the first one's output's) is not
    the first's, so each gets its own kernel sums."""
    from tests.e2e.test_rnn import Q_OUT, Q_STATE8, Q_STATE16, S_WF, S_WT8, S_WT16
    from tests.tflite_writer import ModelBuilder

    rng = np.random.default_rng(seed)
    b = ModelBuilder("utc svdf chain")
    x = b.add_tensor("x", [1, 16], "int8", scale=Q_IN[0], zero_point=Q_IN[1])
    layers = [(x, 16, 4, 2, 5, False, Q_OUT), (None, 4, 6, 1, 3, second_state16, (0.1, -4))]
    current = x
    for k, (_, size, units, rank, memory, state16, q_out) in enumerate(layers):
        filters = units * rank
        q_state, s_wt, dtype = (Q_STATE16, S_WT16, "int16") if state16 else (Q_STATE8, S_WT8, "int8")
        hi = 2 ** 15 - 1 if state16 else 127
        in_scale = Q_IN[0] if k == 0 else layers[0][6][0]
        wf = b.add_tensor(f"wf{k}", [filters, size], "int8", scale=S_WF * 0.05 / in_scale,
                          data=rng.integers(-127, 128, (filters, size)))
        wt = b.add_tensor(f"wt{k}", [filters, memory], dtype, scale=s_wt,
                          data=rng.integers(-hi, hi + 1, (filters, memory)))
        bias = b.add_tensor(f"bias{k}", [units], "int32", data=rng.integers(-2000, 2000, units),
                            scale=float(np.float32(q_state[0]) * np.float32(s_wt)))
        state = b.add_tensor(f"state{k}", [1, memory * filters], dtype, scale=q_state[0],
                             zero_point=0, is_variable=True)
        out = b.add_tensor("y" if k else "y0", [1, units], "int8", scale=q_out[0],
                           zero_point=q_out[1])
        b.add_operator("SVDF", [current, wf, wt, bias, state], [out],
                       {"rank": rank, "fused_activation_function": "NONE"}, version=3)
        current = out
    return b.build([x], [current])


@pytest.mark.parametrize("second_state16", [False, True], ids=["state8", "state16"])
def test_svdf_chain_on_host_with_cmsis_nn(second_state16: bool, tmp_path: Path) -> None:
    """The chain on the host (CMSIS-NN's generic C path, no kernel sums read), 5
    consecutive invocations against one un-reset TFLite Micro interpreter."""
    from tests.e2e import test_rnn as rnn

    cmsis_nn_root()
    model = svdf_chain_model(second_state16)
    rnn._spread(rnn._check(model, tmp_path, f"svdf chain state16={second_state16}", 3,
                           kernels="cmsis-nn"))
    code = (tmp_path / "out" / "m.cpp").read_text()
    assert re.findall(r"\b(arm_svdf\w*)\(", code) == \
        ["arm_svdf_s8", "arm_svdf_state_s16_s8" if second_state16 else "arm_svdf_s8"]


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["cmsis-nn", "auto"])
@pytest.mark.parametrize("second_state16", [False, True], ids=["state8", "state16"])
def test_svdf_chain_on_cortex_m55(second_state16: bool, kernels: str, tmp_path: Path) -> None:
    """Both SVDFs on the Helium path with their own kernel sums (or, with `auto`, where
    the arena allows: the note says why not otherwise), 8 consecutive
    invocations on QEMU against TFLite Micro."""
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    cmsis_nn_root()
    path = tmp_path / "chain.tflite"
    path.write_bytes(svdf_chain_model(second_state16))
    result = compile_model(path, tmp_path / "out", name="model", kernels=kernels,
                           target="cortex-m55")
    calls = _calls(result)
    second = "arm_svdf_state_s16_s8" if second_state16 else "arm_svdf_s8"
    if kernels == "cmsis-nn":
        assert [c.attrs["callee"] for c in calls] == ["arm_svdf_s8", second]
        weights = (tmp_path / "out" / "model_weights.cpp").read_text()
        assert weights.count("kernel_sums[") == (1 if second_state16 else 2)
    else:
        for call, cmsis in zip(calls, ["arm_svdf_s8", second]):
            # not refused for Helium any more: only the arena (one-step scratch) decides
            note = call.attrs.get("kernel_note", "")
            assert call.attrs["callee"] == cmsis or f"{cmsis}'s scratch buffer would raise the " \
                "arena" in note, call.attrs
            assert "MVE path" not in note
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--target", "cortex-m55", "--kernels", kernels, "--samples", "8"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8/8 samples and 48/48 elements bit-exact" in proc.stdout + proc.stderr
