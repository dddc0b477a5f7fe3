"""The kernel table: which runtime kernel implements which op, for which dtype, under
which constraints, with how much scratch memory, and which template renders its call.

Adding a kernel is one `Kernel(...)` row here, its C++ files in `runtime/` and a macro in
the family's template under `codegen/templates/kernels/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from utc.compiler.ir import Operation, is_quantized
from utc.dialects import func, fused, qnn, tensor


@dataclass(frozen=True)
class Kernel:
    name: str  # the C function the generated code calls
    op: type[Operation] | tuple[type[Operation], ...]
    dtype: str  # "int8" or "float32": the op's output element type
    files: tuple[str, ...]  # runtime files (headers and sources) to copy into out/
    family: str  # template file codegen/templates/kernels/<family>.j2
    summary: str
    constraint: Callable[[Operation], str | None] = lambda op: None  # why not applicable
    scratch: Callable[[Operation], int] = lambda op: 0


def needs_kernel(op: Operation) -> bool:
    """Ops that become kernel calls (constants, reshapes and returns do not)."""
    return not isinstance(op, tensor.ConstantOp | tensor.ReshapeOp | func.FuncOp | func.ReturnOp)


def op_dtype(op: Operation) -> str:
    element = op.result_values[0].type.element
    if is_quantized(element):
        return "int8"
    return {"f32": "float32", "i8": "int8", "i32": "int32"}.get(str(element), str(element))


def _pair(family: str, dtype: str) -> tuple[str, ...]:
    return (f"utc_{family}_{dtype}.h", f"utc_{family}_{dtype}.cpp")


_S8 = ("utc_quant.h",)

KERNELS: list[Kernel] = [
    Kernel("utc_fully_connected_s8", qnn.FullyConnectedOp, "int8",
           _S8 + _pair("fully_connected", "s8"), "fully_connected",
           "int8 fully connected, per-tensor or per-channel requantization"),
    Kernel("utc_fully_connected_f32", fused.FullyConnectedOp, "float32",
           _pair("fully_connected", "f32"), "fully_connected", "float32 fully connected"),
]
