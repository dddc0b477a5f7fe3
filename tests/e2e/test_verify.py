"""`utc verify` and `utc.verify`: the generated code against TFLite Micro.

A verifier is only worth something if it fails when the code is wrong, so besides the
passing cases a pass plugin injects a wrong requantization (the last fully connected
layer's output zero point off by one) and the verdict must turn to a mismatch, exit 1,
with the size of the error reported exactly; a tolerance of one step lets it pass again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import utc

from tests.conftest import shared_model
from tests.models_builtin import sine_model_float, sine_model_int8

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]

#: Breaks the last qnn.fully_connected's requantization: output zero point + 1.
FAULT_PLUGIN = '''
from dataclasses import dataclass
from utc.compiler.pass_manager import Pass, register_pass

@register_pass
@dataclass(frozen=True)
class BreakRequant(Pass):
    """Adds one to the output zero point of the last qnn.fully_connected (a test fault)."""
    name = "test-break-requant"

    def run(self, module):
        fcs = [op for op in module.walk() if op.name == "qnn.fully_connected"]
        fcs[-1].output_zp = fcs[-1].output_zp + 1
'''


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ))


@pytest.fixture
def sine(tmp_path: Path) -> Path:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    return path


@pytest.fixture
def fault(tmp_path: Path) -> Path:
    path = tmp_path / "fault.py"
    path.write_text(FAULT_PLUGIN)
    return path


def faulty_pipeline() -> str:
    return utc.pipeline(2).replace("lower-to-qnn,", "lower-to-qnn,test-break-requant,")


def _output_line(stdout: str, index: int = 0) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"  output {index}"))


# ---- the command ---------------------------------------------------------------------------


def test_verify_int8_passes(sine: Path, tmp_path: Path) -> None:
    proc = cli("verify", str(sine), "--samples", "40", "--seed", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == (f"utc verify: {sine} (-O2, kernels auto): 40 samples (random, seed 5) "
                        "against TFLite Micro")
    assert lines[1] == ("  output 0 'dense_2/out' int8 [1, 1]: 40/40 samples and 40/40 elements "
                        "bit-exact, max abs error 0 (atol 0, rtol 0): ok")
    assert lines[-1] == "utc verify: every output matches"


def test_verify_float_reports_rmse_and_cosine(tmp_path: Path) -> None:
    model = tmp_path / "sine_float.tflite"
    model.write_bytes(sine_model_float())
    proc = cli("verify", str(model), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = _output_line(proc.stdout)
    assert re.search(r"float32 \[1, 1\]: \d+/32 samples and \d+/32 elements bit-exact, max abs "
                     r"error [\d.e+-]+, RMSE [\d.e+-]+, cosine similarity 1\.0+ \(atol 1e-06, "
                     r"rtol 1e-05\): ok$", line), line


def test_injected_fault_is_a_mismatch(sine: Path, fault: Path, tmp_path: Path) -> None:
    proc = cli("verify", str(sine), "--load-pass-plugin", str(fault), "--pipeline",
               faulty_pipeline(), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    line = _output_line(proc.stdout)
    assert "max abs error 1 (atol 0, rtol 0): MISMATCH" in line, line
    exact = int(re.search(r"(\d+)/32 samples", line).group(1))
    assert exact < 32  # only outputs saturated at 127 can still agree
    assert proc.stdout.splitlines()[-1] == ("utc verify: 1 of 1 outputs differ beyond the "
                                            "tolerance")
    # the fault is one quantization step: a tolerance of one lets it pass, and says so
    ok = cli("verify", str(sine), "--load-pass-plugin", str(fault), "--pipeline",
             faulty_pipeline(), "--atol", "1", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert "max abs error 1 (atol 1, rtol 0): ok" in _output_line(ok.stdout)


def test_verify_given_inputs(sine: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    one = rng.integers(-128, 128, size=(1, 1), dtype=np.int8)
    batch = rng.integers(-128, 128, size=(7, 1, 1), dtype=np.int8)
    np.save(tmp_path / "one.npy", one)
    np.save(tmp_path / "batch.npy", batch)
    proc = cli("verify", str(sine), "--input", str(tmp_path / "one.npy"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f": 1 samples ({tmp_path / 'one.npy'}) against" in proc.stdout
    proc = cli("verify", str(sine), "--input", str(tmp_path / "batch.npy"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "7/7 samples" in _output_line(proc.stdout)
    folder = tmp_path / "samples"
    folder.mkdir()
    for i in range(3):
        np.save(folder / f"{i}.npy", batch[i])
    np.save(folder / "rest.npy", batch[3:])
    (folder / "notes.txt").write_text("not a sample")
    proc = cli("verify", str(sine), "--input", str(folder), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"7 samples (4 files in {folder})" in proc.stdout
    assert "7/7 samples" in _output_line(proc.stdout)


@pytest.mark.parametrize("name", ["hello_world_int8", "hello_world_float", "micro_speech_quantized",
                                  "mlperf_ad_autoencoder_int8", "mlperf_ic_resnet8_int8",
                                  "mlperf_kws_dscnn_int8", "mlperf_vww_mobilenet_int8"])
def test_verify_passes_on_every_shared_model(name: str, tmp_path: Path) -> None:
    path = shared_model(f"{name}.tflite")
    proc = cli("verify", str(path), "--samples", "8", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "utc verify: every output matches"
    if "int8" in name or "quantized" in name:
        assert "8/8 samples" in _output_line(proc.stdout)


# ---- errors: one line, status 2 -------------------------------------------------------------


def _user_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("utc: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr


def test_verify_argument_errors(sine: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "wrong.npy", np.zeros((1, 2), np.int8))
    np.save(tmp_path / "float.npy", np.zeros((1, 1), np.float32))
    (tmp_path / "empty").mkdir()
    cases = [
        (["--samples", "0"], r"argument --samples: must be an integer from 1 to 100000, got '0'"),
        (["--atol", "-1"], r"argument --atol: must be a finite number >= 0, got '-1'"),
        (["--rtol", "nan"], r"argument --rtol: must be a finite number >= 0, got 'nan'"),
        (["--input", str(tmp_path / "wrong.npy")],
         r"wrong.npy: expected int8 \[1, 1\] \(one sample\) or int8 \[N, 1, 1\] \(N samples\), "
         r"got int8 \[1, 2\]"),
        (["--input", str(tmp_path / "float.npy")],
         r"float.npy: expected int8 \[1, 1\], got float32 \[1, 1\]"),
        (["--input", str(tmp_path / "wrong.npy"), "--input", str(tmp_path / "wrong.npy")],
         r"the model has 1 inputs, got 2 input arrays"),
        (["--input", str(tmp_path / "empty")], r"--input .*empty: the folder holds no .npy files"),
        (["--input", str(tmp_path / "missing.npy")], r"missing.npy: cannot read file"),
        (["--input", str(tmp_path / "float.npy"), "--samples", "3"],
         r"--samples counts random inputs: give it or --input, not both"),
        (["--pipeline", "canonicalize,nope"], r"unknown pass 'nope'"),
    ]
    for options, pattern in cases:
        _user_error(cli("verify", str(sine), *options, cwd=tmp_path), pattern)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    _user_error(cli("verify", str(junk), cwd=tmp_path), r"junk.tflite: not a TFLite flatbuffer")


def test_a_model_tflite_micro_refuses_is_one_line(tmp_path: Path) -> None:
    path = shared_model("mlperf_kws_dscnn_float.tflite")
    _user_error(cli("verify", str(path), "--samples", "1", cwd=tmp_path),
                r"TFLite Micro cannot run this model \(Hybrid models are not supported on "
                r"TFLite Micro.\)$")


def test_without_tflite_micro_says_which_extra(sine: Path, tmp_path: Path) -> None:
    code = ("import sys; sys.modules['tflite_micro'] = None\n"
            "from utc.compiler.driver.cli import main\n"
            f"sys.exit(main(['verify', {str(sine)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    _user_error(proc, r"comparing with TFLite Micro needs its interpreter: pip install "
                      r"'utc\[verify\]' \(the tflite-micro package\)$")


# ---- the API ---------------------------------------------------------------------------------


def test_api_verify(sine: Path) -> None:
    result = utc.verify(sine, samples=12, seed=1)
    assert isinstance(result, utc.Verification) and result.passed
    (out,) = result.outputs
    assert (out.samples, out.exact_samples, out.max_abs_error) == (12, 12, 0.0)
    assert out.rmse is None and out.cosine is None  # integer output
    m = utc.compile(sine.read_bytes())
    given = np.arange(-128, 128, 16, dtype=np.int8).reshape(16, 1, 1)
    assert m.verify(given).outputs[0].samples == 16
    assert "every output matches" in result.format("sine")


def test_api_verify_finds_the_injected_fault(sine: Path, fault: Path) -> None:
    utc.load_pass_plugin(fault)
    broken = utc.compile(sine, pipeline=faulty_pipeline())
    result = utc.verify(broken, samples=20)
    assert not result.passed
    assert result.outputs[0].max_abs_error == 1.0
    assert utc.verify(broken, samples=20, atol=1).passed
    with pytest.raises(utc.UtcError, match=r"compile options \(opt\) do not apply"):
        utc.verify(broken, opt=1)
    with pytest.raises(utc.UtcError, match="atol must be a finite number >= 0"):
        broken.verify(atol=-1.0)
    with pytest.raises(utc.UtcError, match="the number of samples must be from 1 to"):
        broken.verify(samples=0)
