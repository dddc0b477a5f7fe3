"""What placing buffers inside another one does to the fixed-order lower bound.

Concatenation in place (`concat-in-place`) lets the producers of a concatenation's
inputs write straight into slices of its output, and drops the concatenation call. The
output then has to be live from the first producer on, which can raise the peak on a
schedule where the inputs are produced far apart; the copy it saves is at the
concatenation step. `bound_after_placement` computes the bound of the changed plan from
the current intervals so the pass can keep only placements that do not raise it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .intervals import Buffer, lower_bound


def placed_buffers(buffers: Sequence[Buffer], parts: Sequence[int], whole: int,
                   dropped_step: int) -> list[Buffer]:
    """The buffers after `parts` (indices) were placed inside `whole` and the schedule
    step `dropped_step` was removed (later steps move one earlier).

    `whole` becomes live from the earliest start among itself and the parts; a buffer
    that was live only at the dropped step (the removed call's scratch) disappears."""
    part_set = set(parts)
    if whole in part_set:
        raise ValueError("a buffer cannot be placed inside itself")
    d = dropped_step
    out: list[Buffer] = []
    for i, b in enumerate(buffers):
        if i in part_set:
            continue
        start = min([b.start] + [buffers[p].start for p in parts]) if i == whole else b.start
        new_start = start if start <= d else start - 1
        new_end = b.end if b.end < d else b.end - 1
        if new_end < new_start:
            continue
        out.append(Buffer(b.name, b.size, new_start, new_end, b.alignment))
    return out


def bound_after_placement(buffers: Sequence[Buffer], parts: Sequence[int], whole: int,
                          dropped_step: int) -> int:
    """`lower_bound` of `placed_buffers(...)`."""
    return lower_bound(placed_buffers(buffers, parts, whole, dropped_step), aligned=False)
