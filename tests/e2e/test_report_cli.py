"""`utc compile --report`: the table on stdout, memory.svg beside the generated code, and
nothing extra written when the flag is absent or the compile fails."""

from __future__ import annotations

import json
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


# ---- --report=json ------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "report-json.md"


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_compile_report_json(tmp_path: Path) -> None:
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--report=json", "--name", "m",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)  # stdout is the document alone
    assert (out / "report.json").read_text() == proc.stdout
    assert (out / "memory.svg").is_file() and (out / "m.cpp").is_file()
    assert doc["schema_version"] == 1
    assert doc["model"] == {"name": "m", "source": "sine.tflite"}
    assert (doc["target"], doc["kernels"], doc["opt_level"]) == ("host", "auto", 2)
    assert [layer["kernel"] for layer in doc["layers"]] == ["utc_fully_connected_s8"] * 3
    assert [layer["library"] for layer in doc["layers"]] == ["utc"] * 3
    assert doc["total_macs"] == sum(layer["macs"] for layer in doc["layers"])
    assert doc["memory"]["arena_bytes"] >= doc["memory"]["lower_bound"] > 0
    assert doc["flash"]["weight_bytes"] == doc["flash"]["tensor_bytes"] + doc["flash"]["constant_bytes"]
    header = (out / "m.h").read_text()
    assert f"#define M_ARENA_BYTES {doc['memory']['arena_bytes']}" in header
    (x,) = doc["inputs"]
    assert x["dtype"] == "int8" and x["shape"] == [1, 1] and x["quantization"]["zero_point"] == -128

    # the text report and the JSON agree on every per-layer figure
    text = utc("compile", str(model), "-o", str(tmp_path / "text"), "--report", cwd=tmp_path).stdout
    for layer in doc["layers"]:
        assert f"{layer['macs']:,}" in text and f"{layer['live_bytes']:,}" in text

    # the same bytes for the same compile, in another folder
    again = utc("compile", str(model), "-o", str(tmp_path / "again"), "--report=json",
                "--name", "m", cwd=tmp_path)
    assert again.stdout == proc.stdout


def test_report_json_on_a_cortex_m_target_names_the_libraries(tmp_path: Path) -> None:
    from tests.conftest import cmsis_nn_root

    cmsis_nn_root()
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), "--report=json",
               "--target", "cortex-m4", "--kernels", "cmsis-nn", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["target"] == "cortex-m4" and doc["kernels"] == "cmsis-nn"
    assert "select-kernels{kernels=cmsis-nn,target=cortex-m4}" in doc["pipeline"]
    assert {layer["library"] for layer in doc["layers"]} == {"cmsis-nn"}


def test_report_json_schema_is_documented(tmp_path: Path) -> None:
    """Every key the report writes is documented in docs/report-json.md, and every field
    the page's tables list is one the report writes: the page cannot drift from the code."""
    import re

    from tests.conftest import SHARED_MODELS

    shared = SHARED_MODELS / "mlperf_kws_dscnn_int8.tflite"
    model = shared if shared.is_file() else tmp_path / "sine.tflite"
    if not shared.is_file():
        model.write_bytes(sine_model_int8())
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    keys = _keys(json.loads(proc.stdout))
    # several models in one arena: the app's document
    proc = utc("compile", f"{model}:a", f"{model}:b", "-o", str(tmp_path / "app"),
               "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    keys |= _keys(json.loads(proc.stdout))
    # a patched model: the `patch_stage` object and `layers[].tile`
    from tests.e2e.test_patch_stages import chain_a, patched

    chain = tmp_path / "chain.tflite"
    chain.write_bytes(chain_a())
    proc = utc("compile", str(chain), "-o", str(tmp_path / "patched"), "--pipeline", patched(3, 2),
               "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    keys |= _keys(json.loads(proc.stdout))
    page = DOC.read_text()
    undocumented = sorted(k for k in keys if f"`{k}`" not in page)
    assert not undocumented, f"not in {DOC.name}: {undocumented}"
    listed = set()
    for row in re.findall(r"^\| (`[^|]+`) \|", page, flags=re.M):
        listed |= set(re.findall(r"`([a-z_]+)`", row))
    assert len(listed) > 40, sorted(listed)  # the tables were read
    assert listed - keys == set(), f"documented but never written: {sorted(listed - keys)}"


def test_report_json_bad_format_is_one_line(tmp_path: Path) -> None:
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--report=xml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == ("utc: error: --report: unknown format 'xml' (--report or --report=text "
                           "for the table, --report=json for JSON) (see `utc compile --help`)\n")
    assert proc.stdout == "" and not out.exists()


def test_report_before_the_model_still_reads_the_model(tmp_path: Path) -> None:
    """`--report` takes no value: the argument after it is the model, as before JSON."""
    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    proc = utc("compile", "--report", str(model), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "total MACs" in proc.stdout


def test_failed_compile_with_report_json_writes_nothing(tmp_path: Path) -> None:
    model = tmp_path / "junk.tflite"
    model.write_bytes(b"not a flatbuffer at all")
    out = tmp_path / "out"
    proc = utc("compile", str(model), "-o", str(out), "--report=json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("utc: error: ") and proc.stderr.count("\n") == 1
    assert proc.stdout == "" and not out.exists()
