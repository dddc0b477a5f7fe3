"""The rooms of the code base and the rules between them (docs/architecture.md).

Every module of the five packages is parsed (not imported) and each `import` checked
against the layering rules, so a shortcut through the layers fails here with the module
and the import that breaks the rule, instead of surfacing later as an import cycle or a
dependency that a small install cannot meet.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {"compiler": "utc.compiler", "dialects": "utc.dialects", "passes": "utc.passes",
            "codegen": "utc.codegen", "runtime": "utc.runtime", "api": "utc"}


def _modules() -> dict[str, set[str]]:
    """Module name -> every module it imports (absolute, resolved from relative)."""
    found: dict[str, set[str]] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            imports: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    imports.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                        base = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                        module = f"{base}.{node.module}" if node.module else base
                        imports.add(module)
                        imports.update(f"{module}.{a.name}" for a in node.names)
                    else:
                        imports.add(node.module or "")
                        imports.update(f"{node.module}.{a.name}" for a in node.names)
            found[name] = imports
    return found


MODULES = _modules()


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _outside(*prefixes: str):
    """The modules a 'dependency only in X' rule applies to: all but X's."""
    return lambda m: not _within(m, *prefixes)


def _inside(*prefixes: str):
    return lambda m: _within(m, *prefixes)


#: (rule, which modules it applies to, imports they must not make)
RULES = [
    ("the IR core is below every dialect, pass and back end",
     _inside("utc.compiler.ir"),
     ("utc.dialects", "utc.passes", "utc.codegen", "utc.compiler.driver",
      "utc.compiler.importers")),
    ("the pass framework (rewrite driver, pass manager, errors) knows no dialect or pass",
     _inside("utc.compiler.rewrite", "utc.compiler.pass_manager", "utc.compiler.errors"),
     ("utc.dialects", "utc.passes", "utc.codegen", "utc.compiler.driver",
      "utc.compiler.importers")),
    ("dialects never import passes, back ends, the importer or the driver",
     _inside("utc.dialects"),
     ("utc.passes", "utc.codegen", "utc.compiler.driver", "utc.compiler.importers")),
    ("passes never import code generation, the importer or the driver (the kernel records "
     "they read live in utc.runtime.kernels)",
     _inside("utc.passes"),
     ("utc.codegen", "utc.compiler.driver", "utc.compiler.importers")),
    ("the importer lowers into dialects only",
     _inside("utc.compiler.importers"),
     ("utc.passes", "utc.codegen", "utc.compiler.driver")),
    ("jinja2 only in code generation", _outside("utc.codegen"), ("jinja2",)),
    ("lark only in the IR parser", _outside("utc.compiler.ir.parser"), ("lark",)),
    ("the tflite package nowhere (a test dependency: utc has its own reader)",
     lambda module: True, ("tflite",)),
    ("flatbuffers only for the FlexBuffers options of the signal-library operators",
     _outside("utc.compiler.importers.tflite_signal"), ("flatbuffers",)),
    ("networkx only in memory planning", _outside("utc.passes.planning"), ("networkx",)),
    ("TensorFlow and Keras only in the Keras path (the tf extra: never needed for .tflite)",
     _outside("utc.compiler.driver.keras"), ("tensorflow", "keras")),
]


@pytest.mark.parametrize("rule, applies, forbidden", RULES, ids=[r[0] for r in RULES])
def test_layering(rule: str, applies, forbidden: tuple[str, ...]) -> None:
    broken = sorted(f"{m} imports {i}" for m, imports in MODULES.items()
                    if applies(m) for i in imports if _within(i, *forbidden))
    assert not broken, f"{rule}: " + "; ".join(broken)


def test_the_rules_see_every_package() -> None:
    """The parse found the modules the rules are about (a typo would make them vacuous)."""
    for package in ("utc.compiler.ir.core", "utc.compiler.pass_manager", "utc.dialects.tensor",
                    "utc.passes.lower_to_qnn", "utc.codegen.emit_cpp",
                    "utc.compiler.importers.tflite", "utc.compiler.ir.parser",
                    "utc.passes.planning.intervals"):
        assert package in MODULES, package
    assert any(i == "lark" or i.startswith("lark.") for i in MODULES["utc.compiler.ir.parser"])


def test_nothing_below_the_python_api_imports_it() -> None:
    """The `utc` package (api/) is the top room: it wraps the driver, and no module of the
    compiler reaches up into it (the CLI and the API share the driver instead)."""
    api = {m for m in MODULES if m == "utc" or m.startswith("utc.") and not _within(
        m, *(p for p in PACKAGES.values() if p != "utc"))}
    assert {"utc", "utc.compiled_model"} <= api
    broken = sorted(f"{m} imports {i}" for m, imports in MODULES.items() if m not in api
                    for i in imports if i in api)
    assert not broken, "; ".join(broken)
