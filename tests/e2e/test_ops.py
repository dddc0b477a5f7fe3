"""The operator sweep: every supported operator and its parameter variants, int8 and
float32, as single-operator models compiled by utc and compared with TFLite Micro
(bit-exact for int8, 1e-5 relative for float32). RELU_N1_TO_1, which TFLite Micro lacks,
is compared with LiteRT's reference kernels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.e2e.op_models import check_against_oracle, conv_like, int_const, single_op
from tests.e2e.op_models import tensor as op_tensor
from tests.kernel_harness import seeded_rng
from tests.oracle import TflmRunner, random_inputs
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
QIN, QIN2, QOUT = (0.05, -3), (0.08, 10), (0.1, 5)
SEED = 20261201


def _rng(*key: object) -> np.random.Generator:
    return seeded_rng(SEED, *key)


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


# SQUARED_DIFFERENCE has no options and no fused activation. Equal shapes take TFLM's flat
# loop, different ones its broadcasting loop (up to 6-D in the pinned build; older TFLM
# sources broadcast it in 4-D only).
SQUARED_DIFFERENCE_SHAPES = {
    "same": ([1, 4, 4, 8], [1, 4, 4, 8]),
    "channel": ([1, 5, 5, 6], [6]),
    "general": ([2, 1, 3, 1], [1, 4, 1, 5]),
    "rhs_row": ([3, 4, 7], [1, 1, 7]),
    "same_rank5": ([2, 3, 1, 4, 5], [2, 3, 1, 4, 5]),
    "rank5": ([2, 1, 3, 1, 4], [1, 2, 1, 5, 4]),
    "rank6": ([2, 1, 2, 3, 1, 3], [1, 3, 1, 3, 2, 1]),
    "odd": ([13], [13]),
}
# (in1, in2, out) (scale, zero point), output scales chosen so that outputs spread over
# the int8 range. "output_shift": an output multiplier above one (a positive shift on the
# squared difference); nearly equal input scales so that some rescaled differences are
# small enough not to saturate (tests/unit/test_squared_difference.py checks every pair).
SQUARED_DIFFERENCE_QUANT = {
    "typical": (QIN, QIN2, (0.5, -128)),
    "extreme_zp": ((0.02, -128), (0.5, 127), (60.0, -128)),
    "same_scales": ((0.1, 0), (0.1, 0), (2.0, -128)),
    "small_scales": ((0.01, 7), (0.012, -9), (0.02, -100)),
    "output_shift": ((0.02, 3), (0.0199, 3), (6.5e-8, -128)),
}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shapes", sorted(SQUARED_DIFFERENCE_SHAPES))
def test_squared_difference_shapes(shapes: str, dtype: str, tmp_path: Path) -> None:
    a, b = SQUARED_DIFFERENCE_SHAPES[shapes]
    out = list(np.broadcast_shapes(tuple(a), tuple(b)))
    q1, q2, qo = SQUARED_DIFFERENCE_QUANT["typical"] if dtype == "int8" else (None,) * 3
    model = single_op("SQUARED_DIFFERENCE", [(a, q1), (b, q2)], [(out, qo)], version=2
                      if dtype == "int8" else 1)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("quant", sorted(SQUARED_DIFFERENCE_QUANT))
def test_squared_difference_quantization(quant: str, tmp_path: Path) -> None:
    q1, q2, qo = SQUARED_DIFFERENCE_QUANT[quant]
    model = single_op("SQUARED_DIFFERENCE", [([3, 1, 9], q1), ([1, 4, 9], q2)],
                      [([3, 4, 9], qo)], version=2)
    check_against_oracle(model, tmp_path, samples=16)


def test_squared_difference_constant_operand(tmp_path: Path) -> None:
    rng = _rng("squared difference const")
    model = single_op("SQUARED_DIFFERENCE", [([1, 4, 4, 3], QIN), ([3], QIN2)],
                      [([1, 4, 4, 3], (0.3, -128))], version=2,
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


# ---- convolutions, fully connected, pooling, softmax -------------------------------------------

def _out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "SAME":
        return -(-size // stride)
    return -(-(size - (k - 1) * dilation) // stride)


CONV_CASES = {
    # name: (input [N, H, W, C], kernel (kh, kw), out channels / depth multiplier,
    #        stride, dilation, padding)
    "3x3_same": ([1, 9, 9, 3], (3, 3), 4, (1, 1), (1, 1), "SAME"),
    "3x3_valid_stride2": ([1, 11, 10, 5], (3, 3), 6, (2, 2), (1, 1), "VALID"),
    "odd_kernel_same_stride2": ([1, 10, 7, 2], (5, 2), 3, (2, 3), (1, 1), "SAME"),
    "dilated": ([1, 12, 12, 4], (3, 3), 5, (1, 1), (2, 3), "SAME"),
    "dilated_valid": ([1, 13, 11, 3], (2, 3), 2, (1, 2), (3, 2), "VALID"),
    "1x1_batch2": ([2, 5, 5, 8], (1, 1), 7, (1, 1), (1, 1), "VALID"),
}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", sorted(CONV_CASES))
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_convolutions(op: str, case: str, dtype: str, tmp_path: Path) -> None:
    x, (kh, kw), n, stride, dilation, padding = CONV_CASES[case]
    oh = _out_size(x[1], kh, stride[0], dilation[0], padding)
    ow = _out_size(x[2], kw, stride[1], dilation[1], padding)
    channels = n if op == "CONV_2D" else x[3] * (1 + n % 3)
    w_shape = [channels, kh, kw, x[3]] if op == "CONV_2D" else [1, kh, kw, channels]
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1],
            "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]}
    model = conv_like(op, x, w_shape, [x[0], oh, ow, channels], opts, dtype == "int8",
                      _rng(op, case, dtype))
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_weighted_fused_activations(op: str, act: str, dtype: str, tmp_path: Path) -> None:
    rng = _rng(op, act, dtype)
    if op == "FULLY_CONNECTED":
        model = conv_like(op, [3, 20], [7, 20], [3, 7], {"fused_activation_function": act},
                          dtype == "int8", rng)
    else:
        w = [4, 3, 3, 2] if op == "CONV_2D" else [1, 3, 3, 4]
        model = conv_like(op, [1, 6, 6, 2], w, [1, 6, 6, 4],
                          {"padding": "SAME", "fused_activation_function": act},
                          dtype == "int8", rng)
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("op,variant", [
    (op, v) for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
    for v in ("per_tensor", "no_bias", "extreme_input_zp", "tiny_scale")
    if (op, v) != ("DEPTHWISE_CONV_2D", "no_bias")])  # TFLite requires that bias (refused)
def test_weighted_quantization_variants(op: str, variant: str, tmp_path: Path) -> None:
    rng = _rng(op, variant)
    kw = {"per_channel": variant != "per_tensor" and op != "FULLY_CONNECTED",
          "bias": variant != "no_bias",
          "in_q": {"extreme_input_zp": (0.2, 127), "tiny_scale": (1e-4, -128)}.get(
              variant, (0.05, -3))}
    if op == "FULLY_CONNECTED":
        model = conv_like(op, [2, 33], [5, 33], [2, 5], {}, True, rng, **kw)
    else:
        w = [3, 2, 3, 4] if op == "CONV_2D" else [1, 2, 3, 8]
        model = conv_like(op, [1, 7, 6, 4], w, [1, 7, 6, w[0] if op == "CONV_2D" else 8],
                          {"padding": "SAME"}, True, rng, **kw)
    # TFLite Micro crashes (segmentation fault) on an int8 depthwise convolution with a
    # per-tensor quantized filter; LiteRT's reference kernel is the oracle for that one.
    crashes_tflm = op == "DEPTHWISE_CONV_2D" and variant == "per_tensor"
    check_against_oracle(model, tmp_path, oracle="litert" if crashes_tflm else "tflm")


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fully_connected_higher_rank(keep: bool, dtype: str, tmp_path: Path) -> None:
    out = [2, 3, 6] if keep else [6, 6]
    model = conv_like("FULLY_CONNECTED", [2, 3, 10], [6, 10], out, {"keep_num_dims": keep},
                      dtype == "int8", _rng("fc", keep, dtype), per_channel=False)
    check_against_oracle(model, tmp_path)


POOL_CASES = {
    "2x2_stride2_valid": ([1, 8, 8, 3], (2, 2), (2, 2), "VALID"),
    "3x3_stride2_same": ([1, 9, 7, 4], (3, 3), (2, 2), "SAME"),
    "odd_window_same": ([2, 5, 6, 2], (3, 2), (1, 2), "SAME"),
    "global": ([1, 6, 5, 8], (6, 5), (1, 1), "VALID"),
}


@pytest.mark.parametrize("act", ["NONE", "RELU6"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", sorted(POOL_CASES))
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pooling(op: str, case: str, dtype: str, act: str, tmp_path: Path) -> None:
    x, (fh, fw), (sh, sw), padding = POOL_CASES[case]
    out = [x[0], _out_size(x[1], fh, sh, 1, padding), _out_size(x[2], fw, sw, 1, padding), x[3]]
    q = (0.05, -3) if dtype == "int8" else None
    model = single_op(op, [(x, q)], [(out, q)], {
        "padding": padding, "stride_h": sh, "stride_w": sw, "filter_height": fh,
        "filter_width": fw, "fused_activation_function": act})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.5])
@pytest.mark.parametrize("shape", [[1, 10], [3, 7], [2, 3, 33]])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_softmax(shape: list[int], beta: float, dtype: str, tmp_path: Path) -> None:
    q = ((0.1, 3), (1 / 256, -128)) if dtype == "int8" else (None, None)
    model = single_op("SOFTMAX", [(shape, q[0])], [(shape, q[1])], {"beta": beta})
    check_against_oracle(model, tmp_path)


# ---- data movement ----------------------------------------------------------------------------

PAD_CASES = {
    "hw": ([1, 5, 6, 3], [[0, 0], [1, 2], [2, 1], [0, 0]]),
    "channels": ([1, 4, 4, 3], [[0, 0], [0, 0], [0, 0], [1, 4]]),
    "rank2": ([3, 5], [[2, 0], [1, 3]]),
    "rank3_batch": ([2, 3, 4], [[1, 1], [0, 2], [3, 0]]),
}


@pytest.mark.parametrize("case", sorted(PAD_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["PAD", "PADV2"])
def test_pad(op: str, dtype: str, case: str, tmp_path: Path) -> None:
    shape, pads = PAD_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    out = [d + a + b for d, (a, b) in zip(shape, pads)]
    inputs = [(shape, q), ([len(shape), 2], None)]
    consts = {1: int_const(pads)}
    if op == "PADV2":
        inputs.append(([], q))
        consts[2] = (np.array(42 if q else -1.5), None)
    model = single_op(op, inputs, [(out, q)], consts=consts)
    check_against_oracle(model, tmp_path)


CONCAT_CASES = {
    "channels": ([[1, 4, 4, 3], [1, 4, 4, 5]], 3),
    "negative_axis": ([[2, 3, 2], [2, 3, 7], [2, 3, 1]], -1),
    "rows": ([[2, 5], [3, 5], [1, 5], [4, 5]], 0),
    "middle": ([[1, 2, 3, 4], [1, 5, 3, 4]], 1),
}


@pytest.mark.parametrize("case", sorted(CONCAT_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_concatenation(case: str, dtype: str, tmp_path: Path) -> None:
    shapes, axis = CONCAT_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    model = single_op("CONCATENATION", [(s, q) for s in shapes], [(out, q)], {"axis": axis})
    check_against_oracle(model, tmp_path)


def test_concatenation_with_constant(tmp_path: Path) -> None:
    q = (0.05, -7)
    const = _rng("concat-const").integers(-128, 128, (1, 2, 3)).astype(np.int64)
    model = single_op("CONCATENATION", [([1, 2, 5], q), ([1, 2, 3], q)], [([1, 2, 8], q)],
                      {"axis": 2}, consts={1: (const, None)})
    check_against_oracle(model, tmp_path)


TRANSPOSE_CASES = {
    "2d": ([5, 7], [1, 0]),
    "nhwc_to_nchw": ([1, 4, 5, 3], [0, 3, 1, 2]),
    "3d": ([2, 3, 4], [2, 0, 1]),
    "5d": ([2, 1, 3, 2, 4], [4, 2, 0, 3, 1]),
}


@pytest.mark.parametrize("case", sorted(TRANSPOSE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_transpose(case: str, dtype: str, tmp_path: Path) -> None:
    shape, perm = TRANSPOSE_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    model = single_op("TRANSPOSE", [(shape, q), ([len(perm)], None)],
                      [([shape[p] for p in perm], q)], consts={1: int_const(perm)})
    check_against_oracle(model, tmp_path)


SLICE_CASES = {
    # (input shape, begin, end, strides, options, output shape)
    "simple": ([4, 6], [1, 2], [3, 5], [1, 1], {}, [2, 3]),
    "negative_indices": ([5, 7, 3], [-4, 0, -2], [-1, 7, 3], [1, 2, 1], {}, [3, 4, 2]),
    "negative_stride": ([6, 5], [5, 4], [0, 0], [-2, -1], {}, [3, 4]),
    "masks": ([1, 8, 8, 4], [0, 1, 0, 1], [0, 7, 0, 3], [1, 2, 1, 1],
              {"begin_mask": 0b0101, "end_mask": 0b0101}, [1, 3, 8, 2]),
    "shrink": ([3, 4, 5], [1, 0, 2], [2, 4, 3], [1, 1, 1], {"shrink_axis_mask": 0b101}, [4]),
    "clamped": ([4, 4], [-10, 1], [10, 100], [1, 3], {}, [4, 1]),
}


@pytest.mark.parametrize("case", sorted(SLICE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_strided_slice(case: str, dtype: str, tmp_path: Path) -> None:
    shape, begin, end, strides, opts, out = SLICE_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    r = len(shape)
    model = single_op("STRIDED_SLICE", [(shape, q), ([r], None), ([r], None), ([r], None)],
                      [(out, q)], opts,
                      consts={1: int_const(begin), 2: int_const(end), 3: int_const(strides)})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_split(axis: int, dtype: str, tmp_path: Path) -> None:
    shape = [6, 4, 9]
    q = (0.05, -7) if dtype == "int8" else None
    parts = 2 if axis == 1 else 3
    out = list(shape)
    out[axis] //= parts
    model = single_op("SPLIT", [([], None), (shape, q)], [(out, q)] * parts,
                      {"num_splits": parts}, consts={0: int_const(axis)})
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_split_v(dtype: str, tmp_path: Path) -> None:
    q = (0.05, -7) if dtype == "int8" else None
    model = single_op("SPLIT_V", [([2, 10, 3], q), ([3], None), ([], None)],
                      [([2, 3, 3], q), ([2, 5, 3], q), ([2, 2, 3], q)], {"num_splits": 3},
                      consts={1: int_const([3, -1, 2]), 2: int_const(1)})
    check_against_oracle(model, tmp_path)


# ---- block rearrangements and stacking (views around a transpose, concatenation, split) ----

BLOCK_CASES = {
    # (input shape, block size, output shape) for SPACE_TO_DEPTH; DEPTH_TO_SPACE inverts it
    "b2": ([1, 4, 6, 3], 2, [1, 2, 3, 12]),
    "b3_batch": ([2, 6, 3, 2], 3, [2, 2, 1, 18]),
    "b1": ([1, 3, 2, 5], 1, [1, 3, 2, 5]),
}


@pytest.mark.parametrize("case", sorted(BLOCK_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["SPACE_TO_DEPTH", "DEPTH_TO_SPACE"])
def test_block_rearrange(op: str, case: str, dtype: str, tmp_path: Path) -> None:
    space, block, depth = BLOCK_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    x, y = (space, depth) if op == "SPACE_TO_DEPTH" else (depth, space)
    model = single_op(op, [(x, q)], [(y, q)], {"block_size": block},
                      version=2 if dtype == "int8" else 1)
    check_against_oracle(model, tmp_path)


PACK_CASES = {
    # (input shape, count, axis)
    "front": ([3, 4], 3, 0),
    "middle": ([2, 5], 4, 1),
    "last_negative": ([2, 3, 2], 2, -1),
    "one": ([6], 1, 0),
}


@pytest.mark.parametrize("case", sorted(PACK_CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_pack(case: str, dtype: str, tmp_path: Path) -> None:
    shape, count, axis = PACK_CASES[case]
    q = {"int8": (0.05, -7), "int16": (0.001, 0), "float32": None}[dtype]
    out = list(shape)
    out.insert(axis % (len(shape) + 1), count)
    model = single_op("PACK", [(shape, q)] * count, [(out, q)],
                      {"values_count": count, "axis": axis},
                      version={"int8": 2, "int16": 3, "float32": 1}[dtype],
                      qdtype="int16" if dtype == "int16" else "int8")
    check_against_oracle(model, tmp_path)


def test_pack_with_constant(tmp_path: Path) -> None:
    q = (0.05, -7)
    const = _rng("pack-const").integers(-128, 128, (2, 3)).astype(np.int64)
    model = single_op("PACK", [([2, 3], q), ([2, 3], q)], [([2, 2, 3], q)],
                      {"values_count": 2, "axis": 1}, consts={0: (const, None)}, version=2)
    check_against_oracle(model, tmp_path)


UNPACK_CASES = {
    # (input shape, axis)
    "front": ([3, 4], 0),
    "middle": ([2, 4, 3], 1),
    "last_negative": ([2, 3, 2], -1),
}


@pytest.mark.parametrize("case", sorted(UNPACK_CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_unpack(case: str, dtype: str, tmp_path: Path) -> None:
    shape, axis = UNPACK_CASES[case]
    q = {"int8": (0.05, -7), "int16": (0.001, 0), "float32": None}[dtype]
    count = shape[axis]
    out = [d for k, d in enumerate(shape) if k != axis % len(shape)]
    model = single_op("UNPACK", [(shape, q)], [(out, q)] * count, {"num": count, "axis": axis},
                      version={"int8": 2, "int16": 4, "float32": 1}[dtype],
                      qdtype="int16" if dtype == "int16" else "int8")
    check_against_oracle(model, tmp_path)


# ---- GATHER --------------------------------------------------------------------------------

GATHER_CASES = {
    # (input shape, indices shape, axis, batch_dims)
    "rows": ([5, 3], [4], 0, 0),
    "middle_axis": ([2, 6, 3], [2, 2], 1, 0),
    "last_axis": ([2, 3, 7], [5], -1, 0),
    "scalar_index": ([4, 5], [], 1, 0),
    "batch_dims": ([2, 3, 5, 2], [2, 4], 2, 1),
}


def _gather_model(case: str, dtype: str, constant: bool, rng: np.random.Generator) -> tuple:
    shape, idx_shape, axis, batch = GATHER_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    a = axis % len(shape)
    out = shape[:a] + idx_shape[batch:] + shape[a + 1:]
    options = {"axis": axis, "batch_dims": batch}
    version = 5 if batch else (2 if dtype == "int8" else 1)
    if constant:
        indices = rng.integers(0, shape[a], size=idx_shape)
        model = single_op("GATHER", [(shape, q), (idx_shape, None)], [(out, q)], options,
                          consts={1: int_const(indices)}, version=version)
    else:
        b = ModelBuilder("utc op sweep: GATHER")
        x, i = op_tensor(b, "x", shape, q), op_tensor(b, "i", idx_shape, None, dtype="int32")
        y = op_tensor(b, "y", out, q)
        b.add_operator("GATHER", [x, i], [y], options, version=version)
        model = b.build([x, i], [y])
    return model, shape[a], idx_shape


@pytest.mark.parametrize("case", sorted(GATHER_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_gather_constant_indices(case: str, dtype: str, tmp_path: Path) -> None:
    model, _, _ = _gather_model(case, dtype, True, _rng("gather", case, dtype))
    check_against_oracle(model, tmp_path)


# a 0-D model input cannot be set through the tflite-micro Python interpreter ("Dimension
# mismatch"), so the scalar index is compared as a constant only
@pytest.mark.parametrize("case", sorted(set(GATHER_CASES) - {"scalar_index"}))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_gather_runtime_indices(case: str, dtype: str, tmp_path: Path) -> None:
    """Indices as a model input, drawn in range for every sample (TFLite Micro leaves an
    index out of range undefined, so there is nothing to compare there)."""
    rng = _rng("gather-runtime", case, dtype)
    model, axis_size, idx_shape = _gather_model(case, dtype, False, rng)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    batch = []
    for _ in range(8):
        x, _ = random_inputs(model, rng, 3.0)
        batch.append([x, rng.integers(0, axis_size, size=idx_shape).astype(np.int32)])
    runner = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        want = runner.run(sample)
        assert got[0].shape == want[0].shape
        assert np.array_equal(got[0], want[0]), f"sample {i}"


# ---- BROADCAST_TO, FILL, and the operators folded into constants (SHAPE, ZEROS_LIKE) -------

BROADCAST_TO_CASES = {
    "new_leading": ([3], [2, 3]),
    "middle": ([2, 1, 3], [2, 4, 3]),
    "all": ([1, 1], [3, 2, 4]),
    "rank5": ([1, 2, 1, 1, 3], [2, 2, 2, 3, 3]),
    "same": ([2, 3], [2, 3]),
}


@pytest.mark.parametrize("case", sorted(BROADCAST_TO_CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_broadcast_to(case: str, dtype: str, tmp_path: Path) -> None:
    shape, out = BROADCAST_TO_CASES[case]
    q = {"int8": (0.05, -7), "int16": (0.001, 0), "float32": None}[dtype]
    model = single_op("BROADCAST_TO", [(shape, q), ([len(out)], None)], [(out, q)],
                      consts={1: int_const(out)}, version={"int8": 2, "int16": 3, "float32": 1}[dtype],
                      qdtype="int16" if dtype == "int16" else "int8")
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fill_constant_value(dtype: str, tmp_path: Path) -> None:
    q = (0.05, -7) if dtype == "int8" else None
    value = np.array(-3 if q else -1.625)
    # FILL alone would have no model input: a RESHAPE beside it gives the model one
    b = ModelBuilder("utc op sweep: FILL")
    dims = op_tensor(b, "dims", [3], None, np.array([2, 4, 3]), dtype="int32")
    v = op_tensor(b, "v", [], q, value)
    y = op_tensor(b, "y", [2, 4, 3], q)
    x = op_tensor(b, "x", [2], q)
    x2 = op_tensor(b, "x2", [2], q)
    b.add_operator("FILL", [dims, v], [y])
    b.add_operator("RESHAPE", [x], [x2])
    model = b.build([x], [y, x2])
    check_against_oracle(model, tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fill_computed_value(dtype: str, tmp_path: Path) -> None:
    """The value comes from the model input (a [1] input viewed as a scalar: the tflite-micro
    Python interpreter cannot set a 0-D input), so FILL runs as a broadcast."""
    q = (0.05, -7) if dtype == "int8" else None
    b = ModelBuilder("utc op sweep: FILL")
    x = op_tensor(b, "x", [1], q)
    v = op_tensor(b, "v", [], q)
    dims = op_tensor(b, "dims", [4], None, np.array([2, 1, 4, 3]), dtype="int32")
    y = op_tensor(b, "y", [2, 1, 4, 3], q)
    b.add_operator("RESHAPE", [x], [v])
    b.add_operator("FILL", [dims, v], [y])
    check_against_oracle(b.build([x], [y]), tmp_path)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_shape_and_zeros_like_fold(dtype: str, tmp_path: Path) -> None:
    """SHAPE feeds a RESHAPE's shape operand and is a model output; ZEROS_LIKE (raw zeros,
    not the zero point) is added to the input and is a model output too."""
    q = (0.05, -7) if dtype == "int8" else None
    b = ModelBuilder("utc op sweep: SHAPE, ZEROS_LIKE")
    x = op_tensor(b, "x", [2, 3, 4], q)
    s = op_tensor(b, "s", [3], None, dtype="int32")
    r = op_tensor(b, "r", [2, 3, 4], q)
    z = op_tensor(b, "z", [2, 3, 4], q)
    y = op_tensor(b, "y", [2, 3, 4], q)
    b.add_operator("SHAPE", [x], [s], {"out_type": "INT32"})
    b.add_operator("RESHAPE", [x, s], [r])
    b.add_operator("ZEROS_LIKE", [r], [z])
    b.add_operator("ADD", [r, z], [y], {"fused_activation_function": "NONE"},
                   version=2 if q else 1)
    check_against_oracle(b.build([x], [s, z, y]), tmp_path)


# ---- ARG_MAX, ARG_MIN ----------------------------------------------------------------------

ARG_CASES = {
    # (input shape, axis)
    "last": ([2, 3, 7], -1),
    "first": ([5, 4], 0),
    "middle": ([1, 3, 6, 2], 1),
    "one_d": ([9], 0),
}


@pytest.mark.parametrize("case", sorted(ARG_CASES))
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max(op: str, case: str, dtype: str, tmp_path: Path) -> None:
    shape, axis = ARG_CASES[case]
    q = (0.05, -7) if dtype == "int8" else None
    out = [d for k, d in enumerate(shape) if k != axis % len(shape)]
    b = ModelBuilder(f"utc op sweep: {op}")
    x = op_tensor(b, "x", shape, q)
    a = op_tensor(b, "axis", [1], None, np.array([axis]), dtype="int32")
    y = op_tensor(b, "y", out, None, dtype="int32")
    b.add_operator(op, [x, a], [y], {"output_type": "INT32"}, version=2 if q else 1)
    check_against_oracle(b.build([x], [y]), tmp_path, samples=16)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max_ties(op: str, dtype: str, tmp_path: Path) -> None:
    """Inputs of few distinct values, so ties are common: the first index must win."""
    q = (0.05, -7) if dtype == "int8" else None
    b = ModelBuilder(f"utc op sweep: {op} ties")
    x = op_tensor(b, "x", [6, 8], q)
    a = op_tensor(b, "axis", [], None, np.array(1), dtype="int32")
    y = op_tensor(b, "y", [6], None, dtype="int32")
    b.add_operator(op, [x, a], [y], {"output_type": "INT32"}, version=2 if q else 1)
    model = b.build([x], [y])
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    rng = _rng("arg-ties", op, dtype)
    values = rng.integers(-2, 3, size=(8, 6, 8))
    batch = [[v.astype(np.int8 if q else np.float32)] for v in values]
    runner = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        assert np.array_equal(got[0], runner.run(sample)[0]), f"sample {i}"


# ---- float32 elementwise math ----------------------------------------------------------------

def _compare_with_tflm(model: bytes, tmp_path: Path, batch: list[list[np.ndarray]]) -> None:
    """Compile `model`, run `batch` (chosen inputs) and require bit-identical outputs."""
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path)
    runner = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        for k, (g, w) in enumerate(zip(got, runner.run(sample))):
            assert g.shape == w.shape and g.tobytes() == w.tobytes(), f"sample {i} output {k}"


MATH_OPS = ("ABS", "NEG", "FLOOR", "CEIL", "ROUND", "SQRT", "RSQRT", "EXP", "LOG")


@pytest.mark.parametrize("op", MATH_OPS)
def test_float_math(op: str, tmp_path: Path) -> None:
    """Seeded inputs over several magnitudes, plus values where the functions are delicate:
    halves (ROUND's ties, both parities and signs), signed zeros, integers, and for the
    roots and the logarithm negative inputs (NaN in both); bit-identical output."""
    rng = _rng("float-math", op)
    shape = [4, 33]
    model = single_op(op, [(shape, None)], [(shape, None)])
    special = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.0, -0.0, 3.0, -7.0, 1e-30, 80.0,
                        -80.0, 0.49999997, 1e7 + 1, -1e7 - 1], np.float32)
    batch = []
    for s in range(6):
        x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, size=shape)).astype(np.float32)
        if op in ("SQRT", "RSQRT", "LOG") and s < 4:
            x = np.abs(x)
        x.reshape(-1)[:special.size] = special
        batch.append([x])
    _compare_with_tflm(model, tmp_path, batch)


def test_float_math_chain_in_place(tmp_path: Path) -> None:
    """A chain of the functions, each output able to reuse its dying input's buffer."""
    b = ModelBuilder("utc op sweep: math chain")
    names = ["ABS", "SQRT", "LOG", "NEG", "EXP", "ROUND"]
    values = [op_tensor(b, f"t{k}", [3, 5], None) for k in range(len(names) + 1)]
    for k, name in enumerate(names):
        b.add_operator(name, [values[k]], [values[k + 1]])
    rng = _rng("math-chain")
    batch = [[(rng.standard_normal((3, 5)) * 4).astype(np.float32)] for _ in range(4)]
    _compare_with_tflm(b.build([values[0]], [values[-1]]), tmp_path, batch)



# ---- DIV (float32) -------------------------------------------------------------------------

@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6"])
@pytest.mark.parametrize("shapes", sorted(set(BROADCAST) - {"rank5"}) + ["rank5_div"])
def test_div(shapes: str, act: str, tmp_path: Path) -> None:
    """Divisors kept away from zero (|y| >= 0.25) so results stay finite, and a zero
    divisor case below; bit-identical with TFLite Micro."""
    a, b = ([2, 1, 3, 1, 4], [1, 2, 1, 5, 4]) if shapes == "rank5_div" else BROADCAST[shapes]
    out = list(np.broadcast_shapes(tuple(a), tuple(b)))
    model = single_op("DIV", [(a, None), (b, None)], [(out, None)],
                      {"fused_activation_function": act})
    rng = _rng("div", shapes, act)
    batch = []
    for _ in range(6):
        y = rng.uniform(0.25, 4.0, size=b) * rng.choice([-1.0, 1.0], size=b)
        batch.append([(rng.standard_normal(a) * 3).astype(np.float32), y.astype(np.float32)])
    _compare_with_tflm(model, tmp_path, batch)


def test_div_by_zero(tmp_path: Path) -> None:
    """x / 0 is +-inf (clamped to +-FLT_MAX by activation NONE, as in TFLite Micro) and
    0 / 0 is NaN."""
    model = single_op("DIV", [([6], None), ([6], None)], [([6], None)],
                      {"fused_activation_function": "NONE"})
    x = np.array([1.0, -2.0, 0.0, 3.0, -0.0, 5.0], np.float32)
    y = np.array([0.0, 0.0, 0.0, -0.0, 2.0, 1e-45], np.float32)
    _compare_with_tflm(model, tmp_path, [[x, y]])



# ---- RESIZE_NEAREST_NEIGHBOR (two gathers with constant indices) ---------------------------

RESIZE_CASES = {
    # (input shape, size, align_corners, half_pixel_centers)
    "up2": ([1, 3, 4, 2], [6, 8], False, False),
    "down": ([2, 8, 6, 3], [3, 4], False, False),
    "odd_align": ([1, 3, 5, 2], [7, 4], True, False),
    "half_pixel": ([1, 4, 5, 3], [9, 2], False, True),
    "rows_only": ([1, 2, 5, 1], [4, 5], False, False),
    "same": ([1, 3, 3, 2], [3, 3], False, False),
}


@pytest.mark.parametrize("case", sorted(RESIZE_CASES))
@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_resize_nearest_neighbor(case: str, dtype: str, tmp_path: Path) -> None:
    shape, size, align, half = RESIZE_CASES[case]
    q = {"int8": (0.05, -7), "int16": (0.001, 0), "float32": None}[dtype]
    out = [shape[0], *size, shape[3]]
    model = single_op("RESIZE_NEAREST_NEIGHBOR", [(shape, q), ([2], None)], [(out, q)],
                      {"align_corners": align, "half_pixel_centers": half},
                      consts={1: int_const(size)},
                      version={"int8": 2, "int16": 4, "float32": 1}[dtype] if not half else 3,
                      qdtype="int16" if dtype == "int16" else "int8")
    check_against_oracle(model, tmp_path)


# ---- MIRROR_PAD (one gather with constant indices per padded axis) -------------------------

MIRROR_CASES = {
    # (input shape, paddings)
    "hw": ([1, 4, 5, 2], [[0, 0], [2, 1], [1, 3], [0, 0]]),
    "widest": ([3, 4], [[2, 2], [3, 3]]),
    "one_side": ([2, 6], [[0, 1], [0, 0]]),
    "none": ([2, 3], [[0, 0], [0, 0]]),
}


@pytest.mark.parametrize("case", sorted(MIRROR_CASES))
@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_mirror_pad(case: str, mode: str, dtype: str, tmp_path: Path) -> None:
    shape, pads = MIRROR_CASES[case]
    if mode == "SYMMETRIC" and case == "widest":
        pads = [[3, 3], [4, 4]]  # SYMMETRIC may mirror the whole dimension
    q = (0.05, -7) if dtype == "int8" else None
    out = [d + p[0] + p[1] for d, p in zip(shape, pads)]
    model = single_op("MIRROR_PAD", [(shape, q), ([len(shape), 2], None)], [(out, q)],
                      {"mode": mode}, consts={1: int_const(pads)}, version=2 if q else 1)
    check_against_oracle(model, tmp_path)
