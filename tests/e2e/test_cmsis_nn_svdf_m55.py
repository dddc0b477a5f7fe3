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
