"""IR core: types, values and use lists, operations, verifier, printer/parser round trip."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.ir import (
    F32,
    I8,
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
    text = print_module(_module_with_fc(), elide_resources=True)
    assert "= elided" in text
    m = parse_module(text)
    assert print_module(m) == text
    with pytest.raises(VerifyError, match="elided"):
        m.resource_data("fc.w")


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
