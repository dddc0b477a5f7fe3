"""The peak-lowering topological order (passes/planning/reorder.py) as a pure function:
small DAGs with a known best order, and seeded random DAGs checked against brute force
over every topological order."""

from __future__ import annotations

import itertools
import random

import pytest
from utc.passes.planning.reorder import (
    Graph,
    Step,
    greedy_order,
    min_peak_order,
    order_peak,
)


def two_branches() -> Graph:
    """x -> A (big) -> A2 (small); x -> B (big) -> B2 (small); y = A2 + B2.

    Buffers: 0 x (16), 1 A (256), 2 B (256), 3 A2 (8), 4 B2 (8), 5 y (8).
    Steps in the importer's order: 0 A, 1 B, 2 A2, 3 B2, 4 y."""
    return Graph(
        steps=(Step((0,), (1,)), Step((0,), (2,)), Step((1,), (3,), (0,)),
               Step((2,), (4,), (1,)), Step((3, 4), (5,), (2, 3))),
        sizes=(16, 256, 256, 8, 8, 8), inputs=frozenset({0}), outputs=frozenset({5}))


def test_peak_of_the_importer_order_and_of_the_best_order() -> None:
    g = two_branches()
    # step 1 (B): x + A + B live; step 2 (A2): A + B + A2
    assert order_peak(g, [0, 1, 2, 3, 4]) == 16 + 256 + 256
    # A, A2, B, B2, y: at B, x + A2 + B
    assert order_peak(g, [0, 2, 1, 3, 4]) == 16 + 256 + 8
    result = min_peak_order(g)
    assert result.exact and result.peak == 280
    assert result.order == [0, 2, 1, 3, 4]


def test_limit_keeps_the_original_order_when_nothing_is_better() -> None:
    g = two_branches()
    assert min_peak_order(g, limit=280).order == [0, 1, 2, 3, 4]
    assert min_peak_order(g, limit=281).peak == 280


def test_a_chain_has_one_order() -> None:
    g = Graph(steps=(Step((0,), (1,)), Step((1,), (2,), (0,)), Step((2,), (3,), (1,))),
              sizes=(10, 20, 30, 5), inputs=frozenset({0}), outputs=frozenset({3}))
    result = min_peak_order(g)
    assert result.order == [0, 1, 2] and result.peak == 50


def test_outputs_stay_live_and_unread_buffers_die_at_once() -> None:
    # step 0 writes an output (kept to the end) and a buffer nobody reads (freed at once)
    g = Graph(steps=(Step((0,), (1, 2)), Step((0,), (3,))), sizes=(4, 100, 50, 7),
              inputs=frozenset({0}), outputs=frozenset({1, 3}))
    assert order_peak(g, [0, 1]) == max(4 + 100 + 50, 4 + 100 + 7)


def test_an_alias_step_defines_nothing() -> None:
    # a reshape (step 1) of A read by step 2: A stays live through it, no new bytes
    g = Graph(steps=(Step((0,), (1,)), Step((1,), (), (0,)), Step((1,), (2,), (1,))),
              sizes=(8, 64, 4), inputs=frozenset({0}), outputs=frozenset({2}))
    assert order_peak(g, [0, 1, 2]) == 72


def test_bad_orders_and_graphs_are_refused() -> None:
    g = two_branches()
    with pytest.raises(ValueError, match="before a step it depends on"):
        order_peak(g, [2, 0, 1, 3, 4])
    with pytest.raises(ValueError, match="permutation"):
        order_peak(g, [0, 1, 2])
    with pytest.raises(ValueError, match="defined twice"):
        Graph(steps=(Step((), (0,)), Step((), (0,))), sizes=(1,))
    with pytest.raises(ValueError, match="nothing defines"):
        Graph(steps=(Step((1,), (0,)),), sizes=(1, 1))


def random_graph(rng: random.Random, n: int) -> Graph:
    """A random DAG: step i defines buffer i + 1 and reads buffer 0 (the input) or
    outputs of earlier steps; the last step's buffer is the output."""
    steps = []
    for i in range(n):
        k = rng.randint(1, min(2, i + 1))
        reads = sorted(rng.sample(range(i + 1), k))  # buffers 0..i exist before step i
        after = tuple(r - 1 for r in reads if r > 0)
        steps.append(Step(tuple(reads), (i + 1,), after))
    sizes = tuple(rng.choice((1, 4, 16, 64, 256)) for _ in range(n + 1))
    return Graph(tuple(steps), sizes, frozenset({0}), frozenset({n}))


def topological_orders(g: Graph):
    n = len(g.steps)
    for perm in itertools.permutations(range(n)):
        seen: set[int] = set()
        ok = True
        for i in perm:
            if any(d not in seen for d in g.steps[i].after):
                ok = False
                break
            seen.add(i)
        if ok:
            yield list(perm)


@pytest.mark.parametrize("seed", range(40))
def test_exact_search_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    g = random_graph(rng, rng.randint(2, 7))
    best = min(order_peak(g, o) for o in topological_orders(g))
    result = min_peak_order(g)
    assert result.exact
    assert result.peak == best == order_peak(g, result.order)
    # deterministic
    assert min_peak_order(g).order == result.order
    # never worse than the greedy fallback, which is a valid order
    assert result.peak <= order_peak(g, greedy_order(g))


def test_budget_falls_back_to_the_greedy_order() -> None:
    rng = random.Random(3)
    g = random_graph(rng, 12)
    result = min_peak_order(g, budget=2)
    assert not result.exact
    assert result.order == greedy_order(g)
    assert result.peak == order_peak(g, result.order)


def test_dataflow_graph_of_a_function_treats_reshapes_as_views() -> None:
    import utc.passes  # noqa: F401
    from utc.compiler.ir.parser import parse_module
    from utc.dialects.func import main_function
    from utc.passes.reorder_for_memory import dataflow_graph

    module = parse_module("""
module @m {
  func.func() {sym_name = @main} ({
  ^entry(%x: tensor<1x4xf32>):
    %w = tensor.constant() {value = dense_resource<w>} : tensor<8x4xf32>
    %a = fused.fully_connected(%x, %w) {act = "none"} : tensor<1x8xf32>
    %r = tensor.reshape(%a) : tensor<8xf32>
    %t = tensor.tanh(%r) : tensor<8xf32>
    func.return(%t, %r) : ()
  }) : ()
}
{-#
  dense_resources: {
    w: tensor<8x4xf32> = elided,
  }
#-}
""")
    graph, ops = dataflow_graph(main_function(module))
    assert [op.name for op in ops] == ["fused.fully_connected", "tensor.reshape", "tensor.tanh"]
    assert graph.sizes == (16, 32, 32)  # x, a (and its reshape), t
    assert graph.steps == (Step((0,), (1,), ()), Step((1,), (), (0,)), Step((1,), (2,), (1,)))
    assert graph.inputs == {0} and graph.outputs == {1, 2}
