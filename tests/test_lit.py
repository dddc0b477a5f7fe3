"""Run the lit + filecheck suite in tests/lit as part of pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_lit_suite() -> None:
    lit_dir = Path(__file__).parent / "lit"
    proc = subprocess.run([str(Path(sys.executable).parent / "lit"), "-v", str(lit_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
