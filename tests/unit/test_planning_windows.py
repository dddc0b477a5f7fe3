"""Buffers that use only a window of their bytes at each step (overlap chains): the
`extents` of `Buffer`, the bound, the allocators, the checker and `byte_spans`."""

from __future__ import annotations

import random

import pytest
from utc.passes.planning.allocators import STRATEGIES, _Problem, arena_size
from utc.passes.planning.checker import check_plan
from utc.passes.planning.intervals import Buffer, arena_lower_bound, lower_bound
from utc.passes.planning.windows import byte_spans


def chain() -> Buffer:
    """A 300-byte group whose tensors slide down: [200, 300) at step 0, [100, 300) at
    step 1, [0, 200) at step 2."""
    return Buffer("g", 300, 0, 2, 1, ((200, 300), (100, 300), (0, 200)))


def test_extents_must_cover_the_live_range_inside_the_buffer() -> None:
    with pytest.raises(ValueError, match="2 extents for steps 0..2"):
        Buffer("g", 300, 0, 2, 1, ((0, 1), (0, 1)))
    with pytest.raises(ValueError, match="not inside its 300 bytes"):
        Buffer("g", 300, 0, 0, 1, ((0, 301),))
    with pytest.raises(ValueError, match="not inside"):
        Buffer("g", 300, 0, 0, 1, ((20, 10),))
    assert chain().extent(1) == (100, 300) and chain().used(2) == 200
    assert Buffer("p", 50, 0, 3).extent(2) == (0, 50)


def test_the_bound_counts_windows_and_the_arena_bound_every_buffer_whole() -> None:
    other = Buffer("o", 100, 0, 0, 1)
    # step 0: 100 + 100, step 1: 200, step 2: 200
    assert lower_bound([chain(), other]) == 200
    # the group is one buffer: the arena holds all 300 bytes of it
    assert arena_lower_bound([chain(), other]) == 300


def test_a_buffer_goes_where_a_group_no_longer_uses_its_bytes() -> None:
    # live at step 2 only, 100 bytes: fits in [200, 300), which the group left at step 1
    late = Buffer("late", 100, 2, 2, 1)
    early = Buffer("early", 100, 0, 0, 1)  # fits in [0, 100) at step 0
    buffers = [chain(), late, early]
    for name, strategy in STRATEGIES.items():
        offsets = strategy(buffers)
        assert check_plan(buffers, offsets, arena_size(buffers, offsets)) == [], name
        assert arena_size(buffers, offsets) == 300, name


def _first_fit_by_scanning(buffers: list[Buffer], order: list[int]) -> list[int]:
    """First fit written the obvious way, to hold the allocator's interval sweep to: each
    buffer at the lowest aligned offset, tried one by one, whose bytes meet no placed
    buffer's bytes at a step both are live."""
    offsets: dict[int, int] = {}
    limit = sum(b.size for b in buffers) + 16
    for i in order:
        b = buffers[i]
        candidates = range(0, limit, b.alignment)

        def fits(c: int, b: Buffer = b) -> bool:
            for j, o in offsets.items():
                other = buffers[j]
                for t in range(max(b.start, other.start), min(b.end, other.end) + 1):
                    lo_i, hi_i = b.extent(t)
                    lo_j, hi_j = other.extent(t)
                    if (lo_i < hi_i and lo_j < hi_j
                            and max(c + lo_i, o + lo_j) < min(c + hi_i, o + hi_j)):
                        return False
            return True

        offsets[i] = next(c for c in candidates if fits(c))
    return [offsets.get(i, 0) for i in range(len(buffers))]


def test_first_fit_matches_a_scan_over_candidate_offsets() -> None:
    """On plain buffers, and on windowed ones, the sweep finds the lowest fitting offset."""
    rng = random.Random(7)
    for round_ in range(200):
        n = rng.randint(1, 10)
        buffers = []
        for i in range(n):
            a = rng.randint(0, 8)
            b = a + rng.randint(0, 4)
            size = rng.randint(1, 90)
            extents = ()
            if round_ % 2:
                extents = []
                for _ in range(a, b + 1):
                    lo = rng.randint(0, size)
                    extents.append((lo, rng.randint(lo, size)))
                extents = tuple(extents)
            buffers.append(Buffer(f"b{i}", size, a, b, rng.choice((1, 4, 16)), extents))
        p = _Problem(buffers)
        order = list(p.live)
        rng.shuffle(order)
        assert p.place(order, best_fit=False) == _first_fit_by_scanning(buffers, order)


def test_random_windowed_plans_are_valid_and_reach_at_least_the_bound() -> None:
    rng = random.Random(11)
    for _ in range(100):
        buffers = []
        for i in range(rng.randint(1, 10)):
            a = rng.randint(0, 6)
            b = a + rng.randint(0, 4)
            size = rng.randint(1, 120)
            extents = ()
            if rng.random() < 0.5:
                extents = []
                for _ in range(a, b + 1):
                    lo = rng.randint(0, size)
                    extents.append((lo, rng.randint(lo, size)))
                extents = tuple(extents)
            buffers.append(Buffer(f"b{i}", size, a, b, rng.choice((1, 16)), extents))
        for name, strategy in STRATEGIES.items():
            offsets = strategy(buffers)
            arena = arena_size(buffers, offsets)
            assert check_plan(buffers, offsets, arena) == [], name
            assert arena >= arena_lower_bound(buffers) >= lower_bound(buffers)


def test_the_checker_sees_windows_clash_only_where_they_meet() -> None:
    other = Buffer("o", 100, 1, 1, 1)
    # at step 1 the group uses [100, 300): [0, 100) is free, [50, 150) is not
    assert check_plan([chain(), other], [0, 0], 300) == []
    problems = check_plan([chain(), other], [0, 50], 300)
    assert problems and "overlap at step 1" in problems[0]


def test_byte_spans_merge_the_values_over_each_byte() -> None:
    # a tensor [0, 8) used at steps 0..1, a reshape view of its last half read at step 3,
    # and an overlapping next tensor [4, 12) written at step 2
    spans = byte_spans([(0, 8, 0, 1), (4, 8, 3, 3), (4, 12, 2, 2)])
    assert spans == [(0, 4, 0, 1), (4, 8, 0, 3), (8, 12, 2, 2)]
    assert byte_spans([(0, 4, 0, 0), (8, 12, 1, 1)]) == [(0, 4, 0, 0), (8, 12, 1, 1)]
