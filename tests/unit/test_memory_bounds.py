"""The copy lower bound (passes/planning/copy_bound.py), the effect of placing buffers
inside another (passes/planning/placement.py), the in-place rules of the kernel records
(passes/planning/aliasing.py) and the plan attributes plan-memory records."""

from __future__ import annotations

import random

import pytest
import utc.passes  # noqa: F401  (registers passes and the plan attributes)
from utc.compiler.driver import lower
from utc.compiler.ir import F32, MemRefType, Value
from utc.compiler.ir.parser import parse_module
from utc.dialects.func import main_function
from utc.passes.planning.aliasing import aliasable_inputs, may_alias
from utc.passes.planning.copy_bound import copy_buffers, copy_lower_bound
from utc.passes.planning.intervals import Buffer, lower_bound
from utc.passes.planning.placement import bound_after_placement, placed_buffers

CHAIN = """
module @m {
  func.func() {sym_name = @main} ({
  ^entry(%x: tensor<1x4xf32>):
    %w = tensor.constant() {value = dense_resource<w>} : tensor<8x4xf32>
    %a = fused.fully_connected(%x, %w) {act = "none", kernel = "fc", scratch = 12} : tensor<1x8xf32>
    %r = tensor.reshape(%a) : tensor<8xf32>
    %t = tensor.tanh(%r) {kernel = "utc_tanh_f32"} : tensor<8xf32>
    func.return(%t) : ()
  }) : ()
}
{-#
  dense_resources: {
    w: tensor<8x4xf32> = elided,
  }
#-}
"""


def test_copy_bound_counts_every_value_and_each_reshape_as_a_copy() -> None:
    fn = main_function(parse_module(CHAIN))
    spans = {b.name: (b.size, b.start, b.end) for b in copy_buffers(fn)}
    assert spans == {"x": (16, 0, 0), "a": (32, 0, 1), "r": (32, 1, 2), "t": (32, 2, 2),
                     "scratch0": (12, 0, 0)}
    # step 0: x + a + scratch; step 1 (the reshape copy): a + r; step 2: r + t
    assert copy_lower_bound(fn) == 64


def test_bufferize_records_the_copy_bound_and_plan_memory_keeps_it() -> None:
    module = parse_module(CHAIN)
    lower(module, "bufferize,inplace,plan-memory")
    attrs = main_function(module).attrs
    # the reshape is a view and TANH runs in place: one 32-byte buffer after the FC
    assert attrs["lower_bound"] == 16 + 32 + 12
    assert attrs["copy_lower_bound"] == 64
    assert attrs["gap"] == attrs["arena_bytes"] - attrs["lower_bound"]
    assert attrs["plan_alignment"] == 16
    assert list(attrs)[1:] == ["arena_bytes", "lower_bound", "plan_strategy", "gap",
                               "copy_lower_bound", "plan_alignment"]


def test_an_earlier_record_is_only_ever_raised() -> None:
    module = parse_module(CHAIN)
    main_function(module).attrs["copy_lower_bound"] = 1000
    lower(module, "bufferize,plan-memory")
    assert main_function(module).attrs["copy_lower_bound"] == 1000


def test_placement_moves_the_start_of_the_whole_and_drops_the_step() -> None:
    # a [0, 2] and b [1, 2] are concatenated at step 2 into c [2, 4]; s is c's scratch
    bufs = [Buffer("a", 10, 0, 2), Buffer("b", 20, 1, 2), Buffer("c", 30, 2, 4),
            Buffer("s", 5, 2, 2), Buffer("o", 7, 3, 4)]
    after = placed_buffers(bufs, [0, 1], 2, 2)
    assert [(b.name, b.start, b.end) for b in after] == [("c", 0, 3), ("o", 2, 3)]
    assert bound_after_placement(bufs, [0, 1], 2, 2) == 37
    assert lower_bound(bufs) == 65
    with pytest.raises(ValueError):
        placed_buffers(bufs, [2], 2, 2)


def test_placement_can_raise_the_bound() -> None:
    # a is produced long before b, across a big buffer's life
    bufs = [Buffer("a", 10, 0, 3), Buffer("big", 100, 1, 1), Buffer("b", 10, 2, 3),
            Buffer("c", 20, 3, 4)]
    assert lower_bound(bufs) == 110
    assert bound_after_placement(bufs, [0, 2], 3, 3) == 120


@pytest.mark.parametrize("seed", range(20))
def test_placement_matches_rebuilding_the_intervals(seed: int) -> None:
    rng = random.Random(seed)
    steps = rng.randint(3, 8)
    d = rng.randint(1, steps - 1)
    parts = [Buffer(f"p{i}", rng.randint(1, 50), rng.randint(0, d), d) for i in range(2)]
    whole = Buffer("w", sum(p.size for p in parts), d, rng.randint(d, steps))
    others = []
    for i in range(5):
        s = rng.randint(0, steps)
        e = rng.randint(s, steps)
        if s <= d <= e and not s < d < e:
            continue  # a buffer touching step d must belong to its call
        others.append(Buffer(f"o{i}", rng.randint(1, 50), s, e))
    bufs = parts + [whole] + others
    got = bound_after_placement(bufs, [0, 1], 2, d)
    # the same by brute force: live bytes at each remaining step
    lives = []
    for step in range(steps + 1):
        if step == d:
            continue
        live = sum(b.size for b in others if b.start <= step <= b.end)
        if min(p.start for p in parts) <= step <= whole.end:
            live += whole.size
        lives.append(live)
    assert got == max(lives, default=0)


def _value(shape, element=F32) -> Value:
    return Value(MemRefType(shape, element))


def test_in_place_comes_from_the_kernel_records() -> None:
    assert aliasable_inputs("utc_add_s8") == [0, 1]
    assert aliasable_inputs("utc_prelu_f32") == [0]  # not the broadcast alpha
    assert aliasable_inputs("utc_softmax_s8") == [0]
    assert aliasable_inputs("utc_clamp_f32") == [0]  # one kernel for three op classes
    for name in ("utc_conv2d_s8", "utc_depthwise_conv2d_s8", "utc_fully_connected_s8",
                 "utc_mean_s8", "utc_avg_pool_s8", "utc_mean_f32", "utc_concatenation",
                 "utc_quantize_f32_s8", "no_such_kernel"):
        assert aliasable_inputs(name) == []
    out = _value((1, 8))
    assert may_alias("utc_add_f32", 1, _value((1, 8)), out)
    assert not may_alias("utc_add_f32", 0, _value((1, 1)), out)  # broadcast input
    assert not may_alias("utc_pad", 0, _value((1, 8)), out)
    assert not may_alias("utc_clamp_f32", 0, _value((8, 1)), out)  # other shape
