"""The pass registry imports a pass's module only when the pass is looked up, and a
compile imports only what it uses: no networkx, lark or importlib.metadata, and only
the pass modules its pipeline names. Import behaviour is checked in fresh interpreters
(this process has imported everything already)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from utc.compiler.errors import PipelineError
from utc.compiler.pass_manager import Pass, PassRegistry
from utc.passes import PASS_NAMES, module_of

from tests.conftest import REPO


def fresh_modules(code: str) -> dict:
    """Run `code` in a new interpreter; it prints a JSON value, which is returned."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pass_names_are_the_pass_modules() -> None:
    """PASS_NAMES lists one name per module of passes/ (packages are helpers)."""
    modules = sorted(p.stem.replace("_", "-") for p in (REPO / "passes").glob("*.py")
                     if p.stem != "__init__")
    assert sorted(PASS_NAMES) == modules


@pytest.mark.parametrize("name", PASS_NAMES)
def test_each_module_registers_its_pass(name: str) -> None:
    """Importing the module registers the pass (it may import other passes it uses)."""
    found = fresh_modules(f"""
import importlib, json
from utc.compiler.pass_manager import PASS_REGISTRY
importlib.import_module({module_of(name)!r})
cls = PASS_REGISTRY._classes.get({name!r})
print(json.dumps(cls and cls.__module__))
""")
    assert found == module_of(name)


def test_lookup_imports_the_module_only_then() -> None:
    state = fresh_modules("""
import json, sys
from utc.compiler.driver import load_builtin_passes
from utc.compiler.pass_manager import PASS_REGISTRY
load_builtin_passes()
known = "inplace" in PASS_REGISTRY
before = "utc.passes.inplace" in sys.modules
cls = PASS_REGISTRY["inplace"]
print(json.dumps([known, before, "utc.passes.inplace" in sys.modules, cls.name,
                  sorted(m for m in sys.modules if m.startswith("utc.passes."))]))
""")
    known, before, after, name, imported = state
    assert known and not before and after and name == "inplace"
    assert "utc.passes.plan_memory" not in imported


def test_compile_imports_only_what_it_uses(tmp_path: Path) -> None:
    model = REPO / "examples" / "sine_int8.tflite"  # bundled: the test never skips
    imported = fresh_modules(f"""
import json, sys
from utc.compiler.driver.cli import main
assert main(["compile", {str(model)!r}, "-O1", "-o", {str(tmp_path / "out")!r}]) == 0
print(json.dumps(sorted(sys.modules)))
""")
    for absent in ("networkx", "lark", "importlib.metadata", "utc.passes.reorder_for_memory",
                   "tflite", "flatbuffers",  # utc reads models with its own reader
                   "jinja2"):  # and renders the templates with its own compiler of them
        assert absent not in imported, absent  # reorder-for-memory runs at -O2 only
    assert "utc.passes.plan_memory" in imported


@dataclass(frozen=True)
class _Fake(Pass):
    name = "fake-pass"


def test_declared_name_refuses_another_module() -> None:
    registry = PassRegistry()
    registry.declare("fake-pass", "some.other.module")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_Fake)
    with pytest.raises(ValueError, match="declared by both"):
        registry.declare("fake-pass", "a.third.module")


def test_registered_class_refuses_a_declaration_elsewhere() -> None:
    registry = PassRegistry()
    registry.register(_Fake)
    with pytest.raises(ValueError, match="registered twice"):
        registry.declare("fake-pass", "some.other.module")
    registry.declare("fake-pass", _Fake.__module__)  # its own module: fine
    assert registry["fake-pass"] is _Fake


def test_module_that_does_not_register_its_pass() -> None:
    registry = PassRegistry()
    registry.declare("no-such-pass", "json")
    registry._entry_points_loaded = True  # no plugins for this registry
    assert "no-such-pass" in registry
    with pytest.raises(PipelineError, match="json does not register it"):
        registry["no-such-pass"]


def test_unknown_name_is_not_in_registry() -> None:
    registry = PassRegistry()
    registry._entry_points_loaded = True
    assert "nothing" not in registry
    assert registry.get("nothing") is None
    assert list(registry) == []
