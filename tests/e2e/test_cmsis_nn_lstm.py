"""CMSIS-NN's int8 and 16x8 LSTMs (`arm_lstm_unidirectional_s8`, `_s16`) against TFLite
Micro's reference interpreter over consecutive invocations (the hidden and cell state
carry over), on the host (CMSIS-NN's portable C path) and on QEMU (the DSP path on
Cortex-M4, Helium on Cortex-M55). Where CMSIS-NN's arithmetic or API cannot
reproduce TFLite Micro, utc's kernel runs the layer and the op's kernel note says why.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import cmsis_nn_root, tflm_file
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


@pytest.mark.parametrize("case", [(2, 3, 4, 5, False, 0.0), (2, 3, 4, 5, True, 0.5)],
                         ids=["batch_major", "time_major_clip"])
def test_lstm_auto(case, tmp_path: Path) -> None:
    """`--kernels auto` on the host: whichever kernel it keeps, the outputs over
    consecutive invocations are TFLite Micro's."""
    cmsis_nn_root()
    batch, time_steps, input_size, state, time_major, clip = case
    model = rnn.lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=17,
                           dtype="int8")
    rnn._check(model, tmp_path, f"auto lstm {case}", kernels="auto")


def test_lstm_reset(tmp_path: Path) -> None:
    """NAME_reset() restores both states the kernel updates in place."""
    from tests.e2e.test_cmsis_nn import check_reset

    cmsis_nn_root()
    model = rnn.lstm_model(2, 3, 4, 5, False, 0.0, seed=12, dtype="int8")
    check_reset(model, tmp_path, "cmsis-nn lstm reset vs TFLM")
    assert _called(tmp_path / "out") == {CMSIS_LSTM}


def test_lstm_o0_keeps_utc_kernel(tmp_path: Path) -> None:
    """-O0 has no fold-zero-point, so no effective biases: utc's kernel, and why."""
    cmsis_nn_root()
    model = rnn.lstm_model(2, 3, 4, 5, False, 0.0, seed=13, dtype="int8")
    rnn._check(model, tmp_path, "cmsis-nn lstm -O0", kernels="cmsis-nn", opt_level=0)
    assert not _called(tmp_path / "out")
    [(callee, note)] = _notes(model, tmp_path, kernels="cmsis-nn", opt_level=0)
    assert callee == "utc_lstm_s8"
    assert f"{CMSIS_LSTM}: needs the effective biases fold-zero-point computes" in note


def test_lstm_recurrent_range_outside_int16_keeps_utc_kernel(tmp_path: Path) -> None:
    """24 units of these random recurrent weights can drive a gate's recurrent half past
    int16, which CMSIS-NN would add unclamped: utc's kernel runs it, bit-exact, and the
    note gives the range."""
    cmsis_nn_root()
    model = rnn.lstm_model(1, 6, 8, 24, False, 0.0, seed=5, dtype="int8")
    rnn._check(model, tmp_path, "lstm wide recurrent range", kernels="cmsis-nn")
    assert not _called(tmp_path / "out")
    [(callee, note)] = _notes(model, tmp_path, kernels="cmsis-nn")
    assert callee == "utc_lstm_s8"
    assert re.search(rf"{CMSIS_LSTM}: a recurrent fully connected output can reach "
                     r"\[-\d+, \d+\], outside int16", note), note


CMSIS_LSTM16 = "arm_lstm_unidirectional_s16"


@pytest.mark.parametrize("case", CASES, ids=lambda c: "b{}_t{}_i{}_s{}_tm{}_clip{}".format(*c))
def test_lstm_16x8(case, tmp_path: Path) -> None:
    """arm_lstm_unidirectional_s16 on the 16x8 LSTM (int16 activations, int64 biases)."""
    cmsis_nn_root()
    batch, time_steps, input_size, state, time_major, clip = case
    model = rnn.lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=16,
                           dtype="int16")
    rnn._check(model, tmp_path, f"cmsis-nn lstm 16x8 {case}", kernels="cmsis-nn")
    assert _called(tmp_path / "out") == {CMSIS_LSTM16}
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()


def test_lstm_16x8_recurrent_range_keeps_utc_kernel(tmp_path: Path) -> None:
    """A 16x8 LSTM whose recurrent half can leave int16: utc's kernel, and why."""
    cmsis_nn_root()
    model = rnn.lstm_model(1, 3, 4, 40, False, 0.0, seed=16, dtype="int16")
    rnn._check(model, tmp_path, "16x8 lstm wide recurrent range", kernels="cmsis-nn")
    assert not _called(tmp_path / "out")
    [(callee, note)] = _notes(model, tmp_path, kernels="cmsis-nn")
    assert callee == "utc_lstm_s16"
    assert f"{CMSIS_LSTM16}: a recurrent fully connected output can reach" in note


def test_lstm_report_names_the_kernel_and_scratch(tmp_path: Path) -> None:
    """The report's row: CMSIS-NN's function, its two int16 gate buffers as scratch (one
    step of one batch when batch-major, of every batch when time-major)."""
    from utc.compiler.driver.report import layer_rows

    for time_major, scratch in ((False, 2 * 2 * 5), (True, 2 * 2 * 2 * 5)):
        path = tmp_path / f"lstm{time_major}.tflite"
        path.write_bytes(rnn.lstm_model(2, 3, 4, 5, time_major, 0.0, seed=13, dtype="int8"))
        result = compile_model(path, tmp_path / f"out{time_major}", kernels="cmsis-nn")
        rows = layer_rows(result.module)
        assert [r.kernel for r in rows] == [CMSIS_LSTM]
        assert rows[0].scratch_bytes == scratch


def _verify_on_qemu(path: Path, target: str, samples: int = 8) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--target", target, "--kernels", "cmsis-nn", "--samples",
                           str(samples)], capture_output=True, text=True, cwd=path.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("case", [(2, 4, 3, 6, False, 0.0), (4, 2, 19, 7, True, 0.5)],
                         ids=["batch_major", "time_major_clip"])
def test_lstm_on_qemu(case, dtype: str, target: str, tmp_path: Path) -> None:
    """The DSP (SMLAD) and Helium paths of both functions: 8 consecutive invocations of the firmware against
    one un-reset TFLite Micro interpreter (`utc verify`), with CMSIS-NN's function called."""
    from tests.conftest import require_tools

    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    cmsis_nn_root()
    batch, time_steps, input_size, state, time_major, clip = case
    path = tmp_path / "lstm.tflite"
    path.write_bytes(rnn.lstm_model(batch, time_steps, input_size, state, time_major, clip,
                                    seed=13 if dtype == "int8" else 16, dtype=dtype))
    result = compile_model(path, tmp_path / "out", name="model", kernels="cmsis-nn",
                           target=target)
    calls = [op.attrs["callee"] for op in result.module.walk() if op.name == "buf.call"]
    assert calls == [CMSIS_LSTM if dtype == "int8" else CMSIS_LSTM16]
    elements = 8 * batch * time_steps * state
    assert f"8/8 samples and {elements}/{elements} elements bit-exact" in \
        _verify_on_qemu(path, target)


def _saturating_lstm() -> bytes:
    """A one-layer LSTM whose forget gate's recurrent half leaves int16 as soon as the
    hidden state is positive (all-127 recurrent weights at a coarse scale) while its input
    half sits at the int16 minimum (a large negative bias): TFLite Micro clamps the
    recurrent half first (forget pre-activation -1, f = 0.5), CMSIS-NN would add it
    unclamped (f close to 1). The other gates are bias-only: input and output gates open,
    the cell gate at tanh(0.31)."""
    from tests.tflite_writer import ModelBuilder

    b = ModelBuilder("saturating lstm")
    units, size, steps = 4, 2, 8
    s_x, s_w = 0.05, 0.05
    x = b.add_tensor("x", [1, steps, size], "int8", scale=s_x, zero_point=0)
    inputs = [x] + [-1] * 23
    bias = {"input": 2930, "forget": -4000, "cell": 124, "output": 2930}
    for k, gate in enumerate(("input", "forget", "cell", "output")):
        inputs[1 + k] = b.add_tensor(f"{gate}_w", [units, size], "int8", scale=s_w,
                                     data=np.zeros((units, size), np.int8))
        recurrent = np.full((units, units), 127 if gate == "forget" else 0, np.int8)
        inputs[5 + k] = b.add_tensor(f"{gate}_r", [units, units], "int8",
                                     scale=0.1 if gate == "forget" else s_w, data=recurrent)
        inputs[12 + k] = b.add_tensor(f"{gate}_b", [units], "int32",
                                      scale=float(np.float32(s_x) * np.float32(s_w)),
                                      data=np.full(units, bias[gate], np.int32))
    q_h = {"scale": 1.0 / 128, "zero_point": -2}
    inputs[18] = b.add_tensor("hidden_state", [1, units], "int8", is_variable=True, **q_h)
    inputs[19] = b.add_tensor("cell_state", [1, units], "int16", is_variable=True,
                              scale=2.0 ** -11, zero_point=0)
    y = b.add_tensor("y", [1, steps, units], "int8", **q_h)
    b.add_operator("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y],
                   {"fused_activation_function": "TANH", "cell_clip": 0.0, "time_major": False})
    return b.build([x], [y])


def test_recurrent_range_refusal_is_needed(monkeypatch, tmp_path: Path) -> None:
    """Where the recurrent range leaves int16, utc's kernel keeps TFLite Micro's outputs;
    with the range check defeated CMSIS-NN's function is called and differs from TFLite
    Micro: the refusal is what keeps the backend bit-exact."""
    from utc.passes.quantmath import lstm_cmsis

    from tests.e2e.harness import compile_and_build
    from tests.oracle import TflmRunner

    cmsis_nn_root()
    model = _saturating_lstm()
    [(callee, note)] = _notes(model, tmp_path, kernels="cmsis-nn")
    assert callee == "utc_lstm_s8" and "outside int16" in note
    samples = rnn._inputs(model, 3)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    rnn._assert_same(compile_and_build(path, tmp_path / "utc", kernels="cmsis-nn").run(samples),
                     want, "saturating lstm, utc's kernel")
    monkeypatch.setattr(lstm_cmsis, "recurrent_range", lambda *a, **k: (0, 0))
    forced = compile_and_build(path, tmp_path / "forced", kernels="cmsis-nn")
    assert _called(tmp_path / "forced" / "out") == {CMSIS_LSTM}
    got = forced.run(samples)
    assert any(not np.array_equal(g[0], w[0]) for g, w in zip(got, want)), \
        "CMSIS-NN matched TFLite Micro although the recurrent half saturates"


# ---- TFLite Micro's example models with an LSTM ------------------------------------------
EXAMPLES = {"mnist_lstm": "tensorflow/lite/micro/examples/mnist_lstm/trained_lstm_int8.tflite",
            "micro_speech_lstm": "third_party/xtensa/examples/micro_speech_lstm/"
                                 "micro_speech_lstm.tflite"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_tflm_example_models(name: str, tmp_path: Path) -> None:
    """The public LSTM models compile with `--kernels cmsis-nn` and match TFLite Micro over
    consecutive invocations. Their trained recurrent weights can, for some int8 hidden
    state, drive a gate's recurrent half past int16, so CMSIS-NN's function is refused
    (utc's kernel runs) and the note gives the range."""
    from tests.e2e.harness import compile_and_build
    from tests.oracle import TflmRunner, random_inputs

    cmsis_nn_root()
    model = tflm_file(EXAMPLES[name])
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    notes = [(c, n) for c, n in _notes(model, tmp_path, kernels="cmsis-nn") if "lstm" in c]
    assert [c for c, _ in notes] == ["utc_lstm_s8"]
    assert re.search(rf"{CMSIS_LSTM}: a recurrent fully connected output can reach "
                     r"\[-\d+, \d+\], outside int16", notes[0][1]), notes[0][1]
    rng = np.random.default_rng(3)
    samples = [random_inputs(model, rng) for _ in range(6)]
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    compiled = compile_and_build(path, tmp_path, kernels="cmsis-nn")
    rnn._assert_same(compiled.run(samples), want, f"{name} with cmsis-nn kernels")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_lstm_o1(dtype: str, tmp_path: Path) -> None:
    """-O1 runs fold-zero-point too: CMSIS-NN's function, bit-exact."""
    cmsis_nn_root()
    model = rnn.lstm_model(2, 3, 4, 5, True, 0.0, seed=13 if dtype == "int8" else 16,
                           dtype=dtype)
    rnn._check(model, tmp_path, f"cmsis-nn lstm -O1 {dtype}", kernels="cmsis-nn", opt_level=1)
    assert _called(tmp_path / "out") == {CMSIS_LSTM if dtype == "int8" else CMSIS_LSTM16}
