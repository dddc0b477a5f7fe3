"""Host runners of generated code, built once and kept in a cache keyed by content.

The Python API runs a compiled model many times from a notebook (`CompiledModel.run`,
`utc.verify`); rebuilding the C++ each time would cost seconds per call. A runner is
identified by everything that goes into the binary: every generated file's name and
bytes, the runner's template, the model name and I/O count, the host compiler and its
version, the flags, and when the code calls CMSIS-NN, the library archive (cached by
`cmsis_nn_lib` under a hash of its sources, so a changed checkout is a new key). Same
key, same binary: a hit is safe to reuse, and any change to the code or the toolchain is
a miss.

The cache lives in `$XDG_CACHE_HOME/utc/runners` (default `~/.cache/utc/runners`), one
folder per key; a runner is built in a private folder and renamed into place, so two
processes building the same key never see half a binary.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from utc.codegen.host_build import CXX_FLAGS, build_runner, host_compiler, uses_cmsis_nn
from utc.compiler.errors import UtcError, printable


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "utc" / "runners"


def runner_key(out_dir: Path, name: str, num_inputs: int, num_outputs: int) -> str:
    """The content hash a runner of this generated folder is cached under."""
    cxx = host_compiler()
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    template = Path(__file__).resolve().parent / "templates" / "runner.cpp.j2"
    h = hashlib.sha256()
    h.update(f"{name}\0{num_inputs}\0{num_outputs}\0{cxx}\0{version}\0{' '.join(CXX_FLAGS)}\0"
             .encode())
    h.update(template.read_bytes())
    if uses_cmsis_nn(out_dir):
        # the runner links CMSIS-NN statically: key it by the library archive, whose own
        # cache path is a hash of the library's sources (built here if it is not yet)
        from utc.codegen import cmsis_nn_lib

        cc, ar = cmsis_nn_lib.host_tools()
        h.update(b"cmsis-nn\0" + str(cmsis_nn_lib.build_library(cc, ar, ["-O2"])).encode())
    for path in sorted(p for p in out_dir.iterdir() if p.is_file()):
        data = path.read_bytes()
        h.update(f"\0{path.name}\0{len(data)}\0".encode() + data)
    return h.hexdigest()[:32]


def cached_runner(out_dir: Path, name: str, num_inputs: int, num_outputs: int) -> Path:
    """The runner executable of a generated folder: from the cache, or built now."""
    target = cache_dir() / runner_key(out_dir, name, num_inputs, num_outputs) / "runner"
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=target.parent) as tmp:
            exe = build_runner(out_dir, name, num_inputs, num_outputs, Path(tmp))
            os.replace(exe, target)
    except OSError as exc:
        raise UtcError(f"cannot write the runner cache {printable(target.parent)} "
                       f"({printable(exc.strerror or exc)}; set XDG_CACHE_HOME elsewhere)") from None
    return target
