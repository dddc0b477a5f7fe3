"""The `utc` command's entry point: start-up work a one-shot command should not repeat.

1. numpy is loaded with one BLAS thread. numpy's bundled OpenBLAS starts a pool of worker
   threads (one per core) when numpy is imported; utc never multiplies matrices large
   enough to use them, so on every compile they were pure cost, and their start-up CPU
   competes with utc's own on a busy machine (on a loaded 2-core machine the median
   compile of a small model went from about 0.27 s to 0.20 s without them). The command
   sets OPENBLAS_NUM_THREADS=1 for numpy's import only (unless the user set it) and takes
   it back out of the environment, so the processes utc starts (compilers, TFLite Micro)
   see the user's environment unchanged.

2. The code `dataclasses` generates is compiled once, not on every run. `@dataclass`
   writes the source of each class's `__init__`, `__repr__`, `__eq__`, ... and compiles
   it with `exec`: for the ~60 dataclasses a compile imports, ~350 small compilations,
   about half of all the instructions utc's own start-up executes. `CodeCache` keeps the
   compiled code objects between runs, keyed by the exact source text (so a changed class
   simply compiles its new text), in the user's cache folder, per Python version; the
   functions `dataclasses` then builds from them are the ones it would have built. It is
   installed as the `exec` that the `dataclasses` module calls, for this command's process
   only (`UTC_NO_CODE_CACHE=1` turns it off); like the template cache it is best effort:
   an unreadable, corrupt or unwritable cache only means compiling.

3. No cyclic garbage collection during start-up. Importing numpy and utc allocates ~100k
   objects (classes, functions, code) and frees almost no cycles, yet CPython's collector
   runs every 700 net allocations and re-walks the survivors: ~5% of a small model's
   compile. The collector is off while the command imports; then `gc.freeze()` moves
   everything start-up made out of the collector's sight, and collection resumes with a
   larger first-generation threshold (`GC_THRESHOLD`): the compile's IR mostly lives to
   the end, so collections find little, and peak memory stayed within 0.5 MB of before
   on MobileNetV2.

The Python API (`import utc`) does none of these: a program that imports utc keeps its own
BLAS threads and its own `dataclasses`.
"""

from __future__ import annotations

import gc
import marshal
import os
import sys
import types
from pathlib import Path

from utc.compiler.atomic import write_atomically

_BLAS_THREADS = "OPENBLAS_NUM_THREADS"
#: More distinct sources than utc has dataclass methods means something else fills the
#: cache: it is then started afresh rather than grown without bound.
MAX_ENTRIES = 4096
#: Allocations between two young-generation collections once start-up is over (CPython's
#: default is 700): the compile's objects mostly live to the end, so frequent collections
#: find little.
GC_THRESHOLD = 100_000


def code_cache_path() -> Path | None:
    """The cache file for this Python (marshal's format is per version); None without a
    home or cache folder."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no HOME and no password entry
        return None
    version = "-".join(str(v) for v in sys.version_info[:3])
    return Path(base) / "utc" / "code" / f"{sys.implementation.cache_tag}-{version}.marshal"


class CodeCache:
    """Source text -> compiled code, loaded from and saved to `path`."""

    def __init__(self, path: Path | None):
        self.path = path
        self.codes: dict[str, types.CodeType] = {}
        self.added = False
        if path is not None:
            try:
                # loads on the bytes: marshal.load on a file object calls readinto for
                # every piece of every object, ten times the cost of the whole load
                loaded = marshal.loads(path.read_bytes())
                if isinstance(loaded, dict):
                    self.codes = {k: v for k, v in loaded.items()
                                  if type(k) is str and type(v) is types.CodeType}
            except (OSError, EOFError, ValueError, TypeError):
                pass  # absent, unreadable or corrupt: start empty

    def exec(self, source, globals=None, locals=None, /) -> None:  # noqa: A002 (exec's names)
        """`exec` with the compiled code of `source` taken from the cache. Compiled as
        builtin `exec` compiles a string called from a module without `__future__`
        imports (`dataclasses`): `dont_inherit`, so this module's imports do not leak in."""
        if globals is None:  # as builtin exec: the caller's namespaces
            caller = sys._getframe(1)
            globals = caller.f_globals
            locals = caller.f_locals if locals is None else locals
        if type(source) is str:
            code = self.codes.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.codes[source] = code
                self.added = True
            source = code
        exec(source, globals, locals)

    def save(self) -> None:
        """Write the cache if it learned something (atomically: a temporary file renamed
        over it); any failure only means no cache next time."""
        if self.path is None or not self.added:
            return
        codes = self.codes if len(self.codes) <= MAX_ENTRIES else {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, lambda f: marshal.dump(codes, f))
        except (OSError, ValueError):
            pass


def main() -> int:
    gc.disable()  # 3. above
    added = _BLAS_THREADS not in os.environ
    if added:
        os.environ[_BLAS_THREADS] = "1"
    try:
        import numpy  # noqa: F401  (OpenBLAS reads the setting when numpy loads it)
    finally:
        if added:
            del os.environ[_BLAS_THREADS]
    cache = None
    if not os.environ.get("UTC_NO_CODE_CACHE"):
        import dataclasses

        cache = CodeCache(code_cache_path())
        dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    try:
        from utc.compiler.driver.cli import main as cli_main

        gc.freeze()
        gc.set_threshold(GC_THRESHOLD)
        gc.enable()
        return cli_main()
    finally:
        if cache is not None:
            cache.save()
