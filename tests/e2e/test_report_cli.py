"""`utc compile --report`: the table on stdout, memory.svg beside the generated code, and
nothing extra written when the flag is absent or the compile fails."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.models_builtin import sine_model_int8


def utc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_compile_report_prints_table_and_writes_svg(tmp_path: Path) -> None:
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    text = proc.stdout
    header = next(line for line in text.splitlines() if line.startswith("step"))
    for column in ("operator", "kernel", "output shape", "MACs", "weights B", "live B", "offset",
                   "scratch B"):
        assert column in header
    assert text.count("utc_fully_connected_s8") >= 3
    for total in ("flash (weights)", "total MACs", "arena", "lower bound", "gap", "peak"):
        assert total in text
    svg = out / "memory.svg"
    assert svg.is_file()
    assert str(svg) in text
    root = ET.fromstring(svg.read_text())
    assert root.tag.endswith("svg")
    assert (out / "model.cpp").is_file()

    # the same compile again gives the same report and the same SVG bytes
    again = utc("compile", str(model), "-o", str(tmp_path / "out2"), "--report", cwd=tmp_path)
    assert again.stdout.replace("out2", "out") == text
    assert (tmp_path / "out2" / "memory.svg").read_bytes() == svg.read_bytes()


def test_compile_without_report_writes_no_svg(tmp_path: Path) -> None:
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "total MACs" not in proc.stdout
    assert not (tmp_path / "out" / "memory.svg").exists()


def test_failed_compile_with_report_writes_nothing(tmp_path: Path) -> None:
    model = tmp_path / "junk.tflite"
    model.write_bytes(b"not a flatbuffer at all")
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--report", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("utc: error: ") and "Traceback" not in proc.stderr
    assert "total MACs" not in proc.stdout
    assert not out.exists()
