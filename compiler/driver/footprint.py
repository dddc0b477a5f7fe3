"""Code size and stack of a compiled model, measured (the report's `code` and `stack`).

The numbers come from the same path as `benchmarks/cortex_m.py` and `utc run --target`:
the generated folder is cross-compiled with arm-none-eabi-gcc at -Os everywhere, with
-ffunction-sections and --gc-sections, into the test firmware (codegen/cortex_m.py); code
bytes are the .text and .rodata that the generated code, utc's kernels and CMSIS-NN put
into the image, from the linker map (weights, C library, start-up and the test main not
counted); stack is what one inference used below main, measured by running the firmware
on the target's QEMU board (the start-up code paints the stack). Nothing is estimated: on
the host target, or without the cross compiler or QEMU, the figure is "not measured" with
the reason.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from utc.compiler.driver import Compilation, emit_into
from utc.compiler.errors import UtcError, printable


@dataclass(frozen=True)
class Footprint:
    """What the model's code costs on the target; None where not measured (`note` says
    why), else how it was measured."""

    text_bytes: int | None = None
    rodata_bytes: int | None = None
    stack_bytes: int | None = None
    code_note: str = ""
    stack_note: str = ""

    @property
    def code_bytes(self) -> int | None:
        if self.text_bytes is None or self.rodata_bytes is None:
            return None
        return self.text_bytes + self.rodata_bytes


def measure_footprint(comp: Compilation) -> Footprint:
    """Build `comp` for its Cortex-M target and run it once; see the module docstring.
    A report never fails a compile: any failure is a "not measured" note."""
    from utc.codegen.targets import TARGETS

    target = TARGETS[comp.target]
    if not target.cpu_flags:
        note = ("not measured (host target: compile with a Cortex-M --target to measure with "
                "arm-none-eabi-gcc)")
        return Footprint(code_note=note, stack_note=note)
    if shutil.which("arm-none-eabi-g++") is None or shutil.which("arm-none-eabi-gcc") is None:
        note = "not measured (no cross compiler: install gcc-arm-none-eabi)"
        return Footprint(code_note=note, stack_note=note)
    if target.board is None:
        note = f"not measured (no QEMU board runs {comp.target}: {target.no_board})"
        return Footprint(code_note=note, stack_note=note)
    import numpy as np
    from utc.codegen import cortex_m
    from utc.compiler.driver.model_io import io_specs

    ins, outs = io_specs(comp.module)
    spec = [[{"bytes": int(np.prod(s)) * np.dtype(d).itemsize, "dtype": np.dtype(d).name}
             for s, d in specs] for specs in (ins, outs)]
    with tempfile.TemporaryDirectory(prefix="utc-footprint-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        emit_into(comp, out)
        try:
            fw = cortex_m.build_firmware(out, comp.name, comp.target, Path(tmp) / "build",
                                         flags="Os", model_inputs=spec[0], model_outputs=spec[1])
        except UtcError as exc:
            note = f"not measured ({printable(exc)})"
            return Footprint(code_note=note, stack_note=note)
        code_note = ("arm-none-eabi-gcc -Os, from the linker map: generated code and kernels, "
                     "weights not included")
        board = target.board
        if shutil.which("qemu-system-arm") is None:
            return Footprint(fw.text_bytes, fw.rodata_bytes, None, code_note,
                             "not measured (qemu-system-arm not installed)")
        try:
            run = cortex_m.run_firmware(fw)
        except UtcError as exc:
            return Footprint(fw.text_bytes, fw.rodata_bytes, None, code_note,
                             f"not measured ({printable(exc)})")
    return Footprint(fw.text_bytes, fw.rodata_bytes, run.stack_bytes, code_note,
                     f"used below main by one inference, measured on QEMU {board.machine}")
