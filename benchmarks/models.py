"""Per-model figures for utc: operators, compile time, flash, arena and run time vs TFLM.

Everything is measured in one run on the same host (DESIGN.md §8): compile time of utc at
-O0 and -O2, the bytes the generated code puts in flash (weights, code, read-only data of
a host `g++ -Os` build), the -O2 arena, and the time per inference of the generated code
built with `-O2` against the TensorFlow Lite Micro Python interpreter, reported as a ratio
because absolute host timings mean little for a microcontroller while the ratio of two
implementations of the same reference kernels does.

Run from the repository root:
    .venv/bin/python benchmarks/models.py [--models NAME ...] [--iterations N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    MODEL_NAME,
    SPEED_FLAGS,
    Column,
    ModelInfo,
    Report,
    add_model_args,
    auto_iterations,
    build_bench,
    compile_objects,
    header_macro,
    input_payload,
    micros,
    ratio,
    read_model,
    run_bench,
    section_sizes,
    seeded_inputs,
    select_models,
    tflm_generous_arena,
    tflm_interpreter,
    tflm_refusal,
)

#: Compiles are timed this many times; the fastest counts (the least disturbed by the host).
COMPILE_REPEATS = 3
#: Timed loops per side; the fastest counts.
RUN_REPEATS = 3
#: With no --iterations, N is chosen so one timed TFLM loop takes about this long.
TARGET_SECONDS = 0.25
MAX_AUTO_ITERATIONS = 20000

#: The flags a firmware build would use for size; -fno-exceptions/-fno-rtti as the
#: generated code needs neither (DESIGN.md §6).
SIZE_FLAGS = ["-std=c++11", "-Os", "-fno-exceptions", "-fno-rtti"]

def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of `repeats` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def code_sizes(out: Path, build: Path) -> tuple[int, int]:
    """(.text bytes, .rodata bytes) of the generated sources built with SIZE_FLAGS,
    leaving out the weights file (its bytes are reported as weights)."""
    objects = compile_objects(sorted(out.glob("*.cpp")), [*SIZE_FLAGS, f"-I{out}"], build)
    text = rodata = 0
    for obj in objects:
        if obj.stem == f"{MODEL_NAME}_weights":
            continue
        for section, size in section_sizes(obj).items():
            if section.startswith(".text"):
                text += size
            elif section.startswith((".rodata", ".data.rel.ro")):
                rodata += size
    return text, rodata


def time_utc(exe: Path, inputs: list[np.ndarray], iterations: int) -> float:
    """Seconds per inference of the generated code (fastest of RUN_REPEATS loops)."""
    return run_bench(exe, input_payload(inputs), iterations, RUN_REPEATS)[0]


def time_tflm(info: ModelInfo, inputs: list[np.ndarray], iterations: int | None) -> tuple[float, int]:
    """(seconds per inference of TFLM, the N used). Each inference is set_input + invoke:
    TFLM may reuse an input's memory for later tensors, so every invoke gets its input
    anew, as NAME_invoke copies it in. Creating the interpreter is not timed."""
    interpreter = tflm_interpreter(info, tflm_generous_arena(info))

    def once() -> None:
        for i, x in enumerate(inputs):
            interpreter.set_input(x, i)
        interpreter.invoke()

    once()  # warm-up (and first-invoke lazy work)
    if iterations is None:
        iterations = auto_iterations(best_time(once, 3), TARGET_SECONDS, MAX_AUTO_ITERATIONS)

    def loop() -> None:
        for _ in range(iterations):
            once()

    return best_time(loop, RUN_REPEATS) / iterations, iterations


def auto_iterations_from_utc(exe: Path, inputs: list[np.ndarray]) -> int:
    """N when TFLM cannot run the model: enough for the generated code to take about
    TARGET_SECONDS / 10 per loop (it is the only side timed then)."""
    return auto_iterations(time_utc(exe, inputs, 3), TARGET_SECONDS / 10, MAX_AUTO_ITERATIONS)


def measure_model(path: Path, work: Path, iterations: int | None, report: Report) -> list[str]:
    from utc.compiler.driver import compile_model
    from utc.dialects.func import main_function

    info = read_model(path)
    out0, out2 = work / "out-O0", work / "out-O2"
    t0 = best_time(lambda: compile_model(path, out0, name=MODEL_NAME, opt_level=0), COMPILE_REPEATS)
    results = []
    t2 = best_time(lambda: results.append(compile_model(path, out2, name=MODEL_NAME, opt_level=2)),
                   COMPILE_REPEATS)
    fn = main_function(results[-1].module)
    arena = int(fn.arena_bytes)
    weights = header_macro(out2 / f"{MODEL_NAME}.h", f"{MODEL_NAME.upper()}_WEIGHT_BYTES")
    text, rodata = code_sizes(out2, work / "build-Os")
    exe = build_bench(out2, info, work / "build-O2")

    inputs = seeded_inputs(info.inputs)
    refusal = tflm_refusal(info, inputs, work)
    if refusal:
        report.notes.append(f"{path.name}: TFLM n/a: {refusal}")
        n = iterations or auto_iterations_from_utc(exe, inputs)
        utc_s, tflm_s = time_utc(exe, inputs, n), None
    else:
        tflm_s, n = time_tflm(info, inputs, iterations)
        utc_s = time_utc(exe, inputs, n)
    return [str(len(info.operators)), f"{t0:.3f}", f"{t2:.3f}", str(weights), str(text), str(rodata),
            str(weights + text + rodata), str(arena), str(n), micros(utc_s),
            "n/a" if tflm_s is None else micros(tflm_s),
            "n/a" if tflm_s is None else ratio(tflm_s, utc_s), ",".join(info.distinct_operators)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(parser)
    parser.add_argument("--iterations", type=int, metavar="N",
                        help="inferences per timed loop, the same N for utc and TFLM (default: "
                             f"chosen per model so a TFLM loop takes ~{TARGET_SECONDS} s; "
                             f"the fastest of {RUN_REPEATS} loops counts)")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    models = select_models(args)

    report = Report([
        Column("model", "the .tflite file", "<"),
        Column("ops", "operators in the model (all subgraphs)"),
        Column("-O0 s", f"utc compile time at -O0, seconds (import to emitted C++; fastest of "
               f"{COMPILE_REPEATS})"),
        Column("-O2 s", "the same at -O2"),
        Column("weights", "constant weight bytes (NAME_WEIGHT_BYTES; flash)"),
        Column("code", f"bytes of .text of the generated C++ built on this host with "
               f"`{' '.join(SIZE_FLAGS)}` (weights file excluded)"),
        Column("rodata", "bytes of .rodata (tables, constants) of the same build, weights excluded"),
        Column("flash", "weights + code + rodata"),
        Column("arena", "utc -O2 arena bytes (all the RAM besides the stack with the zero-copy API)"),
        Column("N", "inferences per timed loop, the same for both sides"),
        Column("utc us", f"microseconds per inference of the generated code (`{' '.join(SPEED_FLAGS)}`, "
               f"NAME_invoke with input/output copies, N in one process, fastest of {RUN_REPEATS})"),
        Column("TFLM us", "microseconds per inference of the TFLM Python interpreter on this host "
               "(set_input + invoke, N in a loop, setup excluded, fastest of "
               f"{RUN_REPEATS}; includes Python call overhead)"),
        Column("TFLM/utc", "TFLM us / utc us, measured in this run (>1: utc faster)"),
        Column("operators", "the distinct operators", "<"),
    ])
    # Warm up imports so the first model's compile time is not charged for them.
    from utc.compiler.driver import load_builtin_passes

    load_builtin_passes()
    import utc.codegen.emit_cpp  # noqa: F401
    import utc.compiler.importers.tflite  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="utc-bench-models-") as tmp:
        for index, path in enumerate(models):
            work = Path(tmp) / str(index)
            work.mkdir()
            report.add(path.name, lambda path=path, work=work: measure_model(
                path, work, args.iterations, report))
    report.notes.insert(0, "Sizes are host (x86-64) object sizes, a proxy for a microcontroller build; "
                           "timings are host timings, meaningful as the ratio.")
    print(report.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
