"""Writing a file so that no reader ever sees half of it.

utc writes user-facing files (`utc run`'s outputs, `utc opt`'s IR) and its own caches
(compiled templates, dataclass code) the same way: into a temporary sibling that is then
renamed over the target. A rename within one folder is atomic, so a concurrent compile
reads the old file or the new one, and a failure or an interrupt leaves no truncated file.
Kept free of utc's other modules: the `utc` command's start-up code uses it before
anything else is imported.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write` on a temporary file beside `path`, then rename it over `path`.

    On any failure (an OSError from the file system, or whatever `write` raises) the
    temporary file is removed and the exception propagates: callers decide whether it is
    an error (a user's output) or only a missed cache entry."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
