"""Compiling the same model twice gives byte-identical output folders.

Reproducible builds need it (firmware is diffed and signed), and so does every claim
about arena sizes: a planner that depended on the working directory, on the output path
or on Python's per-process string hash seed (set iteration order) could give a different
arena on a CI machine than on a laptop. Each model here is compiled by the `utc` command
line in two separate processes with different working directories, an output path given
once relative and once absolute, different PYTHONHASHSEEDs and the model file read from
two different folders (same file name: the name is part of the generated comments), and
the two folders must hold the same files with the same bytes. The planner's searches are
budgeted by work counts, never by wall-clock time (passes/planning/), which is what
makes this possible on a loaded machine too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_model
from tests.e2e.test_memory_passes import Net
from tests.e2e.test_sanitizers import MODELS


def _compile(model: Path, cwd: Path, out: Path, opt_level: int, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(model),
                           f"-O{opt_level}", "-o", str(out), "--name", "m"],
                          cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_deterministic(model_bytes: bytes, file_name: str, opt_level: int,
                         tmp_path: Path) -> None:
    """Compile in two set-ups that differ in everything but the model; compare folders."""
    runs = []
    for k, (hash_seed, relative) in enumerate((("1", True), ("2024", False))):
        home = tmp_path / f"run{k}" / ("deep/er" if k else "")
        (home / "models").mkdir(parents=True)
        model = home / "models" / file_name
        model.write_bytes(model_bytes)
        out = Path(f"gen{k}/out") if relative else tmp_path / f"elsewhere{k}" / "out"
        _compile(model, home, out, opt_level, hash_seed)
        runs.append(_files(out if out.is_absolute() else home / out))
    first, second = runs
    assert first, "the compiler wrote no files"
    assert sorted(first) == sorted(second), "the two compilations wrote different file sets"
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"files differ between the two compilations: {differ}"


def branchy_model() -> bytes:
    """Four branches of different widths off one input, concatenated, then added to a
    fifth: reorder-for-memory, concat-in-place, overlap-buffers and the `optimal`
    allocator all have choices to make on it."""
    net = Net(True, seed=21)
    x = net.act([1, 8, 8, 4])
    parts = []
    for i, width in enumerate((8, 2, 6, 4)):
        a, shape = net.conv(x, [1, 8, 8, 4], width, out_zp=i)
        b, _ = net.conv(a, shape, 4, out_scale=0.06, out_zp=1, in_scale=0.08)
        parts.append(b)
    cat = net.op("CONCATENATION", parts, [1, 8, 8, 16], {"axis": 3}, scale=0.06, zp=1)
    side, _ = net.conv(x, [1, 8, 8, 4], 16, out_scale=0.06, out_zp=1)
    y = net.op("ADD", [cat, side], [1, 8, 8, 16], {"fused_activation_function": "RELU"},
               scale=0.1, zp=-2)
    return net.b.build([x], [y])


@pytest.mark.parametrize("opt_level", [0, 2])
def test_a_self_built_model_compiles_deterministically(opt_level: int, tmp_path: Path) -> None:
    assert_deterministic(branchy_model(), "branchy.tflite", opt_level, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", [0, 2])
@pytest.mark.parametrize("name", MODELS)
def test_shared_models_compile_deterministically(name: str, opt_level: int,
                                                 tmp_path: Path) -> None:
    assert_deterministic(shared_model(name).read_bytes(), name, opt_level, tmp_path)


def test_the_comparison_sees_a_changed_byte(tmp_path: Path) -> None:
    """The folder comparison itself: one flipped byte in one file is reported."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    (a / "m.cpp").write_bytes(b"int x = 1;\n")
    shutil.copytree(a, b)
    assert _files(a) == _files(b)
    (b / "m.cpp").write_bytes(b"int x = 2;\n")
    assert _files(a) != _files(b)
