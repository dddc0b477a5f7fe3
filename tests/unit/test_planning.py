"""Allocators on interval sets with a known optimum and on seeded random sets, all
checked by the independent checker; the checker itself catches broken plans."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.planning.allocators import STRATEGIES, arena_size
from utc.compiler.planning.checker import PlanError, assert_valid_plan, check_plan
from utc.compiler.planning.intervals import Buffer, lower_bound


def _chain(sizes: list[int]) -> list[Buffer]:
    """A straight-line network: buffer i is produced at step i and consumed at step i+1."""
    return [Buffer(f"b{i}", s, i, i + 1, 16) for i, s in enumerate(sizes)]


def _residual() -> list[Buffer]:
    # x -> a -> b ; add(x, b) -> y : x stays live across the block
    return [Buffer("x", 64, 0, 2, 16), Buffer("a", 128, 0, 1, 16), Buffer("b", 64, 1, 2, 16),
            Buffer("y", 64, 2, 3, 16)]


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("buffers", [_chain([32, 96, 48, 160, 16]), _residual()])
def test_known_optimum(strategy: str, buffers: list[Buffer]) -> None:
    offsets = STRATEGIES[strategy](buffers)
    size = arena_size(buffers, offsets)
    assert_valid_plan(buffers, offsets, size)
    bound = lower_bound(buffers, aligned=True)
    assert size >= bound
    if strategy == "optimal":
        assert size == bound


def test_optimal_beats_greedy_by_size_where_greedy_is_suboptimal() -> None:
    # Largest-first places the two 32 B buffers so that the later 48 B one cannot reuse
    # their space; ordering by first use reaches the bound of 80 B.
    buffers = [Buffer("a", 32, 0, 1, 16), Buffer("b", 48, 1, 2, 16), Buffer("c", 32, 2, 3, 16),
               Buffer("d", 48, 0, 0, 16), Buffer("e", 32, 3, 3, 16), Buffer("f", 48, 3, 3, 16)]
    opt = arena_size(buffers, STRATEGIES["optimal"](buffers))
    assert opt == lower_bound(buffers, aligned=True)
    assert opt <= arena_size(buffers, STRATEGIES["greedy-by-size"](buffers))


@pytest.mark.parametrize("seed", range(20))
def test_random_sets_are_valid_and_deterministic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    buffers = []
    for i in range(n):
        start = int(rng.integers(0, 30))
        buffers.append(Buffer(f"b{i}", int(rng.integers(0, 5000)), start,
                              start + int(rng.integers(0, 6)), 16))
    for name, strategy in STRATEGIES.items():
        offsets = strategy(buffers)
        size = arena_size(buffers, offsets)
        assert check_plan(buffers, offsets, size) == [], name
        assert size >= lower_bound(buffers, aligned=False)
        assert strategy(buffers) == offsets, f"{name} is not deterministic"


def test_checker_detects_broken_plans() -> None:
    a, b = Buffer("a", 32, 0, 1, 16), Buffer("b", 32, 1, 2, 16)
    assert "overlap" in check_plan([a, b], [0, 16], 48)[0]
    assert "aligned" in check_plan([a, b], [0, 40], 72)[0]
    assert "past the arena" in check_plan([a, b], [0, 32], 48)[0]
    assert check_plan([a, Buffer("c", 32, 2, 3, 16)], [0, 0], 32) == []
    with pytest.raises(PlanError):
        assert_valid_plan([a, b], [0, 0], 32)
