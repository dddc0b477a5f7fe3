"""utc's float32 elementwise, MEAN and activation kernels against TFLite Micro.

Each case builds a single-operator float32 TFLite model, runs it in TFLite Micro's reference
interpreter (LiteRT's reference kernels for RELU_N1_TO_1 and RELU_0_TO_1, which TFLM lacks)
and runs the kernel through ctypes on the same inputs. Comparisons are bit-exact: the float32
bit patterns must be equal (so -0.0 vs +0.0 counts; NaNs must sit in the same places, see
`_assert_bits_equal` for their payloads). LOGISTIC and TANH call the same glibc expf/tanhf
the oracle's build links against, so they are bit-exact on this host too; on another libm
they would be only as close as the two libms. Inputs are seeded.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.kernel_harness import load_kernels, ptr, seeded_rng
from tests.oracle import run_litert, run_tflm
from tests.tflite_writer import ModelBuilder

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
SEED = 20261126
FLT_MAX = float(np.finfo(np.float32).max)

_KERNELS = [
    "utc_add_f32",
    "utc_sub_f32",
    "utc_mul_f32",
    "utc_maximum_f32",
    "utc_minimum_f32",
    "utc_mean_f32",
    "utc_logistic_f32",
    "utc_tanh_f32",
    "utc_clamp_f32",
    "utc_leaky_relu_f32",
    "utc_hard_swish_f32",
    "utc_prelu_f32",
]


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return load_kernels(_KERNELS)


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


def _normal(rng: np.random.Generator, shape: Sequence[int], scale: float = 3.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(tuple(shape)) * scale, np.float32)


def _shape6(shape: Sequence[int]) -> np.ndarray:
    assert len(shape) <= 6
    return np.array([1] * (6 - len(shape)) + list(shape), np.int32)


def _assert_bits_equal(got: np.ndarray, want: np.ndarray, msg: str = "") -> None:
    """Equal float32 bit patterns, except that any NaN matches any NaN: which operand's
    payload and sign a NaN result carries is unspecified (IEEE 754 leaves it open, and the
    compiler may swap the operands of a commutative x * y), so NaN * -NaN is +NaN in one
    build and -NaN in another."""
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape, msg
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"NaN positions: {msg}")
    np.testing.assert_array_equal(np.where(nan, 0, got.view(np.uint32)),
                                  np.where(nan, 0, want.view(np.uint32)), err_msg=msg)


#: IEEE special and boundary values, appended to random inputs.
SPECIALS = np.array([0.0, -0.0, 1.0, -1.0, 6.0, -6.0, 3.0, -3.0, np.inf, -np.inf, np.nan,
                     -np.nan, 1e38, -1e38, FLT_MAX, -FLT_MAX, 1e-45, -1e-45, 1.2e-38,
                     -1.2e-38, 0.5, -0.5], np.float32)


def _with_specials(rng: np.random.Generator, n_random: int, scale: float) -> np.ndarray:
    return np.concatenate([_normal(rng, [n_random], scale), SPECIALS])


# ---------------------------------------------------------------------------------------
# SUB / MUL / MAXIMUM / MINIMUM
# ---------------------------------------------------------------------------------------

BROADCAST_SHAPES = {
    "same": ([1, 4, 4, 8], [1, 4, 4, 8]),
    "scalar_const": ([1, 3, 5, 7], []),
    "scalar_lhs": ([1], [2, 3, 4]),
    "row": ([2, 3, 8], [8]),
    "channel": ([1, 5, 5, 6], [1, 1, 1, 6]),
    "column": ([2, 6, 1], [2, 6, 9]),
    "general": ([2, 1, 3, 1], [1, 4, 1, 5]),
    "both_ways": ([3, 1, 7], [1, 4, 1]),
    "rank5": ([2, 1, 3, 1, 4], [1, 2, 1, 5, 4]),
    "odd_1d": ([13], [13]),
}

#: fused activation -> the (act_min, act_max) TFLM's CalculateActivationRange gives.
ACT_RANGES = {"NONE": (-FLT_MAX, FLT_MAX), "RELU": (0.0, FLT_MAX), "RELU6": (0.0, 6.0),
              "RELU_N1_TO_1": (-1.0, 1.0)}


def _binary_model(op: str, s1: Sequence[int], s2: Sequence[int], act: str | None,
                  const2: np.ndarray | None = None) -> bytes:
    """in1 is a model input; in2 too, or a constant when const2 is given (TFLM's Python
    binding cannot feed rank-0 inputs, and scalar operands are constants in real models)."""
    so = list(np.broadcast_shapes(tuple(s1), tuple(s2)))
    b = ModelBuilder(f"float32 {op}")
    x1 = b.add_tensor("x1", s1, "float32")
    x2 = b.add_tensor("x2", s2, "float32", data=const2)
    y = b.add_tensor("y", so, "float32")
    b.add_operator(op, [x1, x2], [y], None if act is None else {"fused_activation_function": act})
    return b.build([x1] if const2 is not None else [x1, x2], [y])


def _run_binary(lib: ctypes.CDLL, op: str, x1: np.ndarray, x2: np.ndarray, act: str | None,
                out: np.ndarray | None = None) -> np.ndarray:
    so = np.broadcast_shapes(x1.shape, x2.shape)
    if out is None:
        out = np.zeros(so, np.float32)
    s1, s2, s6 = _shape6(x1.shape), _shape6(x2.shape), _shape6(so)  # alive during the call
    head = [ptr(x1), ptr(x2), ptr(out), ptr(s1), ptr(s2), ptr(s6)]
    fn = getattr(lib, f"utc_{op.lower()}_f32")
    if act is None:
        fn(*head)
    else:
        fn(*head, *ACT_RANGES[act])
    return out


def _check_binary(lib: ctypes.CDLL, op: str, s1: Sequence[int], s2: Sequence[int],
                  act: str | None, rng: np.random.Generator, samples: int = 2) -> None:
    const2 = _normal(rng, s2) if len(s2) == 0 else None
    model = _binary_model(op, s1, s2, act, const2)
    for _ in range(samples):
        x1 = _normal(rng, s1)
        x2 = const2 if const2 is not None else _normal(rng, s2)
        want = run_tflm(model, [x1] if const2 is not None else [x1, x2])[0]
        _assert_bits_equal(_run_binary(lib, op, x1, x2, act), want, f"{op} {s1} {s2} {act}")


@pytest.mark.parametrize("op", ["SUB", "MUL", "MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shapes", sorted(BROADCAST_SHAPES))
def test_binary_broadcasting(lib: ctypes.CDLL, op: str, shapes: str) -> None:
    s1, s2 = BROADCAST_SHAPES[shapes]
    act = None if op in ("MAXIMUM", "MINIMUM") else "NONE"
    _check_binary(lib, op, s1, s2, act, _rng(op, shapes))
    if s1 != s2 and s2:  # swapped: the broadcast operand on the left
        _check_binary(lib, op, s2, s1, act, _rng(op, shapes, "swapped"))


@pytest.mark.parametrize("op", ["SUB", "MUL"])
@pytest.mark.parametrize("act", sorted(ACT_RANGES))
@pytest.mark.parametrize("shapes", ["same", "channel", "general"])
def test_sub_mul_fused_activations(lib: ctypes.CDLL, op: str, act: str, shapes: str) -> None:
    s1, s2 = BROADCAST_SHAPES[shapes]
    _check_binary(lib, op, s1, s2, act, _rng(op, act, shapes), samples=3)


@pytest.mark.parametrize(("op", "act"), [("SUB", "NONE"), ("SUB", "RELU6"), ("MUL", "NONE"),
                                         ("MUL", "RELU6"), ("MAXIMUM", None),
                                         ("MINIMUM", None)])
def test_binary_special_values(lib: ctypes.CDLL, op: str, act: str | None) -> None:
    """Every pair of special values (inf - inf, 0 * inf, NaN operands, overflow to inf,
    signed zeros). With NONE, TFLM clamps to +-FLT_MAX, so an overflowed product is
    FLT_MAX, not inf: the kernel gets the same range."""
    n = SPECIALS.size
    x1 = np.repeat(SPECIALS, n)
    x2 = np.tile(SPECIALS, n)
    want = run_tflm(_binary_model(op, [n * n], [n * n], act), [x1, x2])[0]
    _assert_bits_equal(_run_binary(lib, op, x1, x2, act), want, f"{op} {act}")


def test_mul_overflow_is_clamped_to_flt_max_with_no_activation(lib: ctypes.CDLL) -> None:
    x = np.array([1e30, -1e30, np.inf], np.float32)
    want = run_tflm(_binary_model("MUL", [3], [3], "NONE"), [x, x])[0]
    assert want.tolist() == [FLT_MAX, FLT_MAX, FLT_MAX]
    _assert_bits_equal(_run_binary(lib, "MUL", x, x, "NONE"), want)


@pytest.mark.parametrize("op", ["SUB", "MUL", "MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("aliased", ["in1", "in2"])
def test_binary_kernels_run_in_place(lib: ctypes.CDLL, op: str, aliased: str) -> None:
    rng = _rng("in place", op, aliased)
    big, small = _normal(rng, [4, 6, 5]), _normal(rng, [6, 1])
    x1, x2 = (big, small) if aliased == "in1" else (small, big)
    act = None if op in ("MAXIMUM", "MINIMUM") else "RELU6"
    want = run_tflm(_binary_model(op, x1.shape, x2.shape, act), [x1, x2])[0]
    _run_binary(lib, op, x1, x2, act, out=big)
    _assert_bits_equal(big, want)


# ---------------------------------------------------------------------------------------
# MEAN
# ---------------------------------------------------------------------------------------

MEAN_CASES = [  # input shape, axes, keep_dims
    ([1, 5, 7, 3], [1, 2], True),   # TFLM's special 4-D path
    ([1, 5, 7, 3], [2, 1], True),
    ([1, 5, 7, 3], [1, 2], False),  # the generic path, same order
    ([2, 6, 4, 3], [1, 2], True),
    ([2, 3, 5, 7], [3], True),
    ([2, 3, 5, 7], [3], False),
    ([2, 3, 5, 7], [0, 1, 2, 3], False),
    ([2, 3, 5, 7], [0, 1, 2, 3], True),
    ([2, 3, 5, 7], [0, 2], False),
    ([2, 3, 5, 7], [-1, 1], True),
    ([2, 3, 5, 7], [1, 1, -3], False),
    ([4, 5, 6], [0], False),
    ([4, 5, 6], [0], True),
    ([3, 4, 5], [0, 2], True),
    ([6, 11], [1], False),
    ([300], [0], False),
    ([2, 3, 2, 3, 4], [1, 3], False),
    ([1, 32, 32, 4], [1, 2], True),
]


def _mean_model(shape: Sequence[int], axes: Sequence[int], keep_dims: bool) -> bytes:
    rank = len(shape)
    reduced = {a % rank for a in axes}
    out_shape = [1 if i in reduced else d for i, d in enumerate(shape)
                 if keep_dims or i not in reduced]
    b = ModelBuilder("float32 mean")
    x = b.add_tensor("x", shape, "float32")
    ax = b.add_tensor("axes", [len(axes)], "int32", data=np.array(axes, np.int32))
    y = b.add_tensor("y", out_shape, "float32")
    b.add_operator("MEAN", [x, ax], [y], {"keep_dims": keep_dims})
    return b.build([x], [y])


def _run_mean(lib: ctypes.CDLL, x: np.ndarray, axes: Sequence[int],
              out_shape: Sequence[int]) -> np.ndarray:
    rank = x.ndim
    flags = np.zeros(6, np.int32)
    for a in axes:
        flags[6 - rank + a % rank] = 1
    out = np.zeros(out_shape, np.float32)
    shape6 = _shape6(x.shape)
    lib.utc_mean_f32(ptr(x), ptr(out), ptr(shape6), ptr(flags))
    return out


@pytest.mark.parametrize("case", range(len(MEAN_CASES)))
def test_mean_axes(lib: ctypes.CDLL, case: int) -> None:
    """Sums of many values with mixed magnitudes: a different summation order or a wider
    accumulator would change the rounding of the result."""
    shape, axes, keep_dims = MEAN_CASES[case]
    model = _mean_model(shape, axes, keep_dims)
    rng = _rng("mean", case)
    xs = [_normal(rng, shape),
          (_normal(rng, shape) * np.float32(10) ** rng.integers(-6, 7, size=shape)
           ).astype(np.float32),
          np.full(shape, -0.0, np.float32)]  # the sum starts at +0.0: -0.0 averages to +0.0
    for x in xs:
        want = run_tflm(model, [x])[0]
        _assert_bits_equal(_run_mean(lib, x, axes, want.shape), want, f"{shape} {axes}")


def test_mean_random_shapes_and_axes(lib: ctypes.CDLL) -> None:
    rng = _rng("mean sweep")
    for _ in range(30):
        rank = int(rng.integers(1, 6))
        shape = [int(d) for d in rng.integers(1, 7, size=rank)]
        naxes = int(rng.integers(1, min(rank, 4) + 1))  # TFLM's MeanParams holds 4 axes
        axes = [int(a) for a in rng.choice(rank, size=naxes, replace=False)]
        axes = [a - rank if rng.integers(0, 2) else a for a in axes]
        keep_dims = bool(rng.integers(0, 2))
        x = _normal(rng, shape, 100.0)
        want = run_tflm(_mean_model(shape, axes, keep_dims), [x])[0]
        _assert_bits_equal(_run_mean(lib, x, axes, want.shape), want,
                           f"{shape} {axes} {keep_dims}")


def test_mean_specials(lib: ctypes.CDLL) -> None:
    x = np.concatenate([SPECIALS, SPECIALS[::-1], np.full(2, 3e38, np.float32)])
    x = x.reshape(2, 23, 1)
    for axes in ([0], [1], [0, 1]):
        want = run_tflm(_mean_model(x.shape, axes, False), [x])[0]
        _assert_bits_equal(_run_mean(lib, x, axes, want.shape), want, f"{axes}")


# ---------------------------------------------------------------------------------------
# LOGISTIC / TANH / HARD_SWISH / RELU family / LEAKY_RELU
# ---------------------------------------------------------------------------------------

def _unary_model(op: str, n: int, options: dict | None = None) -> bytes:
    b = ModelBuilder(f"float32 {op}")
    x = b.add_tensor("x", [1, n], "float32")
    y = b.add_tensor("y", [1, n], "float32")
    b.add_operator(op, [x], [y], options)
    return b.build([x], [y])


def _unary_inputs(rng: np.random.Generator, cutoffs: Sequence[float] = ()) -> np.ndarray:
    """Random values at several magnitudes, special values, and every cutoff with its float32
    neighbours (a few ulps on each side)."""
    parts = [_with_specials(rng, 2000, 4.0), _normal(rng, [500], 30.0),
             _normal(rng, [300], 1e4), _normal(rng, [200], 1e-3)]
    for c in cutoffs:
        c32 = np.float32(c)
        near = [c32]
        up = down = c32
        for _ in range(4):
            up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
            near += [up, down]
        parts.append(np.array(near, np.float32))
        parts.append((c32 + _normal(rng, [50], 1e-2)).astype(np.float32))
    return np.concatenate(parts).astype(np.float32).reshape(1, -1)


def _run_unary(fn: ctypes._CFuncPtr, x: np.ndarray, *scalars: float,
               in_place: bool = False) -> np.ndarray:
    out = x.copy() if in_place else np.zeros_like(x)
    fn(ptr(out if in_place else x), ptr(out), x.size, *scalars)
    return out


UNARY = {  # op -> (kernel, extra args, cutoffs to probe, oracle)
    "LOGISTIC": ("utc_logistic_f32", (), [16.619047164916992188, -9.0, 0.0], run_tflm),
    "TANH": ("utc_tanh_f32", (), [0.0, 9.01, -9.01, 0.55, 22.0], run_tflm),
    "HARD_SWISH": ("utc_hard_swish_f32", (), [-3.0, 3.0, 0.0], run_tflm),
    # standalone RELU does not cap at FLT_MAX (fused RELU does): +inf stays +inf
    "RELU": ("utc_clamp_f32", (0.0, np.inf), [0.0], run_tflm),
    "RELU6": ("utc_clamp_f32", (0.0, 6.0), [0.0, 6.0], run_tflm),
    # TFLM registers neither: LiteRT's reference kernels are the oracle
    "RELU_N1_TO_1": ("utc_clamp_f32", (-1.0, 1.0), [-1.0, 1.0], run_litert),
    "RELU_0_TO_1": ("utc_clamp_f32", (0.0, 1.0), [0.0, 1.0], run_litert),
}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_activations(lib: ctypes.CDLL, op: str) -> None:
    kernel, scalars, cutoffs, oracle = UNARY[op]
    x = _unary_inputs(_rng("unary", op), cutoffs)
    want = oracle(_unary_model(op, x.shape[1]), [x])[0]
    fn = getattr(lib, kernel)
    _assert_bits_equal(_run_unary(fn, x, *scalars), want, op)
    _assert_bits_equal(_run_unary(fn, x, *scalars, in_place=True), want, f"{op} in place")


def test_logistic_dense_sweep_of_the_cutoff_band(lib: ctypes.CDLL) -> None:
    """A dense, evenly spaced (in bit patterns) sweep of [-10, 17]: both cutoffs and the
    whole 1/(1+e^-x) branch at every binade."""
    step = 4999
    pos = np.arange(0, np.float32(17).view(np.int32), step, dtype=np.int32).view(np.float32)
    neg = -np.arange(0, np.float32(10).view(np.int32), step, dtype=np.int32).view(np.float32)
    x = np.concatenate([pos, neg]).astype(np.float32).reshape(1, -1)
    want = run_tflm(_unary_model("LOGISTIC", x.shape[1]), [x])[0]
    _assert_bits_equal(_run_unary(lib.utc_logistic_f32, x), want)


@pytest.mark.parametrize("alpha", [0.2, -0.5, 1.5, 0.0, 0.01])
def test_leaky_relu(lib: ctypes.CDLL, alpha: float) -> None:
    x = _unary_inputs(_rng("leaky", alpha), [0.0])
    want = run_tflm(_unary_model("LEAKY_RELU", x.shape[1], {"alpha": alpha}), [x])[0]
    _assert_bits_equal(_run_unary(lib.utc_leaky_relu_f32, x, alpha), want, f"{alpha}")
    _assert_bits_equal(_run_unary(lib.utc_leaky_relu_f32, x, alpha, in_place=True), want)


# ---------------------------------------------------------------------------------------
# PRELU
# ---------------------------------------------------------------------------------------

PRELU_ALPHA_SHAPES = {  # TFLM's float PRELU handles up to 4-D
    "channel": ([1, 4, 5, 6], [6]),
    "channel_3d": ([1, 4, 5, 6], [1, 1, 6]),
    "full": ([1, 4, 5, 6], [1, 4, 5, 6]),
    "full_3d": ([2, 4, 5, 6], [4, 5, 6]),
    "scalar": ([2, 3, 7], [1]),
    "spatial": ([1, 4, 5, 6], [4, 5, 1]),
    "rank2": ([9, 3], [3]),
}


@pytest.mark.parametrize("shapes", sorted(PRELU_ALPHA_SHAPES))
def test_prelu_alpha_broadcast(lib: ctypes.CDLL, shapes: str) -> None:
    in_shape, a_shape = PRELU_ALPHA_SHAPES[shapes]
    rng = _rng("prelu", shapes)
    alpha = _normal(rng, a_shape, 1.0)
    b = ModelBuilder("float32 prelu")
    x = b.add_tensor("x", in_shape, "float32")
    a = b.add_tensor("alpha", a_shape, "float32", data=alpha)
    y = b.add_tensor("y", in_shape, "float32")
    b.add_operator("PRELU", [x, a], [y])
    model = b.build([x], [y])
    i6, a6 = _shape6(in_shape), _shape6(a_shape)
    n = int(np.prod(in_shape))
    flat = np.concatenate([_normal(rng, [n], 3.0), _normal(rng, [n], 3.0)])
    flat[rng.choice(flat.size, SPECIALS.size, replace=False)] = SPECIALS
    for xv in (flat[:n].reshape(in_shape), flat[n:].reshape(in_shape)):
        want = run_tflm(model, [xv])[0]
        out = np.zeros(in_shape, np.float32)
        lib.utc_prelu_f32(ptr(xv), ptr(alpha), ptr(out), ptr(i6), ptr(a6), ptr(i6))
        _assert_bits_equal(out, want, shapes)
        inplace = xv.copy()
        lib.utc_prelu_f32(ptr(inplace), ptr(alpha), ptr(inplace), ptr(i6), ptr(a6), ptr(i6))
        _assert_bits_equal(inplace, want, f"{shapes} in place")
