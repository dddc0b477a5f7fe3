"""Every file written by --dump-ir-dir parses back and re-prints identically (in the mode
it was written in, and in every other printing mode), and the instrumentation flags work
from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from utc.compiler.ir.parser import parse_module
from utc.compiler.ir.printer import print_module

from tests.conftest import SHARED_MODELS
from tests.models_builtin import sine_model_int8


def _models(tmp_path: Path) -> list[Path]:
    own = tmp_path / "sine_int8.tflite"
    own.write_bytes(sine_model_int8())
    return [own] + sorted(SHARED_MODELS.glob("*.tflite"))


@pytest.mark.parametrize("elide", [False, True])
def test_dumps_round_trip(elide: bool, tmp_path: Path) -> None:
    for model in _models(tmp_path):
        dump = tmp_path / f"dump-{model.stem}-{elide}"
        args = [sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(model), "-o",
                str(tmp_path / f"out-{model.stem}"), "--dump-ir-dir", str(dump), "--verify-each"]
        if elide:
            args.append("--elide-resources")
        subprocess.run(args, check=True, capture_output=True)
        files = sorted(dump.glob("*.utc"))
        assert [f.name.split("-", 1)[1] for f in files][:2] == ["import-tflite.utc",
                                                                 "canonicalize.utc"]
        assert "loc(#" in files[0].read_text(), "dumps keep their locations"
        for f in files:
            text = f.read_text()
            module = parse_module(text, str(f))
            assert print_module(module, elide_resources=elide, locations=True) == text, \
                f"{f} does not round-trip"
            if not elide:
                module.verify()
            for mode in _MODES:  # whatever the printer emits parses back to itself
                other = print_module(module, **mode)
                assert print_module(parse_module(other, str(f)), **mode) == other, \
                    f"{f} printed with {mode} does not round-trip"


_MODES = [dict(elide_resources=e, locations=loc) for e in (False, True) for loc in (False, True)]


def test_print_ir_after_and_opt_pipeline(tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(sine_model_int8())
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(model), "-o",
                           str(tmp_path / "out"), "--print-ir-after", "lower-to-qnn",
                           "--print-ir-before", "bufferize", "--elide-resources", "--timing"],
                          check=True, capture_output=True, text=True)
    assert "IR Dump After lower-to-qnn" in proc.stderr
    assert "IR Dump Before bufferize" in proc.stderr
    assert "qnn.fully_connected" in proc.stderr
    assert "pass timing" in proc.stderr
    phases = proc.stderr.split("// compile timing (wall):\n", 1)[1].splitlines()
    names = [line.split("%", 1)[1].strip() for line in phases]
    for phase in ("start-up: ", "import: the pipeline's pass modules",
                  "import-tflite: validate and read the model", "emit-cpp: ",
                  "passes (the pass timing above)", "total since utc's first import"):
        assert any(n.startswith(phase) for n in names), (phase, names)
    assert names[-1] == "total since utc's first import"
    # the tensor-level dump, lowered with `utc opt`, equals the compiler's own lowering
    dump = tmp_path / "dump"
    subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(model), "-o",
                    str(tmp_path / "out2"), "--dump-ir-dir", str(dump)], check=True)
    opt = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "opt", "--print-loc",
                          str(dump / "00-import-tflite.utc"), "-p",
                          "canonicalize,tensor-to-fused,reorder-for-memory,fold-pad,fuse-activation,"
                          "lower-to-qnn"],
                         check=True, capture_output=True, text=True)
    assert opt.stdout == (dump / "06-lower-to-qnn.utc").read_text()


def test_locations_only_with_print_loc(tmp_path: Path) -> None:
    """`loc(...)` is printed on request; the default output has none, and both parse."""
    model = tmp_path / "m.tflite"
    model.write_bytes(sine_model_int8())
    cli = [sys.executable, "-m", "utc.compiler.driver.cli"]
    plain = subprocess.run(cli + ["inspect", str(model)], check=True, capture_output=True,
                           text=True).stdout
    located = subprocess.run(cli + ["inspect", str(model), "--print-loc"], check=True,
                             capture_output=True, text=True).stdout
    assert "loc(" not in plain and "loc(#0 " in located
    assert print_module(parse_module(plain), elide_resources=True) == plain
    assert print_module(parse_module(located), elide_resources=True, locations=True) == located
    after = subprocess.run(cli + ["compile", str(model), "-o", str(tmp_path / "out"),
                                  "--print-ir-after", "canonicalize", "--print-loc"],
                           check=True, capture_output=True, text=True).stderr
    assert "loc(#0 " in after
