"""The IR workflow on the command line: `utc list-passes` shows every pass with its
options and their defaults, an unknown pass named by --print-ir-before/after is refused
in one line listing the passes there are, and `utc run` loads pass plugins as `compile`
and `opt` do."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import utc
from utc.compiler.driver import load_builtin_passes
from utc.compiler.pass_manager import PASS_REGISTRY, parse_pass
from utc.passes import PASS_NAMES

from tests.models_builtin import sine_model_int8

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]

#: A plugin pass with options of three types (listed by list-passes with its defaults).
OPTIONS_PLUGIN = '''
from dataclasses import dataclass
from utc.compiler.pass_manager import Pass, register_pass

@register_pass
@dataclass(frozen=True)
class Tune(Pass):
    """A plugin pass with options (it changes nothing)."""
    name = "test-tune"
    level: int = 3
    mode: str = "fast"
    strict: bool = False

    def run(self, module):
        pass
'''

#: Moves the output zero point of every fully connected layer up by one: the run's
#: outputs change by exactly one step wherever they do not saturate.
SHIFT_PLUGIN = '''
from dataclasses import dataclass
from utc.compiler.pass_manager import Pass, register_pass

@register_pass
@dataclass(frozen=True)
class ShiftZeroPoint(Pass):
    """Adds one to the output zero point of the last fully connected layer."""
    name = "test-shift-zp"

    def run(self, module):
        ops = [op for op in module.walk() if op.name == "qnn.fully_connected"]
        ops[-1].output_zp = ops[-1].output_zp + 1
'''


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("utc: error: "), proc.stderr
    return lines[0]


def pass_entries(stdout: str) -> dict[str, list[str]]:
    """list-passes' entries: the synopsis line -> the indented lines under it."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in stdout.split("\n\nnamed pipelines:")[0].splitlines():
        if line.startswith("      "):
            entries[current].append(line.strip())
        else:
            current = line.strip()
            entries[current] = []
    return entries


def test_list_passes_shows_options_with_defaults(tmp_path: Path) -> None:
    proc = cli("list-passes", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    entries = pass_entries(proc.stdout)
    assert "plan-memory{strategy=optimal,alignment=16,regions=}" in entries
    assert "canonicalize{max-iterations=10}" in entries
    assert "bufferize" in entries  # a pass without options is its bare name
    load_builtin_passes()
    assert sorted(s.partition("{")[0] for s in entries) == sorted(PASS_NAMES)
    for synopsis, lines in entries.items():
        name = synopsis.partition("{")[0]
        cls = PASS_REGISTRY[name]
        # the synopsis is a valid pipeline element that builds the default pass
        assert parse_pass(synopsis) == cls(), synopsis
        assert lines[0] == cls.summary() and lines[0]
        fields = dataclasses.fields(cls)
        assert len(lines) == 1 + len(fields), lines
        for f, line in zip(fields, lines[1:]):
            default = f.default if f.default != "" else "'' (empty)"
            assert line == f"{f.name.replace('_', '-')}: {f.type}, default {default}", line


def test_list_passes_shows_a_plugins_options(tmp_path: Path) -> None:
    plugin = tmp_path / "tune.py"
    plugin.write_text(OPTIONS_PLUGIN)
    proc = cli("list-passes", "--load-pass-plugin", str(plugin), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    entries = pass_entries(proc.stdout)
    assert entries["test-tune{level=3,mode=fast,strict=false}"] == [
        "A plugin pass with options (it changes nothing).", "level: int, default 3",
        "mode: str, default fast", "strict: bool, default false"]


@pytest.mark.parametrize("command", ["compile", "opt"])
@pytest.mark.parametrize("option", ["--print-ir-before", "--print-ir-after"])
def test_unknown_pass_to_print_is_refused(command: str, option: str, tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(sine_model_int8())
    out = tmp_path / "out"
    if command == "compile":
        args = ["compile", str(model), "-o", str(out)]
    else:
        ir = tmp_path / "m.utc"
        ir.write_text(utc.print_ir(utc.import_model(model)))
        args = ["opt", str(ir), "-p", "canonicalize", "-o", str(out)]
    proc = cli(*args, option, "canonicalize", option, "plan-memroy", cwd=tmp_path)
    line = one_error_line(proc)
    m = re.fullmatch(rf"utc: error: {option}: unknown pass 'plan-memroy' \(known passes: (.*); "
                     r"`utc list-passes` describes them\)", line)
    assert m, line
    assert m.group(1).split(", ") == sorted([*PASS_NAMES, "import-tflite"])
    assert not out.exists()  # refused before any work


def test_unknown_pass_lists_plugin_passes(tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(sine_model_int8())
    plugin = tmp_path / "tune.py"
    plugin.write_text(OPTIONS_PLUGIN)
    proc = cli("compile", str(model), "-o", str(tmp_path / "out"), "--load-pass-plugin",
               str(plugin), "--print-ir-after", "nope", cwd=tmp_path)
    assert "test-tune" in one_error_line(proc).split("known passes: ")[1].split(";")[0]
    # and a plugin's pass is a name --print-ir-after accepts
    proc = cli("compile", str(model), "-o", str(tmp_path / "out"), "--load-pass-plugin",
               str(plugin), "--pipeline", utc.pipeline(2) + ",test-tune",
               "--print-ir-after", "test-tune", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "// -----// IR Dump After test-tune //----- //" in proc.stderr


def _run_outputs(stdout: str) -> np.ndarray:
    body = stdout.split("output 0: int8 [1, 1]\n")[1]
    return np.array([int(v) for v in re.findall(r"-?\d+", body)])


def test_run_loads_pass_plugins(tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(sine_model_int8())
    plugin = tmp_path / "shift.py"
    plugin.write_text(SHIFT_PLUGIN)
    pipeline = utc.pipeline(2).replace("lower-to-qnn,", "lower-to-qnn,test-shift-zp,")
    base = cli("run", str(model), "--seed", "3", cwd=tmp_path)
    assert base.returncode == 0, base.stderr
    shifted = cli("run", str(model), "--seed", "3", "--load-pass-plugin", str(plugin),
                  "--pipeline", pipeline, cwd=tmp_path)
    assert shifted.returncode == 0, shifted.stderr
    before, after = _run_outputs(base.stdout), _run_outputs(shifted.stdout)
    assert before.size == after.size == 1
    assert after[0] == min(before[0] + 1, 127)
    # without the plugin, the pipeline names a pass nobody registered
    proc = cli("run", str(model), "--pipeline", pipeline, cwd=tmp_path)
    load_builtin_passes()
    assert one_error_line(proc) == (f"utc: error: unknown pass 'test-shift-zp' (known passes: "
                                    f"{', '.join(sorted(PASS_NAMES))}; `utc list-passes` "
                                    "describes them)")
    proc = cli("run", str(model), "--load-pass-plugin", str(tmp_path / "missing.py"), cwd=tmp_path)
    assert re.search(r"pass plugin '.*missing.py' does not exist", one_error_line(proc))
