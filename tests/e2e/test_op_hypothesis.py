"""Seeded hypothesis sweeps: random parameter combinations of single-operator models,
each compiled by utc, built with the host compiler and compared with TFLite Micro
(bit-exact for int8, 1e-5 relative for float32).

The parametrized sweep in test_ops.py pins hand-picked variants; these draw geometries,
quantization parameters and fused activations the hand-picked lists never combine.
`derandomize=True` makes every run draw the same examples (no example database is kept),
so a failure reproduces; hypothesis prints the drawn parameter dict it shrank to.
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st
from utc.passes.quantmath import elementwise
from utc.passes.quantmath.requant import UnsupportedQuantization

from tests.e2e.op_models import check_against_oracle, single_op
from tests.tflite_writer import ModelBuilder

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

#: Every fused activation is a pytest parameter (not a drawn value), so each one is
#: guaranteed its share of examples.
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def sweep(examples: int, *key: object):
    """Reproducible settings: the same examples every run, no example database, no
    deadline (one example compiles, builds and runs a C++ program). `key` (the pytest
    parameters) picks the seed, so each parametrization draws its own examples instead of
    derandomize's one stream per function."""
    configured = settings(max_examples=examples, derandomize=True, deadline=None,
                          database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
    chosen = seed(zlib.crc32(repr(key).encode()))
    return lambda fn: chosen(configured(fn))


def compare(model: bytes, **kwargs) -> None:
    """check_against_oracle in a fresh folder per example (a function-scoped tmp_path
    would be shared by all examples of one test)."""
    with tempfile.TemporaryDirectory(prefix="utc-hyp-") as work:
        check_against_oracle(model, Path(work), samples=6, **kwargs)


def out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    """TFLite's output size for SAME/VALID (0 when VALID leaves nothing)."""
    if padding == "SAME":
        return -(-size // stride)
    return max(0, -(-(size - (k - 1) * dilation) // stride))


zero_points = st.integers(-128, 127)
#: log-uniform scales in [1e-3, 1]
scales = st.floats(-3.0, 0.0).map(lambda e: float(10.0 ** e))
seeds = st.integers(0, 2**32 - 1)


# ---- weighted ops: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED -------------------------------

def weighted_model(op: str, x_shape: list[int], w_shape: list[int], out_shape: list[int],
                   options: dict, p: dict) -> bytes:
    """An int8 weighted op: symmetric weights (per output channel for convolutions, per
    tensor for FULLY_CONNECTED), int32 bias on input_scale * weight_scale, and an output
    scale from the accumulation depth times a drawn factor, with drawn zero points."""
    rng = np.random.default_rng(p["seed"])
    depthwise = op == "DEPTHWISE_CONV_2D"
    channels = w_shape[-1] if depthwise else w_shape[0]
    depth = int(np.prod(w_shape)) // channels
    per_channel = op != "FULLY_CONNECTED"
    w_scales = rng.uniform(0.002, 0.02, channels if per_channel else 1)
    in_scale = p["in_scale"]
    b = ModelBuilder(f"utc hypothesis sweep: {op}")
    x = b.add_tensor("x", x_shape, "int8", scale=in_scale, zero_point=p["in_zp"])
    w = b.add_tensor("w", w_shape, "int8", data=rng.integers(-127, 128, w_shape),
                     scale=list(w_scales) if per_channel else float(w_scales[0]), zero_point=0,
                     quantized_dimension=3 if depthwise else 0)
    bias = -1
    if p.get("bias", True):
        bias_scales = in_scale * (w_scales if per_channel else np.full(channels, w_scales[0]))
        bias = b.add_tensor("b", [channels], "int32",
                            data=rng.integers(-40 * depth - 1, 40 * depth + 1, channels),
                            scale=list(bias_scales) if per_channel else float(bias_scales[0]),
                            zero_point=0)
    kept = 1.0 if depthwise else float(np.sqrt(depth))
    out_scale = float(in_scale * np.mean(w_scales) * 127 * kept / 24 * p["out_factor"])
    y = b.add_tensor("y", out_shape, "int8", scale=out_scale, zero_point=p["out_zp"])
    b.add_operator(op, [x, w, bias], [y], options)
    return b.build([x], [y])


@st.composite
def conv_cases(draw, depthwise: bool, act: str) -> dict:
    p = {
        "h": draw(st.integers(1, 12)), "w": draw(st.integers(1, 12)),
        "c": draw(st.integers(1, 8)),
        "kh": draw(st.integers(1, 5)), "kw": draw(st.integers(1, 5)),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "dilation": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": draw(st.sampled_from(["SAME", "VALID"])),
        "n": draw(st.integers(1, 3) if depthwise else st.integers(1, 8)),
        "act": act,
        "in_scale": draw(st.sampled_from([0.003, 0.02, 0.05, 0.2])),
        "in_zp": draw(zero_points), "out_zp": draw(zero_points),
        "out_factor": draw(st.sampled_from([0.25, 1.0, 4.0])),
        "seed": draw(seeds),
    }
    oh = out_size(p["h"], p["kh"], p["stride"][0], p["dilation"][0], p["padding"])
    ow = out_size(p["w"], p["kw"], p["stride"][1], p["dilation"][1], p["padding"])
    assume(oh > 0 and ow > 0)  # a VALID window larger than the input: empty output
    p["out_hw"] = (oh, ow)
    return p


def conv_model(op: str, p: dict) -> bytes:
    depthwise = op == "DEPTHWISE_CONV_2D"
    channels = p["c"] * p["n"] if depthwise else p["n"]
    w_shape = [1, p["kh"], p["kw"], channels] if depthwise else [channels, p["kh"], p["kw"], p["c"]]
    opts = {"padding": p["padding"], "stride_h": p["stride"][0], "stride_w": p["stride"][1],
            "dilation_h_factor": p["dilation"][0], "dilation_w_factor": p["dilation"][1],
            "fused_activation_function": p["act"]}
    if depthwise:
        opts["depth_multiplier"] = p["n"]
    return weighted_model(op, [1, p["h"], p["w"], p["c"]], w_shape,
                          [1, *p["out_hw"], channels], opts, p)


@pytest.mark.parametrize("act", ACTS)
def test_conv2d_int8(act: str) -> None:
    @sweep(10, "conv", act)
    @given(conv_cases(depthwise=False, act=act))
    def run(p: dict) -> None:
        compare(conv_model("CONV_2D", p))

    run()


@pytest.mark.parametrize("act", ACTS)
def test_depthwise_conv2d_int8(act: str) -> None:
    @sweep(10, "depthwise", act)
    @given(conv_cases(depthwise=True, act=act))
    def run(p: dict) -> None:
        compare(conv_model("DEPTHWISE_CONV_2D", p))

    run()


@st.composite
def fc_cases(draw, act: str) -> dict:
    return {
        "batch": draw(st.integers(1, 4)), "depth": draw(st.integers(1, 40)),
        "units": draw(st.integers(1, 16)), "bias": not draw(st.booleans()), "act": act,
        "in_scale": draw(st.sampled_from([0.003, 0.02, 0.05, 0.2])),
        "in_zp": draw(zero_points), "out_zp": draw(zero_points),
        "out_factor": draw(st.sampled_from([0.25, 1.0, 4.0])),
        "seed": draw(seeds),
    }


@pytest.mark.parametrize("act", ACTS)
def test_fully_connected_int8(act: str) -> None:
    @sweep(8, "fc", act)
    @given(fc_cases(act))
    def run(p: dict) -> None:
        model = weighted_model("FULLY_CONNECTED", [p["batch"], p["depth"]],
                               [p["units"], p["depth"]], [p["batch"], p["units"]],
                               {"fused_activation_function": p["act"]}, p)
        compare(model)

    run()


# ---- ADD / SUB / MUL int8 with broadcasting ----------------------------------------------------

@st.composite
def broadcast_shapes(draw) -> tuple[list[int], list[int], list[int]]:
    """Two shapes of rank 1-4 that broadcast (numpy rules), and the result shape. The
    full dimensions are 2-5, so that a 1 in an operand is a real broadcast. Drawn so that
    the simplest example (hypothesis tries it first, and shrinks towards it) is two equal
    rank-4 shapes rather than two scalars."""
    rank = 4 - draw(st.integers(0, 3))
    full = [draw(st.integers(2, 5)) for _ in range(rank)]

    def operand() -> list[int]:
        r = rank - draw(st.integers(0, rank - 1))
        return [1 if draw(st.booleans()) else d for d in full[rank - r:]]

    a, b = operand(), operand()
    return a, b, list(np.broadcast_shapes(tuple(a), tuple(b)))


@st.composite
def binary_cases(draw) -> dict:
    a, b, out = draw(broadcast_shapes())
    return {"shapes": (a, b, out), "q": [(draw(scales), draw(zero_points)) for _ in range(3)]}


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
def test_add_sub_mul_int8(op: str, act: str) -> None:
    params = {"ADD": elementwise.add_params, "SUB": elementwise.sub_params,
              "MUL": elementwise.mul_params}[op]

    @sweep(5, op, act)
    @given(binary_cases())
    def run(p: dict) -> None:
        (a, b, out), (q1, q2, qo) = p["shapes"], p["q"]
        try:  # TFLite Micro aborts the process on these: there is no oracle to compare with
            params(*q1, *q2, *qo, act=act.lower())
        except UnsupportedQuantization:
            assume(False)
        compare(single_op(op, [(a, q1), (b, q2)], [(out, qo)],
                          {"fused_activation_function": act}))

    run()


# ---- pooling, int8 and float32 ------------------------------------------------------------------

@st.composite
def pool_cases(draw) -> dict:
    p = {
        "shape": [draw(st.integers(1, 2)), draw(st.integers(1, 12)), draw(st.integers(1, 12)),
                  draw(st.integers(1, 8))],
        "filter": (draw(st.integers(1, 5)), draw(st.integers(1, 5))),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": draw(st.sampled_from(["SAME", "VALID"])),
        "act": draw(st.sampled_from(ACTS)),
        "q": (draw(scales), draw(zero_points)),
    }
    n, h, w, c = p["shape"]
    oh = out_size(h, p["filter"][0], p["stride"][0], 1, p["padding"])
    ow = out_size(w, p["filter"][1], p["stride"][1], 1, p["padding"])
    assume(oh > 0 and ow > 0)
    p["out"] = [n, oh, ow, c]
    return p


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_pooling(op: str, dtype: str) -> None:
    @sweep(10, op, dtype)
    @given(pool_cases())
    def run(p: dict) -> None:
        q = p["q"] if dtype == "int8" else None
        compare(single_op(op, [(p["shape"], q)], [(p["out"], q)], {
            "padding": p["padding"], "stride_h": p["stride"][0], "stride_w": p["stride"][1],
            "filter_height": p["filter"][0], "filter_width": p["filter"][1],
            "fused_activation_function": p["act"]}))

    run()
