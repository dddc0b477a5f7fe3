"""Recurrent layers whose state lives in variable tensors (`is_variable`): SVDF.

Every model runs N consecutive invocations through the generated code (one process, one
state) and through one TFLite Micro interpreter that is not reset in between
(`TflmRunner.invoke`); the outputs must agree bit for bit (int8 and float32: the kernels
do TFLite Micro's arithmetic in its order). A reset test calls NAME_reset() between
runs. Models are built with the suite's writer from seeded random weights.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

N = 5  # consecutive invocations compared per model

# int8 quantization: (scale, zero point)
Q_IN = (0.05, 3)
S_WF = 0.002
Q_STATE8 = (0.05, -5)
S_WT8 = 0.01
Q_STATE16 = (0.0005, 0)
S_WT16 = 1.0 / 32768
Q_OUT = (0.1, 2)


def svdf_model(dtype: str, batch: int = 1, input_size: int = 8, units: int = 4, rank: int = 1,
               memory: int = 4, act: str = "NONE", state16: bool = False, bias: bool = True,
               seed: int = 0, out_scale: float | None = None,
               state_zp: int | None = None) -> bytes:
    """x [batch, input_size] -> SVDF -> y [batch, units], with a variable state tensor
    [batch, memory * units * rank] and random constant weights (`state_zp` overrides the
    state's zero point: CMSIS-NN's SVDF kernels take only 0)."""
    rng = np.random.default_rng(seed)
    filters = units * rank
    b = ModelBuilder("utc svdf test")
    state_shape = [batch, memory * filters]
    if dtype == "float32":
        x = b.add_tensor("x", [batch, input_size], "float32")
        wf = b.add_tensor("weights_feature", [filters, input_size], "float32",
                          data=rng.uniform(-0.5, 0.5, (filters, input_size)).astype(np.float32))
        wt = b.add_tensor("weights_time", [filters, memory], "float32",
                          data=rng.uniform(-0.5, 0.5, (filters, memory)).astype(np.float32))
        bt = b.add_tensor("bias", [units], "float32",
                          data=rng.uniform(-0.3, 0.3, units).astype(np.float32)) if bias else -1
        s = b.add_tensor("activation_state", state_shape, "float32", is_variable=True)
        y = b.add_tensor("y", [batch, units], "float32")
    else:
        q_state, s_wt, wt_type = (Q_STATE16, S_WT16, "int16") if state16 else (Q_STATE8, S_WT8, "int8")
        x = b.add_tensor("x", [batch, input_size], "int8", scale=Q_IN[0], zero_point=Q_IN[1])
        wf = b.add_tensor("weights_feature", [filters, input_size], "int8",
                          data=rng.integers(-127, 128, (filters, input_size)), scale=S_WF)
        hi = 2 ** 15 - 1 if state16 else 127
        wt = b.add_tensor("weights_time", [filters, memory], wt_type,
                          data=rng.integers(-hi, hi + 1, (filters, memory)), scale=s_wt)
        bias_scale = float(np.float32(q_state[0]) * np.float32(s_wt))
        bt = b.add_tensor("bias", [units], "int32", data=rng.integers(-2000, 2000, units),
                          scale=bias_scale) if bias else -1
        s = b.add_tensor("activation_state", state_shape, wt_type, scale=q_state[0],
                         zero_point=q_state[1] if state_zp is None else state_zp,
                         is_variable=True)
        y = b.add_tensor("y", [batch, units], "int8", scale=out_scale or Q_OUT[0],
                         zero_point=Q_OUT[1])
    b.add_operator("SVDF", [x, wf, wt, bt, s], [y],
                   {"rank": rank, "fused_activation_function": act},
                   version=1 if dtype == "float32" else 3)
    return b.build([x], [y])


# ---- comparisons --------------------------------------------------------------------------

def _inputs(model: bytes, count: int, seed: int = 7) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [random_inputs(model, rng, float_scale=2.0) for _ in range(count)]


def _assert_same(got, want, what: str) -> None:
    assert len(got) == len(want)
    for i, (g_outs, w_outs) in enumerate(zip(got, want)):
        for k, (g, w) in enumerate(zip(g_outs, w_outs)):
            assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: invocation {i} output {k}"
            assert np.array_equal(g, w), (f"{what}: invocation {i} output {k} differs:\n"
                                          f"utc  {g.ravel()[:8]}\nTFLM {w.ravel()[:8]}")


def _compile(model: bytes, tmp_path: Path, **kwargs):
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    return compile_and_build(path, tmp_path, **kwargs)


def _check(model: bytes, tmp_path: Path, what: str, memory: int = 2,
           **kwargs) -> list[list[np.ndarray]]:
    """N invocations of utc's code and of one un-reset TFLite Micro interpreter agree, and
    the state carries over (repeating one input changes the output) unless the memory is
    one value long (the state is then only this invocation's feature)."""
    compiled = _compile(model, tmp_path, **kwargs)
    samples = _inputs(model, N)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    _assert_same(compiled.run(samples), want, what)
    same = [samples[0]] * 3
    tflm = TflmRunner(model)
    repeated = [tflm.invoke(s) for s in same]
    if memory > 1:
        assert not all(np.array_equal(repeated[0][0], r[0]) for r in repeated[1:]), \
            f"{what}: the state has no effect"
    _assert_same(compiled.run(same), repeated, what)
    return want


def _spread(outputs: list[list[np.ndarray]]) -> None:
    """int8 outputs use the range: a saturated model would prove little."""
    values = np.concatenate([o[0].ravel() for o in outputs]).astype(np.int32)
    assert np.mean((values == -128) | (values == 127)) < 0.5 and len(set(values.tolist())) > 4


SVDF_CASES = [  # (batch, input_size, units, rank, memory)
    (1, 8, 4, 1, 4),
    (1, 8, 4, 2, 4),
    (2, 5, 3, 2, 8),
    (1, 16, 8, 1, 1),
    (3, 4, 2, 1, 10),
]


@pytest.mark.parametrize("case", SVDF_CASES, ids=lambda c: "b{}_in{}_u{}_r{}_m{}".format(*c))
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_int8(case, state16: bool, tmp_path: Path) -> None:
    batch, input_size, units, rank, memory = case
    model = svdf_model("int8", batch, input_size, units, rank, memory, state16=state16, seed=1)
    _spread(_check(model, tmp_path, f"svdf int8 {case} state16={state16}", memory))


@pytest.mark.parametrize("case", SVDF_CASES, ids=lambda c: "b{}_in{}_u{}_r{}_m{}".format(*c))
def test_svdf_float32(case, tmp_path: Path) -> None:
    batch, input_size, units, rank, memory = case
    _check(svdf_model("float32", batch, input_size, units, rank, memory, seed=2), tmp_path,
           f"svdf float32 {case}", memory)


@pytest.mark.parametrize("act", ["RELU", "RELU_N1_TO_1", "RELU6", "TANH"])
def test_svdf_float32_activations(act: str, tmp_path: Path) -> None:
    _check(svdf_model("float32", 2, 6, 4, 2, 3, act=act, seed=3), tmp_path, f"svdf {act}")


def test_svdf_int8_ignores_the_fused_activation(tmp_path: Path) -> None:
    """TFLite Micro's integer SVDF applies no fused activation; utc matches it."""
    _check(svdf_model("int8", 1, 8, 4, 1, 4, act="RELU", seed=4), tmp_path, "svdf int8 relu")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_svdf_without_bias_refused(dtype: str, tmp_path: Path) -> None:
    """TFLite Micro's SVDF reads the bias unconditionally (it crashes without one)."""
    line = _utc_error(svdf_model(dtype, 1, 6, 3, 1, 5, bias=False, seed=5), tmp_path)
    assert "operator #0 SVDF: a bias is required" in line


def test_svdf_output_multiplier_above_one(tmp_path: Path) -> None:
    """A time-stage factor above one (positive shift)."""
    model = svdf_model("int8", 1, 8, 4, 1, 4, seed=6, out_scale=Q_STATE8[0] * S_WT8 / 3)
    _check(model, tmp_path, "svdf int8 multiplier > 1")


@pytest.mark.parametrize("dtype,state16", [("int8", False), ("int8", True), ("float32", False)])
def test_svdf_reset_restores_the_first_outputs(dtype: str, state16: bool, tmp_path: Path) -> None:
    model = svdf_model(dtype, 2, 6, 3, 2, 4, state16=state16, seed=8)
    first = _inputs(model, 3)
    compiled = _compile(model, tmp_path, reset_before=3)
    got = compiled.run(first + first)
    _assert_same(got[3:], got[:3], "after reset")
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "reset vs TFLM")


def test_svdf_state_is_outside_the_arena(tmp_path: Path) -> None:
    """The state is a planned state region of exactly its bytes (aligned), reported in the
    header; the arena holds the activations."""
    model = svdf_model("int8", 2, 8, 4, 2, 5, state16=True, seed=9)
    _compile(model, tmp_path)
    header = (tmp_path / "out" / "m.h").read_text()
    assert "#define M_STATE_BYTES 160" in header  # 2 * 5 * 8 int16
    assert "void m_reset(void)" in header
    # the kernel updates the state in place: the arena holds x (16 B) and y (8 B) only,
    # and no copy moves the state
    assert "#define M_ARENA_BYTES 24" in header
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_lstm_states_are_updated_in_place(dtype: str, tmp_path: Path) -> None:
    """Hidden and cell state live in the state region only (no arena copy, no utc_copy);
    the arena holds the input, the output and the kernel's one-row scratch."""
    model = lstm_model(2, 3, 4, 5, False, 0.0, seed=15, dtype=dtype)
    _check(model, tmp_path, f"lstm in place {dtype}")
    header = (tmp_path / "out" / "m.h").read_text()
    hidden, cell = (10, 20) if dtype == "int8" else (40, 40)
    state_bytes = int(re.search(r"#define M_STATE_BYTES (\d+)", header).group(1))
    assert hidden + cell <= state_bytes < hidden + cell + 16  # two slots, the second aligned
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()


# ---- refusals -----------------------------------------------------------------------------

def _utc_error(model: bytes, tmp_path: Path) -> str:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_svdf_state_must_be_a_variable(tmp_path: Path) -> None:
    b = ModelBuilder("t")
    x = b.add_tensor("x", [1, 4], "float32")
    wf = b.add_tensor("wf", [2, 4], "float32", data=np.ones((2, 4), np.float32))
    wt = b.add_tensor("wt", [2, 3], "float32", data=np.ones((2, 3), np.float32))
    s = b.add_tensor("state", [1, 6], "float32")
    y = b.add_tensor("y", [1, 2], "float32")
    b.add_operator("SVDF", [x, wf, wt, -1, s], [y], {"rank": 1})
    line = _utc_error(b.build([x, s], [y]), tmp_path)
    assert "operator #0 SVDF: input 4 ('state'), the activation state, must be a variable" in line


def test_svdf_int8_bias_scale_refused(tmp_path: Path) -> None:
    b = ModelBuilder("t")
    x = b.add_tensor("x", [1, 4], "int8", scale=0.1, zero_point=0)
    wf = b.add_tensor("wf", [2, 4], "int8", data=np.ones((2, 4), np.int8), scale=0.1)
    wt = b.add_tensor("wt", [2, 3], "int8", data=np.ones((2, 3), np.int8), scale=0.1)
    bt = b.add_tensor("bias", [2], "int32", data=np.zeros(2, np.int32), scale=0.5)
    s = b.add_tensor("state", [1, 6], "int8", scale=0.1, zero_point=0, is_variable=True)
    y = b.add_tensor("y", [1, 2], "int8", scale=0.1, zero_point=0)
    b.add_operator("SVDF", [x, wf, wt, bt, s], [y], {"rank": 1}, version=3)
    line = _utc_error(b.build([x], [y]), tmp_path)
    assert "svdf" in line and "bias scale" in line


def test_variable_tensor_as_model_output_refused(tmp_path: Path) -> None:
    b = ModelBuilder("t")
    x = b.add_tensor("x", [1, 4], "float32")
    v = b.add_tensor("v", [1, 4], "float32", is_variable=True)
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("ADD", [x, v], [y], {"fused_activation_function": "NONE"})
    line = _utc_error(b.build([x], [y, v]), tmp_path)
    assert "model output" in line and "'v'" in line and "variable tensor" in line


# ---- plain variable tensors read by other operators ---------------------------------------

@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_variable_tensor_read_by_add(dtype: str, tmp_path: Path) -> None:
    """An operator reading a variable tensor sees TFLite Micro's fill: the int8 zero point,
    else zero (an int16 variable starts at 0 whatever its zero point)."""
    b = ModelBuilder("t")
    q = {} if dtype == "float32" else {"scale": 0.05, "zero_point": 0 if dtype == "int16" else 7}
    x = b.add_tensor("x", [2, 3], dtype, **q)
    vq = {} if dtype == "float32" else {"scale": 0.05, "zero_point": 0 if dtype == "int16" else -9}
    v = b.add_tensor("v", [2, 3], dtype, is_variable=True, **vq)
    y = b.add_tensor("y", [2, 3], dtype, **q)
    b.add_operator("ADD", [x, v], [y], {"fused_activation_function": "NONE"})
    model = b.build([x], [y])
    compiled = _compile(model, tmp_path)
    samples = _inputs(model, 3)
    tflm = TflmRunner(model)
    _assert_same(compiled.run(samples), [tflm.invoke(s) for s in samples], f"add {dtype}")


# ---- UNIDIRECTIONAL_SEQUENCE_LSTM ---------------------------------------------------------

def lstm_model(batch: int = 1, time_steps: int = 3, input_size: int = 5, state: int = 4,
               time_major: bool = False, cell_clip: float = 0.0, seed: int = 0,
               omit: tuple[int, ...] = (), extra: dict[int, tuple[int, ...]] | None = None,
               act: str = "TANH", dtype: str = "float32", cell_scale: float = 2.0 ** -11,
               hidden_zp: int = -2) -> bytes:
    """A float32 LSTM over x (time-major [T, B, I] or batch-major [B, T, I]) with random
    weights, variable hidden and cell state; `omit` leaves required inputs out and
    `extra` adds inputs TFLite Micro does not implement (position -> shape)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("utc lstm test")
    x_shape = [time_steps, batch, input_size] if time_major else [batch, time_steps, input_size]
    y_shape = x_shape[:2] + [state]
    q8 = dtype in ("int8", "int16")  # quantized (int16: the 16x8 scheme, zero points 0)
    s_x = 0.05 if dtype == "int8" else 1.0 / 4096
    q_x = ({"scale": s_x, "zero_point": 3 if dtype == "int8" else 0} if q8 else {})
    q_h = ({"scale": 1.0 / 128 if dtype == "int8" else 1.0 / 32768,
            "zero_point": hidden_zp if dtype == "int8" else 0} if q8 else {})
    s_w = 0.005
    x = b.add_tensor("x", x_shape, dtype, **q_x)
    inputs = [x] + [-1] * 23
    gates = ("input", "forget", "cell", "output")
    for k, gate in enumerate(gates):
        if q8:
            inputs[1 + k] = b.add_tensor(f"{gate}_w", [state, input_size], "int8", scale=s_w,
                                         data=rng.integers(-127, 128, (state, input_size)))
            inputs[5 + k] = b.add_tensor(f"{gate}_r", [state, state], "int8", scale=s_w,
                                         data=rng.integers(-127, 128, (state, state)))
            bias_max = 1200 if dtype == "int8" else 1200 * 205
            inputs[12 + k] = b.add_tensor(f"{gate}_b", [state],
                                          "int32" if dtype == "int8" else "int64",
                                          scale=float(np.float32(s_x) * np.float32(s_w)),
                                          data=rng.integers(-bias_max, bias_max, state))
        else:
            inputs[1 + k] = b.add_tensor(f"{gate}_w", [state, input_size], "float32",
                                         data=rng.uniform(-0.6, 0.6, (state, input_size)))
            inputs[5 + k] = b.add_tensor(f"{gate}_r", [state, state], "float32",
                                         data=rng.uniform(-0.6, 0.6, (state, state)))
            inputs[12 + k] = b.add_tensor(f"{gate}_b", [state], "float32",
                                          data=rng.uniform(-0.3, 0.3, state))
    inputs[18] = b.add_tensor("hidden_state", [batch, state], dtype, is_variable=True, **q_h)
    inputs[19] = b.add_tensor("cell_state", [batch, state], "int16" if q8 else "float32",
                              is_variable=True,
                              **({"scale": cell_scale, "zero_point": 0} if q8 else {}))
    for position in omit:
        inputs[position] = -1
    for position, shape in (extra or {}).items():
        inputs[position] = b.add_tensor(f"extra{position}", list(shape), "float32",
                                        data=np.ones(shape, np.float32))
    y = b.add_tensor("y", y_shape, dtype, **q_h)
    b.add_operator("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y],
                   {"fused_activation_function": act, "cell_clip": cell_clip,
                    "time_major": time_major})
    return b.build([x], [y])


LSTM_CASES = [  # (batch, time_steps, input_size, state, time_major, cell_clip)
    (1, 3, 5, 4, False, 0.0),
    (2, 4, 3, 6, False, 0.0),
    (2, 4, 3, 6, True, 0.0),
    (3, 1, 8, 2, True, 0.0),
    (1, 6, 4, 5, False, 0.5),
    (2, 2, 6, 3, True, 0.25),
]


@pytest.mark.parametrize("case", LSTM_CASES, ids=lambda c: "b{}_t{}_i{}_s{}_tm{}_clip{}".format(*c))
def test_lstm_float32(case, tmp_path: Path) -> None:
    batch, time_steps, input_size, state, time_major, clip = case
    model = lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=11)
    _check(model, tmp_path, f"lstm {case}")


@pytest.mark.parametrize("case", LSTM_CASES, ids=lambda c: "b{}_t{}_i{}_s{}_tm{}_clip{}".format(*c))
def test_lstm_int8(case, tmp_path: Path) -> None:
    batch, time_steps, input_size, state, time_major, clip = case
    model = lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=13,
                       dtype="int8")
    _spread(_check(model, tmp_path, f"lstm int8 {case}"))


@pytest.mark.parametrize("case", LSTM_CASES, ids=lambda c: "b{}_t{}_i{}_s{}_tm{}_clip{}".format(*c))
def test_lstm_16x8(case, tmp_path: Path) -> None:
    batch, time_steps, input_size, state, time_major, clip = case
    model = lstm_model(batch, time_steps, input_size, state, time_major, clip, seed=16,
                       dtype="int16")
    outputs = _check(model, tmp_path, f"lstm 16x8 {case}")
    values = np.concatenate([o[0].ravel() for o in outputs]).astype(np.int32)
    assert len(set(values.tolist())) > 4 and np.mean(np.abs(values) == 32767) < 0.5


@pytest.mark.parametrize("cell_scale", [2.0 ** -8, 2.0 ** -15, 3e-4],
                         ids=["2^-8", "2^-15", "not_a_power_of_two"])
def test_lstm_int8_cell_scales(cell_scale: float, tmp_path: Path) -> None:
    """The cell state's scale sets tanh's input shift (positive, negative; a scale that
    is not a power of two is taken as the nearest one, as TFLite Micro does)."""
    model = lstm_model(2, 3, 4, 5, False, 0.0, seed=14, dtype="int8", cell_scale=cell_scale,
                       hidden_zp=5)
    _check(model, tmp_path, f"lstm int8 cell scale {cell_scale}")


def test_lstm_reset_restores_the_first_outputs(tmp_path: Path) -> None:
    model = lstm_model(2, 3, 4, 5, False, 0.0, seed=12)
    first = _inputs(model, 3)
    compiled = _compile(model, tmp_path, reset_before=3)
    got = compiled.run(first + first)
    _assert_same(got[3:], got[:3], "after reset")
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "reset vs TFLM")


@pytest.mark.parametrize("kwargs,message", [
    ({"extra": {9: (4,)}}, "operator #0 UNIDIRECTIONAL_SEQUENCE_LSTM: peephole weights (input 9) "
                           "are not supported"),
    ({"extra": {16: (4, 4)}}, "operator #0 UNIDIRECTIONAL_SEQUENCE_LSTM: projection weights "
                              "(input 16) are not supported"),
    ({"extra": {20: (4,)}}, "operator #0 UNIDIRECTIONAL_SEQUENCE_LSTM: layer normalisation"),
    ({"omit": (1, 5, 12)}, "operator #0 UNIDIRECTIONAL_SEQUENCE_LSTM: CIFG"),
    ({"act": "RELU"}, "operator #0 UNIDIRECTIONAL_SEQUENCE_LSTM: cell gate activation relu"),
])
def test_lstm_refusals(kwargs: dict, message: str, tmp_path: Path) -> None:
    assert message in _utc_error(lstm_model(**kwargs), tmp_path)


@pytest.mark.parametrize("which", ["svdf", "lstm"])
def test_every_level_prints_the_recurrent_ops_and_parses_back(which: str, tmp_path: Path) -> None:
    """The dumped IR shows the op with each stage's or gate's constants by name (qnn.svdf's
    feature_/time_ pairs, qnn.lstm's <gate>_input_/<gate>_recurrent_ pairs), passes
    --verify-each, and every dump reads back to the same text."""
    from utc.compiler.ir.parser import parse_module
    from utc.compiler.ir.printer import print_module

    model = (svdf_model("int8", 1, 4, 2, 1, 3, seed=20) if which == "svdf"
             else lstm_model(1, 2, 3, 2, False, 0.0, seed=20, dtype="int8"))
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    dumps = tmp_path / "ir"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(tmp_path / "out"), "--dump-ir-dir", str(dumps),
                           "--verify-each"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lowered = next(f for f in sorted(dumps.glob("*.utc")) if "lower-to-qnn" in f.name).read_text()
    if which == "svdf":
        assert "qnn.svdf" in lowered and "feature_mult" in lowered and "time_shift" in lowered
    else:
        for gate in ("input_gate", "forget_gate", "cell_gate", "output_gate"):
            assert f"{gate}_input_mult" in lowered and f"{gate}_recurrent_shift" in lowered
    for f in sorted(dumps.glob("*.utc")):
        text = f.read_text()
        module = parse_module(text, f.name)
        module.verify()
        assert print_module(module, locations=True) == text, f.name


@pytest.mark.parametrize("opt_level", [0, 1])
@pytest.mark.parametrize("which", ["svdf", "lstm_int8", "lstm_float32"])
def test_lower_optimisation_levels(which: str, opt_level: int, tmp_path: Path) -> None:
    model = {"svdf": lambda: svdf_model("int8", 2, 6, 3, 2, 4, state16=True, seed=21),
             "lstm_int8": lambda: lstm_model(2, 3, 4, 3, True, 0.0, seed=21, dtype="int8"),
             "lstm_float32": lambda: lstm_model(2, 3, 4, 3, False, 0.0, seed=21)}[which]()
    _check(model, tmp_path, f"{which} -O{opt_level}", opt_level=opt_level)


def test_two_stacked_svdf_layers(tmp_path: Path) -> None:
    """SVDF -> SVDF (int8, int16 states): two variables in the state region, each updated
    in place, the first layer's output feeding the second."""
    rng = np.random.default_rng(22)
    b = ModelBuilder("utc svdf stack")
    x = b.add_tensor("x", [1, 8], "int8", scale=Q_IN[0], zero_point=Q_IN[1])
    prev = x
    for layer, (units, rank, memory) in enumerate([(6, 2, 5), (3, 1, 4)]):
        filters, width = units * rank, 8 if layer == 0 else 6
        wf = b.add_tensor(f"wf{layer}", [filters, width], "int8", scale=S_WF,
                          data=rng.integers(-127, 128, (filters, width)))
        wt = b.add_tensor(f"wt{layer}", [filters, memory], "int16", scale=S_WT16,
                          data=rng.integers(-32767, 32768, (filters, memory)))
        bt = b.add_tensor(f"bias{layer}", [units], "int32", data=rng.integers(-2000, 2000, units),
                          scale=float(np.float32(Q_STATE16[0]) * np.float32(S_WT16)))
        s = b.add_tensor(f"state{layer}", [1, memory * filters], "int16", scale=Q_STATE16[0],
                         zero_point=0, is_variable=True)
        y = b.add_tensor(f"y{layer}", [1, units], "int8", scale=0.05 if layer == 0 else Q_OUT[0],
                         zero_point=Q_OUT[1])
        b.add_operator("SVDF", [prev, wf, wt, bt, s], [y], {"rank": rank}, version=3)
        prev = y
    model = b.build([x], [prev])
    _spread(_check(model, tmp_path, "two svdf layers"))
    assert "utc_copy" not in (tmp_path / "out" / "m.cpp").read_text()
