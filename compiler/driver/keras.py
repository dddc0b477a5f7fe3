"""Keras models in: quantize a trained Keras model with TensorFlow's TFLite converter into
TFLite bytes, which the rest of utc then compiles like any `.tflite` file.

Why a converter and not an importer of our own: TensorFlow's converter is what defines
the quantized model TFLite Micro runs (calibration, per-channel weights, fused
activations), and utc is checked bit-exact against exactly that model. utc only checks
what the user gives it (the file, the calibration samples against the model's inputs) so
that mistakes are one line, not a TensorFlow traceback.

TensorFlow is an optional extra (`pip install 'utc[tf]'`): only this module imports it,
and only when a Keras model is asked for, so `.tflite` input never needs it; without it
every Keras path fails with one line naming the extra to install.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from utc.compiler.errors import ImportError_, UsageError, printable

#: File names the Keras path takes (Keras 3's zip format and the legacy HDF5 one).
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
#: `quantize=`: full-integer int8 (int8 inputs and outputs), or 16x8 (int16 activations,
#: int8 weights, int16 inputs and outputs).
QUANTIZATIONS = ("int8", "16x8")
INSTALL_HINT = "pip install 'utc[tf]'"

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def is_keras_file(path: str | os.PathLike) -> bool:
    """Whether a model file name is a Keras model's (by its suffix, as Keras decides)."""
    return Path(os.fspath(path)).suffix.lower() in KERAS_SUFFIXES


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """TensorFlow's start-up and conversion logs (C++ lines on file descriptor 2, Python
    prints such as 'Saved artifact at ...' on 1) go to a temporary file instead of the
    terminal: `utc compile --report=json` keeps a stdout that is the document alone, and
    a failure stays one line. numpy runs with its default error handling meanwhile (the
    CLI makes floating-point warnings errors for utc's own arithmetic, not TensorFlow's)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    with tempfile.TemporaryFile() as sink:
        try:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                    os.dup2(sink.fileno(), fd)
                except OSError:  # no such descriptor (an embedding host): nothing to hide
                    saved.pop()
            with contextlib.redirect_stdout(open(os.devnull, "w")) as out, \
                    np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    yield
                finally:
                    out.close()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd, copy in reversed(saved):
                os.dup2(copy, fd)
                os.close(copy)


def require_tensorflow(what: str) -> Any:
    """The `tensorflow` module, or a one-line UsageError saying which extra to install."""
    try:
        with quiet_tensorflow():
            import tensorflow as tf
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("tensorflow", "keras"):
            raise UsageError(f"{what} needs TensorFlow, which is not installed: "
                             f"{INSTALL_HINT}") from None
        raise UsageError(f"{what} needs TensorFlow, which is installed but cannot be "
                         f"imported ({printable(exc)}): {INSTALL_HINT}") from None
    except ImportError as exc:
        raise UsageError(f"{what} needs TensorFlow, which is installed but cannot be "
                         f"imported ({printable(exc)}): {INSTALL_HINT}") from None
    return tf


def _reason(exc: BaseException) -> str:
    """The telling line of a TensorFlow/Keras exception (their messages run to pages)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    pick = next((ln for ln in lines if "error:" in ln.lower()), lines[0] if lines else "")
    text = printable(pick or type(exc).__name__)
    return text if len(text) <= 300 else text[:297] + "..."


def check_quantize(quantize: str) -> str:
    if quantize not in QUANTIZATIONS:
        raise UsageError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got "
                         f"'{printable(quantize)}'")
    return quantize


def load_keras_model(path: str | os.PathLike, max_bytes: int) -> Any:
    """A Keras model from a `.keras` (or legacy `.h5`) file, loaded without its training
    configuration and in Keras' safe mode (no arbitrary code from lambda layers)."""
    from utc.compiler.driver import check_model_file, read_bounded

    shown = printable(os.fspath(path))
    check_model_file(path, max_bytes)
    head = read_bounded(path, max_bytes, "the model")[:8]
    zipped = Path(os.fspath(path)).suffix.lower() == ".keras"
    if not head.startswith(_ZIP_MAGIC if zipped else _HDF5_MAGIC):
        kind = "a zip archive" if zipped else "an HDF5 file"
        raise ImportError_(f"{shown}: not a Keras model file (a {Path(path).suffix} model is "
                           f"{kind} written by model.save(); this file is not one)")
    require_tensorflow(f"{shown}: compiling a Keras model")
    try:
        with quiet_tensorflow():
            import keras

            model = keras.models.load_model(os.fspath(path), compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises anything from ValueError to KeyError here
        raise ImportError_(f"{shown}: not a Keras model Keras can load ({_reason(exc)})") from None
    return model


def _model_inputs(model: Any, label: str) -> list[tuple[str, tuple]]:
    """(name, shape with None for free dimensions) of each input of a Keras model."""
    try:
        inputs = list(model.inputs)
    except Exception:  # a subclassed model that was never called has no inputs
        inputs = []
    if not inputs:
        raise UsageError(f"{label}: the Keras model has no defined inputs (build it with "
                         "keras.Input, or call it once on a sample)")
    return [(str(getattr(t, "name", f"input {i}")), tuple(t.shape)) for i, t in enumerate(inputs)]


def calibration_arrays(model: Any, data: Sequence[Any], labels: Sequence[str],
                       label: str) -> list[np.ndarray]:
    """The calibration samples as float32 arrays, one per model input, each [N, ...] with
    the input's shape after the batch dimension; anything else is a one-line UsageError
    naming the array (`labels`) and the input's shape."""
    inputs = _model_inputs(model, label)
    if len(data) != len(inputs):
        raise UsageError(f"{label}: the model has {len(inputs)} input(s), got "
                         f"{len(data)} calibration array(s) (one per input, [N, ...] each)")
    arrays = []
    count = None
    for index, (x, where, (_, shape)) in enumerate(zip(data, labels, inputs)):
        x = np.asarray(x)
        want = "[N, " + ", ".join("?" if d is None else str(d) for d in shape[1:]) + "]"
        if x.dtype.kind not in "biuf":
            raise UsageError(f"{where}: calibration samples must be numbers, got dtype "
                             f"{printable(x.dtype)}")
        fits = x.ndim == len(shape) and all(d is None or d == n for d, n in zip(shape[1:], x.shape[1:]))
        if not fits or x.shape[0] < 1:
            raise UsageError(f"{where}: shape {list(x.shape)} does not fit the model's input "
                             f"{index} {list(shape)}: give {want}, N >= 1 samples")
        if count is not None and x.shape[0] != count:
            raise UsageError(f"{where}: {x.shape[0]} samples, but the first calibration "
                             f"array has {count} (the same N for every input)")
        count = x.shape[0]
        with np.errstate(all="ignore"):
            x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise UsageError(f"{where}: calibration samples must be finite (NaN or inf found, "
                             "or values beyond float32)")
        arrays.append(x)
    return arrays


def _batch_one(model: Any, arrays: list[np.ndarray]) -> Any:
    """The model called on inputs of batch 1, with the calibration's shape for any other
    free dimension: a microcontroller runs one sample at a time, and a free batch would
    leave SHAPE/STRIDED_SLICE/PACK arithmetic on int32 in the model for every Flatten."""
    import keras

    inputs = [keras.Input(batch_shape=(1, *a.shape[1:]), dtype="float32") for a in arrays]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return keras.Model(inputs, outputs, name=getattr(model, "name", "model"))


def convert(model: Any, arrays: list[np.ndarray], quantize: str, label: str) -> bytes:
    """Quantize a Keras model with TensorFlow's TFLite converter, calibrated on `arrays`
    (from `calibration_arrays`): full-integer int8 with int8 inputs and outputs, or 16x8
    with int16 ones. Returns the .tflite bytes."""
    check_quantize(quantize)
    tf = require_tensorflow(f"{label}: converting a Keras model")

    def samples():
        for k in range(arrays[0].shape[0]):
            yield [a[k:k + 1] for a in arrays]

    try:
        with quiet_tensorflow():
            converter = tf.lite.TFLiteConverter.from_keras_model(_batch_one(model, arrays))
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = samples
            if quantize == "int8":
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
                io_type = tf.int8
            else:
                converter.target_spec.supported_ops = [
                    tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
                io_type = tf.int16
            converter.inference_input_type = io_type
            converter.inference_output_type = io_type
            data = converter.convert()
    except Exception as exc:  # ConverterError, or anything Keras raises tracing the model
        raise ImportError_(f"{label}: TensorFlow's converter cannot quantize this model to "
                           f"{quantize} ({_reason(exc)})") from None
    return bytes(data)


def keras_model_bytes(model_path: str, calibration: Sequence[np.ndarray] | None,
                      calibration_paths: Sequence[str], quantize: str | None,
                      max_bytes: int) -> bytes | None:
    """The command line's Keras path: for a `.keras`/`.h5` MODEL, the quantized TFLite
    bytes (calibrated on the `--calibration` arrays); for any other file None (compiled
    as TFLite), after refusing Keras-only options given with it."""
    shown = printable(model_path)
    if not is_keras_file(model_path):
        if calibration_paths or quantize:
            option = "--calibration" if calibration_paths else "--quantize"
            raise UsageError(f"{option} applies to a Keras model ({', '.join(KERAS_SUFFIXES)}); "
                             f"{shown} is compiled as a TFLite model, already quantized")
        return None
    if not calibration_paths:
        raise UsageError(f"{shown}: a Keras model is quantized with representative inputs: give "
                         "--calibration SAMPLES.npy ([N, ...input shape], one per model input)")
    model = load_keras_model(model_path, max_bytes)
    arrays = calibration_arrays(model, list(calibration or ()),
                                [f"--calibration {printable(p)}" for p in calibration_paths], shown)
    return convert(model, arrays, quantize or "int8", shown)
