"""`utc verify --per-layer` on calls with several outputs: an SVDF's output and its state.

utc's SVDF call writes two buffers, the operator's output and the activation state that
TFLite Micro updates in place in the operator's variable-tensor input. Both are compared:
the state with that variable tensor as TFLite Micro's interpreter left it. The faults are
pass plugins that change one constant of the `qnn.svdf` op; the expected tensor indices
are read from the model with the tflite package, not through utc.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tflite
import utc

from tests.e2e.test_rnn import lstm_model, svdf_model
from tests.e2e.test_verify_layers import table_rows

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]

#: Adds one to the attribute ATTR of the model's only qnn.svdf op.
FAULT_PLUGIN = '''
from dataclasses import dataclass
from utc.compiler.pass_manager import Pass, register_pass

@register_pass
@dataclass(frozen=True)
class BreakSvdf(Pass):
    """Adds one to the SVDF's {attr} (a test fault)."""
    name = "test-break-svdf"

    def run(self, module):
        (op,) = [op for op in module.walk() if op.name == "qnn.svdf"]
        op.{attr} = op.{attr} + 1
'''


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def _svdf_tensors(model: bytes) -> tuple[int, int]:
    """(output, state) tensor indices of the model's SVDF: its output 0 and its input 4
    (the variable activation state), read with the tflite package."""
    graph = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0)
    op = graph.Operators(0)
    state = op.Inputs(4)
    assert graph.Tensors(state).IsVariable()
    return op.Outputs(0), state


def _verify(model: bytes, tmp_path: Path, attr: str | None) -> tuple[int, dict[str, list[str]], str]:
    path = tmp_path / "svdf.tflite"
    path.write_bytes(model)
    args = ["verify", str(path), "--per-layer", "--samples", "4"]
    if attr is not None:
        plugin = tmp_path / "fault.py"
        plugin.write_text(FAULT_PLUGIN.replace("{attr}", attr))
        pipeline = utc.pipeline(2).replace("lower-to-qnn,", "lower-to-qnn,test-break-svdf,")
        args += ["--load-pass-plugin", str(plugin), "--pipeline", pipeline]
    proc = subprocess.run([*CLI, *args], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ))
    assert proc.stderr == "", proc.stderr
    return proc.returncode, {r[2]: r for r in table_rows(proc.stdout)}, proc.stdout


@pytest.mark.parametrize("state16", [False, True])
def test_svdf_output_and_state_are_both_compared(state16: bool, tmp_path: Path) -> None:
    model = svdf_model("int8", 1, 8, 4, 1, 4, state16=state16, seed=1)
    out, state = _svdf_tensors(model)
    status, rows, stdout = _verify(model, tmp_path, None)
    assert status == 0, stdout
    assert set(rows) == {f"#{out}", f"#{state}"}, stdout
    assert all(r[1] == "#0 SVDF" and r[-1] == "ok" for r in rows.values()), stdout
    assert rows[f"#{state}"][5] == f"{'int16' if state16 else 'int8'} [1, 16]", stdout
    assert "not compared" not in stdout, stdout


def test_a_wrong_state_is_found(tmp_path: Path) -> None:
    """A state zero point one off: the state the call writes differs from TFLite Micro's
    variable tensor, and the per-layer table says so on the state's row."""
    model = svdf_model("int8", 1, 8, 4, 1, 4, seed=1)
    _, state = _svdf_tensors(model)
    status, rows, stdout = _verify(model, tmp_path, "state_zp")
    assert status == 1, stdout
    row = rows[f"#{state}"]
    assert row[-1] == "MISMATCH" and float(row[7]) == 1.0, stdout
    exact, total = map(int, row[6].split("/"))
    assert exact < total, stdout


def test_a_wrong_output_leaves_the_state_exact(tmp_path: Path) -> None:
    """An output zero point one off: the output's row differs, the state's row (the call's
    other output, compared with the other tensor) stays bit-exact."""
    model = svdf_model("int8", 1, 8, 4, 1, 4, seed=1)
    out, state = _svdf_tensors(model)
    status, rows, stdout = _verify(model, tmp_path, "output_zp")
    assert status == 1, stdout
    assert rows[f"#{out}"][-1] == "MISMATCH" and rows[f"#{state}"][-1] == "ok", stdout
    assert f"first layer that differs: step 0, qnn.svdf -> utc_svdf_s8, TFLite op #0 SVDF, " \
           f"tensor #{out}" in stdout, stdout


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
def test_lstm_state_outputs_are_compared(dtype: str) -> None:
    """An LSTM call writes its output and the hidden and cell state (TFLite inputs 18 and
    19, variable tensors; the int8 cell state is int16): three compared layers, in that
    order."""
    model = lstm_model(dtype=dtype)
    graph = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0)
    op = graph.Operators(0)
    result = utc.verify(model, samples=3, per_layer=True)
    assert result.passed, result.format("lstm")
    assert [la.tap.tensor for la in result.layers] == [op.Outputs(0), op.Inputs(18), op.Inputs(19)]
    assert all(la.stats.exact_samples == 3 for la in result.layers)
    assert not result.not_compared
    assert np.all([la.tap.builtin == "UNIDIRECTIONAL_SEQUENCE_LSTM" for la in result.layers])
