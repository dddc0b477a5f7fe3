"""utc's dialects. Importing this package registers every op with the IR parser."""

from . import buf, func, fused, qnn, signal, state, tensor

__all__ = ["buf", "fused", "func", "qnn", "signal", "state", "tensor"]
