"""CMSIS-NN's int8 LSTM (`arm_lstm_unidirectional_s8`) against TFLite Micro's reference
interpreter over consecutive invocations (the hidden and cell state carry over), on the
host (CMSIS-NN's portable C path); tests/e2e/test_cortex_m.py-style runs on QEMU check its
DSP (Cortex-M4) and Helium (Cortex-M55) paths. Where CMSIS-NN's arithmetic or API cannot
reproduce TFLite Micro, utc's kernel runs the layer and the op's kernel note says why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from utc.compiler.driver import compile_model
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import cmsis_nn_root
from tests.e2e import test_rnn as rnn

CMSIS_LSTM = "arm_lstm_unidirectional_s8"


def _called(out: Path) -> set[str]:
    return set(re.findall(r"\b(arm_lstm\w*)\(", (out / "m.cpp").read_text()))


def _notes(model: bytes, tmp_path: Path, **kwargs) -> list[tuple[str, str]]:
    path = tmp_path / "notes.tflite"
    path.write_bytes(model)
    result = compile_model(path, tmp_path / "notes", **kwargs)
    return [(c.attrs["callee"], c.attrs.get("kernel_note") or "")
            for c in main_function(result.module).block.ops if isinstance(c, buf.CallOp)]


# (batch, time_steps, input_size, state, time_major, cell_clip): rnn.LSTM_CASES' shapes
CASES = [(1, 3, 5, 4, False, 0.0), (2, 4, 3, 6, False, 0.0), (2, 4, 3, 6, True, 0.0),
         (3, 1, 8, 2, True, 0.0), (1, 6, 4, 5, False, 0.5), (2, 2, 6, 3, True, 0.25),
         (1, 5, 17, 7, False, 0.0), (3, 3, 9, 5, True, 1.0)]


def _case(case, tmp_path: Path, seed: int, opt_level: int = 2, kernels: str = "cmsis-nn",
          **kwargs) -> None:
    cmsis_nn_root()
    batch, time_steps, input_size, state, time_major, clip = case
    model = rnn.lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=seed,
                           dtype="int8", **kwargs)
    rnn._spread(rnn._check(model, tmp_path, f"cmsis-nn lstm {case}", kernels=kernels,
                           opt_level=opt_level))
    assert _called(tmp_path / "out") == {CMSIS_LSTM}
    # the kernel updates the variables' own buffers: no copy of either state
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda c: "b{}_t{}_i{}_s{}_tm{}_clip{}".format(*c))
def test_lstm(case, tmp_path: Path) -> None:
    _case(case, tmp_path, seed=13)
