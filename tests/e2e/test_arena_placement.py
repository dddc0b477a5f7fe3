"""The arena (and a stateful model's state region) where the firmware wants it.

`--external-arena` (or -DNAME_EXTERNAL_ARENA / -DNAME_EXTERNAL_STATE): the application
defines NAME_arena / NAME_state, sized and aligned as NAME.h states; outputs still match
TFLite Micro, even when the application's arrays start out full of garbage (the code
never reads a byte it did not write). `--arena-section S` / `--state-section S` (or the
NAME_ARENA_SECTION / NAME_STATE_SECTION macros): the arrays land in that section, on the
host and with the cross compiler.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from utc.codegen.emit_cpp import Placement, check_section_name
from utc.compiler.driver import compile_model
from utc.compiler.errors import UtcError

from tests.conftest import require_tools, shared_model
from tests.e2e.test_cli_errors import user_error, utc
from tests.e2e.test_state import accumulator
from tests.oracle import TflmRunner, random_inputs

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "@NAME@.h"

@DEFS@

/* Samples from stdin through @NAME@_invoke, outputs to stdout (one input, one output). */
int main(int argc, char **argv) {
  static unsigned char in[@UPPER@_INPUT0_BYTES], out[@UPPER@_OUTPUT0_BYTES];
  @FILL@
  const void *inputs[1] = {in};
  void *outputs[1] = {out};
  long samples = argc > 1 ? atol(argv[1]) : 1;
  for (long s = 0; s < samples; ++s) {
    if (fread(in, 1, sizeof in, stdin) != sizeof in) return 3;
    if (@NAME@_invoke(inputs, outputs) != 0) return 4;
    fwrite(out, 1, sizeof out, stdout);
  }
  return 0;
}
"""

ARENA = "alignas(@UPPER@_ARENA_ALIGN) uint8_t @NAME@_arena[@UPPER@_ARENA_BYTES];"
STATE = "alignas(@UPPER@_ARENA_ALIGN) uint8_t @NAME@_state[@UPPER@_STATE_BYTES];"


def _main(name: str, defs: list[str], fill: list[str]) -> str:
    text = MAIN.replace("@DEFS@", "\n".join(defs)).replace("@FILL@", "\n  ".join(fill))
    return ("#include <stdlib.h>\n" + text).replace("@NAME@", name).replace("@UPPER@", name.upper())


def _build_run(folder: Path, name: str, main: str, samples: list[np.ndarray], work: Path,
               flags: tuple[str, ...] = ()) -> tuple[list[bytes], Path]:
    (work / "main.cpp").write_text(main)
    exe = work / f"{name}_prog"
    subprocess.run(["g++", "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions",
                    "-fno-rtti", *flags, f"-I{folder}", *map(str, sorted(folder.glob("*.cpp"))),
                    str(work / "main.cpp"), "-o", str(exe)], check=True)
    proc = subprocess.run([str(exe), str(len(samples))],
                          input=b"".join(s.tobytes() for s in samples), capture_output=True,
                          check=True)
    return [proc.stdout], exe


def _tflm(model: bytes, samples: list[np.ndarray], consecutive: bool) -> bytes:
    runner = TflmRunner(model)
    outs = [(runner.invoke if consecutive else runner.run)([s])[0] for s in samples]
    return b"".join(o.tobytes() for o in outs)


def _samples(model: bytes, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        ins = random_inputs(model, rng)
        assert len(ins) == 1
        out.append(ins[0])
    return out


def test_external_arena_filled_with_garbage_matches_tflm(tmp_path: Path) -> None:
    model_path = shared_model("mlperf_kws_dscnn_int8.tflite")
    model = model_path.read_bytes()
    out = tmp_path / "kws"
    assert utc("compile", str(model_path), "-o", str(out), "--name", "kws", "--external-arena",
               cwd=tmp_path).returncode == 0
    header = (out / "kws.h").read_text()
    assert "#define KWS_EXTERNAL_ARENA 1" in header and "#define KWS_ARENA_ALIGN 16" in header
    samples = _samples(model, 3)
    main = _main("kws", [ARENA], ["memset(kws_arena, 0xa5, sizeof kws_arena);"])
    got, exe = _build_run(out, "kws", main, samples, tmp_path)
    assert got[0] == _tflm(model, samples, consecutive=False)
    # the application's array is the one the model uses: no arena of utc's own remains
    syms = subprocess.run(["nm", "-S", "-C", str(exe)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r" B kws_arena$", syms, re.M)
    assert not re.search(r"anonymous namespace\)::arena$", syms, re.M)
    # a folder without the option, compiled with the macro, is the same program
    plain = tmp_path / "plain"
    compile_model(model_path, plain, name="kws")
    got2, _ = _build_run(plain, "kws", main, samples, tmp_path, ("-DKWS_EXTERNAL_ARENA",))
    assert got2 == got


def test_external_state_of_a_stateful_model_matches_tflm(tmp_path: Path) -> None:
    model = accumulator("int8")
    path = tmp_path / "acc.tflite"
    path.write_bytes(model)
    out = tmp_path / "acc"
    assert utc("compile", str(path), "-o", str(out), "--name", "acc", "--external-arena",
               cwd=tmp_path).returncode == 0
    header = (out / "acc.h").read_text()
    assert "#define ACC_EXTERNAL_STATE 1" in header and "ACC_STATE_BYTES" in header
    samples = _samples(model, 4)
    main = _main("acc", [ARENA, STATE], ["memset(acc_arena, 0x5a, sizeof acc_arena);",
                                         "memset(acc_state, 0x77, sizeof acc_state);"])
    got, _ = _build_run(out, "acc", main, samples, tmp_path)
    assert got[0] == _tflm(model, samples, consecutive=True)


def _sections(objdump: str, elf: Path) -> dict[str, tuple[int, int]]:
    """Section name -> (size, alignment) from `objdump -h`."""
    text = subprocess.run([objdump, "-h", str(elf)], capture_output=True, text=True,
                          check=True).stdout
    return {m.group(1): (int(m.group(2), 16), 2 ** int(m.group(3)))
            for m in re.finditer(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+2\*\*(\d+)",
                                 text, re.M)}


def test_arena_and_state_sections_on_the_host(tmp_path: Path) -> None:
    model = accumulator("int8")
    path = tmp_path / "acc.tflite"
    path.write_bytes(model)
    out = tmp_path / "acc"
    proc = utc("compile", str(path), "-o", str(out), "--name", "acc", "--arena-section", ".sram2",
               "--state-section", ".retained", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    samples = _samples(model, 3)
    got, exe = _build_run(out, "acc", _main("acc", [], []), samples, tmp_path)
    assert got[0] == _tflm(model, samples, consecutive=True)
    sections = _sections("objdump", exe)
    arena = int(re.search(r"#define ACC_ARENA_BYTES (\d+)", (out / "acc.h").read_text()).group(1))
    state = int(re.search(r"#define ACC_STATE_BYTES (\d+)", (out / "acc.h").read_text()).group(1))
    assert sections[".sram2"][0] == max(arena, 1) and sections[".sram2"][1] >= 16
    assert sections[".retained"][0] == state and sections[".retained"][1] >= 16


def test_arena_section_with_the_cross_compiler(tmp_path: Path) -> None:
    """The arena lands in the named section of a linked Cortex-M4 program, aligned; by
    the option or by the macro alone."""
    require_tools("arm-none-eabi-g++", why="Debian gcc-arm-none-eabi")
    from utc.codegen.targets import TARGETS

    model_path = shared_model("mlperf_kws_dscnn_int8.tflite")
    flags = [*TARGETS["cortex-m4"].cpu_flags, "-Os", "-std=c++11", "-fno-exceptions", "-fno-rtti",
             "-ffunction-sections", "-fdata-sections"]
    opt = tmp_path / "opt"
    compile_model(model_path, opt, name="kws", target="cortex-m4",
                  placement=Placement(arena_section=".sram2"))
    plain = tmp_path / "plain"
    compile_model(model_path, plain, name="kws", target="cortex-m4")
    main = tmp_path / "main.cpp"
    main.write_text('#include "kws.h"\nint main() { return kws_run(); }\n')
    for folder, extra in ((opt, []), (plain, ['-DKWS_ARENA_SECTION=".sram2"'])):
        elf = tmp_path / f"{folder.name}.elf"
        subprocess.run(["arm-none-eabi-g++", *flags, *extra, f"-I{folder}",
                        *map(str, sorted(folder.glob("*.cpp"))), str(main), "--specs=nano.specs",
                        "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(elf)], check=True)
        sections = _sections("arm-none-eabi-objdump", elf)
        arena = int(re.search(r"#define KWS_ARENA_BYTES (\d+)", (folder / "kws.h").read_text())[1])
        assert sections[".sram2"] == (arena, 16), sections
        table = subprocess.run(["arm-none-eabi-objdump", "-t", "-C", str(elf)],
                               capture_output=True, text=True, check=True).stdout
        assert re.search(rf"\s\.sram2\s+{arena:08x} .*arena$", table, re.M), table[:2000]


def test_bad_section_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "acc.tflite"
    path.write_bytes(accumulator("int8"))
    user_error(utc("compile", str(path), "-o", str(tmp_path / "out"), "--arena-section",
                   '.a"b', cwd=tmp_path), r"--arena-section '\.a\"b' is not a section name")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UtcError):
        check_section_name("x y", "--state-section")
