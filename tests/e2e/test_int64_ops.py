"""int64 (unquantized) tensors, against TFLite Micro: every builtin whose TFLite Micro kernel
has an int64 case.

The list comes from TFLite Micro's kernels (`tensorflow/lite/micro/kernels/*.cc`, the cases
on `kTfLiteInt64`): its int64 *data* is compared (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL,
GREATER, GREATER_EQUAL), reduced pairwise (MAXIMUM, MINIMUM), and moved (CONCATENATION,
PACK, ZEROS_LIKE, and RESHAPE, SQUEEZE and BROADCAST_TO, which copy bytes of any type);
its int64 *index* inputs are FILL's dims, BROADCAST_TO's shape and MIRROR_PAD's paddings,
which utc reads as constants. TFLite Micro has no int64 arithmetic (ADD, SUB, MUL, ...),
UNPACK, SPLIT, GATHER, ARG_MAX output or CAST, so utc refuses those (checked below), and
REVERSE_V2, SLICE, DYNAMIC_UPDATE_SLICE and BROADCAST_ARGS are not in utc for any dtype.

Every model is built by the suite's writer; inputs are seeded int64 values over the whole
range, mixed with small ones and with values that differ from the other operand only in
their upper 32 bits (a kernel that truncated to int32 would be caught).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner
from tests.tflite_writer import ModelBuilder

INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")


def _check(model: bytes, tmp_path: Path, samples: list[list[np.ndarray]], what: str,
           opt_level: int = 2) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    got = compile_and_build(path, tmp_path, opt_level=opt_level).run(samples)
    tflm = TflmRunner(model)
    for i, (sample, g_outs) in enumerate(zip(samples, got, strict=True)):
        w_outs = tflm.invoke(sample)
        for k, (g, w) in enumerate(zip(g_outs, w_outs, strict=True)):
            assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: sample {i} output {k}"
            assert np.array_equal(g, w), (f"{what}: sample {i} output {k} differs at "
                                          f"{np.flatnonzero(g.ravel() != w.ravel())[:8]}:\n"
                                          f"utc  {g.ravel()[:8]}\nTFLM {w.ravel()[:8]}")


def _ints(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Seeded int64 values: the whole range, small values, and values near +-2^32."""
    shape = tuple(shape)
    wide = rng.integers(INT64_MIN, INT64_MAX, size=shape, dtype=np.int64, endpoint=True)
    small = rng.integers(-5, 6, size=shape, dtype=np.int64)
    high = rng.integers(-3, 4, size=shape, dtype=np.int64) * (1 << 32) + small
    pick = rng.integers(0, 3, size=shape)
    return np.where(pick == 0, wide, np.where(pick == 1, small, high))


def _pair(rng: np.random.Generator, a_shape: Sequence[int],
          b_shape: Sequence[int]) -> list[np.ndarray]:
    """Two operands where many elements are equal, or equal in their low 32 bits."""
    a, b = _ints(rng, a_shape), _ints(rng, b_shape)
    if tuple(a_shape) == tuple(b_shape):
        mode = rng.integers(0, 3, size=a.shape)
        b = np.where(mode == 0, a, np.where(mode == 1, a + (np.int64(1) << 32), b))
    return [a, b]


def _binary(op: str, a_shape: Sequence[int], b_shape: Sequence[int], out_shape: Sequence[int],
            out_dtype: str, version: int) -> bytes:
    b = ModelBuilder(f"utc int64 sweep: {op}")
    x0, x1 = b.add_tensor("x0", list(a_shape), "int64"), b.add_tensor("x1", list(b_shape), "int64")
    y = b.add_tensor("y", list(out_shape), out_dtype)
    b.add_operator(op, [x0, x1], [y], version=version)
    return b.build([x0, x1], [y])


SHAPES = [([2, 3, 4], [2, 3, 4], [2, 3, 4]),       # same shape: the flat loop
          ([2, 3, 4], [4], [2, 3, 4]),             # a broadcast row
          ([2, 1, 4], [3, 1], [2, 3, 4]),          # two-way broadcasting
          ([1, 2, 1, 3], [2, 1, 2, 1], [2, 2, 2, 3]),  # 4-D, the most TFLite Micro broadcasts
          ([7], [1], [7])]                         # a one-element operand


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "x".join(map(str, s[0])) + "_"
                         + "x".join(map(str, s[1])))
def test_int64_comparison(op: str, shapes: tuple, tmp_path: Path) -> None:
    a_shape, b_shape, out_shape = shapes
    rng = np.random.default_rng(640 + COMPARISONS.index(op))
    # EQUAL/NOT_EQUAL: version 3 is int64 in op_version.cc; the others accept it at 2
    model = _binary(op, a_shape, b_shape, out_shape, "bool", 3 if "EQUAL" in op else 2)
    _check(model, tmp_path, [_pair(rng, a_shape, b_shape) for _ in range(4)],
           f"int64 {op} {a_shape} {b_shape}")


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shapes", [*SHAPES, ([1, 2, 1, 2, 3], [2, 1, 3, 1, 1], [2, 2, 3, 2, 3])],
                         ids=lambda s: "x".join(map(str, s[0])) + "_" + "x".join(map(str, s[1])))
def test_int64_maximum_minimum(op: str, shapes: tuple, tmp_path: Path) -> None:
    a_shape, b_shape, out_shape = shapes
    rng = np.random.default_rng(650 + len(a_shape))
    model = _binary(op, a_shape, b_shape, out_shape, "int64", 4)
    _check(model, tmp_path, [_pair(rng, a_shape, b_shape) for _ in range(4)],
           f"int64 {op} {a_shape} {b_shape}")


def test_int64_maximum_in_place_chain(tmp_path: Path) -> None:
    """MAXIMUM then MINIMUM then EQUAL on the dying results (the in-place claim of the
    int64 kernels, which the planner uses), at -O0 and -O2."""
    rng = np.random.default_rng(660)
    b = ModelBuilder("utc int64 sweep: chain")
    xs = [b.add_tensor(f"x{k}", [3, 5], "int64") for k in range(3)]
    hi, lo = b.add_tensor("hi", [3, 5], "int64"), b.add_tensor("lo", [3, 5], "int64")
    eq = b.add_tensor("eq", [3, 5], "bool")
    b.add_operator("MAXIMUM", [xs[0], xs[1]], [hi], version=4)
    b.add_operator("MINIMUM", [hi, xs[2]], [lo], version=4)
    b.add_operator("EQUAL", [lo, xs[2]], [eq], version=3)
    model = b.build(xs, [lo, eq])
    samples = [[_ints(rng, [3, 5]) for _ in range(3)] for _ in range(3)]
    for level in (0, 2):
        _check(model, tmp_path / f"O{level}", samples, f"int64 chain -O{level}", opt_level=level)


@pytest.mark.parametrize("shapes,axis,out", [
    ([[2, 3], [2, 5]], 1, [2, 8]), ([[1, 4], [3, 4], [2, 4]], 0, [6, 4]),
    ([[2, 1, 3], [2, 2, 3]], -2, [2, 3, 3])])
def test_int64_concatenation(shapes: list, axis: int, out: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(670 + len(shapes))
    b = ModelBuilder("utc int64 sweep: CONCATENATION")
    xs = [b.add_tensor(f"x{k}", s, "int64") for k, s in enumerate(shapes)]
    y = b.add_tensor("y", out, "int64")
    b.add_operator("CONCATENATION", xs, [y], {"axis": axis}, version=3)
    _check(b.build(xs, [y]), tmp_path, [[_ints(rng, s) for s in shapes] for _ in range(3)],
           f"int64 CONCATENATION axis {axis}")


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_int64_pack(axis: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(680 + axis)
    b = ModelBuilder("utc int64 sweep: PACK")
    xs = [b.add_tensor(f"x{k}", [2, 3], "int64") for k in range(3)]
    shape = [2, 3]
    shape.insert(axis, 3)
    y = b.add_tensor("y", shape, "int64")
    b.add_operator("PACK", xs, [y], {"values_count": 3, "axis": axis}, version=3)
    _check(b.build(xs, [y]), tmp_path, [[_ints(rng, [2, 3]) for _ in range(3)] for _ in range(3)],
           f"int64 PACK axis {axis}")


def test_int64_views_broadcast_and_zeros_like(tmp_path: Path) -> None:
    """RESHAPE and SQUEEZE (views), BROADCAST_TO with an int64 shape, ZEROS_LIKE (folded),
    each feeding an int64 MAXIMUM so the views are read by a kernel."""
    rng = np.random.default_rng(690)
    b = ModelBuilder("utc int64 sweep: RESHAPE, SQUEEZE, BROADCAST_TO, ZEROS_LIKE")
    x = b.add_tensor("x", [1, 2, 3], "int64")
    flat = b.add_tensor("flat", [6], "int64")
    b.add_operator("RESHAPE", [x, b.add_tensor("shape", [1], "int64",
                                               data=np.array([6], np.int64))], [flat],
                   {"new_shape": [6]})
    squeezed = b.add_tensor("squeezed", [2, 3], "int64")
    b.add_operator("SQUEEZE", [x], [squeezed], {"squeeze_dims": [0]})
    wide = b.add_tensor("wide", [4, 2, 3], "int64")
    b.add_operator("BROADCAST_TO", [squeezed, b.add_tensor("bshape", [3], "int64",
                                                           data=np.array([4, 2, 3], np.int64))],
                   [wide], version=2)
    zeros = b.add_tensor("zeros", [6], "int64")
    b.add_operator("ZEROS_LIKE", [flat], [zeros])
    pos = b.add_tensor("pos", [6], "int64")
    b.add_operator("MAXIMUM", [flat, zeros], [pos], version=4)
    _check(b.build([x], [flat, wide, zeros, pos]), tmp_path,
           [[_ints(rng, [1, 2, 3])] for _ in range(3)], "int64 views")


def test_int64_index_inputs(tmp_path: Path) -> None:
    """int64 index operands TFLite Micro accepts: FILL's dims and MIRROR_PAD's paddings
    (constants, read at compile time)."""
    rng = np.random.default_rng(695)
    b = ModelBuilder("utc int64 sweep: FILL dims, MIRROR_PAD paddings")
    x = b.add_tensor("x", [2, 3], "float32")
    padded = b.add_tensor("padded", [4, 4], "float32")
    pads = b.add_tensor("pads", [2, 2], "int64", data=np.array([[1, 1], [0, 1]], np.int64))
    b.add_operator("MIRROR_PAD", [x, pads], [padded], {"mode": 0}, version=2)
    dims = b.add_tensor("dims", [2], "int64", data=np.array([2, 2], np.int64))
    value = b.add_tensor("value", [], "int32", data=np.array(-9, np.int32))
    filled = b.add_tensor("filled", [2, 2], "int32")
    b.add_operator("FILL", [dims, value], [filled], version=2)
    _check(b.build([x], [padded, filled]), tmp_path,
           [[rng.standard_normal((2, 3)).astype(np.float32)] for _ in range(3)],
           "int64 index inputs")


def _compile_error(model: bytes, tmp_path: Path) -> str:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode != 0, "utc accepted a model TFLite Micro cannot run"
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists(), "partial output written"
    return proc.stderr.strip()


@pytest.mark.parametrize("op,out_dtype", [("ADD", "int64"), ("SUB", "int64"), ("MUL", "int64"),
                                          ("SQUARED_DIFFERENCE", "int64")])
def test_int64_arithmetic_refused(op: str, out_dtype: str, tmp_path: Path) -> None:
    """TFLite Micro has no int64 arithmetic: one line naming the operator and the dtype."""
    err = _compile_error(_binary(op, [4], [4], [4], out_dtype, 1), tmp_path)
    assert err.count("\n") == 0 and f"operator #0 {op}" in err and "INT64" in err, err


def test_int64_quantized_maximum_refused(tmp_path: Path) -> None:
    b = ModelBuilder("utc int64: quantized MAXIMUM")
    x0 = b.add_tensor("x0", [4], "int64", scale=0.5, zero_point=0)
    x1 = b.add_tensor("x1", [4], "int64", scale=0.5, zero_point=0)
    y = b.add_tensor("y", [4], "int64", scale=0.5, zero_point=0)
    b.add_operator("MAXIMUM", [x0, x1], [y], version=4)
    err = _compile_error(b.build([x0, x1], [y]), tmp_path)
    assert "operator #0 MAXIMUM" in err and "quantized int64" in err, err


def test_int64_unpack_refused(tmp_path: Path) -> None:
    """TFLite Micro's UNPACK has no int64 case."""
    b = ModelBuilder("utc int64: UNPACK")
    x = b.add_tensor("x", [2, 3], "int64")
    parts = [b.add_tensor(f"p{k}", [3], "int64") for k in range(2)]
    b.add_operator("UNPACK", [x], parts, {"num": 2, "axis": 0})
    err = _compile_error(b.build([x], parts), tmp_path)
    assert "operator #0 UNPACK" in err and "INT64" in err, err
