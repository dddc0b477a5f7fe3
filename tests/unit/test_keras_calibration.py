"""The Keras path's checks that need no TensorFlow (utc.compiler.driver.keras): which files
take it, and the calibration samples against a model's inputs (a stand-in object with
the `inputs[i].shape` a Keras model has), each refusal one line naming the array."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from utc.compiler.driver.keras import calibration_arrays, is_keras_file, keras_model_bytes
from utc.compiler.errors import UsageError


def _model(*shapes):
    return SimpleNamespace(inputs=[SimpleNamespace(shape=s, name=f"in{i}") for i, s in enumerate(shapes)])


def test_keras_files_by_suffix():
    assert is_keras_file("m.keras") and is_keras_file("dir/M.H5") and is_keras_file("m.hdf5")
    assert not is_keras_file("m.tflite") and not is_keras_file("keras")


def test_free_dimensions_take_the_samples_and_numbers_become_float32():
    (x,) = calibration_arrays(_model((None, 4, None)), [np.ones((3, 4, 7), np.uint8)], ["a"], "m")
    assert x.dtype == np.float32 and x.shape == (3, 4, 7)
    a, b = calibration_arrays(_model((None, 2), (None, 3)), [np.zeros((5, 2)), np.zeros((5, 3))],
                              ["a", "b"], "m")
    assert a.shape == (5, 2) and b.shape == (5, 3)


@pytest.mark.parametrize("shapes, data, message", [
    (((None, 4),), [np.zeros((3, 5))], "a: shape [3, 5] does not fit the model's input 0 "
     "[None, 4]: give [N, 4], N >= 1 samples"),
    (((None, 4),), [np.zeros(4)], "a: shape [4] does not fit"),
    (((None, 4),), [np.array([["x"] * 4])], "a: calibration samples must be numbers, got dtype <U1"),
    (((None, 4),), [np.array([[1, 2, np.inf, 4]])], "a: calibration samples must be finite"),
    (((None, 4),), [np.array([[1e300] * 4])], "a: calibration samples must be finite"),
    (((None, 2), (None, 2)), [np.zeros((2, 2)), np.zeros((3, 2))],
     "b: 3 samples, but the first calibration array has 2 (the same N for every input)"),
    (((None, 2), (None, 2)), [np.zeros((2, 2))], "m: the model has 2 input(s), got 1 calibration"),
    ((), [np.zeros((2, 2))], "m: the Keras model has no defined inputs"),
])
def test_bad_calibration_is_one_line(shapes, data, message):
    with pytest.raises(UsageError) as caught:
        calibration_arrays(_model(*shapes), data, ["a", "b"][:len(data)], "m")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_tflite_models_refuse_keras_options_and_need_no_tensorflow():
    assert keras_model_bytes("m.tflite", None, [], None, 1 << 20) is None
    with pytest.raises(UsageError, match=r"^--quantize applies to a Keras model"):
        keras_model_bytes("m.tflite", None, [], "16x8", 1 << 20)
    with pytest.raises(UsageError, match=r"^m\.keras: a Keras model is quantized with "
                       r"representative inputs: give --calibration"):
        keras_model_bytes("m.keras", None, [], None, 1 << 20)
