"""Buffers as live intervals over a schedule, their conflict graph and lower bounds.

Memory planning (DESIGN.md §5) sees each arena buffer as an interval of schedule steps
plus a byte size. Two buffers may share bytes only if their live ranges are disjoint, so
the conflicts form an *interval graph*. For interval graphs the maximum-weight clique is
simply the heaviest set of buffers live at one step, which we find with a sweep. That
number is the "fixed-order lower bound": for this schedule no allocator can use less
arena, which lets the compiler report how far a plan is from the best possible one.

Nothing here knows about the IR: buffers are plain frozen dataclasses.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class Buffer:
    """`size` bytes live over schedule steps [start, end], both inclusive.

    `alignment` is the granularity the buffer's arena offset must be a multiple of.
    Zero-size buffers are allowed (they get offset 0 and never conflict with anything).

    `extents`, when given, says which of its bytes the buffer actually uses at each step:
    one half-open range (lo, hi) relative to its offset per step start..end, with
    0 <= lo <= hi <= size (lo == hi: none at that step). A buffer that holds several
    tensors one after the other (overlap-buffers' groups, where a chain of convolutions
    slides down through memory) uses only a window of its bytes at any step; the
    allocators let other buffers use the rest, and the lower bound counts only the window.
    Empty (the default): all `size` bytes at every step.
    """

    name: str
    size: int
    start: int
    end: int
    alignment: int = 16
    extents: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        # Catch bad liveness early: a reversed range would silently never conflict.
        if self.size < 0:
            raise ValueError(f"buffer {self.name}: negative size {self.size}")
        if self.start > self.end:
            raise ValueError(f"buffer {self.name}: live range [{self.start}, {self.end}] "
                             f"is reversed")
        if self.alignment < 1:
            raise ValueError(f"buffer {self.name}: alignment must be >= 1, "
                             f"got {self.alignment}")
        if self.extents:
            if len(self.extents) != self.end - self.start + 1:
                raise ValueError(f"buffer {self.name}: {len(self.extents)} extents for "
                                 f"steps {self.start}..{self.end}")
            for lo, hi in self.extents:
                if not 0 <= lo <= hi <= self.size:
                    raise ValueError(f"buffer {self.name}: extent ({lo}, {hi}) is not inside "
                                     f"its {self.size} bytes")

    def extent(self, step: int) -> tuple[int, int]:
        """The bytes (lo, hi), relative to the offset, the buffer uses at `step` (a step of
        its live range)."""
        return self.extents[step - self.start] if self.extents else (0, self.size)

    def used(self, step: int, aligned: bool = False) -> int:
        """Bytes in use at `step` (a step of its live range); `aligned`: rounded up to the
        alignment, as a buffer whose window is all of it reserves `aligned_size`."""
        lo, hi = self.extent(step)
        if not aligned:
            return hi - lo
        a = self.alignment
        return -(-(hi - lo) // a) * a

    @property
    def aligned_size(self) -> int:
        """`size` rounded up to a multiple of `alignment`."""
        a = self.alignment
        return -(-self.size // a) * a


def _overlapping_pairs(buffers: Sequence[Buffer]) -> Iterator[tuple[int, int]]:
    """Every conflicting pair (i, j), found by a sweep over start steps.

    Buffers are visited in order of start; a min-heap keyed by end step drops those that
    died before the current start, so each remaining active buffer is a real conflict:
    O(n log n + edges) instead of testing all n^2 pairs.
    """
    order = sorted((i for i, b in enumerate(buffers) if b.size > 0),
                   key=lambda i: (buffers[i].start, i))
    active: list[tuple[int, int]] = []  # (end, index)
    for i in order:
        start = buffers[i].start
        while active and active[0][0] < start:
            heapq.heappop(active)
        for _, j in active:
            yield (j, i) if j < i else (i, j)
        heapq.heappush(active, (buffers[i].end, i))


def neighbours(buffers: Sequence[Buffer]) -> list[list[int]]:
    """Adjacency lists of the conflict graph (sorted), without building a networkx graph.

    The allocators call this in their inner loops, where networkx would be needlessly slow.
    """
    adj: list[list[int]] = [[] for _ in buffers]
    for i, j in _overlapping_pairs(buffers):
        adj[i].append(j)
        adj[j].append(i)
    for row in adj:
        row.sort()
    return adj


def conflict_graph(buffers: Sequence[Buffer]) -> nx.Graph:
    """The interval graph: node i per buffer, an edge when two live ranges intersect.

    Node attributes: `weight` (aligned size, the bytes a buffer really occupies when all
    buffers share an alignment), `size` and `name`. Zero-size buffers are isolated nodes.

    For tests and analysis only (the planner itself uses `neighbours` and the sweeps
    below), so networkx is imported here, not by every compile.
    """
    import networkx as nx

    g = nx.Graph()
    for i, b in enumerate(buffers):
        g.add_node(i, weight=b.aligned_size, size=b.size, name=b.name)
    g.add_edges_from(_overlapping_pairs(buffers))
    return g


def _live_profile(buffers: Sequence[Buffer], aligned: bool) -> Iterator[tuple[int, int]]:
    """(step, live bytes) at every step where the live set changes, in step order.

    Between two yielded steps the live bytes are constant, so the maximum over all steps
    is attained at one of them.
    """
    deltas: dict[int, int] = {}
    for b in buffers:
        if b.extents:  # a window that changes from step to step
            previous = 0
            for step in range(b.start, b.end + 1):
                w = b.used(step, aligned)
                deltas[step] = deltas.get(step, 0) + w - previous
                previous = w
            deltas[b.end + 1] = deltas.get(b.end + 1, 0) - previous
            continue
        w = b.aligned_size if aligned else b.size
        deltas[b.start] = deltas.get(b.start, 0) + w
        deltas[b.end + 1] = deltas.get(b.end + 1, 0) - w
    live = 0
    for step in sorted(deltas):
        live += deltas[step]
        yield step, live


def lower_bound(buffers: Sequence[Buffer], aligned: bool = False) -> int:
    """Maximum over schedule steps of the bytes live at once (max-weight clique).

    `aligned=False` (what the compiler records and reports) sums raw sizes: no allocator
    can give this schedule an arena (max offset + size) smaller than this. `aligned=True`
    sums sizes rounded up to each buffer's alignment: when all buffers share one alignment
    this bounds the aligned footprint (max offset + aligned size), the number allocators
    that round sizes up, as TFLite Micro does, actually reserve.
    """
    return max((live for _, live in _live_profile(buffers, aligned)), default=0)


def peak_step(buffers: Sequence[Buffer], aligned: bool = False) -> int:
    """The smallest schedule step at which `lower_bound(buffers, aligned)` is attained.

    Useful in reports: the operator running at that step is what to shrink to lower the
    arena. Returns 0 when there are no buffers.
    """
    best_step, best = 0, -1
    for step, live in _live_profile(buffers, aligned):
        if live > best:
            best_step, best = step, live
    return best_step


def arena_lower_bound(buffers: Sequence[Buffer]) -> int:
    """The strongest cheap lower bound on `arena_size` (max offset + size) with alignment.

    At one step let g be the gcd of the live buffers' alignments. Every offset is then a
    multiple of g, so the live buffers' ranges rounded up to g are pairwise disjoint, and
    the topmost one still needs only its raw size: the arena is at least the sum of the
    g-rounded sizes minus the largest rounding slack. This is >= `lower_bound(aligned=
    False)`, and equals `lower_bound(aligned=True)` when every size is a multiple of its
    alignment. The `optimal` allocator stops as soon as it reaches this number.

    Buffers with `extents`: at a step where one is live only the raw bytes in use count
    (a window may start anywhere), and the arena holds each such buffer whole, so it is
    at least its size.
    """
    best = max((b.size for b in buffers if b.extents), default=0)
    # the live set grows only where a buffer starts, and a window only where it changes
    starts = sorted({b.start for b in buffers if b.size > 0} |
                    {s for b in buffers if b.extents for s in range(b.start, b.end + 1)})
    by_start = sorted((i for i, b in enumerate(buffers) if b.size > 0),
                      key=lambda i: buffers[i].start)
    active: list[tuple[int, int]] = []  # (end, index)
    k = 0
    for step in starts:
        while k < len(by_start) and buffers[by_start[k]].start == step:
            heapq.heappush(active, (buffers[by_start[k]].end, by_start[k]))
            k += 1
        while active and active[0][0] < step:
            heapq.heappop(active)
        live = [buffers[i] for _, i in active if buffers[i].used(step)]
        if not live:
            continue
        if any(b.extents for b in live):
            # a window need not start at an aligned offset: only the raw bytes are sure
            best = max(best, sum(b.used(step) for b in live))
            continue
        g = 0
        for b in live:
            g = math.gcd(g, b.alignment)
        used = [b.used(step) for b in live]
        rounded = [-(-u // g) * g for u in used]
        slack = max(r - u for r, u in zip(rounded, used))
        best = max(best, sum(rounded) - slack)
    return best
