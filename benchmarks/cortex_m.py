"""utc on emulated Cortex-M against TensorFlow Lite Micro's measured numbers.

For every model, utc compiles it for the target with each kernel choice, builds the
firmware with arm-none-eabi-gcc at TFLite Micro's own flag mix (kernels -O2, the rest
-Os) or at -Os, and runs it on QEMU (codegen/cortex_m.py): instructions of one inference,
code bytes (generated code + utc and CMSIS-NN kernel objects linked, from the linker map;
no weights, C library, start-up or test main), weight bytes, arena, stack below main,
and whether the output hash equals the one TFLite Micro printed on the same board. The
ratios divide by TFLite Micro's figures in ../shared/anchors/tflm-cortex-m4.json, measured
with the same method and input rule: its reference kernels and its int8-only CMSIS-NN
build ("smallest TFLM+CMSIS-NN").

Each model is compiled once per kernel choice and built at every flag set asked for
(default: both), so one table holds both. TFLite Micro's figures exist for Cortex-M4 only:
on another target (cortex-m55, ...) the ratio columns are "-" and utc's numbers stand
alone; the output hash still compares, since bit-exact outputs are the same everywhere.

Run from the repository root (needs the cross compiler, QEMU and CMSIS_NN_PATH, default
../shared/third_party/CMSIS-NN):
    .venv/bin/python benchmarks/cortex_m.py [--target cortex-m4] [--flags default-mix Os]
        [--kernels auto cmsis-nn reference] [--models NAME ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utc.codegen.targets import TARGETS  # noqa: E402

from benchmarks.common import REPO_ROOT, Column, Report, add_model_args, select_models  # noqa: E402

ANCHORS = REPO_ROOT.parent / "shared" / "anchors" / "tflm-cortex-m4.json"
CMSIS_NN = REPO_ROOT.parent / "shared" / "third_party" / "CMSIS-NN"
#: the targets a QEMU board runs (codegen/targets.py)
RUNNABLE = [name for name, t in TARGETS.items() if t.board is not None]
#: short names of the flag sets in column headers
FLAG_LABEL = {"default-mix": "mix", "Os": "Os", "O2": "O2"}


def columns(flag_sets: list[str]) -> list[Column]:
    """The table: per flag set, instructions, code and stack with their ratios; then what
    does not depend on the flags."""
    cols = [Column("model", "the .tflite file", "<"), Column("kernels", "utc's --kernels", "<")]
    for flags in flag_sets:
        f = FLAG_LABEL[flags]
        cols += [
            Column(f"insns {f}", f"instructions of one inference at {flags} (QEMU, exact)"),
            Column(f"/ref {f}", "utc insns / TFLM reference kernels insns (same flags)"),
            Column(f"/cmsis {f}", "utc insns / TFLM + CMSIS-NN int8-only registrations insns"),
            Column(f"code B {f}", "generated code + kernel objects linked (utc and CMSIS-NN; "
                   "no weights, libc, start-up)"),
            Column(f"code/cmsis {f}", "utc code / TFLM + CMSIS-NN int8-only code (framework, "
                   "kernels, CMSIS-NN)"),
            Column(f"stack B {f}", "stack used below main during the inference"),
        ]
    return cols + [
        Column("weights B", "constants in flash (weights, requantization tables)"),
        Column("arena B", "utc's arena, scratch included"),
        Column("RAM/TFLM", "(arena + stack) / (TFLM smallest arena + stack), reference "
               "kernels, first flag set"),
        Column("hash", "output FNV-1a equals the one TFLM printed on Cortex-M4 at every flag "
               "set (ok / DIFF / - : no anchor); bit-exact outputs are the same on any target"),
    ]


def _anchor(anchors: dict, model: str, flags: str, kernels: str) -> dict:
    return anchors.get("models", {}).get(model, {}).get(flags, {}).get(kernels, {})


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}" if b else "-"


def measure(path: Path, kernels: str, target: str, flag_sets: list[str], anchors: dict,
            ratios: dict, work: Path) -> list[str]:
    """One row: the model compiled once, built at every flag set and run on QEMU."""
    from utc.codegen import cortex_m
    from utc.compiler.driver import compile_model
    from utc.compiler.driver.cli import io_specs
    from utc.dialects.func import main_function

    out = work / "out"
    result = compile_model(path, out, name="model", kernels=kernels, target=target)
    ins, outs = io_specs(result.module)
    spec = lambda s: [{"bytes": int(np.prod(x)) * np.dtype(d).itemsize,  # noqa: E731
                       "dtype": np.dtype(d).name} for x, d in s]
    arena = int(main_function(result.module).arena_bytes)
    name = path.stem
    cells: list[str] = [kernels]
    hashes, stacks, weights = [], [], []
    for flags in flag_sets:
        fw = cortex_m.build_firmware(out, "model", target, work / f"build-{flags}", flags=flags,
                                     model_inputs=spec(ins), model_outputs=spec(outs))
        run = cortex_m.run_firmware(fw)
        ref = _anchor(anchors, name, flags, "reference") if target == "cortex-m4" else {}
        cmsis = _anchor(anchors, name, flags, "cmsis-nn-int8") if target == "cortex-m4" else {}
        if cmsis.get("invoke_insns"):
            ratios.setdefault((kernels, flags), []).append(run.instructions / cmsis["invoke_insns"])
        cells += [f"{run.instructions:,}", _ratio(run.instructions, ref.get("invoke_insns")),
                  _ratio(run.instructions, cmsis.get("invoke_insns")), f"{fw.code_bytes:,}",
                  _ratio(fw.code_bytes, cmsis.get("code_total_bytes")), f"{run.stack_bytes:,}"]
        hashes.append(run.fnv1a)
        stacks.append(run.stack_bytes)
        weights.append(fw.weight_bytes)
    if len(set(weights)) != 1:
        raise RuntimeError(f"weight bytes differ between flag sets: {weights}")
    # TFLite Micro's smallest RAM; its stack was measured at the default mix (and some
    # flag sets), its arena does not depend on the flags
    ref = _anchor(anchors, name, flag_sets[0], "reference") if target == "cortex-m4" else {}
    tflm_stack = ref.get("stack_below_main_bytes") or _anchor(
        anchors, name, "default-mix", "reference").get("stack_below_main_bytes")
    tflm_ram = (ref["smallest_arena_bytes"] + tflm_stack
                if ref.get("smallest_arena_bytes") and tflm_stack else None)
    # TFLite Micro's output on the LCG input; bit-exact code gives it on every target
    want = _anchor(anchors, name, "default-mix", "reference").get("output_fnv1a")
    match = "-" if want is None else ("ok" if set(hashes) == {want} else "DIFF")
    return cells + [f"{weights[0]:,}", f"{arena:,}", _ratio(arena + stacks[0], tflm_ram), match]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(parser)
    parser.add_argument("--target", default="cortex-m4", choices=RUNNABLE,
                        help="default: cortex-m4 (the only target with TFLite Micro figures)")
    parser.add_argument("--flags", nargs="+", default=["default-mix", "Os"],
                        choices=["default-mix", "Os", "O2"],
                        help="TFLite Micro's default mix (kernels -O2, rest -Os) and/or one "
                        "level everywhere (default: default-mix Os)")
    parser.add_argument("--kernels", nargs="+", default=["auto", "cmsis-nn", "reference"],
                        choices=["auto", "cmsis-nn", "reference"])
    args = parser.parse_args(argv)
    os.environ.setdefault("CMSIS_NN_PATH", str(CMSIS_NN))
    anchors = json.loads(ANCHORS.read_text()) if ANCHORS.is_file() else {}
    flag_sets = list(dict.fromkeys(args.flags))
    report = Report(columns(flag_sets))
    ratios: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="utc-bench-m-") as tmp:
        for i, path in enumerate(select_models(args)):
            for kernels in args.kernels:
                work = Path(tmp) / f"{i}-{kernels}"
                report.add(path.name, lambda p=path, k=kernels, w=work: measure(
                    p, k, args.target, flag_sets, anchors, ratios, w))
    has_anchor = args.target == "cortex-m4" and anchors
    report.notes.append(f"target {args.target} on QEMU; TFLM figures from {ANCHORS.name}"
                        + ("" if has_anchor else " exist for cortex-m4 only: no ratios here"
                           if anchors else " (not found: no ratios)"))
    for (kernels, flags), values in ratios.items():
        geo = math.exp(sum(math.log(v) for v in values) / len(values))
        report.notes.append(f"--kernels {kernels} at {flags}: instructions / TFLM+CMSIS-NN, "
                            f"geometric mean {geo:.2f}, worst {max(values):.2f} "
                            f"({len(values)} models)")
    print(report.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
