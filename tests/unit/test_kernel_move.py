"""utc_move, patch-stages' byte move (runtime/utc_move.cpp): the kernel record's `move`
contract (memmove semantics) checked by running it on overlapping ranges of one buffer
in both directions, against numpy's copy of the bytes taken before the call."""

from __future__ import annotations

import numpy as np
import pytest
from utc.runtime.kernels import MOVE

from tests.kernel_harness import load_kernels


@pytest.fixture(scope="module")
def lib():
    return load_kernels([MOVE.name])


@pytest.mark.parametrize("src, dst, n", [
    (32, 0, 64), (1, 0, 100), (0, 1, 100), (0, 40, 64), (16, 16, 48), (0, 200, 50), (5, 5, 0),
])
def test_move_handles_any_overlap(lib, src: int, dst: int, n: int) -> None:
    rng = np.random.default_rng(src * 1000 + dst + n)
    buf = rng.integers(-128, 128, 256, dtype=np.int8)
    want = buf.copy()
    want[dst:dst + n] = buf[src:src + n].copy()
    base = buf.ctypes.data
    lib.utc_move(base + src, base + dst, n)
    assert np.array_equal(buf, want)


def test_record_allows_any_overlap() -> None:
    from utc.passes.planning.aliasing import may_move_over

    assert MOVE.move and may_move_over(MOVE.name)
    assert not may_move_over("utc_copy") and not may_move_over("utc_conv2d_s8")
