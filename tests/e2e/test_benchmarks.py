"""Smoke tests for benchmarks/: each script runs on one small model and prints its table.

They check the table's shape (header, a measured row, the legend) and the failure
contract (a model that cannot be compiled gives a FAILED row and exit status 1, the
others still run). They never look at the figures: timings are not assertable
(DESIGN.md §8), and arena sizes are the planner tests' business.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_MODELS, require_tools

HEADERS = {
    "benchmarks.models": ["model", "ops", "-O0 s", "-O2 s", "weights", "code", "arena", "utc us",
                          "TFLM us", "TFLM/utc"],
    "benchmarks.memory": ["model", "bound", "greedy-by-size", "optimal", "utc/bound", "TFLM min",
                          "TFLM/utc", "RAM 0-copy", "I/O", "RAM invoke", "min arena", "min est x",
                          "M4 no-ovl arena", "M4 no-ovl insns", "M4 O2 arena", "M4 O2 insns", "O2 x",
                          "M4 min arena", "M4 min insns", "min x"],
    "benchmarks.compile_time": ["model", "KB", "utc s", "vela s", "time", "utc MB", "vela MB", "rss",
                                "goals"],
    "benchmarks.cortex_m": ["model", "kernels", "insns", "/ref", "/cmsis", "code B", "weights B",
                            "arena B", "stack B", "RAM/TFLM", "hash"],
}
EXTRA_ARGS = {"benchmarks.models": ["--iterations", "5"], "benchmarks.memory": [],
              "benchmarks.compile_time": ["--runs", "1", "--no-large"],
              "benchmarks.cortex_m": ["--kernels", "reference"]}


def small_model() -> Path:
    """hello_world_int8 from the shared models when present, else the bundled example
    (always in the repository), so the smoke test runs without ../shared/models."""
    shared = SHARED_MODELS / "hello_world_int8.tflite"
    return shared if shared.is_file() else REPO / "examples" / "sine_int8.tflite"


def run(script: str, *args: str, measures: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a benchmark; one that `measures` needs Vela for compile_time (a run refused
    before measuring does not)."""
    if measures and script == "benchmarks.compile_time" and not (shutil.which("vela")
                                                    or (Path(sys.executable).parent / "vela").is_file()):
        pytest.skip("Vela is not installed (pip install -e '.[bench]')")
    return subprocess.run([sys.executable, "-m", script, *args, *EXTRA_ARGS[script]], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def row_of(stdout: str, model: str) -> str:
    rows = [line for line in stdout.splitlines() if line.startswith(model)]
    assert len(rows) == 1, stdout
    return rows[0]


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(HEADERS))
def test_benchmark_prints_table(script: str) -> None:
    model = small_model()
    proc = run(script, "--models-dir", str(model.parent), "--models", model.name)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    for column in HEADERS[script]:
        assert column in header, header
    row = row_of(proc.stdout, model.name)
    assert "FAILED" not in row
    assert len(row.split()) >= len(HEADERS[script])
    assert "the .tflite file" in proc.stdout  # the legend


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(HEADERS))
def test_benchmark_reports_failed_model_and_continues(script: str, tmp_path: Path) -> None:
    model = small_model()
    shutil.copy(model, tmp_path / model.name)
    (tmp_path / "aaa_broken.tflite").write_bytes(b"not a flatbuffer" * 8)
    proc = run(script, "--models-dir", str(tmp_path))
    assert proc.returncode == 1
    assert row_of(proc.stdout, "aaa_broken.tflite").split()[1] == "FAILED:"
    assert "FAILED" not in row_of(proc.stdout, model.name)
    assert [line for line in proc.stderr.splitlines() if line.startswith("error: aaa_broken.tflite:")]


def _memory_cells(stdout: str, model: str) -> dict[str, str]:
    """The memory benchmark's row as {column: cell} (cells have no spaces; the header's
    columns are cut at the dashes under them)."""
    lines = stdout.splitlines()
    header, dashes, row = lines[0], lines[1], row_of(stdout, model)
    spans, start = [], 0
    for part in dashes.split("  "):
        spans.append((start, start + len(part)))
        start += len(part) + 2
    return {header[a:b].strip(): row[a:b].strip() for a, b in spans}


@pytest.mark.slow
def test_memory_benchmark_measures_instructions_per_strategy() -> None:
    """With the Arm tools, the M4 columns hold measured figures: arenas, instruction
    counts and ratios to the no-overlap baseline consistent with those counts; the M4
    -O2 arena is the host -O2 arena (the memory plan does not depend on the target)."""
    import re

    require_tools("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm")
    model = small_model()
    proc = run("benchmarks.memory", "--models-dir", str(model.parent), "--models", model.name)
    assert proc.returncode == 0, proc.stderr
    cells = _memory_cells(proc.stdout, model.name)
    insns = {k: int(cells[f"M4 {k} insns"].replace(",", "")) for k in ("no-ovl", "O2", "min")}
    assert all(n > 0 for n in insns.values()), cells
    assert cells["O2 x"] == f"{insns['O2'] / insns['no-ovl']:.2f}x"
    assert cells["min x"] == f"{insns['min'] / insns['no-ovl']:.2f}x"
    assert cells["M4 O2 arena"] == cells["RAM 0-copy"]
    assert cells["M4 min arena"] == cells["min arena"]
    assert re.fullmatch(r"\d+\.\d\dx", cells["min est x"]), cells
    codes = {k: int(cells[f"M4 {k} code"]) for k in ("no-ovl", "O2", "min")}
    assert all(n > 1000 for n in codes.values()), cells
    assert "not measured" not in proc.stdout


def test_memory_benchmark_without_instructions_says_so(tmp_path: Path) -> None:
    """--no-instructions leaves the M4 columns '-' and says why under the table."""
    model = small_model()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--models-dir",
                           str(model.parent), "--models", model.name, "--no-instructions"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    cells = _memory_cells(proc.stdout, model.name)
    m4 = [k for k in cells if k.startswith("M4 ") or k in ("O2 x", "min x")]
    assert len(m4) == 11 and all(cells[k] == "-" for k in m4), cells
    assert "M4 columns not measured (--no-instructions)" in proc.stdout


@pytest.mark.parametrize("script", sorted(HEADERS))
def test_benchmark_missing_models_folder(script: str, tmp_path: Path) -> None:
    proc = run(script, "--models-dir", str(tmp_path / "absent"), measures=False)
    assert proc.returncode == 1
    assert proc.stderr == f"error: --models-dir {tmp_path / 'absent'} does not exist\n"
    assert proc.stdout == ""


@pytest.mark.parametrize("script", [*sorted(HEADERS), "benchmarks.kernels"])
def test_benchmark_default_models_folder_missing(script: str, tmp_path: Path) -> None:
    """Without --models-dir, a benchmark reads ../shared/models (or UTC_SHARED_MODELS);
    when that is missing it says which folder, and where the name came from, in one line."""
    absent = tmp_path / "absent"
    proc = subprocess.run([sys.executable, "-m", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "UTC_SHARED_MODELS": str(absent)})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"error: models folder {absent} (from UTC_SHARED_MODELS) does not "
                           "exist: fix UTC_SHARED_MODELS, unset it to use ../shared/models beside "
                           "this checkout, or pass --models-dir DIR\n")


def test_default_models_folder_is_the_shared_one() -> None:
    """The default is ../shared/models beside the checkout, the folder the tests use."""
    from benchmarks import common

    env = os.environ.get("UTC_SHARED_MODELS")
    expected = Path(env) if env else REPO.parent / "shared" / "models"
    assert common.DEFAULT_MODELS_DIR == expected == SHARED_MODELS
    message = common.missing_models_message(Path("/x/shared/models"), True, None)
    assert message == ("error: the shared models folder /x/shared/models (../shared/models beside "
                       "this checkout, the default) does not exist: put the shared models there, "
                       "pass --models-dir DIR, or set UTC_SHARED_MODELS")
    assert common.missing_models_message(Path("/y"), False, None) == "error: --models-dir /y does not exist"
    assert "(from UTC_SHARED_MODELS)" in common.missing_models_message(Path("/y"), True, "/y")
