"""Several models in one arena: where each model's own plan goes in the shared array.

Each model is planned alone, exactly as a single-model compile plans it (so its offsets,
and its outputs, do not change). What is left to decide is where each model's plan sits
in the one arena the application allocates:

* exclusive (the default): the models never run at the same time (a wake-word model,
  then a command model), so every model starts at byte 0 and the arena is the largest
  model's arena, not the sum. A run of one model overwrites the other models'
  activations, inputs and outputs; their state (variables) lives outside the arena.
* concurrent: runs may interleave (two RTOS tasks, one preempting the other), so every
  buffer of one model may be live during any step of another: the union of their live
  ranges covers the whole time line, and no byte can be shared. The models get disjoint
  parts, one after the other, and the arena is their (aligned) sum.

A plain function, checked independently by `verify_ir.verify_shared_arena`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SharedArena:
    """The shared arena's layout: each model's byte offset in it, its size, alignment."""

    offsets: tuple[int, ...]
    arena_bytes: int
    alignment: int
    concurrent: bool


def _round_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


def plan_shared_arena(parts: Sequence[tuple[int, int]], concurrent: bool = False) -> SharedArena:
    """The layout of models whose own arenas are `parts` ((bytes, alignment) each, in the
    order given). Exclusive: all at offset 0, the arena the largest part. Concurrent:
    one after the other, each offset a multiple of the largest alignment (so every
    model's own alignment holds), the arena their sum with that padding."""
    if not parts:
        raise ValueError("a shared arena needs at least one model")
    for size, align in parts:
        if size < 0 or align <= 0 or align & (align - 1):
            raise ValueError(f"bad arena part: {size} B aligned to {align}")
    alignment = max(align for _, align in parts)
    if not concurrent:
        return SharedArena(tuple(0 for _ in parts), max(size for size, _ in parts), alignment,
                           False)
    offsets = []
    at = 0
    for size, _ in parts:
        at = _round_up(at, alignment)
        offsets.append(at)
        at += size
    return SharedArena(tuple(offsets), at, alignment, True)
