"""SUPPORTED_OPS.md must match what the importer and kernel table really support."""

from pathlib import Path

from utc.compiler.driver.supported_ops import render


def test_supported_ops_md_is_current() -> None:
    committed = (Path(__file__).resolve().parents[2] / "SUPPORTED_OPS.md").read_text()
    assert committed == render(), ("SUPPORTED_OPS.md is stale: regenerate with "
                                   "`python -m utc.compiler.driver.supported_ops > SUPPORTED_OPS.md`")
