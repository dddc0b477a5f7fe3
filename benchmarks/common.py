"""Helpers shared by the benchmark scripts (DESIGN.md §8).

Both scripts measure utc and TensorFlow Lite Micro side by side in one run and print an
aligned table. What they share lives here so the two cannot drift apart: model
selection, reading a .tflite flatbuffer (operators, I/O specs), seeded inputs, building
generated code with the host compiler, the timing main and running it, section sizes of
object files, TFLM probes that survive TFLM crashing, and the table printer with per-row
failure handling.

Benchmarks deliberately do not import `tests/`: test helpers may change with the tests,
and a benchmark must keep measuring the same thing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
#: ../shared/models beside the checkout (the same folder the tests use), unless
#: UTC_SHARED_MODELS points elsewhere.
DEFAULT_MODELS_DIR = Path(os.environ.get("UTC_SHARED_MODELS", REPO_ROOT.parent / "shared" / "models"))

#: Name the generated code gets; its header is NAME.h and macros start with NAME upper-cased.
MODEL_NAME = "m"

IoSpec = tuple[tuple[int, ...], np.dtype]


# --------------------------------------------------------------------------- models

def add_model_args(parser: argparse.ArgumentParser) -> None:
    """--models-dir and --models, the same in every benchmark."""
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR,
                        help="folder of .tflite files (default: %(default)s)")
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="only these files of --models-dir (default: every .tflite there)")


def select_models(args: argparse.Namespace) -> list[Path]:
    """The models to benchmark, sorted by name so tables always come out in one order.

    A missing folder or an unknown name is a usage error (message, exit status 1): there
    is nothing meaningful to print then.
    """
    folder: Path = args.models_dir
    if not folder.is_dir():
        sys.exit(missing_models_message(folder, folder == DEFAULT_MODELS_DIR,
                                        os.environ.get("UTC_SHARED_MODELS")))
    if args.models:
        paths = [folder / name for name in args.models]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            sys.exit(f"error: not in {folder}: {', '.join(missing)}")
    else:
        paths = list(folder.glob("*.tflite"))
        if not paths:
            sys.exit(f"error: no .tflite files in {folder}")
    return sorted(set(paths), key=lambda p: p.name)


def missing_models_message(folder: Path, is_default: bool, env_value: str | None) -> str:
    """The one line a benchmark prints when its models folder is missing, saying where
    that folder came from: the default (../shared/models beside the checkout, where the
    shared models live), UTC_SHARED_MODELS, or --models-dir."""
    if is_default and not env_value:
        return (f"error: the shared models folder {folder} (../shared/models beside this "
                "checkout, the default) does not exist: put the shared models there, pass "
                "--models-dir DIR, or set UTC_SHARED_MODELS")
    if is_default:
        return (f"error: models folder {folder} (from UTC_SHARED_MODELS) does not exist: fix "
                "UTC_SHARED_MODELS, unset it to use ../shared/models beside this checkout, or "
                "pass --models-dir DIR")
    return f"error: --models-dir {folder} does not exist"


@dataclass
class ModelInfo:
    """What the benchmarks need from a .tflite file, read straight from the flatbuffer
    (not from utc, so a model utc cannot import still gets its row filled in)."""

    data: bytes
    operators: list[str]            # one entry per operator, all subgraphs, in order
    inputs: list[IoSpec]
    outputs: list[IoSpec]
    tensor_bytes: int               # sum of every tensor's bytes, for a generous TFLM arena

    @property
    def distinct_operators(self) -> list[str]:
        return sorted(set(self.operators))

    @property
    def input_bytes(self) -> int:
        return sum(spec_bytes(s) for s in self.inputs)

    @property
    def output_bytes(self) -> int:
        return sum(spec_bytes(s) for s in self.outputs)


def spec_bytes(spec: IoSpec) -> int:
    shape, dtype = spec
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def read_model(path: Path) -> ModelInfo:
    from utc.compiler.importers import tflite_schema as tflite
    from utc.compiler.importers.tflite_schema import TensorType

    dtypes = {TensorType.FLOAT32: np.float32, TensorType.FLOAT16: np.float16,
              TensorType.FLOAT64: np.float64, TensorType.INT8: np.int8, TensorType.UINT8: np.uint8,
              TensorType.INT16: np.int16, TensorType.UINT16: np.uint16, TensorType.INT32: np.int32,
              TensorType.UINT32: np.uint32, TensorType.INT64: np.int64, TensorType.UINT64: np.uint64,
              TensorType.BOOL: np.bool_}
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
    data = path.read_bytes()
    m = tflite.Model.GetRootAsModel(data, 0)
    if m.SubgraphsLength() == 0:
        raise ValueError("model has no subgraphs")

    def opname(index: int) -> str:
        code = m.OperatorCodes(index)
        # Newer files keep codes above 127 in BuiltinCode; old ones only in the deprecated byte.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == tflite.BuiltinOperator.CUSTOM:
            return f"CUSTOM:{(code.CustomCode() or b'?').decode()}"
        return names.get(builtin, f"BUILTIN_{builtin}")

    def spec(t: tflite.Tensor) -> IoSpec:
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        return shape, np.dtype(dtypes.get(t.Type(), np.int64))

    operators: list[str] = []
    tensor_bytes = 0
    for s in range(m.SubgraphsLength()):
        g = m.Subgraphs(s)
        operators += [opname(g.Operators(i).OpcodeIndex()) for i in range(g.OperatorsLength())]
        for i in range(g.TensorsLength()):
            shape, dtype = spec(g.Tensors(i))
            tensor_bytes += int(np.prod([max(d, 1) for d in shape], dtype=np.int64)) * dtype.itemsize
    g = m.Subgraphs(0)
    return ModelInfo(data, operators, [spec(g.Tensors(g.Inputs(i))) for i in range(g.InputsLength())],
                     [spec(g.Tensors(g.Outputs(i))) for i in range(g.OutputsLength())], tensor_bytes)


def seeded_inputs(specs: Sequence[IoSpec], seed: int = 0) -> list[np.ndarray]:
    """Deterministic inputs: integers uniform over the dtype's range, floats N(0, 1)
    (finite and not denormal, so float timings do not hit slow paths)."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in specs:
        if dtype.kind == "f":
            out.append(rng.standard_normal(shape).astype(dtype))
        elif dtype.kind == "b":
            out.append(rng.integers(0, 2, size=shape).astype(np.bool_))
        else:
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype))
    return out


def pipeline_with_strategy(pipeline: str, strategy: str) -> str:
    """`pipeline` with its plan-memory pass (options or not) set to `strategy`."""
    new, count = re.subn(r"plan-memory(\{[^}]*\})?", f"plan-memory{{strategy={strategy}}}", pipeline)
    if count != 1:
        raise ValueError(f"expected one plan-memory pass in {pipeline!r}")
    return new


# --------------------------------------------------------------------------- host builds

def host_cxx() -> str:
    for cxx in (os.environ.get("CXX"), "g++", "clang++", "c++"):
        if cxx and shutil.which(cxx):
            return cxx
    raise RuntimeError("no host C++ compiler found (set CXX, or install g++)")


def host_cc() -> str:
    for cc in (os.environ.get("CC"), "gcc", "clang", "cc"):
        if cc and shutil.which(cc):
            return cc
    raise RuntimeError("no host C compiler found (set CC, or install gcc)")


def _run_tool(cmd: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True)
    if proc.returncode:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        raise RuntimeError(f"{what} failed: {first}")
    return proc


def compile_objects(sources: Iterable[Path], flags: Sequence[str], build_dir: Path) -> list[Path]:
    """Compile each source to build_dir/<stem>.o (in parallel; order of the result follows
    `sources`). C files go to the C compiler, everything else to the C++ compiler."""
    build_dir.mkdir(parents=True, exist_ok=True)
    cxx, cc = host_cxx(), host_cc()

    def one(src: Path) -> Path:
        obj = build_dir / (src.stem + ".o")
        compiler = cc if src.suffix == ".c" else cxx
        _run_tool([compiler, *flags, "-c", str(src), "-o", str(obj)], f"compiling {src.name}")
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(one, list(sources)))


def link(objects: Sequence[Path], exe: Path) -> Path:
    _run_tool([host_cxx(), *map(str, objects), "-o", str(exe)], "linking")
    return exe


#: The flags the timed builds use: a firmware build for speed. -fno-exceptions/-fno-rtti
#: as the generated code needs neither (DESIGN.md §6).
SPEED_FLAGS = ["-std=c++11", "-O2", "-fno-exceptions", "-fno-rtti"]

#: The timing main: calls NAME_invoke N times in one process. argv: iterations (N),
#: repeats (R). Input bytes come on stdin. Prints the fastest of R loops in nanoseconds,
#: then the outputs of the last inference in hex, one line per output (to compare builds).
BENCH_MAIN = r"""
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "@NAME@.h"

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 1;
  long repeats = argc > 2 ? atol(argv[2]) : 1;
  static unsigned char in[@NIN@][@INMAX@];
  static unsigned char out[@NOUT@][@OUTMAX@];
  static const long in_bytes[@NIN@] = { @INBYTES@ };
  static const long out_bytes[@NOUT@] = { @OUTBYTES@ };
  const void *inputs[@NIN@];
  void *outputs[@NOUT@];
  long long best = -1;
  long i, r, k;
  for (i = 0; i < @NIN@; ++i) {
    inputs[i] = in[i];
    if (fread(in[i], 1, (size_t)in_bytes[i], stdin) != (size_t)in_bytes[i]) return 3;
  }
  for (i = 0; i < @NOUT@; ++i) outputs[i] = out[i];
  if (@NAME@_invoke(inputs, outputs) != 0) return 4; /* warm-up: caches, page faults */
  for (r = 0; r < repeats; ++r) {
    long long start = now_ns(), elapsed;
    for (i = 0; i < iterations; ++i)
      if (@NAME@_invoke(inputs, outputs) != 0) return 4;
    elapsed = now_ns() - start;
    if (best < 0 || elapsed < best) best = elapsed;
  }
  printf("%lld\n", best);
  for (i = 0; i < @NOUT@; ++i) {
    for (k = 0; k < out_bytes[i]; ++k) printf("%02x", out[i][k]);
    printf("\n");
  }
  return 0;
}
"""


def write_bench_main(build_dir: Path, info: ModelInfo) -> Path:
    """BENCH_MAIN for `info`'s inputs and outputs, as build_dir/bench_main.c."""
    ins = [spec_bytes(s) for s in info.inputs]
    outs = [spec_bytes(s) for s in info.outputs]
    build_dir.mkdir(parents=True, exist_ok=True)
    main_c = build_dir / "bench_main.c"
    main_c.write_text(BENCH_MAIN.replace("@NAME@", MODEL_NAME)
                      .replace("@NIN@", str(len(ins))).replace("@NOUT@", str(len(outs)))
                      .replace("@INMAX@", str(max(ins, default=1) or 1))
                      .replace("@OUTMAX@", str(max(outs, default=1) or 1))
                      .replace("@INBYTES@", ", ".join(map(str, ins)) or "0")
                      .replace("@OUTBYTES@", ", ".join(map(str, outs)) or "0"))
    return main_c


def build_bench(out: Path, info: ModelInfo, build_dir: Path,
                cxx_flags: Sequence[str] = SPEED_FLAGS) -> Path:
    """The generated sources in `out` built with `cxx_flags` and linked with BENCH_MAIN
    (C99, -O2) into build_dir/bench."""
    main_c = write_bench_main(build_dir, info)
    objects = compile_objects(sorted(out.glob("*.cpp")), [*cxx_flags, f"-I{out}"], build_dir)
    objects += compile_objects([main_c], ["-std=c99", "-O2", f"-I{out}"], build_dir)
    return link(objects, build_dir / "bench")


def input_payload(inputs: Sequence[np.ndarray]) -> bytes:
    """The bytes BENCH_MAIN reads on stdin: every input, in order."""
    return b"".join(np.ascontiguousarray(x).tobytes() for x in inputs)


def run_bench(exe: Path, payload: bytes, iterations: int, repeats: int) -> tuple[float, str]:
    """(seconds per inference of the fastest of `repeats` loops of `iterations`, the
    outputs of the last inference in hex) from a BENCH_MAIN build."""
    proc = subprocess.run([str(exe), str(iterations), str(repeats)], input=payload,
                          capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"{exe.parent.name}: generated code exited with status {proc.returncode}")
    lines = proc.stdout.decode().split("\n", 1)
    return int(lines[0]) * 1e-9 / iterations, lines[1] if len(lines) > 1 else ""


def auto_iterations(single: float, target_seconds: float, maximum: int) -> int:
    """N for a timed loop of about `target_seconds`, given `single` seconds per inference
    (at least 3, at most `maximum`)."""
    return int(min(maximum, max(3, target_seconds / max(single, 1e-9))))


def section_sizes(obj: Path) -> dict[str, int]:
    """Section name -> bytes of one object file, from binutils `size -A`."""
    proc = _run_tool(["size", "-A", str(obj)], f"size {obj.name}")
    sizes: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def header_macro(header: Path, macro: str) -> int:
    """The integer value of `#define MACRO <n>` in a generated header."""
    match = re.search(rf"^#define {re.escape(macro)} (\d+)\b", header.read_text(), re.M)
    if not match:
        raise RuntimeError(f"{header.name} does not define {macro}")
    return int(match.group(1))


# --------------------------------------------------------------------------- TFLM

def tflm_generous_arena(info: ModelInfo) -> int:
    """Certainly enough arena for TFLM: every tensor twice over, plus room for the
    interpreter's own structures. (TFLM's default, 10x the model size, is too small for
    models with tiny weights and large activations.)"""
    return 10 * len(info.data) + 2 * info.tensor_bytes + 256 * 1024


def tflm_interpreter(info: ModelInfo, arena_size: int):  # -> runtime.Interpreter
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(info.data, arena_size=arena_size)


_PROBE_SCRIPT = r"""
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], "rb").read()
it = runtime.Interpreter.from_bytes(data, arena_size=int(sys.argv[2]))
blob = np.load(sys.argv[3])
for i in range(len(blob.files)):
    it.set_input(blob[f"arr_{i}"], i)
it.invoke()
"""


def tflm_probe(info: ModelInfo, arena_size: int, inputs: Sequence[np.ndarray],
               scratch: Path) -> tuple[bool, str]:
    """Whether TFLM can create an interpreter with `arena_size` bytes and invoke it once.

    Runs in a child process because TFLM's Python interpreter does not report a too-small
    arena as an exception: it prints "Failed to allocate ... memory" and then crashes the
    process (SIGSEGV). Returns (ok, everything the child printed) so a model TFLM refuses
    outright can say why. Forks where possible (the parent already
    imported tflite_micro, so a probe costs milliseconds); otherwise starts a fresh
    interpreter.
    """
    if hasattr(os, "fork"):
        return _probe_fork(info, arena_size, inputs)
    model = scratch / "probe.tflite"
    blob = scratch / "probe_inputs.npz"
    if not model.exists():
        model.write_bytes(info.data)
        np.savez(blob, *inputs)
    proc = subprocess.run([sys.executable, "-c", _PROBE_SCRIPT, str(model), str(arena_size), str(blob)],
                          capture_output=True, text=True)
    return proc.returncode == 0, proc.stdout + proc.stderr


def _probe_fork(info: ModelInfo, arena_size: int, inputs: Sequence[np.ndarray]) -> tuple[bool, str]:
    from tflite_micro.python.tflite_micro import runtime

    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            it = runtime.Interpreter.from_bytes(info.data, arena_size=arena_size)
            for i, x in enumerate(inputs):
                it.set_input(x, i)
            it.invoke()
            status = 0
        except BaseException as e:  # report any failure, then exit without cleanup
            os.write(2, f"\n{type(e).__name__}: {e}\n".encode(errors="replace"))
        finally:
            _flush_c_stdio()  # TFLM prints through C stdio, which os._exit would drop
            os._exit(status)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        for chunk in iter(lambda: pipe.read(65536), b""):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    if os.WIFSIGNALED(status):
        text += f"\n(killed by signal {os.WTERMSIG(status)})"
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # best effort: only the diagnostics are at stake
        pass


def tflm_refusal(info: ModelInfo, inputs: Sequence[np.ndarray], scratch: Path) -> str | None:
    """None when TFLM runs the model with a generous arena; otherwise why not (TFLM
    refuses e.g. hybrid float/int8 models). Checked in a child, so it cannot crash us."""
    ok, output = tflm_probe(info, tflm_generous_arena(info), inputs, scratch)
    if ok:
        return None
    # TFLM's own first diagnostic ("Hybrid models are not supported ...") says more than
    # the Python wrapper's closing "failed to allocate tensors"; drop its source-file prefix.
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    if not lines:
        return "TFLM failed without a message"
    return re.sub(r"^\S+\.(cc|cpp|c|h) ", "", lines[0])


# --------------------------------------------------------------------------- tables

@dataclass
class Column:
    header: str
    legend: str
    align: str = ">"  # ">" right (numbers) or "<" left (names)


@dataclass
class Failed:
    """A row whose model could not be benchmarked; printed as FAILED with the reason."""

    model: str
    reason: str


@dataclass
class Report:
    """Rows accumulated model by model, plus notes printed under the table."""

    columns: list[Column]
    rows: list[list[str] | Failed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(isinstance(r, Failed) for r in self.rows)

    def add(self, model: str, measure: Callable[[], list[str]]) -> None:
        """Run `measure` (returning the cells after the model name); on any exception,
        print one clear error line and record a FAILED row, so the other models still run."""
        try:
            cells = measure()
        except Exception as e:  # a benchmark reports failures, it does not stop at them
            reason = one_line(e)
            print(f"error: {model}: {reason}", file=sys.stderr, flush=True)
            if os.environ.get("UTC_BENCH_TRACEBACK"):
                traceback.print_exc()
            self.rows.append(Failed(model, reason))
            return
        if len(cells) + 1 != len(self.columns):
            raise AssertionError(f"{len(cells) + 1} cells for {len(self.columns)} columns")
        self.rows.append([model, *cells])

    def render(self) -> str:
        widths = [len(c.header) for c in self.columns]
        for row in self.rows:
            if isinstance(row, list):
                widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
        gap = "  "

        def line(cells: Sequence[str]) -> str:
            padded = (f"{cell:{c.align}{w}}" for cell, c, w in zip(cells, self.columns, widths))
            return gap.join(padded).rstrip()

        out = [line([c.header for c in self.columns]), gap.join("-" * w for w in widths)]
        for row in self.rows:
            if isinstance(row, Failed):
                out.append(f"{row.model:<{widths[0]}}{gap}FAILED: {row.reason}")
            else:
                out.append(line(row))
        out.append("")
        hw = max(len(c.header) for c in self.columns)
        out += [f"  {c.header:<{hw}}  {c.legend}" for c in self.columns]
        if self.notes:
            out.append("")
            out += [f"  {n}" for n in self.notes]
        return "\n".join(out)


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def micros(seconds: float) -> str:
    """Microseconds with about three significant figures (hello_world runs in 0.1 us)."""
    us = seconds * 1e6
    return f"{us:.2f}" if us < 10 else f"{us:.1f}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator else "n/a"
