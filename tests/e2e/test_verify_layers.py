"""`utc verify --per-layer`: every intermediate tensor against TFLite Micro's.

The point of comparing layer by layer is to find the layer that went wrong, so the
central test breaks the requantization of one middle layer with a pass plugin and checks
that the report names exactly that layer (its step, IR op and TFLite operator index,
found here independently from the model file), with every layer before it bit-exact.
The shared models must match at every layer, with CMSIS-NN's kernels as well as utc's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tflite
import utc

from tests.conftest import shared_model
from tests.e2e.op_models import tensor
from tests.e2e.test_state import accumulator
from tests.models_builtin import sine_model_int8
from tests.tflite_writer import ModelBuilder

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]

#: Breaks the requantization of the N-th (0-based) op named OP: output zero point + 1.
FAULT_PLUGIN = '''
from dataclasses import dataclass
from utc.compiler.pass_manager import Pass, register_pass

@register_pass
@dataclass(frozen=True)
class BreakOneLayer(Pass):
    """Adds one to the output zero point of the {n}-th {op} (a test fault)."""
    name = "test-break-layer"

    def run(self, module):
        ops = [op for op in module.walk() if op.name == "{op}"]
        ops[{n}].output_zp = ops[{n}].output_zp + 1
'''

_BUILTIN = {"qnn.conv2d": "CONV_2D", "qnn.depthwise_conv2d": "DEPTHWISE_CONV_2D",
            "qnn.fully_connected": "FULLY_CONNECTED"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ))


def nth_operator(path: Path, builtin: str, n: int) -> int:
    """The index of the n-th operator of type `builtin`, read with the tflite package (not
    through utc, so the expected answer does not come from the code under test)."""
    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    found = []
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        if names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())] == builtin:
            found.append(i)
    return found[n]


def table_rows(stdout: str) -> list[list[str]]:
    """The per-layer table's rows (after the header), split into columns."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "TFLite"])
    rows = []
    for line in lines[start + 1:]:
        if not re.match(r"^\s+\d+\s+#\d+ ", line):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


@pytest.mark.parametrize("op,n", [("qnn.depthwise_conv2d", 1), ("qnn.conv2d", 3)])
def test_per_layer_names_the_broken_layer(op: str, n: int, tmp_path: Path) -> None:
    model = shared_model("mlperf_kws_dscnn_int8.tflite")
    plugin = tmp_path / "fault.py"
    plugin.write_text(FAULT_PLUGIN.replace("{op}", op).replace("{n}", str(n)))
    pipeline = utc.pipeline(2).replace("lower-to-qnn,", "lower-to-qnn,test-break-layer,")
    proc = cli("verify", str(model), "--per-layer", "--samples", "3", "--load-pass-plugin",
               str(plugin), "--pipeline", pipeline, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    expected = nth_operator(model, _BUILTIN[op], n)
    rows = table_rows(proc.stdout)
    bad = [r for r in rows if r[-1] == "MISMATCH"]
    assert bad, proc.stdout
    first = bad[0]
    assert first[1] == f"#{expected} {_BUILTIN[op]}" and first[3] == op, first
    assert all(r[-1] == "ok" for r in rows[: rows.index(first)])  # everything before is exact
    exact, total = map(int, first[6].split("/"))
    assert exact < total and float(first[7]) == 1.0  # one zero-point step off
    step = first[0]
    assert re.search(rf"^utc verify: first layer that differs: step {step}, {re.escape(op)} -> "
                     rf"\S+, TFLite op #{expected} {_BUILTIN[op]}, tensor #{first[2][1:]} '[^']+'$",
                     proc.stdout, re.M), proc.stdout
    assert re.search(r"^utc verify: \d+ of \d+ layers and 1 of 1 outputs differ beyond the "
                     r"tolerance$", proc.stdout, re.M), proc.stdout


@pytest.mark.parametrize("name,kernels", [("mlperf_kws_dscnn_int8", "auto"),
                                          ("mlperf_kws_dscnn_int8", "cmsis-nn"),
                                          ("micro_speech_quantized", "auto"),
                                          ("mlperf_ic_resnet8_int8", "auto"),
                                          ("mlperf_vww_mobilenet_int8", "cmsis-nn"),
                                          ("mlperf_ad_autoencoder_int8", "auto"),
                                          ("hello_world_float", "auto")])
def test_every_layer_of_shared_models_matches(name: str, kernels: str, tmp_path: Path) -> None:
    model = shared_model(f"{name}.tflite")
    proc = cli("verify", str(model), "--per-layer", "--samples", "3", "--kernels", kernels,
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    assert rows and all(r[-1] == "ok" for r in rows), proc.stdout
    # each compared tensor is a different TFLite tensor
    assert len({r[2] for r in rows}) == len(rows)
    assert proc.stdout.splitlines()[-1] == f"utc verify: every layer ({len(rows)}) and output matches"
    if kernels == "cmsis-nn":
        assert any(r[4].startswith("arm_") for r in rows), proc.stdout
    if "int8" in name or "quantized" in name:
        assert all(int(r[6].split("/")[0]) == int(r[6].split("/")[1]) for r in rows)


def test_views_and_fused_operators_are_accounted_for(tmp_path: Path) -> None:
    # micro_speech: operator #0 is a RESHAPE (a view: no call), the rest have calls
    model = shared_model("micro_speech_quantized.tflite")
    result = utc.verify(model, samples=2, per_layer=True)
    assert isinstance(result, utc.LayerVerification) and result.passed
    assert [la.tap.tflite_op for la in result.layers] == [1, 2, 3]
    assert result.tflite_only == ("#0 RESHAPE (no call of its own: a view, written in place by "
                                  "its producers, or folded away)",)
    assert result.first_difference is None
    # without per_layer the result is the plain one, as before
    plain = utc.verify(model, samples=2)
    assert type(plain) is utc.Verification


def _split_add_relu(axis: int) -> bytes:
    """SPLIT (two outputs) -> ADD -> RELU: a call with two outputs, and an activation that
    fuse-activation folds into the ADD."""
    b = ModelBuilder("split, add, relu")
    q = (0.05, -7)
    x = tensor(b, "x", [1, 4, 4, 8], q)
    ax = tensor(b, "axis", [], None, np.array(axis, np.int32), "int32")
    shape = [1, 4, 4, 8]
    shape[axis] //= 2
    y0, y1 = tensor(b, "y0", shape, q), tensor(b, "y1", shape, q)
    b.add_operator("SPLIT", [ax, x], [y0, y1], {"num_splits": 2})
    z, r = tensor(b, "z", shape, (0.1, 2)), tensor(b, "r", shape, (0.1, 2))
    b.add_operator("ADD", [y0, y1], [z], {"fused_activation_function": "NONE"})
    b.add_operator("RELU", [z], [r])
    return b.build([x], [r])


def _tensor_index(model: bytes, name: str) -> int:
    graph = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0)
    return next(i for i in range(graph.TensorsLength()) if graph.Tensors(i).Name() == name.encode())


@pytest.mark.parametrize("axis", [1, 3])
def test_mapping_of_multiple_outputs_and_fused_activations(axis: int) -> None:
    model = _split_add_relu(axis)
    result = utc.verify(model, samples=3, per_layer=True)
    assert result.passed, result.format("split")
    got = [(la.tap.step, la.tap.tflite_op, la.tap.tensor, la.tap.ir_op) for la in result.layers]
    # both outputs of SPLIT (op #0) at its call; the ADD's call holds the RELU's tensor
    assert got == [(0, 0, _tensor_index(model, "y0"), "tensor.split"),
                   (0, 0, _tensor_index(model, "y1"), "tensor.split"),
                   (1, 2, _tensor_index(model, "r"), "qnn.add")]
    assert result.tflite_only == ("#1 ADD (fused into step 1)",)


def _pad_conv_concat() -> bytes:
    """PAD -> CONV_2D (VALID), ADD(conv, x) with a fused RELU and ADD(x, x), CONCATENATION
    along an axis whose outer dimensions are 1 (written in place at -O2)."""
    q = (0.05, -7)
    rng = np.random.default_rng(1)
    b = ModelBuilder("pad, conv, concat")
    x = tensor(b, "x", [1, 4, 4, 8], q)
    pads = tensor(b, "pads", [4, 2], None,
                  np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32), "int32")
    xp = tensor(b, "xp", [1, 6, 6, 8], q)
    b.add_operator("PAD", [x, pads], [xp])
    w = b.add_tensor("w", [8, 3, 3, 8], "int8", data=rng.integers(-127, 128, (8, 3, 3, 8)),
                     scale=[0.01] * 8, zero_point=0, quantized_dimension=0)
    bias = b.add_tensor("b", [8], "int32", data=rng.integers(-500, 500, 8),
                        scale=[0.05 * 0.01] * 8, zero_point=0)
    c = tensor(b, "c", [1, 4, 4, 8], (0.08, -5))
    b.add_operator("CONV_2D", [xp, w, bias], [c], {"padding": "VALID"})
    a1, a2 = tensor(b, "a1", [1, 4, 4, 8], (0.1, 3)), tensor(b, "a2", [1, 4, 4, 8], (0.1, 3))
    b.add_operator("ADD", [c, x], [a1], {"fused_activation_function": "RELU"})
    b.add_operator("ADD", [x, x], [a2], {"fused_activation_function": "NONE"})
    cat = tensor(b, "cat", [1, 8, 4, 8], (0.1, 3))
    b.add_operator("CONCATENATION", [a1, a2], [cat], {"axis": 1})
    return b.build([x], [cat])


@pytest.mark.parametrize("kernels", ["auto", "cmsis-nn"])
def test_mapping_of_folded_pad_and_concatenation(kernels: str) -> None:
    model = _pad_conv_concat()
    result = utc.verify(model, samples=3, per_layer=True, kernels=kernels)
    assert result.passed, result.format("pad, conv, concat")
    compared = [(la.tap.tflite_op, la.tap.tensor) for la in result.layers]
    # the PAD folds into the convolution, which is compared with its own tensor
    assert compared[:3] == [(1, _tensor_index(model, "c")), (2, _tensor_index(model, "a1")),
                            (3, _tensor_index(model, "a2"))]
    assert "#0 PAD (fused into step 0)" in result.tflite_only
    # the concatenation is either a call of its own, compared, or written in place
    in_place = [t for t in result.tflite_only if t.startswith("#4 CONCATENATION (no call")]
    assert (compared[3:] == [(4, _tensor_index(model, "cat"))]) != bool(in_place)


def test_state_carries_over_between_samples() -> None:
    # state += x: the samples are consecutive invocations on both sides; the state copy of
    # ASSIGN_VARIABLE writes no TFLite tensor and is listed, not compared
    result = utc.verify(accumulator("int8"), samples=4, per_layer=True)
    assert result.passed, result.format("accumulator")
    assert [(la.tap.builtin, la.stats.exact_samples) for la in result.layers] == [("ADD", 4)]
    (copy,) = result.not_compared
    assert copy.ir_op == "state.copy" and "ASSIGN_VARIABLE has no output tensor" in copy.note


def test_api_per_layer_finds_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    plugin = tmp_path / "fault.py"
    plugin.write_text(FAULT_PLUGIN.replace("{op}", "qnn.fully_connected").replace("{n}", "1"))
    utc.load_pass_plugin(plugin)
    pipeline = utc.pipeline(2).replace("lower-to-qnn,", "lower-to-qnn,test-break-layer,")
    broken = utc.compile(path, pipeline=pipeline)
    given = np.arange(-128, 128, 4, dtype=np.int8).reshape(64, 1, 1)
    result = broken.verify(given, per_layer=True)
    assert not result.passed
    first = result.first_difference
    assert (first.tap.step, first.tap.tflite_op, first.tap.ir_op) == (1, 1, "qnn.fully_connected")
    assert [la.passed for la in result.layers] == [True, False, False]
    assert "first layer that differs: step 1, qnn.fully_connected" in result.format("sine")
    # a tolerance of one step passes the broken layer; what it feeds may be further off
    assert broken.verify(given, per_layer=True, atol=1).layers[1].passed


def test_per_layer_errors_are_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    proc = cli("verify", str(junk), "--per-layer", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert re.match(r"utc: error: .*junk.tflite: not a TFLite flatbuffer", proc.stderr)
    hybrid = shared_model("mlperf_kws_dscnn_float.tflite")
    proc = cli("verify", str(hybrid), "--per-layer", "--samples", "1", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "TFLite Micro cannot run this model" in proc.stderr


def test_taps_change_only_the_hook_block(tmp_path: Path) -> None:
    """A verify build differs from a normal compile only in the hook macros of NAME.cpp
    and one extra file; a normal compile never mentions the taps."""
    from utc.codegen.emit_cpp import emit_cpp

    m = utc.compile(sine_model_int8())
    emit_cpp(m._comp.module, tmp_path / "plain", "model")
    emit_cpp(m._comp.module, tmp_path / "taps", "model", taps=True)
    plain = sorted(p.name for p in (tmp_path / "plain").iterdir())
    taps = sorted(p.name for p in (tmp_path / "taps").iterdir())
    assert taps == sorted([*plain, "utc_layer_taps.cpp"])
    for f in plain:
        if f != "model.cpp":
            assert (tmp_path / "plain" / f).read_bytes() == (tmp_path / "taps" / f).read_bytes()
    a = (tmp_path / "plain" / "model.cpp").read_text()
    b = (tmp_path / "taps" / "model.cpp").read_text()
    assert "utc_layer_output" not in a and "UTC_LAYER_TAP" not in a
    hooks = re.compile(r"/\* (Per-layer hooks|Layer taps).*?\n\n", re.S)
    assert hooks.sub("", a) == hooks.sub("", b)
    assert b.count("#define UTC_LAYER_TAP_") == a.count("UTC_LAYER_END(") - 2


def test_plain_verify_runs_a_stateful_model_as_consecutive_invocations() -> None:
    """Without --per-layer too: the samples are consecutive invocations on both sides
    (the accumulator's output differs from sample to sample, so a reset on one side
    only would be a mismatch from the second sample on)."""
    result = utc.verify(accumulator("int8"), samples=4)
    assert result.passed, result.format("accumulator")
