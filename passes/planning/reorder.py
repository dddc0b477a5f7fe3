"""Choosing a topological order of a dataflow graph that lowers its peak memory.

The graph is abstract: `Step`s read and define numbered buffers of known sizes. A buffer
is live from the step that defines it (from the start for graph inputs) until the last
step that reads it (until the end for graph outputs); while a step runs, its inputs and
its outputs are live together. The *peak* of an order is the most bytes live during any
step: the fixed-order lower bound memory planning will see for that schedule. An alias
(a reshape that becomes a view) is a step that defines nothing and reads its source, with
its readers reading the source buffer too.

`min_peak_order` finds an order of minimum peak exactly, as a bottleneck shortest path
over the *downsets* of the graph (the sets of steps that can have run so far: the live
bytes after a downset do not depend on the order inside it). A Dijkstra search pops
downsets in order of the smallest peak needed to reach them, so the first complete
schedule popped is optimal. Chains have one downset per step and the branches of CNNs
only a few, so this is fast on real models; states whose peak is not below a given
`limit` are never expanded.

The number of downsets is exponential in the width of the graph (k parallel branches of
two ops have 3^k), so the search is budgeted: it counts its *work* (one unit per step
scanned for readiness, per buffer a candidate step touches, and per machine word of every
downset it stores, so memory is bounded by the same count) and, when that passes
`budget`, stops and falls back to a greedy order (among ready steps, the one that grows
the live bytes least, then the earliest). The greedy order is charged the same way
against a budget of its own (`greedy_budget`: it costs about steps x width, polynomial,
so its budget only stops graphs of many thousands of parallel ops); past that the result
is the original order. A work count, not a clock, so the same graph always
gets the same order on any machine, loaded or not. The default budget is far above what
the models in ../shared/models need (each is solved exactly) and keeps a hostile graph
(300 parallel branches) under about a second and a few hundred MB.
Everything is deterministic: ties go to the step that comes first in the original order.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One op: the buffers it reads and those it defines, and the steps it depends on."""

    reads: tuple[int, ...]
    writes: tuple[int, ...]
    after: tuple[int, ...] = ()


@dataclass(frozen=True)
class Graph:
    """Steps in their original order, buffer sizes, and which buffers are live at the start
    (graph inputs) and until the end (graph outputs)."""

    steps: tuple[Step, ...]
    sizes: tuple[int, ...]
    inputs: frozenset[int] = frozenset()
    outputs: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        n = len(self.steps)
        writer: dict[int, int] = {}
        for i, s in enumerate(self.steps):
            for d in s.after:
                if not 0 <= d < n or d == i:
                    raise ValueError(f"step {i} depends on invalid step {d}")
            for b in s.writes:
                if b in writer or b in self.inputs:
                    raise ValueError(f"buffer {b} is defined twice")
                writer[b] = i
            for b in (*s.reads, *s.writes):
                if not 0 <= b < len(self.sizes):
                    raise ValueError(f"step {i} uses unknown buffer {b}")
        for i, s in enumerate(self.steps):
            for b in s.reads:
                if b not in writer and b not in self.inputs:
                    raise ValueError(f"step {i} reads buffer {b}, which nothing defines")


class _Prepared:
    """Bit masks and reader counts of the graph for the searches."""

    def __init__(self, g: Graph):
        n = len(g.steps)
        self.g = g
        self.n = n
        self.full = (1 << n) - 1
        self.pred = [0] * n
        readers: dict[int, int] = {}
        writer = {b: i for i, s in enumerate(g.steps) for b in s.writes}
        for i, s in enumerate(g.steps):
            m = 0
            for d in s.after:
                m |= 1 << d
            for b in s.reads:  # a reader must follow the writer
                readers[b] = readers.get(b, 0) | (1 << i)
                w = writer.get(b)
                if w is not None and w != i:
                    m |= 1 << w
            self.pred[i] = m
        self.readers = readers
        self.reader_count = {b: r.bit_count() for b, r in readers.items()}
        self.reads = [frozenset(s.reads) for s in g.steps]
        self.new_bytes = [sum(g.sizes[b] for b in set(s.writes)) for s in g.steps]
        # buffers a step may free: what it reads or writes (and, first, every unread input)
        self.touch = [sorted(set(s.reads) | set(s.writes)) for s in g.steps]
        self.start_live = sum(g.sizes[b] for b in g.inputs)
        self.unread_inputs = sorted(b for b in g.inputs
                                    if b not in readers and b not in g.outputs)
        #: machine words one downset mask takes: the storage cost of a search state
        self.words = 1 + n // 64

    def ready(self, mask: int) -> list[int]:
        return [i for i in range(self.n)
                if not mask >> i & 1 and self.pred[i] & ~mask == 0]

    def advance(self, mask: int, live: int, i: int) -> tuple[int, int, int]:
        """Run step i after the steps in `mask` (with `live` bytes live): (bytes during the
        step, new mask, bytes live after it)."""
        during = live + self.new_bytes[i]
        new = mask | 1 << i
        freed = 0
        for b in self.touch[i]:
            if b in self.g.outputs:
                continue
            if self.readers.get(b, 0) & ~new == 0:
                freed += self.g.sizes[b]
        if mask == 0:
            freed += sum(self.g.sizes[b] for b in self.unread_inputs
                         if b not in self.touch[i])
        return during, new, during - freed


def order_peak(g: Graph, order: Sequence[int]) -> int:
    """The peak of running the steps of `g` in `order` (which must be topological)."""
    p = _Prepared(g)
    if sorted(order) != list(range(p.n)):
        raise ValueError("order is not a permutation of the steps")
    mask, live, peak = 0, p.start_live, p.start_live if p.n == 0 else 0
    for i in order:
        if p.pred[i] & ~mask:
            raise ValueError(f"step {i} runs before a step it depends on")
        during, mask, live = p.advance(mask, live, i)
        peak = max(peak, during)
    return peak


def greedy_order(g: Graph) -> list[int]:
    """Among ready steps, run the one that grows the live bytes least (earliest on ties)."""
    order = _greedy(_Prepared(g), None)
    assert order is not None
    return order


def _greedy(p: _Prepared, budget: float | None) -> list[int] | None:
    """`greedy_order` on prepared masks, or None once it has done more than `budget` units
    of work (one per ready step examined plus one per buffer it touches).

    Ready steps and the readers still to run are kept up to date as steps run, so an
    iteration costs the ready steps' buffers, not a scan of the whole graph."""
    g, n = p.g, p.n
    sizes, outputs = g.sizes, g.outputs
    remaining = dict(p.reader_count)  # readers not yet run, per buffer
    missing = [p.pred[i].bit_count() for i in range(n)]  # predecessors not yet run
    succ: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        m = p.pred[i]
        while m:
            low = m & -m
            succ[low.bit_length() - 1].append(i)
            m ^= low
    ready = [i for i in range(n) if missing[i] == 0]
    live, order, work = p.start_live, [], 0
    while ready:
        best = None
        for i in ready:
            freed = 0
            for b in p.touch[i]:
                if b in outputs:
                    continue
                if remaining.get(b, 0) - (b in p.reads[i]) == 0:
                    freed += sizes[b]
            if not order:
                freed += sum(sizes[b] for b in p.unread_inputs if b not in p.touch[i])
            during = live + p.new_bytes[i]
            key = (during - freed - live, during, i)
            if best is None or key < best[0]:
                best = (key, i, during - freed)
            work += 1 + len(p.touch[i])
        if budget is not None and work > budget:
            return None
        _, i, live = best
        order.append(i)
        ready.remove(i)
        for b in p.reads[i]:
            remaining[b] -= 1
        for j in succ[i]:
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)  # the key breaks ties by index: list order is irrelevant
    return order


#: Default work budget of `min_peak_order`'s search (units in the module docstring): about
#: a second of CPython on a hostile graph, thousands of times what the shared models use.
DEFAULT_BUDGET = 1_000_000
#: Default work budget of the greedy fallback: 300 parallel branches take ~0.5M units.
GREEDY_BUDGET = 4_000_000


@dataclass(frozen=True)
class OrderResult:
    """A schedule the reorder search found, its peak bytes and whether it is exact."""

    order: list[int]
    peak: int
    exact: bool  # False when the search hit its budget (greedy or original order used)
    work: int = 0  # units of work spent, search and fallback together (deterministic)


def min_peak_order(g: Graph, limit: int | None = None, budget: int = DEFAULT_BUDGET,
                   greedy_budget: int = GREEDY_BUDGET) -> OrderResult:
    """An order of minimum peak (see the module docstring).

    With `limit`, only orders whose peak is below it are searched for; when there is none,
    the result is the original order (`range(n)`) with its own peak. `budget` caps the
    units of work of the search; past it the result is `greedy_order` (when that fits in
    `greedy_budget`) or else the original order, with `exact` False. The total work is at
    most `budget + greedy_budget` plus the cost of one expansion and one greedy step."""
    p = _Prepared(g)
    original = list(range(p.n))
    if p.n == 0:
        return OrderResult([], order_peak(g, []), True)
    best: dict[int, int] = {0: 0}
    parent: dict[int, tuple[int, int]] = {}
    live_of = {0: p.start_live}
    heap: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]  # (peak, -depth, seq, mask)
    seq = 0
    work = 0
    while heap:
        peak, _, _, mask = heapq.heappop(heap)
        if peak > best[mask]:
            continue  # stale entry
        if mask == p.full:
            order, m = [], mask
            while m:
                m, i = parent[m]
                order.append(i)
            order.reverse()
            return OrderResult(order, peak, True, work)
        if work > budget:
            fallback = _greedy(p, greedy_budget)
            spent = work + (greedy_budget if fallback is None else 0)
            order = original if fallback is None else fallback
            return OrderResult(order, order_peak(g, order), False, spent)
        live = live_of[mask]
        depth = mask.bit_count() + 1
        work += p.n  # the readiness scan
        for i in p.ready(mask):
            during, new, after = p.advance(mask, live, i)
            work += 1 + len(p.touch[i])
            cand = max(peak, during)
            if limit is not None and cand >= limit:
                continue
            if new not in best or cand < best[new]:
                if new not in best:
                    work += p.words  # a new state stored
                best[new] = cand
                parent[new] = (mask, i)
                live_of[new] = after
                seq += 1
                heapq.heappush(heap, (cand, -depth, seq, new))
    return OrderResult(original, order_peak(g, original), True, work)
