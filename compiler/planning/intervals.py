"""Buffers as intervals over the schedule, their conflict graph and the lower bound."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx


@dataclass(frozen=True)
class Buffer:
    """A buffer of `size` bytes live over schedule steps [start, end] (inclusive)."""

    name: str
    size: int
    start: int
    end: int
    alignment: int = 16

    @property
    def aligned_size(self) -> int:
        a = self.alignment
        return (self.size + a - 1) // a * a


def overlaps(a: Buffer, b: Buffer) -> bool:
    return a.start <= b.end and b.start <= a.end and a.size > 0 and b.size > 0


def conflict_graph(buffers: Sequence[Buffer]) -> nx.Graph:
    """The interval graph: an edge between buffers whose live ranges intersect."""
    g = nx.Graph()
    for i, b in enumerate(buffers):
        g.add_node(i, weight=b.aligned_size)
    order = sorted(range(len(buffers)), key=lambda i: buffers[i].start)
    active: list[int] = []
    for i in order:
        active = [j for j in active if buffers[j].end >= buffers[i].start]
        for j in active:
            if overlaps(buffers[i], buffers[j]):
                g.add_edge(i, j)
        active.append(i)
    return g


def _live_bytes(buffers: Sequence[Buffer], aligned: bool) -> dict[int, int]:
    steps: dict[int, int] = {}
    for b in buffers:
        size = b.aligned_size if aligned else b.size
        for t in range(b.start, b.end + 1):
            steps[t] = steps.get(t, 0) + size
    return steps


def lower_bound(buffers: Sequence[Buffer], aligned: bool = False) -> int:
    """Maximum over schedule steps of the live bytes: the maximum-weight clique of the
    interval graph, so no allocator can fit this schedule in less."""
    steps = _live_bytes(buffers, aligned)
    return max(steps.values(), default=0)


def peak_step(buffers: Sequence[Buffer], aligned: bool = False) -> int:
    steps = _live_bytes(buffers, aligned)
    best = max(steps.values(), default=0)
    return min((t for t, v in steps.items() if v == best), default=0)
