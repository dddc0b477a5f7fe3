"""Memory regions (passes/planning/regions.py): parsing `NAME:BYTES[:SECTION]`, the
hottest-first assignment into regions of limited capacity, and the address space the
checkers and the report lay regions out in."""

from __future__ import annotations

import pytest
from utc.passes.planning.allocators import arena_size, greedy_by_size
from utc.passes.planning.checker import check_plan
from utc.passes.planning.intervals import Buffer
from utc.passes.planning.regions import (
    Region,
    RegionsFull,
    assign_regions,
    format_regions,
    parse_region,
    parse_regions,
    region_bases,
)


def test_parse_region() -> None:
    assert parse_region("dtcm:65536") == Region("dtcm", 65536)
    assert parse_region("sram1:1024:.bss.sram1") == Region("sram1", 1024, ".bss.sram1")
    regions = parse_regions("dtcm:64:.dtcm;sram:128")
    assert regions == [Region("dtcm", 64, ".dtcm"), Region("sram", 128)]
    assert format_regions(regions) == "dtcm:64:.dtcm;sram:128"


@pytest.mark.parametrize("text,message", [
    ("dtcm", "expected NAME:BYTES"),
    ("dtcm:1:2:3", "expected NAME:BYTES"),
    ("1dtcm:64", "the name must be"),
    ("dt-cm:64", "the name must be"),
    ("dtcm:64k", "positive number of bytes"),
    ("dtcm:0", "positive number of bytes"),
    ("dtcm:64:a section", "not a linker section name"),
])
def test_malformed_regions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_region(text)


def test_a_region_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="'dtcm' is given twice"):
        parse_regions("dtcm:64;DTCM:128")


def _buffers() -> list[Buffer]:
    # a chain a -> b -> c (each live two steps) and a small, hot buffer d at every step
    return [Buffer("a", 400, 0, 1, 16), Buffer("b", 400, 1, 2, 16), Buffer("c", 400, 2, 3, 16),
            Buffer("d", 48, 0, 3, 16)]


def test_the_hottest_buffers_go_to_the_first_region() -> None:
    buffers = _buffers()
    heat = [1.0, 1.0, 1.0, 50.0]  # d: most work per byte
    where, offsets, used = assign_regions(buffers, heat, [Region("fast", 64), Region("slow", 4096)],
                                          greedy_by_size)
    assert where == [1, 1, 1, 0]
    assert used == [48, 800]  # a and c share bytes in the slow region, as in one arena
    for r, cap in ((0, 64), (1, 4096)):
        members = [i for i, w in enumerate(where) if w == r]
        group = [buffers[i] for i in members]
        assert check_plan(group, [offsets[i] for i in members], used[r]) == []
        assert arena_size(group, [offsets[i] for i in members]) == used[r] <= cap


def test_a_region_too_small_for_anything_stays_empty() -> None:
    where, _, used = assign_regions(_buffers(), [1.0] * 4, [Region("tiny", 16), Region("big", 4096)],
                                    greedy_by_size)
    assert where == [1, 1, 1, 1] and used == [0, 848]


def test_a_model_that_fits_nowhere_is_refused_with_the_shortfall() -> None:
    with pytest.raises(RegionsFull, match=r"buffer [abc] \(400 B\) fits in no memory region") as e:
        assign_regions(_buffers(), [1.0] * 4, [Region("one", 300), Region("two", 420)],
                       greedy_by_size)
    # b after a: 100 B short in the first region, 380 B in the second (a is there)
    assert e.value.missing == 100


def test_one_big_region_is_the_single_arena_plan() -> None:
    buffers = _buffers()
    _, offsets, used = assign_regions(buffers, [1.0] * 4, [Region("all", 1 << 20)], greedy_by_size)
    assert used == [arena_size(buffers, greedy_by_size(buffers))]


def test_region_bases_lay_regions_side_by_side_aligned() -> None:
    regions = (("dtcm", 4096, 490, ".dtcm"), ("sram", 65536, 8576, ""))
    assert region_bases(regions) == {"dtcm": 0, "sram": 496}
    assert region_bases(None) == {}
