"""TFLite's pure data-movement operators written as views and one transpose.

SPACE_TO_DEPTH, DEPTH_TO_SPACE, PACK and UNPACK only move elements; each is exactly a
reshape (a view: no copy) around a TRANSPOSE, CONCATENATION or SPLIT that utc already
compiles and checks. RESIZE_NEAREST_NEIGHBOR and MIRROR_PAD copy elements picked along
each axis by indices known at compile time: one GATHER with constant indices per axis.
The importer lowers them with the plans computed here, so the IR shows what moves where
and no new kernel is needed.

Facts from TFLite Micro (`space_to_depth.cc`, `depth_to_space.cc`, `pack.cc`,
`unpack.cc` and the reference kernels they call):

- SPACE_TO_DEPTH (NHWC, block b): output[n, h, w, (bh * b + bw) * C + c] =
  input[n, h * b + bh, w * b + bw, c]. int8 and float32; rank 4; H and W divisible by b.
- DEPTH_TO_SPACE (NHWC, "DCR" order): output[n, h * b + bh, w * b + bw, c] =
  input[n, h, w, (bh * b + bw) * C' + c]. int8 and float32; rank 4.
- PACK stacks N same-shaped tensors along a new axis (negative axes count from the
  output's rank); UNPACK cuts one along an axis into its slices, dropping that axis.
  int8, int16 and float32 (also int32/int64, which utc does not compile as activations).
  Both copy raw values, so the quantization must be the same on every tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockPlan:
    """reshape(input, `split`) -> transpose(`perm`) -> reshape(output)."""

    split: tuple[int, ...]
    perm: tuple[int, ...]
    transposed: tuple[int, ...]
    output: tuple[int, ...]


#: swapping the block rows with the image columns: [N, A, b, B, b', C] <-> [N, A, B, b, b', C]
_BLOCK_PERM = (0, 1, 3, 2, 4, 5)


def space_to_depth_plan(shape: tuple[int, ...], block: int) -> BlockPlan:
    """The reshape/transpose/reshape that is SPACE_TO_DEPTH of an NHWC `shape`.

    [N, H, W, C] -> [N, H/b, b, W/b, b, C] -> [N, H/b, W/b, b, b, C] -> [N, H/b, W/b, b*b*C]:
    the flattened last three dimensions are (bh * b + bw) * C + c, TFLite's depth order."""
    if len(shape) != 4:
        raise ValueError(f"the input must have rank 4 (NHWC), got shape {list(shape)}")
    if block < 1:
        raise ValueError(f"block_size must be positive, got {block}")
    n, h, w, c = shape
    if h % block or w % block:
        raise ValueError(f"height {h} and width {w} must be multiples of block_size {block}")
    split = (n, h // block, block, w // block, block, c)
    transposed = tuple(split[p] for p in _BLOCK_PERM)
    return BlockPlan(split, _BLOCK_PERM, transposed, (n, h // block, w // block, block * block * c))


def depth_to_space_plan(shape: tuple[int, ...], block: int) -> BlockPlan:
    """The reshape/transpose/reshape that is DEPTH_TO_SPACE (DCR order) of an NHWC `shape`.

    [N, H, W, b*b*C] -> [N, H, W, b, b, C] -> [N, H, b, W, b, C] -> [N, H*b, W*b, C]."""
    if len(shape) != 4:
        raise ValueError(f"the input must have rank 4 (NHWC), got shape {list(shape)}")
    if block < 1:
        raise ValueError(f"block_size must be positive, got {block}")
    n, h, w, c = shape
    if c % (block * block):
        raise ValueError(f"depth {c} must be a multiple of block_size^2 = {block * block}")
    depth = c // (block * block)
    split = (n, h, w, block, block, depth)
    transposed = tuple(split[p] for p in _BLOCK_PERM)
    return BlockPlan(split, _BLOCK_PERM, transposed, (n, h * block, w * block, depth))


def pack_axis(axis: int, input_rank: int) -> int:
    """PACK's axis resolved against the output's rank (input rank + 1), as TFLite does."""
    rank = input_rank + 1
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for an output of rank {rank}")
    return axis + rank if axis < 0 else axis


def unpack_axis(axis: int, input_rank: int) -> int:
    """UNPACK's axis resolved against the input's rank."""
    if not -input_rank <= axis < input_rank:
        raise ValueError(f"axis {axis} is out of range for rank {input_rank}")
    return axis + input_rank if axis < 0 else axis


def insert_axis(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """`shape` with a size-1 dimension at `axis` (a packed slice, an unpacked part)."""
    return (*shape[:axis], 1, *shape[axis:])


def nearest_sources(in_size: int, out_size: int, align_corners: bool,
                    half_pixel_centers: bool) -> list[int]:
    """The input row (or column) each output row reads in RESIZE_NEAREST_NEIGHBOR, computed
    in float32 as TFLite Micro's reference kernel does: scale = in / out (with
    align_corners and out > 1: (in - 1) / (out - 1)), source = (i + 0.5 if
    half_pixel_centers) * scale, floored (rounded half away from zero with align_corners),
    capped at in - 1 and, with half_pixel_centers, at 0 from below."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    out = []
    for i in range(out_size):
        v = (f32(i) + offset) * scale
        if align_corners:  # std::round on the float32 value: exact in double
            src = int(math.copysign(math.floor(abs(float(v)) + 0.5), float(v)))
        else:
            src = int(math.floor(float(v)))
        src = min(src, in_size - 1)
        out.append(max(src, 0) if half_pixel_centers else src)
    return out


def mirror_sources(size: int, before: int, after: int, reflect: bool) -> list[int]:
    """The input index each output position reads along one dimension of MIRROR_PAD
    (TFLite Micro's GetInputDimension): the input itself in the middle, mirrored at each
    edge, REFLECT leaving the edge element out (x2 x1 | x0 x1 x2 | x1 x0), SYMMETRIC
    repeating it (x1 x0 | x0 x1 x2 | x2 x1). A pad wider than the mirrored part (size - 1
    for REFLECT, size for SYMMETRIC) would read outside the input there: refused."""
    offset = 1 if reflect else 0
    limit = size - offset
    if before < 0 or after < 0 or before > limit or after > limit:
        mode = "REFLECT" if reflect else "SYMMETRIC"
        raise ValueError(f"{mode} paddings ({before}, {after}) of a dimension of size {size} "
                         f"must be in [0, {limit}]")
    left = [before - 1 + offset - p for p in range(before)]
    right = [size - 1 - offset - q for q in range(after)]
    return left + list(range(size)) + right


@dataclass(frozen=True)
class BatchSpacePlan:
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND on a 4-D NHWC view of the input (a 3-D NHC
    input is viewed as NH1C, as TFLite Micro extends it): `pads` on the 4-D view before
    the block reshape (space to batch), reshape(`split`) -> transpose(`perm`) ->
    reshape(`joined`), then a crop starting at `crop_begin` with shape `output4`
    (batch to space); `output` is the result in the input's rank."""

    input4: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    split: tuple[int, ...]
    perm: tuple[int, ...]
    transposed: tuple[int, ...]
    joined: tuple[int, ...]
    crop_begin: tuple[int, ...]
    output4: tuple[int, ...]
    output: tuple[int, ...]


def _to_4d(shape: tuple[int, ...], block: list[int],
           pairs: list[list[int]]) -> tuple[tuple[int, ...], list[int], list[list[int]]]:
    if len(shape) not in (3, 4):
        raise ValueError(f"the input must have rank 3 or 4, got shape {list(shape)}")
    spatial = len(shape) - 2
    if len(block) != spatial or len(pairs) != spatial or any(len(p) != 2 for p in pairs):
        raise ValueError(f"a rank-{len(shape)} input needs {spatial} block sizes and "
                         f"[{spatial}, 2] paddings/crops, got {block} and {pairs}")
    if any(b < 1 for b in block):
        raise ValueError(f"block sizes must be positive, got {block}")
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"paddings/crops must be >= 0, got {pairs}")
    if len(shape) == 3:
        return (shape[0], shape[1], 1, shape[2]), block + [1], pairs + [[0, 0]]
    return tuple(shape), list(block), [list(p) for p in pairs]


def space_to_batch_plan(shape: tuple[int, ...], block: list[int],
                        paddings: list[list[int]]) -> BatchSpacePlan:
    """SPACE_TO_BATCH_ND: pad H and W, then [N, Hp/bh, bh, Wp/bw, bw, C] ->
    [bh, bw, N, Hp/bh, Wp/bw, C] -> [bh*bw*N, Hp/bh, Wp/bw, C] (output batch
    (sh * bw + sw) * N + n, TFLite's order)."""
    x4, (bh, bw), pads = _to_4d(tuple(shape), list(block), [list(p) for p in paddings])
    n, h, w, c = x4
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    if hp % bh or wp % bw:
        raise ValueError(f"padded spatial size [{hp}, {wp}] is not a multiple of the block "
                         f"[{bh}, {bw}]")
    split = (n, hp // bh, bh, wp // bw, bw, c)
    perm = (2, 4, 0, 1, 3, 5)
    transposed = tuple(split[p] for p in perm)
    joined = (bh * bw * n, hp // bh, wp // bw, c)
    out = joined if len(shape) == 4 else (joined[0], joined[1], joined[3])
    return BatchSpacePlan(x4, ((0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)), split, perm,
                          transposed, joined, (0, 0, 0, 0), joined, out)


def batch_to_space_plan(shape: tuple[int, ...], block: list[int],
                        crops: list[list[int]]) -> BatchSpacePlan:
    """BATCH_TO_SPACE_ND: [bh, bw, N, H, W, C] -> [N, H, bh, W, bw, C] ->
    [N, H*bh, W*bw, C], then the crop [top, left] .. [H*bh - bottom, W*bw - right]."""
    x4, (bh, bw), cr = _to_4d(tuple(shape), list(block), [list(p) for p in crops])
    b, h, w, c = x4
    if b % (bh * bw):
        raise ValueError(f"batch {b} is not a multiple of the block size product {bh * bw}")
    n = b // (bh * bw)
    split = (bh, bw, n, h, w, c)
    perm = (2, 3, 0, 4, 1, 5)
    transposed = tuple(split[p] for p in perm)
    joined = (n, h * bh, w * bw, c)
    out4 = (n, h * bh - sum(cr[0]), w * bw - sum(cr[1]), c)
    if out4[1] <= 0 or out4[2] <= 0:
        raise ValueError(f"crops {crops} remove the whole {list(joined[1:3])} image")
    out = out4 if len(shape) == 4 else (out4[0], out4[1], out4[3])
    return BatchSpacePlan(x4, ((0, 0),) * 4, split, perm, transposed, joined,
                          (0, cr[0][0], cr[1][0], 0), out4, out)


def gather_nd_plan(params_shape: tuple[int, ...],
                   indices: np.ndarray) -> tuple[tuple[int, ...], np.ndarray, tuple[int, ...]]:
    """GATHER_ND with constant `indices` as one GATHER on axis 0 of a view: the first K
    params dimensions (K = indices.shape[-1]) flattened into one, each index tuple turned
    into its row-major position there (TFLite Micro's `from_pos`, in slices). Returns the
    view's shape, the int32 flat indices (shaped indices.shape[:-1]) and the output shape
    indices.shape[:-1] + params_shape[K:]."""
    shape = tuple(int(d) for d in params_shape)
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim < 1:
        raise ValueError("indices must be at least a vector")
    k = idx.shape[-1]
    if not 1 <= k <= min(len(shape), 5):
        raise ValueError(f"the index depth {k} must be between 1 and min(params rank "
                         f"{len(shape)}, 5)")
    lead = shape[:k]
    if ((idx < 0) | (idx >= np.array(lead))).any():
        raise ValueError(f"an index lies outside params dimensions {list(lead)} (TFLite "
                         "Micro fails on it)")
    flat = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), lead) if idx.size else \
        np.zeros(idx.shape[:-1], np.int64)
    return ((math.prod(lead),) + shape[k:], np.asarray(flat, np.int32).reshape(idx.shape[:-1]),
            tuple(idx.shape[:-1]) + shape[k:])
