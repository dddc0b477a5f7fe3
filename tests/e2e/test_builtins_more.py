"""Operator sweep for the builtins added by issue 11 point 4: comparisons (EQUAL,
NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL), LOGICAL_AND / OR / NOT and
SELECT_V2, as single-operator models compiled by utc and compared bit-exactly with
TFLite Micro on seeded inputs.

Inputs are drawn from small value sets (not the dtype's whole range) so that equal pairs,
the case where comparisons and their rescaling differ, are frequent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.e2e.op_models import tensor as op_tensor
from tests.kernel_harness import seeded_rng
from tests.oracle import LiteRTRunner, TflmRunner
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

SEED = 20261204


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


def _draw(rng: np.random.Generator, shape, dtype: str) -> np.ndarray:
    """Values from a small set, so equal pairs are common."""
    shape = tuple(shape)
    if dtype == "int8":
        return rng.integers(-128, 128, size=shape).astype(np.int8) if rng.random() < 0.3 \
            else rng.integers(-6, 7, size=shape).astype(np.int8)
    if dtype == "int16":
        return rng.integers(-300, 301, size=shape).astype(np.int16)
    if dtype == "int32":
        return rng.integers(-5, 6, size=shape).astype(np.int32)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    return (rng.integers(-8, 9, size=shape) * 0.25).astype(np.float32)


def _compare_with_tflm(model: bytes, tmp_path: Path, make_sample: Callable[[], list[np.ndarray]],
                       samples: int = 8, oracle: str = "tflm") -> None:
    """Compile, run `samples` inputs from `make_sample`, and require every output to equal
    TFLite Micro's (or with `oracle="litert"` LiteRT's reference kernels') exactly (bool,
    integer and float32 alike)."""
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    batch = [make_sample() for _ in range(samples)]
    runner = TflmRunner(model) if oracle == "tflm" else LiteRTRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        want = runner.run(sample)
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.shape == tuple(w.shape), f"sample {i} output {k}: {g.shape} vs {w.shape}"
            assert g.dtype == w.dtype, f"sample {i} output {k}: {g.dtype} vs {w.dtype}"
            bad = int(np.sum(g != w))
            assert bad == 0, f"sample {i} output {k}: {bad} of {w.size} values differ"


def _refused(model: bytes, tmp_path: Path) -> str:
    """The one-line error utc prints for a model it refuses (exit status non-zero)."""
    import subprocess
    import sys

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _q(dtype: str, k: int) -> tuple[float, int] | None:
    """Quantization of input k: int8 inputs get different scales and zero points."""
    if dtype != "int8":
        return None
    return [(0.05, -3), (0.08, 10), (0.05, -3)][k]


# ---- comparisons ----------------------------------------------------------------------------

COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")
VERSION = {"int8": 2, "int32": 1, "float32": 1, "bool": 1}
COMPARE_SHAPES = {
    "same": ([2, 3, 4], [2, 3, 4]),
    "scalar": ([3, 5], [1]),
    "broadcast4d": ([2, 1, 3, 1], [1, 4, 1, 5]),
    "rank5_same": ([2, 1, 3, 2, 2], [2, 1, 3, 2, 2]),
}


def _binary_model(op: str, a_shape, b_shape, dtype: str, out_dtype: str,
                  qs: tuple = (None, None), const_rhs: np.ndarray | None = None,
                  version: int = 1) -> bytes:
    b = ModelBuilder(f"utc builtins sweep: {op}")
    x = op_tensor(b, "x0", a_shape, qs[0], dtype=dtype if qs[0] is None else "int8") \
        if dtype != "float32" else op_tensor(b, "x0", a_shape, None)
    if const_rhs is not None:
        y = op_tensor(b, "c1", b_shape, qs[1], const_rhs, dtype=dtype)
    else:
        y = op_tensor(b, "x1", b_shape, qs[1], dtype=dtype) if dtype != "float32" \
            else op_tensor(b, "x1", b_shape, None)
    out = list(np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
    o = op_tensor(b, "y", out, None, dtype=out_dtype)
    b.add_operator(op, [x, y], [o], None, version=version)
    return b.build([x] if const_rhs is not None else [x, y], [o])


def _check_comparison(op: str, dtype: str, a, b, qs, tmp_path: Path, *key) -> None:
    rng = _rng("compare", op, dtype, *key)
    model = _binary_model(op, a, b, dtype, "bool", qs, version=VERSION[dtype])
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, a, dtype), _draw(rng, b, dtype)])


@pytest.mark.parametrize("shapes", ["same", "broadcast4d"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "float32"])
@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison(op: str, dtype: str, shapes: str, tmp_path: Path) -> None:
    a, b = COMPARE_SHAPES[shapes]
    _check_comparison(op, dtype, a, b, (_q(dtype, 0), _q(dtype, 1)), tmp_path, shapes)


@pytest.mark.parametrize("shapes", ["scalar", "rank5_same"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "float32"])
@pytest.mark.parametrize("op", ["LESS_EQUAL", "NOT_EQUAL"])
def test_comparison_shapes(op: str, dtype: str, shapes: str, tmp_path: Path) -> None:
    a, b = COMPARE_SHAPES[shapes]
    _check_comparison(op, dtype, a, b, (_q(dtype, 0), _q(dtype, 1)), tmp_path, shapes)


COMPARE_QUANTIZATIONS = {
    # (lhs, rhs): the same quantization, extreme zero points, scales far apart, tiny scales
    "shared": ((0.05, -3), (0.05, -3)),
    "extreme_zp": ((0.02, -128), (0.03, 127)),
    "far_scales": ((0.9, 5), (0.004, -20)),
    "tiny": ((1e-5, 0), (3e-6, 2)),
}


@pytest.mark.parametrize("quant", sorted(COMPARE_QUANTIZATIONS))
@pytest.mark.parametrize("op", ["EQUAL", "GREATER", "LESS_EQUAL"])
def test_comparison_int8_quantization(op: str, quant: str, tmp_path: Path) -> None:
    a, b = COMPARE_SHAPES["same"]
    _check_comparison(op, "int8", a, b, COMPARE_QUANTIZATIONS[quant], tmp_path, quant)


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL"])
def test_comparison_bool(op: str, tmp_path: Path) -> None:
    a, b = COMPARE_SHAPES["broadcast4d"]
    _check_comparison(op, "bool", a, b, (None, None), tmp_path, "broadcast4d")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_comparison_constant_rhs(dtype: str, tmp_path: Path) -> None:
    rng = _rng("compare-const", dtype)
    a, b = [2, 3, 4], [4]
    model = _binary_model("GREATER_EQUAL", a, b, dtype, "bool", (_q(dtype, 0), _q(dtype, 1)),
                          const_rhs=_draw(rng, b, dtype), version=VERSION[dtype])
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, a, dtype)])


def test_comparison_refusals(tmp_path: Path) -> None:
    """What TFLite Micro does not run, or aborts on, is refused with one line naming the
    operator: a scale of one or more, bool LESS, broadcasting over five dimensions, and
    an int8 comparison written to a non-bool output."""
    line = _refused(_binary_model("LESS", [4], [4], "int8", "bool", ((1.5, 0), (0.1, 0)),
                                  version=2), tmp_path / "scale")
    assert "LESS" in line and "(0, 1)" in line, line
    line = _refused(_binary_model("LESS", [4], [4], "bool", "bool"), tmp_path / "bool")
    assert "LESS" in line and "BOOL is not supported" in line, line
    line = _refused(_binary_model("EQUAL", [2, 1, 3, 1, 2], [1, 2, 1, 3, 2], "float32",
                                  "bool"), tmp_path / "rank5")
    assert "EQUAL" in line and "4-D" in line, line
    line = _refused(_binary_model("EQUAL", [4], [4], "int32", "int32"), tmp_path / "out")
    assert "EQUAL" in line and "must be bool" in line, line


# ---- logical operators ----------------------------------------------------------------------

@pytest.mark.parametrize("shapes", ["same", "broadcast4d", "scalar"])
@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
def test_logical_binary(op: str, shapes: str, tmp_path: Path) -> None:
    a, b = COMPARE_SHAPES[shapes]
    rng = _rng("logical", op, shapes)
    model = _binary_model(op, a, b, "bool", "bool")
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, a, "bool"), _draw(rng, b, "bool")])


def test_logical_not(tmp_path: Path) -> None:
    rng = _rng("logical-not")
    b = ModelBuilder("utc builtins sweep: LOGICAL_NOT")
    x = op_tensor(b, "x", [3, 7], None, dtype="bool")
    y = op_tensor(b, "y", [3, 7], None, dtype="bool")
    b.add_operator("LOGICAL_NOT", [x], [y], None)
    _compare_with_tflm(b.build([x], [y]), tmp_path, lambda: [_draw(rng, [3, 7], "bool")])


def test_comparisons_chained(tmp_path: Path) -> None:
    """A small graph: (x < y) || !(x == z), bool tensors planned in the arena between
    operators, some written in place."""
    rng = _rng("chain")
    b = ModelBuilder("utc builtins sweep: chain")
    shape = [2, 5]
    x, y, z = (op_tensor(b, n, shape, None) for n in ("x", "y", "z"))
    lt, eq, ne, out = (op_tensor(b, n, shape, None, dtype="bool") for n in ("lt", "eq", "ne", "o"))
    b.add_operator("LESS", [x, y], [lt], None)
    b.add_operator("EQUAL", [x, z], [eq], None)
    b.add_operator("LOGICAL_NOT", [eq], [ne], None)
    b.add_operator("LOGICAL_OR", [lt, ne], [out], None)
    model = b.build([x, y, z], [out])
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, shape, "float32") for _ in range(3)])


# ---- SELECT_V2 ------------------------------------------------------------------------------

SELECT_SHAPES = {
    # condition, x, y
    "same": ([2, 3, 4], [2, 3, 4], [2, 3, 4]),
    "condition_broadcast": ([1, 4], [3, 4], [3, 4]),
    "all_broadcast": ([2, 1, 1], [1, 3, 1], [1, 1, 4]),
    "scalar_y": ([2, 5], [2, 5], [1]),
    "rank5": ([2, 1, 2, 1, 3], [1, 2, 1, 2, 3], [2, 2, 2, 2, 1]),
}


@pytest.mark.parametrize("shapes", sorted(SELECT_SHAPES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_select_v2(dtype: str, shapes: str, tmp_path: Path) -> None:
    c_shape, x_shape, y_shape = SELECT_SHAPES[shapes]
    rng = _rng("select", dtype, shapes)
    q = {"int8": (0.05, -3), "int16": (0.001, 0), "float32": None}[dtype]
    b = ModelBuilder("utc builtins sweep: SELECT_V2")
    c = op_tensor(b, "c", c_shape, None, dtype="bool")
    x = op_tensor(b, "x", x_shape, q, dtype=None if q is None else dtype)
    y = op_tensor(b, "y", y_shape, q, dtype=None if q is None else dtype)
    out = list(np.broadcast_shapes(tuple(c_shape), tuple(x_shape), tuple(y_shape)))
    o = op_tensor(b, "o", out, q, dtype=None if q is None else dtype)
    b.add_operator("SELECT_V2", [c, x, y], [o], None, version=2 if dtype == "int16" else 1)
    model = b.build([c, x, y], [o])
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, c_shape, "bool"),
                                                 _draw(rng, x_shape, dtype),
                                                 _draw(rng, y_shape, dtype)])


def test_select_v2_of_comparison(tmp_path: Path) -> None:
    """int8 where(x > y, x, y): the comparison's bool result feeds SELECT_V2 (a maximum)."""
    rng = _rng("select-compare")
    q = (0.05, -3)
    b = ModelBuilder("utc builtins sweep: where")
    x, y = op_tensor(b, "x", [4, 6], q), op_tensor(b, "y", [4, 6], q)
    gt = op_tensor(b, "gt", [4, 6], None, dtype="bool")
    o = op_tensor(b, "o", [4, 6], q)
    b.add_operator("GREATER", [x, y], [gt], None, version=2)
    b.add_operator("SELECT_V2", [gt, x, y], [o], None)
    model = b.build([x, y], [o])
    _compare_with_tflm(model, tmp_path, lambda: [_draw(rng, [4, 6], "int8"),
                                                 _draw(rng, [4, 6], "int8")])


def test_select_v2_refusals(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: SELECT_V2 int32")
    c = op_tensor(b, "c", [4], None, dtype="bool")
    x, y, o = (op_tensor(b, n, [4], None, dtype="int32") for n in ("x", "y", "o"))
    b.add_operator("SELECT_V2", [c, x, y], [o], None)
    line = _refused(b.build([c, x, y], [o]), tmp_path)
    assert "SELECT_V2" in line and "INT32 is not supported" in line, line


# ---- SUM and REDUCE_MAX ---------------------------------------------------------------------

REDUCE_CASES = {
    # input shape, axes, keep_dims
    "spatial_keep": ([1, 4, 5, 3], [1, 2], True),
    "last": ([2, 3, 6], [-1], False),
    "first_and_last": ([3, 2, 4], [0, 2], False),
    "all": ([2, 3, 2], [0, 1, 2], True),
    "repeated_negative": ([2, 5, 3], [1, -2], False),
}


def _reduce_model(op: str, case: str, dtype: str, q_in, q_out, version: int) -> tuple:
    shape, axes, keep = REDUCE_CASES[case]
    rank = len(shape)
    resolved = {a % rank for a in axes}
    out = [1 if k in resolved else d for k, d in enumerate(shape)] if keep else \
        [d for k, d in enumerate(shape) if k not in resolved]
    b = ModelBuilder(f"utc builtins sweep: {op}")
    x = op_tensor(b, "x", shape, q_in, dtype=None if q_in is None else dtype)
    a = op_tensor(b, "axes", [len(axes)], None, np.array(axes), dtype="int32")
    y = op_tensor(b, "y", out, q_out, dtype=None if q_out is None else dtype)
    b.add_operator(op, [x, a], [y], {"keep_dims": keep}, version=version)
    return b.build([x], [y]), shape


def _full_range(rng: np.random.Generator, shape, dtype: str) -> np.ndarray:
    if dtype == "float32":
        return (rng.standard_normal(tuple(shape)) * 3).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=tuple(shape), endpoint=True).astype(dtype)


SUM_QUANT = {
    "int8": ((0.05, -3), (0.4, 7)),
    "int16": ((0.001, 0), (0.01, 0)),
    "float32": (None, None),
}


@pytest.mark.parametrize("case", sorted(REDUCE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_sum(dtype: str, case: str, tmp_path: Path) -> None:
    q_in, q_out = SUM_QUANT[dtype]
    model, shape = _reduce_model("SUM", case, dtype, q_in, q_out, 1 if dtype == "float32" else 2)
    rng = _rng("sum", dtype, case)
    _compare_with_tflm(model, tmp_path, lambda s=shape, d=dtype: [_full_range(rng, s, d)])


@pytest.mark.parametrize("quant", ["same", "multiplier_above_one", "extreme_zp"])
def test_sum_int8_quantization(quant: str, tmp_path: Path) -> None:
    q_in, q_out = {"same": ((0.05, -3), (0.05, -3)),
                   "multiplier_above_one": ((0.05, 4), (0.02, -10)),
                   "extreme_zp": ((0.03, -128), (0.2, 127))}[quant]
    model, shape = _reduce_model("SUM", "last", "int8", q_in, q_out, 2)
    rng = _rng("sum-q", quant)
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, shape, "int8")])


@pytest.mark.parametrize("case", sorted(REDUCE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_reduce_max(dtype: str, case: str, tmp_path: Path) -> None:
    q = (0.05, -3) if dtype == "int8" else None
    model, shape = _reduce_model("REDUCE_MAX", case, dtype, q, q, 2 if dtype == "int8" else 1)
    rng = _rng("reduce-max", dtype, case)
    _compare_with_tflm(model, tmp_path, lambda s=shape, d=dtype: [_full_range(rng, s, d)])


def test_reduction_refusals(tmp_path: Path) -> None:
    model, _ = _reduce_model("REDUCE_MAX", "last", "int8", (0.05, -3), (0.1, -3), 2)
    line = _refused(model, tmp_path / "max")
    assert "REDUCE_MAX" in line and "share one quantization" in line, line
    model, _ = _reduce_model("SUM", "all", "int8", (0.5, 0), (1e-7, 0), 2)
    line = _refused(model, tmp_path / "sum")
    assert "SUM" in line and "overflows int32" in line, line


# ---- CAST -----------------------------------------------------------------------------------

CAST_PAIRS = [(a, b) for a in ("bool", "int8", "int16", "int32", "float32")
              for b in ("int8", "int16", "int32", "float32") if a != b]


def _cast_input(rng: np.random.Generator, shape, src: str, dst: str) -> np.ndarray:
    """Values every target type holds (TFLite Micro's float -> int cast is undefined out of
    range; integer narrowing wraps and is compared over the whole source range)."""
    if src == "float32":
        hi = {"int8": 127, "int16": 32767, "int32": 2**31 - 128, "float32": 1e6}[dst]
        return np.clip(rng.standard_normal(tuple(shape)) * hi / 3, -hi, hi).astype(np.float32)
    if src == "bool":
        return rng.integers(0, 2, size=tuple(shape)).astype(np.bool_)
    return _full_range(rng, shape, src)


@pytest.mark.parametrize("src,dst", CAST_PAIRS)
def test_cast(src: str, dst: str, tmp_path: Path) -> None:
    shape = [3, 7]
    b = ModelBuilder("utc builtins sweep: CAST")
    x = op_tensor(b, "x", shape, None, dtype=src)
    y = op_tensor(b, "y", shape, None, dtype=dst)
    b.add_operator("CAST", [x], [y], None)
    model = b.build([x], [y])
    rng = _rng("cast", src, dst)
    _compare_with_tflm(model, tmp_path, lambda: [_cast_input(rng, shape, src, dst)])


def test_cast_refusals(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: CAST to bool")
    x = op_tensor(b, "x", [4], None, dtype="int32")
    y = op_tensor(b, "y", [4], None, dtype="bool")
    b.add_operator("CAST", [x], [y], None)
    line = _refused(b.build([x], [y]), tmp_path)
    assert "CAST" in line and "output type BOOL is not supported" in line, line


# ---- SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (views, a pad or crop, one transpose) ----------

SPACE_TO_BATCH_CASES = {
    # input shape, block shape, paddings
    "plain": ([1, 4, 4, 3], [2, 2], [[0, 0], [0, 0]]),
    "padded": ([2, 5, 3, 2], [2, 3], [[1, 0], [2, 1]]),
    "rank3": ([2, 6, 4], [3], [[0, 0]]),
    "rank3_padded": ([1, 5, 2], [2], [[0, 1]]),
}
BATCH_TO_SPACE_CASES = {
    # input shape, block shape, crops
    "plain": ([4, 2, 2, 3], [2, 2], [[0, 0], [0, 0]]),
    "padded": ([12, 3, 2, 2], [2, 3], [[1, 0], [2, 1]]),  # cropped
    "rank3": ([6, 2, 4], [3], [[0, 0]]),
    "rank3_padded": ([2, 3, 2], [2], [[1, 2]]),  # cropped
}


def _batch_space_out(op: str, shape, block, pairs) -> list[int]:
    from utc.compiler.importers import rearrange

    fn = rearrange.space_to_batch_plan if op == "SPACE_TO_BATCH_ND" else \
        rearrange.batch_to_space_plan
    return list(fn(tuple(shape), block, pairs).output)


@pytest.mark.parametrize("case", sorted(SPACE_TO_BATCH_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"])
def test_batch_space(op: str, dtype: str, case: str, tmp_path: Path) -> None:
    cases = SPACE_TO_BATCH_CASES if op == "SPACE_TO_BATCH_ND" else BATCH_TO_SPACE_CASES
    shape, block, pairs = cases[case]
    q = (0.05, -3) if dtype == "int8" else None
    b = ModelBuilder(f"utc builtins sweep: {op}")
    x = op_tensor(b, "x", shape, q)
    bs = op_tensor(b, "block", [len(block)], None, np.array(block), dtype="int32")
    pd = op_tensor(b, "pairs", [len(pairs), 2], None, np.array(pairs), dtype="int32")
    y = op_tensor(b, "y", _batch_space_out(op, shape, block, pairs), q)
    b.add_operator(op, [x, bs, pd], [y], None, version=2 if dtype == "int8" else 1)
    model = b.build([x], [y])
    rng = _rng("batch-space", op, dtype, case)
    # TFLite Micro leaves SPACE_TO_BATCH_ND's pad value unset (its padded elements are
    # undefined): padded cases are compared with LiteRT, which pads with the zero point
    padded = op == "SPACE_TO_BATCH_ND" and any(v for p in pairs for v in p)
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, shape, dtype)],
                       oracle="litert" if padded else "tflm")


def test_batch_space_round_trip(tmp_path: Path) -> None:
    """SPACE_TO_BATCH_ND then BATCH_TO_SPACE_ND with the same block and crops equal to
    the paddings (how converters write dilated convolutions) gives the input back: the
    padded elements are cropped away, so TFLite Micro is the oracle."""
    rng = _rng("batch-space-round-trip")
    for dtype, q in (("int8", (0.05, -3)), ("float32", None)):
        b = ModelBuilder("utc builtins sweep: dilation pattern")
        shape, block, pads = [1, 5, 6, 2], [2, 2], [[1, 0], [0, 2]]
        mid_shape = _batch_space_out("SPACE_TO_BATCH_ND", shape, block, pads)
        x = op_tensor(b, "x", shape, q)
        bs = op_tensor(b, "block", [2], None, np.array(block), dtype="int32")
        pd = op_tensor(b, "pads", [2, 2], None, np.array(pads), dtype="int32")
        mid = op_tensor(b, "mid", mid_shape, q)
        y = op_tensor(b, "y", shape, q)
        version = 2 if q else 1
        b.add_operator("SPACE_TO_BATCH_ND", [x, bs, pd], [mid], None, version=version)
        b.add_operator("BATCH_TO_SPACE_ND", [mid, bs, pd], [y], None, version=version)
        model = b.build([x], [y])
        (tmp_path / dtype).mkdir()
        _compare_with_tflm(model, tmp_path / dtype, lambda s=shape, d=dtype: [_full_range(rng, s, d)])


# ---- GATHER_ND (constant indices: one GATHER on a view) -------------------------------------

GATHER_ND_CASES = {
    # params shape, indices shape (last dimension: index depth)
    "rows": ([5, 3], [4, 1]),
    "elements": ([4, 6], [3, 2]),
    "full_depth_3d": ([2, 3, 4], [5, 3]),
    "slices_batched": ([3, 4, 2, 2], [2, 3, 2]),
    "single_tuple": ([4, 5, 3], [2]),
}


@pytest.mark.parametrize("case", sorted(GATHER_ND_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_gather_nd(dtype: str, case: str, tmp_path: Path) -> None:
    shape, idx_shape = GATHER_ND_CASES[case]
    rng = _rng("gather-nd", dtype, case)
    k = idx_shape[-1]
    indices = np.stack([rng.integers(0, shape[j], size=idx_shape[:-1]) for j in range(k)], -1)
    q = (0.05, -3) if dtype == "int8" else None
    b = ModelBuilder("utc builtins sweep: GATHER_ND")
    x = op_tensor(b, "x", shape, q)
    i = op_tensor(b, "i", idx_shape, None, indices.reshape(idx_shape), dtype="int32")
    y = op_tensor(b, "y", idx_shape[:-1] + shape[k:], q)
    b.add_operator("GATHER_ND", [x, i], [y], None, version=2 if q else 1)
    model = b.build([x], [y])
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, shape, dtype)])


def test_gather_nd_refusals(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: GATHER_ND computed")
    x = op_tensor(b, "x", [4, 3], None)
    i = op_tensor(b, "i", [2, 1], None, dtype="int32")
    y = op_tensor(b, "y", [2, 3], None)
    b.add_operator("GATHER_ND", [x, i], [y], None)
    line = _refused(b.build([x, i], [y]), tmp_path / "computed")
    assert "GATHER_ND" in line and "computed indices" in line, line
    b = ModelBuilder("utc builtins sweep: GATHER_ND out of range")
    x = op_tensor(b, "x", [4, 3], None)
    i = op_tensor(b, "i", [2, 1], None, np.array([[1], [4]]), dtype="int32")
    y = op_tensor(b, "y", [2, 3], None)
    b.add_operator("GATHER_ND", [x, i], [y], None)
    line = _refused(b.build([x], [y]), tmp_path / "range")
    assert "GATHER_ND" in line and "outside" in line, line


# ---- RESIZE_BILINEAR ------------------------------------------------------------------------

RESIZE_CASES = {
    # input shape, output size
    "up2x": ([1, 3, 4, 2], [6, 8]),
    "up_odd": ([2, 3, 5, 3], [7, 4]),
    "down": ([1, 8, 6, 2], [3, 4]),
    "to_one": ([1, 4, 4, 1], [1, 5]),
}
RESIZE_MODES = {"default": (False, False), "align_corners": (True, False),
                "half_pixel_centers": (False, True)}


@pytest.mark.parametrize("mode", sorted(RESIZE_MODES))
@pytest.mark.parametrize("case", sorted(RESIZE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_resize_bilinear(dtype: str, case: str, mode: str, tmp_path: Path) -> None:
    shape, size = RESIZE_CASES[case]
    align, half = RESIZE_MODES[mode]
    q = (0.05, -3) if dtype == "int8" else None
    b = ModelBuilder("utc builtins sweep: RESIZE_BILINEAR")
    x = op_tensor(b, "x", shape, q)
    s = op_tensor(b, "size", [2], None, np.array(size), dtype="int32")
    y = op_tensor(b, "y", [shape[0], *size, shape[3]], q)
    b.add_operator("RESIZE_BILINEAR", [x, s], [y],
                   {"align_corners": align, "half_pixel_centers": half},
                   version=3 if half else (2 if q else 1))
    model = b.build([x], [y])
    rng = _rng("resize-bilinear", dtype, case, mode)
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, shape, dtype)])


def test_resize_bilinear_refusals(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: RESIZE_BILINEAR both")
    x = op_tensor(b, "x", [1, 2, 2, 1], None)
    s = op_tensor(b, "size", [2], None, np.array([4, 4]), dtype="int32")
    y = op_tensor(b, "y", [1, 4, 4, 1], None)
    b.add_operator("RESIZE_BILINEAR", [x, s], [y], {"align_corners": True,
                                                     "half_pixel_centers": True}, version=3)
    line = _refused(b.build([x], [y]), tmp_path)
    assert "RESIZE_BILINEAR" in line and "half_pixel_centers" in line, line


# ---- ELU (int8: a 256-entry table computed at compile time) ---------------------------------

ELU_QUANT = {
    "typical": ((0.05, -3), (0.04, 20)),
    "wide": ((0.2, 10), (0.1, -60)),
    "narrow": ((0.005, -128), (0.004, 0)),
    "same": ((0.03, 5), (0.03, 5)),
}


@pytest.mark.parametrize("quant", sorted(ELU_QUANT))
def test_elu_int8_every_input(quant: str, tmp_path: Path) -> None:
    """Every one of the 256 int8 inputs, for four quantizations."""
    q_in, q_out = ELU_QUANT[quant]
    b = ModelBuilder("utc builtins sweep: ELU")
    x, y = op_tensor(b, "x", [256], q_in), op_tensor(b, "y", [256], q_out)
    b.add_operator("ELU", [x], [y], None, version=2)
    model = b.build([x], [y])
    rng = _rng("elu", quant)
    _compare_with_tflm(model, tmp_path, lambda: [rng.permutation(256).astype(np.int8)], samples=2)


def test_elu_float32(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: ELU float")
    x, y = op_tensor(b, "x", [4, 33], None), op_tensor(b, "y", [4, 33], None)
    b.add_operator("ELU", [x], [y], None)
    model = b.build([x], [y])
    rng = _rng("elu-f32")
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, [4, 33], "float32")])


# ---- CUMSUM ---------------------------------------------------------------------------------

CUMSUM_CASES = {
    # shape, axis
    "last": ([2, 3, 7], -1),
    "first": ([6, 4], 0),
    "middle": ([2, 9, 3], 1),
}


@pytest.mark.parametrize("flags", ["plain", "exclusive", "reverse", "exclusive_reverse"])
@pytest.mark.parametrize("case", sorted(CUMSUM_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_cumsum(dtype: str, case: str, flags: str, tmp_path: Path) -> None:
    shape, axis = CUMSUM_CASES[case]
    q_in, q_out = ((0.05, -3), (0.3, 6)) if dtype == "int8" else (None, None)
    b = ModelBuilder("utc builtins sweep: CUMSUM")
    x = op_tensor(b, "x", shape, q_in)
    a = op_tensor(b, "axis", [], None, np.array(axis), dtype="int32")
    y = op_tensor(b, "y", shape, q_out)
    b.add_operator("CUMSUM", [x, a], [y], {"exclusive": "exclusive" in flags,
                                          "reverse": "reverse" in flags})
    model = b.build([x], [y])
    rng = _rng("cumsum", dtype, case, flags)
    _compare_with_tflm(model, tmp_path, lambda: [_full_range(rng, shape, dtype)])


def test_cumsum_refusals(tmp_path: Path) -> None:
    b = ModelBuilder("utc builtins sweep: CUMSUM long int8 axis")
    x = op_tensor(b, "x", [2, 16], (0.05, 0))
    a = op_tensor(b, "axis", [], None, np.array(1), dtype="int32")
    y = op_tensor(b, "y", [2, 16], (0.5, 0))
    b.add_operator("CUMSUM", [x, a], [y], None)
    line = _refused(b.build([x], [y]), tmp_path)
    assert "CUMSUM" in line and "overflow" in line, line


# ---- int8 ABS (TFLite Micro's integer arithmetic as a 256-entry table) ----------------------

ABS_QUANT = {
    "same": ((0.05, -3), (0.05, -3)),
    "rescaled": ((0.05, -3), (0.03, -128)),
    "multiplier_above_one": ((0.08, 20), (0.02, -100)),
    "extreme_zp": ((0.02, 127), (0.03, -128)),
}


@pytest.mark.parametrize("quant", sorted(ABS_QUANT))
def test_abs_int8_every_input(quant: str, tmp_path: Path) -> None:
    q_in, q_out = ABS_QUANT[quant]
    b = ModelBuilder("utc builtins sweep: ABS")
    x, y = op_tensor(b, "x", [256], q_in), op_tensor(b, "y", [256], q_out)
    b.add_operator("ABS", [x], [y], None, version=2)
    model = b.build([x], [y])
    rng = _rng("abs", quant)
    _compare_with_tflm(model, tmp_path, lambda: [rng.permutation(256).astype(np.int8)], samples=2)
