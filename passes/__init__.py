"""utc's passes, one module per pass (`fuse_activation.py` is `fuse-activation`).
Importing this package registers them all."""

from . import (
    bufferize,
    canonicalize,
    concat_in_place,
    fold_pad,
    fold_zero_point,
    fuse_activation,
    inplace,
    lower_to_qnn,
    overlap_buffers,
    plan_memory,
    reorder_for_memory,
    scratch_in_holes,
    select_kernels,
    tensor_to_fused,
)

__all__ = [
    "bufferize", "canonicalize", "concat_in_place", "fold_pad", "fold_zero_point",
    "fuse_activation", "inplace", "lower_to_qnn", "overlap_buffers", "plan_memory",
    "reorder_for_memory", "scratch_in_holes", "select_kernels", "tensor_to_fused",
]
