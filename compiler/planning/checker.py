"""Independent plan checker: overlap of live buffers, alignment, arena bounds.

Deliberately shares no code with the allocators, so a bug in one is not mirrored here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .intervals import Buffer


class PlanError(ValueError):
    """A memory plan violates an invariant."""


def check_plan(buffers: Sequence[Buffer], offsets: Sequence[int], arena_size: int) -> list[str]:
    problems = []
    if len(offsets) != len(buffers):
        return [f"{len(offsets)} offsets for {len(buffers)} buffers"]
    for b, o in zip(buffers, offsets):
        if o < 0 or o % b.alignment:
            problems.append(f"{b.name} at offset {o} is not {b.alignment}-byte aligned")
        if o + b.size > arena_size:
            problems.append(f"{b.name} [{o}, {o + b.size}) ends past the arena ({arena_size} B)")
    for i in range(len(buffers)):
        a, oa = buffers[i], offsets[i]
        for j in range(i + 1, len(buffers)):
            b, ob = buffers[j], offsets[j]
            if a.size == 0 or b.size == 0:
                continue
            if a.end < b.start or b.end < a.start:
                continue
            if oa < ob + b.size and ob < oa + a.size:
                problems.append(f"{a.name} [{oa}, {oa + a.size}) and {b.name} [{ob}, {ob + b.size})"
                                f" overlap while both live (steps {max(a.start, b.start)}.."
                                f"{min(a.end, b.end)})")
    return problems


def assert_valid_plan(buffers: Sequence[Buffer], offsets: Sequence[int], arena_size: int) -> None:
    problems = check_plan(buffers, offsets, arena_size)
    if problems:
        raise PlanError("; ".join(problems))
