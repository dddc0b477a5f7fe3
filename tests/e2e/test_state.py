"""Stateful models: resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, a
CALL_ONCE initialisation subgraph) kept between invocations.

Every model runs N consecutive invocations through the generated code (one process, one
state) and through one TFLite Micro interpreter that is not reset in between
(`TflmRunner.invoke`), and the outputs must agree bit for bit: int8 exactly, float32
exactly too (the kernels are TFLite Micro's arithmetic in the same order). The reset
tests call NAME_reset() between runs. Errors for what utc refuses are checked through
the command line: one line, exit status 2, no output folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner, random_inputs
from tests.tflite_writer import RESOURCE, ModelBuilder

N = 5  # consecutive invocations compared per model
Q_STATE = (0.1, -4)  # int8 (scale, zero point) of the variables
Q_X = (0.05, 3)
Q_T = (0.08, -2)


class StateModel:
    """A ModelBuilder for the main subgraph with helpers for variables: `handle(name)`
    adds a VAR_HANDLE, `read`/`assign` the variable ops; `init` adds a CALL_ONCE whose
    subgraph assigns the given constants."""

    def __init__(self, dtype: str):
        self.b = ModelBuilder("utc state test")
        self.dtype = dtype
        self.inits: dict[str, np.ndarray] = {}
        self._count = 0

    def tensor(self, name: str, shape, q=Q_STATE, data=None) -> int:
        if self.dtype == "float32":
            return self.b.add_tensor(name, shape, "float32", data=data)
        return self.b.add_tensor(name, shape, "int8", data=data, scale=q[0], zero_point=q[1])

    def handle(self, shared_name: str) -> int:
        h = self.b.add_tensor(f"{shared_name}_handle{self._count}", [], RESOURCE)
        self._count += 1
        self.b.add_operator("VAR_HANDLE", [], [h], {"container": "", "shared_name": shared_name})
        return h

    def read(self, h: int, shape, name: str) -> int:
        v = self.tensor(name, shape)
        self.b.add_operator("READ_VARIABLE", [h], [v])
        return v

    def assign(self, h: int, value: int) -> None:
        self.b.add_operator("ASSIGN_VARIABLE", [h, value], [])

    def call_once(self) -> None:
        """CALL_ONCE of subgraph 1 (written by `build`), as the first operator."""
        self.b.add_operator("CALL_ONCE", [], [], {"init_subgraph_index": 1})

    def build(self, inputs, outputs) -> bytes:
        if self.inits:
            self.b.add_subgraph()
            for name, data in self.inits.items():
                h = self.b.add_tensor(f"{name}_init_handle", [], RESOURCE)
                c = self.tensor(f"{name}_init_value", data.shape, data=data)
                self.b.add_operator("VAR_HANDLE", [], [h], {"container": "", "shared_name": name})
                self.b.add_operator("ASSIGN_VARIABLE", [h, c], [])
            self.b.set_subgraph_io([], [])
        return self.b.build(inputs, outputs)


def _init_value(dtype: str, shape, real: float) -> np.ndarray:
    """A constant whose real value is `real`: quantized with Q_STATE for int8."""
    if dtype == "float32":
        return np.full(shape, real, np.float32)
    q = int(round(real / Q_STATE[0])) + Q_STATE[1]
    return np.full(shape, q, np.int8)


# ---- the models ---------------------------------------------------------------------------

def accumulator(dtype: str, init: float | None = 0.0, shape=(1, 8)) -> bytes:
    """state += x; the output is the new state."""
    m = StateModel(dtype)
    if init is not None:
        m.call_once()
        m.inits["acc"] = _init_value(dtype, shape, init)
    x = m.tensor("x", shape, Q_X)
    h = m.handle("acc")
    v = m.read(h, shape, "acc_value")
    y = m.tensor("y", shape)
    m.b.add_operator("ADD", [v, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    return m.build([x], [y])


def running_max(dtype: str) -> bytes:
    """state = max(state, x), starting from the most negative value."""
    shape = (2, 3)
    m = StateModel(dtype)
    m.call_once()
    m.inits["peak"] = (np.full(shape, -1e30, np.float32) if dtype == "float32"
                       else np.full(shape, -128, np.int8))
    x = m.tensor("x", shape)  # MAXIMUM needs one quantization for both sides
    h = m.handle("peak")
    v = m.read(h, shape, "peak_value")
    y = m.tensor("y", shape)
    m.b.add_operator("MAXIMUM", [v, x], [y])
    m.assign(h, y)
    return m.build([x], [y])


def iir(dtype: str) -> bytes:
    """A one-pole filter y = a * y + x per channel (a a constant vector in flash)."""
    shape = (1, 6)
    m = StateModel(dtype)
    m.call_once()
    m.inits["y_prev"] = _init_value(dtype, shape, 0.0)
    x = m.tensor("x", shape, Q_X)
    a_real = np.array([0.9, 0.5, -0.5, 0.25, 0.99, 0.0], np.float32).reshape(shape)
    if dtype == "float32":
        a = m.tensor("a", shape, data=a_real)
    else:
        a = m.b.add_tensor("a", shape, "int8", data=np.round(a_real / 0.01).astype(np.int8),
                           scale=0.01, zero_point=0)
    h = m.handle("y_prev")
    v = m.read(h, shape, "y_prev_value")
    t = m.tensor("ay", shape, Q_T)
    m.b.add_operator("MUL", [v, a], [t], {"fused_activation_function": "NONE"})
    y = m.tensor("y", shape)
    m.b.add_operator("ADD", [t, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    return m.build([x], [y])


def two_variables(dtype: str) -> bytes:
    """s = s + x; p = max(p, s); outputs s and p (two variables, one init subgraph)."""
    shape = (1, 4)
    m = StateModel(dtype)
    m.call_once()
    m.inits["sum"] = _init_value(dtype, shape, 0.5)
    m.inits["peak"] = _init_value(dtype, shape, -2.0)
    x = m.tensor("x", shape, Q_X)
    hs, hp = m.handle("sum"), m.handle("peak")
    s = m.read(hs, shape, "sum_value")
    p = m.read(hp, shape, "peak_value")
    s2 = m.tensor("s", shape)
    m.b.add_operator("ADD", [s, x], [s2], {"fused_activation_function": "NONE"})
    p2 = m.tensor("p", shape)
    m.b.add_operator("MAXIMUM", [p, s2], [p2])
    m.assign(hs, s2)
    m.assign(hp, p2)
    return m.build([x], [s2, p2])


def read_twice(dtype: str) -> bytes:
    """v1 = read; y = v1 + x; assign y; v2 = read (the new value); d = x - v1 computed
    after the assignment (so v1 must not be the state's bytes any more) and e = v2 * v2:
    a variable read twice and assigned once."""
    shape = (1, 5)
    m = StateModel(dtype)
    m.call_once()
    m.inits["acc"] = _init_value(dtype, shape, 1.0)
    x = m.tensor("x", shape, Q_X)
    h = m.handle("acc")
    v1 = m.read(h, shape, "before")
    y = m.tensor("y", shape)
    m.b.add_operator("ADD", [v1, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    v2 = m.read(m.handle("acc"), shape, "after")
    d = m.tensor("d", shape, Q_T)
    m.b.add_operator("SUB", [x, v1], [d], {"fused_activation_function": "NONE"})
    e = m.tensor("e", shape, Q_T)
    m.b.add_operator("MUL", [v2, v2], [e], {"fused_activation_function": "NONE"})
    return m.build([x], [d, e, v2])


MODELS = {"accumulator": accumulator, "running_max": running_max, "iir": iir,
          "two_variables": two_variables, "read_twice": read_twice}


# ---- comparisons --------------------------------------------------------------------------

def _inputs(model: bytes, count: int, seed: int = 7) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [random_inputs(model, rng, float_scale=2.0) for _ in range(count)]


def _assert_same(got: list[list[np.ndarray]], want: list[list[np.ndarray]], what: str) -> None:
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


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_consecutive_invocations_match_tflm(model: str, dtype: str, tmp_path: Path) -> None:
    flatbuffer = MODELS[model](dtype)
    compiled = _compile(flatbuffer, tmp_path)
    samples = _inputs(flatbuffer, N)
    tflm = TflmRunner(flatbuffer)
    want = [tflm.invoke(s) for s in samples]
    _assert_same(compiled.run(samples), want, f"{model} {dtype}")
    # the state really carries over: some output changes although the input does not
    same = [samples[0]] * 3
    tflm = TflmRunner(flatbuffer)
    repeated = [tflm.invoke(s) for s in same]
    if model != "running_max":
        assert not all(np.array_equal(repeated[0][0], r[0]) for r in repeated[1:])
    _assert_same(compiled.run(same), repeated, model)  # a new process: a fresh state


@pytest.mark.parametrize("opt_level", [0, 1])
def test_lower_optimisation_levels(opt_level: int, tmp_path: Path) -> None:
    flatbuffer = read_twice("int8")
    samples = _inputs(flatbuffer, N)
    tflm = TflmRunner(flatbuffer)
    _assert_same(_compile(flatbuffer, tmp_path, opt_level=opt_level).run(samples),
                 [tflm.invoke(s) for s in samples], f"-O{opt_level}")


def test_default_fill_without_call_once(tmp_path: Path) -> None:
    """No initialisation subgraph: the variable starts as TFLite Micro's fill, every byte
    the int8 zero point."""
    flatbuffer = accumulator("int8", init=None)
    samples = _inputs(flatbuffer, N)
    tflm = TflmRunner(flatbuffer)
    _assert_same(_compile(flatbuffer, tmp_path).run(samples), [tflm.invoke(s) for s in samples],
                 "default fill")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_reset_restores_the_first_outputs(dtype: str, tmp_path: Path) -> None:
    """Three runs, NAME_reset(), three runs with the same inputs: the second three give
    the first three again, and TFLite Micro's Reset() agrees (the variables start at
    their zero-point fill, which is what its Reset restores)."""
    flatbuffer = iir(dtype)
    first = _inputs(flatbuffer, 3)
    compiled = _compile(flatbuffer, tmp_path, reset_before=3)
    got = compiled.run(first + first)
    _assert_same(got[3:], got[:3], "after reset")
    tflm = TflmRunner(flatbuffer)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "reset vs TFLM")


def test_reset_restores_initial_values_from_call_once(tmp_path: Path) -> None:
    """A non-zero initial value: NAME_reset() restores it, so the runs after a reset give
    what a fresh interpreter gives. (TFLite Micro's own Reset() refills the zero point
    and does not run CALL_ONCE again; utc's reset means "as before the first run".)"""
    flatbuffer = accumulator("float32", init=10.0)
    first = _inputs(flatbuffer, 3)
    got = _compile(flatbuffer, tmp_path, reset_before=3).run(first + first)
    fresh = TflmRunner(flatbuffer)
    want = [fresh.invoke(s) for s in first]
    _assert_same(got[:3], want, "before reset")
    _assert_same(got[3:], want, "after reset")
    tflm = TflmRunner(flatbuffer)
    for s in first:
        tflm.invoke(s)
    tflm.reset()
    # the documented difference: TFLite Micro's reset starts from 0.0, not from 10.0
    assert not np.array_equal(tflm.invoke(first[0])[0], want[0][0])


# ---- memory and the generated API ---------------------------------------------------------

def test_state_is_its_own_region(tmp_path: Path) -> None:
    """A 1 KiB variable next to tiny activations: the state region holds it, the arena
    does not, the header says both, and the report has the state line."""
    flatbuffer = accumulator("float32", init=0.0, shape=(1, 256))
    path = tmp_path / "big.tflite"
    path.write_bytes(flatbuffer)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(out), "--name", "acc", "--report"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    header = (out / "acc.h").read_text()
    assert "#define ACC_STATE_BYTES 1024\n" in header
    assert "void acc_reset(void);" in header
    arena = int(header.split("#define ACC_ARENA_BYTES ")[1].split()[0])
    assert arena == 2 * 1024  # x and y only: the variable is not in the arena
    line = next(x for x in proc.stdout.splitlines() if x.startswith("state "))
    assert "1,024 B" in line and "1 variable" in line and "initial values: 1,024 B" in line
    source = (out / "acc.cpp").read_text()
    assert "uint8_t state[ACC_STATE_BYTES];" in source
    assert "(state + 0)" in source


def test_stateless_models_have_no_state_api(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [4], "float32")
    y = b.add_tensor("y", [4], "float32")
    b.add_operator("RELU", [x], [y])
    path = tmp_path / "relu.tflite"
    path.write_bytes(b.build([x], [y]))
    compile_and_build(path, tmp_path)
    text = (tmp_path / "out" / "m.h").read_text() + (tmp_path / "out" / "m.cpp").read_text()
    assert "STATE" not in text and "reset" not in text and "state[" not in text


# ---- refusals -----------------------------------------------------------------------------

def _refused(model: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bad.tflite"
    path.write_bytes(model)
    out = tmp_path / "never"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("utc: error: "), proc.stderr
    return lines[0]


def test_init_subgraph_that_computes_is_refused(tmp_path: Path) -> None:
    m = StateModel("float32")
    m.call_once()
    x = m.tensor("x", (1, 4))
    h = m.handle("acc")
    v = m.read(h, (1, 4), "v")
    y = m.tensor("y", (1, 4))
    m.b.add_operator("ADD", [v, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    m.b.add_subgraph()
    hi = m.b.add_tensor("h", [], RESOURCE)
    c = m.b.add_tensor("c", [1, 4], "float32", data=np.ones((1, 4)))
    s = m.b.add_tensor("s", [1, 4], "float32")
    m.b.add_operator("VAR_HANDLE", [], [hi], {"container": "", "shared_name": "acc"})
    m.b.add_operator("ADD", [c, c], [s], {"fused_activation_function": "NONE"})
    m.b.add_operator("ASSIGN_VARIABLE", [hi, s], [])
    m.b.set_subgraph_io([], [])
    line = _refused(m.b.build([x], [y]), tmp_path)
    assert "subgraph #1 (run by CALL_ONCE): operator #1 ADD" in line
    assert "may only assign constants" in line


def test_read_of_a_variable_never_assigned_is_refused(tmp_path: Path) -> None:
    m = StateModel("float32")
    x = m.tensor("x", (1, 4))
    v = m.read(m.handle("ghost"), (1, 4), "v")
    y = m.tensor("y", (1, 4))
    m.b.add_operator("ADD", [v, x], [y], {"fused_activation_function": "NONE"})
    line = _refused(m.build([x], [y]), tmp_path)
    assert "variable 'ghost' is read but never assigned" in line


def test_call_once_after_an_access_is_refused(tmp_path: Path) -> None:
    m = StateModel("float32")
    m.inits["acc"] = np.zeros((1, 4), np.float32)
    x = m.tensor("x", (1, 4))
    h = m.handle("acc")
    v = m.read(h, (1, 4), "v")
    m.call_once()
    y = m.tensor("y", (1, 4))
    m.b.add_operator("ADD", [v, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    line = _refused(m.build([x], [y]), tmp_path)
    assert "operator #2 CALL_ONCE runs after operator #1 READ_VARIABLE" in line


def test_variable_used_with_two_types_is_refused(tmp_path: Path) -> None:
    m = StateModel("int8")
    x = m.tensor("x", (1, 4))
    h = m.handle("acc")
    v = m.read(h, (1, 4), "v")
    y = m.b.add_tensor("y", [1, 4], "int8", scale=0.5, zero_point=0)
    m.b.add_operator("ADD", [v, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    line = _refused(m.build([x], [y]), tmp_path)
    assert "operator #3 ASSIGN_VARIABLE: variable 'acc' holds" in line


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_variable_tensor_beside_a_resource_variable(dtype: str, tmp_path: Path) -> None:
    """A plain variable tensor (`is_variable`) read by an operator is state too: it holds
    TFLite Micro's fill (the int8 zero point, else 0) in every invocation, next to a
    resource variable that changes; N invocations and a reset agree with TFLite Micro."""
    shape = (1, 4)
    m = StateModel(dtype)
    x = m.tensor("x", shape, Q_X)
    bias = m.b.add_tensor("fixed_state", list(shape), dtype, is_variable=True,
                          **({} if dtype == "float32" else {"scale": Q_T[0], "zero_point": Q_T[1]}))
    h = m.handle("acc")
    v = m.read(h, shape, "acc_value")
    t = m.tensor("t", shape)
    m.b.add_operator("ADD", [v, bias], [t], {"fused_activation_function": "NONE"})
    y = m.tensor("y", shape)
    m.b.add_operator("ADD", [t, x], [y], {"fused_activation_function": "NONE"})
    m.assign(h, y)
    flatbuffer = m.build([x], [y])
    samples = _inputs(flatbuffer, N)
    compiled = _compile(flatbuffer, tmp_path, reset_before=N)
    got = compiled.run(samples + samples)
    tflm = TflmRunner(flatbuffer)
    want = [tflm.invoke(s) for s in samples]
    tflm.reset()
    want += [tflm.invoke(s) for s in samples]
    _assert_same(got, want, f"variable tensor {dtype}")
    module_text = (tmp_path / "out" / "m.h").read_text()
    assert "M_STATE_BYTES" in module_text


def test_every_level_prints_the_state_ops_and_parses_back(tmp_path: Path) -> None:
    """The IR dumped after each pass shows the state (variables, reads and writes, then
    `buf.state` buffers and copy calls) and reads back to the same text."""
    from utc.compiler.ir.parser import parse_module
    from utc.compiler.ir.printer import print_module

    path = tmp_path / "rt.tflite"
    path.write_bytes(read_twice("int8"))
    dumps = tmp_path / "ir"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(tmp_path / "out"), "--dump-ir-dir", str(dumps),
                           "--verify-each"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    files = sorted(dumps.glob("*.utc"))
    assert files
    for f in files:
        text = f.read_text()
        assert "state.variable" in text, f.name
        module = parse_module(text, f.name)
        module.verify()
        assert print_module(module, locations=True) == text, f"{f.name} does not round-trip"
    imported = files[0].read_text()
    assert imported.count("state.read") == 2 and imported.count("state.write") == 1
    planned = files[-1].read_text()
    assert "buf.state" in planned and 'op = "state.copy"' in planned
    assert "state_bytes = 5" in planned


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_builds_and_runs_on_cortex_m4(dtype: str, tmp_path: Path) -> None:
    """The stateful code cross-compiles for Cortex-M4 and its first run on QEMU (which
    copies the initial values from flash) is TFLite Micro's first invocation."""
    from utc.codegen import cortex_m
    from utc.compiler.driver import compile_model
    from utc.compiler.driver.cli import io_specs

    from tests.e2e.test_cortex_m import _spec, lcg_inputs

    flatbuffer = two_variables(dtype)
    path = tmp_path / "two.tflite"
    path.write_bytes(flatbuffer)
    out = tmp_path / "out"
    result = compile_model(path, out, name="model", kernels="reference", target="cortex-m4")
    ins, outs = io_specs(result.module)
    fw = cortex_m.build_firmware(out, "model", "cortex-m4", tmp_path / "build",
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    run = cortex_m.run_firmware(fw)
    assert run.status == 0
    want = TflmRunner(flatbuffer).invoke(lcg_inputs(ins))
    for k, (got, w) in enumerate(zip(run.outputs, want)):
        assert got == np.ascontiguousarray(w).tobytes(), f"output {k}"
