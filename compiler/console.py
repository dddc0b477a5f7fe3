"""The `utc` command's entry point: numpy loaded with one BLAS thread, then the CLI.

numpy's bundled OpenBLAS starts a pool of worker threads (one per core) when numpy is
imported. utc never multiplies matrices large enough to use them, so on every compile
they were pure cost: their start-up CPU time competes with utc's own start-up on a busy
machine (on a loaded 2-core machine the median compile of a small model went from about
0.27 s to 0.20 s without them). So the command loads numpy with OPENBLAS_NUM_THREADS=1
unless the user set it, and takes the setting back out of the environment afterwards, so
the processes utc starts (compilers, TFLite Micro) see the user's environment unchanged.
The Python API (`import utc`) does not do this: a program that imports utc may want its
own BLAS threads.
"""

from __future__ import annotations

import os

_BLAS_THREADS = "OPENBLAS_NUM_THREADS"


def main() -> int:
    added = _BLAS_THREADS not in os.environ
    if added:
        os.environ[_BLAS_THREADS] = "1"
    try:
        import numpy  # noqa: F401  (OpenBLAS reads the setting when numpy loads it)
    finally:
        if added:
            del os.environ[_BLAS_THREADS]
    from utc.compiler.driver.cli import main as cli_main

    return cli_main()
