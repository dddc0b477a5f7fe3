"""compiler/atomic.py: a file is replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from utc.compiler.atomic import write_atomically


def test_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_atomically(target, lambda f: f.write(b"new contents"))
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failing_writer_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def half(f) -> None:
        f.write(b"half")
        raise ValueError("writer failed")

    with pytest.raises(ValueError, match="writer failed"):
        write_atomically(target, half)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_missing_folder_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_atomically(tmp_path / "absent" / "out.bin", lambda f: f.write(b"x"))
    assert list(tmp_path.iterdir()) == []
