"""`--report` names each layer's TFLite operator type and shows the code size and stack,
measured (never estimated) by the benchmarks' own path: arm-none-eabi-gcc -Os, the linker
map, one run on QEMU; "not measured" with the reason where that cannot run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from utc.codegen import cortex_m
from utc.compiler.driver.model_io import io_specs

from tests.conftest import require_tools
from tests.e2e.test_report_cli import utc
from tests.models_builtin import sine_model_int8


@pytest.fixture
def sine(tmp_path: Path) -> Path:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    return path


def test_operator_column_shows_tflite_types_and_host_is_not_measured(sine, tmp_path) -> None:
    proc = utc("compile", str(sine), "-o", str(tmp_path / "out"), "--report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if re.match(r"\s*\*?\d+\s+#", line)]
    assert len(rows) == 3
    assert all(re.match(r"\s*\*?\d+\s+#\d+ FULLY_CONNECTED\s", r) for r in rows), rows
    assert re.search(r"^code\s+not measured \(host target", proc.stdout, re.M)
    assert re.search(r"^stack\s+not measured \(host target", proc.stdout, re.M)
    # the code and stack lines stand next to the weights and the arena
    lines = [line.split()[0] for line in proc.stdout.splitlines() if line[:1].isalpha()]
    assert lines[lines.index("flash"):lines.index("flash") + 5] == [
        "flash", "code", "stack", "total", "arena"]

    proc = utc("compile", str(sine), "-o", str(tmp_path / "j"), "--report=json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert [op["type"] for layer in doc["layers"] for op in layer["tflite_ops"]] == [
        "FULLY_CONNECTED"] * 3
    assert doc["footprint"]["code_bytes"] is None and doc["footprint"]["stack_bytes"] is None
    assert doc["footprint"]["code_note"].startswith("not measured (host target")


def test_cortex_m_report_measures_code_and_stack(sine, tmp_path) -> None:
    require_tools("arm-none-eabi-g++", "arm-none-eabi-gcc", "qemu-system-arm",
                  why="Debian gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm")
    out = tmp_path / "out"
    proc = utc("compile", str(sine), "-o", str(out), "--target", "cortex-m4", "--kernels",
               "reference", "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fp = json.loads(proc.stdout)["footprint"]
    assert fp["code_bytes"] == fp["text_bytes"] + fp["rodata_bytes"] > 0
    assert fp["stack_bytes"] > 0 and "QEMU mps2-an386" in fp["stack_note"]
    # the same numbers as the benchmarks' build of the folder utc wrote
    from utc.compiler.driver import compile_model

    result = compile_model(sine, tmp_path / "again", target="cortex-m4", kernels="reference")
    ins, outs = io_specs(result.module)
    spec = [[{"bytes": int(np.prod(s)) * np.dtype(d).itemsize, "dtype": np.dtype(d).name}
             for s, d in x] for x in (ins, outs)]
    fw = cortex_m.build_firmware(tmp_path / "again", "model", "cortex-m4", tmp_path / "b",
                                 flags="Os", model_inputs=spec[0], model_outputs=spec[1])
    assert (fw.text_bytes, fw.rodata_bytes) == (fp["text_bytes"], fp["rodata_bytes"])
    assert cortex_m.run_firmware(fw).stack_bytes == fp["stack_bytes"]
    text = utc("compile", str(sine), "-o", str(tmp_path / "t"), "--target", "cortex-m4",
               "--kernels", "reference", "--report", cwd=tmp_path).stdout
    assert re.search(rf"^code\s+{fp['code_bytes']:,} B  \(\.text {fp['text_bytes']:,} B "
                     rf"\+ \.rodata {fp['rodata_bytes']:,} B; arm-none-eabi-gcc -Os", text, re.M)
    assert re.search(rf"^stack\s+{fp['stack_bytes']:,} B  \(used below main", text, re.M)
