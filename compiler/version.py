"""utc's version, as installed: what `utc --version` prints and the JSON report records."""

from __future__ import annotations


def installed_version() -> str:
    """The installed distribution's version (from its metadata, the single source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("utc")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"
