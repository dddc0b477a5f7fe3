"""Requantization factors in the precision the `tflite-micro` oracle uses.

TFLite Micro's source has switched between taking a ratio of float32 scales in float32
(`double(a / b)`) and in double (`double(a) / double(b)`, its PR #1501). The two differ in
the last bits of the Q31 multiplier for some scale pairs, and then in a few outputs by one.
The build utc is checked against computes in double for SUB, SVDF, RELU and LEAKY_RELU: these cases use
scale pairs (found by a seeded search) whose float32 and double multipliers differ *and*
give a different output for some input, run every input value through utc's code and
TFLite Micro, and so fail if utc computed the ratio in the other precision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.e2e.op_models import single_op
from tests.oracle import TflmRunner

#: (storage, input scale, input zero point, output scale, output zero point)
RELU_CASES = [
    ("int8", 0.044115785509347916, -61, 0.010643808171153069, -85),
    ("int8", 0.07799428701400757, -123, 0.0461726188659668, -9),
    ("int16", 0.08222322911024094, 0, 0.05061350762844086, 0),
    ("int16", 0.09587480872869492, 0, 0.06592724472284317, 0),
]


@pytest.mark.parametrize("case", RELU_CASES, ids=lambda c: f"{c[0]}-{c[1]:.4f}")
def test_relu_ratio_in_double(case: tuple, tmp_path: Path) -> None:
    storage, si, zi, so, zo = case
    dtype = np.dtype(storage)
    info = np.iinfo(dtype)
    x = np.arange(info.min, info.max + 1, 1 if storage == "int8" else 7, dtype=dtype)
    model = single_op("RELU", [((1, x.size), (si, zi))], [((1, x.size), (so, zo))],
                      qdtype=storage)
    path = tmp_path / "relu.tflite"
    path.write_bytes(model)
    got = compile_and_build(path, tmp_path).run([[x.reshape(1, -1)]])[0][0]
    want = TflmRunner(model).invoke([x.reshape(1, -1)])[0]
    bad = np.nonzero(got.ravel() != want.ravel())[0]
    assert bad.size == 0, f"{bad.size} outputs differ, first at input {x[bad[0]]}"


#: (input scale, input zero point, output scale, output zero point, alpha): the first and
#: last need the double alpha factor, the second the double identity factor
LEAKY_RELU_CASES = [
    (0.06240218132734299, -46, 0.06952571868896484, -72, 0.378400057554245),
    (0.08635779470205307, 82, 0.04216858744621277, 4, 0.3856467306613922),
    (0.08234576880931854, -58, 0.050203368067741394, -54, 0.23118962347507477),
]


@pytest.mark.parametrize("case", LEAKY_RELU_CASES, ids=lambda c: f"{c[0]:.4f}")
def test_leaky_relu_factors_in_double(case: tuple, tmp_path: Path) -> None:
    si, zi, so, zo, alpha = case
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, -1)
    model = single_op("LEAKY_RELU", [((1, 256), (si, zi))], [((1, 256), (so, zo))],
                      options={"alpha": alpha})
    path = tmp_path / "leaky_relu.tflite"
    path.write_bytes(model)
    got = compile_and_build(path, tmp_path).run([[x]])[0][0]
    want = TflmRunner(model).invoke([x])[0]
    bad = np.nonzero(got.ravel() != want.ravel())[0]
    assert bad.size == 0, f"{bad.size} outputs differ, first at input {x.ravel()[bad[0]]}"
