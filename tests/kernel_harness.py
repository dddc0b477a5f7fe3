"""Build C++ kernels into a shared library for ctypes unit tests.

Kernel unit tests call the runtime's C++ functions directly on numpy arrays, without
going through code generation. Building is done with the same strict flags the generated
code must pass (C++11, warnings as errors), and the resulting .so is cached by a hash of
everything that determines it, so the second and later builds of the same sources are
instant, also across pytest processes.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["CACHE_DIR", "KernelBuildError", "build_shared_lib", "clear_cache", "load_kernels", "ptr",
           "seeded_rng"]

#: Where built libraries are kept (one file per distinct build; safe to delete at any time).
CACHE_DIR = Path(tempfile.gettempdir()) / "utc-kernel-cache"

BASE_FLAGS = ("-std=c++11", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror")
_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".inc", ".inl")
_CXX = os.environ.get("CXX", "g++")


class KernelBuildError(RuntimeError):
    """The compiler rejected the sources; the message carries its full output."""


@functools.cache
def _compiler_identity() -> bytes:
    """The compiler's version banner: a compiler upgrade must not reuse old libraries."""
    proc = subprocess.run([_CXX, "--version"], capture_output=True, check=True)
    return proc.stdout


def _headers(include_dirs: Sequence[Path], source_dirs: Sequence[Path]) -> list[Path]:
    """Headers the sources may include: everything header-like under the include
    directories (recursively, for "sub/dir.h" includes) and beside the sources (quoted
    includes). System headers are covered by the compiler identity."""
    found: set[Path] = set()
    for d, pattern in [*((d, "**/*") for d in include_dirs), *((d, "*") for d in source_dirs)]:
        if d.is_dir():
            found.update(p.resolve() for p in d.glob(pattern)
                         if p.suffix in _HEADER_SUFFIXES and p.is_file())
    return sorted(found)


def _cache_key(sources: Sequence[Path], include_dirs: Sequence[Path], flags: Sequence[str]) -> str:
    """Hash of compiler, flags, source contents and candidate headers' contents."""
    h = hashlib.sha256()
    h.update(_CXX.encode() + b"\0" + _compiler_identity())
    for flag in flags:
        h.update(b"flag\0" + flag.encode() + b"\0")
    for d in include_dirs:
        h.update(b"include\0" + str(d).encode() + b"\0")
    for src in sources:
        h.update(b"source\0" + src.name.encode() + b"\0" + src.read_bytes())
    for header in _headers(include_dirs, sorted({s.parent for s in sources})):
        h.update(b"header\0" + str(header).encode() + b"\0" + header.read_bytes())
    return h.hexdigest()[:32]


def build_shared_lib(sources: Sequence[Path], include_dirs: Sequence[Path] = (),
                     extra_flags: Sequence[str] = ()) -> ctypes.CDLL:
    """Compile and link ``sources`` into one shared library and load it.

    Flags: ``-std=c++11 -O2 -fPIC -shared -Wall -Wextra -Werror`` then ``extra_flags``
    (which may override, e.g. ``-O0``). Declare the functions tests call ``extern "C"``
    (or look up mangled names). Raises `KernelBuildError` with the compiler output when
    the build fails.
    """
    srcs = [Path(s).resolve() for s in sources]
    if not srcs:
        raise ValueError("build_shared_lib needs at least one source")
    incs = [Path(d).resolve() for d in include_dirs]
    flags = [*BASE_FLAGS, *(f"-I{d}" for d in incs), *extra_flags]
    target = CACHE_DIR / f"lib-{_cache_key(srcs, incs, flags)}.so"
    if not target.is_file():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        # Build into a private temporary file and rename: parallel test processes may
        # build the same library at once, and a half-written .so must never be loaded.
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
            staged = Path(tmp) / target.name
            cmd = [_CXX, *flags, *(str(s) for s in srcs), "-o", str(staged)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise KernelBuildError(f"kernel build failed ({' '.join(cmd)}):\n"
                                       f"{proc.stdout}{proc.stderr}")
            os.replace(staged, target)
    return ctypes.CDLL(str(target))


def ptr(a: np.ndarray) -> ctypes.c_void_p:
    """A ``void *`` to the data of a C-contiguous array (never a copy: the C function may
    write through it, and writes to a temporary copy would be lost)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"ptr() needs a numpy array, got {type(a).__name__}")
    if not a.flags.c_contiguous:
        raise ValueError("ptr() needs a C-contiguous array (use np.ascontiguousarray first)")
    return ctypes.c_void_p(a.ctypes.data)


def clear_cache() -> None:
    """Delete every cached library (for debugging a suspected stale build)."""
    shutil.rmtree(CACHE_DIR, ignore_errors=True)


#: ctypes type of each C parameter type the kernel records use (pointers are `c_void_p`).
_CTYPES = {"int32_t": ctypes.c_int32, "float": ctypes.c_float}


def record_signature(name: str) -> list:
    """The ctypes argument types of kernel `name`, from its record's typed argument list
    (runtime/kernels.py): the same list the generated call and the header check use."""
    from utc.runtime.kernels import KERNELS_BY_NAME

    return [ctypes.c_void_p if "*" in a.ctype else _CTYPES[a.ctype]
            for a in KERNELS_BY_NAME[name].args]


def load_kernels(names: Sequence[str]) -> ctypes.CDLL:
    """Build the runtime sources of the named kernels (as their records list them; plus
    flags from UTC_KERNEL_EXTRA_FLAGS, e.g. "-fsanitize=address,undefined
    -fno-sanitize-recover=all") and declare each function's ctypes argument types from
    its record, so a wrong argument count fails loudly instead of reading junk."""
    from utc.runtime import RUNTIME_DIR
    from utc.runtime.kernels import KERNELS_BY_NAME

    sources = sorted({RUNTIME_DIR / f for name in names for f in KERNELS_BY_NAME[name].files
                      if f.endswith(".cpp")})
    extra = os.environ.get("UTC_KERNEL_EXTRA_FLAGS", "").split()
    so = build_shared_lib(sources, [RUNTIME_DIR], extra_flags=extra)
    for name in names:
        fn = getattr(so, name)
        fn.restype = None
        if KERNELS_BY_NAME[name].params:
            setattr(so, name, _struct_call(fn, name))
        else:
            fn.argtypes = record_signature(name)
    return so


#: Parameter-struct fields a harness call may leave out at the end (then 0): the
#: convolutions' `reverse` (rows in increasing order unless a test asks otherwise) and
#: `pixel` (NULL: not in place).
DEFAULT_ZERO_FIELDS = frozenset({"reverse", "pixel"})


@functools.cache
def params_struct(name: str) -> type[ctypes.Structure]:
    """The ctypes type of the parameter struct of kernel `name` (its record's `params`),
    its fields typed from the record."""
    from utc.runtime.kernels import KERNELS_BY_NAME

    args = KERNELS_BY_NAME[name].args
    return type(KERNELS_BY_NAME[name].params, (ctypes.Structure,),
                {"_fields_": [(a.name, t) for a, t in zip(args, record_signature(name))]})


def _struct_call(fn, name: str):
    """Kernels that take one parameter struct (the record's `params`): a Python function
    with the record's arguments in order, as the other kernels take them, that fills the
    struct (its fields typed from the record) and passes its address."""
    from utc.runtime.kernels import KERNELS_BY_NAME

    args = KERNELS_BY_NAME[name].args
    struct = params_struct(name)
    fn.argtypes = [ctypes.POINTER(struct)]

    optional = 0  # trailing fields that default to 0 (ctypes zero-fills them)
    while optional < len(args) and args[len(args) - 1 - optional].name in DEFAULT_ZERO_FIELDS:
        optional += 1

    def call(*values: object) -> None:
        if not len(args) - optional <= len(values) <= len(args):
            raise TypeError(f"{name} takes {len(args)} arguments, got {len(values)}")
        fn(ctypes.byref(struct(*values)))

    return call


def seeded_rng(seed: int, *key: object) -> np.random.Generator:
    """A generator seeded from a test case's parameters, so every case has its own fixed
    inputs (crc32, not hash(): str hashes change from one Python process to the next)."""
    import zlib

    return np.random.default_rng([seed, *(zlib.crc32(repr(k).encode()) for k in key)])
