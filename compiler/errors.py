"""User-facing errors. Each carries one line that names the problem and where it is;
the CLI prints it as `utc: error: ...` and exits with status 2, without a traceback.

Anything else that escapes a command is a bug in utc: the CLI prints it as one line
`utc: internal error: ...` and exits with status 3 (see `utc.compiler.driver.cli`).

Messages often quote what the user gave (file names, tensor names from a model, IR text),
which may hold newlines, escape sequences or other control characters: `printable()`
makes such a piece safe to put on one line of a terminal or a log.
"""

from __future__ import annotations

import re

#: Control characters (C0, DEL, C1), line and paragraph separators, and the bidi
#: overrides/isolates that can make a terminal show text other than what it holds.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x100
                                                      else f"\\u{ord(ch):04x}")


def printable(text: object) -> str:
    """`text` as one printable line: control characters become backslash escapes
    (`\\n`, `\\x1b`, `\\u202e`), so a hostile file or tensor name cannot break a message
    into several lines or drive the terminal. Ordinary non-ASCII text is kept."""
    return _UNPRINTABLE.sub(_escape, str(text))


def one_line(text: object, limit: int = 4000) -> str:
    """The CLI's last line of defence for a message about to be printed: escape what
    `printable` escapes and cut it at `limit` characters, so whatever a message ended up
    holding, the user sees exactly one line of bounded length."""
    line = printable(text)
    return line if len(line) <= limit else line[: limit - 3] + "..."


class UtcError(Exception):
    """Base class of every error utc reports to users."""


class ImportError_(UtcError):
    """The TFLite file cannot be imported (corrupt, unsupported op, dtype, shape...)."""


class PipelineError(UtcError):
    """A pipeline string names an unknown pass or a bad option."""


class CompileError(UtcError):
    """A pass or the code generator cannot handle the IR it was given."""


class UsageError(UtcError):
    """A command-line argument is invalid (a path, a name, a number), found before any
    work is done."""


class LimitError(UtcError):
    """The input or the compiled model exceeds a stated limit (model file size, arena,
    weights)."""
