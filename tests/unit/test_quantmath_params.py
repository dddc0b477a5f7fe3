"""Unit tests of passes/quantmath/{elementwise,activation,softmax,reduce,quantize}.py: the
compile-time constants of utc's int8 elementwise, nonlinear and mean kernels.

Expected values are worked out by hand from TFLite Micro's Prepare code (comments show the
arithmetic); the end-to-end agreement with TFLM itself is in test_kernels_s8_elementwise.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from utc.dialects import qnn
from utc.dialects.shape_math import broadcast_shapes6, pad_shape6
from utc.passes.quantmath import activation, elementwise, quantize, reduce, requant, softmax
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier


def _real(mult: int, shift: int) -> float:
    return mult * 2.0 ** (shift - 31)


# ---- helpers -------------------------------------------------------------------------------

def test_unsupported_quantization_is_a_value_error() -> None:
    assert issubclass(UnsupportedQuantization, ValueError)


def test_pad_shape6() -> None:
    assert pad_shape6([4, 5]).tolist() == [1, 1, 1, 1, 4, 5]
    assert pad_shape6([]).tolist() == [1] * 6
    assert pad_shape6([1, 2, 3, 4, 5, 6]).dtype == np.int32
    with pytest.raises(ValueError):
        pad_shape6([1] * 7)


def test_broadcast_shapes6() -> None:
    a, b, out = broadcast_shapes6([2, 1, 3], [4, 1])
    assert a.tolist() == [1, 1, 1, 2, 1, 3]
    assert b.tolist() == [1, 1, 1, 1, 4, 1]
    assert out.tolist() == [1, 1, 1, 2, 4, 3]
    assert broadcast_shapes6([], [5])[2].tolist() == [1, 1, 1, 1, 1, 5]
    with pytest.raises(ValueError):
        broadcast_shapes6([2, 3], [4, 3])


@pytest.mark.parametrize("act, scale, zp, want", [
    ("none", 0.1, 3, (-128, 127)),
    ("NONE", 0.1, 3, (-128, 127)),
    ("relu", 0.1, 5, (5, 127)),
    ("RELU", 0.1, -128, (-128, 127)),
    ("relu6", 6 / 255, -128, (-128, 127)),      # 6 / scale = 255: -128 + 255 clamps to 127
    ("relu6", 0.1, 0, (0, 60)),
    ("relu_n1_to_1", 1 / 128, 0, (-128, 127)),  # -1 / (1/128) = -128, 1 / (1/128) = 128
    ("relu_n1_to_1", 0.1, 3, (-7, 13)),
    ("relu_n1_to_1", 0.08, 0, (-13, 13)),       # 12.5 rounds half away from zero
])
def test_activation_range(act: str, scale: float, zp: int, want: tuple[int, int]) -> None:
    assert activation.activation_range(act, scale, zp) == want


def test_activation_range_refuses_what_tflm_ignores_or_refuses() -> None:
    with pytest.raises(UnsupportedQuantization):
        activation.activation_range("tanh", 0.1, 0)  # TFLM silently ignores it on int8 ops
    with pytest.raises(UnsupportedQuantization):
        activation.activation_range("relu6", 1e-12, 0)  # 6 / scale overflows int32: TFLM refuses


def test_zero_points_and_scales_are_validated() -> None:
    with pytest.raises(UnsupportedQuantization):
        elementwise.add_params(0.1, 128, 0.1, 0, 0.1, 0)
    with pytest.raises(UnsupportedQuantization):
        elementwise.mul_params(0.1, 0, 0.0, 0, 0.1, 0)
    with pytest.raises(UnsupportedQuantization):
        activation.requantize_params(float("nan"), 0, 0.1, 0)


# ---- binary elementwise ----------------------------------------------------------------

def test_add_params_equal_scales() -> None:
    # inputs: 0.1 / (2 * 0.1) = 0.5 -> (2^30, 0); output: 0.2 / (2^20 * 0.1) = 2^-19
    p = elementwise.add_params(0.1, 1, 0.1, -2, 0.1, 3, "relu")
    assert (p.lhs_mult, p.lhs_shift) == (1 << 30, 0)
    assert (p.rhs_mult, p.rhs_shift) == (1 << 30, 0)
    assert (p.output_mult, p.output_shift) == (1 << 30, -18)
    assert p.left_shift == 20
    assert (p.lhs_zp, p.rhs_zp, p.output_zp) == (1, -2, 3)
    assert (p.act[0], p.act[1]) == (3, 127)


def test_fields_are_the_qnn_op_attributes_in_order() -> None:
    """lower-to-qnn copies `.attrs()` onto the op unrenamed: every field must be an
    attribute the op declares, in the order the printer writes them."""
    for params, op in ((elementwise.add_params(0.1, 0, 0.2, 0, 0.3, 0), qnn.AddOp),
                       (elementwise.mul_params(0.1, 0, 0.2, 0, 0.3, 0), qnn.MulOp),
                       (activation.relu_params(0.1, 0, 0.2, 0), qnn.RequantizeOp),
                       (softmax.softmax_params(1.0, 0.1), qnn.SoftmaxOp),
                       (activation.tanh_params(0.1, 3), qnn.TanhOp)):
        declared = [*op.attributes, *op.optional_attributes]
        assert list(params.attrs()) == [k for k in declared if k in params.attrs()]
        assert set(params.attrs()) <= set(declared)
    assert list(elementwise.add_params(0.1, 0, 0.2, 0, 0.3, 0).attrs()) == [
        "lhs_zp", "rhs_zp", "output_zp", "left_shift", "lhs_mult", "lhs_shift", "rhs_mult",
        "rhs_shift", "output_mult", "output_shift", "act"]


def test_add_params_uses_double_precision_of_float32_scales() -> None:
    # 0.05 / (2 * 0.08) in double from the float32 scales, not 0.3125 (float32 rounding)
    p = elementwise.add_params(0.05, 0, 0.08, 0, 0.1, 0)
    real = float(np.float32(0.05)) / (2.0 * float(np.float32(0.08)))
    assert p.lhs_mult == round(real * 2**32) and p.lhs_shift == -1
    assert p.lhs_mult != 1342177280  # what float32 arithmetic would give


def test_add_params_random_scales_stay_in_tflm_range() -> None:
    rng = np.random.default_rng(5)
    for _ in range(500):
        s = [float(10 ** rng.uniform(-5, 1)) for _ in range(3)]
        try:
            p = elementwise.add_params(s[0], 0, s[1], 0, s[2], 0)
        except UnsupportedQuantization:
            assert 2 * max(s[:2]) / (2**20 * float(np.float32(s[2]))) >= 0.99
            continue
        for k in ("lhs", "rhs", "output"):
            m, sh = getattr(p, f"{k}_mult"), getattr(p, f"{k}_shift")
            # a ratio below 2^-32 flushes to (0, 0), as TFLite's QuantizeMultiplier
            assert (2**30 <= m < 2**31 and sh <= 0) or (m, sh) == (0, 0)
        twice = 2 * max(float(np.float32(x)) for x in s[:2])
        assert p.output_mult == 0 or math.isclose(_real(p.output_mult, p.output_shift),
                            twice / (2**20 * float(np.float32(s[2]))), rel_tol=2**-30)


def test_add_params_refuses_tiny_output_scale() -> None:
    with pytest.raises(UnsupportedQuantization, match="ADD output"):
        elementwise.add_params(1.0, 0, 1.0, 0, 1e-7, 0)


def test_sub_params_match_add_params() -> None:
    args = (0.05, -3, 0.08, 10, 0.1, 5, "relu6")
    assert elementwise.sub_params(*args) == elementwise.add_params(*args)


def test_mul_params() -> None:
    p = elementwise.mul_params(0.5, 1, 0.25, 2, 0.125, 3, "none")
    assert (p.output_mult, p.output_shift) == (1 << 30, 1)  # 0.5 * 0.25 / 0.125 = 1
    p = elementwise.mul_params(0.02, 0, 0.03, 0, 0.1, 0)
    assert math.isclose(_real(p.output_mult, p.output_shift),
                        float(np.float32(0.02)) * float(np.float32(0.03)) /
                        float(np.float32(0.1)), rel_tol=2**-30)


# ---- softmax ---------------------------------------------------------------------------

def test_softmax_params_power_of_two() -> None:
    # beta * scale * 2^26 = 2^-8 * 2^26 = 2^18: (2^30, 19); radius 31 * 2^26 / 2^19 = 3968
    assert softmax.softmax_params(1.0, 1 / 256).attrs() == {"input_mult": 1 << 30, "input_left_shift": 19,
                                              "diff_min": -3968}


def test_softmax_params_typical() -> None:
    p = softmax.softmax_params(1.0, 0.1)
    real = float(np.float32(0.1)) * 2**26
    assert p.input_left_shift == 23
    assert p.input_mult == round(real / 2**23 * 2**31)
    assert p.diff_min == -math.floor(31 * 2**26 / 2**23)  # -248


def test_softmax_params_cap_and_limits() -> None:
    assert softmax.softmax_params(1e6, 1.0).attrs() == {"input_mult": 2**31 - 1, "input_left_shift": 31,
                                          "diff_min": 0}
    with pytest.raises(UnsupportedQuantization, match="too small"):
        softmax.softmax_params(1.0, 2**-27)
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int32")


def test_softmax_output_quantization_checks() -> None:
    softmax.softmax_params(1.0, 0.1, "int8", output_scale=1 / 256, output_zp=-128)
    softmax.softmax_params(1.0, 0.1, "int16", output_scale=1.0005 / 65536, output_zp=-32768)
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int16", output_scale=1.002 / 65536, output_zp=-32768)
    with pytest.raises(UnsupportedQuantization):
        softmax.softmax_params(1.0, 0.1, "int8", output_scale=1 / 256, output_zp=-127)


# ---- logistic / tanh -------------------------------------------------------------------

def test_logistic_params() -> None:
    # 0.1f * 2^27 = 13421773.0: frexp mantissa 0.8000000119, exponent 24
    p = activation.logistic_params(0.1, 7)
    assert p.attrs() == {"input_zp": 7, "input_range_radius": 120, "input_mult": 1717986944,
                 "input_left_shift": 24}
    assert activation.tanh_params(0.1, 7) == p


def test_logistic_params_power_of_two_and_extremes() -> None:
    p = activation.tanh_params(1 / 16, 0)  # 2^-4 * 2^27 = 2^23: mantissa 0.5, exponent 24
    assert (p.input_mult, p.input_left_shift, p.input_range_radius) == (1 << 30, 24, 120)
    assert activation.tanh_params(2**-28, 0).input_left_shift == 0  # smallest TFLM handles
    assert activation.tanh_params(2**-28, 0).input_range_radius == 15 * 2**27
    assert activation.logistic_params(16.0, 0).input_range_radius == 0
    with pytest.raises(UnsupportedQuantization):
        activation.tanh_params(2**-29, 0)
    with pytest.raises(UnsupportedQuantization):
        activation.logistic_params(0.1, 0, output_zp=0)
    activation.logistic_params(0.1, 0, output_zp=None)


# ---- hard swish ------------------------------------------------------------------------

@pytest.mark.parametrize("mult, want", [
    (1 << 30, 16384), (2**31 - 1, 32767), (2**31 - 32768, 32767), (2**31 - 32769, 32767),
    ((1 << 30) + (1 << 15) - 1, 16384), ((1 << 30) + (1 << 15), 16385), (0, 0),
])
def test_downscale_to_int16(mult: int, want: int) -> None:
    assert activation._downscale_to_int16(mult) == want


def test_hard_swish_params() -> None:
    # hires = 0.1 / 128; output 0.1 / 128 / 0.05 = 1/64 -> (2^30, -5) -> int16 16384
    p = activation.hard_swish_params(0.1, 2, 0.05, 3)
    assert (p.output_mult, p.output_shift) == (16384, -5)
    # relu-ish: (0.1 / 128) / (3 / 32768) = 8.533 -> exponent 4
    assert p.reluish_shift == 4
    hires = np.float32(1 / 128) * np.float32(0.1)
    real = float(hires / (np.float32(3) / np.float32(32768)))
    assert abs(p.reluish_mult / 2**15 * 2**4 - real) < 2**-10
    assert (p.input_zp, p.output_zp) == (2, 3)
    with pytest.raises(UnsupportedQuantization):
        activation.hard_swish_params(1.0, 0, 1 / 256, 0)  # output multiplier 2: exponent 1


# ---- leaky relu / prelu ------------------------------------------------------------------

def test_leaky_relu_params() -> None:
    p = activation.leaky_relu_params(0.1, 2, 0.1, 3, 0.5)
    assert (p.identity_mult, p.identity_shift) == (1 << 30, 1)
    assert p.alpha_shift == 0 and abs(_real(p.alpha_mult, 0) - 0.5) < 2**-28
    neg = activation.leaky_relu_params(0.1, 2, 0.1, 3, -0.5)
    assert neg.alpha_mult == -p.alpha_mult and neg.alpha_shift == p.alpha_shift
    zero = activation.leaky_relu_params(0.1, 2, 0.1, 3, 0.0)
    assert (zero.alpha_mult, zero.alpha_shift) == (0, 0)


def test_leaky_relu_params_use_double_products() -> None:
    # input_scale * alpha / output_scale in double from the float32 values, as the
    # tflite-micro oracle computes it (tests/e2e/test_scale_precision.py): here the float32
    # evaluation gives a different Q31 multiplier
    si, so, alpha = 0.06240218132734299, 0.06952571868896484, 0.378400057554245
    p = activation.leaky_relu_params(si, 0, so, 0, alpha)
    f64 = float(np.float32(si)) * float(np.float32(alpha)) / float(np.float32(so))
    f32 = float(np.float32(si) * np.float32(alpha) / np.float32(so))
    assert (p.alpha_mult, p.alpha_shift) == quantize_multiplier(f64) != quantize_multiplier(f32)


def test_prelu_params() -> None:
    p = activation.prelu_params(0.5, 1, 0.25, -2, 0.125, 3)
    assert (p.identity_mult, p.identity_shift) == (1 << 30, 3)  # 0.5 / 0.125 = 4
    assert (p.alpha_mult, p.alpha_shift) == (1 << 30, 1)        # 0.5 * 0.25 / 0.125
    assert (p.input_zp, p.alpha_zp, p.output_zp) == (1, -2, 3)


# ---- requantize family -------------------------------------------------------------------

def test_relu_params() -> None:
    p = activation.relu_params(0.1, 2, 0.05, -3)
    assert (p.mult, p.shift) == (1 << 30, 2)  # 0.1 / 0.05 = 2
    assert (p.act[0], p.act[1]) == (-3, 127)
    assert (p.input_zp, p.output_zp) == (2, -3)


def test_relu6_params_clamp_on_the_input_quantization() -> None:
    p = activation.relu6_params(0.1, -20)
    assert p.attrs() == {"input_zp": -20, "output_zp": -20, "mult": 1 << 30, "shift": 1,
                         "act": (-20, 40)}
    assert activation.relu6_params(0.01, 0).act[1] == 127  # 600 clamps to int8


def test_relu_n1_to_1_params() -> None:
    p = activation.relu_n1_to_1_params(0.1, 0, 0.1, 3)
    assert (p.act[0], p.act[1]) == (-7, 13)
    assert (p.mult, p.shift) == (1 << 30, 1)


def test_requantize_params() -> None:
    p = activation.requantize_params(0.3, 5, 0.1, -5)
    real = float(np.float32(0.3)) / float(np.float32(0.1))  # double ratio of float32 scales
    assert abs(_real(p.mult, p.shift) - real) <= 2.0 ** (p.shift - 32)
    assert (p.act[0], p.act[1]) == (-128, 127)


def test_requantize_params_into_int32() -> None:
    """QUANTIZE int16 -> int32 (TFLM's Requantize): the whole int32 range, any int32
    zero point; a zero point beyond int32 is refused."""
    p = activation.requantize_params(0.000625, 0, 3.0518509e-05, 70000, "i16", "i32")
    real = float(np.float32(0.000625)) / float(np.float32(3.0518509e-05))
    assert abs(_real(p.mult, p.shift) - real) <= 2.0 ** (p.shift - 32)
    assert (p.act[0], p.act[1], p.output_zp) == (-(2**31), 2**31 - 1, 70000)
    with pytest.raises(UnsupportedQuantization, match="outside the int32 range"):
        activation.requantize_params(0.1, 0, 0.1, 2**31, "i8", "i32")


def test_quantize_and_dequantize_params_are_float32() -> None:
    q = quantize.quantize_params(0.1, -3)
    assert q.attrs() == {"scale": float(np.float32(0.1)), "zp": -3}
    d = quantize.dequantize_params(0.0235, 127)
    assert d.scale == float(np.float32(0.0235)) and d.zp == 127


# ---- mean ----------------------------------------------------------------------------------

def test_mean_params_global_average_pool() -> None:
    # n = 16: k = floor(log2 16) = 4; (2^30 << 4) // 16 = 2^30, shift 1 - 4 = -3
    p = reduce.mean_params(0.1, 2, 0.1, 3, [1, 4, 4, 8], [1, 2])
    layout = reduce.mean_layout([1, 4, 4, 8], [1, 2])
    assert layout.input_shape == (1, 1, 1, 4, 4, 8)
    assert layout.reduce_axes == (0, 0, 0, 1, 1, 0)
    assert (p.mult, p.shift, layout.num_elements) == (1 << 30, -3, 16)
    assert layout.output_shape == (1, 8)
    assert (p.input_zp, p.output_zp) == (2, 3)


def test_mean_params_non_power_of_two_count() -> None:
    # n = 7: k = 2; (2^30 << 2) // 7 = 613566756 (truncating), shift 1 - 2
    p = reduce.mean_params(0.1, 0, 0.1, 0, [7, 3], [0])
    assert (p.mult, p.shift) == ((1 << 32) // 7, -1)
    assert reduce.mean_layout([7, 3], [0]).reduce_axes == (0, 0, 0, 0, 1, 0)


def test_mean_params_fold_shift_is_clamped() -> None:
    # input/output = 2^-30: (2^30, -29); k = min(log2 64 = 6, 32, 31 - 29 = 2) = 2
    p = reduce.mean_params(2.0**-30, 0, 1.0, 0, [64], [0])
    assert (p.mult, p.shift) == ((1 << 32) // 64, -31)


def test_mean_params_negative_and_repeated_axes() -> None:
    a = reduce.mean_params(0.1, 0, 0.2, 0, [2, 3, 5, 7], [1, -1, 3, -3])
    b = reduce.mean_params(0.1, 0, 0.2, 0, [2, 3, 5, 7], [1, 3])
    assert (a.mult, a.shift) == (b.mult, b.shift)
    la = reduce.mean_layout([2, 3, 5, 7], [1, -1, 3, -3])
    lb = reduce.mean_layout([2, 3, 5, 7], [1, 3])
    assert (la.num_elements, la.output_shape) == (lb.num_elements, lb.output_shape)
    assert la.reduce_axes == (0, 0, 0, 1, 0, 1)
    assert la.num_elements == 21
    with pytest.raises(ValueError):
        reduce.mean_params(0.1, 0, 0.2, 0, [2, 3], [2])


# ---- the vectorized per-channel form equals the scalar one ---------------------------


def _scalar_conv_requant(input_scale, filter_scales, output_scale):
    """conv_requant_params as it was written: one channel at a time in Python floats."""
    mults, shifts = [], []
    for fs in filter_scales:
        real = float(np.float32(input_scale)) * float(np.float32(fs)) / float(np.float32(output_scale))
        m, s = requant.quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    return np.array(mults, np.int32), np.array(shifts, np.int32)


_EDGE_REALS = [0.0, 1.0, 0.5, 0.75, 2.0**-31, 2.0**-32, 2.0**-33, 2.0**-40, 1e-300, 5e-324,
               1 - 2.0**-53, 1 - 2.0**-33, 1 - 2.0**-32, 0.5 + 2.0**-33, 2.0**30, 2.0**30 * 1.5,
               -0.5, -0.75, -(1 - 2.0**-33)]


@pytest.mark.parametrize("seed", range(10))
def test_quantize_multipliers_equals_the_scalar_function(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reals = np.concatenate([np.array(_EDGE_REALS), 10.0 ** rng.uniform(-12, 9, 500),
                            rng.integers(1, 2**20, 100) / 2.0**21])  # exact ties at .5
    mults, shifts = requant.quantize_multipliers(reals)
    expected = [requant.quantize_multiplier(float(r)) for r in reals]
    assert mults.tolist() == [m for m, _ in expected]
    assert shifts.tolist() == [s for _, s in expected]


def test_quantize_multipliers_leaves_refusals_to_the_scalar_function() -> None:
    for bad in ([1.0, np.inf], [np.nan], [2.0**31, 1.0]):
        assert requant.quantize_multipliers(np.array(bad)) is None


@pytest.mark.parametrize("seed", range(10))
def test_conv_requant_params_equals_the_channel_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    input_scale, output_scale = float(rng.uniform(1e-4, 1)), float(rng.uniform(1e-4, 1))
    filter_scales = rng.uniform(1e-6, 0.1, int(rng.integers(1, 300))).astype(np.float32)
    got = requant.conv_requant_params(input_scale, filter_scales, output_scale)
    want = _scalar_conv_requant(input_scale, filter_scales, output_scale)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert got[0].dtype == np.int32 and got[1].dtype == np.int32


@pytest.mark.parametrize("args", [(1.0, [0.5, 1e30], 1e-30), (1e30, [1e30], 1e-30),
                                  (0.5, [0.25], 0.0)])
def test_conv_requant_params_refuses_like_the_channel_loop(args) -> None:
    """Too large a factor, one that is not finite, and a zero output scale: the same
    exception with the same message as the loop."""
    with pytest.raises(Exception) as got:
        requant.conv_requant_params(*args)
    with pytest.raises(Exception) as want:
        _scalar_conv_requant(*args)
    assert type(got.value) is type(want.value) and str(got.value) == str(want.value)
