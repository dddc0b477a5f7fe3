"""Bad input: one clear line on stderr, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.models_builtin import sine_model_int8
from tests.tflite_writer import ModelBuilder


def utc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "utc.compiler.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def _assert_clean_failure(proc: subprocess.CompletedProcess, pattern: str, out: Path | None) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("utc: error: "), lines[0]
    assert "Traceback" not in proc.stderr
    import re

    assert re.search(pattern, lines[0]), lines[0]
    if out is not None:
        assert not out.exists(), "a failed compile left output behind"
        assert not list(out.parent.glob(".utc-*")), "a failed compile left a staging folder"


def _custom_op_model() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "float32")
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("CUSTOM", [x], [y], custom_code="MyFancyOp")
    return b.build([x], [y])


def _unsupported_builtin_model() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "float32")
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("EXP", [x], [y])
    return b.build([x], [y])


def _dynamic_shape_model() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "float32", shape_signature=[1, -1])
    y = b.add_tensor("y", [1, 4], "float32", shape_signature=[1, -1])
    b.add_operator("RELU", [x], [y])
    return b.build([x], [y])


def _uint8_model() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "uint8", scale=0.1, zero_point=128)
    w = b.add_tensor("w", [2, 4], "uint8", data=np.ones((2, 4), np.uint8), scale=0.1,
                     zero_point=128)
    y = b.add_tensor("y", [1, 2], "uint8", scale=0.1, zero_point=128)
    b.add_operator("FULLY_CONNECTED", [x, w, -1], [y])
    return b.build([x], [y])


def _two_subgraphs_model() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "float32")
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("RELU", [x], [y])
    b.add_subgraph()
    return b.build([x], [y])


CASES = {
    "not-a-flatbuffer": (lambda: b"hello, this is not a model at all" * 4,
                         r"not a TFLite flatbuffer"),
    "empty": (lambda: b"", r"not a TFLite flatbuffer"),
    "truncated": (lambda: sine_model_int8()[:300], r"truncated|corrupt"),
    "custom-op": (_custom_op_model,
                  r"operator #0 CUSTOM 'MyFancyOp' is not supported \(see SUPPORTED_OPS.md"),
    "unsupported-op": (_unsupported_builtin_model,
                       r"operator #0 EXP is not supported \(see SUPPORTED_OPS.md"),
    "dynamic-shape": (_dynamic_shape_model, r"tensor 'x' \(#0\) has dynamic dimensions"),
    "uint8": (_uint8_model, r"legacy uint8 quantization is not supported"),
    "two-subgraphs": (_two_subgraphs_model, r"2 subgraphs"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_model_is_refused_cleanly(case: str, tmp_path: Path) -> None:
    make, pattern = CASES[case]
    model = tmp_path / "model.tflite"
    model.write_bytes(make())
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), cwd=tmp_path)
    _assert_clean_failure(proc, pattern, out)
    assert "model.tflite" in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    proc = utc("compile", "nope.tflite", "-o", "out", cwd=tmp_path)
    _assert_clean_failure(proc, r"nope.tflite: cannot read file", tmp_path / "out")


def test_unknown_pass(tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(sine_model_int8())
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--pipeline", "canonicalize,frobnicate",
               cwd=tmp_path)
    _assert_clean_failure(proc, r"unknown pass 'frobnicate' \(run `utc list-passes`", out)


def test_bad_pass_option(tmp_path: Path) -> None:
    ir = tmp_path / "m.utc"
    ir.write_text("module @m {\n}\n")
    proc = utc("opt", str(ir), "-p", "plan-memory{strategy=magic}", cwd=tmp_path)
    _assert_clean_failure(proc, r"plan-memory.*unknown strategy 'magic'", None)


def test_malformed_ir(tmp_path: Path) -> None:
    ir = tmp_path / "bad.utc"
    ir.write_text("module @m {\n  %0 = tensor.relu(%x) : tensor<4xf32\n}\n")
    proc = utc("opt", str(ir), "-p", "canonicalize", cwd=tmp_path)
    _assert_clean_failure(proc, r"bad.utc:2:\d+: ", None)


def test_invalid_ir_fails_verification(tmp_path: Path) -> None:
    ir = tmp_path / "bad.utc"
    ir.write_text(
        'module @m {\n  func.func() {sym_name = @main} ({\n  ^entry(%x: tensor<4xf32>):\n'
        '    %y = tensor.reshape(%x) : tensor<5xf32>\n    func.return(%y) : ()\n  }) : ()\n}\n')
    proc = utc("opt", str(ir), "-p", "canonicalize", cwd=tmp_path)
    _assert_clean_failure(proc, r"tensor.reshape.*element counts differ", None)
