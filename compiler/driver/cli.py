"""The `utc` command line: compile, run, verify, opt, inspect, list-passes, list-ops.

The contract with users (and with the fuzzer that holds utc to it):

* Every error a user can cause (a bad file, path, name or number, an unsupported op, an
  unknown pass, malformed IR, a model over a memory limit) prints one line
  `utc: error: ...` and exits with status 2, having written nothing. Arguments are
  checked before any work.
* Anything else escaping a command is a bug in utc: one line `utc: internal error: ...`
  (with the input's sha256 for the bug report) and status 3. Never a traceback, unless
  the developer asks for it with `UTC_TRACEBACK=1`.
* Messages are single printable lines whatever the input holds (`errors.one_line`).
* numpy floating-point errors (division by zero, overflow, invalid operations) raise
  instead of printing a RuntimeWarning: a scale or multiplier that became inf/nan would
  otherwise be compiled silently into wrong code, while as an exception it is one line
  and an internal error that the fuzzer reports. Underflow stays ignored (numpy's
  default): flushing a tiny value to zero is well-defined and part of normal
  fixed-point math (e.g. exp of a very negative logit).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import numpy as np
from utc.compiler.atomic import write_atomically
from utc.compiler.errors import UsageError, UtcError, one_line, printable
from utc.compiler.ir import VerifyError
from utc.compiler.ir.parser import ParseError

#: `utc verify`: the generated code and TFLite Micro differ beyond the tolerance.
EXIT_MISMATCH = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3

#: Largest IR text `utc opt` reads: hex weights take two characters a byte, so twice the
#: model limit plus room for the ops.
MAX_IR_BYTES = 2 * 256 * (1 << 20) + (16 << 20)
#: Largest `.npy` input `utc run` reads.
MAX_NPY_BYTES = 256 * (1 << 20)


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors follow utc's one-line contract (no usage block)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument (to check its metavar) and
        # every formatter asks the OS for the terminal's size: with utc's ~100 options
        # that was 5% of a small model's compile. The size is read once per process
        # (HelpFormatter's own default: the terminal's columns minus 2); help reads the same.
        return self.formatter_class(prog=self.prog, width=_help_width())

    def error(self, message: str) -> NoReturn:
        unknown = re.fullmatch(r"argument --report/--report=text: ignored explicit argument "
                               r"'(.*)'", message)
        if unknown:  # `--report=FORMAT` with a format that is not an option of its own
            message = (f"--report: unknown format '{unknown.group(1)}' (--report or "
                       "--report=text for the table, --report=json for JSON)")
        if message.startswith("unrecognized arguments: ") and ".tflite" in message:
            # `utc compile A.tflite -o DIR B.tflite`: several models are one list
            message += (" (several models are given together, one after the other: "
                        "utc compile A.tflite B.tflite -o DIR)")
        sys.stderr.write(f"utc: error: {one_line(message)} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_USER_ERROR)


_HELP_WIDTH: list[int] = []


def _help_width() -> int:
    if not _HELP_WIDTH:
        import shutil

        _HELP_WIDTH.append(shutil.get_terminal_size().columns - 2)
    return _HELP_WIDTH[0]


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {2**32 - 1}, "
                                         f"got '{printable(text)}'")
    return value


def _positive_count(text: str) -> int:
    from utc.compiler.driver.verify import MAX_SAMPLES

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to {MAX_SAMPLES}, got "
                                         f"'{printable(text)}'")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got '{printable(text)}'")
    return value


def _byte_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of bytes, got "
                                         f"'{printable(text)}'")
    return value


class _VersionAction(argparse.Action):
    """`--version`, looking the installed version up only when asked: importlib.metadata
    would cost every command start-up time."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"utc {_version()}")  # to stdout, as argparse's own version action
        parser.exit()


def _version() -> str:
    from utc.compiler.version import installed_version

    return installed_version()


def _add_instrumentation(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("IR inspection")
    g.add_argument("--print-ir-after-all", action="store_true",
                   help="print the IR after every pass (to stderr)")
    g.add_argument("--print-ir-before", action="append", default=[], metavar="PASS",
                   help="print the IR before PASS (repeatable)")
    g.add_argument("--print-ir-after", action="append", default=[], metavar="PASS",
                   help="print the IR after PASS (repeatable)")
    g.add_argument("--print-ir-after-change", action="store_true",
                   help="print the IR after every pass that changed it")
    g.add_argument("--dump-ir-dir", metavar="DIR",
                   help="write the IR after each pass to DIR/NN-<pass>.utc")
    g.add_argument("--elide-resources", action="store_true",
                   help="print large weights as 'elided' and small constants (at most "
                        "64 elements) as numbers, instead of everything as hex")
    g.add_argument("--print-loc", action="store_true",
                   help="print each op's loc(...) (--dump-ir-dir files always have them)")
    g.add_argument("--verify-each", action="store_true", help="run the verifier after each pass")
    g.add_argument("--timing", action="store_true",
                   help="print time spent in each pass, and in start-up, imports, reading the "
                   "model and emitting code")
    g.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py",
                   help="load a Python file that registers passes")


def _instrumentation(args: argparse.Namespace):
    """The Instrumentation the options ask for, after checking them: plugins load, the
    passes named by --print-ir-before/after exist, --dump-ir-dir can be a folder."""
    from utc.compiler import STARTED
    from utc.compiler.driver import check_output_dir, load_builtin_passes
    from utc.compiler.pass_manager import PASS_REGISTRY, Instrumentation, load_plugin

    startup = time.perf_counter() - STARTED
    load_builtin_passes()
    for plugin in args.load_pass_plugin:
        load_plugin(plugin)
    for option, names in (("--print-ir-before", args.print_ir_before),
                          ("--print-ir-after", args.print_ir_after)):
        for name in names:
            if name not in PASS_REGISTRY and name != "import-tflite":
                raise UsageError(unknown_pass_message(option, name))
    dump_dir = None
    if args.dump_ir_dir:
        dump_dir = check_output_dir(args.dump_ir_dir, "--dump-ir-dir")
    inst = Instrumentation(
        print_after_all=args.print_ir_after_all,
        print_before=tuple(args.print_ir_before),
        print_after=tuple(args.print_ir_after),
        print_after_change=args.print_ir_after_change,
        dump_dir=dump_dir,
        verify_each=args.verify_each,
        timing=args.timing,
        elide_resources=args.elide_resources,
        print_locations=args.print_loc,
    )
    inst.phases.append(("start-up: imports (numpy, utc's core) and the command line", startup))
    return inst


def unknown_pass_message(option: str, name: str) -> str:
    """The one line for an option naming a pass nobody declared or registered: the name,
    then every pass it could have been (a typo is seen at a glance; `import-tflite` is
    the importer, whose IR `--print-ir-after` also shows)."""
    from utc.compiler.pass_manager import PASS_REGISTRY

    known = ", ".join(sorted([*PASS_REGISTRY, "import-tflite"]))
    return (f"{option}: unknown pass '{printable(name)}' (known passes: {known}; `utc "
            "list-passes` describes them)")


def _add_model_limit(p: argparse.ArgumentParser) -> None:
    from utc.compiler.driver import DEFAULT_MAX_MODEL_BYTES

    p.add_argument("--max-model-bytes", type=_byte_count, default=DEFAULT_MAX_MODEL_BYTES,
                   metavar="N", help="refuse a model file larger than N bytes "
                   f"(default {DEFAULT_MAX_MODEL_BYTES})")


def _add_compile_options(p: argparse.ArgumentParser) -> None:
    from utc.compiler.driver import DEFAULT_MAX_ARENA_BYTES, DEFAULT_MAX_WEIGHT_BYTES
    from utc.runtime.targets import TARGETS

    level = p.add_mutually_exclusive_group()
    for n in (0, 1, 2):
        level.add_argument(f"-O{n}", dest="opt", action="store_const", const=n,
                           help=f"optimization level {n}" + (" (default)" if n == 2 else ""))
    p.set_defaults(opt=2)
    p.add_argument("--pipeline", help="explicit pass pipeline (overrides -O)")
    p.add_argument("--kernels", default="auto", choices=["auto", "cmsis-nn", "reference"],
                   help="kernel library: CMSIS-NN where its constraints hold on the target, "
                   "utc's reference kernels elsewhere (cmsis-nn), utc's only (reference), or "
                   "CMSIS-NN on Cortex-M targets and reference on the host (auto, default)")
    p.add_argument("--target", default="host", choices=list(TARGETS),
                   help="the processor the code is for (default host)")
    p.add_argument("--max-arena-bytes", type=_byte_count, default=DEFAULT_MAX_ARENA_BYTES,
                   metavar="N", help="refuse a model whose arena needs more than N bytes "
                   f"(default {DEFAULT_MAX_ARENA_BYTES})")
    p.add_argument("--max-weight-bytes", type=_byte_count, default=DEFAULT_MAX_WEIGHT_BYTES,
                   metavar="N", help="refuse a model whose weights take more than N bytes "
                   f"(default {DEFAULT_MAX_WEIGHT_BYTES})")
    p.add_argument("--memory-region", action="append", default=[], metavar="NAME:BYTES[:SECTION]",
                   help="plan the arena into this memory region (repeat for several, fastest "
                   "first): at most BYTES there, one array per region, put in linker section "
                   "SECTION when given; the hottest buffers go first")
    p.add_argument("--memory", default="default", choices=["default", "min"],
                   help="min: also run the first layers tile by tile (patch-stages) where that "
                   "lowers the arena, within --max-recompute more instructions")
    p.add_argument("--max-recompute", type=float, default=0.15, metavar="F",
                   help="with --memory=min: at most this fraction more instructions (MACs) "
                   "than without tiling (default 0.15)")
    _add_model_limit(p)


def _limits(args: argparse.Namespace) -> dict:
    return {"max_model_bytes": args.max_model_bytes, "max_arena_bytes": args.max_arena_bytes,
            "max_weight_bytes": args.max_weight_bytes, "memory_regions": args.memory_region,
            "memory": args.memory, "max_recompute": args.max_recompute}


def _write_atomically(path: Path, write) -> None:
    """A user's output file, written atomically (compiler/atomic.py): a failure leaves no
    truncated file behind and is one clear line."""
    try:
        write_atomically(path, write)
    except OSError as exc:
        raise UtcError(f"{printable(path)}: cannot write file ({printable(exc.strerror or exc)})"
                       ) from None


def _add_keras_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Keras models (.keras, .h5; TensorFlow: pip install 'utc[tf]')")
    g.add_argument("--calibration", action="append", default=[], metavar="SAMPLES.npy",
                   help="representative inputs that quantize a Keras MODEL: [N, ...input "
                   "shape] (one file per model input)")
    g.add_argument("--quantize", choices=["int8", "16x8"],
                   help="for a Keras MODEL: full int8 (default) or 16x8 (int16 activations)")


def _keras_model(args: argparse.Namespace) -> bytes | None:
    """For a Keras MODEL, the TFLite bytes TensorFlow's converter quantizes it into with
    the --calibration samples (after every cheaper check of the command); else None."""
    from utc.compiler.driver.keras import is_keras_file, keras_model_bytes

    arrays = [_load_npy(p) for p in args.calibration] if is_keras_file(args.model) else None
    return keras_model_bytes(args.model, arrays, args.calibration, args.quantize,
                             args.max_model_bytes)


def _report_files(fmt: str | None):
    """The files `--report` adds to the output folder (written with the code, in the
    same staging folder): the arena map, and for `--report=json` the report itself."""
    if fmt is None:
        return None

    def files(comp) -> dict[str, bytes]:
        from utc.compiler.driver.report import memory_svg

        out = {"memory.svg": memory_svg(comp.module).encode()}
        if fmt == "json":
            from utc.compiler.driver.footprint import measure_footprint
            from utc.compiler.driver.report_json import report_json

            out["report.json"] = report_json(comp, measure_footprint(comp)).encode()
        return out

    return files


def cmd_compile(args: argparse.Namespace) -> int:
    from utc.compiler.driver import check_c_name, compile_model

    args.model = args.models[0]
    if len(args.models) > 1:
        return _compile_app(args)
    if args.concurrent:
        raise UsageError("--concurrent needs several models (utc compile A.tflite B.tflite "
                         "--concurrent ...)")
    args.name = "model" if args.name is None else args.name
    check_c_name(args.name)
    placement = _placement(args)
    inst = _instrumentation(args)
    keras = _keras_model(args)
    result = compile_model(keras or args.model, args.output, name=args.name, opt_level=args.opt,
                           pipeline=args.pipeline, kernels=args.kernels, target=args.target,
                           inst=inst, extra_files=_report_files(args.report),
                           placement=placement, label=args.model if keras else None,
                           **_limits(args))
    if args.report == "json":
        # stdout is the document alone, so it pipes straight into a JSON reader
        sys.stdout.write((Path(args.output) / "report.json").read_text())
        return 0
    fn = _main(result.module)
    print(f"utc: wrote {len(result.files)} files to {printable(args.output)} "
          f"(arena {fn.attrs['arena_bytes']} B, lower bound {fn.attrs['lower_bound']} B)")
    if args.report:
        from utc.compiler.driver.footprint import measure_footprint
        from utc.compiler.driver.report import format_report

        comp = result.compilation
        sys.stdout.write("\n" + format_report(result.module, comp.op_types,
                                               measure_footprint(comp)))
        print(f"\nutc: wrote the arena map to {printable(Path(args.output) / 'memory.svg')}")
    return 0


def _compile_app(args: argparse.Namespace) -> int:
    """`utc compile A B ... --name app`: several models in one folder, one arena."""
    from utc.compiler.driver import check_c_name, compile_models, parse_model_spec

    app = "app" if args.name is None else args.name
    check_c_name(app)
    for option, given in (("--memory-region", args.memory_region),
                          ("--calibration", args.calibration), ("--quantize", args.quantize),
                          ("--dump-ir-dir", args.dump_ir_dir)):
        if given:
            raise UsageError(f"{option} cannot be combined with several models in one arena")
    models = [parse_model_spec(spec) for spec in args.models]
    from utc.compiler.driver.keras import is_keras_file

    for path, _ in models:
        if is_keras_file(path):
            raise UsageError(f"{printable(path)}: a Keras model cannot be compiled with other "
                             "models; convert it to .tflite first (utc.convert_keras)")
    placement = _placement(args)
    inst = _instrumentation(args)

    def report_files(result) -> dict[str, bytes]:
        from utc.compiler.driver.report import app_memory_svg

        files = {"memory.svg": app_memory_svg(result).encode()}
        if args.report == "json":
            from utc.compiler.driver.footprint import measure_footprint
            from utc.compiler.driver.report_json import app_report_json

            files["report.json"] = app_report_json(
                result, [measure_footprint(c) for c in result.compilations]).encode()
        return files

    result = compile_models(models, args.output, name=app, concurrent=args.concurrent,
                            opt_level=args.opt, pipeline=args.pipeline, kernels=args.kernels,
                            target=args.target, inst=inst,
                            max_model_bytes=args.max_model_bytes,
                            max_arena_bytes=args.max_arena_bytes,
                            max_weight_bytes=args.max_weight_bytes,
                            extra_files=report_files if args.report else None,
                            placement=placement, memory=args.memory,
                            max_recompute=args.max_recompute)
    if args.report == "json":
        sys.stdout.write((Path(args.output) / "report.json").read_text())
        return 0
    parts = ", ".join(f"{c.name} {_main(c.module).attrs['arena_bytes']} B"
                      for c in result.compilations)
    how = "sum, concurrent" if result.concurrent else "largest, exclusive"
    print(f"utc: wrote {len(result.files)} files to {printable(args.output)} "
          f"({len(result.compilations)} models, shared arena {result.arena_bytes} B ({how}): "
          f"{parts})")
    if args.report:
        from utc.compiler.driver.footprint import measure_footprint
        from utc.compiler.driver.report import format_app_report

        sys.stdout.write("\n" + format_app_report(
            result, [measure_footprint(c) for c in result.compilations]))
        print(f"\nutc: wrote the arena map to {printable(Path(args.output) / 'memory.svg')}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Every problem that stops the model, one a line; exit 1 if any, else 0."""
    from utc.compiler.driver.check import check_model_support

    result = check_model_support(args.model, opt_level=args.opt, pipeline=args.pipeline,
                                 kernels=args.kernels, target=args.target, **_limits(args))
    shown = printable(args.model)
    if not result.problems:
        print(f"ok: {result.operators} operators, all supported")
        return 0
    count = len(result.problems)
    print(f"{shown}: {count} problem{'s' if count != 1 else ''} stop this model "
          f"({result.operators} operators):")
    for problem in result.problems:
        print(f"  {problem}")
    return 1


def _main(module):
    from utc.dialects.func import main_function

    return main_function(module)


def io_specs(module) -> tuple[list, list]:
    """(shape, numpy dtype) of the inputs and outputs of a bufferized module."""
    from utc.compiler.driver.model_io import io_specs as specs

    return specs(module)


def _load_npy(path: str) -> np.ndarray:
    """One array from a .npy file (bounded read, no pickles), or a one-line UtcError."""
    from utc.compiler.driver import read_bounded

    data = read_bounded(path, MAX_NPY_BYTES, "the .npy file")
    try:
        x = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise UtcError(f"{printable(path)}: cannot read .npy file ({printable(exc)})") from None
    if not isinstance(x, np.ndarray):
        raise UtcError(f"{printable(path)}: expected one array (.npy), got an archive (.npz)")
    return x


def cmd_run(args: argparse.Namespace) -> int:
    from utc.codegen.host_build import build_runner, run_runner
    from utc.compiler.driver import check_model_file, check_output_file, compile_model
    from utc.compiler.driver.model_io import check_inputs, random_inputs

    # everything the user named is checked (and inputs read) before compiling
    check_model_file(args.model, args.max_model_bytes)
    if args.target != "host":
        from utc.codegen import cortex_m

        cortex_m.check_tools(args.target)
    elif args.profile:
        raise UsageError("--profile counts instructions on QEMU: give a Cortex-M --target")
    _load_plugins(args.load_pass_plugin)  # before compiling: --pipeline may name their passes
    loaded = [_load_npy(p) for p in args.input or ()]
    targets = [check_output_file(p, "--output") for p in args.output or ()]
    keras = _keras_model(args)
    with tempfile.TemporaryDirectory(prefix="utc-run-") as tmp:
        out = Path(tmp) / "out"
        result = compile_model(keras or args.model, out, name="model", opt_level=args.opt,
                               pipeline=args.pipeline, kernels=args.kernels,
                               target=args.target, label=args.model if keras else None,
                               **_limits(args))
        in_specs, out_specs = io_specs(result.module)
        if args.input:
            inputs = check_inputs(in_specs, loaded, args.input, "--input files")
        else:
            inputs = random_inputs(np.random.default_rng(args.seed), in_specs)
        if targets and len(targets) != len(out_specs):
            raise UtcError(f"the model has {len(out_specs)} outputs, got {len(targets)} "
                           "--output files")
        if args.target != "host":
            outputs = _run_on_qemu(args, result.module, out, Path(tmp) / "build", inputs,
                                   in_specs, out_specs)
        else:
            exe = build_runner(out, "model", len(in_specs), len(out_specs), Path(tmp) / "build")
            (outputs,) = run_runner(exe, [inputs], out_specs)
    np.set_printoptions(threshold=64, linewidth=100)
    for i, x in enumerate(inputs):
        if not args.input:
            print(f"input {i} (random, seed {args.seed}): {x.dtype.name} {list(x.shape)}\n{x}")
    for i, y in enumerate(outputs):
        if targets:
            _write_atomically(targets[i], lambda f, y=y: np.save(f, y, allow_pickle=False))
            print(f"output {i}: {y.dtype.name} {list(y.shape)} -> {printable(args.output[i])}")
        else:
            print(f"output {i}: {y.dtype.name} {list(y.shape)}\n{y}")
    return 0


def _run_on_qemu(args: argparse.Namespace, module, out: Path, build: Path, inputs,
                 in_specs, out_specs) -> list[np.ndarray]:
    """Build firmware for the target, run it on QEMU, print the instructions of one
    inference (and with --profile, of each layer next to its MACs)."""
    from utc.codegen import cortex_m
    from utc.compiler.driver.report import layer_rows

    spec = lambda specs: [{"bytes": int(np.prod(s)) * np.dtype(d).itemsize,  # noqa: E731
                           "dtype": np.dtype(d).name} for s, d in specs]
    raw = [np.ascontiguousarray(x).tobytes() for x in inputs]
    fw = cortex_m.build_firmware(out, "model", args.target, build, inputs=raw,
                                 model_inputs=spec(in_specs), model_outputs=spec(out_specs),
                                 profile=args.profile)
    run = cortex_m.run_firmware(fw, profile=args.profile)
    board = cortex_m.board(args.target)
    hooks = " (with the per-layer hooks)" if args.profile else ""
    print(f"{args.target} (QEMU {board.machine}): {run.instructions:,} instructions for one "
          f"inference{hooks}; code {fw.code_bytes:,} B, weights {fw.weight_bytes:,} B, stack "
          f"{run.stack_bytes:,} B, arena {_main(module).attrs['arena_bytes']:,} B")
    if args.profile:
        rows = layer_rows(module)
        print(f"\n{'step':>4}  {'kernel':<34} {'MACs':>11} {'instructions':>13} {'insns/MAC':>9}")
        for row, n in zip(rows, run.layers, strict=True):
            ratio = f"{n / row.macs:.2f}" if row.macs else "-"
            print(f"{row.step:>4}  {row.kernel:<34} {row.macs:>11,} {n:>13,} {ratio:>9}")
        print(f"{'':>4}  {'total (sum of layers)':<34} {sum(r.macs for r in rows):>11,} "
              f"{sum(run.layers):>13,}")
    return [np.frombuffer(data, dtype=np.dtype(d)).reshape(s)
            for data, (s, d) in zip(run.outputs, out_specs)]


def _load_plugins(paths: list[str]) -> None:
    from utc.compiler.driver import load_builtin_passes
    from utc.compiler.pass_manager import load_plugin

    load_builtin_passes()
    for plugin in paths:
        load_plugin(plugin)


def cmd_verify(args: argparse.Namespace) -> int:
    from utc.compiler.driver import prepare_compile, read_bounded, run_compile
    from utc.compiler.driver.keras import is_keras_file
    from utc.compiler.driver.model_io import io_specs as specs_of
    from utc.compiler.driver.verify import (
        check_target,
        check_tolerance,
        npy_files,
        samples_from_arrays,
        verify_compilation,
        where_run,
    )

    # everything the user named is checked and read before compiling
    check_tolerance(args.atol, "--atol")
    check_tolerance(args.rtol, "--rtol")
    if args.input and args.samples is not None:
        raise UsageError("--samples counts random inputs: give it or --input, not both")
    check_target(args.target)  # a Cortex-M target runs on QEMU: its tools must be there
    _load_plugins(args.load_pass_plugin)
    model = None if is_keras_file(args.model) else read_bounded(args.model, args.max_model_bytes,
                                                                 "the model")
    folder = len(args.input or ()) == 1 and os.path.isdir(args.input[0])
    paths = [str(p) for p in npy_files(args.input[0])] if folder else list(args.input or ())
    loaded = [_load_npy(p) for p in paths]
    keras = _keras_model(args)  # a .keras model: its quantized TFLite bytes
    model = keras or model
    req = prepare_compile(keras or args.model, "model", args.opt, args.pipeline, args.kernels,
                          args.target, None, label=args.model if keras else None,
                          **_limits(args))
    comp = run_compile(req)
    samples = None
    if loaded:
        in_specs, _ = specs_of(comp.module)
        if folder:  # a folder serves a one-input model: each file a sample or a batch
            if len(in_specs) != 1:
                raise UtcError(f"--input {printable(args.input[0])}: a folder of .npy files "
                               f"serves one-input models; this one has {len(in_specs)} inputs "
                               "(give one --input file per input)")
            samples = [s for p, x in zip(paths, loaded)
                       for s in samples_from_arrays([x], [p], in_specs)]
        else:
            samples = samples_from_arrays(loaded, paths, in_specs)
    described = (f"{len(paths)} files in {printable(args.input[0])}" if folder else
                 ", ".join(printable(p) for p in paths)) if loaded else None
    result = verify_compilation(comp, model, printable(args.model), samples,
                                args.samples or 32, args.seed, args.atol, args.rtol, described,
                                per_layer=args.per_layer)
    where = "" if args.target == "host" else f", {where_run(args.target)}"
    sys.stdout.write(result.format(f"{printable(args.model)} (-O{args.opt}, kernels "
                                   f"{args.kernels}{where})"))
    return 0 if result.passed else EXIT_MISMATCH


def _read_ir(name: str) -> str:
    """The IR text of a file (or stdin for `-`), bounded and decoded as UTF-8."""
    from utc.compiler.driver import read_bounded

    if name == "-":
        data = sys.stdin.buffer.read(MAX_IR_BYTES + 1)
        if len(data) > MAX_IR_BYTES:
            raise UsageError(f"standard input is larger than the limit of {MAX_IR_BYTES} bytes")
    else:
        data = read_bounded(name, MAX_IR_BYTES, "the IR file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UtcError(f"{printable(name)}: not UTF-8 text (byte {exc.start})") from None


def cmd_opt(args: argparse.Namespace) -> int:
    from utc.compiler.driver import check_output_file, lower
    from utc.compiler.ir.parser import parse_module
    from utc.compiler.ir.printer import print_module
    from utc.compiler.pass_manager import parse_pipeline

    inst = _instrumentation(args)
    parse_pipeline(args.pipeline or "")
    target = check_output_file(args.output, "-o") if args.output else None
    module = parse_module(_read_ir(args.file), filename=printable(args.file))
    module.verify()
    lower(module, args.pipeline or "", inst)
    out = print_module(module, elide_resources=args.elide_resources, locations=args.print_loc)
    if target is not None:
        data = out.encode()
        _write_atomically(target, lambda f: f.write(data))
    else:
        sys.stdout.write(out)
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    """Emission on its own: planned `buf`-level IR text in, a folder of C++ out, so the
    code generator can be tested (lit) and driven without a model file."""
    from utc.codegen.emit_cpp import emit_cpp
    from utc.compiler.driver import check_c_name, load_builtin_passes, staged_output
    from utc.compiler.ir.parser import parse_module
    from utc.passes.planning.verify_ir import is_planned, verify_memory_plan

    check_c_name(args.name)
    load_builtin_passes()
    module = parse_module(_read_ir(args.file), filename=printable(args.file))
    module.verify()
    if not is_planned(module):
        raise UtcError(f"{printable(args.file)}: --emit=cpp needs planned buf-level IR (run "
                       "the pipeline through plan-memory first)")
    problems = verify_memory_plan(module)
    if problems:  # the plan came from text: never emit code that would overlap buffers
        raise UtcError(f"{printable(args.file)}: the memory plan is invalid: {problems[0]}")
    elided = sorted(n for n, r in module.resources.items() if r.data is None)
    if elided:
        raise UtcError(f"{printable(args.file)}: weights are elided ({elided[0]}); dump the IR "
                       "without --elide-resources")
    with staged_output(args.output) as staging:
        emit_cpp(module, staging, args.name, source=printable(Path(args.file).name))
    print(f"utc: wrote {len(list(Path(args.output).iterdir()))} files to {printable(args.output)}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from utc.compiler.driver import import_model
    from utc.compiler.ir.printer import print_module

    module = import_model(args.model, "model", args.max_model_bytes)
    sys.stdout.write(print_module(module, elide_resources=not args.resources,
                                  locations=args.print_loc))
    return 0


def cmd_list_passes(args: argparse.Namespace) -> int:
    from utc.compiler.driver import PIPELINES, load_builtin_passes
    from utc.compiler.pass_manager import PASS_REGISTRY, load_plugin

    load_builtin_passes()
    for plugin in args.load_pass_plugin:
        load_plugin(plugin)
    # each pass spelled with every option at its default, as a pipeline would write it,
    # then its summary: listing imports every pass (start-up cost only here)
    for name in sorted(PASS_REGISTRY):
        cls = PASS_REGISTRY[name]
        print(f"  {cls.synopsis()}")
        print(f"      {cls.summary()}")
        for option in cls.options():
            default = option.default_text() or "'' (empty)"
            print(f"      {option.name}: {option.type}, default {default}")
    print("\nnamed pipelines:")
    for level, text in PIPELINES.items():
        print(f"  -O{level}: {text}")
    return 0


def cmd_list_ops(args: argparse.Namespace) -> int:
    from utc.compiler.importers.tflite import CUSTOM_OP_TABLE, OP_TABLE

    for name in sorted(OP_TABLE):
        rule = OP_TABLE[name]
        print(f"  {name:<20} v{rule.versions[0]}-{rule.versions[1]:<3} "
              f"{'/'.join(rule.dtypes):<14} {rule.summary}")
    for name in sorted(CUSTOM_OP_TABLE):
        rule = CUSTOM_OP_TABLE[name]
        print(f"  CUSTOM '{name}'  {'/'.join(rule.dtypes)}  {rule.summary}")
    return 0


def _add_placement_options(p: argparse.ArgumentParser) -> None:
    """Where the generated code puts its RAM (NAME.h's placement macros)."""
    p.add_argument("--arena-section", metavar="SECTION",
                   help="put the arena in this linker section (e.g. .sram2), aligned")
    p.add_argument("--state-section", metavar="SECTION",
                   help="put a stateful model's state region in this linker section")
    p.add_argument("--external-arena", action="store_true",
                   help="the application defines the arena (NAME_arena, and NAME_state for "
                   "a stateful model); NAME.h states the bytes and alignment")


def _placement(args: argparse.Namespace):
    """The placement options, checked (before any work)."""
    from utc.codegen.emit_cpp import Placement, check_section_name

    sections = {}
    for key, option in (("arena_section", "--arena-section"), ("state_section", "--state-section")):
        if getattr(args, key) is not None:
            sections[key] = check_section_name(getattr(args, key), option)
    return Placement(**sections, external=args.external_arena)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="utc", description="Ahead-of-time compiler from "
                     "TensorFlow Lite models to self-contained C++.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="compile a .tflite model into a folder of C++")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="the model; several (PATH or PATH:NAME each, NAME defaulting to the "
                   "file's stem) are compiled into one folder sharing one arena, each with "
                   "its own API (NAME_invoke, ...), weights and state, and --name's header "
                   "(NAME.h: NAME_ARENA_BYTES, NAME_arena)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--name", default=None,
                   help="C prefix of the generated API: a C identifier of at most 64 "
                   "characters that starts with a letter and is not a C/C++ keyword "
                   "(default 'model'; with several models, the app's name, default 'app')")
    p.add_argument("--concurrent", action="store_true",
                   help="with several models: their runs may interleave (e.g. from two RTOS "
                   "tasks, one preempting the other), so each gets its own part of the arena "
                   "(the arena is the sum). Without it the models are exclusive: one runs at a "
                   "time, each uses the arena from byte 0, and the arena is the largest "
                   "model's")
    # `--report` and `--report=text` are one option, `--report=json` another: spelled out
    # so that `--report MODEL` still reads MODEL as the model (an optional value would
    # swallow it)
    p.add_argument("--report", "--report=text", dest="report", action="store_const",
                   const="text", help="print a per-layer memory/compute table and write "
                   "OUTPUT/memory.svg")
    p.add_argument("--report=json", dest="report", action="store_const", const="json",
                   help="print the report as JSON instead (docs/report-json.md; also written "
                   "to OUTPUT/report.json, with OUTPUT/memory.svg)")
    _add_placement_options(p)
    _add_compile_options(p)
    _add_keras_options(p)
    _add_instrumentation(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("check", help="list everything that stops a model (unsupported "
                       "operators, dtypes, features), not only the first; exit 1 if any")
    p.add_argument("model")
    _add_compile_options(p)  # those of the compile it tries when nothing else is found
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="compile, build (host compiler, or cross compiler and "
                       "QEMU for a Cortex-M --target), run, print outputs")
    p.add_argument("model")
    p.add_argument("--profile", action="store_true",
                   help="with a Cortex-M --target: instructions of each layer next to its MACs")
    p.add_argument("--input", action="append", metavar="X.npy", help="input (one per model input)")
    p.add_argument("--output", action="append", metavar="Y.npy", help="save outputs as .npy")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the random input (0 to 2**32-1, default 0)")
    _add_compile_options(p)
    _add_keras_options(p)
    p.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py",
                   help="load a Python file that registers passes (for --pipeline)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("verify", help="compile, build for the host (or for a Cortex-M "
                       "--target, run on QEMU) and compare with TFLite Micro's interpreter on "
                       "the same inputs (exit 1 on a mismatch)")
    p.add_argument("model")
    p.add_argument("--input", action="append", metavar="X.npy|DIR",
                   help="inputs: one .npy per model input (the input's shape for one sample, "
                   "or [N, ...] for N samples), or one folder of .npy files for a one-input "
                   "model (default: random samples)")
    p.add_argument("--samples", type=_positive_count, metavar="N",
                   help="number of random samples (default 32)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed of the random samples (0 to 2**32-1, default 0)")
    p.add_argument("--atol", type=_float, metavar="A", help="absolute tolerance (default 0 "
                   "for integer outputs: bit-exact; 1e-6 for float outputs)")
    p.add_argument("--rtol", type=_float, metavar="R", help="relative tolerance (default 0 "
                   "for integer outputs, 1e-5 for float outputs)")
    p.add_argument("--per-layer", action="store_true",
                   help="also compare every intermediate tensor (each kernel call's output "
                   "with the TFLite tensor it computes) and name the first layer that differs")
    _add_compile_options(p)
    _add_keras_options(p)
    p.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py",
                   help="load a Python file that registers passes (for --pipeline)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("opt", help="run passes on textual IR")
    p.add_argument("file", help="IR file (.utc), or - for stdin")
    p.add_argument("-p", "--pipeline", default="", help="comma-separated passes")
    p.add_argument("-o", "--output", help="write the result here instead of stdout")
    _add_instrumentation(p)
    p.set_defaults(func=cmd_opt)

    p = sub.add_parser("translate", help="emit C++ from planned buf-level IR text")
    p.add_argument("file", help="IR file (.utc), or - for stdin")
    p.add_argument("--emit", choices=["cpp"], required=True, help="what to emit")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--name", default="model", help="C prefix of the generated API")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("inspect", help="print a model's imported IR")
    p.add_argument("model")
    p.add_argument("--resources", action="store_true", help="include weights as hex")
    p.add_argument("--print-loc", action="store_true", help="print each op's loc(...)")
    _add_model_limit(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("list-passes", help="list passes and named pipelines")
    p.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py")
    p.set_defaults(func=cmd_list_passes)

    p = sub.add_parser("list-ops", help="list supported TFLite operators")
    p.set_defaults(func=cmd_list_ops)
    return parser


@contextlib.contextmanager
def floating_point_errors_raise() -> Iterator[None]:
    """numpy division by zero, overflow and invalid operations raise FloatingPointError,
    and any other RuntimeWarning becomes an exception too (see the module docstring)."""
    with np.errstate(divide="raise", over="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _report_internal_error(exc: BaseException, args: argparse.Namespace) -> None:
    from utc.compiler.driver import file_sha256

    where = ""
    path = getattr(args, "model", None) or (args.file if getattr(args, "file", "-") != "-" else None)
    digest = file_sha256(path, getattr(args, "max_model_bytes", MAX_IR_BYTES)) if path else None
    if digest:
        what = "model" if getattr(args, "model", None) else "input IR"
        where = f" with the {what}'s sha256 {digest}"
    sys.stderr.write(f"utc: internal error: {one_line(f'{type(exc).__name__}: {exc}')} "
                     f"(please report this at the utc issue tracker{where})\n")


def main(argv: list[str] | None = None) -> int:
    """Run one command. Returns 0, 2 (the user's error, one line) or 3 (utc's bug, one line);
    argparse's own errors exit with 2 the same way."""
    parser = build_parser()
    args = parser.parse_args(argv)
    user_errors: tuple[type[BaseException], ...] = (UtcError, ParseError)
    if args.command == "opt":
        # the IR is the user's: the verifier (or a pass) refusing it is their error;
        # for a TFLite model it means utc built invalid IR, a bug
        user_errors += (VerifyError,)
    try:
        with floating_point_errors_raise():
            return args.func(args)
    except user_errors as exc:
        if os.environ.get("UTC_TRACEBACK"):
            traceback.print_exc()
        print(f"utc: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `utc compile --report | head`: the reader left; exit quietly like other tools
        sys.stderr.close()
        return 141
    except Exception as exc:  # anything else is a bug in utc: say so in one line
        if os.environ.get("UTC_TRACEBACK"):
            traceback.print_exc()
        _report_internal_error(exc, args)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
