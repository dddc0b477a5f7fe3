"""Unit tests of utc.dialects.slice_math: known answers and the errors for parameters
TFLite refuses or TFLite Micro would not compute as TFLite does. (Agreement with TFLM's
kernels is checked in test_kernels_data_movement.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from utc.dialects import slice_math as sm


def test_pad6() -> None:
    assert sm.pad6([]) == [1, 1, 1, 1, 1, 1]
    assert sm.pad6([3]) == [1, 1, 1, 1, 1, 3]
    assert sm.pad6((2, 3, 4)) == [1, 1, 1, 2, 3, 4]
    assert sm.pad6(np.array([1, 2, 3, 4, 5, 6])) == [1, 2, 3, 4, 5, 6]
    assert all(type(d) is int for d in sm.pad6([2, 3]))
    with pytest.raises(ValueError, match="more than 6 dimensions"):
        sm.pad6([1] * 7)


@pytest.mark.parametrize("axis,rank,want", [(0, 1, 0), (-1, 1, 0), (2, 4, 2), (-1, 4, 3),
                                            (-4, 4, 0), (3, 4, 3)])
def test_normalize_axis(axis: int, rank: int, want: int) -> None:
    assert sm.normalize_axis(axis, rank) == want


@pytest.mark.parametrize("axis,rank", [(4, 4), (-5, 4), (0, 0)])
def test_normalize_axis_out_of_range(axis: int, rank: int) -> None:
    with pytest.raises(ValueError, match=f"axis {axis} is out of range"):
        sm.normalize_axis(axis, rank)


# ---- PAD --------------------------------------------------------------------------------

def test_resolve_pad() -> None:
    assert sm.resolve_pad([2, 3], [[1, 0], [0, 2]]) == (
        [1, 1, 1, 1, 2, 3], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 2], [3, 5])
    assert sm.resolve_pad([4], np.array([[2, 3]], dtype=np.int32)) == (
        [1, 1, 1, 1, 1, 4], [0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 3], [9])
    in6, before6, after6, out = sm.resolve_pad([1, 2, 3, 4, 5], [[0, 1]] * 5)
    assert in6 == [1, 1, 2, 3, 4, 5] and before6 == [0] * 6 and after6 == [0] + [1] * 5
    assert out == [2, 3, 4, 5, 6]


def test_resolve_pad_errors() -> None:
    with pytest.raises(ValueError, match="negative value"):
        sm.resolve_pad([2, 3], [[0, 0], [-1, 2]])
    with pytest.raises(ValueError, match="at most 5"):
        sm.resolve_pad([1] * 6, [[0, 0]] * 6)
    with pytest.raises(ValueError, match=r"expected \[2, 2\]"):
        sm.resolve_pad([2, 3], [[0, 0]])
    with pytest.raises(ValueError, match=r"expected \[2, 2\]"):
        sm.resolve_pad([2, 3], [[0, 0, 1], [1, 1, 1]])
    with pytest.raises(ValueError, match="not an int32"):
        sm.resolve_pad([2], [[0, 2**31]])
    with pytest.raises(ValueError, match="negative dimension"):
        sm.resolve_pad([-2], [[0, 0]])


# ---- CONCATENATION / SPLIT --------------------------------------------------------------

def test_concat_params() -> None:
    # rows before the axis: 2; chunk = (dims from the axis on) * elem_size
    assert sm.concat_params([[2, 3, 4], [2, 5, 4]], 1, 4) == (2, [48, 80], [2, 8, 4])
    assert sm.concat_params([[2, 3, 4], [2, 5, 4]], -2, 1) == (2, [12, 20], [2, 8, 4])
    assert sm.concat_params([[2, 3], [4, 3], [1, 3]], 0, 1) == (1, [6, 12, 3], [7, 3])
    assert sm.concat_params([[2, 3, 1], [2, 3, 2]], -1, 4) == (6, [4, 8], [2, 3, 3])
    assert sm.concat_params([[5]], 0, 4) == (1, [20], [5])


def test_concat_params_errors() -> None:
    with pytest.raises(ValueError, match="at least one input"):
        sm.concat_params([], 0, 1)
    with pytest.raises(ValueError, match="same rank"):
        sm.concat_params([[2, 3], [2, 3, 1]], 0, 1)
    with pytest.raises(ValueError, match="differ outside axis 1"):
        sm.concat_params([[2, 3], [3, 3]], 1, 1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        sm.concat_params([[2, 3], [2, 3]], 2, 1)
    with pytest.raises(ValueError, match="scalar"):
        sm.concat_params([[], []], 0, 1)
    with pytest.raises(ValueError, match="int32"):
        sm.concat_params([[1 << 20, 1 << 12], [1, 1 << 12]], 0, 1)


def test_split_sizes() -> None:
    assert sm.split_sizes(6, 3) == [2, 2, 2]
    assert sm.split_sizes(5, 1) == [5]
    assert sm.split_sizes(0, 2) == [0, 0]
    with pytest.raises(ValueError, match="not an even split"):
        sm.split_sizes(7, 2)
    with pytest.raises(ValueError, match="num_splits must be positive"):
        sm.split_sizes(6, 0)


def test_split_v_sizes() -> None:
    assert sm.split_v_sizes(7, [2, -1, 4]) == [2, 1, 4]
    assert sm.split_v_sizes(7, [-1]) == [7]
    assert sm.split_v_sizes(7, [7, -1]) == [7, 0]
    assert sm.split_v_sizes(9, [1, 3, 5]) == [1, 3, 5]
    assert sm.split_v_sizes(4, np.array([0, 4], dtype=np.int32)) == [0, 4]


@pytest.mark.parametrize("dim,sizes,message", [
    (7, [-1, 2, -1], "more than one -1"),
    (7, [2, 3], "add up to 5, not to the dimension value 7"),
    (7, [5, 3, -1], "more than the dimension value 7"),
    (7, [9, -2], "negative size"),
    (7, [], "empty"),
])
def test_split_v_sizes_errors(dim: int, sizes: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sm.split_v_sizes(dim, sizes)


def test_split_params() -> None:
    assert sm.split_params([2, 6, 4], 1, [2, 4], 4) == (2, [32, 64], [[2, 2, 4], [2, 4, 4]])
    assert sm.split_params([2, 6, 4], -1, [1, 3], 1) == (12, [1, 3], [[2, 6, 1], [2, 6, 3]])
    assert sm.split_params([6], 0, [6], 4) == (1, [24], [[6]])
    with pytest.raises(ValueError, match="do not split dimension 1"):
        sm.split_params([2, 6], 1, [2, 3], 1)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        sm.split_params([2, 6], -3, [1, 1], 1)


def test_split_is_the_inverse_of_concatenation() -> None:
    shapes = [[3, 2, 5], [3, 4, 5], [3, 1, 5]]
    outer, chunks, out_shape = sm.concat_params(shapes, 1, 4)
    assert sm.split_params(out_shape, 1, [s[1] for s in shapes], 4) == (outer, chunks, shapes)


# ---- TRANSPOSE --------------------------------------------------------------------------

def test_transpose_perm6() -> None:
    assert sm.transpose_perm6([1, 0]) == [0, 1, 2, 3, 5, 4]
    assert sm.transpose_perm6([0, 3, 1, 2]) == [0, 1, 2, 5, 3, 4]
    assert sm.transpose_perm6([4, 0, 3, 1, 2]) == [0, 5, 1, 4, 2, 3]
    assert sm.transpose_perm6([0]) == [0, 1, 2, 3, 4, 5]
    assert sm.transpose_perm6([5, 4, 3, 2, 1, 0]) == [5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize("perm,message", [
    ([0, 0], "not a permutation"), ([0, 2], "not a permutation"), ([-1, 0], "not a permutation"),
    (list(range(7)), "more than 6"),
])
def test_transpose_perm6_errors(perm: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sm.transpose_perm6(perm)


# ---- STRIDED_SLICE ----------------------------------------------------------------------

def _ss(shape: list[int], begin: list[int], end: list[int], strides: list[int],
        **kw: object) -> tuple[list[int], list[int]]:
    """(6-D begin without the padding, TFLite output shape), after checking the padding."""
    begin6, strides6, out6, out = sm.resolve_strided_slice(shape, begin, end, strides, **kw)
    lead = 6 - len(shape)
    assert begin6[:lead] == [0] * lead and strides6[:lead] == [1] * lead
    assert out6[:lead] == [1] * lead and strides6[lead:] == list(strides)
    return begin6[lead:], out


@pytest.mark.parametrize("args,kw,want", [
    # plain, numpy-like
    (([4, 6], [1, 2], [3, 5], [1, 1]), {}, ([1, 2], [2, 3])),
    # negative begin/end count from the end
    (([5, 7], [-4, -6], [-1, -1], [1, 2]), {}, ([1, 1], [3, 3])),
    # negative strides walk backwards from begin down to (excluding) end
    (([5, 7], [4, 6], [0, 0], [-1, -2]), {}, ([4, 6], [4, 3])),
    # end -7 on a size-6 axis clamps to -1: the whole axis reversed
    (([6], [-1], [-7], [-1]), {}, ([5], [6])),
    # out-of-range begin/end clamp to the axis ([0, n], or [-1, n-1] going backwards)
    (([4, 5], [-10, 2], [10, 100], [1, 1]), {}, ([0, 2], [4, 3])),
    (([4, 5], [10, 100], [-10, -100], [-1, -2]), {}, ([3, 4], [4, 3])),
    # strides > 1 round the count up
    (([2, 9, 8], [0, 1, 0], [2, 9, 8], [1, 3, 3]), {}, ([0, 1, 0], [2, 3, 3])),
    (([7], [1], [7], [4]), {}, ([1], [2])),
    # masks: begin -> first (last) element, end -> past the last (before the first)
    (([3, 8, 4], [2, 5, 1], [2, 0, 3], [1, -1, 1]), {"begin_mask": 0b011, "end_mask": 0b110},
     ([0, 7, 1], [2, 8, 3])),
    (([5, 6], [1, 1], [3, 4], [-1, -2]), {"begin_mask": 0b01, "end_mask": 0b10},
     ([4, 1], [1, 1])),
    (([5, 6], [1, 4], [1, 4], [-1, -2]), {"begin_mask": 0b01, "end_mask": 0b10},
     ([4, 4], [3, 3])),
    # shrink_axis_mask takes the one element at begin and drops the axis; end is ignored
    # (even a wrong one, TF issue 19260)
    (([3, 4, 5], [1, 0, -1], [2, 4, 0], [1, 1, 1]), {"shrink_axis_mask": 0b101}, ([1, 0, 4], [4])),
    (([4, 3], [-1, 0], [0, 3], [1, 1]), {"shrink_axis_mask": 0b01}, ([3, 0], [3])),
    (([4, 3], [2, 1], [0, 3], [1, 1]), {"shrink_axis_mask": 0b01, "begin_mask": 0b01},
     ([0, 1], [2])),
    (([2, 3], [1, -2], [0, 0], [1, 3]), {"shrink_axis_mask": 0b11}, ([1, 1], [])),
    # begin >= end going forwards: an empty axis
    (([4, 5], [3, 0], [1, 5], [1, 1]), {}, ([3, 0], [0, 5])),
    # mask bits beyond the rank are ignored, as TFLite does
    (([4], [1], [3], [1]), {"begin_mask": 0b110, "end_mask": 0b100}, ([1], [2])),
    # offset (version 5+): end is a size counted from the resolved begin
    (([4, 5], [1, -3], [2, 3], [1, 1]), {"offset": True}, ([1, 2], [2, 3])),
    (([6, 7], [0, 1], [5, 6], [2, 3]), {"offset": True}, ([0, 1], [3, 2])),
    (([4, 5], [3, 4], [-2, -4], [-1, -2]), {"offset": True}, ([3, 4], [2, 2])),
    (([4, 5], [2, 1], [0, 3], [1, 1]), {"offset": True, "shrink_axis_mask": 1}, ([2, 1], [3])),
])
def test_resolve_strided_slice(args: tuple, kw: dict, want: tuple) -> None:
    assert _ss(*args, **kw) == want


def test_resolve_strided_slice_6d_result() -> None:
    begin6, strides6, out6, out = sm.resolve_strided_slice(
        [3, 4, 5], [1, 0, -1], [2, 4, 0], [1, 1, 1], shrink_axis_mask=0b101)
    assert (begin6, strides6, out6, out) == ([0, 0, 0, 1, 0, 4], [1] * 6, [1, 1, 1, 1, 4, 1], [4])
    begin6, strides6, out6, out = sm.resolve_strided_slice(
        [2, 3, 4, 2, 5, 3], [0] * 6, [2, 3, 4, 2, 5, 3], [1, 2, 3, 1, -1, 1], begin_mask=0b010000,
        end_mask=0b010000)
    assert begin6 == [0, 0, 0, 0, 4, 0] and out6 == out == [2, 2, 2, 2, 5, 3]


@pytest.mark.parametrize("args,kw,message", [
    (([4, 5], [0, 0], [4, 5], [1, 0]), {}, "stride of axis 1 is 0"),
    (([4, 5], [0], [4], [1]), {}, "one entry per input dimension"),
    (([4, 5], [0, 0], [4, 5, 1], [1, 1]), {}, "one entry per input dimension"),
    (([4, 5], [0, 0], [4, 5], [1, 1]), {"ellipsis_mask": 1}, "ellipsis_mask=1 is not supported"),
    (([4, 5], [0, 0], [4, 5], [1, 1]), {"new_axis_mask": 2}, "new_axis_mask=2 is not supported"),
    (([4, 5], [4, 0], [5, 5], [1, 1]), {"shrink_axis_mask": 1}, "index 4 of shrunk axis 0"),
    (([4, 5], [-5, 0], [0, 5], [1, 1]), {"shrink_axis_mask": 1}, "index -5 of shrunk axis 0"),
    (([4, 5], [1, 0], [0, 5], [-1, 1]), {"shrink_axis_mask": 1}, "negative stride -1"),
    # offset: begin + size past the end, and the -1 that wraps round
    (([4, 5], [2, 0], [3, 5], [1, 1]), {"offset": True}, "offset slice of axis 0"),
    (([4, 5], [0, 4], [4, -5], [1, -2]), {"offset": True}, "offset slice of axis 1"),
    (([1] * 7, [0] * 7, [1] * 7, [1] * 7), {}, "at most 6"),
    (([], [], [], []), {}, "scalar"),
    (([4], [2**31], [4], [1]), {}, "not an int32"),
])
def test_resolve_strided_slice_errors(args: tuple, kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sm.resolve_strided_slice(*args, **kw)
