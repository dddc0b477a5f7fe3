"""utc's int8 elementwise, softmax, activation and mean kernels against TFLite Micro.

Each case builds a single-operator TFLite model, runs it in TFLite Micro's reference
interpreter (LiteRT's reference kernels for RELU_N1_TO_1, which TFLM lacks) and runs the
kernel through ctypes with constants from ``utc.passes.quantmath``, so one
comparison checks kernel and compile-time parameter math together. Comparisons are
bit-exact. Inputs are seeded: full-range random int8 values, and every one of the 256 int8
values for the unary ops.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from utc.dialects.shape_math import broadcast_shapes6
from utc.passes.quantmath import activation, elementwise, quantize, reduce, softmax
from utc.passes.quantmath.requant import UnsupportedQuantization

from tests.kernel_harness import load_kernels, ptr, seeded_rng
from tests.oracle import run_litert, run_tflm
from tests.tflite_writer import ModelBuilder

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
SEED = 20261125

_KERNELS = [
    "utc_add_s8",
    "utc_sub_s8",
    "utc_mul_s8",
    "utc_maximum_s8",
    "utc_minimum_s8",
    "utc_softmax_s8",
    "utc_softmax_s8_s16",
    "utc_logistic_s8",
    "utc_tanh_s8",
    "utc_hard_swish_s8",
    "utc_leaky_relu_s8",
    "utc_prelu_s8",
    "utc_requantize_s8",
    "utc_quantize_f32_s8",
    "utc_dequantize_s8_f32",
    "utc_mean_s8",
]


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return load_kernels(_KERNELS)


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.float32(10 ** rng.uniform(np.log10(lo), np.log10(hi))))


def _int8(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    return rng.integers(-128, 127, size=tuple(shape), endpoint=True, dtype=np.int8)


def _all_int8(shape: Sequence[int] = (2, 4, 32)) -> np.ndarray:
    """Every int8 value once (256 elements), in a scrambled order, in `shape`."""
    values = np.arange(-128, 128, dtype=np.int8)
    return np.random.default_rng(SEED).permutation(values).reshape(shape)


def _scalars(p, fields: Sequence[str]) -> list[int]:
    """The named fields of a quantmath result, in the kernel's argument order, as its
    scalar arguments; the `act` pair gives act_min and act_max."""
    out: list[int] = []
    for name in fields:
        value = getattr(p, name)
        out += [int(v) for v in value] if isinstance(value, tuple) else [int(value)]
    return out


# ---------------------------------------------------------------------------------------
# ADD / SUB / MUL / MAXIMUM / MINIMUM
# ---------------------------------------------------------------------------------------

BROADCAST_SHAPES = {
    "same": ([1, 4, 4, 8], [1, 4, 4, 8]),
    "scalar_rhs": ([1, 3, 5, 7], []),
    "scalar_lhs": ([1], [2, 3, 4]),
    "row": ([2, 3, 8], [8]),
    "channel": ([1, 5, 5, 6], [1, 1, 1, 6]),
    "column": ([2, 6, 1], [2, 6, 9]),
    "general": ([2, 1, 3, 1], [1, 4, 1, 5]),
    "both_ways": ([3, 1, 7], [1, 4, 1]),
    "rank5": ([2, 1, 3, 1, 4], [1, 2, 1, 5, 4]),
    "rank6": ([2, 1, 2, 3, 1, 3], [1, 3, 1, 3, 2, 1]),
    "odd_1d": ([13], [13]),
}

# (in1 (scale, zp), in2 (scale, zp), out (scale, zp))
QUANT = {
    "typical": ((0.05, -3), (0.08, 10), (0.1, 5)),
    "same_scales": ((0.1, 0), (0.1, 0), (0.1, 0)),
    "extreme_zp": ((0.02, -128), (0.5, 127), (0.3, -128)),
    "saturating": ((1.0, 0), (0.9, 50), (0.004, 127)),
    "scale_ratio": ((1e-4, 0), (3e-2, -7), (1e-3, 0)),
    "wide_output": ((0.01, 20), (0.02, -20), (2.5, -60)),
}

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")

_BINARY_PARAMS = {"ADD": elementwise.add_params, "SUB": elementwise.sub_params, "MUL": elementwise.mul_params}
_ADD_KEYS = ["lhs_zp", "rhs_zp", "output_zp", "left_shift", "lhs_mult", "lhs_shift",
             "rhs_mult", "rhs_shift", "output_mult", "output_shift", "act"]
_MUL_KEYS = ["lhs_zp", "rhs_zp", "output_zp", "output_mult", "output_shift", "act"]


def _binary_model(op: str, s1: Sequence[int], s2: Sequence[int], so: Sequence[int], q: tuple,
                  act: str | None, const2: np.ndarray | None = None) -> bytes:
    """in1 is a model input; in2 too, or a constant when const2 is given (TFLM's Python
    binding cannot feed rank-0 inputs, and scalar operands are constants in real models)."""
    b = ModelBuilder(f"int8 {op}")
    x1 = b.add_tensor("x1", s1, "int8", scale=q[0][0], zero_point=q[0][1])
    x2 = b.add_tensor("x2", s2, "int8", data=const2, scale=q[1][0], zero_point=q[1][1])
    y = b.add_tensor("y", so, "int8", scale=q[2][0], zero_point=q[2][1])
    options = None if act is None else {"fused_activation_function": act}
    b.add_operator(op, [x1, x2], [y], options)
    return b.build([x1] if const2 is not None else [x1, x2], [y])


def _run_binary(lib: ctypes.CDLL, op: str, x1: np.ndarray, x2: np.ndarray, q: tuple,
                act: str | None) -> np.ndarray:
    a6, b6, o6 = broadcast_shapes6(x1.shape, x2.shape)
    out_shape = tuple(int(d) for d in np.broadcast_shapes(x1.shape, x2.shape))
    out = np.zeros(out_shape, np.int8)
    head = [ptr(x1), ptr(x2), ptr(out), ptr(a6), ptr(b6), ptr(o6)]
    if op in ("MAXIMUM", "MINIMUM"):
        getattr(lib, f"utc_{op.lower()}_s8")(*head)
        return out
    p = _BINARY_PARAMS[op](*q[0], *q[1], *q[2], act=act or "none")
    keys = _MUL_KEYS if op == "MUL" else _ADD_KEYS
    getattr(lib, f"utc_{op.lower()}_s8")(*head, *_scalars(p, keys))
    return out


def _check_binary(lib: ctypes.CDLL, op: str, s1: Sequence[int], s2: Sequence[int], q: tuple,
                  act: str | None, rng: np.random.Generator, samples: int = 3) -> None:
    so = list(np.broadcast_shapes(tuple(s1), tuple(s2)))
    const2 = _int8(rng, s2) if len(s2) == 0 else None
    model = _binary_model(op, s1, s2, so, q, act, const2)
    for _ in range(samples):
        x1 = _int8(rng, s1)
        x2 = const2 if const2 is not None else _int8(rng, s2)
        want = run_tflm(model, [x1] if const2 is not None else [x1, x2])[0]
        got = _run_binary(lib, op, x1, x2, q, act)
        np.testing.assert_array_equal(got, want, err_msg=f"{op} {s1} {s2} {q} {act}")


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", sorted(BROADCAST_SHAPES))
def test_add_sub_mul_broadcasting(lib: ctypes.CDLL, op: str, shapes: str) -> None:
    s1, s2 = BROADCAST_SHAPES[shapes]
    for qname in ("typical", "extreme_zp"):
        _check_binary(lib, op, s1, s2, QUANT[qname], "NONE", _rng(op, shapes, qname))


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("quant", sorted(QUANT))
@pytest.mark.parametrize("act", ACTS)
def test_add_sub_mul_quantization_and_activations(lib: ctypes.CDLL, op: str, quant: str,
                                                   act: str) -> None:
    _check_binary(lib, op, [2, 3, 4, 5], [1, 3, 1, 5], QUANT[quant], act,
                  _rng(op, quant, act), samples=4)


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
def test_add_sub_mul_random_quantization_sweep(lib: ctypes.CDLL, op: str) -> None:
    """Log-uniform scales over six decades and arbitrary zero points: the multiplier
    rounding (double for ADD/MUL, float32 for SUB) must agree everywhere."""
    rng = _rng("sweep", op)
    checked = 0
    while checked < 60:
        q = tuple((float(10 ** rng.uniform(-5, 1)), int(rng.integers(-128, 128)))
                  for _ in range(3))
        act = ACTS[int(rng.integers(0, 4))]
        try:
            _BINARY_PARAMS[op](*q[0], *q[1], *q[2], act=act.lower())
        except UnsupportedQuantization:
            continue  # TFLM aborts the process on these (TFLITE_CHECK): never run it
        _check_binary(lib, op, [3, 1, 17], [1, 2, 17], q, act, rng, samples=2)
        checked += 1


def test_add_sub_refuse_output_scale_tflm_cannot_represent() -> None:
    tiny_out = ((1.0, 0), (1.0, 0), (1e-7, 0))  # 2 / (2^20 * 1e-7) > 1
    for fn in (elementwise.add_params, elementwise.sub_params):
        with pytest.raises(UnsupportedQuantization):
            fn(*tiny_out[0], *tiny_out[1], *tiny_out[2])


def test_sub_uses_double_precision_multipliers(lib: ctypes.CDLL) -> None:
    """Scales where float32 and double arithmetic give different multipliers: TFLM's SUB
    (the pinned build) rounds like ADD, in double; every input pair is checked."""
    q = ((0.05, -3), (0.08, 10), (0.1, 5))
    s1, s2, so = (np.float32(s) for s, _ in q)
    float32_mult = np.float32(s1) / (np.float32(2) * s2)
    assert float(float32_mult) != float(s1) / (2.0 * float(s2))  # the rounding differs
    x1 = np.repeat(np.arange(-128, 128, dtype=np.int8), 256)
    x2 = np.tile(np.arange(-128, 128, dtype=np.int8), 256)
    model = _binary_model("SUB", [65536], [65536], [65536], q, "NONE")
    np.testing.assert_array_equal(_run_binary(lib, "SUB", x1, x2, q, "NONE"),
                                  run_tflm(model, [x1, x2])[0])


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shapes", ["same", "scalar_rhs", "row", "general", "rank5", "rank6"])
def test_maximum_minimum(lib: ctypes.CDLL, op: str, shapes: str) -> None:
    s1, s2 = BROADCAST_SHAPES[shapes]
    q = ((0.05, -7),) * 3
    _check_binary(lib, op, s1, s2, q, None, _rng(op, shapes))


def test_binary_kernels_run_in_place(lib: ctypes.CDLL) -> None:
    q = QUANT["typical"]
    rng = _rng("in place")
    x1, x2 = _int8(rng, [4, 6, 5]), _int8(rng, [6, 1])
    want = run_tflm(_binary_model("ADD", [4, 6, 5], [6, 1], [4, 6, 5], q, "NONE"), [x1, x2])[0]
    a6, b6, o6 = broadcast_shapes6(x1.shape, x2.shape)
    p = elementwise.add_params(*q[0], *q[1], *q[2])
    lib.utc_add_s8(ptr(x1), ptr(x2), ptr(x1), ptr(a6), ptr(b6), ptr(o6),
                               *_scalars(p, _ADD_KEYS))
    np.testing.assert_array_equal(x1, want)


# ---------------------------------------------------------------------------------------
# SOFTMAX
# ---------------------------------------------------------------------------------------

def _softmax_model(shape: Sequence[int], in_q: tuple, beta: float, out_dtype: str) -> bytes:
    b = ModelBuilder("int8 softmax")
    x = b.add_tensor("x", shape, "int8", scale=in_q[0], zero_point=in_q[1])
    oq = (1 / 256, -128) if out_dtype == "int8" else (1 / 65536, -32768)
    y = b.add_tensor("y", shape, out_dtype, scale=oq[0], zero_point=oq[1])
    b.add_operator("SOFTMAX", [x], [y], {"beta": beta})
    return b.build([x], [y])


def _run_softmax(lib: ctypes.CDLL, x: np.ndarray, in_scale: float, beta: float,
                 out_dtype: str) -> np.ndarray:
    p = softmax.softmax_params(beta, in_scale, out_dtype)
    out = np.zeros(x.shape, np.int8 if out_dtype == "int8" else np.int16)
    depth = x.shape[-1]
    fn = lib.utc_softmax_s8 if out_dtype == "int8" else lib.utc_softmax_s8_s16
    fn(ptr(x), ptr(out), x.size // depth, depth,
       *_scalars(p, ["input_mult", "input_left_shift", "diff_min"]))
    return out


@pytest.mark.parametrize("out_dtype", ["int8", "int16"])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.1, 10.0, 1e-3])
@pytest.mark.parametrize("in_scale", [0.1, 0.01, 1.0, 1 / 256, 5.0, 0.0625, 3e-5])
def test_softmax_betas_and_scales(lib: ctypes.CDLL, out_dtype: str, beta: float,
                                  in_scale: float) -> None:
    if beta * in_scale * 2**26 <= 1.0:
        with pytest.raises(UnsupportedQuantization):
            softmax.softmax_params(beta, in_scale, out_dtype)
        return
    shape = [3, 2, 10]
    model = _softmax_model(shape, (in_scale, 5), beta, out_dtype)
    rng = _rng("softmax", out_dtype, beta, in_scale)
    for _ in range(3):
        x = _int8(rng, shape)
        np.testing.assert_array_equal(_run_softmax(lib, x, in_scale, beta, out_dtype),
                                      run_tflm(model, [x])[0])


@pytest.mark.parametrize("out_dtype", ["int8", "int16"])
@pytest.mark.parametrize("shape", [[1, 1], [5, 1], [1, 1001], [2, 3, 4, 7], [64, 3], [256],
                                   [2, 511]])
def test_softmax_shapes(lib: ctypes.CDLL, out_dtype: str, shape: list[int]) -> None:
    model = _softmax_model(shape, (0.08, -20), 1.0, out_dtype)
    rng = _rng("softmax shape", out_dtype, shape)
    xs = [_int8(rng, shape)]
    if shape[-1] <= 512 or out_dtype == "int16":
        # rows of equal values: exp sum = depth, above 512 TFLM aborts for int8 output
        xs += [np.full(shape, 127, np.int8), np.full(shape, -128, np.int8)]
    for x in xs:
        np.testing.assert_array_equal(_run_softmax(lib, x, 0.08, 1.0, out_dtype),
                                      run_tflm(model, [x])[0])


def test_softmax_multiplier_cap_and_zero_radius(lib: ctypes.CDLL) -> None:
    """beta * scale so large that the multiplier is capped at 2^31 - 1: only the maximum
    of each row survives (diff_min 0)."""
    p = softmax.softmax_params(1e6, 1.0)
    assert p.diff_min == 0 and p.input_left_shift == 31
    model = _softmax_model([4, 9], (1.0, 0), 1e6, "int8")
    x = _int8(_rng("cap"), [4, 9])
    np.testing.assert_array_equal(_run_softmax(lib, x, 1.0, 1e6, "int8"), run_tflm(model, [x])[0])


@pytest.mark.parametrize("out_dtype", ["int8", "int16"])
def test_softmax_random_beta_and_scale_sweep(lib: ctypes.CDLL, out_dtype: str) -> None:
    rng = _rng("softmax sweep", out_dtype)
    for _ in range(40):
        beta = _log_uniform(rng, 1e-3, 30.0)
        scale = _log_uniform(rng, 1e-5, 10.0)
        try:
            softmax.softmax_params(beta, scale, out_dtype)
        except UnsupportedQuantization:
            continue
        model = _softmax_model([4, 37], (scale, int(rng.integers(-128, 128))), beta, out_dtype)
        x = _int8(rng, [4, 37])
        np.testing.assert_array_equal(_run_softmax(lib, x, scale, beta, out_dtype),
                                      run_tflm(model, [x])[0], err_msg=f"{beta} {scale}")


def test_softmax_rows_tflm_cannot_normalise(lib: ctypes.CDLL) -> None:
    """A row of 1001 equal values: the exp sum exceeds 512 and TFLM's int8 softmax aborts
    (TFLITE_CHECK on the output shift); utc returns the rounded result, 1/1001 -> 0."""
    x = np.full((1, 1001), 3, np.int8)
    assert (_run_softmax(lib, x, 0.08, 1.0, "int8") == -128).all()
    x16 = _run_softmax(lib, x, 0.08, 1.0, "int16")
    assert (x16 == -32768 + round(65536 / 1001)).all()


def test_softmax_refuses_output_quantization_tflm_refuses() -> None:
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int8", output_scale=1 / 255, output_zp=-128)
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int8", output_scale=1 / 256, output_zp=0)
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int16", output_scale=1 / 65536, output_zp=0)
    softmax.softmax_params(1.0, 0.1, "int16", output_scale=1 / 65536, output_zp=-32768)


# ---------------------------------------------------------------------------------------
# LOGISTIC / TANH / HARD_SWISH / LEAKY_RELU / PRELU
# ---------------------------------------------------------------------------------------

def _unary_model(op: str, shape: Sequence[int], in_q: tuple | None, out_q: tuple | None,
                 options: dict | None = None, in_dtype: str = "int8",
                 out_dtype: str = "int8") -> bytes:
    b = ModelBuilder(f"{op}")
    x = b.add_tensor("x", shape, in_dtype, scale=None if in_q is None else in_q[0],
                     zero_point=None if in_q is None else in_q[1])
    y = b.add_tensor("y", shape, out_dtype, scale=None if out_q is None else out_q[0],
                     zero_point=None if out_q is None else out_q[1])
    b.add_operator(op, [x], [y], options)
    return b.build([x], [y])


def _run_unary(fn: ctypes._CFuncPtr, x: np.ndarray, scalars: Sequence,
               out_dtype: type = np.int8) -> np.ndarray:
    out = np.zeros(x.shape, out_dtype)
    fn(ptr(x), ptr(out), x.size, *scalars)
    return out


_Q4_KEYS = ["input_zp", "input_range_radius", "input_mult", "input_left_shift"]
IN_SCALES = [2**-20, 1e-4, 0.003, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0, 8.0, 17.0]
IN_ZPS = [-128, -5, 0, 60, 127]


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("in_scale", IN_SCALES)
def test_logistic_tanh_every_input(lib: ctypes.CDLL, op: str, in_scale: float) -> None:
    x = _all_int8()
    out_q = (1 / 256, -128) if op == "LOGISTIC" else (1 / 128, 0)
    for zp in IN_ZPS:
        model = _unary_model(op, x.shape, (in_scale, zp), out_q)
        if op == "LOGISTIC":
            p = activation.logistic_params(in_scale, zp, out_q[1])
            fn = lib.utc_logistic_s8
        else:
            p = activation.tanh_params(in_scale, zp)
            fn = lib.utc_tanh_s8
        np.testing.assert_array_equal(_run_unary(fn, x, _scalars(p, _Q4_KEYS)),
                                      run_tflm(model, [x])[0], err_msg=f"{op} {in_scale} {zp}")


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_logistic_tanh_random_scale_sweep(lib: ctypes.CDLL, op: str) -> None:
    """Input scales from 2^-28 (TFLM's smallest) to 64, every input value."""
    rng = _rng("q4 sweep", op)
    x = _all_int8()
    out_q = (1 / 256, -128) if op == "LOGISTIC" else (1 / 128, 0)
    for _ in range(40):
        scale, zp = _log_uniform(rng, 2**-28, 64.0), int(rng.integers(-128, 128))
        p = (activation.logistic_params(scale, zp) if op == "LOGISTIC" else activation.tanh_params(scale, zp))
        fn = lib.utc_logistic_s8 if op == "LOGISTIC" else lib.utc_tanh_s8
        model = _unary_model(op, x.shape, (scale, zp), out_q)
        np.testing.assert_array_equal(_run_unary(fn, x, _scalars(p, _Q4_KEYS)),
                                      run_tflm(model, [x])[0], err_msg=f"{op} {scale} {zp}")


def test_logistic_and_tanh_parameter_limits() -> None:
    with pytest.raises(UnsupportedQuantization):
        activation.logistic_params(0.1, 0, output_zp=0)  # TFLM demands -128
    with pytest.raises(UnsupportedQuantization):
        activation.tanh_params(2**-30, 0)  # TFLM's radius shift would be negative
    assert activation.tanh_params(20.0, 0).input_range_radius == 0


HS_QUANT = [  # (input (scale, zp), output (scale, zp))
    ((0.1, 2), (0.05, 3)),
    ((0.02, -128), (0.02, -128)),
    ((0.5, 0), (0.3, -20)),
    ((0.003, 10), (0.002, -100)),   # reluish multiplier < 1: right shift
    ((8.0, -3), (5.0, 7)),          # reluish multiplier > 1: saturating left shifts
    ((0.05, 60), (2.0, 0)),         # tiny output multiplier: RDBPOT(int16) by >= 16
    ((0.01, 127), (1e-4, 127)),     # output multiplier just below 1
    ((1e-3, 0), (0.07, -128)),
    ((0.001, 5), (1.0, 0)),         # output exponent -16: int16 RDBPOT mask wraps
    ((1e-4, -7), (2.0, 3)),         # output exponent -21
    ((1e-7, 0), (1e-7, 0)),         # relu-ish exponent -16
    ((3e-6, 100), (5e-6, -100)),
]


HS_KEYS = ["input_zp", "output_zp", "reluish_mult", "reluish_shift", "output_mult",
           "output_shift"]
LEAKY_KEYS = ["input_zp", "output_zp", "identity_mult", "identity_shift", "alpha_mult",
              "alpha_shift"]


def _check_all_inputs(fn, op: str, in_q: tuple, out_q: tuple, params: dict, keys: list[str],
                      options: dict | None = None) -> None:
    """Every int8 value through the kernel and through TFLM's single-`op` model."""
    x = _all_int8()
    model = _unary_model(op, x.shape, in_q, out_q, options)
    np.testing.assert_array_equal(_run_unary(fn, x, _scalars(params, keys)),
                                  run_tflm(model, [x])[0],
                                  err_msg=f"{op} {in_q} {out_q} {options}")


@pytest.mark.parametrize("case", range(len(HS_QUANT)))
def test_hard_swish_every_input(lib: ctypes.CDLL, case: int) -> None:
    in_q, out_q = HS_QUANT[case]
    _check_all_inputs(lib.utc_hard_swish_s8, "HARD_SWISH", in_q, out_q,
                      activation.hard_swish_params(*in_q, *out_q), HS_KEYS)


def test_hard_swish_random_scale_sweep(lib: ctypes.CDLL) -> None:
    rng = _rng("hard swish sweep")
    checked = 0
    while checked < 40:
        in_q = (_log_uniform(rng, 1e-4, 30.0), int(rng.integers(-128, 128)))
        out_q = (_log_uniform(rng, 1e-4, 30.0), int(rng.integers(-128, 128)))
        try:
            p = activation.hard_swish_params(*in_q, *out_q)
        except UnsupportedQuantization:
            continue
        _check_all_inputs(lib.utc_hard_swish_s8, "HARD_SWISH", in_q, out_q, p,
                          HS_KEYS)
        checked += 1


def test_hard_swish_refuses_output_multiplier_above_one() -> None:
    with pytest.raises(UnsupportedQuantization):
        activation.hard_swish_params(1.0, 0, 1e-3, 0)


LEAKY_CASES = [  # (input q, output q, alpha)
    ((0.1, 2), (0.05, 3), 0.2),
    ((0.1, 2), (0.1, 2), 0.01),
    ((0.05, -128), (0.08, 127), 1.5),
    ((0.05, 30), (0.04, -30), -0.5),
    ((0.02, 0), (0.03, 0), 0.0),
    ((1.0, -20), (0.01, 100), 0.3),
    ((0.003, 127), (0.5, -128), 3.0),
]


@pytest.mark.parametrize("case", range(len(LEAKY_CASES)))
def test_leaky_relu_every_input(lib: ctypes.CDLL, case: int) -> None:
    in_q, out_q, alpha = LEAKY_CASES[case]
    _check_all_inputs(lib.utc_leaky_relu_s8, "LEAKY_RELU", in_q, out_q,
                      activation.leaky_relu_params(*in_q, *out_q, alpha), LEAKY_KEYS, {"alpha": alpha})


def test_leaky_relu_random_sweep(lib: ctypes.CDLL) -> None:
    rng = _rng("leaky sweep")
    for _ in range(40):
        in_q = (_log_uniform(rng, 1e-3, 10.0), int(rng.integers(-128, 128)))
        out_q = (_log_uniform(rng, 1e-3, 10.0), int(rng.integers(-128, 128)))
        alpha = float(np.float32(rng.uniform(-3, 3)))
        _check_all_inputs(lib.utc_leaky_relu_s8, "LEAKY_RELU", in_q, out_q,
                          activation.leaky_relu_params(*in_q, *out_q, alpha), LEAKY_KEYS,
                          {"alpha": alpha})


PRELU_ALPHA_SHAPES = {
    "channel": ([1, 4, 5, 6], [6]),
    "channel_3d": ([1, 4, 5, 6], [1, 1, 6]),
    "full": ([1, 4, 5, 6], [4, 5, 6]),
    "scalar": ([2, 3, 7], [1]),
    "spatial": ([1, 4, 5, 6], [4, 5, 1]),
}
PRELU_QUANT = [  # input q, alpha q, output q
    ((0.1, 2), (0.01, 0), (0.05, 3)),
    ((0.05, -128), (0.004, -50), (0.1, 127)),
    ((0.5, 40), (0.02, 90), (0.02, -90)),
]


@pytest.mark.parametrize("shapes", sorted(PRELU_ALPHA_SHAPES))
@pytest.mark.parametrize("case", range(len(PRELU_QUANT)))
def test_prelu_alpha_broadcast(lib: ctypes.CDLL, shapes: str, case: int) -> None:
    in_shape, a_shape = PRELU_ALPHA_SHAPES[shapes]
    in_q, a_q, out_q = PRELU_QUANT[case]
    rng = _rng("prelu", shapes, case)
    alpha = _int8(rng, a_shape)
    b = ModelBuilder("int8 prelu")
    x = b.add_tensor("x", in_shape, "int8", scale=in_q[0], zero_point=in_q[1])
    a = b.add_tensor("alpha", a_shape, "int8", data=alpha, scale=a_q[0], zero_point=a_q[1])
    y = b.add_tensor("y", in_shape, "int8", scale=out_q[0], zero_point=out_q[1])
    b.add_operator("PRELU", [x, a], [y])
    model = b.build([x], [y])
    p = activation.prelu_params(*in_q, *a_q, *out_q)
    i6, a6, o6 = broadcast_shapes6(in_shape, a_shape)
    keys = ["input_zp", "alpha_zp", "output_zp", "identity_mult", "identity_shift",
            "alpha_mult", "alpha_shift"]
    for _ in range(3):
        xv = _int8(rng, in_shape)
        out = np.zeros(in_shape, np.int8)
        lib.utc_prelu_s8(ptr(xv), ptr(alpha), ptr(out), ptr(i6), ptr(a6), ptr(o6),
                                    *_scalars(p, keys))
        np.testing.assert_array_equal(out, run_tflm(model, [xv])[0])


# ---------------------------------------------------------------------------------------
# RELU family, QUANTIZE, DEQUANTIZE
# ---------------------------------------------------------------------------------------

_REQ_KEYS = ["input_zp", "output_zp", "mult", "shift", "act"]
RELU_QUANT = [
    ((0.1, 2), (0.1, 2)),
    ((0.1, 2), (0.05, -3)),
    ((0.02, -128), (0.3, 127)),
    ((1.0, 100), (0.004, -128)),
    ((0.004, -100), (0.7, 0)),
    ((0.05, 0), (0.05, 0)),
]


@pytest.mark.parametrize("op", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("case", range(len(RELU_QUANT)))
def test_relu_family_every_input(lib: ctypes.CDLL, op: str, case: int) -> None:
    in_q, out_q = RELU_QUANT[case]
    x = _all_int8()
    model = _unary_model(op, x.shape, in_q, out_q)
    if op == "RELU":
        p, want = activation.relu_params(*in_q, *out_q), run_tflm(model, [x])[0]
    elif op == "RELU6":
        p, want = activation.relu6_params(*in_q), run_tflm(model, [x])[0]
    else:  # TFLM has no RELU_N1_TO_1: LiteRT's reference kernel is the oracle
        p, want = activation.relu_n1_to_1_params(*in_q, *out_q), run_litert(model, [x])[0]
    got = _run_unary(lib.utc_requantize_s8, x, _scalars(p, _REQ_KEYS))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["RELU", "RELU6", "RELU_N1_TO_1", "QUANTIZE"])
def test_requantize_family_random_sweep(lib: ctypes.CDLL, op: str) -> None:
    rng = _rng("requant sweep", op)
    x = _all_int8()
    for _ in range(30):
        in_q = (_log_uniform(rng, 1e-4, 10.0), int(rng.integers(-128, 128)))
        out_q = (_log_uniform(rng, 1e-4, 10.0), int(rng.integers(-128, 128)))
        if op == "RELU6" and rng.integers(0, 2):
            out_q = in_q  # what the converter writes
        model = _unary_model(op, x.shape, in_q, out_q)
        oracle = run_litert if op == "RELU_N1_TO_1" else run_tflm
        if op == "RELU":
            p = activation.relu_params(*in_q, *out_q)
        elif op == "RELU6":
            p = activation.relu6_params(*in_q)
        elif op == "RELU_N1_TO_1":
            p = activation.relu_n1_to_1_params(*in_q, *out_q)
        else:
            p = activation.requantize_params(*in_q, *out_q)
        np.testing.assert_array_equal(
            _run_unary(lib.utc_requantize_s8, x, _scalars(p, _REQ_KEYS)),
            oracle(model, [x])[0], err_msg=f"{op} {in_q} {out_q}")


QUANTIZE_QUANT = RELU_QUANT + [((1e-5, 0), (1e-3, 5)), ((3.0, -7), (0.01, 9))]


@pytest.mark.parametrize("case", range(len(QUANTIZE_QUANT)))
def test_quantize_int8_to_int8(lib: ctypes.CDLL, case: int) -> None:
    in_q, out_q = QUANTIZE_QUANT[case]
    x = _all_int8()
    model = _unary_model("QUANTIZE", x.shape, in_q, out_q)
    p = activation.requantize_params(*in_q, *out_q)
    np.testing.assert_array_equal(
        _run_unary(lib.utc_requantize_s8, x, _scalars(p, _REQ_KEYS)),
        run_tflm(model, [x])[0])


@pytest.mark.parametrize("out_q", [(0.1, 0), (0.5, -3), (0.0235, -128), (2.0, 127), (1e-3, 17),
                                   (0.25, 0)])
def test_quantize_float_to_int8(lib: ctypes.CDLL, out_q: tuple) -> None:
    scale, zp = out_q
    rng = _rng("quantize", out_q)
    s = np.float32(scale)
    # random values, exact ties k + 1/2 of the scale, neighbours of the ties, extremes
    k = np.arange(-300, 300, dtype=np.float32)
    ties = (k + np.float32(0.5)) * s
    values = np.concatenate([
        (rng.standard_normal(2000) * 300 * scale).astype(np.float32), ties,
        np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf)),
        np.array([0.0, -0.0, 1e30, -1e30, 1e-30], np.float32)]).astype(np.float32)
    x = values.reshape(1, -1)
    model = _unary_model("QUANTIZE", x.shape, None, out_q, in_dtype="float32")
    p = quantize.quantize_params(*out_q)
    out = np.zeros(x.shape, np.int8)
    lib.utc_quantize_f32_s8(ptr(x), ptr(out), x.size, p.scale, p.zp)
    # beyond int32 TFLM's float->int conversion is undefined (x86 wraps): compare the rest
    ok = np.abs(values / s) < 2**31
    np.testing.assert_array_equal(out[0][ok], run_tflm(model, [x])[0][0][ok])
    assert out[0][values == np.float32(1e30)].item() == 127
    assert out[0][values == np.float32(-1e30)].item() == -128


def test_quantize_float_nan_and_infinities(lib: ctypes.CDLL) -> None:
    x = np.array([np.nan, np.inf, -np.inf], np.float32)
    out = np.zeros(3, np.int8)
    lib.utc_quantize_f32_s8(ptr(x), ptr(out), 3, 0.1, -5)
    assert out.tolist() == [-5, 127, -128]  # saturating, NaN -> zero point (Arm semantics)


@pytest.mark.parametrize("in_q", [(0.1, 0), (0.0235, -128), (3.7, 127), (1e-6, 5), (0.3, -1)])
def test_dequantize_every_input(lib: ctypes.CDLL, in_q: tuple) -> None:
    x = _all_int8()
    model = _unary_model("DEQUANTIZE", x.shape, in_q, None, out_dtype="float32")
    p = quantize.dequantize_params(*in_q)
    out = np.zeros(x.shape, np.float32)
    lib.utc_dequantize_s8_f32(ptr(x), ptr(out), x.size, p.scale, p.zp)
    np.testing.assert_array_equal(out.view(np.uint32), run_tflm(model, [x])[0].view(np.uint32))


# ---------------------------------------------------------------------------------------
# MEAN
# ---------------------------------------------------------------------------------------

MEAN_CASES = [  # input shape, axes, keep_dims
    ([1, 4, 4, 8], [1, 2], True),
    ([1, 4, 4, 8], [1, 2], False),
    ([2, 7, 5, 3], [2, 1], True),
    ([2, 3, 5, 7], [0], False),
    ([2, 3, 5, 7], [3], True),
    ([2, 3, 5, 7], [1, 3], False),
    ([2, 3, 5, 7], [0, 1, 2, 3], False),
    ([2, 3, 5, 7], [-1], False),
    ([2, 3, 5, 7], [1, 1, -3], True),
    ([6, 11], [0], False),
    ([6, 11], [1], True),
    ([9], [0], False),
    ([3, 4, 5], [0, 2], True),
    ([1, 1, 1, 16], [1, 2], True),
    ([1, 64, 48, 2], [1, 2], True),
    ([1, 3, 3, 1], [3], True),
]
MEAN_QUANT = [
    ((0.1, 2), (0.1, 2)),
    ((0.1, 2), (0.05, -3)),
    ((1.0, -128), (0.01, 127)),
    ((0.004, 127), (0.5, -128)),
    ((0.02, 0), (0.02, 0)),
]


@pytest.mark.parametrize("case", range(len(MEAN_CASES)))
@pytest.mark.parametrize("quant", range(len(MEAN_QUANT)))
def test_mean_axes(lib: ctypes.CDLL, case: int, quant: int) -> None:
    shape, axes, keep_dims = MEAN_CASES[case]
    in_q, out_q = MEAN_QUANT[quant]
    p = reduce.mean_params(*in_q, *out_q, shape, axes)
    layout = reduce.mean_layout(shape, axes)
    shape6 = np.array(layout.input_shape, np.int32)
    axes6 = np.array(layout.reduce_axes, np.int32)
    out_shape = ([1 if i in {a % len(shape) for a in axes} else d for i, d in enumerate(shape)]
                 if keep_dims else list(layout.output_shape))
    b = ModelBuilder("int8 mean")
    x = b.add_tensor("x", shape, "int8", scale=in_q[0], zero_point=in_q[1])
    ax = b.add_tensor("axes", [len(axes)], "int32", data=np.array(axes, np.int32))
    y = b.add_tensor("y", out_shape, "int8", scale=out_q[0], zero_point=out_q[1])
    b.add_operator("MEAN", [x, ax], [y], {"keep_dims": keep_dims})
    model = b.build([x], [y])
    rng = _rng("mean", case, quant)
    for xv in (_int8(rng, shape), _int8(rng, shape), np.full(shape, 127, np.int8),
               np.full(shape, -128, np.int8)):
        out = np.zeros(out_shape, np.int8)
        lib.utc_mean_s8(ptr(xv), ptr(out), ptr(shape6), ptr(axes6),
                               *_scalars(p, ["input_zp", "output_zp", "mult", "shift"]))
        np.testing.assert_array_equal(out, run_tflm(model, [xv])[0],
                                      err_msg=f"{shape} {axes} {in_q} {out_q}")


def test_mean_random_shapes_and_axes(lib: ctypes.CDLL) -> None:
    rng = _rng("mean sweep")
    for _ in range(40):
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 8, size=rank)]
        naxes = int(rng.integers(1, rank + 1))
        axes = [int(a) for a in rng.choice(rank, size=naxes, replace=False)]
        axes = [a - rank if rng.integers(0, 2) else a for a in axes]  # some negative
        keep_dims = bool(rng.integers(0, 2))
        in_q = (_log_uniform(rng, 1e-3, 10.0), int(rng.integers(-128, 128)))
        out_q = (_log_uniform(rng, 1e-3, 10.0), int(rng.integers(-128, 128)))
        p = reduce.mean_params(*in_q, *out_q, shape, axes)
        layout = reduce.mean_layout(shape, axes)
        shape6 = np.array(layout.input_shape, np.int32)
        axes6 = np.array(layout.reduce_axes, np.int32)
        resolved = {a % rank for a in axes}
        out_shape = ([1 if i in resolved else d for i, d in enumerate(shape)] if keep_dims
                     else list(layout.output_shape))
        b = ModelBuilder("int8 mean")
        x = b.add_tensor("x", shape, "int8", scale=in_q[0], zero_point=in_q[1])
        ax = b.add_tensor("axes", [len(axes)], "int32", data=np.array(axes, np.int32))
        y = b.add_tensor("y", out_shape, "int8", scale=out_q[0], zero_point=out_q[1])
        b.add_operator("MEAN", [x, ax], [y], {"keep_dims": keep_dims})
        model = b.build([x], [y])
        xv = _int8(rng, shape)
        out = np.zeros(out_shape, np.int8)
        lib.utc_mean_s8(ptr(xv), ptr(out), ptr(shape6), ptr(axes6),
                               *_scalars(p, ["input_zp", "output_zp", "mult", "shift"]))
        np.testing.assert_array_equal(out, run_tflm(model, [xv])[0],
                                      err_msg=f"{shape} {axes} {keep_dims} {in_q} {out_q}")
