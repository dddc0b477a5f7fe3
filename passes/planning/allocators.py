"""Offset allocators: pure functions from buffers (live intervals) to arena offsets.

Every strategy has the signature `(buffers) -> offsets`: one offset per buffer, each a
multiple of that buffer's alignment, such that buffers live at the same step never share
bytes. Zero-size buffers get offset 0 and are ignored otherwise. The arena a plan needs
is `arena_size` (max offset + size).

All strategies are built on one primitive, `_Problem.place`: take buffers in a given
order and put each at the lowest (first fit) or tightest (best fit) aligned gap left by
the already placed buffers whose lifetimes intersect it. First fit is complete in this
sense: for any valid plan, placing its buffers in order of non-decreasing offset with
first fit puts none of them higher (by induction: every earlier buffer that conflicts
with buffer k ended at or below k's old offset and has only moved down, so that aligned
offset is still free and first fit finds it or a lower one). So searching over *orders*
with first fit can reach every optimum, which is what `optimal` does: a portfolio of
greedy orders, then a seeded local search over orders.

Bounded work on hostile inputs: one placement costs O(n + E log E) for n buffers with E
conflicts (E is up to n^2 when everything is live at once), building the conflict graph
the same. The portfolio is a fixed handful of placements per connected component and
stops after its first order once a component's placements have cost `_PORTFOLIO_WORK`
units; the local search runs on the one component that sets the arena, re-indexed so
that each move costs that component's size rather than the whole model's, and every move
it tries, skipped ones included, is charged against its work budget. No step of
`optimal` is super-polynomial or unbudgeted; the budgets are counts, never clocks, so a
model always gets the same plan.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .intervals import Buffer, arena_lower_bound, neighbours

Strategy = Callable[[Sequence[Buffer]], list[int]]


def arena_size(buffers: Sequence[Buffer], offsets: Sequence[int]) -> int:
    """Bytes of arena a plan needs: max(offset + size) over buffers, 0 when there are none."""
    return max((int(o) + b.size for b, o in zip(buffers, offsets) if b.size), default=0)


class _Problem:
    """Buffers flattened into lists plus conflict adjacency, shared by all placements."""

    def __init__(self, buffers: Sequence[Buffer]) -> None:
        self.buffers = buffers
        self.sizes = [b.size for b in buffers]
        self.aligns = [b.alignment for b in buffers]
        self.adj = neighbours(buffers)
        # Only non-empty buffers take part; zero-size ones stay at offset 0.
        self.live = [i for i, b in enumerate(buffers) if b.size > 0]
        self.windowed = any(b.extents for b in buffers)
        self._apart: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def apart(self, i: int, j: int) -> list[tuple[int, int]]:
        """Where buffer i may not start relative to buffer j: half-open ranges [a, b) of
        offset(i) - offset(j) at which, at some step both are live, their windows share a
        byte. Plain buffers: the one range [1 - size_i, size_j)."""
        bi, bj = self.buffers[i], self.buffers[j]
        if not bi.extents and not bj.extents:
            return [(1 - bi.size, bj.size)]
        key = (i, j)
        got = self._apart.get(key)
        if got is None:
            ranges = set()
            for t in range(max(bi.start, bj.start), min(bi.end, bj.end) + 1):
                lo_i, hi_i = bi.extent(t)
                lo_j, hi_j = bj.extent(t)
                if lo_i < hi_i and lo_j < hi_j:
                    ranges.add((lo_j - hi_i + 1, hi_j - lo_i))
            got = self._apart[key] = sorted(ranges)
        return got

    def place(self, order: Sequence[int], best_fit: bool, offsets: list[int] | None = None,
              placed: list[bool] | None = None, begin: int = 0) -> list[int]:
        """Place `order[begin:]` on top of whatever is marked `placed` (in `offsets`).

        Passing the state of a previous placement and `begin` re-places only a suffix of
        the order, which is what makes the local search cheap.
        """
        n = len(self.sizes)
        if offsets is None:
            offsets = [0] * n
        if placed is None:
            placed = [False] * n
        return self._place_windows(order, best_fit, offsets, placed, begin)

    def _place_windows(self, order: Sequence[int], best_fit: bool, offsets: list[int],
                       placed: list[bool], begin: int) -> list[int]:
        """First or best fit over the offsets each placed neighbour rules out (`apart`):
        for two plain buffers the one range where their bytes would meet (a candidate
        offset fits below neighbour j iff offset + size_i <= offset_j); for buffers that
        use only a window of their bytes at each step, the union over their common
        steps."""
        aligns, adj = self.aligns, self.adj
        for q in range(begin, len(order)):
            i = order[q]
            a = aligns[i]
            blocked = sorted((offsets[j] + lo, offsets[j] + hi)
                             for j in adj[i] if placed[j] for lo, hi in self.apart(i, j))
            cursor = 0  # every offset below it is ruled out
            chosen = -1
            tightest = 0
            for lo, hi in blocked:
                start = -(-cursor // a) * a
                if start < lo:
                    if not best_fit:
                        chosen = start
                        break
                    gap = lo - cursor
                    if chosen < 0 or gap < tightest:
                        chosen, tightest = start, gap
                if hi > cursor:
                    cursor = hi
            if chosen < 0:
                chosen = -(-cursor // a) * a
            offsets[i] = chosen
            placed[i] = True
        return offsets

    def arena(self, offsets: Sequence[int], members: Sequence[int] | None = None) -> int:
        """max(offset + size) over `members` (default: all non-empty buffers)."""
        sizes = self.sizes
        return max((offsets[i] + sizes[i] for i in (self.live if members is None else members)),
                   default=0)


def greedy_by_size(buffers: Sequence[Buffer]) -> list[int]:
    """TFLite Micro's GreedyMemoryPlanner, the baseline: largest first, first fit.

    Mirrors its semantics: sizes are compared rounded up to the alignment (TFLM plans
    aligned sizes), ties go to the buffer added later (its stable sort runs over the
    buffers in reverse order of addition), and each buffer lands at the lowest offset
    that fits among already placed buffers whose lifetimes intersect it.
    """
    p = _Problem(buffers)
    order = sorted(p.live, key=lambda i: (-buffers[i].aligned_size, -i))
    return p.place(order, best_fit=False)


def greedy_by_first_use(buffers: Sequence[Buffer]) -> list[int]:
    """In order of first use (larger first on ties), each at the tightest fitting gap.

    Follows the schedule like a runtime allocator would, but with best fit so that short
    lived buffers fill holes instead of raising the arena.
    """
    p = _Problem(buffers)
    order = sorted(p.live, key=lambda i: (buffers[i].start, -buffers[i].size, i))
    return p.place(order, best_fit=True)


def _portfolio_orders(p: _Problem, members: list[int]) -> list[list[int]]:
    """Greedy orders of `members` that each win on some family of schedules."""
    bs = p.buffers
    length = {i: bs[i].end - bs[i].start + 1 for i in members}
    # Bytes a buffer competes with: its size plus its conflicting neighbours' sizes.
    pressure = {i: bs[i].size + sum(p.sizes[j] for j in p.adj[i]) for i in members}
    keys: list[Callable[[int], tuple[int, ...]]] = [
        lambda i: (-bs[i].aligned_size, -i),                     # TFLM greedy by size
        lambda i: (-bs[i].size, bs[i].start, i),                 # size, earliest first
        lambda i: (bs[i].start, -bs[i].size, i),                 # first use
        lambda i: (-length[i], -bs[i].size, i),                  # longest lived
        lambda i: (-bs[i].size * length[i], i),                  # area in the schedule
        lambda i: (-pressure[i], -bs[i].size, i),                # most contended
        lambda i: (-bs[i].end, -bs[i].size, i),                  # last use, backwards
        lambda i: (bs[i].start, -bs[i].end, i),                  # first use, longest first
    ]
    orders: list[list[int]] = []
    for key in keys:
        order = sorted(members, key=key)
        if order not in orders:
            orders.append(order)
    return orders


def _component_members(buffers: Sequence[Buffer]) -> list[list[int]]:
    """Non-empty buffers (indices, ascending) grouped into connected components of the
    conflict graph.

    On an interval graph these are maximal runs of the schedule whose live ranges chain
    together; they never share a step, so each can be packed on its own from offset 0.
    Components come in order of their first step.
    """
    comps: list[list[int]] = []
    reach = None
    live = [i for i, b in enumerate(buffers) if b.size > 0]
    for i in sorted(live, key=lambda i: (buffers[i].start, i)):
        if reach is None or buffers[i].start > reach:
            comps.append([])
            reach = buffers[i].end
        comps[-1].append(i)
        reach = max(reach, buffers[i].end)
    return [sorted(c) for c in comps]


class _Plan(NamedTuple):
    arena: int
    order: list[int]  # a first-fit order that reproduces `offsets` (or does better)
    offsets: list[int]


def _best_greedy(p: _Problem, comp: list[int], target: int) -> tuple[_Plan, float]:
    """The best plan of one component over the portfolio orders, first and best fit,
    and the work that cost (in `_local_search`'s units). After the first order, no further
    order is tried once the work passes `_PORTFOLIO_WORK` (only a component with millions
    of conflicts gets there: everything live at once across thousands of buffers)."""
    best: _Plan | None = None
    cost = len(comp) + sum(len(p.adj[i]) for i in comp)
    work = 0.0
    for order in _portfolio_orders(p, comp):
        for best_fit in (False, True):
            offsets = p.place(order, best_fit)
            work += cost
            arena = p.arena(offsets, comp)
            if best is None or arena < best.arena:
                # Sorting a best-fit plan by offset gives a first-fit order that re-places
                # no buffer higher (module docstring), so the local search can start there.
                ff = sorted(comp, key=lambda i: (offsets[i], i)) if best_fit else order
                best = _Plan(arena, ff, offsets)
            if arena <= target:
                return best, work
        if work >= _PORTFOLIO_WORK:
            break
    assert best is not None
    return best, work


def _local_search(p: _Problem, order: list[int], goal: int, work: float,
                  rng: random.Random) -> tuple[_Plan, float]:
    """Iterated hill climb over the first-fit orders of one component.

    Only the relative order of *conflicting* buffers changes a first-fit plan, so every
    move makes one buffer jump over one of its neighbours in the order (reinsertion just
    before or after it); the order is then re-placed from the earlier of the two
    positions on. Some moves are targeted: a buffer sticking out above `goal` jumps
    ahead of a neighbour placed before it, so it can sink into the space that neighbour
    took. The score is (bytes sticking out above `goal` summed over buffers, arena):
    unlike the arena alone it also rewards progress below the peak, which breaks up
    the large plateaus of equal arenas. Moves that do not worsen the score are accepted
    (to drift across plateaus); after a long stall the search restarts from a few random
    reinsertions of the best order. Stops at `goal` or when `work` (buffers placed plus
    neighbours examined plus bookkeeping, a deterministic proxy for time) is spent; a move
    that finds nothing to try is charged its scan too, so no sequence of moves is free.
    Returns the best plan seen and the work left.
    """
    n = len(order)
    sizes, adj = p.sizes, p.adj
    unit = 1.0 + sum(len(adj[i]) for i in order) / n  # average work to place one buffer

    def score(offsets: list[int]) -> tuple[int, int]:
        top = over = 0
        for i in order:
            end = offsets[i] + sizes[i]
            if end > top:
                top = end
            if end > goal:
                over += end - goal
        return over, top

    offsets = p.place(order, best_fit=False)
    work -= n * unit
    cur = score(offsets)
    best, best_order, best_offsets = cur, order, offsets
    pos = [0] * len(sizes)
    for k, i in enumerate(order):
        pos[i] = k
    stall = 0
    while work > 0 and best[0] > 0 and n > 1:
        if stall > _PATIENCE * n:
            order = best_order[:]
            for _ in range(_KICK):
                order.insert(rng.randrange(n), order.pop(rng.randrange(n)))
            offsets = p.place(order, best_fit=False, offsets=best_offsets[:],
                              placed=[False] * len(sizes))
            work -= n * unit
            cur = score(offsets)
            for k, i in enumerate(order):
                pos[i] = k
            if cur < best:
                best, best_order, best_offsets = cur, order, offsets
            stall = 0
            continue
        stall += 1
        if rng.random() < _TARGETED:
            sticking = [i for i in order if offsets[i] + sizes[i] > goal]
            i = sticking[rng.randrange(len(sticking))]
            src = pos[i]
            earlier = [j for j in adj[i] if pos[j] < src]
            if not earlier:
                work -= n + len(adj[i]) + _MOVE_OVERHEAD  # the scans above
                continue
            dst = pos[earlier[rng.randrange(len(earlier))]]
        else:
            i = order[rng.randrange(n)]
            if not adj[i]:
                work -= _MOVE_OVERHEAD
                continue
            src, dst = pos[i], pos[adj[i][rng.randrange(len(adj[i]))]]
        cand = order[:]
        cand.insert(dst, cand.pop(src))
        begin = min(src, dst)
        new_offsets = offsets[:]
        placed = [False] * len(sizes)
        for k in range(begin):
            placed[cand[k]] = True
        p.place(cand, best_fit=False, offsets=new_offsets, placed=placed, begin=begin)
        work -= (n - begin) * unit + n + _MOVE_OVERHEAD
        new = score(new_offsets)
        if new <= cur:
            order, offsets, cur = cand, new_offsets, new
            for k in range(begin, max(src, dst) + 1):
                pos[order[k]] = k
            if cur < best:
                best, best_order, best_offsets = cur, order, offsets
                stall = 0
    return _Plan(best[1], best_order, best_offsets), work


_TARGETED = 0.3  # share of targeted moves (tuned on random interval sets)
_PATIENCE = 30  # stalled moves per buffer before a restart
_KICK = 3  # random reinsertions per restart
_MOVE_OVERHEAD = 20  # bookkeeping per move, in units of work
_DEFAULT_WORK = 400_000  # about 0.06 s in CPython on one laptop core
_PORTFOLIO_WORK = 8_000_000  # per component: the whole portfolio up to ~250k conflicts


def optimal(buffers: Sequence[Buffer], budget: float | None = None, seed: int = 0) -> list[int]:
    """The default strategy: the best greedy plan of a portfolio, then a local search.

    Works per connected component of the conflict graph (they never share a step, so
    each packs from offset 0 independently). Each component gets the best of several
    orders (size, first use, lifetime, size x lifetime, contention, ...) with both first
    and best fit. Then, while the component setting the arena is above `arena_lower_bound`
    (and above every other component), a seeded hill climb over first-fit orders tries to
    lower it. It stops as soon as the bound is reached, or once `budget` units of work
    (portfolio included; default `_DEFAULT_WORK`, well under 0.2 s for 200 buffers) are
    spent. Deterministic: a fixed seed and a work count instead of a wall-clock limit,
    so the same input always gets the same offsets.
    """
    offsets = [0] * len(buffers)
    if not any(b.size > 0 for b in buffers):
        return offsets
    target = arena_lower_bound(buffers)
    work = float(_DEFAULT_WORK if budget is None else budget)
    rng = random.Random(seed)
    # Each component becomes a problem of its own, its buffers in their original relative
    # order (so every tie-break, and the seeded search, is what it would be on the whole
    # set) and its moves cost its own size.
    index = _component_members(buffers)
    comps = [_Problem([buffers[i] for i in comp]) for comp in index]
    plans = []
    for sub in comps:
        plan, spent = _best_greedy(sub, sub.live, target)
        plans.append(plan)
        work -= spent
    searched: set[int] = set()
    while work > 0:
        top = max(range(len(plans)), key=lambda c: (plans[c].arena, -c))
        if plans[top].arena <= target or top in searched:
            break
        searched.add(top)
        # Going below the next lower component is pointless; tied ones get their turn.
        others = max((plan.arena for plan in plans if plan.arena < plans[top].arena),
                     default=0)
        found, work = _local_search(comps[top], plans[top].order, max(target, others), work,
                                    rng)
        if found.arena < plans[top].arena:
            plans[top] = found
    for members_of, plan in zip(index, plans):
        for local, i in enumerate(members_of):
            offsets[i] = plan.offsets[local]
    return offsets


STRATEGIES: dict[str, Strategy] = {
    "greedy-by-size": greedy_by_size,
    "greedy-by-first-use": greedy_by_first_use,
    "optimal": optimal,
}
"""Allocators selectable by `plan-memory{strategy=...}`; see each function's docstring."""
