"""From a trained Keras model to verified code: a small CNN trained here on synthetic data
(which quadrant of a 16x16 image holds a bright blob; seeded, no downloads, a few seconds),
quantized by TensorFlow's converter (int8, and 16x8), compiled by utc, bit-exact with
TFLite Micro on the converted model and picking the float model's class on most inputs;
the same through `utc compile|verify MODEL.keras --calibration X.npy`, the command's
one-line errors, the README's Keras example and examples/train_quantize_compile.py.

TensorFlow is the `tf` extra: tests that need it skip with that reason when it is absent,
except under CI (UTC_EXPECT_INSTALLED=1), where its absence fails. The tests of the
message a user without TensorFlow gets block its import in a subprocess, so they run
either way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import utc
from utc.compiler.driver.cli import main

from tests.oracle import TflmRunner

pytestmark = pytest.mark.keras

REPO = Path(__file__).resolve().parents[2]
INSTALL = "pip install 'utc[tf]'"


def _tensorflow():
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        if os.environ.get("UTC_EXPECT_INSTALLED"):
            pytest.fail("CI installs the tf extra, but TensorFlow cannot be imported")
        pytest.skip(f"TensorFlow is not installed (the tf extra: {INSTALL})")
    import keras

    return keras


def quadrant_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n noisy 16x16 images, each with a 2x2 bright blob inside one quadrant; the label is
    the quadrant (0 top left, 1 top right, 2 bottom left, 3 bottom right)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.15, (n, 16, 16, 1)).astype(np.float32)
    y = rng.integers(0, 4, n)
    for i in range(n):
        row = 8 * (y[i] // 2) + rng.integers(1, 6)
        col = 8 * (y[i] % 2) + rng.integers(1, 6)
        x[i, row:row + 2, col:col + 2, 0] += rng.uniform(0.8, 1.2)
    return x, y


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(Keras model, saved .keras path, calibration samples, test images): conv, pool,
    conv, pool, flatten, dense logits (no softmax, so the 16x8 model has only operators
    utc and TFLite Micro both run in 16x8)."""
    keras = _tensorflow()
    keras.utils.set_random_seed(0)
    x, y = quadrant_images(1200, seed=1)
    model = keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(4),
    ], name="quadrants")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    folder = tmp_path_factory.mktemp("keras")
    path = folder / "quadrants.keras"
    model.save(path)
    calibration = folder / "calibration.npy"
    np.save(calibration, x[:200])
    test_x, test_y = quadrant_images(200, seed=2)
    float_classes = model.predict(test_x, verbose=0).argmax(axis=1)
    assert (float_classes == test_y).mean() >= 0.9, "the float model did not learn the task"
    return model, path, calibration, test_x, float_classes


def _quantize(x: np.ndarray, spec: dict) -> np.ndarray:
    """Float inputs in a compiled model's input quantization (`CompiledModel.inputs`)."""
    q = spec["quantization"]
    dtype = np.dtype(spec["dtype"])
    info = np.iinfo(dtype)
    return np.clip(np.round(x / q["scale"]) + q["zero_point"], info.min, info.max).astype(dtype)


@pytest.mark.parametrize("quantize, dtype", [("int8", "int8"), ("16x8", "int16")])
def test_from_keras_bit_exact_with_tflite_micro_and_agrees_with_float(trained, quantize, dtype):
    model, _, calibration, test_x, float_classes = trained
    samples = np.load(calibration)
    m = utc.from_keras(model, samples, quantize=quantize, name="quadrants")
    assert isinstance(m, utc.CompiledModel)
    assert [(s["dtype"], s["shape"]) for s in m.inputs] == [(dtype, [1, 16, 16, 1])]
    assert [(s["dtype"], s["shape"]) for s in m.outputs] == [(dtype, [1, 4])]
    assert {row.kernel for row in m.layers} >= {f"utc_conv2d_{'s8' if dtype == 'int8' else 's16'}"}
    # the oracle runs the .tflite convert_keras gives: the same bytes from_keras compiled
    tflite = utc.convert_keras(model, samples, quantize=quantize)
    oracle = TflmRunner(tflite)
    inputs = _quantize(test_x, m.inputs[0])[:, None]
    ours = m.run_samples(list(inputs))
    for sample, outputs in zip(inputs, ours):
        np.testing.assert_array_equal(outputs[0], oracle.run([sample])[0])
    classes = np.array([outputs[0].argmax() for outputs in ours])
    agree = (classes == float_classes).mean()
    assert agree >= 0.9, f"{quantize}: the compiled model picks the float model's class on {agree:.0%}"
    assert utc.verify(m, inputs[:16]).passed


def test_from_keras_takes_a_keras_file(trained):
    _, path, calibration, _, _ = trained
    m = utc.from_keras(path, np.load(calibration)[:50], name="q")
    assert m.inputs[0]["dtype"] == "int8" and m.arena_bytes > 0


@pytest.mark.parametrize("data, message", [
    (np.zeros((10, 8, 8, 1), np.float32), "representative_data: shape [10, 8, 8, 1] does not fit "
     "the model's input 0 [None, 16, 16, 1]: give [N, 16, 16, 1], N >= 1 samples"),
    (np.zeros((0, 16, 16, 1), np.float32), "representative_data: shape [0, 16, 16, 1] does not fit"),
    (np.full((4, 16, 16, 1), np.nan, np.float32), "representative_data: calibration samples must "
     "be finite"),
    ([np.zeros((4, 16, 16, 1))] * 2, "Keras model 'quadrants': the model has 1 input(s), got 2 "
     "calibration array(s)"),
])
def test_from_keras_refuses_bad_calibration(trained, data, message):
    model = trained[0]
    with pytest.raises(utc.UtcError) as caught:
        utc.from_keras(model, data)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_from_keras_refuses_other_arguments(trained):
    model = trained[0]
    with pytest.raises(utc.UtcError, match="quantize must be one of int8, 16x8, got 'int4'"):
        utc.from_keras(model, np.zeros((4, 16, 16, 1)), quantize="int4")
    with pytest.raises(utc.UtcError, match="model must be a Keras model or a .keras file name"):
        utc.from_keras(b"TFL3", np.zeros((4, 16, 16, 1)))
    with pytest.raises(utc.UtcError, match=r"m\.tflite: not a Keras model file name"):
        utc.from_keras("m.tflite", np.zeros((4, 16, 16, 1)))


# ---- the command line ----------------------------------------------------------------------


def _utc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "utc", *args], cwd=cwd, capture_output=True,
                          text=True)


def test_cli_compiles_and_verifies_a_keras_model(trained, tmp_path):
    _, path, calibration, _, _ = trained
    proc = _utc("compile", str(path), "--calibration", str(calibration), "-o", "out",
                "--name", "quad", "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout is the document alone: TensorFlow's logs hidden
    assert doc["inputs"][0]["dtype"] == "int8"
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"quad.h", "quad.cpp", "report.json"}
    assert f"{path}" in (tmp_path / "out" / "quad.cpp").read_text()  # the source comment
    proc = _utc("verify", str(path), "--calibration", str(calibration), "--quantize", "16x8",
                "--samples", "8", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "int16 [1, 4]: 8/8 samples" in proc.stdout and "every output matches" in proc.stdout


def _error(capsys, *argv: str) -> str:
    """The command's one error line (exit 2, nothing else on stderr)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("utc: error: "), err
    return err[len("utc: error: "):].rstrip("\n")


def test_cli_refuses_bad_keras_input(trained, tmp_path, capsys):
    _, path, calibration, _, _ = trained
    out = tmp_path / "out"
    args = ("-o", str(out))
    assert _error(capsys, "compile", str(path), *args) == (
        f"{path}: a Keras model is quantized with representative inputs: give --calibration "
        "SAMPLES.npy ([N, ...input shape], one per model input)")
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((5, 16, 16), np.float32))
    assert _error(capsys, "compile", str(path), "--calibration", str(wrong), *args) == (
        f"--calibration {wrong}: shape [5, 16, 16] does not fit the model's input 0 "
        "[None, 16, 16, 1]: give [N, 16, 16, 1], N >= 1 samples")
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"TFL3 is not a zip")
    assert _error(capsys, "compile", str(garbage), "--calibration", str(calibration), *args) == (
        f"{garbage}: not a Keras model file (a .keras model is a zip archive written by "
        "model.save(); this file is not one)")
    other_zip = tmp_path / "other.keras"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "not a model")
    assert _error(capsys, "compile", str(other_zip), "--calibration", str(calibration),
                  *args).startswith(f"{other_zip}: not a Keras model Keras can load (")
    sine = REPO / "examples" / "sine_int8.tflite"
    assert _error(capsys, "compile", str(sine), "--calibration", str(calibration), *args) == (
        f"--calibration applies to a Keras model (.keras, .h5, .hdf5); {sine} is compiled as "
        "a TFLite model, already quantized")
    assert _error(capsys, "run", str(path), "--calibration", str(tmp_path / "missing.npy")) == (
        f"{tmp_path / 'missing.npy'}: cannot read file (No such file or directory)")
    assert not out.exists()


BLOCK_TENSORFLOW = ("import sys\nsys.modules['tensorflow'] = None\nsys.modules['keras'] = None\n"
                    "from utc.compiler.driver.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def test_without_tensorflow_the_keras_path_names_the_extra(tmp_path):
    """With TensorFlow's import blocked (as if the extra were not installed): a Keras model
    is one line naming the extra, exit 2, nothing written; a .tflite model compiles."""
    model = tmp_path / "m.keras"
    with zipfile.ZipFile(model, "w") as z:  # a zip, as a .keras file is: past the file check
        z.writestr("config.json", "{}")
    samples = tmp_path / "x.npy"
    np.save(samples, np.zeros((4, 16, 16, 1), np.float32))
    for command in (["compile", str(model), "-o", "out"], ["verify", str(model)]):
        proc = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, *command, "--calibration",
                               str(samples)], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 2
        assert proc.stderr == (f"utc: error: {model}: compiling a Keras model needs TensorFlow, "
                               f"which is not installed: {INSTALL}\n")
        assert proc.stdout == "" and not (tmp_path / "out").exists()
    api = ("import sys\nsys.modules['tensorflow'] = None\nimport numpy as np, utc\ntry:\n"
           f"    utc.from_keras({str(model)!r}, np.zeros((4, 16, 16, 1)))\n"
           "except utc.UtcError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", api], capture_output=True, text=True)
    assert proc.stdout == (f"{model}: compiling a Keras model needs TensorFlow, which is not "
                           f"installed: {INSTALL}\n"), proc.stderr
    sine = REPO / "examples" / "sine_int8.tflite"
    proc = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, "compile", str(sine), "-o",
                           "out"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "model.cpp").is_file()


# ---- the README's Keras example and the examples/ script -----------------------------------


def test_readme_keras_example_runs(tmp_path):
    """The README Python section's Keras example, run as written."""
    _tensorflow()
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python"):readme.index("\n## ", readme.index("## Python") + 1)]
    blocks = section.split("```python\n")[1:]
    (code,) = [c for c in (b[:b.index("\n```")] for b in blocks) if "utc.from_keras" in c]
    proc = subprocess.run([sys.executable, "-c", code + "\nprint('ok', len(tflite))"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ok ")


def test_train_quantize_compile_example(tmp_path):
    """examples/train_quantize_compile.py with a short training: it verifies the compiled
    model against TFLite Micro itself and exits non-zero when it does not match."""
    _tensorflow()
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "train_quantize_compile.py"),
                           "--epochs", "2", "--output", str(tmp_path / "out"), "--tflite",
                           str(tmp_path / "q.tflite")],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every output matches" in proc.stdout
    assert "step" in proc.stdout and "arena" in proc.stdout  # the report's table
    assert (tmp_path / "out" / "quadrants.h").is_file()
    assert (tmp_path / "q.tflite").read_bytes()[4:8] == b"TFL3"
