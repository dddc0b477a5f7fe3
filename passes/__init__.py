"""utc's passes, one module per pass (`fuse_activation.py` is `fuse-activation`).

Importing this package imports none of them: the driver declares `PASS_NAMES` to the
pass registry, which imports a pass's module the first time a pipeline names it (most
of a small model's compile time used to be importing every pass up front).
"""

#: Every builtin pass, by name; its module is the name with `_` for `-`.
PASS_NAMES = (
    "bufferize", "canonicalize", "concat-in-place", "fold-pad", "fold-zero-point",
    "fuse-activation", "inplace", "lower-to-qnn", "overlap-buffers", "plan-memory",
    "reorder-for-memory", "scratch-in-holes", "select-kernels", "tensor-to-fused",
)


def module_of(name: str) -> str:
    """The module that registers builtin pass `name`."""
    return f"{__name__}.{name.replace('-', '_')}"
