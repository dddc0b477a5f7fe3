"""`utc.from_keras` and `utc.convert_keras`: from a trained Keras model to a compiled one.

TensorFlow's TFLite converter quantizes the model (calibrated on representative inputs)
and `utc.compile` compiles the bytes it returns, so a Keras model gives exactly the
`CompiledModel` its `.tflite` would, and `m.verify()` compares it with TFLite Micro
running that same `.tflite`. The command line's `utc compile model.keras --calibration
samples.npy` runs the same functions (`utc.compiler.driver.keras`). TensorFlow is the
`tf` extra (`pip install 'utc[tf]'`); without it these raise `utc.UtcError` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from utc.compiled_model import CompiledModel, compile
from utc.compiler.driver import DEFAULT_MAX_MODEL_BYTES
from utc.compiler.driver.keras import (
    calibration_arrays,
    check_quantize,
    convert,
    is_keras_file,
    load_keras_model,
)
from utc.compiler.errors import UsageError, printable


def _keras_model(model: Any) -> tuple[Any, str]:
    """(the Keras model, how messages name it) from a model object or a .keras/.h5 path."""
    if isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        if not is_keras_file(path):
            raise UsageError(f"{printable(path)}: not a Keras model file name (.keras, .h5); a "
                             ".tflite model is compiled with utc.compile")
        return load_keras_model(path, DEFAULT_MAX_MODEL_BYTES), printable(path)
    if not (hasattr(model, "inputs") and hasattr(model, "outputs") and callable(model)):
        raise UsageError(f"model must be a Keras model or a .keras file name, got "
                         f"{type(model).__name__}")
    return model, f"Keras model '{printable(getattr(model, 'name', 'model'))}'"


def convert_keras(model: Any, representative_data: np.ndarray | Sequence[np.ndarray], *,
                  quantize: str = "int8") -> bytes:
    """The .tflite bytes of a Keras model (a `keras.Model` or a `.keras`/`.h5` file name),
    quantized by TensorFlow's converter: `quantize="int8"` (full integer, int8 inputs and
    outputs) or `"16x8"` (int16 activations and inputs/outputs, int8 weights).
    `representative_data` calibrates the activation ranges: one array [N, ...input shape]
    for a one-input model, else a list of such arrays, one per input (same N); a few
    hundred typical inputs are plenty."""
    check_quantize(quantize)
    keras_model, label = _keras_model(model)
    data = ([representative_data] if isinstance(representative_data, np.ndarray)
            else list(representative_data))
    where = (["representative_data"] if len(data) == 1 else
             [f"representative_data[{i}]" for i in range(len(data))])
    arrays = calibration_arrays(keras_model, data, where, label)
    return convert(keras_model, arrays, quantize, label)


def from_keras(model: Any, representative_data: np.ndarray | Sequence[np.ndarray], *,
               quantize: str = "int8", opt: int = 2, target: str = "host",
               kernels: str = "auto", name: str = "model", **compile_options: Any) -> CompiledModel:
    """Quantize a Keras model with TensorFlow's converter (see `convert_keras`) and compile
    it as `utc.compile` does (same keyword options). Returns the `CompiledModel`:
    `m.report()`, `m.run(x)` (x quantized: `m.inputs[0]["quantization"]`), and
    `m.verify()` against TFLite Micro on the converted model."""
    check_quantize(quantize)
    keras_model, label = _keras_model(model)
    data = convert_keras(keras_model, representative_data, quantize=quantize)
    return compile(data, opt=opt, target=target, kernels=kernels, name=name,
                   source=compile_options.pop("source", label), **compile_options)


__all__ = ["convert_keras", "from_keras"]
