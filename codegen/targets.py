"""The processors `--target` names, as the firmware build and the emulator see them.

`runtime/targets.py` holds what the kernels and the planner need to know about a target
(its ISA features and the arm-none-eabi-gcc flags that select them), because passes may
not import code generation. This module adds, per target, what it takes to build and run
bare-metal firmware for it: the QEMU 7.2 machine and CPU that emulate it (or why none
does), the memory map the linker script places code and data in, the alignment utc gives
the arena, and whether the processor tolerates unaligned word accesses. Every board here
was run on this machine's QEMU (`qemu-system-arm -M help` lists the machines; the facts
are in ../shared/CORTEX-M.md), and the same start-up code runs on each.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import UtcError
from utc.runtime import targets as isa


@dataclass(frozen=True)
class Region:
    """A block of memory the linker script may fill: `origin`, `length` in bytes."""

    origin: int
    length: int

    def linker(self) -> str:
        """The `ORIGIN = ..., LENGTH = ...` part of a GNU ld MEMORY line."""
        return f"ORIGIN = {self.origin:#010x}, LENGTH = {self.length:#x}"


@dataclass(frozen=True)
class Board:
    """A QEMU machine that runs a target: `-M machine -cpu cpu`, where its code (flash or
    code SRAM, loaded by `-kernel`) and its data RAM are, and a note on why this board."""

    machine: str
    cpu: str
    code: Region
    data: Region
    note: str = ""


@dataclass(frozen=True)
class Target:
    """One `--target` value: its ISA record (features and compiler flags), the board that
    emulates it (None when no QEMU machine does: `no_board` says why), the alignment utc
    plans arena offsets to, and whether unaligned word loads and stores are legal."""

    isa: isa.Target
    board: Board | None
    no_board: str = ""
    #: Arena offsets and the arena itself are aligned to this (plan-memory's alignment,
    #: `alignas` in NAME.cpp). 16 bytes everywhere: TFLite Micro's kBufferAlignment, so
    #: the -O0 plans match its planner; one Helium vector (VLDRB/VLDRW move 128 bits); and
    #: a multiple of the 8 bytes LDRD/STRD and the AAPCS stack want.
    data_alignment: int = 16
    #: Armv7-M and later load and store words and halfwords at any address (slower when
    #: split); Armv6-M (Cortex-M0) faults on every unaligned access, so its kernels must
    #: go through memcpy or bytes, never a cast pointer. QEMU 7.2 does not trap this on
    #: its Cortex-M0, so the emulator cannot catch a violation: it is checked by review.
    unaligned_access: bool = True

    @property
    def name(self) -> str:
        return self.isa.name

    @property
    def cpu_flags(self) -> tuple[str, ...]:
        return self.isa.cpu_flags

    @property
    def is_host(self) -> bool:
        return not self.isa.cpu_flags

    def require_board(self) -> Board:
        """The board that runs this target; one clear error when there is none."""
        if self.is_host:
            raise UtcError(f"'{self.name}' is not a Cortex-M target (it runs natively)")
        if self.board is None:
            raise UtcError(f"no QEMU board runs {self.name} here ({self.no_board}); "
                           f"utc compile --target {self.name} still writes code for it")
        return self.board


KIB = 1024
MIB = 1024 * KIB

#: MPS2 FPGA images for Armv7-M (AN385 M3, AN386 M4, AN500 M7): code in ZBT SSRAM1 at 0,
#: data in SSRAM2/3 at 0x20000000, 4 MiB each: room for every shared model.
_MPS2_CODE = Region(0x00000000, 4 * MIB)
_MPS2_DATA = Region(0x20000000, 4 * MIB)

TARGETS: dict[str, Target] = {t.name: t for t in (
    Target(isa.TARGETS["host"], None, "the host runs generated code natively"),
    Target(isa.TARGETS["cortex-m0"],
           Board("microbit", "cortex-m0", Region(0x00000000, 256 * KIB),
                 Region(0x20000000, 16 * KIB),
                 "BBC micro:bit (nRF51822), QEMU's only Cortex-M0 machine: 256 KiB flash "
                 "and 16 KiB RAM, so only small models fit; the MPS2 images refuse -cpu "
                 "cortex-m0"),
           unaligned_access=False),
    Target(isa.TARGETS["cortex-m3"],
           Board("mps2-an385", "cortex-m3", _MPS2_CODE, _MPS2_DATA, "MPS2 AN385")),
    Target(isa.TARGETS["cortex-m4"],
           Board("mps2-an386", "cortex-m4", _MPS2_CODE, _MPS2_DATA,
                 "MPS2 AN386: the board TFLite Micro's anchors were measured on")),
    Target(isa.TARGETS["cortex-m7"],
           Board("mps2-an500", "cortex-m7", _MPS2_CODE, _MPS2_DATA, "MPS2 AN500")),
    Target(isa.TARGETS["cortex-m33"],
           Board("mps2-an505", "cortex-m33", Region(0x10000000, 4 * MIB),
                 Region(0x38000000, 4 * MIB),
                 "MPS2 AN505 (IoT Kit, TrustZone): the core resets in the Secure state and "
                 "may only execute Secure memory, so the image uses the Secure aliases "
                 "(bit 28 set) of ZBT SSRAM1 (code) and SSRAM2+3 (data)")),
    Target(isa.TARGETS["cortex-m55"],
           Board("mps3-an547", "cortex-m55", Region(0x00000000, 512 * KIB),
                 Region(0x20000000, 512 * KIB), "MPS3 AN547: ITCM for code, DTCM for data")),
)}


def target(name: str) -> Target:
    """The target called `name`; one clear error naming the choices otherwise."""
    try:
        return TARGETS[name]
    except KeyError:
        raise UtcError(f"unknown target '{name}' (targets: {', '.join(TARGETS)})") from None


def linker_memory(board: Board) -> str:
    """The MEMORY block of the firmware's linker script for `board` (the SECTIONS that
    follow are the same on every board: codegen/firmware/cortex_m.ld)."""
    return (f"MEMORY {{\n  CODE (rx) : {board.code.linker()}\n"
            f"  DATA (rwx) : {board.data.linker()}\n}}\n")
