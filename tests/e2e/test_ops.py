"""The operator sweep: every supported operator and its parameter variants, int8 and
float32, as single-operator models compiled by utc and compared with TFLite Micro
(bit-exact for int8, 1e-5 relative for float32). RELU_N1_TO_1, which TFLite Micro lacks,
is compared with LiteRT's reference kernels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.e2e.op_models import check_against_oracle, int_const, single_op

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
QIN, QIN2, QOUT = (0.05, -3), (0.08, 10), (0.1, 5)
SEED = 20261201


def _rng(*key: object) -> np.random.Generator:
    import zlib

    return np.random.default_rng([SEED, *(zlib.crc32(repr(k).encode()) for k in key)])


# ---- binary elementwise -------------------------------------------------------------------

BROADCAST = {
    "same": ([1, 4, 4, 8], [1, 4, 4, 8]),
    "channel": ([1, 5, 5, 6], [6]),
    "general": ([2, 1, 3, 1], [1, 4, 1, 5]),
    "rank5": ([2, 1, 3, 1, 4], [1, 2, 1, 5, 4]),
    "odd": ([13], [13]),
}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shapes", sorted(BROADCAST))
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"])
def test_binary_broadcasting(op: str, shapes: str, dtype: str, tmp_path: Path) -> None:
    a, b = BROADCAST[shapes]
    out = list(np.broadcast_shapes(tuple(a), tuple(b)))
    same = op in ("MAXIMUM", "MINIMUM")
    q1, q2, qo = (QIN, QIN, QIN) if same else (QIN, QIN2, QOUT)
    if dtype == "float32":
        q1 = q2 = qo = None
    opts = None if same else {"fused_activation_function": "NONE"}
    model = single_op(op, [(a, q1), (b, q2)], [(out, qo)], opts)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
def test_binary_fused_activations(op: str, act: str, dtype: str, tmp_path: Path) -> None:
    qs = (QIN, QIN2, (0.02, -7)) if dtype == "int8" else (None, None, None)
    model = single_op(op, [([2, 3, 5], qs[0]), ([1, 3, 5], qs[1])], [([2, 3, 5], qs[2])],
                      {"fused_activation_function": act})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("quant", ["extreme_zp", "saturating", "tiny_scales"])
def test_binary_extreme_quantization(op: str, quant: str, tmp_path: Path) -> None:
    q = {"extreme_zp": ((0.02, -128), (0.5, 127), (0.3, -128)),
         "saturating": ((1.0, 0), (0.9, 50), (0.004, 127)),
         "tiny_scales": ((1e-4, 0), (3e-3, -7), (1e-3, 0))}[quant]
    model = single_op(op, [([3, 7], q[0]), ([3, 7], q[1])], [([3, 7], q[2])],
                      {"fused_activation_function": "NONE"})
    check_against_oracle(model, tmp_path)


def test_binary_constant_operand(tmp_path: Path) -> None:
    rng = _rng("const")
    model = single_op("MUL", [([1, 4, 4, 3], QIN), ([3], QIN2)], [([1, 4, 4, 3], QOUT)],
                      {"fused_activation_function": "RELU"},
                      consts={1: (rng.integers(-128, 128, 3), None)})
    check_against_oracle(model, tmp_path)


# ---- unary activations and (de)quantization ---------------------------------------------------

UNARY_INT8 = {
    "RELU": [((0.1, 3), (0.05, -128)), ((0.02, -128), (0.02, -128))],
    "RELU6": [((0.05, 3), (0.05, 3)), ((0.1, -100), (0.1, -100))],
    "RELU_N1_TO_1": [((0.02, 3), (1 / 127, 0))],
    "LOGISTIC": [((0.1, 3), (1 / 256, -128)), ((0.003, -128), (1 / 256, -128))],
    "TANH": [((0.1, 3), (1 / 128, 0)), ((0.5, 100), (1 / 128, 0))],
    "HARD_SWISH": [((0.1, 3), (0.05, -10)), ((0.03, -50), (0.02, -100))],
}


@pytest.mark.parametrize("op,variant", [(op, k) for op, qs in sorted(UNARY_INT8.items())
                                        for k in range(len(qs))])
def test_unary_int8(op: str, variant: int, tmp_path: Path) -> None:
    qin, qout = UNARY_INT8[op][variant]
    model = single_op(op, [([2, 4, 32], qin)], [([2, 4, 32], qout)])
    check_against_oracle(model, tmp_path, oracle="litert" if op == "RELU_N1_TO_1" else "tflm")


@pytest.mark.parametrize("op", sorted(UNARY_INT8))
def test_unary_float(op: str, tmp_path: Path) -> None:
    model = single_op(op, [([3, 5, 7], None)], [([3, 5, 7], None)])
    check_against_oracle(model, tmp_path, oracle="litert" if op == "RELU_N1_TO_1" else "tflm")


@pytest.mark.parametrize("alpha", [0.2, -0.5, 1.5])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_leaky_relu(alpha: float, dtype: str, tmp_path: Path) -> None:
    qin, qout = ((0.05, 3), (0.04, -10)) if dtype == "int8" else (None, None)
    model = single_op("LEAKY_RELU", [([4, 33], qin)], [([4, 33], qout)], {"alpha": alpha})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("alpha_shape", [[6], [1, 1, 6], [5, 5, 6]])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_prelu(alpha_shape: list[int], dtype: str, tmp_path: Path) -> None:
    rng = _rng("prelu", alpha_shape, dtype)
    qa = (0.01, 4) if dtype == "int8" else None
    alpha = (rng.integers(-128, 128, alpha_shape) if dtype == "int8"
             else rng.uniform(-1, 1, alpha_shape).astype(np.float32))
    q = (0.05, 3) if dtype == "int8" else None
    model = single_op("PRELU", [([1, 5, 5, 6], q), (alpha_shape, qa)],
                      [([1, 5, 5, 6], (0.03, -5) if q else None)], consts={1: (alpha, None)})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("qout", [(0.05, -3), (0.5, 127), (0.01, -128)])
def test_quantize_float_to_int8(qout: tuple, tmp_path: Path) -> None:
    model = single_op("QUANTIZE", [([3, 50], None)], [([3, 50], qout)])
    check_against_oracle(model, tmp_path, float_scale=5.0)


@pytest.mark.parametrize("qin,qout", [((0.05, -3), (0.1, 10)), ((0.1, 0), (0.01, -128)),
                                      ((0.02, 5), (0.02, 5))])
def test_requantize_int8(qin: tuple, qout: tuple, tmp_path: Path) -> None:
    model = single_op("QUANTIZE", [([2, 64], qin)], [([2, 64], qout)])
    check_against_oracle(model, tmp_path)


def test_dequantize(tmp_path: Path) -> None:
    model = single_op("DEQUANTIZE", [([4, 40], (0.037, -11))], [([4, 40], None)])
    check_against_oracle(model, tmp_path)


# ---- reductions and shapes --------------------------------------------------------------------

MEAN_CASES = {
    "hw": ([1, 5, 7, 3], [1, 2]),
    "last": ([2, 3, 9], [2]),
    "all": ([2, 3, 4, 5], [0, 1, 2, 3]),
    "first": ([4, 6], [0]),
    "negative": ([1, 6, 6, 8], [-3, -2]),
}


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("case", sorted(MEAN_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_mean(case: str, keep: bool, dtype: str, tmp_path: Path) -> None:
    shape, axes = MEAN_CASES[case]
    rank = len(shape)
    resolved = sorted({a % rank for a in axes})
    out = [1 if i in resolved else d for i, d in enumerate(shape)] if keep else \
        [d for i, d in enumerate(shape) if i not in resolved]
    q = ((0.05, -3), (0.03, 7)) if dtype == "int8" else (None, None)
    model = single_op("MEAN", [(shape, q[0]), ([len(axes)], None)], [(out, q[1])],
                      {"keep_dims": keep}, consts={1: int_const(axes)})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("op", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_reshape_like(op: str, dtype: str, tmp_path: Path) -> None:
    q = (0.05, -3) if dtype == "int8" else None
    if op == "RESHAPE":
        model = single_op(op, [([1, 4, 6], q), ([2], None)], [([6, 4], q)],
                          consts={1: int_const([6, 4])})
    elif op == "SQUEEZE":
        model = single_op(op, [([1, 4, 1, 6], q)], [([4, 6], q)], {"squeeze_dims": [0, 2]})
    else:
        model = single_op(op, [([4, 6], q), ([], None)], [([4, 1, 6], q)],
                          consts={1: int_const(1)})
    check_against_oracle(model, tmp_path)
