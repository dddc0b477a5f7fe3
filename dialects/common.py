"""Vocabulary shared by several dialects: activation names, padding modes, type checks."""

from __future__ import annotations

from utc.compiler.ir import Operation, TensorType

#: Fused activation functions, with TFLite's meaning.
ACTIVATIONS = ("none", "relu", "relu_n1_to_1", "relu6", "tanh")
PADDINGS = ("SAME", "VALID")


def check_activation(op: Operation, key: str = "act") -> None:
    if op.attrs[key] not in ACTIVATIONS:
        raise op.error(f"unknown activation '{op.attrs[key]}' (expected one of {ACTIVATIONS})")


def check_pair(op: Operation, key: str, minimum: int = 1) -> None:
    value = op.attrs[key]
    if len(value) != 2 or any(not isinstance(v, int) or v < minimum for v in value):
        raise op.error(f"'{key}' must be two integers >= {minimum}, got {list(value)}")


def check_rank(op: Operation, field: str, *ranks: int) -> None:
    value = op.operand(field)
    if value is None:
        return
    if not isinstance(value.type, TensorType) or value.type.rank not in ranks:
        raise op.error(f"operand '{field}' must be a tensor of rank {ranks}, got {value.type}")


def same_element(op: Operation, *fields: str) -> None:
    """Element types (incl. quantization) of these operands/the result must be equal."""
    types = [op.operand(f).type.element for f in fields if op.operand(f) is not None]
    types.append(op.result.type.element)
    if any(t != types[0] for t in types):
        raise op.error(f"element types must match: {', '.join(str(t) for t in types)}")


#: Attributes `select-kernels` adds to any op it assigns a kernel to.
KERNEL_ATTRS = {"kernel": str, "scratch": int}


def check_pads(op: Operation, key: str = "pad") -> None:
    value = op.attrs[key]
    if len(value) != 4 or any(not isinstance(v, int) or v < 0 for v in value):
        raise op.error(f"'{key}' must be [top, bottom, left, right] >= 0, got {list(value)}")
