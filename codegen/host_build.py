"""Build generated code with the host C++ compiler and run it on numpy inputs.

This is what `utc run` uses, and what end-to-end tests compare against the TFLite
Micro interpreter: the generated folder, compiled warning-free with
`-Wall -Wextra -Werror`, plus a small runner that streams raw samples through
`NAME_invoke`, so thousands of inputs cost one process (and one arena, reused by every
invocation, as on a device).

`extra_flags` go to the compile *and* the link step: instrumentation such as
`-fsanitize=address,undefined` needs its runtime library linked in, and a flag given to
one step only would build objects the link cannot resolve (or silently not instrument).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import jinja2
import numpy as np
from utc.codegen.compile_jobs import compile_all
from utc.compiler.errors import UtcError

CXX_FLAGS = ["-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions", "-fno-rtti"]


def host_compiler() -> str:
    for cxx in (os.environ.get("CXX"), "g++", "clang++", "c++"):
        if cxx and shutil.which(cxx):
            return cxx
    raise UtcError("no host C++ compiler found (set CXX, or install g++)")


def uses_cmsis_nn(out_dir: Path) -> bool:
    """Whether the generated folder calls CMSIS-NN (its CMakeLists.txt says so)."""
    cmake = out_dir / "CMakeLists.txt"
    return cmake.is_file() and "CMSIS_NN_PATH" in cmake.read_text()


def build_runner(out_dir: Path, name: str, num_inputs: int, num_outputs: int,
                 build_dir: Path, extra_flags: Sequence[str] = ()) -> Path:
    """Compile the generated sources and a runner main into `build_dir/runner`.

    `extra_flags` follow the default flags (so `-O0` overrides `-O2`) on every compile
    and are repeated on the link. A folder that calls CMSIS-NN is linked against the
    library's portable C build from $CMSIS_NN_PATH (codegen/cmsis_nn_lib.py)."""
    templates = Path(__file__).resolve().parent / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    build_dir.mkdir(parents=True, exist_ok=True)
    runner_src = build_dir / "utc_runner.cpp"
    runner_src.write_text(env.get_template("runner.cpp.j2").render(
        name=name, NAME=name.upper(), num_inputs=num_inputs, num_outputs=num_outputs))
    sources = sorted(out_dir.glob("*.cpp")) + [runner_src]
    cxx = host_compiler()
    flags = CXX_FLAGS + list(extra_flags) + [f"-I{out_dir}"]
    libraries: list[str] = []
    if uses_cmsis_nn(out_dir):
        from utc.codegen import cmsis_nn_lib

        root = cmsis_nn_lib.cmsis_nn_root()
        flags.append(f"-I{root / 'Include'}")
        cc, ar = cmsis_nn_lib.host_tools()
        libraries.append(str(cmsis_nn_lib.build_library(cc, ar, ["-O2"], root)))

    objects = compile_all([([cxx, *flags], src, build_dir / (src.stem + ".o"))
                           for src in sources], "host compiler")
    exe = build_dir / "runner"
    proc = subprocess.run([cxx, *extra_flags, *objects, *libraries, "-o", str(exe)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise UtcError(f"host link failed: {proc.stderr.strip().splitlines()[0]}")
    return exe


def run_runner_process(exe: Path, inputs: Sequence[Sequence[np.ndarray]],
                       env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run samples through the runner in one process and return it as it finished (exit
    status, raw stdout bytes, stderr), without judging it: callers that look at stderr,
    such as the sanitizer tests, need all three."""
    payload = b"".join(np.ascontiguousarray(x).tobytes() for sample in inputs for x in sample)
    return subprocess.run([str(exe), str(len(inputs))], input=payload, capture_output=True,
                          env=env)


def decode_outputs(stdout: bytes, count: int,
                   output_specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[list[np.ndarray]]:
    """Split the runner's raw stdout into `count` samples of output arrays."""
    sizes = [int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in output_specs]
    per_sample = sum(sizes)
    if len(stdout) != per_sample * count:
        raise UtcError("generated code produced the wrong amount of output")
    results = []
    pos = 0
    for _ in range(count):
        sample = []
        for (shape, dtype), size in zip(output_specs, sizes):
            sample.append(np.frombuffer(stdout[pos : pos + size], dtype=dtype).reshape(shape))
            pos += size
        results.append(sample)
    return results


def run_runner(exe: Path, inputs: Sequence[Sequence[np.ndarray]],
               output_specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[list[np.ndarray]]:
    """Run samples (each a list of input arrays) through the runner; return outputs."""
    proc = run_runner_process(exe, inputs)
    if proc.returncode:
        raise UtcError(f"generated code exited with status {proc.returncode}")
    return decode_outputs(proc.stdout, len(inputs), output_specs)
