"""The `utc` command line: compile, run, opt, inspect, list-passes, list-ops.

Every error a user can cause (bad file, unsupported op, unknown pass, malformed IR)
prints one line `utc: error: ...` and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from utc.compiler.errors import UtcError
from utc.compiler.ir import VerifyError
from utc.compiler.ir.parser import ParseError

EXIT_USER_ERROR = 2


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
                   help="print weights as 'elided' instead of hex")
    g.add_argument("--verify-each", action="store_true", help="run the verifier after each pass")
    g.add_argument("--timing", action="store_true", help="print time spent in each pass")
    g.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py",
                   help="load a Python file that registers passes")


def _instrumentation(args: argparse.Namespace):
    from utc.compiler.pass_manager import Instrumentation, load_plugin

    for plugin in args.load_pass_plugin:
        load_plugin(plugin)
    return Instrumentation(
        print_after_all=args.print_ir_after_all,
        print_before=tuple(args.print_ir_before),
        print_after=tuple(args.print_ir_after),
        print_after_change=args.print_ir_after_change,
        dump_dir=Path(args.dump_ir_dir) if args.dump_ir_dir else None,
        verify_each=args.verify_each,
        timing=args.timing,
        elide_resources=args.elide_resources,
    )


def _add_compile_options(p: argparse.ArgumentParser) -> None:
    level = p.add_mutually_exclusive_group()
    for n in (0, 1, 2):
        level.add_argument(f"-O{n}", dest="opt", action="store_const", const=n,
                           help=f"optimization level {n}" + (" (default)" if n == 2 else ""))
    p.set_defaults(opt=2)
    p.add_argument("--pipeline", help="explicit pass pipeline (overrides -O)")
    p.add_argument("--kernels", default="reference", choices=["reference"],
                   help="kernel library for the generated code")


def cmd_compile(args: argparse.Namespace) -> int:
    from utc.compiler.driver import compile_model

    inst = _instrumentation(args)
    result = compile_model(args.model, args.output, name=args.name, opt_level=args.opt,
                           pipeline=args.pipeline, kernels=args.kernels, inst=inst)
    fn = _main(result.module)
    print(f"utc: wrote {len(result.files)} files to {args.output} "
          f"(arena {fn.attrs['arena_bytes']} B, lower bound {fn.attrs['lower_bound']} B)")
    if args.report:
        from utc.compiler.report import format_report, memory_svg

        sys.stdout.write("\n" + format_report(result.module))
        svg = Path(args.output) / "memory.svg"
        svg.write_text(memory_svg(result.module))
        print(f"\nutc: wrote the arena map to {svg}")
    return 0


def _main(module):
    from utc.dialects.func import main_function

    return main_function(module)


def io_specs(module) -> tuple[list, list]:
    """(shape, numpy dtype) of the inputs and outputs of a bufferized module."""
    from utc.dialects import buf

    fn = _main(module)
    ins = [v.type for v in buf.model_inputs(fn.block.ops).values()]
    outs = [v.type for v in fn.return_op.operand_values]
    spec = lambda t: (t.shape, t.element.numpy_dtype)  # noqa: E731
    return [spec(t) for t in ins], [spec(t) for t in outs]


def cmd_run(args: argparse.Namespace) -> int:
    from utc.compiler.driver import compile_model
    from utc.compiler.host_build import build_runner, run_runner

    with tempfile.TemporaryDirectory(prefix="utc-run-") as tmp:
        out = Path(tmp) / "out"
        result = compile_model(args.model, out, name="model", opt_level=args.opt,
                               pipeline=args.pipeline, kernels=args.kernels)
        in_specs, out_specs = io_specs(result.module)
        if args.input:
            if len(args.input) != len(in_specs):
                raise UtcError(f"the model has {len(in_specs)} inputs, got {len(args.input)} "
                               "--input files")
            inputs = []
            for path, (shape, dtype) in zip(args.input, in_specs):
                try:
                    x = np.load(path)
                except (OSError, ValueError) as exc:
                    raise UtcError(f"{path}: cannot read .npy file ({exc})") from None
                if tuple(x.shape) != tuple(shape) or x.dtype != dtype:
                    raise UtcError(f"{path}: expected {np.dtype(dtype).name} {list(shape)}, "
                                   f"got {x.dtype.name} {list(x.shape)}")
                inputs.append(x)
        else:
            rng = np.random.default_rng(args.seed)
            inputs = [_random(rng, shape, dtype) for shape, dtype in in_specs]
        exe = build_runner(out, "model", len(in_specs), len(out_specs), Path(tmp) / "build")
        (outputs,) = run_runner(exe, [inputs], out_specs)
    np.set_printoptions(threshold=64, linewidth=100)
    for i, x in enumerate(inputs):
        if not args.input:
            print(f"input {i} (random, seed {args.seed}): {x.dtype.name} {list(x.shape)}\n{x}")
    if args.output and len(args.output) != len(outputs):
        raise UtcError(f"the model has {len(outputs)} outputs, got {len(args.output)} --output files")
    for i, y in enumerate(outputs):
        if args.output:
            np.save(args.output[i], y)
            print(f"output {i}: {y.dtype.name} {list(y.shape)} -> {args.output[i]}")
        else:
            print(f"output {i}: {y.dtype.name} {list(y.shape)}\n{y}")
    return 0


def _random(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def cmd_opt(args: argparse.Namespace) -> int:
    from utc.compiler.driver import lower
    from utc.compiler.ir.parser import parse_module
    from utc.compiler.ir.printer import print_module
    from utc.compiler.pass_manager import load_builtin_passes, parse_pipeline

    load_builtin_passes()
    inst = _instrumentation(args)
    parse_pipeline(args.pipeline or "")
    path = Path(args.file)
    try:
        text = sys.stdin.read() if args.file == "-" else path.read_text()
    except OSError as exc:
        raise UtcError(f"{args.file}: cannot read file ({exc.strerror})") from None
    module = parse_module(text, filename=args.file)
    module.verify()
    lower(module, args.pipeline or "", inst)
    out = print_module(module, elide_resources=args.elide_resources)
    if args.output:
        Path(args.output).write_text(out)
    else:
        sys.stdout.write(out)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from utc.compiler.driver import import_model
    from utc.compiler.ir.printer import print_module

    module = import_model(args.model, "model")
    sys.stdout.write(print_module(module, elide_resources=not args.resources))
    return 0


def cmd_list_passes(args: argparse.Namespace) -> int:
    from utc.compiler.driver import PIPELINES
    from utc.compiler.pass_manager import PASS_REGISTRY, load_builtin_passes

    load_builtin_passes()
    for plugin in args.load_pass_plugin:
        from utc.compiler.pass_manager import load_plugin

        load_plugin(plugin)
    width = max(len(n) for n in PASS_REGISTRY)
    for name in sorted(PASS_REGISTRY):
        print(f"  {name:<{width}}  {PASS_REGISTRY[name].summary()}")
    print("\nnamed pipelines:")
    for level, text in PIPELINES.items():
        print(f"  -O{level}: {text}")
    return 0


def cmd_list_ops(args: argparse.Namespace) -> int:
    from utc.compiler.importers.tflite import OP_TABLE

    for name in sorted(OP_TABLE):
        rule = OP_TABLE[name]
        print(f"  {name:<20} v{rule.versions[0]}-{rule.versions[1]:<3} "
              f"{'/'.join(rule.dtypes):<14} {rule.summary}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="utc", description="Ahead-of-time compiler from "
                                     "TensorFlow Lite models to self-contained C++.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="compile a .tflite model into a folder of C++")
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--name", default="model", help="C prefix of the generated API")
    p.add_argument("--report", action="store_true",
                   help="print a per-layer memory/compute table and write OUTPUT/memory.svg")
    _add_compile_options(p)
    _add_instrumentation(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="compile, build with the host compiler, run, print outputs")
    p.add_argument("model")
    p.add_argument("--input", action="append", metavar="X.npy", help="input (one per model input)")
    p.add_argument("--output", action="append", metavar="Y.npy", help="save outputs as .npy")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input")
    _add_compile_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("opt", help="run passes on textual IR")
    p.add_argument("file", help="IR file (.utc), or - for stdin")
    p.add_argument("-p", "--pipeline", default="", help="comma-separated passes")
    p.add_argument("-o", "--output", help="write the result here instead of stdout")
    _add_instrumentation(p)
    p.set_defaults(func=cmd_opt)

    p = sub.add_parser("inspect", help="print a model's imported IR")
    p.add_argument("model")
    p.add_argument("--resources", action="store_true", help="include weights as hex")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("list-passes", help="list passes and named pipelines")
    p.add_argument("--load-pass-plugin", action="append", default=[], metavar="FILE.py")
    p.set_defaults(func=cmd_list_passes)

    p = sub.add_parser("list-ops", help="list supported TFLite operators")
    p.set_defaults(func=cmd_list_ops)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UtcError, ParseError, VerifyError) as exc:
        print(f"utc: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `utc compile --report | head`: the reader left; exit quietly like other tools
        sys.stderr.close()
        return 141


if __name__ == "__main__":
    sys.exit(main())
