"""Build a generated folder into bare-metal Cortex-M firmware and run it on QEMU.

This is `utc run --target cortex-m4|...`, the Cortex-M tests and `benchmarks/cortex_m.py`:
the generated code plus a test main (codegen/templates/firmware_main.cpp.j2), utc's
start-up, semihosting and linker script (codegen/firmware/), and CMSIS-NN from
CMSIS_NN_PATH when the model calls it, cross-compiled with arm-none-eabi-gcc and run on
the QEMU board that emulates the processor (codegen/targets.py: machine, CPU, memory
map). A TCG plugin of utc's own (codegen/firmware/insncount.c) counts the instructions the
guest executes between marker functions, exactly and repeatably: one inference, and with
`profile` each layer too.

Flags follow TFLite Micro's default build, so the numbers compare with
../shared/anchors/tflm-cortex-m4.json: kernels (utc's runtime and CMSIS-NN) at -O2,
everything else at -Os (`flags="default-mix"`), or -Os / -O2 everywhere. Code bytes come
from the linker map: text and read-only data the generated code, utc's kernels and the
CMSIS-NN objects put into the image, without the weights (counted apart), the C library,
the start-up code or the test main. Facts about the boards, the start-up and the plugin
are in ../shared/CORTEX-M.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from utc.codegen.compile_jobs import compile_all
from utc.codegen.host_build import uses_cmsis_nn
from utc.codegen.targets import Board, linker_memory
from utc.codegen.targets import target as find_target
from utc.compiler.errors import UtcError

FIRMWARE = Path(__file__).resolve().parent / "firmware"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TOOLCHAIN_PACKAGES = ("gcc-arm-none-eabi, libnewlib-arm-none-eabi and "
                      "libstdc++-arm-none-eabi-newlib")


#: The host side of a verify build's layer taps (emit_cpp), replaced on the target by
#: the verify main's own utc_layer_output.
HOST_TAPS = "utc_layer_taps.cpp"

#: Optimisation per part of the image: (kernels, everything else).
FLAG_SETS = {"default-mix": ("-O2", "-Os"), "Os": ("-Os", "-Os"), "O2": ("-O2", "-O2")}
COMMON = ("-ffunction-sections", "-fdata-sections", "-Wall")
CXX = ("-std=c++11", "-fno-exceptions", "-fno-rtti")


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UtcError(f"{name} not found: install the Debian package{'s' if ',' in package else ''} "
                       f"{package}")
    return path


def board(target: str) -> Board:
    """The QEMU board that runs `target` (codegen/targets.py); one clear error when the
    target is the host or no board emulates it."""
    return find_target(target).require_board()


def check_tools(target: str) -> None:
    """Everything `utc run --target` needs is there, checked before any work."""
    board(target)
    for name in ("arm-none-eabi-g++", "arm-none-eabi-gcc"):
        _tool(name, TOOLCHAIN_PACKAGES)
    _tool("qemu-system-arm", "qemu-system-arm")


def _cache(kind: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "utc" / kind


def plugin() -> Path:
    """The instruction-counting plugin, built with the host C compiler once."""
    source = FIRMWARE / "insncount.c"
    cc = shutil.which(os.environ.get("CC") or "gcc") or shutil.which("cc")
    if cc is None:
        raise UtcError("no host C compiler found to build the QEMU plugin (install gcc)")
    key = hashlib.sha256(source.read_bytes() + cc.encode()).hexdigest()[:16]
    target = _cache("qemu-plugin") / key / "insncount.so"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            staged = Path(tmp) / target.name
            proc = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-fvisibility=hidden",
                                   str(source), "-o", str(staged)], capture_output=True, text=True)
            if proc.returncode:
                raise UtcError(f"building the QEMU plugin failed: {proc.stderr.strip()[:200]}")
            os.replace(staged, target)
    return target


@dataclass
class Firmware:
    elf: Path
    target: str
    code_bytes: int  # generated code + utc kernels + CMSIS-NN objects (text + rodata)
    weight_bytes: int  # NAME_weights.cpp's constants
    by_object: dict[str, int] = field(default_factory=dict)
    text_bytes: int = 0  # the .text part of code_bytes ...
    rodata_bytes: int = 0  # ... and its .rodata part


def _is_kernel_source(path: Path) -> bool:
    return path.name.startswith("utc_")


def build_firmware(out_dir: Path, name: str, target: str, build_dir: Path,
                   flags: str = "default-mix", inputs: Sequence[bytes] | None = None,
                   model_inputs: Sequence[dict] = (), model_outputs: Sequence[dict] = (),
                   profile: bool = False, cmsis_nn: Path | None = None,
                   main: Path | None = None) -> Firmware:
    """Cross-compile the generated folder `out_dir` with a test main into an ELF.

    `model_inputs`/`model_outputs`: dicts with `bytes` and `dtype` per tensor (the I/O of
    the model); `inputs`: raw input bytes to embed, else the benchmark LCG fills them.
    `flags`: a key of FLAG_SETS. `cmsis_nn`: the CMSIS-NN source tree to build and link
    when the folder calls CMSIS-NN (default: $CMSIS_NN_PATH); its int-only sources are
    compiled once per compiler and flags into a cached static archive (cmsis_nn_lib).
    `main`: another test main to build instead (the verify firmware's, `verify_main`).
    The host side of a verify build's layer taps (utc_layer_taps.cpp, which writes to a
    host process's stdout) is never built into firmware: the verify main has its own."""
    t = find_target(target)
    b = t.require_board()
    if flags not in FLAG_SETS:
        raise UtcError(f"unknown flag set '{flags}' (flag sets: {', '.join(FLAG_SETS)})")
    gxx = _tool("arm-none-eabi-g++", TOOLCHAIN_PACKAGES)
    gcc = _tool("arm-none-eabi-gcc", TOOLCHAIN_PACKAGES)
    kernel_opt, rest_opt = FLAG_SETS[flags]
    build_dir.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    if main is None:
        main = build_dir / "utc_firmware_main.cpp"
        main.write_text(env.get_template("firmware_main.cpp.j2").render(
            name=name, inputs=[list(d) for d in inputs] if inputs else [],
            model_inputs=model_inputs, model_outputs=model_outputs))
    (build_dir / "board.ld").write_text(linker_memory(b) + (FIRMWARE / "cortex_m.ld").read_text())

    includes = [f"-I{out_dir}"]
    libraries: list[str] = []
    if uses_cmsis_nn(out_dir):
        from utc.codegen import cmsis_nn_lib

        root = cmsis_nn_lib.cmsis_nn_root(cmsis_nn)
        includes.append(f"-I{root / 'Include'}")
        ar = _tool("arm-none-eabi-ar", "binutils-arm-none-eabi")
        libraries.append(str(cmsis_nn_lib.build_library(
            gcc, ar, [*t.cpu_flags, kernel_opt, *COMMON], root)))

    jobs: list[tuple[str, list[str], Path]] = []
    for src in sorted(out_dir.glob("*.cpp")):
        if src.name == HOST_TAPS:
            continue
        opt = kernel_opt if _is_kernel_source(src) else rest_opt
        hooks = ["-DUTC_PROFILE"] if profile and src.name == f"{name}.cpp" else []
        jobs.append((gxx, [*t.cpu_flags, opt, *COMMON, *CXX, *hooks, *includes], src))
    jobs.append((gxx, [*t.cpu_flags, rest_opt, *COMMON, *CXX, *includes], main))
    for c in ("startup.c", "semihost.c"):
        jobs.append((gcc, [*t.cpu_flags, "-Os", *COMMON], FIRMWARE / c))

    objects = compile_all([([tool, *args], src, build_dir / (src.stem + ".o"))
                           for tool, args, src in jobs], "cross compiler")
    elf = build_dir / f"{name}.elf"
    mapfile = build_dir / f"{name}.map"
    proc = subprocess.run([gxx, *t.cpu_flags, *[str(o) for o in objects], *libraries,
                           f"-T{build_dir / 'board.ld'}", "-nostartfiles", "--specs=nano.specs",
                           "--specs=nosys.specs", "-Wl,--gc-sections", f"-Wl,-Map={mapfile}",
                           "-o", str(elf)], capture_output=True, text=True)
    if proc.returncode:
        raise UtcError(_link_error(proc.stderr, target, b))
    map_text = mapfile.read_text()
    sizes = section_sizes(map_text)
    counted = {obj: n for obj, n in sizes.items() if _counts_as_code(obj, name)}
    weights = sum(n for obj, n in sizes.items() if Path(obj).name == f"{name}_weights.o")
    text = sum(n for obj, n in section_sizes(map_text, ("text",)).items()
               if _counts_as_code(obj, name))
    return Firmware(elf, target, sum(counted.values()), weights, counted, text,
                    sum(counted.values()) - text)


def _link_error(stderr: str, target: str, b: Board) -> str:
    """One line for a failed link; a model too large for the board's memory says so."""
    over = re.search(r"region `(CODE|DATA)' overflowed by (\d+) bytes", stderr)
    if over:
        kind, region = (("code and constants", b.code) if over.group(1) == "CODE"
                        else ("RAM (data, arena and a 1 KiB stack reserve)", b.data))
        return (f"the firmware does not fit {target}'s board (QEMU {b.machine}): its "
                f"{kind} need {int(over.group(2)):,} bytes more than the "
                f"{region.length // 1024} KiB there")
    first = (stderr.strip().splitlines() or ["(no output)"])[0]
    return f"linking the firmware failed: {first}"


_MAP_ROW = re.compile(r"^ (\.(?:text|rodata)[^\s]*)\s*\n?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$",
                      re.M)


def section_sizes(map_text: str, kinds: Sequence[str] = ("text", "rodata")) -> dict[str, int]:
    """Bytes of code and read-only data each input object put into the image, from a GNU
    ld map (`-Wl,-Map`): the rows under "Linker script and memory map"; sections that
    --gc-sections discarded are listed before that heading and not counted. `kinds`:
    which input sections count (`.text*`, `.rodata*`)."""
    start = map_text.find("Linker script and memory map")
    body = map_text[start:] if start >= 0 else map_text
    sizes: dict[str, int] = {}
    for m in _MAP_ROW.finditer(body):
        if not any(m.group(1).startswith(f".{k}") for k in kinds):
            continue
        size = int(m.group(2), 16)
        if size:
            obj = m.group(3).strip()
            sizes[obj] = sizes.get(obj, 0) + size
    return sizes


def _counts_as_code(obj: str, name: str) -> bool:
    """Generated code, utc's kernels and CMSIS-NN objects; not the weights, the C/C++
    libraries, start-up, semihosting or the test main."""
    base = Path(obj.split("(")[0]).name
    if "libcmsis-nn.a" in obj:
        return True
    return base in (f"{name}.o",) or base.startswith("utc_") and base != "utc_firmware_main.o"


@dataclass
class Run:
    outputs: list[bytes]
    fnv1a: str
    stack_bytes: int
    #: of one inference (bench_begin .. bench_end); in a profiling build this includes
    #: the calls of the per-layer hooks
    instructions: int
    layers: list[int]  # per layer (utc_layer_begin .. utc_layer_end), when profiled
    status: int  # what NAME_run() returned


def _symbols(elf: Path, wanted: Sequence[str]) -> dict[str, int]:
    """The addresses of the `wanted` symbols of an ELF (arm-none-eabi-nm)."""
    nm = _tool("arm-none-eabi-nm", "binutils-arm-none-eabi")
    out = subprocess.run([nm, str(elf)], capture_output=True, text=True, check=True).stdout
    found: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in wanted:
            found[parts[2]] = int(parts[0], 16)
    missing = [w for w in wanted if w not in found]
    if missing:
        raise UtcError(f"{elf.name} has no {', '.join(missing)}")
    return found


def run_qemu(elf: Path, target: str, regions: Sequence[tuple[str, str]] = (),
             timeout: float = 120.0, cwd: Path | None = None) -> tuple[str, list[list[int]]]:
    """Run an ELF on the target's QEMU board and return its standard output and, per
    (begin, end) pair of function symbols in `regions`, the instructions executed from
    each entry to `begin` to the next entry to `end` (utc's TCG plugin; pairs may nest).
    `cwd`: QEMU's working directory, where the guest's semihosting opens host files.
    A non-zero exit status (a fault exits with 128 + exception number) or a hang is one
    clear error."""
    qemu = _tool("qemu-system-arm", "qemu-system-arm")
    b = board(target)
    cmd = [qemu, "-M", b.machine, "-cpu", b.cpu, "-display", "none", "-monitor", "none",
           "-serial", "null", "-semihosting", "-kernel", str(elf)]
    with tempfile.TemporaryDirectory(prefix="utc-qemu-") as tmp:
        log = Path(tmp) / "plugin.log"
        if regions:
            addr = _symbols(elf, [s for pair in regions for s in pair])
            args = ",".join(f"start={addr[a]:#x},stop={addr[z]:#x}" for a, z in regions)
            cmd += ["-plugin", f"{plugin()},{args}", "-d", "plugin", "-D", str(log)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, cwd=cwd)
        except subprocess.TimeoutExpired:
            raise UtcError(f"QEMU {b.machine} did not finish within {timeout:.0f} s (the "
                           "firmware hangs)") from None
        counts: list[list[int]] = [[] for _ in regions]
        if regions:
            for k, n in re.findall(r"^insncount: pair (\d+) region \d+: (\d+) insns$",
                                   log.read_text(), re.M):
                counts[int(k)].append(int(n))
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        what = (f"faulted (exception {proc.returncode - 128})" if 128 < proc.returncode < 128 + 512
                else f"exited with status {proc.returncode}")
        raise UtcError(f"the firmware {what} on QEMU {b.machine}: {detail[0]}")
    return proc.stdout, counts


def run_firmware(fw: Firmware, profile: bool = False, timeout: float = 120.0) -> Run:
    """Run the test firmware on QEMU: its outputs, their FNV-1a, the stack it used, and
    the instructions of one inference; with `profile` (a firmware built with `profile`)
    also those of each layer."""
    regions = [("bench_begin", "bench_end")]
    if profile:
        regions.append(("utc_layer_begin", "utc_layer_end"))
    out, counts = run_qemu(fw.elf, fw.target, regions, timeout)
    outputs = [bytes.fromhex(m.group(1).replace(" ", ""))
               for m in re.finditer(r"^output \d+:((?: [0-9a-f]{2})*)$", out, re.M)]
    fnv = re.search(r"^fnv1a: ([0-9a-f]{8})$", out, re.M)
    stack = re.search(r"^stack: (\d+)$", out, re.M)
    status = re.search(r"^status: (-?\d+)$", out, re.M)
    if not (fnv and stack and status) or len(counts[0]) != 1:
        raise UtcError(f"unexpected firmware output on {board(fw.target).machine}: "
                       f"{out.strip()[:200]!r}")
    return Run(outputs, fnv.group(1), int(stack.group(1)), counts[0][0],
               counts[1] if profile else [], int(status.group(1)))


#: The host files the verify firmware reads its samples from and writes its stream to
#: (in QEMU's working directory).
VERIFY_INPUT = "utc_verify_in.bin"
VERIFY_OUTPUT = "utc_verify_out.bin"


def verify_main(name: str, build_dir: Path, samples: int, num_inputs: int, num_outputs: int,
                taps: bool) -> Path:
    """Write the verify firmware's main (templates/verify_main.cpp.j2) into `build_dir`:
    `samples` invocations reading their inputs from VERIFY_INPUT and streaming outputs
    (after the layer taps, with `taps`) to VERIFY_OUTPUT, exactly as the host runner
    streams them to stdout, so `decode_outputs` / `decode_stream` read either."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    build_dir.mkdir(parents=True, exist_ok=True)
    main = build_dir / "utc_verify_main.cpp"
    main.write_text(env.get_template("verify_main.cpp.j2").render(
        name=name, NAME=name.upper(), samples=samples, num_inputs=num_inputs,
        num_outputs=num_outputs, taps=taps, input_file=VERIFY_INPUT, output_file=VERIFY_OUTPUT))
    return main


def run_verify_firmware(fw: Firmware, payload: bytes, work_dir: Path,
                        timeout: float = 600.0) -> bytes:
    """Run a verify firmware on QEMU with `payload` (every sample's raw inputs) as its
    input file; return the bytes it wrote (the host runner's stdout, byte for byte)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / VERIFY_INPUT).write_bytes(payload)
    out = work_dir / VERIFY_OUTPUT
    out.unlink(missing_ok=True)
    stdout, _ = run_qemu(fw.elf, fw.target, timeout=timeout, cwd=work_dir)
    if not out.is_file():
        raise UtcError(f"the verify firmware wrote no output on QEMU "
                       f"{board(fw.target).machine}: {stdout.strip()[:200]!r}")
    return out.read_bytes()
