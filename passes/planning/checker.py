"""Independent plan checker: live buffers never share bytes, offsets are aligned and every
buffer fits inside the arena.

This module deliberately shares no code with the allocators or with the interval helpers
(only the `Buffer` record): it recomputes lifetime intersection, byte overlap and
alignment itself, pair by pair, so a bug in the allocators' fast paths is not mirrored
here. It runs after every planning in the compiler and in every planning test.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from .intervals import Buffer


class PlanError(ValueError):
    """A memory plan violates an invariant; the message lists every violation."""


def check_plan(buffers: Sequence[Buffer], offsets: Sequence[int], arena_size: int) -> list[str]:
    """All violations of the plan as human-readable sentences; empty when the plan is valid.

    Checks: one integer offset per buffer; offsets non-negative and multiples of the
    buffer's alignment; offset + size within `arena_size`; and no two buffers whose live
    ranges [start, end] share a step occupy a common byte (at that step: a buffer with
    `extents` uses only its window). Zero-size buffers hold no bytes, so they never
    overlap anything (but must still be aligned and inside the arena).
    """
    if len(offsets) != len(buffers):
        return [f"plan has {len(offsets)} offsets for {len(buffers)} buffers"]
    problems: list[str] = []
    ok = []
    for b, off in zip(buffers, offsets):
        if isinstance(off, bool) or not isinstance(off, numbers.Integral):
            problems.append(f"{b.name}: offset {off!r} is not an integer")
            ok.append(False)
            continue
        ok.append(True)
        off = int(off)
        if off < 0:
            problems.append(f"{b.name}: negative offset {off}")
        if off % b.alignment != 0:
            problems.append(f"{b.name}: offset {off} is not {b.alignment}-byte aligned")
        if off + b.size > arena_size:
            problems.append(f"{b.name}: bytes [{off}, {off + b.size}) end past the arena "
                            f"({arena_size} B)")
    count = len(buffers)
    for i in range(count):
        a = buffers[i]
        if not ok[i] or a.size == 0:
            continue
        a_lo = int(offsets[i])
        a_hi = a_lo + a.size
        for j in range(i + 1, count):
            b = buffers[j]
            if not ok[j] or b.size == 0:
                continue
            first_common = max(a.start, b.start)
            last_common = min(a.end, b.end)
            if first_common > last_common:
                continue  # never live at the same step
            b_lo = int(offsets[j])
            b_hi = b_lo + b.size
            if a.extents or b.extents:
                clash = _window_clash(a, a_lo, b, b_lo, first_common, last_common)
                if clash is not None:
                    problems.append(clash)
                continue
            if max(a_lo, b_lo) < min(a_hi, b_hi):
                problems.append(f"{a.name} [{a_lo}, {a_hi}) and {b.name} [{b_lo}, {b_hi}) "
                                f"overlap while both live (steps {first_common}.."
                                f"{last_common})")
    return problems


def _window_clash(a: Buffer, a_off: int, b: Buffer, b_off: int, first: int,
                  last: int) -> str | None:
    """The first step of [first, last] at which the bytes a and b use (their `extents`
    windows, or all of a plain buffer) overlap, as a sentence; None if never."""
    for step in range(first, last + 1):
        a_lo, a_hi = a.extents[step - a.start] if a.extents else (0, a.size)
        b_lo, b_hi = b.extents[step - b.start] if b.extents else (0, b.size)
        if a_lo == a_hi or b_lo == b_hi:
            continue
        lo, hi = max(a_off + a_lo, b_off + b_lo), min(a_off + a_hi, b_off + b_hi)
        if lo < hi:
            return (f"{a.name} [{a_off + a_lo}, {a_off + a_hi}) and {b.name} "
                    f"[{b_off + b_lo}, {b_off + b_hi}) overlap at step {step}")
    return None


def assert_valid_plan(buffers: Sequence[Buffer], offsets: Sequence[int], arena_size: int) -> None:
    """Raise `PlanError` listing every violation `check_plan` finds; return if valid."""
    problems = check_plan(buffers, offsets, arena_size)
    if problems:
        raise PlanError(f"invalid memory plan ({len(problems)} violation"
                        f"{'s' if len(problems) != 1 else ''}):\n  " + "\n  ".join(problems))
