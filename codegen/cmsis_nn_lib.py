"""Find and build CMSIS-NN, the external kernel library generated code may call.

CMSIS-NN is never copied into the repository or into a generated folder: the user points
`CMSIS_NN_PATH` at a checkout of ARM-software/CMSIS-NN, and what utc builds itself (the
host runner of `utc run`, the QEMU firmware of `utc run --target cortex-m...`) compiles
the library's integer sources from there once per compiler and flags, into a cache, as
a static archive linked with `--gc-sections` so only the kernels called are kept.

Only `-I <CMSIS-NN>/Include` is needed: the library derives its DSP (`ARM_MATH_DSP`) and
Helium (`ARM_MATH_MVEI`) paths from the compiler's target macros, and needs no CMSIS-Core
headers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from utc.codegen.compile_jobs import compile_all
from utc.compiler.errors import UtcError

ENV = "CMSIS_NN_PATH"


def cmsis_nn_root(path: str | Path | None = None) -> Path:
    """The CMSIS-NN source tree: `path`, else $CMSIS_NN_PATH; one clear error when neither
    names a tree with Include/arm_nnfunctions.h."""
    given = path if path is not None else os.environ.get(ENV)
    if not given:
        raise UtcError(f"CMSIS-NN is needed (kernels chosen from it): set {ENV} to a "
                       "checkout of https://github.com/ARM-software/CMSIS-NN, or use "
                       "--kernels reference")
    root = Path(given).expanduser()
    if not (root / "Include" / "arm_nnfunctions.h").is_file():
        raise UtcError(f"{ENV}={given} is not a CMSIS-NN source tree (no "
                       "Include/arm_nnfunctions.h)")
    return root.resolve()


def integer_sources(root: Path) -> list[Path]:
    """The library's int8/int16 sources: everything under Source/ but the framework
    bindings, the experimental float kernels and the uint8 softmax (CMake's own selection
    for an integer-only build)."""
    out = []
    for src in sorted((root / "Source").rglob("*.c")):
        name = src.name
        if "Bindings" in src.parts or name.endswith(("_f16.c", "_f32.c", "_flt.c")) \
                or name == "arm_softmax_u8.c":
            continue
        out.append(src)
    return out


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "utc" / "cmsis-nn"


def _key(cc: str, flags: Sequence[str], root: Path, sources: Sequence[Path]) -> str:
    h = hashlib.sha256()
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    h.update(f"{cc}\0{version}\0{' '.join(flags)}\0".encode())
    for path in [*sources, *sorted((root / "Include").rglob("*.h"))]:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:24]


def build_library(cc: str, ar: str, flags: Sequence[str], root: Path | None = None) -> Path:
    """`libcmsis-nn.a` compiled with `cc` and `flags` (e.g. the target's -mcpu), built once
    and cached by compiler, flags and source contents."""
    root = cmsis_nn_root(root)
    sources = integer_sources(root)
    target = _cache_dir() / _key(cc, flags, root, sources) / "libcmsis-nn.a"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        # basenames are unique in the tree: one flat folder of objects
        objects = [str(o) for o in compile_all(
            [([cc, *flags, f"-I{root / 'Include'}"], src, Path(tmp) / (src.stem + ".o"))
             for src in sources], "building CMSIS-NN")]
        staged = Path(tmp) / target.name
        proc = subprocess.run([ar, "rcs", str(staged), *objects], capture_output=True, text=True)
        if proc.returncode:
            raise UtcError(f"archiving CMSIS-NN failed: {proc.stderr.strip()[:200]}")
        os.replace(staged, target)  # atomic: parallel builds never see half an archive
    return target


def host_tools() -> tuple[str, str]:
    """The host C compiler and archiver for a host build of the library."""
    for cc in (os.environ.get("CC"), "gcc", "clang", "cc"):
        if cc and shutil.which(cc):
            break
    else:
        raise UtcError("no host C compiler found (set CC, or install gcc)")
    ar = os.environ.get("AR") or "ar"
    if not shutil.which(ar):
        raise UtcError("no archiver found (set AR, or install binutils)")
    return cc, ar
