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
    name: str
    dsp: bool = False  # the DSP extension (SMLAD...): CMSIS-NN's ARM_MATH_DSP path
    mve: bool = False  # Helium (M-profile vector extension): CMSIS-NN's ARM_MATH_MVEI path
    fpu: bool = False  # single-precision floating point in hardware
    summary: str = ""

    @property
    def cmsis_path(self) -> str:
        """Which CMSIS-NN code path this target compiles to: "mve", "dsp" or "generic"."""
        return "mve" if self.mve else "dsp" if self.dsp else "generic"


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("host", summary="the build machine (CMSIS-NN's portable C path)"),
    Target("cortex-m0", summary="Armv6-M: no DSP, no FPU"),
    Target("cortex-m3", summary="Armv7-M: no DSP, no FPU"),
    Target("cortex-m4", dsp=True, fpu=True, summary="Armv7E-M: DSP, single-precision FPU"),
    Target("cortex-m7", dsp=True, fpu=True, summary="Armv7E-M: DSP, FPU"),
    Target("cortex-m33", dsp=True, fpu=True, summary="Armv8-M Mainline: DSP, FPU"),
    Target("cortex-m55", dsp=True, mve=True, fpu=True,
           summary="Armv8.1-M: Helium (MVE), DSP, FPU"),
)}

HOST = TARGETS["host"]


def target(name: str) -> Target:
    """The target called `name`; ValueError naming the choices otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown target '{name}' (targets: {', '.join(TARGETS)})") from None
