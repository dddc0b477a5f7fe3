"""passes/planning/shared.py: where each model's own plan sits in a shared arena."""

from __future__ import annotations

import pytest
from utc.passes.planning.shared import plan_shared_arena


def test_exclusive_models_all_start_at_zero_and_need_the_largest() -> None:
    lay = plan_shared_arena([(100, 16), (300, 16), (0, 16)])
    assert lay.offsets == (0, 0, 0) and lay.arena_bytes == 300 and not lay.concurrent


def test_concurrent_models_are_disjoint_and_aligned_to_the_largest_alignment() -> None:
    lay = plan_shared_arena([(100, 16), (300, 32), (5, 16)], concurrent=True)
    assert lay.offsets == (0, 128, 448) and lay.arena_bytes == 453 and lay.alignment == 32
    spans = [(o, o + size) for o, (size, _) in zip(lay.offsets, [(100, 16), (300, 32), (5, 16)])]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert all(o % 32 == 0 for o in lay.offsets)


def test_one_model_is_its_own_arena() -> None:
    for concurrent in (False, True):
        lay = plan_shared_arena([(4200, 16)], concurrent)
        assert lay.offsets == (0,) and lay.arena_bytes == 4200


@pytest.mark.parametrize("parts", [[], [(-1, 16)], [(10, 0)], [(10, 24)]])
def test_bad_parts_are_refused(parts) -> None:
    with pytest.raises(ValueError):
        plan_shared_arena(parts)
