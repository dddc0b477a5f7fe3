"""`select-kernels`: bind every compute op to a kernel from the kernel table.

The table (`runtime/kernels.py`) lists, per op class and dtype, the kernels that can run
it, with their constraints and scratch-buffer sizes; the first applicable row wins. The
choice and the scratch size are recorded on the op (`kernel`, `scratch`), so the
decision is visible in the IR and can be overridden by a later pass or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import Module
from utc.compiler.pass_manager import Pass, register_pass
from utc.runtime.kernels import KERNELS, needs_kernel, op_dtype


@register_pass
@dataclass(frozen=True)
class SelectKernels(Pass):
    """Choose a kernel (and its scratch size) for every compute op."""

    name = "select-kernels"
    backend: str = "reference"

    def __post_init__(self) -> None:
        if self.backend not in ("reference",):
            raise ValueError(f"unknown kernel backend '{self.backend}' (available: reference)")

    def run(self, module: Module) -> None:
        for op in module.walk():
            if not needs_kernel(op) or "kernel" in op.attrs:
                continue
            reasons = []
            for kernel in KERNELS:
                if not isinstance(op, kernel.op) or kernel.dtype not in (op_dtype(op), "any"):
                    continue
                reason = kernel.constraint(op)
                if reason:
                    reasons.append(f"{kernel.name}: {reason}")
                    continue
                op.attrs["kernel"] = kernel.name
                scratch = kernel.scratch(op)
                if scratch:
                    op.attrs["scratch"] = scratch
                break
            else:
                why = "; ".join(reasons) if reasons else f"no {op_dtype(op)} kernel implements it"
                raise CompileError(f"{self.name}: no kernel for {op.where()} ({why})")
