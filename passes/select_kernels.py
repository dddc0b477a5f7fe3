"""`select-kernels`: bind every compute op to a kernel from the kernel table.

The table (`runtime/kernels.py`) lists, per op class and dtype, the kernels that can run
it, with their constraints and scratch sizes for the target. Which library is preferred
is the `kernels` option:

- `reference`: utc's own kernels only;
- `cmsis-nn`: CMSIS-NN's kernel wherever its constraints hold on the target, utc's
  elsewhere (float32, ops CMSIS-NN lacks, shapes its functions refuse);
- `auto`: `cmsis-nn` on Cortex-M targets, where CMSIS-NN's DSP and Helium paths are what
  makes it fast, except where a utc kernel's record says it is faster on that target
  (`Kernel.faster`, measured per layer on QEMU); `reference` on the host, where CMSIS-NN
  runs its portable C path and utc's kernels are the faster ones.

Among the preferred library's kernels the first applicable row wins; then the other
library's. The choice and the scratch size are recorded on the op (`kernel`, `scratch`),
and when a preferred kernel was passed over, why (`kernel_note`: "arm_convolve_s8:
dilation 2 is not supported"), so the decision is visible in the IR and the report and
can be overridden by a later pass or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import Module, Operation
from utc.compiler.pass_manager import Pass, register_pass
from utc.runtime.kernels import KERNELS, Kernel, needs_kernel, op_dtype
from utc.runtime.targets import TARGETS, Target

CHOICES = ("auto", "cmsis-nn", "reference")


def preferred_libraries(kernels: str, target: Target) -> tuple[str, ...]:
    """The libraries to try, in order, for a `kernels` choice on `target`."""
    if kernels == "reference" or (kernels == "auto" and target.name == "host"):
        return ("utc",)
    return ("cmsis-nn", "utc")


def candidates(op: Operation, library: str) -> list[Kernel]:
    return [k for k in KERNELS if k.library == library and isinstance(op, k.op)
            and k.dtype in (op_dtype(op), "any")]


@register_pass
@dataclass(frozen=True)
class SelectKernels(Pass):
    """Choose a kernel (and its scratch size) for every compute op."""

    name = "select-kernels"
    kernels: str = "reference"
    target: str = "host"
    #: TFLite operator indices (";"-separated) whose utc kernel shares memory (in place,
    #: overlapping output): the preferred library's kernel must share it too, else utc's
    #: stays. The driver's `auto` choice fills it in, and `force_reference` with ops that
    #: must keep utc's kernel anyway (a CMSIS-NN scratch buffer at the arena's peak).
    keep_reference: str = ""
    force_reference: str = ""

    def __post_init__(self) -> None:
        if self.kernels not in CHOICES:
            raise ValueError(f"unknown kernels '{self.kernels}' (choices: {', '.join(CHOICES)})")
        if self.target not in TARGETS:
            raise ValueError(f"unknown target '{self.target}' (targets: {', '.join(TARGETS)})")

    def run(self, module: Module) -> None:
        target = TARGETS[self.target]
        preferred = preferred_libraries(self.kernels, target)
        keep = {int(i) for i in self.keep_reference.split(";") if i.strip()}
        force = {int(i) for i in self.force_reference.split(";") if i.strip()}
        for op in module.walk():
            if not needs_kernel(op) or op.kernel is not None:
                continue
            shares = op_index(op) in keep and len(preferred) > 1
            passed_over: list[str] = []  # why each earlier library's kernels did not fit
            chosen = None
            libraries = ("utc",) if op_index(op) in force else preferred
            if libraries != preferred:
                would = next((k.name for k in candidates(op, preferred[0])
                              if not k.constraint(op, target)), None)
                passed_over.append(f"{preferred[0]}: {would + chr(39) + 's' if would else 'its'} "
                                   "scratch buffer would raise the arena above the reference "
                                   "kernels' at this step")
            elif self.kernels == "auto" and len(preferred) > 1:
                chosen = next((k for k in candidates(op, "utc")
                               if not k.constraint(op, target) and k.faster(op, target)), None)
                if chosen is not None:
                    passed_over.append(f"{preferred[0]}: {chosen.name} is faster on "
                                       f"{target.name} (measured)")
            for library in (libraries if chosen is None else ()):
                reasons = []
                for kernel in candidates(op, library):
                    reason = kernel.constraint(op, target)
                    if not reason and shares and library != "utc" \
                            and not shares_like_reference(kernel, op, target):
                        reason = ("cannot share memory the way utc's kernel does here (in "
                                  "place or overlapping its input), which keeps the arena at "
                                  "the reference size")
                    if not reason:
                        chosen = kernel
                        break
                    reasons.append(f"{kernel.name}: {reason}")
                if chosen is not None:
                    break
                passed_over += reasons
            if chosen is None:
                why = ("; ".join(passed_over) if passed_over
                       else f"no {op_dtype(op)} kernel implements it")
                raise CompileError(f"{self.name}: no kernel for {op.where()} ({why})")
            op.kernel = chosen.name
            for key in chosen.unused(target):
                op.attrs.pop(key, None)
            scratch = chosen.scratch(op, target)
            if scratch:
                op.scratch = scratch
            if passed_over:
                op.kernel_note = "; ".join(passed_over)


def shares_like_reference(kernel: Kernel, op: Operation, target: Target) -> bool:
    """Whether `kernel` allows every kind of memory sharing utc's own kernel for the op
    allows (in place over the same inputs, an overlapping output, channel-wise or in
    reverse order)."""
    for reference in candidates(op, "utc"):
        if not reference.constraint(op, target):
            return all(getattr(kernel, flag) or not getattr(reference, flag)
                       for flag in ("overlap", "overlap_channelwise", "overlap_reverse")) \
                and set(reference.in_place) <= set(kernel.in_place)
    return True


def op_index(op: Operation) -> int | None:
    """The TFLite operator index an op came from (its location's first source)."""
    loc = op.location
    return int(loc.sources[0][0]) if loc is not None and loc.sources else None
