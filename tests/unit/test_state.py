"""The pure parts of persistent state: TFLite Micro's handle resolution and default fill,
the state region's layout, which reads may use the state's bytes, the access order a
scheduler keeps, and the state ops' printing, parsing and verification."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.importers.resource_variables import (
    Handle,
    HandleError,
    default_fill,
    resolve_handles,
)
from utc.compiler.ir import F32, Block, Module, Region, SymbolRef, TensorType, VerifyError
from utc.compiler.ir.parser import parse_module
from utc.dialects import func, state, tensor
from utc.passes.planning.state import pack_state, shared_reads


def test_handles_resolve_like_tflite_micro() -> None:
    hs = [Handle("", "a"), Handle("", "b"), Handle("", "a"), Handle(None, "b"),
          Handle("other", "a")]
    assert resolve_handles(hs) == [0, 1, 0, 1, 2]


def test_a_handle_without_container_matches_any_container() -> None:
    assert resolve_handles([Handle("c1", "v"), Handle(None, "v")]) == [0, 0]


def test_a_container_meeting_a_variable_made_without_one_is_refused() -> None:
    with pytest.raises(HandleError, match="without a container"):
        resolve_handles([Handle(None, "v"), Handle("c", "v")])


def test_default_fill_is_the_int8_zero_point_byte() -> None:
    np.testing.assert_array_equal(default_fill((2, 2), np.dtype(np.int8), -4),
                                  np.full((2, 2), -4, np.int8))
    # int16 with zero point 3: every byte 3, as TFLite Micro's memset does
    assert default_fill((1,), np.dtype("<i2"), 3)[0] == 0x0303
    np.testing.assert_array_equal(default_fill((3,), np.dtype("<f4"), None), np.zeros(3))


def test_pack_state_aligns_each_buffer() -> None:
    assert pack_state([5, 16, 1, 3], 16) == ([0, 16, 32, 48], 51)
    assert pack_state([], 16) == ([], 0)
    assert pack_state([3, 3], 1) == ([0, 3], 6)


T = TensorType((1, 4), F32)
ACC = SymbolRef("acc")


def _module(build) -> tuple[Module, list]:
    """A module with variable @acc and a function whose body `build(block, x)` fills."""
    m = Module("t")
    init = m.add_resource("acc.init", np.zeros((1, 4), np.float32), T)
    m.body.append(state.VariableOp([], [], {"sym_name": ACC, "type": T, "init": init}))
    block = Block([T], ["x"])
    results = build(block, block.args[0])
    block.append(func.ReturnOp(results))
    fn = func.FuncOp([], [], {"sym_name": SymbolRef("main")}, [Region([block])])
    m.body.append(fn)
    return m, block.ops


def _read(block):
    return block.append(state.ReadOp([], [T], {"variable": ACC})).result


def _write(block, v):
    block.append(state.WriteOp([v], [], {"variable": ACC}))


def _add(block, a, b):
    return block.append(tensor.AddOp([a, b], [T], {"act": "none"})).result


def test_a_read_used_up_before_the_write_shares_the_state() -> None:
    def build(block, x):
        y = _add(block, _read(block), x)
        _write(block, y)
        return [y]

    m, ops = _module(build)
    m.verify()
    assert shared_reads(ops) == {ops[0]}


def test_a_read_used_after_the_write_is_copied() -> None:
    def build(block, x):
        v = _read(block)
        _write(block, _add(block, v, x))
        return [_add(block, x, v)]

    _, ops = _module(build)
    assert shared_reads(ops) == set()


def test_a_returned_read_is_copied_and_a_read_written_back_is_shared() -> None:
    def build(block, x):
        v = _read(block)
        w = _read(block)
        _write(block, w)
        return [v]

    _, ops = _module(build)
    assert shared_reads(ops) == {ops[1]}


def test_access_order_edges_chain_each_variable() -> None:
    def build(block, x):
        v = _read(block)
        y = _add(block, v, x)
        _write(block, y)
        return [_read(block)]

    _, ops = _module(build)
    assert state.access_order_edges(ops) == {2: 0, 3: 2}


def test_state_ops_verify_their_type_and_variable() -> None:
    def build(block, x):
        v = block.append(state.ReadOp([], [TensorType((1, 5), F32)], {"variable": ACC})).result
        return [v]

    m, _ = _module(build)
    with pytest.raises(VerifyError, match="holds tensor<1x4xf32>"):
        m.verify()

    def unknown(block, x):
        block.append(state.WriteOp([x], [], {"variable": SymbolRef("nope")}))
        return [x]

    m, _ = _module(unknown)
    with pytest.raises(VerifyError, match="no state.variable @nope"):
        m.verify()


def test_state_ops_round_trip_through_text() -> None:
    def build(block, x):
        y = _add(block, _read(block), x)
        _write(block, y)
        return [y]

    m, _ = _module(build)
    text = str(m)
    assert "state.variable" in text and "state.read" in text and "state.write" in text
    again = parse_module(text)
    again.verify()
    assert str(again) == text
