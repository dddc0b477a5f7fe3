"""IR core: types, values and use lists, operations, verifier, printer/parser round trip."""

from __future__ import annotations

import re

import numpy as np
import pytest
from utc.compiler.ir import (
    F32,
    I8,
    I32,
    Block,
    Location,
    MemRefType,
    Module,
    Operation,
    PerAxisQuantizedType,
    QuantizedType,
    Region,
    SymbolRef,
    TensorType,
    VerifyError,
)
from utc.compiler.ir.parser import ParseError, parse_module, parse_type
from utc.compiler.ir.printer import print_module
from utc.dialects import func, tensor


def _module_with_fc(act: str = "relu") -> Module:
    m = Module("t")
    q = QuantizedType(I8, 0.5, -3)
    block = Block([TensorType((1, 4), q)], ["x"])
    w = m.add_resource("fc.w", np.arange(8, dtype=np.int8).reshape(2, 4),
                       TensorType((2, 4), QuantizedType(I8, 0.25, 0)))
    c = block.append(tensor.ConstantOp([], [TensorType((2, 4), QuantizedType(I8, 0.25, 0))],
                                       {"value": w}, result_names=["w"]))
    fc = block.append(tensor.FullyConnectedOp([block.args[0], c.result],
                                              [TensorType((1, 2), q)],
                                              {"act": act, "keep_num_dims": False},
                                              location=Location(((0, "dense"),))))
    block.append(func.ReturnOp([fc.result]))
    m.body.append(func.FuncOp([], [], {"sym_name": SymbolRef("main")}, [Region([block])]))
    return m


def test_types_print_and_parse_back():
    cases = [
        TensorType((1, 28, 28, 8), QuantizedType(I8, 0.0115557, -128)),
        TensorType((), F32),
        TensorType((16, 3, 3, 8), PerAxisQuantizedType(I8, 0, (0.5, 0.25), (0, 0))),
        MemRefType((4, 4), I8),
    ]
    for t in cases:
        assert parse_type(str(t)) == t
    assert str(cases[0]) == "tensor<1x28x28x8x!quant.uniform<i8:f32, 0.0115557:-128>>"


def test_use_lists_follow_operand_changes():
    m = _module_with_fc()
    fn = func.main_function(m)
    x = fn.block.args[0]
    fc = fn.block.ops[1]
    assert (fc, 0) in x.uses
    other = fn.block.add_argument(x.type, "y")
    fc.set_operand(0, other)
    assert x.uses == [] and (fc, 0) in other.uses
    fc.result.replace_all_uses_with(other)
    assert fc.result.uses == []
    assert fn.return_op.operand_values == [other]


def test_erase_refuses_used_op():
    m = _module_with_fc()
    fc = func.main_function(m).block.ops[1]
    with pytest.raises(VerifyError, match="still used"):
        fc.erase()


def test_verifier_reports_bad_attribute_with_location():
    m = _module_with_fc(act="gelu")
    with pytest.raises(VerifyError, match=r"tensor.fully_connected.*TFLite op #0 \(dense\).*gelu"):
        m.verify()


def test_verifier_missing_attribute_and_operand_count():
    m = _module_with_fc()
    fc = func.main_function(m).block.ops[1]
    del fc.attrs["keep_num_dims"]
    with pytest.raises(VerifyError, match="missing attribute 'keep_num_dims'"):
        m.verify()


def test_verifier_rejects_use_before_definition():
    m = _module_with_fc()
    block = func.main_function(m).block
    block.ops.insert(0, block.ops.pop(1))  # fc before its constant
    with pytest.raises(VerifyError, match="not defined before its use"):
        m.verify()


def test_round_trip_with_resources_and_clone():
    m = _module_with_fc()
    m.verify()
    text = print_module(m)
    again = parse_module(text)
    again.verify()
    assert print_module(again) == text
    np.testing.assert_array_equal(again.resource_data("fc.w"), m.resource_data("fc.w"))
    fc = func.main_function(again).block.ops[1]
    clone = fc.clone()
    assert clone.attrs == fc.attrs and clone is not fc


def test_elided_resources_round_trip_but_cannot_be_read():
    # a small resource is still shown (as numbers) when eliding; only large ones are not
    text = print_module(_module_with_fc(), elide_resources=True)
    assert "fc.w: tensor<2x4x!q1> = [0, 1, 2, 3, 4, 5, 6, 7]," in text
    assert print_module(parse_module(text), elide_resources=True) == text
    text = text.replace("[0, 1, 2, 3, 4, 5, 6, 7]", "elided")
    m = parse_module(text)
    assert print_module(m) == text
    with pytest.raises(VerifyError, match="elided"):
        m.resource_data("fc.w")


def test_small_resources_print_as_exact_numbers_when_eliding():
    m = Module("t")
    cases = {
        "i8": np.array([-128, 0, 127], dtype=np.int8),
        "i32": np.array([-(2**31), 1, 2**31 - 1], dtype=np.int32),
        "f32": np.array([0.1, -1.5e-30, 3.4e38, -0.0], dtype=np.float32),
        "nan": np.array([np.nan, 1.0], dtype=np.float32),  # not finite: stays hex
        "big": np.zeros(65, dtype=np.int8),  # more than 64 elements: elided
    }
    for name, data in cases.items():
        m.add_resource(name, data)
    text = print_module(m, elide_resources=True)
    assert "i32: tensor<3xi32> = [-2147483648, 1, 2147483647]," in text
    assert 'nan: tensor<2xf32> = "0x' in text and "big: tensor<65xi8> = elided," in text
    again = parse_module(text)
    assert print_module(again, elide_resources=True) == text
    for name in ("i8", "i32", "f32"):
        np.testing.assert_array_equal(again.resource_data(name), cases[name])
    assert np.signbit(again.resource_data("f32")[3])


@pytest.mark.parametrize("payload, message", [
    ("[1, 2]", "lists 2 values but tensor<3xi8> has 3 elements"),
    ("[1, 2, 300]", "300 does not fit i8"),
    ("[1, 2, 3.5]", "'3.5' is not an integer"),
])
def test_bad_number_lists_name_line_and_column(payload, message):
    text = f"module @t {{\n}}\n{{-#\n  dense_resources: {{\n    r: tensor<3xi8> = {payload},\n  }}\n#-}}\n"
    with pytest.raises(ParseError, match=rf"^f.utc:5:\d+: .*{re.escape(message)}"):
        parse_module(text, "f.utc")


def test_type_aliases_number_in_first_use_order_and_resolve():
    text = print_module(_module_with_fc())
    lines = text.splitlines()
    assert lines[:3] == ["!q0 = !quant.uniform<i8:f32, 0.5:-3>",
                         "!q1 = !quant.uniform<i8:f32, 0.25:0>", "module @t {"]
    assert "!quant" not in "\n".join(lines[2:])
    m = parse_module(text)
    fc = func.main_function(m).block.ops[1]
    assert fc.result.type == TensorType((1, 2), QuantizedType(I8, 0.5, -3))
    # the same module written with inline types parses to the same module
    inline = "\n".join(lines[2:]).replace("!q0", "!quant.uniform<i8:f32, 0.5:-3>")
    inline = inline.replace("!q1", "!quant.uniform<i8:f32, 0.25:0>")
    assert print_module(parse_module(inline)) == text


def test_per_axis_alias_definitions_wrap_and_parse_back():
    scales = tuple(0.001 * (i + 1) for i in range(40))
    m = Module("t")
    m.add_resource("s", np.zeros(40, dtype=np.int32),
                   TensorType((40,), PerAxisQuantizedType(I32, 0, scales, (0,) * 40)))
    text = print_module(m)
    assert text.startswith("!qc0 = !quant.uniform<i32:f32:0, {\n")
    assert max(len(line) for line in text.splitlines() if not line.startswith("    s:")) <= 120
    again = parse_module(text)
    assert again.resources["s"].type == m.resources["s"].type
    assert print_module(again) == text


@pytest.mark.parametrize("mutate, where, message", [
    (lambda t: t.replace("x!q0>):", "x!q9>):"), "5:25", "use of undefined type alias !q9"),
    (lambda t: t.replace("!q1 = ", "!q0 = ", 1), "2:1", "redefinition of type alias !q0"),
])
def test_alias_errors_are_one_line(mutate, where, message):
    text = mutate(print_module(_module_with_fc()))
    with pytest.raises(ParseError) as info:
        parse_module(text, "f.utc")
    assert str(info.value) == f"f.utc:{where}: {message}"


def test_locations_print_only_when_asked():
    m = _module_with_fc()
    assert "loc(" not in print_module(m)
    located = print_module(m, locations=True)
    assert 'loc(#0 "dense")' in located
    again = parse_module(located)
    assert func.main_function(again).block.ops[1].location == Location(((0, "dense"),))
    assert print_module(again, locations=True) == located


def test_long_attribute_dictionaries_wrap_and_parse_back():
    m = _module_with_fc()
    fc = func.main_function(m).block.ops[1]
    fc.location = Location(tuple((i, f"a_rather_long_tensor_name_{i}") for i in range(6)))
    text = print_module(m, locations=True)
    assert max(len(line) for line in text.splitlines()) > 120  # the location itself
    assert print_module(parse_module(text), locations=True) == text
    m.attrs = {f"key{i}": "a fairly long string value" for i in range(8)}
    text = print_module(m)
    head = text.splitlines()[2:6]
    assert head[0] == "module @t attributes {" and head[1].startswith("    key0 = ")
    assert all(len(line) <= 120 for line in text.splitlines())
    assert print_module(parse_module(text)) == text


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.replace("tensor.fully_connected", "tensor.nope"), "unknown operation 'tensor.nope'"),
    (lambda t: t.replace("(%x, %w)", "(%x, %zz)"), "use of undefined value %zz"),
    (lambda t: t.replace("i8:f32, 0.5:-3", "i8:f32, 0.5"), "malformed"),
    (lambda t: t.replace("} : ()", "} : ", 1) + "}", "unexpected"),
])
def test_parse_errors_name_line_and_column(mutate, message):
    text = mutate(print_module(_module_with_fc()))
    with pytest.raises(ParseError, match=rf"^f.utc:\d+:\d+: .*{message}"):
        parse_module(text, "f.utc")


def test_declaring_an_op_takes_a_few_lines():
    class Twice(Operation):
        name = "test.twice"
        operands = ("input",)
        results = ("output",)
        attributes = {"factor": int}

        def verify_(self):
            if self.attrs["factor"] < 1:
                raise self.error("factor must be positive")

    v = Block([TensorType((2,), F32)]).args[0]
    op = Twice([v], [v.type], {"factor": 0})
    assert op.operand("input") is v
    with pytest.raises(VerifyError, match="factor must be positive"):
        op.verify()
