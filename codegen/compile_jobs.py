"""Compile many sources at once: what the host runner, the Cortex-M firmware and the
CMSIS-NN library builds share.

Each job is a compiler command line without `-c SRC -o OBJ`; jobs run in parallel, one per
core, and the first failure becomes one line naming the compiler's role and the source
(the full output is in the compiler's stderr, which the caller's user can rerun).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from utc.compiler.errors import UtcError

#: (command without -c/-o, source, object)
Job = tuple[Sequence[str], Path, Path]


def compile_all(jobs: Sequence[Job], role: str) -> list[Path]:
    """Run every job; return the objects in job order."""
    def one(job: Job) -> Path:
        command, src, obj = job
        proc = subprocess.run([*command, "-c", str(src), "-o", str(obj)], capture_output=True,
                              text=True)
        if proc.returncode:
            first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
            raise UtcError(f"{role} failed on {src.name}: {first}")
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(one, jobs))
