"""Run the lit + filecheck suite in tests/lit as part of pytest, and keep its layout.

tests/lit has four folders: roundtrip/ (printer and parser), dialects/ (verifier
diagnostics), passes/ (one file or more per pass, named after it) and codegen/
(`utc translate --emit=cpp`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from utc.compiler.driver import load_builtin_passes
from utc.compiler.pass_manager import PASS_REGISTRY

LIT_DIR = Path(__file__).parent / "lit"
FOLDERS = ("roundtrip", "dialects", "passes", "codegen")
LEVELS = ("tensor", "fused", "qnn", "buf")


def _tests() -> list[Path]:
    return sorted(p for p in LIT_DIR.rglob("*.utc") if "Output" not in p.relative_to(LIT_DIR).parts)


def test_lit_suite() -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "lit"), "-v", str(LIT_DIR)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_every_lit_test_is_in_one_of_the_four_folders() -> None:
    misplaced = [str(p.relative_to(LIT_DIR)) for p in _tests()
                 if len(p.relative_to(LIT_DIR).parts) != 2 or p.parent.name not in FOLDERS]
    assert not misplaced, f"lit tests outside {FOLDERS}: {misplaced}"
    empty = [f for f in FOLDERS if not list((LIT_DIR / f).glob("*.utc"))]
    assert not empty, f"lit folders without tests: {empty}"


def test_every_level_round_trips_and_has_verifier_diagnostics() -> None:
    names = {p.relative_to(LIT_DIR).as_posix() for p in _tests()}
    missing = [f"roundtrip/{level}.utc" for level in LEVELS if f"roundtrip/{level}.utc" not in names]
    assert not missing, f"levels without a round-trip test: {missing}"
    few = {level: n for level in LEVELS
           if (n := len(list((LIT_DIR / "dialects").glob(f"{level}-*.utc")))) < 3}
    assert not few, f"dialects with fewer than 3 verifier diagnostic tests: {few}"


def test_every_pass_has_a_lit_test() -> None:
    from utc.passes import PASS_NAMES

    # utc's own passes (a test may have registered plugin passes in this process)
    load_builtin_passes()
    stems = [p.stem for p in (LIT_DIR / "passes").glob("*.utc")]
    builtin = [n for n in PASS_REGISTRY if n in PASS_NAMES]
    assert sorted(builtin) == sorted(PASS_NAMES)
    untested = sorted(name for name in builtin
                      if not any(s == name or s.startswith(f"{name}-") for s in stems))
    assert not untested, f"passes without a test in tests/lit/passes/: {untested}"
