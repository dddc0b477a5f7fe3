"""Arena bytes: utc's planner strategies vs the lower bound vs TFLite Micro (DESIGN.md §8).

For each model this compiles at -O2 once per memory-planning strategy (the -O2 pipeline
with `plan-memory{strategy=NAME}`), reads the fixed-order lower bound that plan-memory
records, and finds TFLite Micro's smallest working arena by bisection, all in one run, so
the ratios compare figures measured on the same code and the same models.

Why bisection for TFLM: TFLM does not report the arena a model needs up front, and what
users have to reserve is the smallest `arena_size` for which the interpreter both builds
and invokes. Each probe runs in a child process because TFLM crashes on a too-small arena.

With more than one model, a last line compiles them all together into one arena
(`utc compile A B ... --name app`): the sum of separate arenas against one shared
exclusive arena (the largest) and one --concurrent arena (disjoint parts).

With the Arm cross compiler and QEMU installed (or `--instructions`), each model is also
built for Cortex-M4 three times, -O2 without overlap-buffers, -O2 and --memory=min, and
run on QEMU: the arena each memory strategy saves against the instructions it costs
(exact counts, reference kernels) and the code it costs (.text + .rodata of the generated
code and kernels in that same firmware, from its linker map), beside patch-stages' own
estimate.

Run from the repository root:
    .venv/bin/python benchmarks/memory.py [--models NAME ...] [--models-dir DIR]
        [--instructions | --no-instructions]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    MODEL_NAME,
    Column,
    ModelInfo,
    Report,
    add_model_args,
    pipeline_with_strategy,
    ratio,
    read_model,
    seeded_inputs,
    select_models,
    tflm_generous_arena,
    tflm_probe,
    tflm_refusal,
)

#: Bisection step for TFLM's arena: the answer is the smallest multiple of this that works.
TFLM_GRANULARITY = 16
#: First arena tried when doubling towards a working upper bound.
TFLM_START = 1024


def tflm_smallest_arena(info: ModelInfo, scratch: Path) -> tuple[int | None, str]:
    """(smallest working arena in bytes, a multiple of TFLM_GRANULARITY; or None, why not).

    Doubles from TFLM_START to a working size (capped at a generous arena, which is
    checked first so a model TFLM refuses is not mistaken for one needing more memory),
    then bisects between the last failure and the first success. Assumes that an arena
    that works keeps working when made larger, which holds for TFLM's allocator.
    """
    inputs = seeded_inputs(info.inputs)
    refusal = tflm_refusal(info, inputs, scratch)
    if refusal:
        return None, refusal
    cap = tflm_generous_arena(info)
    lo, hi = 0, TFLM_START  # invariant once found: lo fails (0 trivially), hi works
    while not tflm_probe(info, hi, inputs, scratch)[0]:
        lo = hi
        if hi >= cap:
            return None, f"no arena up to {cap} bytes worked, though {cap} did before"
        hi = min(2 * hi, cap)
    while hi - lo > TFLM_GRANULARITY:
        mid = (lo + hi) // 2 // TFLM_GRANULARITY * TFLM_GRANULARITY
        if mid <= lo:
            mid = lo + TFLM_GRANULARITY
        if tflm_probe(info, mid, inputs, scratch)[0]:
            hi = mid
        else:
            lo = mid
    return hi, ""


def utc_arenas(path: Path, work: Path) -> tuple[dict[str, int], str, int, int, int, int]:
    """(arena per strategy, the -O2 default strategy, its arena, the lower bound, the bound
    without overlapping buffers, the bound with one buffer per tensor)."""
    from utc.compiler.driver import compile_model, pipeline_for
    from utc.dialects.func import main_function
    from utc.passes.planning.allocators import STRATEGIES

    default = main_function(compile_model(path, work / "default", name=MODEL_NAME, opt_level=2).module)
    arenas = {}
    for strategy in STRATEGIES:
        result = compile_model(path, work / strategy, name=MODEL_NAME,
                               pipeline=pipeline_with_strategy(pipeline_for(2), strategy))
        arenas[strategy] = int(main_function(result.module).arena_bytes)
    bound = int(default.lower_bound)
    return (arenas, str(default.plan_strategy), int(default.arena_bytes), bound,
            int(default.attrs.get("no_overlap_lower_bound", bound)),
            int(default.attrs.get("copy_lower_bound", bound)))


def patched(path: Path, work: Path) -> list[str]:
    """[arena, estimated instruction ratio] of the -O2 compile with --memory=min
    (patch-stages) against plain -O2, from patch-stages' per-kernel cost model."""
    from utc.compiler.driver import compile_model
    from utc.dialects.func import main_function
    from utc.passes.patch_stages import total_instructions

    plain = main_function(compile_model(path, work / "plain", name=MODEL_NAME).module)
    fn = main_function(compile_model(path, work / "min", name=MODEL_NAME, memory="min").module)
    return [str(fn.arena_bytes), ratio(total_instructions(fn), total_instructions(plain))]


#: The tools measuring instructions: the Arm cross compiler and QEMU.
CROSS_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm")
#: The Cortex-M4 target instructions are counted on (QEMU, exact counts).
TARGET = "cortex-m4"


def missing_cross_tools() -> list[str]:
    """The tools of `CROSS_TOOLS` not on PATH."""
    return [t for t in CROSS_TOOLS if shutil.which(t) is None]


def strategy_instructions(path: Path, work: Path) -> list[str]:
    """Per memory strategy, the arena, the instructions of one inference on Cortex-M4
    (reference kernels, built with arm-none-eabi-gcc, counted on QEMU) and the code bytes
    of that firmware (generated code and kernels, .text + .rodata, from the linker map):
    -O2 without overlap-buffers (the baseline), -O2, and -O2 --memory=min; the latter two's
    instructions also as a ratio to the baseline. The three builds must give the same outputs (their FNV-1a on
    the firmware's fixed input), else the row fails: a memory strategy never changes
    what the model computes."""
    import numpy as np
    from utc.codegen import cortex_m
    from utc.compiler.driver import compile_model, pipeline_for
    from utc.compiler.driver.cli import io_specs
    from utc.dialects.func import main_function

    o2 = pipeline_for(2, "reference", TARGET)
    no_overlap = o2.replace("overlap-buffers,", "")
    if no_overlap == o2:
        raise RuntimeError(f"the -O2 pipeline has no overlap-buffers pass to leave out: {o2}")
    runs = []
    for label, options in (("no-overlap", {"pipeline": no_overlap}), ("O2", {}),
                           ("min", {"memory": "min"})):
        out = work / f"m4-{label}"
        result = compile_model(path, out, name=MODEL_NAME, kernels="reference", target=TARGET,
                               **options)
        ins, outs = io_specs(result.module)
        spec = [[{"bytes": int(np.prod(x)) * np.dtype(d).itemsize, "dtype": np.dtype(d).name}
                 for x, d in s] for s in (ins, outs)]
        fw = cortex_m.build_firmware(out, MODEL_NAME, TARGET, work / f"m4-build-{label}",
                                     model_inputs=spec[0], model_outputs=spec[1])
        run = cortex_m.run_firmware(fw)
        runs.append((int(main_function(result.module).arena_bytes), run.instructions, run.fnv1a,
                     fw.code_bytes))
    if len({h for _, _, h, _ in runs}) != 1:
        raise RuntimeError(f"outputs differ between memory strategies: {[h for _, _, h, _ in runs]}")
    (a0, i0, _, c0), (a1, i1, _, c1), (a2, i2, _, c2) = runs
    return [str(a0), f"{i0:,}", str(c0), str(a1), f"{i1:,}", ratio(i1, i0), str(c1), str(a2),
            f"{i2:,}", ratio(i2, i0), str(c2)]


def main(argv: list[str] | None = None) -> int:
    from utc.passes.planning.allocators import STRATEGIES

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"TFLM's arena is found by bisection to {TFLM_GRANULARITY} bytes.")
    add_model_args(parser)
    parser.add_argument("--instructions", action=argparse.BooleanOptionalAction, default=None,
                        help="measure Cortex-M4 instructions per memory strategy (arm-none-eabi-gcc "
                             "and qemu-system-arm); default: on when those tools are installed")
    args = parser.parse_args(argv)
    missing = missing_cross_tools()
    if args.instructions and missing:
        print(f"error: --instructions needs {', '.join(missing)} (Debian packages "
              "gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm)", file=sys.stderr)
        return 1
    count = not missing if args.instructions is None else args.instructions
    models = select_models(args)

    strategies = list(STRATEGIES)
    columns = [Column("model", "the .tflite file", "<"),
               Column("copy bound", "fixed-order lower bound with one buffer per tensor (no views, "
                      "in-place kernels, folding or overlap): what a planner of separate "
                      "tensors can reach at best"),
               Column("no-overlap", "fixed-order lower bound of utc's buffers before "
                      "overlap-buffers lets convolution outputs overlap their dying inputs"),
               Column("bound", "fixed-order lower bound on the arena (plan-memory's `lower_bound`): "
                      "the most bytes live at any one step, in the order utc runs the ops")]
    columns += [Column(s, f"utc -O2 arena with plan-memory{{strategy={s}}}") for s in strategies]
    columns += [
        Column("utc/bound", "the -O2 default strategy's arena / bound (1.00x = provably optimal "
               "for this op order and these buffers)"),
        Column("TFLM min", f"TFLM's smallest working arena_size: interpreter creation and one "
               f"invoke succeed (bisection to {TFLM_GRANULARITY} B; includes TFLM's own "
               "interpreter structures)"),
        Column("TFLM/utc", "TFLM min / utc -O2 arena (how many times more RAM TFLM needs)"),
        Column("RAM 0-copy", "utc's RAM besides the stack with the zero-copy API "
               "(m_input/m_run/m_output): the -O2 arena, nothing else"),
        Column("I/O", "bytes of all inputs + outputs: the caller's buffers with NAME_invoke"),
        Column("RAM invoke", "utc's RAM with NAME_invoke: arena + the caller's I/O buffers"),
        Column("min arena", "utc -O2 --memory=min arena (patch-stages: the first layers tile "
               "by tile, within 15% more estimated instructions)"),
        Column("min est x", "estimated instructions with --memory=min / -O2 (patch-stages' "
               "Cortex-M4 cost model of utc's reference kernels, not a measurement)"),
        Column("M4 no-ovl arena", f"measured on {TARGET} (reference kernels, QEMU): arena at -O2 "
               "without the overlap-buffers pass, the baseline of the x columns"),
        Column("M4 no-ovl insns", "instructions of one inference at -O2 without overlap-buffers"),
        Column("M4 no-ovl code", "code bytes of that firmware: the generated code and kernels "
               "(.text + .rodata, from the linker map; weights, C library and start-up not "
               "counted)"),
        Column("M4 O2 arena", "arena at -O2 (the default pipeline)"),
        Column("M4 O2 insns", "instructions of one inference at -O2"),
        Column("O2 x", "-O2 instructions / the no-overlap baseline's"),
        Column("M4 O2 code", "code bytes at -O2"),
        Column("M4 min arena", "arena at -O2 --memory=min"),
        Column("M4 min insns", "instructions of one inference at -O2 --memory=min"),
        Column("min x", "--memory=min instructions / the no-overlap baseline's (measured)"),
        Column("M4 min code", "code bytes at -O2 --memory=min (the patch stage runs as a loop "
               "over a schedule table)"),
    ]
    measured_cells = 11
    report = Report(columns)
    defaults: set[str] = set()
    measured: list[Path] = []  # the models that compiled, for the shared-arena line
    with tempfile.TemporaryDirectory(prefix="utc-bench-memory-") as tmp:
        for index, path in enumerate(models):
            work = Path(tmp) / f"{index}"
            work.mkdir()

            def measure(path: Path = path, work: Path = work) -> list[str]:
                info = read_model(path)
                arenas, default, arena, bound, no_overlap, copy_bound = utc_arenas(path, work)
                defaults.add(default)
                tflm, why = tflm_smallest_arena(info, work)
                if tflm is None:
                    report.notes.append(f"{path.name}: TFLM n/a: {why}")
                io = info.input_bytes + info.output_bytes
                measured.append(path)
                return [str(copy_bound), str(no_overlap), str(bound),
                        *(str(arenas[s]) for s in strategies), ratio(arena, bound),
                        "n/a" if tflm is None else str(tflm),
                        "n/a" if tflm is None else ratio(tflm, arena),
                        str(arena), str(io), str(arena + io), *patched(path, work),
                        *(strategy_instructions(path, work) if count else ["-"] * measured_cells)]

            report.add(path.name, measure)
    report.notes.insert(0, f"Ratios use the -O2 default strategy ({', '.join(sorted(defaults)) or '?'}). "
                           "All figures are bytes unless marked x.")
    if not count:
        why = (f"{', '.join(missing)} not found" if missing else "--no-instructions")
        report.notes.append(f"M4 columns not measured ({why}): Cortex-M4 instructions need "
                            "arm-none-eabi-gcc and qemu-system-arm.")
    print(report.render())
    if len(measured) > 1:
        print(shared_arena_summary(measured))
    return 1 if report.failed else 0


def shared_arena_summary(models: list[Path]) -> str:
    """All the selected models compiled together (`utc compile A B ... --name app`): the
    RAM of separate folders (the sum of their arenas) against one exclusive arena (the
    largest) and one concurrent arena (disjoint parts)."""
    from utc.compiler.driver import compile_models
    from utc.dialects.func import main_function

    specs = [(path, f"m{i}") for i, path in enumerate(models)]
    with tempfile.TemporaryDirectory(prefix="utc-bench-shared-") as tmp:
        exclusive = compile_models(specs, Path(tmp) / "x", name="app")
        concurrent = compile_models(specs, Path(tmp) / "c", name="app", concurrent=True)
    arenas = [int(main_function(c.module).arena_bytes) for c in exclusive.compilations]
    return (f"\nSeveral models, one arena ({len(models)} models compiled together): separate "
            f"arenas {sum(arenas)} B; shared exclusive (one model at a time) "
            f"{exclusive.arena_bytes} B = the largest; shared --concurrent "
            f"{concurrent.arena_bytes} B (disjoint parts, each aligned).")


if __name__ == "__main__":
    sys.exit(main())
