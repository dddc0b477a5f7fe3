"""`utc check MODEL`: everything that stops a model, at once.

A compile stops at the first problem; someone choosing or converting a model wants the
whole list. `check_model_support` asks the importer's diagnosis (every operator, dtype
and tensor feature the operator table and the tensor checks refuse,
`compiler/importers/tflite_diagnose.py`); when that finds nothing, it compiles the model
in memory with the given options, so a refusal only a later stage makes (an operator
variant, a parameter, a memory limit) is found too, and "ok" means the model compiles.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from utc.compiler.errors import ImportError_, UsageError, UtcError, printable


@dataclass
class CheckResult:
    operators: int
    problems: list[str] = field(default_factory=list)


def check_model_support(model: str, **compile_options) -> CheckResult:
    """The operators of `model` and every problem that stops it, each one line naming the
    operator type first ("SVDF #3: not supported ..."). A file that is not a model at all
    raises the import error, as a compile does. `compile_options`: `prepare_compile`'s
    (opt_level, pipeline, kernels, target, the limits) for the trial compile."""
    from utc.compiler.driver import check_model_file, prepare_compile, run_compile
    from utc.compiler.importers.tflite_diagnose import diagnose

    check_model_file(model)
    try:
        operators, problems = diagnose(model)
    except (IndexError, ValueError, TypeError, AttributeError, UnicodeDecodeError,
            struct.error) as exc:
        if isinstance(exc, UtcError):
            raise
        raise ImportError_(f"{model}: truncated or corrupt TFLite flatbuffer "
                           f"({type(exc).__name__}: {printable(exc)})") from None
    result = CheckResult(operators, [str(p) for p in problems])
    if result.problems:
        return result
    try:
        run_compile(prepare_compile(model, **compile_options))
    except UsageError:
        raise
    except UtcError as exc:
        text = printable(exc)
        prefix = f"{model}: "
        text = text[len(prefix):] if text.startswith(prefix) else text
        # the importer's "operator #3 CONV_2D: ..." as check words it: type first
        result.problems.append(re.sub(r"^operator #(\d+) ([A-Z0-9_]+)(?=[: ])", r"\2 #\1", text))
    return result
