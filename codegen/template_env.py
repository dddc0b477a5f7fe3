"""The emitter's jinja2 environment, with compiled templates cached on disk.

jinja2 turns each template into Python source and compiles that on first use: for utc's
templates about 50 ms of every compile, as much as all passes together on a small
model. jinja2's bytecode-cache hook keeps the compiled code between runs. The cache
lives in the user's cache folder (`$XDG_CACHE_HOME/utc/templates`, else
`~/.cache/utc/templates`), never in the package, which may be read-only (a wheel
installed system-wide).

What the cached code depends on is in its key: jinja2 checks each entry against the
template source's checksum (and its own format and Python version), and the folder
name covers the rest: the jinja2 version, the Python implementation and version, and
the environment options. The cache is best effort: an unreadable, corrupt or unwritable
entry or folder only means compiling the template again. The rendered text is the same
either way.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: How every template is read and rendered (part of the cache key).
OPTIONS = {"keep_trailing_newline": True, "trim_blocks": True, "lstrip_blocks": True}


def cache_dir() -> Path | None:
    """Where compiled templates are kept for this jinja2, Python and set of options;
    None when there is no home or cache folder to use."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no HOME and no password entry
        return None
    key = hashlib.sha256(repr((jinja2.__version__, sys.implementation.cache_tag,
                               sys.version, sorted(OPTIONS.items()))).encode()).hexdigest()[:16]
    return Path(base) / "utc" / "templates" / key


class DiskBytecodeCache(jinja2.BytecodeCache):
    """One file per template in `directory`, written atomically (a temporary file
    renamed over the entry, so concurrent compiles never read half an entry); every
    failure falls back to compiling."""

    def __init__(self, directory: Path):
        self.directory = directory

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.directory / f"{bucket.key}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = self._path(bucket).read_bytes()
        except OSError:
            return
        try:
            bucket.bytecode_from_string(data)
        except Exception:  # a truncated or foreign file: compile again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        target = self._path(bucket)
        tmp = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
            with os.fdopen(fd, "wb") as f:
                f.write(bucket.bytecode_to_string())
            os.replace(tmp, target)
            tmp = None
        except OSError:
            pass  # no cache this time
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def environment(templates: Path = TEMPLATES, cache: Path | None = None) -> jinja2.Environment:
    """The environment the emitter renders with: strict about undefined names, templates
    from `templates`, compiled code cached in `cache` (default `cache_dir()`)."""
    directory = cache if cache is not None else cache_dir()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=DiskBytecodeCache(directory) if directory is not None else None,
        **OPTIONS,
    )
