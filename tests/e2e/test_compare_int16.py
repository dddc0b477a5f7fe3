"""int16 comparisons: refused, because TFLite Micro's result is undefined.

TFLite Micro's comparisons.cc has an int16 case in GREATER only (EQUAL, NOT_EQUAL, LESS,
LESS_EQUAL and GREATER_EQUAL fail on int16 at Eval). That case compares with TFLite's
rescaling (input offsets, a left shift, two multipliers and shifts), but its Prepare
computes those constants for int8 inputs only: for int16 they are whatever the persistent
arena buffer the op data lives in held, so there is no defined result to be bit-exact with.
utc refuses every int16 comparison with one line naming the operator and its index: for
GREATER the line says the result is undefined in TFLite Micro, for the others that int16
is not supported (TFLite Micro does not run them either).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.tflite_writer import ModelBuilder

COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")


def _model(op: str) -> bytes:
    """A relu (index 0) before the comparison, so the comparison is operator #1."""
    b = ModelBuilder(f"utc int16 {op}")
    x0 = b.add_tensor("x0", [2, 4], "int16", scale=1 / 1024, zero_point=0)
    r = b.add_tensor("r", [2, 4], "int16", scale=1 / 1024, zero_point=0)
    x1 = b.add_tensor("x1", [2, 4], "int16", scale=1 / 512, zero_point=0)
    y = b.add_tensor("y", [2, 4], "bool")
    b.add_operator("RELU", [x0], [r])
    b.add_operator(op, [r, x1], [y], version=2)
    return b.build([x0, x1], [y])


@pytest.mark.parametrize("op", COMPARISONS)
def test_int16_comparison_refused(op: str, tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(_model(op))
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True)
    err = proc.stderr.strip()
    assert proc.returncode == 2 and "Traceback" not in err and err.count("\n") == 0, err
    assert not (tmp_path / "out").exists(), "partial output written"
    assert f"operator #1 {op}:" in err, err
    if op == "GREATER":
        assert "int16 inputs are not supported" in err and "uninitialised" in err, err
    else:
        assert "int16 tensors (16x8 quantization) are not supported" in err, err
