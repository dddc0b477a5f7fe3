"""Memory regions: several RAMs (tightly coupled DTCM, SRAM banks, external PSRAM), each
an arena of its own with a capacity, and which buffer goes where.

A board's memories differ in speed, so the question is not only "does it fit" but "what
goes into the fast one". `assign_regions` answers it greedily, hottest first: a buffer's
heat is the work of the kernel calls that touch it per byte of it (multiply-accumulates
per byte: a convolution's small input read for every output channel is hotter than a big
feature map streamed once), and each buffer goes into the first region (in the order the
user listed them, fastest first) whose plan, with that buffer added, still fits the
region's capacity. Every region is planned by the same allocator as a single arena, so
inside a region buffers share bytes over time exactly as they would in one arena; across
regions they never do.

This is a heuristic, not an optimum over all assignments (that is a bin-packing problem
over interval graphs); what it guarantees is that every region's plan is checked and fits,
and that a model that does not fit is refused with the bytes it lacks. A plan in one
region of unlimited size is the plain single-arena plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .allocators import arena_size
from .intervals import Buffer, lower_bound

#: A region name: a C identifier part (it becomes `NAME_<REGION>_BYTES` and an array name).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: A linker section name, as GCC's section attribute takes it.
_SECTION = re.compile(r"[.A-Za-z_][.A-Za-z0-9_$]*\Z")


@dataclass(frozen=True)
class Region:
    """One memory: its name, how many bytes utc may use there, and the linker section its
    array goes into (None: the compiler's default, .bss)."""

    name: str
    capacity: int
    section: str | None = None


def parse_region(text: str) -> Region:
    """`NAME:BYTES[:SECTION]` (as `--memory-region` takes it); ValueError with what is wrong."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"memory region '{text}': expected NAME:BYTES or NAME:BYTES:SECTION")
    name, size = parts[0], parts[1]
    if not _NAME.match(name):
        raise ValueError(f"memory region '{text}': the name must be letters, digits and _, "
                         "starting with a letter")
    if not size.isdigit() or int(size) <= 0:
        raise ValueError(f"memory region '{text}': the size must be a positive number of bytes")
    section = parts[2] if len(parts) == 3 else None
    if section is not None and not _SECTION.match(section):
        raise ValueError(f"memory region '{text}': '{section}' is not a linker section name")
    return Region(name, int(size), section)


def parse_regions(text: str) -> list[Region]:
    """Regions separated by ';' (the pass option's form); names must differ."""
    regions = [parse_region(t) for t in text.split(";") if t.strip()]
    names = [r.name.lower() for r in regions]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ValueError(f"memory region '{dup}' is given twice")
    return regions


def format_regions(regions: Sequence[Region]) -> str:
    """The inverse of `parse_regions`."""
    return ";".join(f"{r.name}:{r.capacity}" + (f":{r.section}" if r.section else "")
                    for r in regions)


class RegionsFull(ValueError):
    """No region has room for a buffer; `missing` is how many bytes the model lacks."""

    def __init__(self, message: str, missing: int) -> None:
        super().__init__(message)
        self.missing = missing


def assign_regions(buffers: Sequence[Buffer], heat: Sequence[float],
                   regions: Sequence[Region],
                   place: Callable[[Sequence[Buffer]], list[int]]
                   ) -> tuple[list[int], list[int], list[int]]:
    """(region index per buffer, offset per buffer inside its region, bytes used per
    region). Buffers are taken hottest first (`heat`, per byte; ties: larger first, then
    input order) and each goes into the first region whose plan (by `place`, checked with
    `arena_size`) still fits its capacity with it. Raises `RegionsFull` when one fits
    nowhere, saying how many bytes the regions lack for it."""
    if not regions:
        raise ValueError("no memory region given")
    order = sorted(range(len(buffers)), key=lambda i: (-heat[i], -buffers[i].size, i))
    members: list[list[int]] = [[] for _ in regions]
    where = [0] * len(buffers)
    plans: list[tuple[list[int], int]] = [([], 0) for _ in regions]
    for i in order:
        shortfall = None
        for r, region in enumerate(regions):
            trial = members[r] + [i]
            group = [buffers[k] for k in trial]
            need = int(lower_bound(group, aligned=True))
            if need <= region.capacity:
                offsets = place(group)
                need = arena_size(group, offsets)
                if need <= region.capacity:
                    members[r], plans[r], where[i] = trial, (offsets, need), r
                    break
            gap = need - region.capacity
            shortfall = gap if shortfall is None else min(shortfall, gap)
        else:
            raise RegionsFull(f"buffer {buffers[i].name} ({buffers[i].size} B) fits in no "
                              f"memory region: the smallest shortfall is {shortfall} B",
                              int(shortfall or 0))
    offsets = [0] * len(buffers)
    for r, (region_offsets, _) in enumerate(plans):
        for k, off in zip(members[r], region_offsets):
            offsets[k] = int(off)
    return where, offsets, [used for _, used in plans]


def region_bases(memory_regions: Sequence | None, alignment: int = 16) -> dict[str, int]:
    """Each region's start in one address space where the regions follow each other in
    the order given (each start aligned): how the checkers and the report lay several
    regions side by side, so that offsets in different regions never look like a clash.
    Empty without regions."""
    bases, at = {}, 0
    for name, _capacity, used, *_ in memory_regions or ():
        bases[name] = at
        at += -(-int(used) // alignment) * alignment
    return bases

