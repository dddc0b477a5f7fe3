"""Memory planning: intervals, lower bounds, allocators and the independent checker.

Allocators run on interval sets with a known optimum (chains, residual blocks, a diamond,
instances where TFLite Micro's greedy-by-size is provably suboptimal) and on seeded random
sets; every plan goes through the checker. Tiny sets are compared with an exhaustive
optimum computed here, independently of the allocator code.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from utc.passes.planning.allocators import (
    STRATEGIES,
    arena_size,
    greedy_by_first_use,
    greedy_by_size,
    optimal,
)
from utc.passes.planning.checker import PlanError, assert_valid_plan, check_plan
from utc.passes.planning.intervals import (
    Buffer,
    arena_lower_bound,
    conflict_graph,
    lower_bound,
    peak_step,
)

# --------------------------------------------------------------------------- helpers


def _chain(sizes: Sequence[int], alignment: int = 16) -> list[Buffer]:
    """A straight-line network: tensor i is produced at step i and consumed at step i+1."""
    return [Buffer(f"t{i}", s, i, i + 1, alignment) for i, s in enumerate(sizes)]


def _residual() -> list[Buffer]:
    """x -> conv -> a -> conv -> b; add(x, b) -> y: x stays live across the block."""
    return [Buffer("x", 64, 0, 2), Buffer("a", 128, 0, 1), Buffer("b", 64, 1, 2),
            Buffer("y", 64, 2, 3)]


def _diamond() -> list[Buffer]:
    """x feeds two branches (p, q) that are concatenated: both branches live together."""
    return [Buffer("x", 96, 0, 1), Buffer("p", 160, 0, 2), Buffer("q", 48, 1, 2),
            Buffer("cat", 208, 2, 3)]


def _network(rng: np.random.Generator, blocks: int) -> list[Buffer]:
    """A CNN-like schedule: plain convs, residual blocks and MobileNetV2-style inverted
    residual blocks (expand x6, depthwise, project, add), liveness [producer, last use]."""
    size: dict[str, int] = {}
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    step = 0

    def op(inputs: list[str], out_size: int) -> str:
        nonlocal step
        name = f"t{len(size)}"
        size[name], first[name], last[name] = out_size, step, step
        for i in inputs:
            last[i] = step
        step += 1
        return name

    x = op([], int(rng.integers(1, 64)) * 16)
    for _ in range(blocks):
        kind = int(rng.integers(0, 3))
        if kind == 0:
            x = op([x], int(rng.integers(1, 64)) * 16)
            continue
        widen = 6 if kind == 2 else 1
        y = x
        for _ in range(int(rng.integers(1, 4))):
            y = op([y], int(rng.integers(1, 64)) * 16 * widen)
        y = op([y], size[x])
        x = op([x, y], size[x])
    last[x] = step
    return [Buffer(n, size[n], first[n], last[n]) for n in size]


def _random_set(rng: np.random.Generator, n: int, steps: int = 30, max_len: int = 6,
                alignments: Sequence[int] = (16,), max_size: int = 5000) -> list[Buffer]:
    out = []
    for i in range(n):
        start = int(rng.integers(0, steps))
        out.append(Buffer(f"b{i}", int(rng.integers(0, max_size)), start,
                          start + int(rng.integers(0, max_len)),
                          int(alignments[int(rng.integers(0, len(alignments)))])))
    return out


def _exhaustive_optimum(buffers: Sequence[Buffer]) -> int:
    """The true minimum arena, by trying every placement order with a first-fit written
    here from scratch (candidates: 0 and the aligned end of each conflicting placed
    buffer). Every optimal plan is reproduced by first fit in order of its offsets, so the
    minimum over all orders is the optimum. Only for tiny sets."""
    live = [b for b in buffers if b.size]
    best = 0 if not live else None
    for perm in itertools.permutations(range(len(live))):
        spans: list[tuple[Buffer, int]] = []
        for k in perm:
            b = live[k]
            rivals = [(c, o) for c, o in spans if c.start <= b.end and b.start <= c.end]
            candidates = {0} | {-(-(o + c.size) // b.alignment) * b.alignment for c, o in rivals}
            for cand in sorted(candidates):
                if all(cand + b.size <= o or o + c.size <= cand for c, o in rivals):
                    spans.append((b, cand))
                    break
        top = max(o + c.size for c, o in spans)
        best = top if best is None else min(best, top)
    assert best is not None
    return best


def _plan(strategy: str, buffers: Sequence[Buffer]) -> tuple[list[int], int]:
    """Run a strategy, check the plan independently and return (offsets, arena)."""
    offsets = STRATEGIES[strategy](buffers)
    size = arena_size(buffers, offsets)
    assert_valid_plan(buffers, offsets, size)
    assert size >= lower_bound(buffers, aligned=False)
    assert size >= arena_lower_bound(buffers)
    for b, o in zip(buffers, offsets):
        if b.size == 0:
            assert o == 0, f"{strategy}: zero-size {b.name} at {o}"
    return offsets, size


# --------------------------------------------------------------------------- intervals


def test_buffer_rejects_bad_intervals() -> None:
    with pytest.raises(ValueError, match="reversed"):
        Buffer("a", 16, 3, 2)
    with pytest.raises(ValueError, match="negative"):
        Buffer("a", -1, 0, 0)
    with pytest.raises(ValueError, match="alignment"):
        Buffer("a", 16, 0, 0, 0)
    assert Buffer("a", 17, 0, 0).aligned_size == 32
    assert Buffer("a", 0, 0, 0).aligned_size == 0
    assert Buffer("a", 5, 0, 0, 1).aligned_size == 5


@pytest.mark.parametrize("seed", range(5))
def test_conflict_graph_is_the_interval_graph(seed: int) -> None:
    rng = np.random.default_rng(seed)
    buffers = _random_set(rng, 60, steps=25, max_len=8, max_size=200)
    g = conflict_graph(buffers)
    assert sorted(g.nodes) == list(range(len(buffers)))
    expected = {(i, j) for i, j in itertools.combinations(range(len(buffers)), 2)
                if buffers[i].size and buffers[j].size
                and max(buffers[i].start, buffers[j].start) <= min(buffers[i].end, buffers[j].end)}
    assert {tuple(sorted(e)) for e in g.edges} == expected
    for i, b in enumerate(buffers):
        assert g.nodes[i]["weight"] == b.aligned_size
        assert g.nodes[i]["name"] == b.name


def test_lower_bound_and_peak_step_by_hand() -> None:
    buffers = [Buffer("a", 10, 0, 1), Buffer("b", 20, 1, 2), Buffer("c", 5, 2, 4),
               Buffer("d", 25, 4, 4)]
    # live bytes per step: 10, 30, 25, 5, 30 -> bound 30, first reached at step 1
    assert lower_bound(buffers) == 30
    assert peak_step(buffers) == 1
    # aligned to 16: 16, 48, 48, 16, 48
    assert lower_bound(buffers, aligned=True) == 48
    assert peak_step(buffers, aligned=True) == 1
    assert lower_bound([]) == 0 and peak_step([]) == 0
    assert arena_lower_bound([]) == 0
    # the topmost buffer needs only its raw size: 16 + 20 at step 1, 32 + 5 at step 2
    assert arena_lower_bound(buffers) == 37


@pytest.mark.parametrize("seed", range(10))
def test_lower_bound_matches_step_enumeration_and_max_weight_clique(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    buffers = _random_set(rng, int(rng.integers(1, 16)), steps=12, max_len=5, max_size=300,
                          alignments=(1, 4, 16))
    for aligned in (False, True):
        per_step = {t: sum(b.aligned_size if aligned else b.size for b in buffers
                           if b.start <= t <= b.end)
                    for t in range(0, 20)}
        bound = max(per_step.values())
        assert lower_bound(buffers, aligned) == bound
        assert peak_step(buffers, aligned) == min(t for t, v in per_step.items() if v == bound)
    # for interval graphs the heaviest step is the maximum-weight clique
    _, clique_weight = nx.max_weight_clique(conflict_graph(buffers), weight="weight")
    assert lower_bound(buffers, aligned=True) == clique_weight


@pytest.mark.parametrize("seed", range(25))
def test_arena_lower_bound_is_valid_and_between_the_two_bounds(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    uniform = _random_set(rng, int(rng.integers(1, 7)), steps=5, max_len=4, max_size=200)
    mixed = _random_set(rng, int(rng.integers(1, 7)), steps=5, max_len=4, max_size=200,
                        alignments=(1, 4, 8, 16))
    assert (lower_bound(uniform) <= arena_lower_bound(uniform)
            <= lower_bound(uniform, aligned=True))
    for buffers in (uniform, mixed):
        assert lower_bound(buffers) <= arena_lower_bound(buffers) <= _exhaustive_optimum(buffers)


# --------------------------------------------------------------------------- known optima


KNOWN = {
    "chain": _chain([32, 96, 48, 160, 16, 16, 256, 64]),
    "chain-unaligned-sizes": _chain([30, 100, 7, 250, 3, 61], alignment=1),
    "residual": _residual(),
    "diamond": _diamond(),
    "single": [Buffer("only", 100, 0, 0)],
    "disjoint": [Buffer("a", 100, 0, 1), Buffer("b", 200, 2, 3), Buffer("c", 50, 4, 4)],
    "with-zero-size": _chain([64, 0, 32, 0]) + [Buffer("z", 0, 0, 9, 64)],
}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_optimum(strategy: str, name: str) -> None:
    buffers = KNOWN[name]
    _, size = _plan(strategy, buffers)
    if strategy == "optimal":
        assert size == arena_lower_bound(buffers) == _exhaustive_optimum(buffers)


def test_empty_and_all_zero_inputs() -> None:
    zeros = [Buffer("z0", 0, 0, 3), Buffer("z1", 0, 1, 2, 4)]
    for strategy in STRATEGIES.values():
        assert strategy([]) == []
        assert strategy(zeros) == [0, 0]
    assert arena_size([], []) == 0
    assert arena_size(zeros, [0, 0]) == 0


def test_greedy_by_size_follows_tflite_micro_tie_breaking() -> None:
    # Equal sizes: TFLM's stable descending sort runs over buffers in reverse order of
    # addition, so the later-added buffer is placed first and gets offset 0.
    a, b = Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2)
    assert greedy_by_size([a, b]) == [32, 0]
    # Sizes compare after rounding up to the alignment (TFLM plans aligned sizes):
    # 20 and 30 both take 32 bytes, so the tie rule applies again.
    c, d = Buffer("c", 30, 0, 1), Buffer("d", 20, 1, 2)
    assert greedy_by_size([c, d]) == [32, 0]
    # Otherwise strictly largest first, each at the lowest gap that fits.
    e, f, g = Buffer("e", 16, 0, 2), Buffer("f", 64, 0, 0), Buffer("g", 48, 2, 2)
    assert greedy_by_size([e, f, g]) == [64, 0, 0]


def test_optimal_beats_greedy_by_size_on_equal_sized_path() -> None:
    # Four 64-byte tensors whose lifetimes form a path b3 - b1 - b0 - b2: two levels
    # suffice (bound 128). TFLM order (ties: last added first) is b3, b2, b1, b0: b3 and
    # b2 both take offset 0, b1 goes above b3, and b0, touching b1 (at 64) and b2 (at 0),
    # is pushed to 128: arena 192.
    buffers = [Buffer("b0", 64, 2, 4), Buffer("b1", 64, 1, 2), Buffer("b2", 64, 3, 5),
               Buffer("b3", 64, 0, 1)]
    assert greedy_by_size(buffers) == [128, 64, 0, 0]
    _, greedy = _plan("greedy-by-size", buffers)
    _, best = _plan("optimal", buffers)
    assert (greedy, best) == (192, 128)
    assert best == lower_bound(buffers, aligned=True)


def test_optimal_beats_greedy_by_size_on_distinct_sizes() -> None:
    # A chain a(96) -> b(80) -> c(112) -> d(128); the bound is c + d = 240 at step 3.
    # Largest first: d at 0, c above it at 128, a at 0, and b (live with a [0, 96) and
    # c [128, 240)) does not fit the 32-byte hole, so it lands at 240: arena 320.
    # Optimal: c and a at 0, d and b at 112.
    buffers = [Buffer("a", 96, 0, 1), Buffer("b", 80, 1, 2), Buffer("c", 112, 2, 3),
               Buffer("d", 128, 3, 3)]
    assert greedy_by_size(buffers) == [0, 240, 128, 0]
    _, greedy = _plan("greedy-by-size", buffers)
    _, best = _plan("optimal", buffers)
    assert (greedy, best) == (320, 240)


def test_optimal_beats_greedy_by_first_use() -> None:
    # In schedule order "in" takes [0, 112) and x goes above it; when the 128-byte "big"
    # appears at step 1, x is still live at 112 and the hole below it is too small, so big
    # lands at 176: arena 304. Placing big first at 0 and x above it reaches the bound 192.
    buffers = [Buffer("in", 112, 0, 0), Buffer("x", 64, 0, 1), Buffer("big", 128, 1, 3)]
    assert greedy_by_first_use(buffers) == [0, 112, 176]
    _, first_use = _plan("greedy-by-first-use", buffers)
    _, best = _plan("optimal", buffers)
    assert (first_use, best) == (304, 192)


# --------------------------------------------------------------------------- random sets


@pytest.mark.parametrize("seed", range(30))
def test_random_sets_all_strategies(seed: int) -> None:
    rng = np.random.default_rng(seed)
    alignments = (16,) if seed % 3 else (1, 4, 8, 16, 64)
    buffers = _random_set(rng, int(rng.integers(1, 40)), alignments=alignments)
    sizes = {}
    for name in STRATEGIES:
        offsets, sizes[name] = _plan(name, buffers)
        assert STRATEGIES[name](buffers) == offsets, f"{name} is not deterministic"
    # optimal tries both baselines' orders first, so it can never lose to them
    assert sizes["optimal"] <= min(sizes["greedy-by-size"], sizes["greedy-by-first-use"])


@pytest.mark.parametrize("seed", range(40))
def test_optimal_matches_exhaustive_optimum_on_tiny_sets(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    alignments = (16,) if seed % 2 else (1, 4, 16)
    buffers = _random_set(rng, int(rng.integers(2, 7)), steps=5, max_len=4,
                          alignments=alignments)
    _, size = _plan("optimal", buffers)
    assert size == _exhaustive_optimum(buffers)


@pytest.mark.parametrize("seed", range(40))
def test_optimal_reaches_the_bound_on_cnn_like_schedules(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    buffers = _network(rng, int(rng.integers(1, 40)))
    _, size = _plan("optimal", buffers)
    assert size == arena_lower_bound(buffers) == lower_bound(buffers, aligned=True)


@pytest.mark.parametrize("seed", range(20))
def test_optimal_reaches_the_bound_on_chains(seed: int) -> None:
    # A chain can always be packed in max(s_i + s_i+1) by alternating bottom and top.
    rng = np.random.default_rng(3000 + seed)
    buffers = _chain([int(s) * 16 for s in rng.integers(1, 200, int(rng.integers(2, 60)))])
    _, size = _plan("optimal", buffers)
    assert size == lower_bound(buffers, aligned=True)


def test_optimal_reaches_the_bound_far_more_often_than_greedy_by_size() -> None:
    rng = np.random.default_rng(4242)
    sets = [_random_set(rng, int(rng.integers(1, 30))) for _ in range(60)]
    hits = {name: 0 for name in ("greedy-by-size", "optimal")}
    for buffers in sets:
        bound = arena_lower_bound(buffers)
        for name in hits:
            hits[name] += _plan(name, buffers)[1] == bound
    assert hits["optimal"] >= 57, hits
    assert hits["greedy-by-size"] < hits["optimal"], hits


def test_optimal_is_deterministic_and_seedable() -> None:
    rng = np.random.default_rng(7)
    buffers = _random_set(rng, 80, steps=30, max_len=10)
    first = optimal(buffers)
    assert optimal(list(buffers)) == first
    assert optimal(tuple(buffers)) == first
    assert_valid_plan(buffers, optimal(buffers, seed=3), arena_size(buffers, optimal(buffers,
                                                                                      seed=3)))
    # no search at all still yields the best greedy plan
    no_search = optimal(buffers, budget=0)
    assert_valid_plan(buffers, no_search, arena_size(buffers, no_search))
    assert arena_size(buffers, first) <= arena_size(buffers, no_search)


def test_optimal_plans_200_dense_buffers_validly() -> None:
    """Dense and random: the bound is out of reach, so the search spends its whole work
    budget (bounded by work units, see test_planning_budget.py, not by the clock)."""
    rng = np.random.default_rng(11)
    buffers = _random_set(rng, 200, steps=40, max_len=12)
    offsets = optimal(buffers)
    assert_valid_plan(buffers, offsets, arena_size(buffers, offsets))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 12), st.integers(0, 5),
                          st.sampled_from([1, 2, 4, 8, 16, 32])), max_size=25))
def test_hypothesis_plans_are_valid(raw: list[tuple[int, int, int, int]]) -> None:
    buffers = [Buffer(f"h{i}", size, start, start + length, align)
               for i, (size, start, length, align) in enumerate(raw)]
    sizes = {name: _plan(name, buffers)[1] for name in STRATEGIES}
    assert sizes["optimal"] <= min(sizes.values())


def test_registry() -> None:
    assert set(STRATEGIES) == {"greedy-by-size", "greedy-by-first-use", "optimal"}
    assert STRATEGIES["greedy-by-size"] is greedy_by_size
    assert STRATEGIES["greedy-by-first-use"] is greedy_by_first_use
    for fn in STRATEGIES.values():
        assert fn.__doc__ and fn.__doc__.strip()


# --------------------------------------------------------------------------- checker


def test_checker_accepts_valid_plans() -> None:
    a, b = Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2)
    assert check_plan([a, b], [0, 32], 64) == []
    # touching byte ranges do not overlap; disjoint lifetimes may share bytes
    assert check_plan([a, Buffer("c", 32, 2, 3)], [0, 0], 32) == []
    # zero-size buffers never overlap anything
    assert check_plan([a, Buffer("z", 0, 0, 5)], [0, 16], 32) == []
    assert check_plan([], [], 0) == []
    assert_valid_plan([a, b], [32, 0], 64)


def test_checker_detects_broken_plans() -> None:
    a, b = Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2)
    # live ranges share step 1 (inclusive ends) and bytes [16, 32)
    (overlap,) = check_plan([a, b], [0, 16], 48)
    assert "overlap" in overlap and "a" in overlap and "b" in overlap and "1..1" in overlap
    (misaligned,) = check_plan([a, b], [0, 40], 72)
    assert "aligned" in misaligned and "b" in misaligned
    (past,) = check_plan([a, b], [0, 32], 48)
    assert "past the arena" in past
    assert any("negative" in p for p in check_plan([a], [-16], 32))
    assert "2 buffers" in check_plan([a, b], [0], 64)[0]
    assert "not an integer" in check_plan([a], [1.5], 64)[0]
    assert "not an integer" in check_plan([a], [True], 64)[0]
    assert check_plan([a, b], [np.int64(0), np.int64(32)], 64) == []


def test_assert_valid_plan_reports_every_violation() -> None:
    a, b, c = Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2), Buffer("c", 8, 0, 2, 8)
    with pytest.raises(PlanError) as info:
        assert_valid_plan([a, b, c], [0, 8, 4], 32)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "b: offset 8 is not 16-byte aligned" in message
    assert "c: offset 4 is not 8-byte aligned" in message
    assert "past the arena" in message
    assert message.count("overlap") == 3


@pytest.mark.parametrize("seed", range(10))
def test_checker_agrees_with_byte_map_simulation(seed: int) -> None:
    """Random (mostly broken) plans: the checker flags an overlap exactly when some step
    has a byte claimed twice in a per-step byte map."""
    rng = np.random.default_rng(5000 + seed)
    for _ in range(30):
        buffers = _random_set(rng, int(rng.integers(1, 6)), steps=6, max_len=3, max_size=40,
                              alignments=(1,))
        offsets = [int(o) for o in rng.integers(0, 60, len(buffers))]
        arena = 100
        claimed_twice = False
        for t in range(10):
            used = np.zeros(arena, dtype=int)
            for b, o in zip(buffers, offsets):
                if b.start <= t <= b.end:
                    used[o:o + b.size] += 1
            claimed_twice |= bool((used > 1).any())
        problems = check_plan(buffers, offsets, arena)
        assert any("overlap" in p for p in problems) == claimed_twice
