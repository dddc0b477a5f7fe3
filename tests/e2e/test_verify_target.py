"""`utc verify --target cortex-m4|cortex-m55`: the code runs as firmware on the target's
QEMU board (cross-compiled, CMSIS-NN's DSP or Helium paths included) and is compared with
TFLite Micro as the host build is, per output and with --per-layer per layer.

Every shared model TFLite Micro runs must match on both targets, and a fault injected
into one layer by a pass plugin must fail with exit 1, --per-layer naming exactly that
layer (its TFLite index read here with the tflite package, not through utc). Needs the
Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi,
libstdc++-arm-none-eabi-newlib and qemu-system-arm (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import utc

from tests.conftest import shared_model
from tests.e2e.test_real_models import INT8_MODELS
from tests.e2e.test_verify_layers import _BUILTIN, FAULT_PLUGIN, cli, nth_operator, table_rows

pytestmark = pytest.mark.slow

BOARDS = {"cortex-m4": "mps2-an386", "cortex-m55": "mps3-an547"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def fault_pipeline(tmp_path: Path, op: str, n: int,
                   name: str = "test-break-layer") -> tuple[Path, str]:
    """The fault plugin (as `name`: a pass registered in this process, by the API test,
    must not clash with test_verify_layers' own) and a pipeline running it."""
    plugin = tmp_path / "fault.py"
    plugin.write_text(FAULT_PLUGIN.replace("{op}", op).replace("{n}", str(n))
                      .replace('"test-break-layer"', f'"{name}"'))
    return plugin, utc.pipeline(2, "cmsis-nn").replace("lower-to-qnn,",
                                                        f"lower-to-qnn,{name},")


@pytest.mark.parametrize("target", sorted(BOARDS))
@pytest.mark.parametrize("name", [*INT8_MODELS, "hello_world_float.tflite"])
def test_shared_model_matches_on_target(name: str, target: str, tmp_path: Path) -> None:
    model = shared_model(name)
    proc = cli("verify", str(model), "--target", target, "--samples", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (f"utc verify: {model} (-O2, kernels auto, {target} firmware on QEMU "
                        f"{BOARDS[target]}): 2 samples (random, seed 0) against TFLite Micro")
    assert all(line.endswith(": ok") for line in lines[1:-1]) and len(lines) > 2
    assert lines[-1] == "utc verify: every output matches"


@pytest.mark.parametrize("target", sorted(BOARDS))
def test_fault_fails_on_target(target: str, tmp_path: Path) -> None:
    model = shared_model("mlperf_kws_dscnn_int8.tflite")
    plugin, pipeline = fault_pipeline(tmp_path, "qnn.conv2d", 3)
    proc = cli("verify", str(model), "--target", target, "--samples", "2", "--kernels",
               "cmsis-nn", "--load-pass-plugin", str(plugin), "--pipeline", pipeline,
               cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert f"{target} firmware on QEMU {BOARDS[target]}" in proc.stdout.splitlines()[0]
    assert re.search(r"^  output 0 'Identity' int8 \[1, 12\]: .*: MISMATCH$", proc.stdout, re.M)
    assert proc.stdout.splitlines()[-1] == "utc verify: 1 of 1 outputs differ beyond the tolerance"


@pytest.mark.parametrize("target,op,n", [("cortex-m4", "qnn.conv2d", 3),
                                         ("cortex-m55", "qnn.depthwise_conv2d", 1)])
def test_per_layer_on_target_names_the_broken_layer(target: str, op: str, n: int,
                                                    tmp_path: Path) -> None:
    model = shared_model("mlperf_kws_dscnn_int8.tflite")
    plugin, pipeline = fault_pipeline(tmp_path, op, n)
    proc = cli("verify", str(model), "--target", target, "--per-layer", "--samples", "2",
               "--kernels", "cmsis-nn", "--load-pass-plugin", str(plugin), "--pipeline",
               pipeline, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    bad = [r for r in rows if r[-1] == "MISMATCH"]
    assert bad, proc.stdout
    first = bad[0]
    expected = nth_operator(model, _BUILTIN[op], n)
    assert first[1] == f"#{expected} {_BUILTIN[op]}" and first[3] == op, first
    assert first[4].startswith("arm_")  # CMSIS-NN's kernel ran on the target
    assert all(r[-1] == "ok" for r in rows[: rows.index(first)])
    assert float(first[7]) == 1.0  # one zero-point step off
    assert re.search(rf"^utc verify: first layer that differs: step {first[0]}, {re.escape(op)} "
                     rf"-> \S+, TFLite op #{expected} {_BUILTIN[op]}", proc.stdout, re.M)


@pytest.mark.parametrize("target", sorted(BOARDS))
def test_per_layer_on_target_matches(target: str, tmp_path: Path) -> None:
    model = shared_model("mlperf_ic_resnet8_int8.tflite")
    proc = cli("verify", str(model), "--target", target, "--per-layer", "--samples", "2",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    assert rows and all(r[-1] == "ok" for r in rows), proc.stdout
    assert any(r[4].startswith("arm_") for r in rows)
    assert proc.stdout.splitlines()[-1] == f"utc verify: every layer ({len(rows)}) and output matches"


def test_api_verify_on_target(tmp_path: Path) -> None:
    model = shared_model("mlperf_kws_dscnn_int8.tflite")
    result = utc.verify(model, target="cortex-m55", samples=2)
    assert result.passed and result.samples == 2
    plugin, pipeline = fault_pipeline(tmp_path, "qnn.depthwise_conv2d", 1,
                                      name="test-break-layer-on-target")
    utc.load_pass_plugin(plugin)
    broken = utc.verify(model, target="cortex-m4", kernels="cmsis-nn", pipeline=pipeline,
                        samples=2, per_layer=True)
    assert not broken.passed
    assert broken.first_difference.tap.tflite_op == nth_operator(model, "DEPTHWISE_CONV_2D", 1)


def test_missing_cross_tools_are_named_before_any_work(tmp_path: Path) -> None:
    """Without the cross compiler on PATH, verify says which packages to install, in one
    line, before compiling (only Python's own folder stays on PATH)."""
    model = shared_model("hello_world_int8.tflite")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(model),
                           "--target", "cortex-m4"], cwd=tmp_path, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("utc: error: arm-none-eabi-g++ not found: install the Debian packages "
                           "gcc-arm-none-eabi, libnewlib-arm-none-eabi and "
                           "libstdc++-arm-none-eabi-newlib\n")
