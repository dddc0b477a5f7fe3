"""The `--target` table (codegen/targets.py over runtime/targets.py), the linker map
attribution of code bytes, link errors, and the one-line errors of `utc run --target`
when the cross compiler or QEMU is missing (simulated through PATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from utc.codegen import cortex_m
from utc.codegen.targets import TARGETS, Region, linker_memory, target
from utc.compiler.errors import UtcError
from utc.passes.plan_memory import PlanMemory
from utc.runtime import targets as isa

from tests.conftest import require_tools

REPO = Path(__file__).resolve().parents[2]
CORTEX_M = [name for name in TARGETS if name != "host"]


def test_every_target_has_one_record_in_both_tables() -> None:
    assert list(TARGETS) == list(isa.TARGETS)
    for name, t in TARGETS.items():
        assert t.name == name and t.isa is isa.TARGETS[name]
    assert CORTEX_M == ["cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33",
                        "cortex-m55"]


@pytest.mark.parametrize("name", CORTEX_M)
def test_flags_select_the_processor_and_its_float_abi(name: str) -> None:
    t = TARGETS[name]
    flags = t.cpu_flags
    assert flags[0] == f"-mcpu={name}" and "-mthumb" in flags
    abi = [f for f in flags if f.startswith("-mfloat-abi=")]
    assert abi == (["-mfloat-abi=hard"] if t.isa.fpu else ["-mfloat-abi=soft"])
    # -mfpu only where -mcpu alone would not pick the right unit (M55's is implied)
    assert any(f.startswith("-mfpu=") for f in flags) == (t.isa.fpu and not t.isa.mve)


def test_features_follow_the_architecture() -> None:
    features = {n: (t.isa.dsp, t.isa.mve, t.isa.fpu) for n, t in TARGETS.items()}
    assert features == {"host": (False, False, False), "cortex-m0": (False, False, False),
                        "cortex-m3": (False, False, False), "cortex-m4": (True, False, True),
                        "cortex-m7": (True, False, True), "cortex-m33": (True, False, True),
                        "cortex-m55": (True, True, True)}
    assert [n for n, t in TARGETS.items() if not t.unaligned_access] == ["cortex-m0"]


@pytest.mark.parametrize("name", CORTEX_M)
def test_the_compiler_agrees_with_the_feature_table(name: str) -> None:
    """What the flags make arm-none-eabi-gcc define is what CMSIS-NN picks its path from
    (__ARM_FEATURE_DSP -> ARM_MATH_DSP, __ARM_FEATURE_MVE -> ARM_MATH_MVEI)."""
    require_tools("arm-none-eabi-gcc", why="Debian gcc-arm-none-eabi")
    t = TARGETS[name]
    macros = subprocess.run(["arm-none-eabi-gcc", *t.cpu_flags, "-dM", "-E", "-x", "c",
                             os.devnull], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[1] for line in macros.splitlines() if line.startswith("#define ")}
    assert ("__ARM_FEATURE_DSP" in defined) == t.isa.dsp
    assert ("__ARM_FEATURE_MVE" in defined) == t.isa.mve
    assert ("__ARM_FP" in defined) == t.isa.fpu
    assert ("__ARM_FEATURE_UNALIGNED" in defined) == t.unaligned_access


@pytest.mark.parametrize("name", CORTEX_M)
def test_every_cortex_m_target_has_a_board_with_separate_code_and_data(name: str) -> None:
    t = TARGETS[name]
    b = t.require_board()
    assert b.cpu == name
    assert b.code.origin + b.code.length <= b.data.origin \
        or b.data.origin + b.data.length <= b.code.origin
    assert b.code.length >= 256 * 1024 and b.data.length >= 16 * 1024
    memory = linker_memory(b)
    assert f"CODE (rx) : ORIGIN = {b.code.origin:#010x}, LENGTH = {b.code.length:#x}" in memory
    assert f"DATA (rwx) : ORIGIN = {b.data.origin:#010x}, LENGTH = {b.data.length:#x}" in memory


def test_cortex_m33_runs_from_secure_memory() -> None:
    """AN505's core resets Secure and may only execute Secure memory: the aliases with
    address bit 28 set."""
    b = TARGETS["cortex-m33"].require_board()
    assert b.machine == "mps2-an505"
    assert b.code.origin & (1 << 28) and b.data.origin & (1 << 28)


def test_anchor_board_is_the_one_tflite_micro_was_measured_on() -> None:
    assert TARGETS["cortex-m4"].require_board().machine == "mps2-an386"
    assert TARGETS["cortex-m55"].require_board().machine == "mps3-an547"


def test_the_planner_aligns_as_every_target_needs() -> None:
    for t in TARGETS.values():
        assert t.data_alignment & (t.data_alignment - 1) == 0 and t.data_alignment >= 8
        assert PlanMemory().alignment % t.data_alignment == 0


def test_host_and_unknown_targets_are_refused_for_firmware() -> None:
    with pytest.raises(UtcError, match="'host' is not a Cortex-M target"):
        TARGETS["host"].require_board()
    with pytest.raises(UtcError, match="unknown target 'cortex-m85'.*cortex-m55"):
        target("cortex-m85")
    with pytest.raises(UtcError, match="not a Cortex-M target"):
        cortex_m.board("host")


def test_a_target_without_a_board_is_build_only() -> None:
    from utc.codegen.targets import Target

    t = Target(isa.TARGETS["cortex-m4"], None, "no such machine in this QEMU")
    with pytest.raises(UtcError, match=r"no QEMU board runs cortex-m4 here \(no such machine "
                                       r"in this QEMU\); utc compile --target cortex-m4 still"):
        t.require_board()


def test_region_renders_hex() -> None:
    assert Region(0x10000000, 4 << 20).linker() == "ORIGIN = 0x10000000, LENGTH = 0x400000"


MAP = """Archive member included to satisfy reference by file (symbol)

/c/libcmsis-nn.a(arm_convolve_s8.o)
                              /b/model.o (arm_convolve_s8)

Discarded input sections

 .text.unused   0x00000000       0x40 /b/model.o
 .rodata.unused_table
                0x00000000      0x100 /b/utc_conv_s8.o

Memory Configuration

Name             Origin             Length             Attributes
CODE             0x00000000         0x00400000         xr

Linker script and memory map

 *(.isr_vector)
 .isr_vector    0x00000000       0x40 /b/startup.o
                0x00000000                utc_vector_table
 .text.Reset_Handler
                0x00000040       0x3c /b/startup.o
 .text._write   0x0000007c       0x30 /b/semihost.o
 .text.main     0x000000ac      0x120 /b/utc_firmware_main.o
 .text.model_run
                0x000001cc      0x120 /b/model.o
                0x000001cc                model_run
 .text.empty    0x000002ec        0x0 /b/model.o
 .rodata.model_w_conv_filter
                0x000002ec      0x200 /b/model_weights.o
 .rodata.model_w_bias
                0x000004ec       0x40 /b/model_weights.o
 .rodata.kParams
                0x0000052c       0x18 /b/model.o
 .text.arm_convolve_s8
                0x00000544       0x80 /c/libcmsis-nn.a(arm_convolve_s8.o)
 .text.utc_conv2d_s8
                0x000005c4       0x60 /b/utc_conv_s8.o
 .text.printf   0x00000624       0x90 /usr/lib/gcc/arm-none-eabi/12.2.1/../libc_nano.a(libc_a-printf.o)
 .text.__aeabi_ldivmod
                0x000006b4       0x30 /usr/lib/gcc/arm-none-eabi/12.2.1/thumb/libgcc.a(_aeabi_ldivmod.o)
 .data.model_state
                0x20000000        0x4 /b/model.o
 .bss.arena     0x20000010     0x1000 /b/model.o
"""


def test_map_attribution_counts_generated_code_and_kernels_only() -> None:
    sizes = cortex_m.section_sizes(MAP)
    # discarded sections and zero-sized ones are not counted; .data/.bss are RAM
    assert sizes["/b/model.o"] == 0x120 + 0x18
    assert sizes["/b/utc_conv_s8.o"] == 0x60
    assert sizes["/b/model_weights.o"] == 0x240
    assert sizes["/b/startup.o"] == 0x3c  # the vector table is neither .text nor .rodata
    counted = {o: n for o, n in sizes.items() if cortex_m._counts_as_code(o, "model")}
    assert counted == {"/b/model.o": 0x138, "/b/utc_conv_s8.o": 0x60,
                       "/c/libcmsis-nn.a(arm_convolve_s8.o)": 0x80}


def test_map_attribution_follows_the_model_name() -> None:
    sizes = cortex_m.section_sizes(MAP.replace("/b/model", "/b/kws"))
    counted = {o for o in sizes if cortex_m._counts_as_code(o, "kws")}
    assert "/b/kws.o" in counted and "/b/kws_weights.o" not in counted


def test_region_overflow_is_one_line_naming_the_board() -> None:
    b = TARGETS["cortex-m0"].require_board()
    stderr = ("/usr/bin/ld: model.elf section `.bss' will not fit in region `DATA'\n"
              "/usr/bin/ld: region `DATA' overflowed by 18560 bytes\ncollect2: error\n")
    msg = cortex_m._link_error(stderr, "cortex-m0", b)
    assert msg == ("the firmware does not fit cortex-m0's board (QEMU microbit): its RAM "
                   "(data, arena and a 1 KiB stack reserve) need 18,560 bytes more than the "
                   "16 KiB there")
    msg = cortex_m._link_error("ld: region `CODE' overflowed by 46080 bytes\n", "cortex-m0", b)
    assert "code and constants need 46,080 bytes more than the 256 KiB" in msg
    assert cortex_m._link_error("ld: undefined reference to `x'\n", "cortex-m0", b) == \
        "linking the firmware failed: ld: undefined reference to `x'"


def test_unknown_flag_set_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UtcError, match="unknown flag set 'O3'"):
        cortex_m.build_firmware(tmp_path, "model", "cortex-m4", tmp_path / "b", flags="O3")


def _run_cli(path_dirs: list[Path], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.pathsep.join(str(d) for d in path_dirs)}
    return subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "run",
                           str(REPO / "examples" / "sine_int8.tflite"), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("utc: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def test_missing_cross_compiler_names_the_debian_packages(tmp_path: Path) -> None:
    line = _one_error_line(_run_cli([Path(sys.executable).parent], "--target", "cortex-m4"))
    assert "arm-none-eabi-g++ not found" in line
    for package in ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi",
                    "libstdc++-arm-none-eabi-newlib"):
        assert package in line


def test_missing_qemu_names_its_debian_package(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-nm", "arm-none-eabi-ar"):
        (tools / tool).write_text("#!/bin/sh\nexit 1\n")  # found on PATH, never run
        (tools / tool).chmod(0o755)
    line = _one_error_line(_run_cli([Path(sys.executable).parent, tools],
                                    "--target", "cortex-m55", "--kernels", "reference"))
    assert "qemu-system-arm not found: install the Debian package qemu-system-arm" in line


def test_profile_needs_a_cortex_m_target() -> None:
    line = _one_error_line(_run_cli([Path(sys.executable).parent], "--profile"))
    assert "--profile" in line and "Cortex-M --target" in line


def test_unknown_target_is_refused_by_the_command_line() -> None:
    proc = _run_cli([Path(sys.executable).parent], "--target", "cortex-m85")
    assert proc.returncode == 2 and "cortex-m85" in proc.stderr
