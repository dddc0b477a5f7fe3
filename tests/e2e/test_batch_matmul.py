"""BATCH_MATMUL: int8, 16x8 (int16 operands) and float32, with adj_x/adj_y, broadcast batch
dimensions (ranks 2 to 5) and a constant right-hand side, compiled by utc and compared with
TFLite Micro on seeded random inputs (int16 uniform over the whole range): bit-exact,
float32 included (the same product-then-add order)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from utc.dialects.common import batch_matmul_shape

from tests.e2e.op_models import check_against_oracle
from tests.kernel_harness import seeded_rng
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

SEED = 20261206


def batch_matmul_model(dtype: str, lhs: list[int], rhs: list[int], adj_x: bool = False,
                       adj_y: bool = False, const_rhs: bool = False,
                       zps: tuple[int, int, int] = (0, 0, 0)) -> bytes:
    rng = seeded_rng(SEED, dtype, *lhs, "x", *rhs, adj_x, adj_y, const_rhs, *zps)
    out = list(batch_matmul_shape(tuple(lhs), tuple(rhs), adj_x, adj_y))
    depth = lhs[-2] if adj_x else lhs[-1]
    b = ModelBuilder(f"utc BATCH_MATMUL {dtype}")
    if dtype == "float32":
        x = b.add_tensor("lhs", lhs, "float32")
        data = rng.normal(0, 1, rhs).astype(np.float32) if const_rhs else None
        w = b.add_tensor("rhs", rhs, "float32", data=data)
        y = b.add_tensor("y", out, "float32")
    else:
        ls, rs = float(rng.uniform(0.01, 0.05)), float(rng.uniform(0.01, 0.05))
        qmax = 127 if dtype == "int8" else 32767
        # the product of two full-range operands over `depth` terms, spread over the output
        os_ = ls * rs * qmax * math.sqrt(depth) / 3
        x = b.add_tensor("lhs", lhs, dtype, scale=ls, zero_point=zps[0])
        data = rng.integers(-qmax, qmax + 1, size=rhs) if const_rhs else None
        w = b.add_tensor("rhs", rhs, dtype, data=data, scale=rs, zero_point=zps[1])
        y = b.add_tensor("y", out, dtype, scale=os_, zero_point=zps[2])
    b.add_operator("BATCH_MATMUL", [x, w], [y], {"adj_x": adj_x, "adj_y": adj_y},
                   version={"float32": 1, "int8": 2, "int16": 3}[dtype])
    return b.build([x] if const_rhs else [x, w], [y])


#: (lhs shape, rhs shape) before adj_x/adj_y transpose them
SHAPES = {
    "2d": ([5, 7], [7, 3]),
    "3d": ([2, 4, 6], [2, 6, 5]),
    "broadcast-rhs": ([3, 4, 6], [6, 5]),
    "broadcast-lhs": ([4, 6], [3, 6, 5]),
    "broadcast-both": ([2, 1, 3, 8], [1, 4, 8, 2]),
    "rank5": ([2, 1, 2, 3, 4], [1, 3, 1, 4, 3]),
    "depth1": ([3, 5, 1], [3, 1, 4]),
    "long-depth": ([1, 2, 300], [1, 300, 3]),
}


def _adjust(shape: list[int], adj: bool) -> list[int]:
    return shape[:-2] + [shape[-1], shape[-2]] if adj else shape


@pytest.mark.parametrize("adj", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("case", sorted(SHAPES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_batch_matmul(dtype: str, case: str, adj: tuple[bool, bool], tmp_path: Path) -> None:
    lhs, rhs = SHAPES[case]
    model = batch_matmul_model(dtype, _adjust(lhs, adj[0]), _adjust(rhs, adj[1]), *adj)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("adj_y", [False, True])
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_batch_matmul_constant_rhs(dtype: str, adj_y: bool, tmp_path: Path) -> None:
    model = batch_matmul_model(dtype, [2, 3, 16], _adjust([16, 5], adj_y), False, adj_y,
                               const_rhs=True)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("zps", [(-5, 3, 7), (127, -128, -128), (-128, 0, 127)])
def test_batch_matmul_int8_zero_points(zps, tmp_path: Path) -> None:
    check_against_oracle(batch_matmul_model("int8", [2, 3, 9], [2, 9, 4], zps=zps), tmp_path)


def test_batch_matmul_16x8_needs_zero_points_0(tmp_path: Path) -> None:
    from tests.e2e.test_int16 import _compile_error

    line = _compile_error(batch_matmul_model("int16", [2, 3], [3, 2], zps=(0, 0, 4)), tmp_path)
    assert "BATCH_MATMUL" in line and "zero points must be 0" in line, line


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_batch_matmul_on_cortex_m4(dtype: str, tmp_path: Path) -> None:
    """Cross-built for Cortex-M4, run on QEMU, bit-exact with TFLite Micro."""
    from tests.e2e.test_cortex_m import lcg_inputs, run_on_qemu
    from tests.oracle import TflmRunner

    model = batch_matmul_model(dtype, [2, 1, 3, 8], [1, 4, 2, 8], adj_y=True)
    path = tmp_path / "bmm.tflite"
    path.write_bytes(model)
    _, ins, _, run = run_on_qemu(path, "cortex-m4", "auto", tmp_path / "work")
    assert run.status == 0 and run.instructions > 0
    want = TflmRunner(model).run(lcg_inputs(ins))
    assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]
