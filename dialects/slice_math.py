"""Compile-time parameters of utc's data-movement kernels (runtime/utc_data_movement).

PAD, PADV2, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SPLIT and SPLIT_V only move elements,
so everything that depends on the model (clamped slice bounds, output shapes, split sizes,
the byte counts of the chunks moved) is computed here, once, at compile time; the kernels
then do no range checks and no index arithmetic beyond walking their 6-D loops.

The rules are TFLite's, as TensorFlow Lite Micro implements them (its reference kernels are
the oracle the generated code must match bit for bit). Where TFLite refuses a parameter, or
where TFLite Micro would silently compute something else than TFLite (and so no oracle
agrees with any kernel), the function raises `ValueError` with a one-line message naming
the op and the offending value, so the compiler can reject the model instead of emitting
a kernel that is wrong for someone.

Shapes handed to the kernels are 6-D: the tensor shape right-aligned with leading 1s
(`pad6`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from utc.dialects.shape_math import pad_shape6

__all__ = [
    "MAX_DIMS", "PAD_MAX_DIMS", "concat_params", "normalize_axis", "pad6", "resolve_pad",
    "resolve_strided_slice", "split_params", "split_sizes", "split_v_sizes", "transpose_perm6",
]

#: Rank of the shapes the kernels take (the tensor shape padded with leading 1s).
MAX_DIMS = 6
#: TFLite's PadKernelMaxDimensionCount: PAD and PADV2 refuse inputs of higher rank.
PAD_MAX_DIMS = 5

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _ints(name: str, values: Sequence[int] | np.ndarray) -> list[int]:
    """Values as Python ints, refusing anything a TFLite int32 tensor could not hold (the
    kernels take int32 parameters, and a silently wrapped value is a different slice)."""
    out = []
    for v in np.asarray(values).reshape(-1).tolist():
        if isinstance(v, bool) or not isinstance(v, int) or not _INT32_MIN <= v <= _INT32_MAX:
            raise ValueError(f"{name}: {v!r} is not an int32")
        out.append(v)
    return out


def _shape(op: str, shape: Sequence[int], max_rank: int = MAX_DIMS) -> list[int]:
    dims = _ints(f"{op} shape", shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: shape {dims} has a negative dimension")
    if len(dims) > max_rank:
        raise ValueError(f"{op}: shape {dims} has {len(dims)} dimensions, at most {max_rank} "
                         "are supported")
    return dims


def _int32_bytes(op: str, n: int) -> int:
    if n > _INT32_MAX:
        raise ValueError(f"{op}: a chunk of {n} bytes does not fit the kernel's int32 sizes")
    return n


def pad6(shape: Sequence[int]) -> list[int]:
    """``shape`` right-aligned into 6-D with leading 1s, as every kernel here takes it.

    Leading 1s change neither the element count nor the memory order, so one 6-D loop
    nest serves every rank. Raises ValueError for more than 6 dimensions.
    """
    if len(shape) > MAX_DIMS:
        raise ValueError(f"shape {[int(d) for d in shape]} has more than {MAX_DIMS} dimensions")
    return [int(d) for d in pad_shape6(shape)]


def normalize_axis(axis: int, rank: int) -> int:
    """``axis`` in ``[0, rank)``: TFLite accepts ``[-rank, rank)`` and counts negative
    axes from the end (CONCATENATION, SPLIT, SPLIT_V all resolve it the same way)."""
    axis, rank = int(axis), int(rank)
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank} "
                         f"(expected {-rank}..{rank - 1})")
    return axis + rank if axis < 0 else axis


# ---- PAD / PADV2 ------------------------------------------------------------------------

def resolve_pad(in_shape: Sequence[int], paddings: Sequence[Sequence[int]] | np.ndarray
                ) -> tuple[list[int], list[int], list[int], list[int]]:
    """``(in_shape6, pad_before6, pad_after6, out_shape)`` for ``utc_pad``.

    ``paddings`` is TFLite's ``[rank, 2]`` tensor of (before, after) pairs; ``out_shape`` is
    the TFLite output shape (rank unchanged). TFLite refuses negative paddings and inputs
    of more than 5 dimensions (PadKernelMaxDimensionCount), so those raise ValueError.
    """
    dims = _shape("PAD", in_shape, PAD_MAX_DIMS)
    pads = np.asarray(paddings)
    if pads.size != 2 * len(dims) or (pads.ndim == 2 and pads.shape[1] != 2) or pads.ndim > 2:
        raise ValueError(f"PAD: paddings of shape {list(pads.shape)} do not fit an input of rank "
                         f"{len(dims)} (expected [{len(dims)}, 2])")
    flat = _ints("PAD paddings", pads)
    before, after = flat[0::2], flat[1::2]
    if any(p < 0 for p in flat):
        raise ValueError(f"PAD: paddings {[list(p) for p in zip(before, after)]} contain a "
                         "negative value (TFLite pads only, it never crops)")
    out_shape = [d + b + a for d, b, a in zip(dims, before, after)]
    if any(d > _INT32_MAX for d in out_shape):
        raise ValueError(f"PAD: output shape {out_shape} does not fit int32")
    lead = [0] * (MAX_DIMS - len(dims))
    return pad6(dims), lead + before, lead + after, out_shape


# ---- CONCATENATION / SPLIT / SPLIT_V ----------------------------------------------------

def concat_params(in_shapes: Sequence[Sequence[int]], axis: int, elem_size: int
                  ) -> tuple[int, list[int], list[int]]:
    """``(outer, input_axis_bytes, out_shape)`` for ``utc_concatenation``.

    Seen from the axis, every tensor is ``outer`` rows (product of the dims before the
    axis, the same for every input) of one contiguous chunk each (its dims from the axis
    on, in bytes), so concatenation is ``outer`` times one memcpy per input. All inputs
    must have the same rank and agree on every dim but the axis; ``axis`` may be negative.
    """
    if not in_shapes:
        raise ValueError("CONCATENATION needs at least one input")
    shapes = [_shape("CONCATENATION", s) for s in in_shapes]
    rank = len(shapes[0])
    if rank == 0:
        raise ValueError("CONCATENATION: inputs must have rank >= 1, got a scalar")
    if any(len(s) != rank for s in shapes):
        raise ValueError(f"CONCATENATION: inputs {shapes} do not all have the same rank")
    axis = normalize_axis(axis, rank)
    for s in shapes[1:]:
        if s[:axis] != shapes[0][:axis] or s[axis + 1:] != shapes[0][axis + 1:]:
            raise ValueError(f"CONCATENATION: input shapes {shapes} differ outside axis {axis}")
    if elem_size <= 0:
        raise ValueError(f"CONCATENATION: element size must be positive, got {elem_size}")
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    outer = int(np.prod(shapes[0][:axis], dtype=np.int64))
    chunks = [_int32_bytes("CONCATENATION", int(np.prod(s[axis:], dtype=np.int64)) * elem_size)
              for s in shapes]
    return outer, chunks, out_shape


def split_sizes(dim: int, num_splits: int) -> list[int]:
    """Sizes along the axis of the outputs of SPLIT: ``num_splits`` equal parts.

    TFLite refuses a split that is not even ("Not an even split") and a non-positive
    number of splits.
    """
    dim, num_splits = int(dim), int(num_splits)
    if num_splits <= 0:
        raise ValueError(f"SPLIT: num_splits must be positive, got {num_splits}")
    if dim % num_splits:
        raise ValueError(f"SPLIT: dimension {dim} is not an even split into {num_splits} parts")
    return [dim // num_splits] * num_splits


def split_v_sizes(dim: int, size_splits: Sequence[int]) -> list[int]:
    """Sizes along the axis of the outputs of SPLIT_V, with the one ``-1`` entry TFLite
    allows replaced by what remains of ``dim``.

    Without a ``-1`` the sizes must add up to ``dim``; with one, the others must not exceed
    it. Any other negative size is meaningless (TFLite does not check it and would
    compute negative shapes), so it raises too.
    """
    dim = int(dim)
    sizes = _ints("SPLIT_V size_splits", size_splits)
    if not sizes:
        raise ValueError("SPLIT_V: size_splits is empty")
    if sizes.count(-1) > 1:
        raise ValueError(f"SPLIT_V: size_splits {sizes} contains more than one -1")
    if any(s < -1 for s in sizes):
        raise ValueError(f"SPLIT_V: size_splits {sizes} contains a negative size")
    known = sum(s for s in sizes if s != -1)
    if -1 in sizes:
        if known > dim:
            raise ValueError(f"SPLIT_V: size_splits {sizes} add up to more than the dimension "
                             f"value {dim}")
        return [dim - known if s == -1 else s for s in sizes]
    if known != dim:
        raise ValueError(f"SPLIT_V: size_splits {sizes} add up to {known}, not to the dimension "
                         f"value {dim}")
    return sizes


def split_params(in_shape: Sequence[int], axis: int, sizes: Sequence[int], elem_size: int
                 ) -> tuple[int, list[int], list[list[int]]]:
    """``(outer, output_axis_bytes, out_shapes)`` for ``utc_split`` (SPLIT and SPLIT_V):
    the inverse of `concat_params`, with ``sizes`` the outputs' sizes along the axis (from
    `split_sizes` or `split_v_sizes`)."""
    dims = _shape("SPLIT", in_shape)
    if not dims:
        raise ValueError("SPLIT: input must have rank >= 1, got a scalar")
    axis = normalize_axis(axis, len(dims))
    parts = _ints("SPLIT sizes", sizes)
    if not parts or any(s < 0 for s in parts) or sum(parts) != dims[axis]:
        raise ValueError(f"SPLIT: sizes {parts} do not split dimension {axis} of {dims}")
    if elem_size <= 0:
        raise ValueError(f"SPLIT: element size must be positive, got {elem_size}")
    out_shapes = [dims[:axis] + [s] + dims[axis + 1:] for s in parts]
    outer = int(np.prod(dims[:axis], dtype=np.int64))
    inner = int(np.prod(dims[axis + 1:], dtype=np.int64)) * elem_size
    return outer, [_int32_bytes("SPLIT", s * inner) for s in parts], out_shapes


# ---- TRANSPOSE --------------------------------------------------------------------------

def transpose_perm6(perm: Sequence[int]) -> list[int]:
    """The 6-D permutation ``utc_transpose`` takes for an n-D ``perm`` (output dim k =
    input dim perm[k]): the leading padding dims stay in place and the tensor's own dims
    are shifted by ``6 - n``. TFLite refuses anything but a permutation of ``0..n-1``
    ("Transpose op permutations array is out of bounds")."""
    p = _ints("TRANSPOSE perm", perm)
    if len(p) > MAX_DIMS:
        raise ValueError(f"TRANSPOSE: perm {p} has more than {MAX_DIMS} entries")
    if sorted(p) != list(range(len(p))):
        raise ValueError(f"TRANSPOSE: perm {p} is not a permutation of 0..{len(p) - 1}")
    lead = MAX_DIMS - len(p)
    return list(range(lead)) + [d + lead for d in p]


# ---- STRIDED_SLICE ----------------------------------------------------------------------

def _bit(mask: int, axis: int) -> bool:
    return bool((int(mask) >> axis) & 1)


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v


def _count(start: int, stop: int, stride: int) -> int:
    """Number of indices start, start + stride, ... strictly before stop (in the direction
    of stride): what the reference kernel's loop visits, exactly (TFLM's Prepare computes
    the same with a float ceil)."""
    if stride > 0:
        return (stop - start + stride - 1) // stride if stop > start else 0
    return (start - stop - stride - 1) // -stride if start > stop else 0


def _offset_dim(size: int, stride: int) -> int:
    """LiteRT's output dim for ``offset=True``, computed from the raw size (``end``)."""
    if (size < 0) != (stride < 0):
        return 0
    if stride < 0:
        return (-(size + 1)) // -stride + 1
    return 0 if size == 0 else (size - 1) // stride + 1


def resolve_strided_slice(in_shape: Sequence[int], begin: Sequence[int], end: Sequence[int],
                          strides: Sequence[int], begin_mask: int = 0, end_mask: int = 0,
                          ellipsis_mask: int = 0, new_axis_mask: int = 0,
                          shrink_axis_mask: int = 0, offset: bool = False
                          ) -> tuple[list[int], list[int], list[int], list[int]]:
    """``(begin6, strides6, out_shape6, tflite_output_shape)`` for ``utc_strided_slice``.

    Reproduces TFLite's StridedSlice index resolution (strided_slice_logic.h,
    StridedSliceStartForAxis / StridedSliceEndForAxis): a negative begin or end counts
    from the end of its axis; begin is then clamped to ``[0, n]`` (``[-1, n-1]`` for a
    negative stride) and replaced by the first (last) element when its ``begin_mask`` bit
    is set; end likewise, with ``end_mask`` selecting everything up to the end (down to the
    start). A ``shrink_axis_mask`` axis takes the one element at begin and disappears from
    the output. ``offset=True`` (STRIDED_SLICE version 5+) reads ``end`` as a size:
    end = begin + end.

    ``begin6`` holds the resolved first index of each axis, ``out_shape6`` the element
    count along each axis (1 on shrunk axes), ``tflite_output_shape`` the output tensor's
    shape (shrunk axes removed). When an output dim is 0 the output is empty and begin6
    need not be a valid index.

    Raises ValueError for what TFLite refuses (zero stride, begin/end/strides not one per
    input dim) and for what TFLite Micro would not compute as TFLite does:
    ``ellipsis_mask`` and ``new_axis_mask`` (TFLM ignores both), a shrunk axis whose index
    is out of range or whose stride is negative (TFLM writes no element there), and an
    ``offset`` slice that runs out of the input (the declared output would be partly
    unwritten).
    """
    dims = _shape("STRIDED_SLICE", in_shape)
    rank = len(dims)
    if rank == 0:
        raise ValueError("STRIDED_SLICE: input must have rank >= 1, got a scalar")
    b = _ints("STRIDED_SLICE begin", begin)
    e = _ints("STRIDED_SLICE end", end)
    s = _ints("STRIDED_SLICE strides", strides)
    if not len(b) == len(e) == len(s) == rank:
        raise ValueError(f"STRIDED_SLICE: begin {b}, end {e} and strides {s} must have one "
                         f"entry per input dimension ({rank})")
    if int(ellipsis_mask):
        raise ValueError(f"STRIDED_SLICE: ellipsis_mask={int(ellipsis_mask)} is not supported "
                         "(TFLite Micro ignores it)")
    if int(new_axis_mask):
        raise ValueError(f"STRIDED_SLICE: new_axis_mask={int(new_axis_mask)} is not supported "
                         "(TFLite Micro ignores it)")

    starts, counts, out_shape = [], [], []
    for k, (n, stride) in enumerate(zip(dims, s)):
        if stride == 0:
            raise ValueError(f"STRIDED_SLICE: stride of axis {k} is 0 (it has to be non-zero)")
        start = b[k] + n if b[k] < 0 else b[k]
        start = _clamp(start, 0, n) if stride > 0 else _clamp(start, -1, n - 1)
        if _bit(begin_mask, k):
            start = 0 if stride > 0 else n - 1
        if _bit(shrink_axis_mask, k):
            if stride < 0:
                raise ValueError(f"STRIDED_SLICE: shrunk axis {k} has negative stride {stride} "
                                 "(TFLite Micro would write no element)")
            index = b[k] + n if b[k] < 0 else b[k]
            if n == 0 or (not _bit(begin_mask, k) and not 0 <= index < n):
                raise ValueError(f"STRIDED_SLICE: index {b[k]} of shrunk axis {k} is out of "
                                 f"range for a dimension of size {n}")
            starts.append(start)
            counts.append(1)
            continue
        stop = e[k] + start if offset else e[k]
        if stop < 0:
            stop += n
        stop = _clamp(stop, 0, n) if stride > 0 else _clamp(stop, -1, n - 1)
        if _bit(end_mask, k):
            stop = n if stride > 0 else -1
        count = _count(start, stop, stride)
        if offset and count != _offset_dim(e[k], stride):
            raise ValueError(f"STRIDED_SLICE: offset slice of axis {k} (size {e[k]} from begin "
                             f"{b[k]}, stride {stride}) runs out of a dimension of size {n}")
        starts.append(start)
        counts.append(count)
        out_shape.append(count)
    lead = MAX_DIMS - rank
    return [0] * lead + starts, [1] * lead + s, pad6(counts), out_shape
