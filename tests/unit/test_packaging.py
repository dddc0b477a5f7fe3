"""utc works the way users install it: as a wheel, with every template, runtime file and
the IR grammar inside the installed package.

The suite normally imports whatever `utc` is installed: the checkout itself under an
editable install, a copy in site-packages when `.ci/run` installs the wheel. CI sets
`UTC_EXPECT_INSTALLED=1`, and then `test_ci_tests_the_installed_copy` fails unless the
suite really is testing that copy, so a wheel missing a file cannot pass CI by the tests
quietly importing the checkout instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import utc
import utc.codegen
import utc.compiler
import utc.compiler.ir
import utc.dialects
import utc.passes
import utc.runtime

from tests.conftest import REPO

#: checkout folder -> the installed package it becomes (pyproject's package-dir)
PACKAGES = {"compiler": utc.compiler, "dialects": utc.dialects, "passes": utc.passes,
            "codegen": utc.codegen, "runtime": utc.runtime, "api": utc}
#: the files a working compiler needs: Python, templates, runtime C++, the grammar, the
#: Cortex-M firmware support (start-up, semihosting, linker script, QEMU plugin)
SHIPPED = ("*.py", "*.j2", "*.h", "*.cpp", "*.lark", "*.c", "*.ld")


def _installed_dir(package) -> Path:
    return Path(package.__file__).resolve().parent


def _source_files() -> list[tuple[str, Path]]:
    files = []
    for folder in PACKAGES:
        root = REPO / folder
        for pattern in SHIPPED:
            for path in root.rglob(pattern):
                if "__pycache__" not in path.parts:
                    files.append((folder, path.relative_to(root)))
    return sorted(files)


def test_every_source_file_is_in_the_installed_package() -> None:
    """Every module, template (at any depth), runtime file and the grammar of the checkout
    is in the package Python imports. Under an editable install both are the checkout;
    against the wheel this is what catches a package-data glob that misses a folder."""
    files = _source_files()
    assert any(rel.suffix == ".j2" and len(rel.parts) > 1 for _, rel in files), \
        "expected templates in a subfolder (codegen/templates/)"
    missing = [f"{folder}/{rel}" for folder, rel in files
               if not (_installed_dir(PACKAGES[folder]) / rel).is_file()]
    assert not missing, f"not in the installed package: {missing}"


def test_every_file_codegen_uses_exists() -> None:
    """The kernel table's runtime files, the model templates, the host runner's template
    and the IR grammar are where the code looks for them."""
    from utc.codegen import template_env
    from utc.runtime import RUNTIME_DIR
    from utc.runtime.kernels import KERNELS

    templates = Path(template_env.TEMPLATES)
    assert templates == _installed_dir(utc.codegen) / "templates"
    needed = [RUNTIME_DIR / "utc_runtime.h"]
    for kernel in KERNELS:
        needed += [RUNTIME_DIR / f for f in kernel.files]
    needed += [templates / t for t in ("model.h.j2", "model.cpp.j2", "weights.h.j2",
                                       "weights.cpp.j2", "CMakeLists.txt.j2", "runner.cpp.j2")]
    needed.append(_installed_dir(utc.compiler.ir) / "grammar.lark")
    missing = sorted({str(p) for p in needed if not p.is_file()})
    assert not missing, f"missing: {missing}"


def test_version_option_reports_the_installed_metadata() -> None:
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"utc {version('utc')}"


def test_ci_tests_the_installed_copy() -> None:
    """When CI says the suite runs against the installed wheel, it does: every utc package
    comes from site-packages, none from the checkout."""
    if os.environ.get("UTC_EXPECT_INSTALLED") != "1":
        pytest.skip("UTC_EXPECT_INSTALLED is not set: this run tests whichever utc is "
                    "importable (.ci/run sets it when testing the installed wheel)")
    for folder, package in PACKAGES.items():
        where = _installed_dir(package)
        assert "site-packages" in where.parts, f"utc.{folder} comes from {where}"
        assert REPO not in where.parents, f"utc.{folder} comes from the checkout: {where}"
