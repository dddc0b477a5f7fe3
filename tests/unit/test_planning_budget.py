"""The planner's searches stay within their deterministic work budgets on hostile graphs.

`min_peak_order` (reorder-for-memory) searches downsets, exponentially many on a wide
graph; the `optimal` allocator runs a portfolio and a hill climb. Both are budgeted by
work counts (passes/planning/reorder.py, allocators.py) so that compile time and memory
stay bounded and the output never depends on the machine's speed. These tests build the
adversarial graphs directly (300 parallel branches into one concatenation, a 2,000-op
chain, a dense DAG where every op reads all earlier results) and count the work done
*independently* of the code's own accounting: calls of the expansion primitives, states
stored, moves drawn, buffers placed. No test measures time. Every plan is checked by the
independent checker (passes/planning/checker.py).
"""

from __future__ import annotations

import random

import pytest
from utc.passes.planning import allocators, reorder
from utc.passes.planning.allocators import arena_size, optimal
from utc.passes.planning.checker import check_plan
from utc.passes.planning.intervals import Buffer, arena_lower_bound, neighbours
from utc.passes.planning.reorder import (
    DEFAULT_BUDGET,
    GREEDY_BUDGET,
    Graph,
    Step,
    greedy_order,
    min_peak_order,
    order_peak,
)


def parallel_branches(k: int) -> Graph:
    """One input, k branches of two ops (a large then a small result), a concatenation of
    the k small results: 3^k downsets. In the original order every large op runs first
    (all large results live at once), so a better order exists."""
    sizes = [64] + [256] * k + [16 + b % 7 for b in range(k)]
    steps = [Step((0,), (1 + b,)) for b in range(k)]
    steps += [Step((1 + b,), (1 + k + b,), (b,)) for b in range(k)]
    sizes.append(sum(sizes[1 + k:]))
    steps.append(Step(tuple(range(1 + k, 1 + 2 * k)), (len(sizes) - 1,),
                      tuple(range(k, 2 * k))))
    return Graph(tuple(steps), tuple(sizes), frozenset({0}), frozenset({len(sizes) - 1}))


def chain(n: int) -> Graph:
    steps = [Step((i,), (i + 1,), () if i == 0 else (i - 1,)) for i in range(n)]
    return Graph(tuple(steps), tuple(16 + (i * 37) % 100 for i in range(n + 1)),
                 frozenset({0}), frozenset({n}))


def dense_dag(n: int) -> Graph:
    """Step i reads the input and every earlier step's result."""
    steps = [Step(tuple(range(i + 1)), (i + 1,), tuple(range(i))) for i in range(n)]
    return Graph(tuple(steps), tuple(16 + (i * 37) % 100 for i in range(n + 1)),
                 frozenset({0}), frozenset({n}))


class Counted:
    """Counts, behind the search's back, the expansions (readiness scans), the candidate
    steps evaluated and the states pushed on the heap."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scans = self.advances = self.pushes = 0
        prepared = reorder._Prepared
        ready, advance, push = prepared.ready, prepared.advance, reorder.heapq.heappush

        def counted_ready(p, mask):
            self.scans += 1
            return ready(p, mask)

        def counted_advance(p, mask, live, i):
            self.advances += 1
            return advance(p, mask, live, i)

        def counted_push(heap, item):
            self.pushes += 1
            return push(heap, item)

        monkeypatch.setattr(prepared, "ready", counted_ready)
        monkeypatch.setattr(prepared, "advance", counted_advance)
        monkeypatch.setattr(reorder.heapq, "heappush", counted_push)


def assert_valid_order(g: Graph, order: list[int]) -> None:
    order_peak(g, order)  # raises unless a topological permutation of the steps


@pytest.mark.parametrize("budget", [20_000, DEFAULT_BUDGET])
def test_300_parallel_branches_stop_at_the_budget(budget: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    g = parallel_branches(300)
    n, width = len(g.steps), 300
    current = order_peak(g, range(n))
    count = Counted(monkeypatch)
    result = min_peak_order(g, limit=current, budget=budget)
    scans, advances, pushes = count.scans, count.advances, count.pushes
    assert not result.exact  # 3^300 downsets: the search must give up
    assert_valid_order(g, result.order)
    assert result.peak == order_peak(g, result.order)
    assert result.order == greedy_order(g)  # the fallback
    assert result.peak < current
    # Each expansion scans all n steps and the search stops once the scans alone pass
    # the budget: at most budget / n + 1 expansions, each trying at most `width` steps
    # (plus the n steps of the final order's peak), so the states kept, and the memory,
    # are bounded by the same budget.
    assert scans <= budget // n + 1
    assert advances <= scans * width + n
    assert pushes <= advances
    # the code's own count: the search stops within one expansion past its budget (a
    # scan, `width` candidates touching 2 buffers, `width` new states of n/64 words);
    # the greedy fallback costs about steps x width x 3
    assert result.work <= budget + n + width * (3 + 1 + n // 64) + GREEDY_BUDGET
    # deterministic: the same graph, the same order
    assert min_peak_order(g, limit=current, budget=budget).order == result.order


def test_a_greedy_fallback_over_its_budget_keeps_the_original_order() -> None:
    g = parallel_branches(300)
    result = min_peak_order(g, budget=1000, greedy_budget=10_000)
    assert not result.exact and result.order == list(range(len(g.steps)))
    assert result.peak == order_peak(g, result.order)


def test_a_2000_op_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    g = chain(2000)
    count = Counted(monkeypatch)
    # as the pass calls it: nothing beats the only order, found without a search
    result = min_peak_order(g, limit=order_peak(g, range(2000)))
    assert result.exact and result.order == list(range(2000))
    assert count.scans <= DEFAULT_BUDGET // 2000 + 1
    # unlimited and with a small budget: the greedy order, the only one there is
    small = min_peak_order(g, budget=50_000)
    assert small.order == list(range(2000))
    assert count.scans <= DEFAULT_BUDGET // 2000 + 1 + 50_000 // 2000 + 1


def test_a_dense_dag(monkeypatch: pytest.MonkeyPatch) -> None:
    g = dense_dag(300)
    count = Counted(monkeypatch)
    result = min_peak_order(g, budget=30_000)
    assert_valid_order(g, result.order)
    assert result.order == list(range(300))  # the only topological order
    assert count.scans <= 30_000 // 300 + 1


def test_work_grows_with_the_budget_not_with_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice the branches, the same budget: no more expansions (each just costs more)."""
    scans = []
    for k in (100, 200):
        count = Counted(monkeypatch)
        min_peak_order(parallel_branches(k), budget=100_000)
        scans.append(count.scans)
    assert scans[1] <= scans[0]


# --------------------------------------------------------------------------- allocator


def branch_buffers(k: int) -> list[Buffer]:
    """The buffers of `parallel_branches(k)` in its original order: every small result
    lives until the concatenation, the large ones one step each."""
    bs = [Buffer("in", 64, 0, 2 * k - 2)]
    for b in range(k):
        bs.append(Buffer(f"a{b}", 256, 2 * b, 2 * b + 1))
        bs.append(Buffer(f"c{b}", 16 + 16 * (b % 7), 2 * b + 1, 2 * k))
    bs.append(Buffer("cat", 16 * k, 2 * k, 2 * k))
    return bs


def chain_buffers(n: int) -> list[Buffer]:
    return [Buffer(f"c{i}", 16 + (i * 37) % 100, i, i + 1) for i in range(n)]


def dense_buffers(n: int) -> list[Buffer]:
    return [Buffer(f"d{i}", 16 + (i * 37) % 100, i, n) for i in range(n)]


class Moves(random.Random):
    """The allocator's random source, counting the moves its hill climb draws (one
    `random()` per move tried, skipped moves included) and its restarts."""

    drawn = 0

    def random(self) -> float:
        type(self).drawn += 1
        return super().random()


def count_placements(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wrap `_Problem.place`; the list receives, per call, the buffers it placed."""
    sizes: list[int] = []
    place = allocators._Problem.place

    def counted(p, order, best_fit, offsets=None, placed=None, begin=0):
        sizes.append(len(order) - begin)
        return place(p, order, best_fit, offsets, placed, begin)

    monkeypatch.setattr(allocators._Problem, "place", counted)
    return sizes


@pytest.mark.parametrize("make,n", [(branch_buffers, 300), (chain_buffers, 2000),
                                    (dense_buffers, 300)])
@pytest.mark.parametrize("budget", [0, 30_000, None])
def test_optimal_respects_its_budget(make, n: int, budget: int | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    buffers = make(n)
    monkeypatch.setattr(allocators.random, "Random", Moves)
    Moves.drawn = 0
    placed = count_placements(monkeypatch)
    offsets = optimal(buffers, budget=budget)
    size = arena_size(buffers, offsets)
    assert check_plan(buffers, offsets, size) == []
    assert size >= arena_lower_bound(buffers)
    limit = allocators._DEFAULT_WORK if budget is None else budget
    # every move is charged at least _MOVE_OVERHEAD units, skipped ones included
    assert Moves.drawn <= limit // allocators._MOVE_OVERHEAD + 1
    # the portfolio: at most 8 orders x first and best fit per component (before the
    # search starts placing suffixes); every placement places at most the component
    assert all(k <= len(buffers) for k in placed)
    if budget == 0:
        assert Moves.drawn == 0
    # deterministic
    assert optimal(buffers, budget=budget) == offsets


def test_the_portfolio_stops_after_its_first_order_past_its_cap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything live at once: each placement visits ~n^2 conflicts; past the cap only
    the first order (first and best fit) is tried, and the plan is still valid."""
    buffers = dense_buffers(300)
    cost = len(buffers) + sum(len(a) for a in neighbours(buffers))
    placed = count_placements(monkeypatch)
    full = optimal(buffers, budget=0)
    assert len(placed) > 2  # normally several orders
    monkeypatch.setattr(allocators, "_PORTFOLIO_WORK", cost)
    placed.clear()
    capped = optimal(buffers, budget=0)
    assert len(placed) == 2
    for offsets in (full, capped):
        assert check_plan(buffers, offsets, arena_size(buffers, offsets)) == []
    assert arena_size(buffers, full) <= arena_size(buffers, capped)


def test_a_component_search_costs_the_component_not_the_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small components beside one hard one: the hill climb's moves copy and re-place
    state the size of the hard component, not of the whole model (which made each move
    cost the model's size while being charged the component's)."""
    rng = random.Random(5)
    hard = [Buffer(f"h{i}", rng.randint(1, 300), s, s + rng.randint(0, 6))
            for i, s in enumerate(rng.randint(0, 20) for _ in range(60))]
    easy = [Buffer(f"e{i}", 16, 100 + 2 * i, 100 + 2 * i) for i in range(1000)]
    buffers = hard + easy
    state: list[int] = []
    place = allocators._Problem.place

    def counted(p, order, best_fit, offsets=None, placed=None, begin=0):
        state.append(len(p.sizes) if offsets is None else len(offsets))
        return place(p, order, best_fit, offsets, placed, begin)

    monkeypatch.setattr(allocators._Problem, "place", counted)
    monkeypatch.setattr(allocators.random, "Random", Moves)
    Moves.drawn = 0
    offsets = optimal(buffers, budget=50_000)
    assert check_plan(buffers, offsets, arena_size(buffers, offsets)) == []
    assert Moves.drawn > 0  # the hard component was searched
    assert max(state) <= len(hard)
