"""int8 compute kernels: a baseline revision's runtime/ kernels vs the working tree's.

For each model this compiles utc's generated code once (with the working tree's compiler),
copies the generated folder, and in the copy overwrites the int8 compute kernels (conv,
depthwise conv, fully connected, pooling) with their text at the baseline revision
(`git show REV:runtime/<file>`, default REV = HEAD). Both folders are built with
`g++ -O2` and a small C main that calls NAME_invoke N times in one process; the generated
code around the kernels is byte-identical, so the difference is the kernels'. Both builds
are also checked to give byte-identical outputs on the same seeded input.

Wall time is noisy on a shared host; when valgrind is installed the table also gives the
instruction count per inference under `valgrind --tool=callgrind` (only inside
NAME_invoke), which is repeatable, and a second table splits it per kernel function.

Run from the repository root:
    .venv/bin/python benchmarks/kernels.py [--baseline REV] [--models NAME ...]
        [--iterations N] [--no-callgrind]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    MODEL_NAME,
    REPO_ROOT,
    SPEED_FLAGS,
    Column,
    ModelInfo,
    Report,
    add_model_args,
    auto_iterations,
    build_bench,
    input_payload,
    micros,
    ratio,
    read_model,
    run_bench,
    seeded_inputs,
    select_models,
)

#: The kernels compared: runtime/ files whose baseline text replaces the working tree's.
KERNEL_FILES = (
    "utc_conv_s8.cpp",
    "utc_fully_connected_s8.cpp",
    "utc_pool_s8.cpp",
)
#: The extern "C" functions those files define (rows of the per-kernel table), each with
#: the stem of the file that defines it.
KERNEL_FUNCTIONS = {
    "utc_conv2d_s8": "utc_conv_s8",
    "utc_depthwise_conv2d_s8": "utc_conv_s8",
    "utc_fully_connected_s8": "utc_fully_connected_s8",
    "utc_avg_pool_s8": "utc_pool_s8",
    "utc_max_pool_s8": "utc_pool_s8",
}
#: The int8 models of ../shared/models (the default selection).
INT8_MODELS = (
    "hello_world_int8.tflite",
    "micro_speech_quantized.tflite",
    "mlperf_ad_autoencoder_int8.tflite",
    "mlperf_ic_resnet8_int8.tflite",
    "mlperf_kws_dscnn_int8.tflite",
    "mlperf_vww_mobilenet_int8.tflite",
)

#: Timed loops per build, alternating baseline and new; the fastest counts.
RUN_REPEATS = 5
#: With no --iterations, N is chosen so one timed loop of the baseline takes about this long.
TARGET_SECONDS = 0.2
MAX_AUTO_ITERATIONS = 100000
#: Inferences run under callgrind (after one warm-up that is counted separately).
CALLGRIND_INVOCATIONS = 2

def git_show(rev: str, path: str) -> str:
    proc = subprocess.run(["git", "-C", str(REPO_ROOT), "show", f"{rev}:{path}"],
                          capture_output=True, text=True)
    if proc.returncode:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        raise RuntimeError(f"git show {rev}:{path} failed: {first}")
    return proc.stdout


def baseline_kernels(rev: str) -> dict[str, str]:
    """file name -> its text at `rev` (read once, before any model is compiled)."""
    return {name: git_show(rev, f"runtime/{name}") for name in KERNEL_FILES}


def build(out: Path, info: ModelInfo, build_dir: Path) -> Path:
    """BENCH_MAIN build with debug info (callgrind_annotate names functions by file)."""
    return build_bench(out, info, build_dir, [*SPEED_FLAGS, "-g"])


def callgrind(exe: Path, payload: bytes, work: Path) -> tuple[int, dict[str, int]]:
    """(instructions per inference inside NAME_invoke, inclusive instructions per inference
    of each kernel function) under callgrind."""
    out = work / "callgrind.out"
    # 1 warm-up + CALLGRIND_INVOCATIONS timed calls, all inside the collected function.
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           f"--toggle-collect={MODEL_NAME}_invoke", str(exe), str(CALLGRIND_INVOCATIONS), "1"]
    proc = subprocess.run(cmd, input=payload, capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"callgrind exited with status {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    calls = CALLGRIND_INVOCATIONS + 1
    text = out.read_text()
    match = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if not match:
        raise RuntimeError("no totals in the callgrind output")
    total = int(match.group(1))
    per_fn = inclusive_by_function(out)
    return total // calls, {fn: ir // calls for fn, ir in per_fn.items()}


def inclusive_by_function(out: Path) -> dict[str, int]:
    """Inclusive Ir of each KERNEL_FUNCTIONS entry: the function itself, the code inlined
    into it and every helper it calls, whichever file defines the helper (the kernel's
    own .cpp, utc_kernel_util.h, utc_quant.h; a kernel calls no other kernel).
    callgrind_annotate names functions file:function and lists the code inlined from a
    header once more under header:function; the row counted is the one under the
    function's own source file."""
    proc = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                          capture_output=True, text=True)
    result = dict.fromkeys(KERNEL_FUNCTIONS, 0)
    if proc.returncode:
        return result
    for line in proc.stdout.splitlines():
        match = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?([^\s:]+):(.+?)(?:\s+\[.*\])?$", line)
        if not match:
            continue
        stem, symbol = Path(match.group(2)).stem, match.group(3)
        if KERNEL_FUNCTIONS.get(symbol) == stem:
            result[symbol] += int(match.group(1).replace(",", ""))
    return result


def millions(instructions: int) -> str:
    return f"{instructions / 1e6:.3f}" if instructions < 10_000_000 else f"{instructions / 1e6:.1f}"


def measure_model(path: Path, work: Path, baseline: dict[str, str], iterations: int | None,
                  use_callgrind: bool, report: Report, per_kernel: dict[str, list[int]]) -> list[str]:
    from utc.compiler.driver import compile_model

    info = read_model(path)
    new_out, base_out = work / "new", work / "base"
    compile_model(path, new_out, name=MODEL_NAME, opt_level=2)
    shutil.copytree(new_out, base_out)
    replaced = [name for name in KERNEL_FILES if (base_out / name).exists()]
    for name in replaced:
        (base_out / name).write_text(baseline[name])
    exes = {"base": build(base_out, info, work / "build-base"),
            "new": build(new_out, info, work / "build-new")}

    payload = input_payload(seeded_inputs(info.inputs))
    if iterations is None:
        single, _ = run_bench(exes["base"], payload, 3, 1)
        iterations = auto_iterations(single, TARGET_SECONDS, MAX_AUTO_ITERATIONS)
    best = {"base": float("inf"), "new": float("inf")}
    outputs = {}
    for _ in range(RUN_REPEATS):  # alternate, so drifts of the host hit both sides alike
        for side in ("base", "new"):
            seconds, outputs[side] = run_bench(exes[side], payload, iterations, 1)
            best[side] = min(best[side], seconds)
    if outputs["base"] != outputs["new"]:
        raise RuntimeError("the baseline and new kernels give different outputs")

    cells = [",".join(n.removeprefix("utc_").removesuffix(".cpp") for n in replaced) or "-",
             str(iterations), micros(best["base"]), micros(best["new"]),
             ratio(best["base"], best["new"])]
    if use_callgrind:
        base_ir, base_fn = callgrind(exes["base"], payload, work / "build-base")
        new_ir, new_fn = callgrind(exes["new"], payload, work / "build-new")
        for fn in KERNEL_FUNCTIONS:
            per_kernel[fn][0] += base_fn.get(fn, 0)
            per_kernel[fn][1] += new_fn.get(fn, 0)
        cells += [millions(base_ir), millions(new_ir), ratio(base_ir, new_ir)]
    else:
        cells += ["n/a", "n/a", "n/a"]
    return cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(parser)
    parser.add_argument("--baseline", default="HEAD", metavar="REV",
                        help="git revision whose runtime/ kernels are the baseline (default: HEAD)")
    parser.add_argument("--iterations", type=int, metavar="N",
                        help="inferences per timed loop (default: chosen per model so a baseline "
                             f"loop takes ~{TARGET_SECONDS} s; the fastest of {RUN_REPEATS} counts)")
    parser.add_argument("--no-callgrind", action="store_true",
                        help="skip the callgrind instruction counts (they need valgrind)")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if args.models is None:
        args.models = [m for m in INT8_MODELS if (args.models_dir / m).is_file()] or None
    models = select_models(args)
    try:
        baseline = baseline_kernels(args.baseline)
    except RuntimeError as e:
        sys.exit(f"error: {e}")
    use_callgrind = not args.no_callgrind and shutil.which("valgrind") is not None

    report = Report([
        Column("model", "the .tflite file", "<"),
        Column("kernels", "the kernel files the model uses that were swapped for the baseline's", "<"),
        Column("N", "inferences per timed loop, the same for both builds"),
        Column("base us", f"microseconds per inference with the {args.baseline} kernels "
               f"(`g++ {' '.join(SPEED_FLAGS)}`, NAME_invoke, N in one process, fastest of "
               f"{RUN_REPEATS} loops alternating with the new build)"),
        Column("new us", "the same with the working tree's kernels"),
        Column("time x", "base us / new us (>1: the new kernels are faster)"),
        Column("base MIr", "millions of instructions per inference inside NAME_invoke under "
               "valgrind --tool=callgrind, baseline kernels (repeatable)"),
        Column("new MIr", "the same with the working tree's kernels"),
        Column("Ir x", "base MIr / new MIr"),
    ])
    from utc.compiler.driver import load_builtin_passes

    load_builtin_passes()
    per_kernel = {fn: [0, 0] for fn in KERNEL_FUNCTIONS}
    with tempfile.TemporaryDirectory(prefix="utc-bench-kernels-") as tmp:
        for index, path in enumerate(models):
            work = Path(tmp) / str(index)
            work.mkdir()
            report.add(path.name, lambda path=path, work=work: measure_model(
                path, work, baseline, args.iterations, use_callgrind, report, per_kernel))
    report.notes.append(f"baseline: runtime/{{{','.join(KERNEL_FILES)}}} at {args.baseline}; "
                        "new: the working tree. Both builds gave identical outputs on the same "
                        "seeded input (checked for every row).")
    if not use_callgrind:
        report.notes.append("callgrind columns n/a: valgrind not found or --no-callgrind.")
    print(report.render())

    if use_callgrind:
        kernels = Report([
            Column("kernel", "kernel function (inclusive instructions: with the helpers it calls; "
                   "all models above summed)", "<"),
            Column("base MIr", "millions of instructions per inference (one of each model), baseline"),
            Column("new MIr", "the same, working tree"),
            Column("Ir x", "base / new"),
        ])
        for fn, (base_ir, new_ir) in per_kernel.items():
            if base_ir or new_ir:
                kernels.add(fn, lambda b=base_ir, n=new_ir: [millions(b), millions(n),
                                                             ratio(b, n) if n else "n/a"])
        print()
        print(kernels.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
