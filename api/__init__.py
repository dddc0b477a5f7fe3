"""utc's Python API: compile a TFLite model, look at its memory plan and IR, write and run
the generated code, and drive passes, from a script or a notebook.

    import utc
    m = utc.compile("model.tflite", opt=2, target="host", name="m")
    m.arena_bytes, m.lower_bound      # the memory plan
    print(m.report())                 # the per-layer table (`utc compile --report`)
    m.ir("qnn")                       # the IR at a level, or after a named pass
    m.write("out/")                   # the C++ folder (`utc compile -o out/`)
    y = m.run(x)                      # built for the host (cached) and run on numpy input
    m = utc.from_keras(keras_model, samples)  # a trained Keras model, quantized (utc[tf])

Errors a user can cause raise `utc.UtcError`, whose text is exactly what the command
line prints after `utc: error: `. The command line runs the same code
(`utc.compiler.driver`): this package only gives it a Python face.

Importing `utc` costs nothing beyond this file: the compiler is imported on first use
(`utc.compile`, `utc.passes`, ...), so `utc --version` and plugin files that only
`import utc` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that defines it
_LAZY = {
    "compile": "utc.compiled_model",
    "CompiledModel": "utc.compiled_model",
    "CompiledApp": "utc.compiled_model",
    "import_model": "utc.compiled_model",
    "parse_ir": "utc.compiled_model",
    "print_ir": "utc.compiled_model",
    "pipeline": "utc.compiled_model",
    "register_pass": "utc.compiled_model",
    "load_pass_plugin": "utc.compiled_model",
    "verify": "utc.compiled_model",
    "from_keras": "utc.keras_model",
    "convert_keras": "utc.keras_model",
    "Verification": "utc.compiler.driver.verify",
    "LayerVerification": "utc.compiler.driver.verify_layers",
    "UtcError": "utc.compiler.errors",
    "Pass": "utc.compiler.pass_manager",
}

__all__ = sorted([*_LAZY, "passes", "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name == "passes":  # the subpackage of pass modules; `utc.passes.run(...)`
        value = importlib.import_module("utc.passes")
    elif name == "__version__":
        from utc.compiler.version import installed_version

        value = installed_version()
    else:
        raise AttributeError(f"module 'utc' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
