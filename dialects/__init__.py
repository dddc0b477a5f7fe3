"""utc's dialects. Importing this package registers every op with the IR parser."""

from . import buf, func, fused, qnn, state, tensor

__all__ = ["buf", "fused", "func", "qnn", "state", "tensor"]
