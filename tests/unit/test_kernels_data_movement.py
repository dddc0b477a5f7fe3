"""utc's dtype-agnostic data-movement kernels against TFLite Micro.

PAD, PADV2, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SPLIT and SPLIT_V: each case builds a
single-operator TFLite model, runs it in TFLite Micro's reference interpreter and runs the
kernel of ``runtime/utc_data_movement`` through ctypes with parameters from
``utc.dialects.slice_math``, so one comparison checks kernel and compile-time math
together. TFLM also checks in its Prepare step that the output shapes the model declares
(computed here by slice_math) are the ones it derives itself. Every case runs for int8
(1-byte elements) and float32 (4-byte elements); comparisons are bit-exact. Where TFLM
computes something else than TFLite (STRIDED_SLICE ``offset``, which it ignores, and rank
5, which it refuses) LiteRT's reference kernels are the oracle. Inputs are seeded.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from utc.dialects import slice_math as sm

from tests.kernel_harness import load_kernels, ptr, seeded_rng
from tests.oracle import run_litert, run_tflm
from tests.tflite_writer import ModelBuilder

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
SEED = 20261126
DTYPES = ("int8", "float32")
#: (scale, zero point) of every int8 tensor: TFLM's int8 CONCATENATION and PADV2 need
#: identical quantization on all of them, and a non-zero zero point is what int8 PAD pads with.
QUANT = (0.047, -7)

_KERNELS = [
    "utc_pad",
    "utc_concatenation",
    "utc_transpose",
    "utc_strided_slice",
    "utc_split",
]


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return load_kernels(_KERNELS)


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


def _data(rng: np.random.Generator, shape: Sequence[int], dtype: str) -> np.ndarray:
    """Full-range int8, or float32 with arbitrary mantissa bits (every byte matters)."""
    if dtype == "int8":
        return rng.integers(-128, 127, size=tuple(shape), endpoint=True, dtype=np.int8)
    return rng.standard_normal(tuple(shape)).astype(np.float32)


def _tensor(b: ModelBuilder, name: str, shape: Sequence[int], dtype: str,
            data: np.ndarray | None = None) -> int:
    q = {"scale": QUANT[0], "zero_point": QUANT[1]} if dtype == "int8" else {}
    return b.add_tensor(name, shape, dtype, data=data, **q)


def _const_i32(b: ModelBuilder, name: str, values: Sequence[int] | int) -> int:
    arr = np.asarray(values, dtype=np.int32)
    return b.add_tensor(name, list(arr.shape), "int32", data=arr)


def _i32(values: Sequence[int]) -> ctypes.Array:
    """An int32 parameter array for a kernel. A ctypes array, not ``ptr(np.array(...))``:
    the argument keeps it alive for the call, where a temporary numpy array would be freed
    before the kernel reads it."""
    return (ctypes.c_int32 * len(values))(*(int(v) for v in values))


def _pointers(arrays: Sequence[np.ndarray]) -> ctypes.Array:
    """A ``void *[]`` of the arrays' data (the caller keeps the arrays alive)."""
    return (ctypes.c_void_p * len(arrays))(*(a.ctypes.data for a in arrays))


def _check(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, \
        f"{what}: got {got.dtype}{list(got.shape)}, want {want.dtype}{list(want.shape)}"
    assert np.array_equal(got, want), f"{what}: kernel output differs from the oracle"


# ---------------------------------------------------------------------------------------
# PAD / PADV2
# ---------------------------------------------------------------------------------------

PAD_CASES = {
    "rank1": ([7], [[3, 2]]),
    "rank2": ([3, 5], [[1, 2], [0, 3]]),
    "rank2_none": ([2, 3], [[0, 0], [0, 0]]),
    "rank3": ([2, 3, 4], [[0, 0], [2, 1], [1, 1]]),
    "rank3_inner_only": ([2, 3, 5], [[0, 0], [0, 0], [2, 3]]),
    "rank4_image": ([1, 4, 5, 3], [[0, 0], [1, 1], [2, 0], [0, 0]]),
    "rank4_all": ([2, 3, 3, 2], [[1, 0], [2, 1], [0, 2], [1, 1]]),
    "rank4_outer_only": ([2, 2, 3, 3], [[1, 2], [0, 0], [0, 0], [0, 0]]),
    "rank5": ([2, 1, 3, 2, 3], [[0, 1], [1, 0], [0, 0], [2, 1], [0, 1]]),
}


def _run_pad(lib: ctypes.CDLL, x: np.ndarray, paddings: list, pad_value: np.ndarray) -> np.ndarray:
    in6, before6, after6, out_shape = sm.resolve_pad(x.shape, paddings)
    out = np.full(out_shape, 99, dtype=x.dtype)  # not a value the kernel may leave behind
    lib.utc_pad(ptr(x), ptr(out), _i32(in6), _i32(before6), _i32(after6),
                x.dtype.itemsize, ptr(pad_value))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(PAD_CASES))
def test_pad(lib: ctypes.CDLL, dtype: str, case: str) -> None:
    """PAD pads int8 with the output zero point (here -7, not 0) and float with 0.0."""
    shape, paddings = PAD_CASES[case]
    out_shape = sm.resolve_pad(shape, paddings)[3]
    b = ModelBuilder(f"{dtype} PAD")
    x = _tensor(b, "x", shape, dtype)
    p = _const_i32(b, "paddings", paddings)
    y = _tensor(b, "y", out_shape, dtype)
    b.add_operator("PAD", [x, p], [y])
    model = b.build([x], [y])
    pad_value = np.array(QUANT[1] if dtype == "int8" else 0.0, dtype=dtype)
    rng = _rng("PAD", dtype, case)
    for _ in range(2):
        xv = _data(rng, shape, dtype)
        _check(_run_pad(lib, xv, paddings, pad_value), run_tflm(model, [xv])[0], f"PAD {case}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["rank2", "rank3", "rank4_all", "rank5"])
def test_padv2_constant(lib: ctypes.CDLL, dtype: str, case: str) -> None:
    """PADV2 pads with its constant (float 3.25 has four different bytes: the kernel's
    doubling fill, not memset)."""
    shape, paddings = PAD_CASES[case]
    out_shape = sm.resolve_pad(shape, paddings)[3]
    constant = np.array(42 if dtype == "int8" else 3.25, dtype=dtype)
    b = ModelBuilder(f"{dtype} PADV2")
    x = _tensor(b, "x", shape, dtype)
    p = _const_i32(b, "paddings", paddings)
    c = _tensor(b, "constant", [], dtype, data=constant)
    y = _tensor(b, "y", out_shape, dtype)
    b.add_operator("PADV2", [x, p, c], [y])
    model = b.build([x], [y])
    xv = _data(_rng("PADV2", dtype, case), shape, dtype)
    _check(_run_pad(lib, xv, paddings, constant), run_tflm(model, [xv])[0], f"PADV2 {case}")


# ---------------------------------------------------------------------------------------
# CONCATENATION
# ---------------------------------------------------------------------------------------

CONCAT_CASES = {
    "rank1": ([[3], [1], [5]], 0),
    "rank2_axis0": ([[2, 3], [4, 3]], 0),
    "rank2_axis1": ([[2, 3], [2, 5]], 1),
    "rank2_axis_neg1": ([[3, 1], [3, 4], [3, 2]], -1),
    "rank3_axis_neg2": ([[2, 3, 4], [2, 1, 4], [2, 2, 4]], -2),
    "rank3_axis2": ([[2, 3, 1], [2, 3, 3]], 2),
    "rank4_axis0": ([[1, 2, 3, 2], [2, 2, 3, 2]], 0),
    "rank4_axis1": ([[1, 3, 3, 2], [1, 1, 3, 2], [1, 2, 3, 2], [1, 5, 3, 2]], 1),
    "rank4_axis2": ([[2, 3, 1, 3], [2, 3, 4, 3]], 2),
    "rank4_axis3_4in": ([[1, 3, 3, 2], [1, 3, 3, 5], [1, 3, 3, 1], [1, 3, 3, 3]], 3),
    "rank4_axis_neg4": ([[1, 2, 3, 5], [3, 2, 3, 5]], -4),
    "rank5_axis2": ([[2, 1, 3, 2, 3], [2, 1, 2, 2, 3]], 2),
}


def _check_concat(lib: ctypes.CDLL, dtype: str, shapes: list[list[int]], axis: int,
                  const_index: int | None, key: str) -> None:
    rng = _rng("CONCATENATION", dtype, key)
    consts = {const_index: _data(rng, shapes[const_index], dtype)} if const_index is not None else {}
    elem = np.dtype(dtype).itemsize
    outer, chunk_bytes, out_shape = sm.concat_params(shapes, axis, elem)
    b = ModelBuilder(f"{dtype} CONCATENATION")
    ins = [_tensor(b, f"x{i}", s, dtype, data=consts.get(i)) for i, s in enumerate(shapes)]
    y = _tensor(b, "y", out_shape, dtype)
    b.add_operator("CONCATENATION", ins, [y], {"axis": axis})
    model = b.build([t for i, t in enumerate(ins) if i not in consts], [y])
    for _ in range(2):
        xs = [consts[i] if i in consts else _data(rng, s, dtype) for i, s in enumerate(shapes)]
        want = run_tflm(model, [x for i, x in enumerate(xs) if i not in consts])[0]
        out = np.zeros(out_shape, dtype=dtype)
        lib.utc_concatenation(_pointers(xs), _i32(chunk_bytes), len(xs), outer, ptr(out))
        _check(out, want, f"CONCATENATION {key}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CONCAT_CASES))
def test_concatenation(lib: ctypes.CDLL, dtype: str, case: str) -> None:
    shapes, axis = CONCAT_CASES[case]
    _check_concat(lib, dtype, shapes, axis, None, case)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("const_index", [0, 1])
def test_concatenation_with_constant_input(lib: ctypes.CDLL, dtype: str, const_index: int) -> None:
    _check_concat(lib, dtype, [[2, 3, 4], [2, 5, 4], [2, 1, 4]], 1, const_index,
                  f"const{const_index}")


# ---------------------------------------------------------------------------------------
# TRANSPOSE
# ---------------------------------------------------------------------------------------

TRANSPOSE_CASES = [
    ([3, 5], [1, 0]), ([4, 1], [1, 0]),
    ([2, 3, 4], [0, 1, 2]), ([2, 3, 4], [0, 2, 1]), ([2, 3, 4], [2, 0, 1]),
    ([2, 3, 4], [1, 2, 0]), ([2, 3, 4], [2, 1, 0]), ([3, 1, 5], [2, 1, 0]),
    ([2, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 3, 4, 5], [3, 2, 1, 0]),
    ([2, 3, 4, 5], [1, 0, 2, 3]), ([1, 6, 7, 3], [0, 3, 1, 2]),
    ([2, 3, 1, 4, 3], [4, 0, 3, 1, 2]), ([2, 3, 2, 4, 3], [0, 1, 2, 4, 3]),
    ([2, 3, 2, 4, 3], [1, 0, 2, 3, 4]), ([3, 2, 2, 1, 5], [3, 4, 2, 0, 1]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,perm", TRANSPOSE_CASES, ids=[f"{s}-{p}" for s, p in TRANSPOSE_CASES])
def test_transpose(lib: ctypes.CDLL, dtype: str, shape: list[int], perm: list[int]) -> None:
    out_shape = [shape[p] for p in perm]
    b = ModelBuilder(f"{dtype} TRANSPOSE")
    x = _tensor(b, "x", shape, dtype)
    pt = _const_i32(b, "perm", perm)
    y = _tensor(b, "y", out_shape, dtype)
    b.add_operator("TRANSPOSE", [x, pt], [y])
    model = b.build([x], [y])
    xv = _data(_rng("TRANSPOSE", dtype, shape, perm), shape, dtype)
    out = np.zeros(out_shape, dtype=dtype)
    lib.utc_transpose(ptr(xv), ptr(out), _i32(sm.pad6(shape)),
                      _i32(sm.transpose_perm6(perm)), xv.dtype.itemsize)
    _check(out, run_tflm(model, [xv])[0], f"TRANSPOSE {shape} {perm}")


# ---------------------------------------------------------------------------------------
# STRIDED_SLICE
# ---------------------------------------------------------------------------------------

# name -> (in_shape, begin, end, strides, options)
SLICE_CASES: dict[str, tuple[list[int], list[int], list[int], list[int], dict]] = {
    "basic": ([4, 6], [1, 2], [3, 5], [1, 1], {}),
    "rank1_full": ([9], [0], [9], [1], {}),
    "contiguous_rows": ([3, 4, 6], [1, 1, 0], [3, 3, 6], [1, 1, 1], {}),
    "negative_begin_end": ([5, 7], [-4, -6], [-1, -1], [1, 2], {}),
    "negative_strides": ([5, 7], [4, 6], [0, 0], [-1, -2], {}),
    "reverse_clamped": ([6], [-1], [-7], [-1], {}),
    "strides_gt1": ([2, 9, 8], [0, 1, 0], [2, 9, 8], [1, 3, 3], {}),
    "stride_past_end": ([7, 5], [1, 0], [7, 5], [4, 7], {}),
    "clamp_out_of_range": ([4, 5], [-10, 2], [10, 100], [1, 1], {}),
    "clamp_negative_stride": ([4, 5], [10, 100], [-10, -100], [-1, -2], {}),
    "begin_end_masks": ([3, 8, 4], [2, 5, 1], [2, 0, 3], [1, -1, 1],
                        {"begin_mask": 0b011, "end_mask": 0b110}),
    "masks_negative_strides": ([5, 6], [1, 4], [1, 4], [-1, -2],
                               {"begin_mask": 0b01, "end_mask": 0b10}),
    "shrink": ([3, 4, 5], [1, 0, -1], [2, 4, 0], [1, 1, 1], {"shrink_axis_mask": 0b101}),
    "shrink_negative_index": ([4, 3], [-1, 0], [0, 3], [1, 1], {"shrink_axis_mask": 0b01}),
    "shrink_with_begin_mask": ([4, 3], [2, 1], [0, 3], [1, 1],
                               {"shrink_axis_mask": 0b01, "begin_mask": 0b01}),
    "shrink_all": ([2, 3], [1, -2], [0, 0], [1, 1], {"shrink_axis_mask": 0b11}),
    "rank4_mixed": ([2, 5, 6, 3], [0, 1, -1, 0], [2, 5, 0, 3], [1, 2, -2, 1],
                    {"begin_mask": 0b1000, "end_mask": 0b0001}),
    "rank4_shrink_channel": ([1, 4, 4, 6], [0, 0, 0, 2], [1, 4, 4, 3], [1, 1, 2, 1],
                             {"shrink_axis_mask": 0b1000}),
}


def _slice_model(dtype: str, shape: list[int], begin: list[int], end: list[int],
                 strides: list[int], options: dict, out_shape: list[int], version: int = 1) -> bytes:
    b = ModelBuilder(f"{dtype} STRIDED_SLICE")
    x = _tensor(b, "x", shape, dtype)
    ins = [x, _const_i32(b, "begin", begin), _const_i32(b, "end", end),
           _const_i32(b, "strides", strides)]
    y = _tensor(b, "y", out_shape, dtype)
    b.add_operator("STRIDED_SLICE", ins, [y], options, version=version)
    return b.build([x], [y])


def _run_slice(lib: ctypes.CDLL, x: np.ndarray, begin6: list[int], strides6: list[int],
               out6: list[int], out_shape: list[int]) -> np.ndarray:
    out = np.zeros(out_shape, dtype=x.dtype)
    lib.utc_strided_slice(ptr(x), ptr(out), _i32(sm.pad6(x.shape)), _i32(begin6),
                          _i32(strides6), _i32(out6), x.dtype.itemsize)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(SLICE_CASES))
def test_strided_slice(lib: ctypes.CDLL, dtype: str, case: str) -> None:
    shape, begin, end, strides, options = SLICE_CASES[case]
    begin6, strides6, out6, out_shape = sm.resolve_strided_slice(shape, begin, end, strides,
                                                                 **options)
    model = _slice_model(dtype, shape, begin, end, strides, options, out_shape)
    xv = _data(_rng("STRIDED_SLICE", dtype, case), shape, dtype)
    got = _run_slice(lib, xv, begin6, strides6, out6, out_shape)
    _check(got, run_tflm(model, [xv])[0], f"STRIDED_SLICE {case}")


# LiteRT-only cases: name -> (in_shape, begin, end, strides, options)
SLICE_LITERT_CASES: dict[str, tuple[list[int], list[int], list[int], list[int], dict]] = {
    "offset": ([4, 5], [1, -3], [2, 3], [1, 1], {"offset": True}),
    "offset_strided": ([6, 7], [0, 1], [5, 6], [2, 3], {"offset": True}),
    "offset_negative_stride": ([4, 5], [3, 4], [-2, -4], [-1, -2], {"offset": True}),
    "offset_shrink": ([4, 5], [2, 1], [0, 3], [1, 1], {"offset": True, "shrink_axis_mask": 1}),
    "rank5": ([2, 3, 4, 2, 5], [1, 0, -1, 0, 4], [2, 3, 0, 2, 0], [1, 2, -1, 1, -2],
              {"begin_mask": 0b00010, "shrink_axis_mask": 0b00001}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(SLICE_LITERT_CASES))
def test_strided_slice_litert(lib: ctypes.CDLL, dtype: str, case: str) -> None:
    """``offset`` (TFLM ignores it) and rank 5 (TFLM refuses more than 4 dims) against
    LiteRT. The model says version 4: LiteRT's reference resolver registers STRIDED_SLICE
    only up to version 4, but its kernel reads ``offset`` whatever the version. LiteRT
    sizes its output itself, so the shape comparison checks slice_math's output shape."""
    shape, begin, end, strides, options = SLICE_LITERT_CASES[case]
    begin6, strides6, out6, out_shape = sm.resolve_strided_slice(shape, begin, end, strides,
                                                                 **options)
    model = _slice_model(dtype, shape, begin, end, strides, options, out_shape, version=4)
    xv = _data(_rng("STRIDED_SLICE litert", dtype, case), shape, dtype)
    got = _run_slice(lib, xv, begin6, strides6, out6, out_shape)
    _check(got, run_litert(model, [xv])[0], f"STRIDED_SLICE {case}")


# ---------------------------------------------------------------------------------------
# SPLIT / SPLIT_V
# ---------------------------------------------------------------------------------------

def _run_split(lib: ctypes.CDLL, x: np.ndarray, axis: int, sizes: list[int]) -> list[np.ndarray]:
    outer, chunk_bytes, out_shapes = sm.split_params(x.shape, axis, sizes, x.dtype.itemsize)
    outs = [np.zeros(s, dtype=x.dtype) for s in out_shapes]
    lib.utc_split(ptr(x), _pointers(outs), _i32(chunk_bytes), len(outs), outer)
    return outs


SPLIT_CASES = [
    ([6, 4], 0, 3), ([6, 4], 1, 2), ([2, 6, 4], -2, 2), ([2, 3, 8], 2, 4),
    ([1, 4, 4, 6], 3, 3), ([1, 4, 4, 6], -3, 4), ([3, 5], 1, 1), ([2, 2, 3, 2, 4], 4, 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis,num", SPLIT_CASES,
                         ids=[f"{s}-axis{a}-{n}" for s, a, n in SPLIT_CASES])
def test_split(lib: ctypes.CDLL, dtype: str, shape: list[int], axis: int, num: int) -> None:
    """SPLIT's inputs are (axis, input), the axis a constant (a scalar, as converters
    write it)."""
    sizes = sm.split_sizes(shape[sm.normalize_axis(axis, len(shape))], num)
    out_shapes = sm.split_params(shape, axis, sizes, 1)[2]
    b = ModelBuilder(f"{dtype} SPLIT")
    ax = _const_i32(b, "axis", axis)
    x = _tensor(b, "x", shape, dtype)
    ys = [_tensor(b, f"y{i}", s, dtype) for i, s in enumerate(out_shapes)]
    b.add_operator("SPLIT", [ax, x], ys, {"num_splits": num})
    model = b.build([x], ys)
    xv = _data(_rng("SPLIT", dtype, shape, axis, num), shape, dtype)
    want = run_tflm(model, [xv])
    for i, (got, w) in enumerate(zip(_run_split(lib, xv, axis, sizes), want, strict=True)):
        _check(got, w, f"SPLIT {shape} axis {axis} output {i}")


SPLIT_V_CASES = [
    ([7, 3], 0, [2, -1, 4]), ([2, 9, 2], 1, [1, 3, 5]), ([3, 10], -1, [-1, 7]),
    ([2, 3, 6, 2], 2, [1, 2, 3]), ([2, 3, 6, 2], -4, [1, 1]), ([4, 5], 1, [5]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis,size_splits", SPLIT_V_CASES,
                         ids=[f"{s}-axis{a}-{z}" for s, a, z in SPLIT_V_CASES])
def test_split_v(lib: ctypes.CDLL, dtype: str, shape: list[int], axis: int,
                 size_splits: list[int]) -> None:
    """SPLIT_V's inputs are (input, size_splits, axis). TFLM never reads size_splits (it
    trusts the output shapes), so LiteRT, which sizes the outputs from it, checks the
    resolution of -1 by split_v_sizes."""
    sizes = sm.split_v_sizes(shape[sm.normalize_axis(axis, len(shape))], size_splits)
    out_shapes = sm.split_params(shape, axis, sizes, 1)[2]
    b = ModelBuilder(f"{dtype} SPLIT_V")
    x = _tensor(b, "x", shape, dtype)
    z = _const_i32(b, "size_splits", size_splits)
    ax = _const_i32(b, "axis", axis)
    ys = [_tensor(b, f"y{i}", s, dtype) for i, s in enumerate(out_shapes)]
    b.add_operator("SPLIT_V", [x, z, ax], ys)
    model = b.build([x], ys)
    xv = _data(_rng("SPLIT_V", dtype, shape, axis, size_splits), shape, dtype)
    got = _run_split(lib, xv, axis, sizes)
    for oracle in (run_tflm, run_litert):
        for i, (g, w) in enumerate(zip(got, oracle(model, [xv]), strict=True)):
            _check(g, w, f"SPLIT_V {shape} axis {axis} output {i} ({oracle.__name__})")


# ---------------------------------------------------------------------------------------
# Kernel edge cases without an oracle model (TFLM's Python binding cannot feed or return
# zero-element tensors): the kernels must not touch memory when there is nothing to move.
# ---------------------------------------------------------------------------------------

def test_empty_outputs_write_nothing(lib: ctypes.CDLL) -> None:
    x = np.arange(20, dtype=np.float32).reshape(4, 5)
    begin6, strides6, out6, out_shape = sm.resolve_strided_slice([4, 5], [3, 0], [1, 5], [1, 1])
    assert out_shape == [0, 5]
    sentinel = np.full(8, -1.0, dtype=np.float32)
    lib.utc_strided_slice(ptr(x), ptr(sentinel), _i32(sm.pad6(x.shape)), _i32(begin6),
                          _i32(strides6), _i32(out6), 4)
    assert np.all(sentinel == -1.0)
    outer, chunks, _ = sm.concat_params([[2, 0], [2, 3]], 1, 4)
    out = np.full(7, -1.0, dtype=np.float32)
    y = np.arange(6, dtype=np.float32)
    empty = np.zeros(0, dtype=np.float32)
    lib.utc_concatenation(_pointers([empty, y]), _i32(chunks), 2, outer, ptr(out))
    assert out.tolist() == [0, 1, 2, 3, 4, 5, -1]


def test_gather_out_of_range_indices_give_zero_chunks() -> None:
    """utc_gather with computed indices: an index outside [0, axis_size) (undefined in
    TFLite Micro) writes a zero chunk instead of reading outside the input, and in-range
    ones pick their rows; batches index their own rows."""
    lib = load_kernels(["utc_gather"])
    x = np.arange(1, 2 * 3 * 2 + 1, dtype=np.float32).reshape(2, 3, 2)  # batches 2, axis 3
    idx = np.array([[2, -1], [3, 0]], np.int32)
    out = np.full((2, 2, 2), 7.0, np.float32)
    lib.utc_gather(ptr(x), ptr(idx), ptr(out), 2, 1, 3, 2, 2 * 4)
    want = np.array([[x[0, 2], [0, 0]], [[0, 0], x[1, 0]]], np.float32)
    np.testing.assert_array_equal(out, want)
