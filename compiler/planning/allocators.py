"""Offset allocators: pure functions from buffers (intervals) to arena offsets."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .intervals import Buffer, lower_bound, overlaps


def arena_size(buffers: Sequence[Buffer], offsets: Sequence[int]) -> int:
    return max((o + b.size for b, o in zip(buffers, offsets) if b.size), default=0)


def _place(buffers: Sequence[Buffer], order: Sequence[int], best_fit: bool) -> list[int]:
    """Place buffers in `order`, each at the lowest (first fit) or tightest (best fit)
    aligned gap among already placed buffers whose lifetimes overlap it."""
    offsets = [0] * len(buffers)
    placed: list[int] = []
    for i in order:
        b = buffers[i]
        if b.size == 0:
            continue
        busy = sorted((offsets[j], offsets[j] + buffers[j].size) for j in placed
                      if overlaps(b, buffers[j]))
        a = b.alignment
        candidates = []
        cursor = 0
        for lo, hi in busy:
            start = (cursor + a - 1) // a * a
            if start + b.size <= lo:
                candidates.append((lo - start, start))
                if not best_fit:
                    break
            cursor = max(cursor, hi)
        if not candidates or best_fit:
            start = (cursor + a - 1) // a * a
            candidates.append((float("inf"), start))
        offsets[i] = min(candidates)[1] if best_fit else candidates[0][1]
        placed.append(i)
    return offsets


def greedy_by_size(buffers: Sequence[Buffer]) -> list[int]:
    """TFLite Micro's baseline: largest first, each at the first gap that fits."""
    order = sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, buffers[i].start, i))
    return _place(buffers, order, best_fit=False)


def greedy_by_first_use(buffers: Sequence[Buffer]) -> list[int]:
    """In order of first use, each at the tightest gap that fits (best fit)."""
    order = sorted(range(len(buffers)), key=lambda i: (buffers[i].start, -buffers[i].size, i))
    return _place(buffers, order, best_fit=True)


def optimal(buffers: Sequence[Buffer], iterations: int = 300, seed: int = 0) -> list[int]:
    """Several greedy orders with first and best fit, then a seeded hill climb over the
    placement order; stops as soon as the arena equals the (aligned) lower bound."""
    n = len(buffers)
    if n == 0:
        return []
    bound = lower_bound(buffers, aligned=True)
    keys: list[Callable[[int], tuple]] = [
        lambda i: (-buffers[i].size, buffers[i].start, i),
        lambda i: (buffers[i].start, -buffers[i].size, i),
        lambda i: (-(buffers[i].end - buffers[i].start), -buffers[i].size, i),
        lambda i: (-buffers[i].size * (buffers[i].end - buffers[i].start + 1), i),
        lambda i: (buffers[i].end, -buffers[i].size, i),
    ]
    best_order, best_offsets, best_size = None, None, None
    for key in keys:
        order = sorted(range(n), key=key)
        for fit in (False, True):
            offsets = _place(buffers, order, fit)
            size = arena_size(buffers, offsets)
            if best_size is None or size < best_size:
                best_order, best_offsets, best_size = (order, fit), offsets, size
            if size <= bound:
                return offsets
    rng = random.Random(seed)
    order, fit = list(best_order[0]), best_order[1]
    for _ in range(iterations if n > 1 else 0):
        candidate = list(order)
        i, j = rng.randrange(n), rng.randrange(n)
        candidate.insert(j, candidate.pop(i))
        offsets = _place(buffers, candidate, fit)
        size = arena_size(buffers, offsets)
        if size <= best_size:
            order = candidate
            if size < best_size:
                best_offsets, best_size = offsets, size
            if size <= bound:
                break
    return best_offsets


STRATEGIES: dict[str, Callable[[Sequence[Buffer]], list[int]]] = {
    "greedy-by-size": greedy_by_size,
    "greedy-by-first-use": greedy_by_first_use,
    "optimal": optimal,
}
