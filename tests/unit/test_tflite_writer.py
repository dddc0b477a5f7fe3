"""Tests of the test infrastructure: the TFLite writer, the oracles, the built-in models and
the kernel harness.

Every other test trusts these helpers, so they are checked against independent readers:
models from the writer must load and run in TFLite Micro and LiteRT, read back with the
`tflite` package exactly as described, and follow real converters' conventions.

Note on oracle agreement for integer models: the LiteRT wheel requantizes with single
rounding (TFLITE_SINGLE_ROUNDING) while TFLite Micro rounds twice, so requantizing ops may
differ by one LSB between the two. TFLite Micro is the bit-exactness oracle (DESIGN.md §7).
"""

from __future__ import annotations

import ctypes
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

from tests.kernel_harness import KernelBuildError, build_shared_lib, ptr
from tests.models_builtin import SINE_DOMAIN, sine_model_float, sine_model_int8
from tests.oracle import LiteRTRunner, TflmRunner, random_inputs, run_litert, run_tflm, tflm_arena_size
from tests.tflite_writer import DTYPES, OP_OPTIONS, OPTION_FIELDS, ModelBuilder

RNG_SEED = 20261125


def _camel(key: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in key.split("_"))


def _model(buf: bytes) -> Any:
    return tflite.Model.GetRootAsModel(buf, 0)


def _read_options(model: bytes, op_index: int = 0, subgraph: int = 0) -> tuple[str, Any]:
    """(union member name, options object) of one operator, via the tflite package."""
    m = _model(model)
    op = m.Subgraphs(subgraph).Operators(op_index)
    names = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
    name = names[op.BuiltinOptionsType()]
    if name == "NONE":
        return name, None
    table = op.BuiltinOptions()
    obj = getattr(tflite, name)()
    obj.Init(table.Bytes, table.Pos)
    return name, obj


def _buffer_data(model: bytes, tensor_index: int, subgraph: int = 0) -> tuple[int, np.ndarray]:
    """(buffer index, raw bytes as uint8) of a tensor."""
    m = _model(model)
    buffer = m.Subgraphs(subgraph).Tensors(tensor_index).Buffer()
    b = m.Buffers(buffer)
    return buffer, (b.DataAsNumpy() if b.DataLength() else np.zeros(0, np.uint8))


def _compare_oracles(model: bytes, samples: int = 20, lsb: int = 1) -> None:
    """Run seeded random inputs through TFLM and LiteRT: floats must agree closely,
    integers within `lsb` (see the module docstring)."""
    rng = np.random.default_rng(RNG_SEED)
    tflm, litert = TflmRunner(model), LiteRTRunner(model)
    for _ in range(samples):
        inputs = random_inputs(model, rng)
        for got, want in zip(tflm.run(inputs), litert.run(inputs)):
            assert got.shape == want.shape and got.dtype == want.dtype
            if got.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
            else:
                assert np.max(np.abs(got.astype(np.int64) - want), initial=0) <= lsb


# ---- single-op models ------------------------------------------------------------------

def _const(b: ModelBuilder, name: str, values: Any, dtype: str = "int32") -> int:
    arr = np.asarray(values)
    return b.add_tensor(name, arr.shape, dtype, data=arr)


def _float_case(op: str) -> bytes:
    """A float32 single-op model for `op`, with non-default options where it has any."""
    rng = np.random.default_rng(7)
    b = ModelBuilder(f"{op} float")
    model_inputs: list[int] = []

    def inp(shape: list[int], name: str = "x") -> int:
        model_inputs.append(b.add_tensor(name, shape, "float32"))
        return model_inputs[-1]

    def weights(shape: list[int], name: str) -> int:
        return b.add_tensor(name, shape, "float32", data=rng.normal(0, 0.5, shape))

    def out(shape: list[int], name: str = "y", dtype: str = "float32", **q: Any) -> int:
        return b.add_tensor(name, shape, dtype, **q)

    unary = {"LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "HARD_SWISH"}
    opts: dict[str, Any] = {}
    if op == "CONV_2D":
        ins = [inp([1, 5, 5, 2]), weights([3, 3, 3, 2], "w"), weights([3], "b")]
        outs = [out([1, 3, 3, 3])]
        opts = {"padding": "SAME", "stride_w": 2, "stride_h": 2,
                "fused_activation_function": "RELU6"}
    elif op == "DEPTHWISE_CONV_2D":
        ins = [inp([1, 5, 5, 2]), weights([1, 3, 3, 4], "w"), weights([4], "b")]
        outs = [out([1, 3, 3, 4])]
        opts = {"padding": "VALID"}  # depth_multiplier 2 is inferred
    elif op == "FULLY_CONNECTED":
        ins = [inp([2, 6]), weights([4, 6], "w"), weights([4], "b")]
        outs = [out([2, 4])]
        opts = {"fused_activation_function": "RELU"}
    elif op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        ins = [inp([1, 4, 4, 3])]
        outs = [out([1, 2, 2, 3])]
        opts = {"padding": "VALID", "stride_w": 2, "stride_h": 2, "filter_width": 2,
                "filter_height": 2}
    elif op in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"):
        ins = [inp([1, 2, 3, 4]), weights([1, 1, 3, 1], "c")]
        outs = [out([1, 2, 3, 4])]
        if op in ("ADD", "SUB", "MUL"):
            opts = {"fused_activation_function": "RELU"}
    elif op == "SOFTMAX":
        ins, outs, opts = [inp([2, 5])], [out([2, 5])], {"beta": 0.5}
    elif op == "RESHAPE":
        ins, outs = [inp([1, 2, 3, 4]), _const(b, "shape", [1, 24])], [out([1, 24])]
    elif op == "SQUEEZE":
        ins, outs, opts = [inp([1, 3, 1, 4])], [out([3, 4])], {"squeeze_dims": [0, 2]}
    elif op == "CONCATENATION":
        ins, outs, opts = [inp([2, 3]), inp([2, 2], "x2")], [out([2, 5])], {"axis": 1}
    elif op == "STRIDED_SLICE":
        ins = [inp([4, 6]), _const(b, "begin", [1, 0]), _const(b, "end", [4, 0]),
               _const(b, "strides", [1, 2])]
        outs, opts = [out([3, 3])], {"end_mask": 2}
    elif op == "SPLIT":
        ins = [_const(b, "axis", np.int32(1)), inp([2, 6])]
        outs = [out([2, 2], f"y{i}") for i in range(3)]  # num_splits inferred
    elif op == "LEAKY_RELU":
        ins, outs, opts = [inp([2, 5])], [out([2, 5])], {"alpha": 0.2}
    elif op == "MEAN":
        ins = [inp([1, 4, 4, 3]), _const(b, "axis", [1, 2])]
        outs, opts = [out([1, 1, 1, 3])], {"keep_dims": True}
    elif op in ("PAD", "PADV2"):
        ins = [inp([1, 2, 2, 1]), _const(b, "paddings", [[0, 0], [1, 1], [2, 0], [0, 0]])]
        if op == "PADV2":
            ins.append(_const(b, "value", [0.5], "float32"))
        outs = [out([1, 4, 4, 1])]
    elif op == "TRANSPOSE":
        ins, outs = [inp([2, 3, 4]), _const(b, "perm", [2, 0, 1])], [out([4, 2, 3])]
    elif op == "EXPAND_DIMS":
        ins, outs = [inp([3, 4]), _const(b, "axis", [1])], [out([3, 1, 4])]
    elif op == "PRELU":
        ins, outs = [inp([1, 2, 2, 3]), weights([3], "alpha")], [out([1, 2, 2, 3])]
    elif op == "QUANTIZE":
        ins, outs = [inp([2, 5])], [out([2, 5], dtype="int8", scale=0.02, zero_point=-3)]
    elif op in unary:
        ins, outs = [inp([2, 5])], [out([2, 5])]
    else:
        raise AssertionError(op)
    b.add_operator(op, ins, outs, opts)
    return b.build(model_inputs, outs)


FLOAT_OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
             "ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SOFTMAX", "RESHAPE", "SQUEEZE",
             "CONCATENATION", "STRIDED_SLICE", "SPLIT", "LEAKY_RELU", "MEAN", "PAD", "PADV2",
             "TRANSPOSE", "EXPAND_DIMS", "PRELU", "QUANTIZE", "LOGISTIC", "TANH", "RELU",
             "RELU6", "HARD_SWISH"]


@pytest.mark.parametrize("op", FLOAT_OPS)
def test_float_op_models_agree_in_both_oracles(op: str) -> None:
    _compare_oracles(_float_case(op), samples=5)


def test_relu_n1_to_1_runs_in_litert() -> None:
    """TFLite Micro has no RELU_N1_TO_1 kernel; LiteRT is the oracle for it."""
    model = _float_case("RELU_N1_TO_1")
    x = np.linspace(-2, 2, 10, dtype=np.float32).reshape(2, 5)
    np.testing.assert_array_equal(run_litert(model, [x])[0], np.clip(x, -1, 1))


def test_simple_op_semantics_match_numpy() -> None:
    """Data movement ops are trivially defined: the options must mean what they say."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(run_tflm(_float_case("STRIDED_SLICE"), [x])[0], x[1:4, ::2])
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(run_tflm(_float_case("TRANSPOSE"), [x])[0], x.transpose(2, 0, 1))
    x = rng.standard_normal((1, 3, 1, 4)).astype(np.float32)
    np.testing.assert_array_equal(run_tflm(_float_case("SQUEEZE"), [x])[0], x.reshape(3, 4))
    x = rng.standard_normal((2, 6)).astype(np.float32)
    parts = run_tflm(_float_case("SPLIT"), [x])
    for got, want in zip(parts, np.split(x, 3, axis=1)):
        np.testing.assert_array_equal(got, want)
    x = rng.standard_normal((1, 2, 2, 1)).astype(np.float32)
    want = np.pad(x, [(0, 0), (1, 1), (2, 0), (0, 0)], constant_values=0.5)
    np.testing.assert_array_equal(run_tflm(_float_case("PADV2"), [x])[0], want)


# ---- int8 models -----------------------------------------------------------------------

def _int8_conv() -> bytes:
    rng = np.random.default_rng(11)
    b = ModelBuilder("int8 conv")
    w_scales = rng.uniform(0.005, 0.02, 4)
    x = b.add_tensor("x", [1, 6, 6, 3], "int8", scale=0.05, zero_point=-10)
    w = b.add_tensor("w", [4, 3, 3, 3], "int8", data=rng.integers(-127, 128, (4, 3, 3, 3)),
                     scale=w_scales, zero_point=0, quantized_dimension=0)
    bias = b.add_tensor("b", [4], "int32", data=rng.integers(-2000, 2000, 4),
                        scale=0.05 * w_scales, zero_point=0)
    y = b.add_tensor("y", [1, 3, 3, 4], "int8", scale=0.15, zero_point=7)
    b.add_operator("CONV_2D", [x, w, bias], [y],
                   {"padding": "SAME", "stride_w": 2, "stride_h": 2,
                    "fused_activation_function": "RELU"}, version=3)
    return b.build([x], [y])


def _int8_fc() -> bytes:
    rng = np.random.default_rng(12)
    b = ModelBuilder("int8 fc")
    x = b.add_tensor("x", [2, 10], "int8", scale=0.03, zero_point=-128)
    w = b.add_tensor("w", [5, 10], "int8", data=rng.integers(-127, 128, (5, 10)), scale=0.011,
                     zero_point=0)
    bias = b.add_tensor("b", [5], "int32", data=rng.integers(-500, 500, 5), scale=0.03 * 0.011,
                        zero_point=0)
    y = b.add_tensor("y", [2, 5], "int8", scale=0.08, zero_point=2)
    b.add_operator("FULLY_CONNECTED", [x, w, bias], [y], {}, version=4)
    return b.build([x], [y])


def _int8_add_broadcast() -> bytes:
    b = ModelBuilder("int8 add")
    x1 = b.add_tensor("x1", [1, 3, 4, 2], "int8", scale=0.04, zero_point=-5)
    x2 = b.add_tensor("x2", [1, 1, 4, 1], "int8", scale=0.07, zero_point=3)
    y = b.add_tensor("y", [1, 3, 4, 2], "int8", scale=0.09, zero_point=-1)
    b.add_operator("ADD", [x1, x2], [y], {"fused_activation_function": "RELU6"}, version=2)
    return b.build([x1, x2], [y])


def _int8_reshape() -> bytes:
    b = ModelBuilder("int8 reshape")
    x = b.add_tensor("x", [1, 2, 3, 4], "int8", scale=0.1, zero_point=1)
    shape = _const(b, "shape", [1, 24])
    y = b.add_tensor("y", [1, 24], "int8", scale=0.1, zero_point=1)
    b.add_operator("RESHAPE", [x, shape], [y])
    return b.build([x], [y])


def _int8_softmax() -> bytes:
    b = ModelBuilder("int8 softmax")
    x = b.add_tensor("x", [2, 10], "int8", scale=0.1, zero_point=-4)
    y = b.add_tensor("y", [2, 10], "int8", scale=1 / 256, zero_point=-128)
    b.add_operator("SOFTMAX", [x], [y], {"beta": 1.0}, version=2)
    return b.build([x], [y])


INT8_CASES = {"conv": _int8_conv, "fc": _int8_fc, "add_broadcast": _int8_add_broadcast,
              "reshape": _int8_reshape, "softmax": _int8_softmax}


@pytest.mark.parametrize("name", sorted(INT8_CASES))
def test_int8_models_agree_in_both_oracles(name: str) -> None:
    _compare_oracles(INT8_CASES[name](), samples=50, lsb=1)


def test_int8_reshape_is_exact_in_both_oracles() -> None:
    model = _int8_reshape()
    x = random_inputs(model, np.random.default_rng(1))
    np.testing.assert_array_equal(run_tflm(model, x)[0], x[0].reshape(1, 24))
    np.testing.assert_array_equal(run_litert(model, x)[0], x[0].reshape(1, 24))


def test_add_broadcasts() -> None:
    """The broadcast input really broadcasts (checked against dequantized numpy)."""
    model = _int8_add_broadcast()
    x1, x2 = random_inputs(model, np.random.default_rng(2))
    want = np.clip((x1 + 5.0) * 0.04 + (x2 + -3.0) * 0.07, 0, 6)
    got = (run_tflm(model, [x1, x2])[0].astype(np.float64) + 1) * 0.09
    assert np.max(np.abs(got - want)) <= 0.09


# ---- built-in sine models --------------------------------------------------------------

def test_sine_float_approximates_sine() -> None:
    model = sine_model_float()
    runner = TflmRunner(model)
    xs = np.linspace(*SINE_DOMAIN, 100, dtype=np.float32)
    ys = np.array([runner.run([np.array([[x]], np.float32)])[0][0, 0] for x in xs])
    assert np.sqrt(np.mean((ys - np.sin(xs)) ** 2)) < 0.03
    m = _model(model)
    assert [m.OperatorCodes(i).Version() for i in range(m.OperatorCodesLength())] == [1]


def test_sine_int8_approximates_sine_and_matches_litert() -> None:
    model = sine_model_int8()
    m = _model(model)
    g = m.Subgraphs(0)
    assert [m.OperatorCodes(i).Version() for i in range(m.OperatorCodesLength())] == [4]
    assert g.OperatorsLength() == 3
    qin = g.Tensors(g.Inputs(0)).Quantization()
    qout = g.Tensors(g.Outputs(0)).Quantization()
    for k in range(g.TensorsLength()):
        t = g.Tensors(k)
        assert t.Type() in (TensorType.INT8, TensorType.INT32)
        if t.Buffer() and _model(model).Buffers(t.Buffer()).DataLength() and t.Type() == TensorType.INT8:
            assert t.Quantization().ZeroPoint(0) == 0  # symmetric weights
    tflm, litert = TflmRunner(model), LiteRTRunner(model)
    xs = np.linspace(*SINE_DOMAIN, 100)
    errors = []
    for x in xs:
        q = np.array([[np.clip(round(x / qin.Scale(0)) + qin.ZeroPoint(0), -128, 127)]], np.int8)
        got = tflm.run([q])[0]
        # one LSB of rounding difference per requantizing layer (module docstring)
        assert abs(int(got[0, 0]) - int(litert.run([q])[0][0, 0])) <= 3
        errors.append((int(got[0, 0]) - qout.ZeroPoint(0)) * qout.Scale(0) - np.sin(x))
    assert np.sqrt(np.mean(np.square(errors))) < 0.05


def test_builtin_models_are_deterministic() -> None:
    assert sine_model_int8() == sine_model_int8()
    assert sine_model_float() == sine_model_float()


# ---- reading writer models back ---------------------------------------------------------

def test_readback_tensors_quantization_and_conventions() -> None:
    model = _int8_conv()
    m = _model(model)
    assert m.Version() == 3
    assert m.Description() == b"int8 conv"
    assert m.Buffers(0).DataLength() == 0  # the empty sentinel
    g = m.Subgraphs(0)
    assert g.Name() == b"main"
    assert list(g.InputsAsNumpy()) == [0] and list(g.OutputsAsNumpy()) == [3]
    names = [g.Tensors(i).Name() for i in range(g.TensorsLength())]
    assert names == [b"x", b"w", b"b", b"y"]
    # one buffer per tensor as real converters do; activations' buffers are empty
    assert sorted(g.Tensors(i).Buffer() for i in range(4)) == [1, 2, 3, 4]
    assert _buffer_data(model, 0)[1].size == 0 and _buffer_data(model, 3)[1].size == 0

    w = g.Tensors(1)
    assert list(w.ShapeAsNumpy()) == [4, 3, 3, 3] and w.Type() == TensorType.INT8
    q = w.Quantization()
    assert q.ScaleLength() == 4 and list(q.ZeroPointAsNumpy()) == [0, 0, 0, 0]
    assert q.QuantizedDimension() == 0
    bias = g.Tensors(2)
    assert bias.Type() == TensorType.INT32
    np.testing.assert_allclose(bias.Quantization().ScaleAsNumpy(), q.ScaleAsNumpy() * np.float32(0.05),
                               rtol=1e-6)
    x = g.Tensors(0).Quantization()
    assert list(x.ScaleAsNumpy()) == [np.float32(0.05)] and list(x.ZeroPointAsNumpy()) == [-10]

    code = m.OperatorCodes(0)
    assert code.BuiltinCode() == code.DeprecatedBuiltinCode() == BuiltinOperator.CONV_2D
    assert code.Version() == 3
    name, opts = _read_options(model)
    assert name == "Conv2DOptions"
    assert (opts.Padding(), opts.StrideW(), opts.StrideH(), opts.FusedActivationFunction(),
            opts.DilationWFactor(), opts.DilationHFactor()) == (0, 2, 2, 1, 1, 1)


def test_float_tensors_have_empty_quantization_tables() -> None:
    m = _model(sine_model_float())
    t = m.Subgraphs(0).Tensors(0)
    assert t.Quantization() is not None and t.Quantization().ScaleLength() == 0


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_constant_data_round_trips_aligned_little_endian(dtype: str) -> None:
    np_dtype = DTYPES[dtype][1]
    if np_dtype.kind == "b":
        data = np.array([[True, False, True], [False, False, True]])
    elif np_dtype.kind == "f":
        data = np.array([[1.5, -2.25, 3e-3], [np.pi, -0.0, 1e4]], dtype=np_dtype)
    else:
        info = np.iinfo(np_dtype)
        data = np.array([[info.min, info.max, 0], [1, info.max - 1, info.min + 1]], dtype=np_dtype)
    b = ModelBuilder()
    b.add_tensor("pad", [1], "int8", data=np.array([1]))  # misalign the next buffer if we can
    c = b.add_tensor("c", [2, 3], dtype, data=data)
    model = b.build([], [c])
    buffer, raw = _buffer_data(model, c)
    np.testing.assert_array_equal(raw.view(np_dtype.newbyteorder("<")).reshape(2, 3), data)
    tab = _model(model).Buffers(buffer)._tab
    assert tab.Vector(tab.Offset(4)) % 16 == 0  # Buffer.data is force_align: 16


def test_vector_options_reshape_and_squeeze() -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 1, 6], "float32")
    y = b.add_tensor("y", [1, 6], "float32")
    z = b.add_tensor("z", [2, 3], "float32")
    b.add_operator("SQUEEZE", [x], [y], {"squeeze_dims": [0]})
    b.add_operator("RESHAPE", [y], [z], {"new_shape": [2, 3]})
    b.add_operator("RESHAPE", [z], [b.add_tensor("w", [6], "float32")])
    model = b.build([x], [3])
    name, opts = _read_options(model, 0)
    assert name == "SqueezeOptions" and list(opts.SqueezeDimsAsNumpy()) == [0]
    name, opts = _read_options(model, 1)
    assert name == "ReshapeOptions" and list(opts.NewShapeAsNumpy()) == [2, 3]
    assert _read_options(model, 2)[0] == "NONE"  # as the MLIR converter writes it
    out = run_tflm(model, [np.arange(6, dtype=np.float32).reshape(1, 1, 6)])[0]
    np.testing.assert_array_equal(out, np.arange(6, dtype=np.float32))


def test_option_tables_cover_the_schema() -> None:
    """Each op maps to a real union member, and each table lists every schema field."""
    for op, table in OP_OPTIONS.items():
        assert op in vars(BuiltinOperator), op
        assert table in vars(BuiltinOptions), table
    for table, fields in OPTION_FIELDS.items():
        schema = {n[len(table) + 3:] for n in dir(tflite) if n.startswith(f"{table}Add")}
        assert {_camel(k) for k in fields} == schema, table


def _value_for(kind: Any, variant: int) -> Any:
    if isinstance(kind, dict):
        return sorted(set(kind.values()))[-1 if variant else 0]
    return {"int": [3, -7], "float": [0.25, 2.5], "bool": [True, False],
            "ints": [[1, 2, 3], [4]], "str": ["", "state/var_1"]}[kind][variant]


@pytest.mark.parametrize("variant", [0, 1])
def test_every_option_of_every_table_round_trips(variant: int) -> None:
    tables = sorted(set(OP_OPTIONS.values()))
    ops = {table: next(op for op, t in OP_OPTIONS.items() if t == table) for table in tables}
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4, 4, 4], "float32")
    expected = []
    for table in tables:
        fields = OPTION_FIELDS[table]
        values = {k: _value_for(kind, variant) for k, kind in fields.items()}
        b.add_operator(ops[table], [x], [x], values)
        expected.append((table, values))
    model = b.build([x], [x])
    for i, (table, values) in enumerate(expected):
        name, opts = _read_options(model, i)
        assert name == table
        for key, value in values.items():
            if isinstance(value, list):
                got: Any = list(getattr(opts, f"{_camel(key)}AsNumpy")())
            else:
                got = getattr(opts, _camel(key))()
            if isinstance(value, str):
                got = (got or b"").decode()
            if isinstance(value, float):
                assert got == pytest.approx(value)
            else:
                assert got == value, (table, key)


def test_convenience_defaults() -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4, 4, 2], "float32")
    w = b.add_tensor("w", [1, 3, 3, 6], "float32", data=np.zeros((1, 3, 3, 6)))
    y = b.add_tensor("y", [1, 4, 4, 6], "float32")
    b.add_operator("DEPTHWISE_CONV_2D", [x, w, -1], [y])
    b.add_operator("SOFTMAX", [y], [y])
    model = b.build([x], [y])
    _, dw = _read_options(model, 0)
    assert (dw.StrideW(), dw.StrideH(), dw.DepthMultiplier()) == (1, 1, 3)
    assert _read_options(model, 1)[1].Beta() == 1.0
    with pytest.raises(ValueError, match="filter_width"):
        b.add_operator("MAX_POOL_2D", [x], [x], {"stride_w": 2})


def test_operator_codes_for_large_and_custom_ops() -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [4], "float32")
    y = b.add_tensor("y", [4], "float32")
    axis = _const(b, "axis", np.int32(0))
    b.add_operator("CUMSUM", [x, axis], [y], {"reverse": True})
    b.add_operator("CUSTOM", [y], [x], custom_code="MyOp", custom_options=b"\x01\x02")
    b.add_operator("CUMSUM", [x, axis], [y])  # same code and version: shared entry
    b.add_operator("CUMSUM", [x, axis], [y], version=2)
    model = b.build([x], [y])
    m = _model(model)
    assert m.OperatorCodesLength() == 3
    cumsum, custom, cumsum2 = (m.OperatorCodes(i) for i in range(3))
    assert cumsum.BuiltinCode() == BuiltinOperator.CUMSUM > 127
    assert cumsum.DeprecatedBuiltinCode() == 127
    assert (custom.BuiltinCode(), custom.DeprecatedBuiltinCode(), custom.CustomCode()) == (
        BuiltinOperator.CUSTOM, BuiltinOperator.CUSTOM, b"MyOp")
    assert cumsum2.Version() == 2
    ops = m.Subgraphs(0)
    assert [ops.Operators(i).OpcodeIndex() for i in range(4)] == [0, 1, 0, 2]
    assert list(ops.Operators(1).CustomOptionsAsNumpy()) == [1, 2]


def test_multi_subgraph_and_signature() -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "float32", shape_signature=[-1, 4])
    y = b.add_tensor("y", [1, 4], "float32")
    b.add_operator("RELU", [x], [y])
    assert b.add_subgraph() == 1
    a = b.add_tensor("a", [2], "int8", scale=0.5, zero_point=1, is_variable=True)
    c = b.add_tensor("c", [2], "int8", scale=0.5, zero_point=1)
    b.add_operator("RELU", [a], [c])
    b.set_subgraph_io([a], [c])
    m = _model(b.build([x], [y]))
    assert m.SubgraphsLength() == 2
    assert list(m.Subgraphs(0).Tensors(0).ShapeSignatureAsNumpy()) == [-1, 4]
    g1 = m.Subgraphs(1)
    assert g1.TensorsLength() == 2 and list(g1.InputsAsNumpy()) == [0]
    assert g1.Tensors(0).IsVariable() and not g1.Tensors(1).IsVariable()
    # buffers are distinct across subgraphs too
    assert len({m.Subgraphs(s).Tensors(i).Buffer() for s, i in [(0, 0), (0, 1), (1, 0), (1, 1)]}) == 4


# ---- refusing wrong models ---------------------------------------------------------------

def _small() -> tuple[ModelBuilder, int, int]:
    b = ModelBuilder()
    return b, b.add_tensor("x", [1, 4], "float32"), b.add_tensor("y", [1, 4], "float32")


@pytest.mark.parametrize("call, message", [
    (lambda b, x, y: b.add_operator("NOT_AN_OP", [x], [y]), "unknown builtin operator"),
    (lambda b, x, y: b.add_operator("ADD", [x, x], [y], {"fused_activation": "RELU"}),
     "no option"),
    (lambda b, x, y: b.add_operator("ADD", [x, x], [y], {"fused_activation_function": "RELU7"}),
     "unknown value"),
    (lambda b, x, y: b.add_operator("CONV_2D", [x, x], [y], {"stride_w": 1.5}), "int32"),
    (lambda b, x, y: b.add_operator("CONV_2D", [x, x], [y], {"padding": "FULL"}), "unknown value"),
    (lambda b, x, y: b.add_operator("FULLY_CONNECTED", [x, x], [y], {"keep_num_dims": 1}),
     "bool"),
    (lambda b, x, y: b.add_operator("RESHAPE", [x], [y], {"new_shape": 4}), "sequence"),
    (lambda b, x, y: b.add_operator("RELU", [x], [y], {"alpha": 0.1}), "takes no builtin options"),
    (lambda b, x, y: b.add_operator("ADD", [x, 7], [y]), "out of range"),
    (lambda b, x, y: b.add_operator("ADD", [x, x], [-1]), "out of range"),
    (lambda b, x, y: b.add_operator("CUSTOM", [x], [y]), "custom_code"),
    (lambda b, x, y: b.add_operator("ADD", [x], [y], custom_code="Foo"), "custom_code"),
    (lambda b, x, y: b.add_operator("ADD", [x, x], [y], version=0), "version"),
    (lambda b, x, y: b.add_tensor("t", [2], "float64"), "unknown dtype"),
    (lambda b, x, y: b.add_tensor("t", [2], "int8", data=np.array([1, 300])), "does not fit"),
    (lambda b, x, y: b.add_tensor("t", [2], "int32", data=np.array([1.5, 2])), "non-integer"),
    (lambda b, x, y: b.add_tensor("t", [3], "int32", data=np.array([1, 2])), "elements"),
    (lambda b, x, y: b.add_tensor("t", [2, 3], "int8", scale=[0.1, 0.2], quantized_dimension=1),
     "scales"),
    (lambda b, x, y: b.add_tensor("t", [2], "int8", zero_point=3), "without scale"),
    (lambda b, x, y: b.add_tensor("t", [2, 3], "int8", shape_signature=[2, 4]), "signature"),
    (lambda b, x, y: b.build([x], [5]), "out of range"),
])
def test_wrong_descriptions_raise(call: Any, message: str) -> None:
    b, x, y = _small()
    with pytest.raises(ValueError, match=message):
        call(b, x, y)


# ---- oracle helpers --------------------------------------------------------------------

def test_random_inputs_cover_dtype_range_and_shape() -> None:
    b = ModelBuilder()
    ins = [b.add_tensor(f"x{d}", [64, 64], d) for d in ("int8", "int16", "uint8", "float32", "bool")]
    model = b.build(ins, ins)
    xs = random_inputs(model, np.random.default_rng(0))
    assert [x.dtype for x in xs] == [np.int8, np.int16, np.uint8, np.float32, np.bool_]
    assert all(x.shape == (64, 64) for x in xs)
    assert xs[0].min() == -128 and xs[0].max() == 127
    assert xs[2].min() == 0 and xs[2].max() == 255
    assert xs[1].min() < -30000 and xs[1].max() > 30000
    assert 0.9 < xs[3].std() < 1.1
    again = random_inputs(model, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(xs, again))


def test_oracles_refuse_mismatched_inputs() -> None:
    model = _int8_fc()
    with pytest.raises(ValueError, match="expected int8"):
        run_tflm(model, [np.zeros((2, 10), np.float32)])
    with pytest.raises(ValueError, match="expected int8"):
        run_litert(model, [np.zeros((1, 10), np.int8)])
    with pytest.raises(ValueError, match="inputs"):
        TflmRunner(model).run([])


def test_runner_reuse_is_stable_and_returns_copies() -> None:
    model = _int8_conv()
    runner = TflmRunner(model)
    rng = np.random.default_rng(5)
    samples = [random_inputs(model, rng) for _ in range(3)]
    first = [runner.run(s)[0] for s in samples]
    again = [runner.run(s)[0] for s in samples]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(first[0], f) for f in first[1:])  # earlier results kept
    assert tflm_arena_size(model) > 10 * len(model)


def test_large_activations_fit_the_tflm_arena() -> None:
    """TFLM's default arena (10x the model size) would be far too small here."""
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 64, 64, 16], "float32")
    y = b.add_tensor("y", [1, 64, 64, 16], "float32")
    b.add_operator("RELU", [x], [y])
    model = b.build([x], [y])
    inp = np.random.default_rng(0).standard_normal((1, 64, 64, 16)).astype(np.float32)
    np.testing.assert_array_equal(run_tflm(model, [inp])[0], np.maximum(inp, 0))


# ---- kernel harness --------------------------------------------------------------------

_KERNEL = """
#include <stdint.h>
#include "scale.h"
extern "C" void scale_add(const int32_t *in, int32_t *out, int32_t n) {
  for (int32_t i = 0; i < n; ++i) out[i] = in[i] * SCALE + 1;
}
"""


def test_kernel_harness_builds_caches_and_calls(tmp_path: Path) -> None:
    src = tmp_path / "k.cpp"
    src.write_text(_KERNEL)
    (tmp_path / "scale.h").write_text("#define SCALE 3\n")
    lib = build_shared_lib([src], include_dirs=[tmp_path])
    start = time.perf_counter()
    build_shared_lib([src], include_dirs=[tmp_path])
    assert time.perf_counter() - start < 0.5  # cached
    x = np.arange(5, dtype=np.int32)
    y = np.zeros(5, np.int32)
    lib.scale_add.restype = None
    lib.scale_add(ptr(x), ptr(y), ctypes.c_int32(5))
    np.testing.assert_array_equal(y, x * 3 + 1)
    # a changed header is a different library (were it not, dlopen would hand back lib)
    (tmp_path / "scale.h").write_text("#define SCALE 4\n")
    lib2 = build_shared_lib([src], include_dirs=[tmp_path])
    lib2.scale_add.restype = None
    lib2.scale_add(ptr(x), ptr(y), ctypes.c_int32(5))
    np.testing.assert_array_equal(y, x * 4 + 1)


def test_kernel_harness_is_strict(tmp_path: Path) -> None:
    src = tmp_path / "bad.cpp"
    src.write_text('extern "C" int f(int a) { int unused; return a; }\n')
    with pytest.raises(KernelBuildError, match="unused"):
        build_shared_lib([src])
    with pytest.raises(ValueError, match="C-contiguous"):
        ptr(np.zeros((4, 4), np.int8)[:, ::2])
