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

Run from the repository root (needs the cross compiler, QEMU and CMSIS_NN_PATH, default
../shared/third_party/CMSIS-NN):
    .venv/bin/python benchmarks/cortex_m.py [--target cortex-m4] [--flags default-mix|Os]
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

from benchmarks.common import REPO_ROOT, Column, Report, add_model_args, select_models  # noqa: E402

ANCHORS = REPO_ROOT.parent / "shared" / "anchors" / "tflm-cortex-m4.json"
CMSIS_NN = REPO_ROOT.parent / "shared" / "third_party" / "CMSIS-NN"
COLUMNS = [
    Column("model", "the .tflite file", "<"),
    Column("kernels", "utc's --kernels", "<"),
    Column("insns", "instructions of one inference (QEMU, exact)"),
    Column("/ref", "utc insns / TFLM reference kernels insns"),
    Column("/cmsis", "utc insns / TFLM + CMSIS-NN (int8-only registrations) insns"),
    Column("code B", "generated code + kernel objects linked (utc and CMSIS-NN)"),
    Column("/cmsis", "utc code / TFLM + CMSIS-NN int8-only code (framework, kernels, CMSIS-NN)"),
    Column("weights B", "constants in flash (weights, requantization tables)"),
    Column("arena B", "utc's arena, scratch included"),
    Column("stack B", "stack used below main during the inference"),
    Column("RAM/TFLM", "(arena + stack) / (TFLM smallest arena + stack), reference kernels"),
    Column("hash", "output FNV-1a equals TFLM's on this board (ok / DIFF / no anchor)"),
]


def _anchor(anchors: dict, model: str, flags: str, kernels: str) -> dict:
    return anchors.get("models", {}).get(model, {}).get(flags, {}).get(kernels, {})


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}" if b else "-"


def measure(path: Path, kernels: str, target: str, flags: str, anchors: dict,
            ratios: dict) -> list[str]:
    from utc.codegen import cortex_m
    from utc.compiler.driver import compile_model
    from utc.compiler.driver.cli import io_specs
    from utc.dialects.func import main_function

    with tempfile.TemporaryDirectory(prefix="utc-bench-m-") as tmp:
        out = Path(tmp) / "out"
        result = compile_model(path, out, name="model", kernels=kernels, target=target)
        ins, outs = io_specs(result.module)
        spec = lambda s: [{"bytes": int(np.prod(x)) * np.dtype(d).itemsize,  # noqa: E731
                           "dtype": np.dtype(d).name} for x, d in s]
        fw = cortex_m.build_firmware(out, "model", target, Path(tmp) / "build", flags=flags,
                                     model_inputs=spec(ins), model_outputs=spec(outs))
        run = cortex_m.run_firmware(fw)
    arena = int(main_function(result.module).attrs["arena_bytes"])
    name = path.stem
    ref = _anchor(anchors, name, flags, "reference") if target == "cortex-m4" else {}
    cmsis = _anchor(anchors, name, flags, "cmsis-nn-int8") if target == "cortex-m4" else {}
    if ref and not ref.get("stack_below_main_bytes"):  # stack was measured at one flag set
        ref = {**ref, "stack_below_main_bytes": _anchor(anchors, name, "default-mix",
                                                        "reference").get("stack_below_main_bytes")}
    tflm_ram = ((ref.get("smallest_arena_bytes") or 0) + (ref.get("stack_below_main_bytes") or 0)
                if ref.get("smallest_arena_bytes") else None)
    want = ref.get("output_fnv1a")
    if cmsis.get("invoke_insns"):
        ratios.setdefault(kernels, []).append(run.instructions / cmsis["invoke_insns"])
    return [kernels, f"{run.instructions:,}", _ratio(run.instructions, ref.get("invoke_insns")),
            _ratio(run.instructions, cmsis.get("invoke_insns")), f"{fw.code_bytes:,}",
            _ratio(fw.code_bytes, cmsis.get("code_total_bytes")), f"{fw.weight_bytes:,}",
            f"{arena:,}", f"{run.stack_bytes:,}", _ratio(arena + run.stack_bytes, tflm_ram),
            "-" if want is None else ("ok" if run.fnv1a == want else "DIFF")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(parser)
    parser.add_argument("--target", default="cortex-m4", help="default: cortex-m4")
    parser.add_argument("--flags", default="default-mix", choices=["default-mix", "Os", "O2"],
                        help="TFLite Micro's default mix (kernels -O2, rest -Os), or one level")
    parser.add_argument("--kernels", nargs="+", default=["auto", "cmsis-nn", "reference"],
                        choices=["auto", "cmsis-nn", "reference"])
    args = parser.parse_args(argv)
    os.environ.setdefault("CMSIS_NN_PATH", str(CMSIS_NN))
    anchors = json.loads(ANCHORS.read_text()) if ANCHORS.is_file() else {}
    report = Report(COLUMNS)
    ratios: dict[str, list[float]] = {}
    for path in select_models(args):
        for kernels in args.kernels:
            report.add(path.name, lambda p=path, k=kernels: measure(p, k, args.target,
                                                                    args.flags, anchors, ratios))
    report.notes.append(f"target {args.target} on QEMU, flags {args.flags}; TFLM figures from "
                        f"{ANCHORS.name}" + ("" if anchors else " (not found: no ratios)"))
    for kernels, values in ratios.items():
        geo = math.exp(sum(math.log(v) for v in values) / len(values))
        report.notes.append(f"--kernels {kernels}: instructions / TFLM+CMSIS-NN, geometric mean "
                            f"{geo:.2f}, worst {max(values):.2f} ({len(values)} models)")
    print(report.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
