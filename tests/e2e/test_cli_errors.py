"""The command line's error contract, case by case.

A user's mistake (a path, a name, a number, a file that is not a model, IR that makes
no sense, a model over a memory limit) gives exactly one line `utc: error: ...` on
stderr, exit status 2, no traceback, and nothing written; checked before any work where
the mistake is in the arguments. A bug in utc gives one line `utc: internal error: ...`
and status 3. Every message is printable text on one line, whatever the input holds.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.models_builtin import sine_model_int8
from tests.tflite_writer import ModelBuilder

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]


def utc(*args: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def _one_line(proc: subprocess.CompletedProcess, prefix: str, status: int, pattern: str) -> str:
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, repr(proc.stderr)
    line = proc.stderr[:-1]
    assert line.startswith(prefix), line
    assert line.isprintable(), repr(line)
    assert re.search(pattern, line), line
    return line


def user_error(proc: subprocess.CompletedProcess, pattern: str) -> str:
    return _one_line(proc, "utc: error: ", 2, pattern)


def internal_error(proc: subprocess.CompletedProcess, pattern: str) -> str:
    return _one_line(proc, "utc: internal error: ", 3, pattern)


def _nothing_written(folder: Path, before: set[str]) -> None:
    after = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    assert after == before, f"left behind: {sorted(after - before)}"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    return path


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---- output paths ------------------------------------------------------------------------


def test_output_names_an_existing_file(model: Path, tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me")
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(target), cwd=tmp_path),
               r"-o .*afile: exists and is not a folder")
    assert target.read_text() == "keep me"
    _nothing_written(tmp_path, before)


def test_output_under_a_file(model: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("keep me")
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(tmp_path / "afile" / "deeper" / "out"),
                   cwd=tmp_path), r"afile is a file, not a folder")
    _nothing_written(tmp_path, before)


def test_output_parent_not_writable(model: Path, tmp_path: Path) -> None:
    """root may write anywhere on a read-write file system, so as root the unwritable
    place is sysfs, which refuses new folders even to root."""
    if os.geteuid() == 0:
        out = Path("/sys/utc-test-not-writable/out")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out = ro / "out"
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(out), cwd=tmp_path),
               r"-o .*out: (.* is not writable|cannot create the output folder)")
    assert not out.exists()
    _nothing_written(tmp_path, before)


def test_failed_compile_removes_the_folders_it_made(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    before = _listing(tmp_path)
    user_error(utc("compile", str(bad), "-o", str(tmp_path / "new" / "deep" / "out"),
                   cwd=tmp_path), r"not a TFLite flatbuffer")
    _nothing_written(tmp_path, before)


def test_dump_ir_dir_names_a_file(model: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--dump-ir-dir",
                   str(tmp_path / "afile"), cwd=tmp_path),
               r"--dump-ir-dir .*afile: exists and is not a folder")
    _nothing_written(tmp_path, before)


def test_print_ir_after_an_unknown_pass(model: Path, tmp_path: Path) -> None:
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--print-ir-after",
                   "frobnicate", cwd=tmp_path), r"--print-ir-after: unknown pass 'frobnicate'")
    assert not (tmp_path / "out").exists()


def test_opt_output_is_a_folder_or_in_a_missing_one(tmp_path: Path) -> None:
    ir = tmp_path / "m.utc"
    ir.write_text("module @m {\n}\n")
    user_error(utc("opt", str(ir), "-o", str(tmp_path), cwd=tmp_path), r"-o .*: is a folder")
    before = _listing(tmp_path)
    user_error(utc("opt", str(ir), "-o", str(tmp_path / "missing" / "o.utc"), cwd=tmp_path),
               r"missing does not exist")
    _nothing_written(tmp_path, before)


def test_run_output_in_a_missing_folder_is_refused_before_compiling(model: Path,
                                                                     tmp_path: Path) -> None:
    user_error(utc("run", str(model), "--output", str(tmp_path / "nope" / "y.npy"),
                   cwd=tmp_path), r"--output .*y\.npy: .*nope does not exist")


# ---- names and numbers -------------------------------------------------------------------


@pytest.mark.parametrize("name, pattern", [
    ("a" * 310, r"--name is 310 characters long; the limit is 64"),
    ("int", r"--name 'int' is a C/C\+\+ keyword"),
    ("class", r"--name 'class' is a C/C\+\+ keyword"),
    ("9lives", r"--name '9lives' is not a C identifier"),
    ("_m", r"--name '_m' is not a C identifier that starts with a letter"),
    ("my-model", r"--name 'my-model' is not a C identifier"),
    ("a__b", r"contains '__'"),
    ("utc_runtime", r"starts with 'utc_'"),
    ("bad\nname\x1b[31m", r"--name 'bad\\nname\\x1b\[31m' is not a C identifier"),
])
def test_bad_name(name: str, pattern: str, model: Path, tmp_path: Path) -> None:
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--name", name,
                   cwd=tmp_path), pattern)
    _nothing_written(tmp_path, before)


def test_longest_name_compiles(model: Path, tmp_path: Path) -> None:
    name = "m" * 64
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), "--name", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / f"{name}.h").is_file()


@pytest.mark.parametrize("seed", ["-5", str(2**32), "abc", "1.5"])
def test_bad_seed(seed: str, model: Path, tmp_path: Path) -> None:
    user_error(utc("run", str(model), "--seed", seed, cwd=tmp_path),
               r"argument --seed: must be an integer from 0 to 4294967295")


@pytest.mark.parametrize("option", ["--max-arena-bytes", "--max-weight-bytes",
                                    "--max-model-bytes"])
@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_bad_limit_value(option: str, value: str, model: Path, tmp_path: Path) -> None:
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), f"{option}={value}",
                   cwd=tmp_path), rf"argument {option}: must be a positive number of bytes")


def test_missing_required_argument_is_one_line(model: Path, tmp_path: Path) -> None:
    user_error(utc("compile", str(model), cwd=tmp_path), r"required: -o/--output")


# ---- model files -------------------------------------------------------------------------


def test_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    user_error(utc("compile", "/dev/zero", "-o", str(tmp_path / "out"), cwd=tmp_path, timeout=60),
               r"/dev/zero: is not a regular file \(a character device\)")
    assert not (tmp_path / "out").exists()


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    user_error(utc("inspect", str(fifo), cwd=tmp_path, timeout=60),
               r"model\.tflite: is not a regular file \(a FIFO\)")


def test_folder_as_model(tmp_path: Path) -> None:
    user_error(utc("compile", str(tmp_path), "-o", str(tmp_path / "out"), cwd=tmp_path),
               r"is not a regular file \(a folder\)")


def test_model_over_the_size_limit(model: Path, tmp_path: Path) -> None:
    size = model.stat().st_size
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--max-model-bytes",
                   str(size - 1), cwd=tmp_path),
               rf"sine\.tflite: the model is {size} bytes, larger than the limit of {size - 1} "
               r"bytes \(--max-model-bytes\)")
    assert not (tmp_path / "out").exists()


def test_control_characters_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    evil = tmp_path / "evil\x1b[2J\nname.tflite"
    evil.write_bytes(b"junk" * 10)
    line = user_error(utc("compile", str(evil), "-o", str(tmp_path / "out"), cwd=tmp_path),
                      r"not a TFLite flatbuffer")
    assert "evil\\x1b[2J\\nname.tflite" in line


def test_control_characters_in_a_tensor_name_are_escaped(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x\nInjected: line\x07", [1, 4], "float32", shape_signature=[1, -1])
    y = b.add_tensor("y", [1, 4], "float32", shape_signature=[1, -1])
    b.add_operator("RELU", [x], [y])
    path = tmp_path / "model.tflite"
    path.write_bytes(b.build([x], [y]))
    line = user_error(utc("compile", str(path), "-o", str(tmp_path / "out"), cwd=tmp_path),
                      r"has dynamic dimensions")
    assert "x\\nInjected: line\\x07" in line


# ---- memory limits -----------------------------------------------------------------------


def test_arena_over_the_limit(model: Path, tmp_path: Path) -> None:
    before = _listing(tmp_path)
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--max-arena-bytes", "8",
                   cwd=tmp_path),
               r"sine\.tflite: needs an arena of \d+ bytes, more than the limit of 8 bytes "
               r"\(--max-arena-bytes\)")
    _nothing_written(tmp_path, before)


def test_weights_over_the_limit(model: Path, tmp_path: Path) -> None:
    proc = utc("compile", str(model), "-o", str(tmp_path / "ok"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = (tmp_path / "ok" / "model.h").read_text()
    weights = int(re.search(r"#define MODEL_WEIGHT_BYTES (\d+)", header)[1])
    user_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--max-weight-bytes",
                   str(weights - 1), cwd=tmp_path),
               rf"needs {weights} bytes of weights, more than the limit of {weights - 1} bytes")
    assert not (tmp_path / "out").exists()
    # exactly at the limit is accepted
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), "--max-weight-bytes",
               str(weights), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_run_applies_the_limits(model: Path, tmp_path: Path) -> None:
    user_error(utc("run", str(model), "--max-arena-bytes", "8", cwd=tmp_path),
               r"needs an arena of \d+ bytes")


# ---- run inputs --------------------------------------------------------------------------


def test_run_input_that_is_not_npy(model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.npy"
    bad.write_bytes(b"definitely not numpy")
    user_error(utc("run", str(model), "--input", str(bad), cwd=tmp_path),
               r"x\.npy: cannot read \.npy file")


def test_run_input_archive(model: Path, tmp_path: Path) -> None:
    archive = tmp_path / "x.npz"
    np.savez(archive, a=np.zeros(1, np.int8))
    user_error(utc("run", str(model), "--input", str(archive), cwd=tmp_path),
               r"x\.npz: expected one array \(\.npy\), got an archive")


def test_run_writes_exactly_the_named_output(model: Path, tmp_path: Path) -> None:
    target = tmp_path / "y.bin"  # np.save would append .npy to a bare path
    proc = utc("run", str(model), "--output", str(target), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert np.load(target).shape == (1, 1)
    assert not (tmp_path / "y.bin.npy").exists()


# ---- IR ----------------------------------------------------------------------------------

_IR = """module @m {{
  func.func() {{sym_name = @main}} ({{
  ^entry(%x: tensor<{type}>):
    func.return(%x) : ()
  }}) : ()
}}
"""


@pytest.mark.parametrize("element, pattern", [
    ("4x!quant.uniform<i8:f32, 1e39:0>", r"quantization scale 1e39 is out of float32 range"),
    ("4x!quant.uniform<i8:f32, 0.0:0>", r"scale must be finite and positive, got 0.0"),
    ("4x!quant.uniform<i8:f32, -0.5:0>", r"scale must be finite and positive, got -0.5"),
    ("4x!quant.uniform<i8:f32, nan:0>", r"scale must be finite and positive, got nan"),
    ("4x!quant.uniform<i8:f32, inf:0>", r"scale must be finite and positive, got inf"),
    ("4x!quant.uniform<i8:f32, 1e-50:0>", r"scale 1e-50 rounds to zero in float32"),
    ("4x!quant.uniform<i8:f32, 0.5:128>", r"zero point 128 does not fit the storage type i8"),
    ("4x!quant.uniform<ui8:f32, 0.5:-1>", r"zero point -1 does not fit the storage type ui8"),
    ("4x!quant.uniform<f32:f32, 0.5:0>", r"storage type must be an integer type"),
    ("4x!quant.uniform<i8:i8, 0.5:0>", r"expressed type must be a float type"),
    ("2x3x!quant.uniform<i8:f32:2, {0.5:0,0.5:0}>", r"quantization axis 2 is outside a rank-2"),
    ("2x3x!quant.uniform<i8:f32:1, {0.5:0,0.5:0}>", r"2 scales for dimension 1 of size 3"),
    ("2x3x!quant.uniform<i8:f32:0, {0.5:0,0.0:0}>", r"scale must be finite and positive"),
    ("99999999x99999999xf32", r"more than utc supports"),
])
def test_bad_type_in_ir(element: str, pattern: str, tmp_path: Path) -> None:
    ir = tmp_path / "bad.utc"
    ir.write_text(_IR.format(type=element))
    user_error(utc("opt", str(ir), cwd=tmp_path), r"bad\.utc:3:\d+: .*" + pattern)


def test_good_quantized_types_parse(tmp_path: Path) -> None:
    ir = tmp_path / "good.utc"
    ir.write_text(_IR.format(type="2x3x!quant.uniform<i8:f32:1, {0.5:-128,0.25:127,1.0e-30:0}>"))
    proc = utc("opt", str(ir), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "{0.5:-128,0.25:127,1.0e-30:0}" in proc.stdout


def test_ir_with_a_multiline_token_gives_one_line(tmp_path: Path) -> None:
    ir = tmp_path / "bad.utc"
    ir.write_text('module @m {\n  "a\nb\x1b[31m" \n}\n')
    line = user_error(utc("opt", str(ir), cwd=tmp_path), r"bad\.utc:2:\d+: unexpected")
    assert "\\x1b" in line


def test_ir_that_is_not_utf8(tmp_path: Path) -> None:
    ir = tmp_path / "bad.utc"
    ir.write_bytes(b"module @m {\n\xff\xfe}\n")
    user_error(utc("opt", str(ir), cwd=tmp_path), r"bad\.utc: not UTF-8 text \(byte 12\)")


def test_ir_from_stdin(tmp_path: Path) -> None:
    proc = subprocess.run([*CLI, "opt", "-"], cwd=tmp_path, capture_output=True, text=True,
                          input="module @m {\n  %0 = \n}\n", timeout=60)
    user_error(proc, r"^utc: error: -:3:\d+: unexpected")


# ---- internal errors ---------------------------------------------------------------------

_PLUGIN = '''
from dataclasses import dataclass

import numpy as np
from utc.compiler.pass_manager import Pass, register_pass


@register_pass
@dataclass(frozen=True)
class Explode(Pass):
    """Fail the way a bug in a pass would."""

    name = "test-explode"

    def run(self, module):
        raise RuntimeError("boom\\nsecond line")


@register_pass
@dataclass(frozen=True)
class DivideByZero(Pass):
    """Divide by zero in numpy, which would otherwise print a RuntimeWarning."""

    name = "test-divide-by-zero"

    def run(self, module):
        np.array([1.0], np.float32) / np.array([0.0], np.float32)
'''


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    path = tmp_path / "plugin.py"
    path.write_text(_PLUGIN)
    return path


def test_internal_error_is_one_line_with_the_model_hash(model: Path, plugin: Path,
                                                        tmp_path: Path) -> None:
    before = _listing(tmp_path)
    line = internal_error(
        utc("compile", str(model), "-o", str(tmp_path / "out"), "--pipeline", "test-explode",
            "--load-pass-plugin", str(plugin), cwd=tmp_path),
        r"RuntimeError: boom\\nsecond line \(please report this at the utc issue tracker with "
        r"the model's sha256 [0-9a-f]{64}\)$")
    assert hashlib.sha256(model.read_bytes()).hexdigest() in line
    _nothing_written(tmp_path, before)


def test_internal_error_traceback_on_request(model: Path, plugin: Path, tmp_path: Path) -> None:
    proc = utc("compile", str(model), "-o", str(tmp_path / "out"), "--pipeline", "test-explode",
               "--load-pass-plugin", str(plugin), cwd=tmp_path, env={"UTC_TRACEBACK": "1"})
    assert proc.returncode == 3
    assert "Traceback" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("utc: internal error: RuntimeError")


def test_numpy_floating_point_error_is_an_internal_error(model: Path, plugin: Path,
                                                         tmp_path: Path) -> None:
    internal_error(utc("compile", str(model), "-o", str(tmp_path / "out"), "--pipeline",
                       "test-divide-by-zero", "--load-pass-plugin", str(plugin), cwd=tmp_path),
                   r"FloatingPointError: divide by zero")
    assert not (tmp_path / "out").exists()


def test_internal_error_in_opt_names_the_input_hash(plugin: Path, tmp_path: Path) -> None:
    ir = tmp_path / "m.utc"
    ir.write_text("module @m {\n}\n")
    internal_error(utc("opt", str(ir), "-p", "test-explode", "--load-pass-plugin", str(plugin),
                       cwd=tmp_path), r"with the input IR's sha256 [0-9a-f]{64}\)$")
