"""The processors utc compiles for, as the kernels see them: the ISA features a kernel's
speed, scratch size and availability depend on.

CMSIS-NN picks its code path from the compiler's feature macros (`ARM_MATH_DSP` from
`__ARM_FEATURE_DSP`, `ARM_MATH_MVEI` from `__ARM_FEATURE_MVE`), and its scratch sizes
follow that path (`*_get_buffer_size_dsp` / `_mve`). utc plans memory on the build
machine, so it must know the target's features instead of asking the host's build of the
library: that is this table. How to build and run for a target (compiler flags, QEMU
board) lives with the code that does it (`codegen/targets.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A processor the generated code is for and the features its kernels may use."""

    name: str
    dsp: bool = False  # the DSP extension (SMLAD...): CMSIS-NN's ARM_MATH_DSP path
    mve: bool = False  # Helium (M-profile vector extension): CMSIS-NN's ARM_MATH_MVEI path
    fpu: bool = False  # single-precision floating point in hardware
    summary: str = ""
    #: arm-none-eabi-gcc flags that select the processor (and with it the features above);
    #: empty for the host
    cpu_flags: tuple[str, ...] = ()

    @property
    def cmsis_path(self) -> str:
        """Which CMSIS-NN code path this target compiles to: "mve", "dsp" or "generic"."""
        return "mve" if self.mve else "dsp" if self.dsp else "generic"


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("host", summary="the build machine (CMSIS-NN's portable C path)"),
    Target("cortex-m0", summary="Armv6-M: no DSP, no FPU",
           cpu_flags=("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft")),
    Target("cortex-m3", summary="Armv7-M: no DSP, no FPU",
           cpu_flags=("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft")),
    Target("cortex-m4", dsp=True, fpu=True, summary="Armv7E-M: DSP, single-precision FPU",
           cpu_flags=("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")),
    Target("cortex-m7", dsp=True, fpu=True, summary="Armv7E-M: DSP, double-precision FPU",
           cpu_flags=("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16")),
    Target("cortex-m33", dsp=True, fpu=True, summary="Armv8-M Mainline: DSP, FPU",
           cpu_flags=("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16")),
    Target("cortex-m55", dsp=True, mve=True, fpu=True,
           summary="Armv8.1-M: Helium (MVE), DSP, FPU",
           cpu_flags=("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard")),
)}

HOST = TARGETS["host"]


def target(name: str) -> Target:
    """The target called `name`; ValueError naming the choices otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown target '{name}' (targets: {', '.join(TARGETS)})") from None
