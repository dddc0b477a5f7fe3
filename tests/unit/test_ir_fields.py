"""Typed op fields (compiler/ir/fields.py): one declaration gives the tables, accessors,
a keyword constructor and checks, and a family's fields are shared across levels."""

from __future__ import annotations

import pytest
from utc.compiler.ir import (
    I8,
    I32,
    Ints,
    MemRefType,
    Operation,
    TensorType,
    Value,
    VerifyError,
    attr,
    operand,
    result,
)
from utc.dialects import common, fused, qnn, tensor


class _Family:
    src = operand()
    out = result()
    stride = attr(Ints(2, minimum=1))


class _DemoOp(_Family, Operation):
    name = "test.fields_demo"
    extra = operand(optional=True)
    label = attr(str, optional=True)


def _v(shape=(1, 4)) -> Value:
    return Value(MemRefType(shape, I8))


def test_fields_make_the_tables_in_declaration_order() -> None:
    assert _DemoOp.operands == ("src", "extra?")
    assert _DemoOp.results == ("out",)
    assert _DemoOp.attributes == {"stride": tuple}
    assert _DemoOp.optional_attributes == {"label": str}


def test_base_class_fields_come_first_even_when_declared_later() -> None:
    """Order is by the class that declares a field (base-first), then declaration order: a
    family class defined after the op's own fields still puts its fields first, and a
    field the op redeclares moves to the op's position."""
    own_first = operand()  # declared before the family's fields below

    class _LateFamily:
        a = operand()
        b = operand()

    class _Op(_LateFamily, Operation):
        name = "test.fields_late_family"
        mine = own_first
        a = operand()  # redeclared: now the op's own, after `mine`

    assert _Op.operands == ("b", "mine", "a")


def test_accessors_build_and_checks() -> None:
    x = _v()
    op = _DemoOp.build(src=x, out=MemRefType((1, 4), I8), stride=(1, 2))
    assert op.src is x and op.extra is None and op.stride == (1, 2) and op.label is None
    assert op.out is op.result
    op.verify()
    bad = _DemoOp.build(src=x, out=MemRefType((1, 4), I8), stride=(1, 0))
    with pytest.raises(VerifyError, match=r"'stride' must be two integers >= 1, got \[1, 0\]"):
        bad.verify()
    with pytest.raises(TypeError, match="missing result type 'out'"):
        _DemoOp.build(src=x, stride=(1, 1))


def test_convolution_fields_are_declared_once_for_every_level() -> None:
    for cls in (tensor.Conv2DOp, fused.Conv2DOp, qnn.Conv2DOp, tensor.DepthwiseConv2DOp,
                fused.DepthwiseConv2DOp, qnn.DepthwiseConv2DOp):
        assert issubclass(cls, common.Convolution)
        assert cls.operands == ("input", "filter", "bias?") and cls.results == ("output",)
        assert cls.stride is common.SlidingWindow.__dict__["stride"]
    for cls in (qnn.Conv2DOp, qnn.DepthwiseConv2DOp, qnn.FullyConnectedOp):
        assert issubclass(cls, common.Requantized)


def test_a_qnn_convolution_reads_its_fields() -> None:
    x = Value(TensorType((1, 5, 5, 2), I8))
    w = Value(TensorType((3, 3, 3, 2), I8))
    b = Value(TensorType((3,), I32))
    op = qnn.Conv2DOp([x, w, b], [TensorType((1, 3, 3, 3), I8)],
                      {"stride": (1, 1), "dilation": (1, 1), "pad": (0, 0, 0, 0),
                       "input_zp": 0, "output_zp": 0, "act": (-128, 127)})
    assert (op.input, op.filter, op.bias) == (x, w, b)
    assert op.stride == (1, 1) and op.pad == (0, 0, 0, 0) and op.act == (-128, 127)
