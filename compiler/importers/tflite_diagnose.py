"""Everything that stops a TFLite model, listed at once (`utc check`), and the TFLite
operator types of a model (the report's operator column).

Importing refuses a model at its first problem, which is right for a compile and wrong
for someone deciding whether a model can be made to work: `diagnose` walks the whole
flatbuffer with the operator table's rules and the importer's tensor checks and returns
every problem it finds, each naming the operator type first, then its index and the
reason. It reads the file with the importer's guarded readers; a file it cannot read as a
flatbuffer at all is one ImportError_, as for a compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from utc.compiler.errors import ImportError_, printable
from utc.compiler.importers import tflite_checks as checks
from utc.compiler.importers import tflite_schema as tflite
from utc.compiler.importers.tflite import (
    _ACCESS_OPS,
    _CONTROL_FLOW,
    _INIT_OPS,
    _NP_OF,
    _TFL_TYPE_NAMES,
    BUILTIN_NAMES,
    CUSTOM_OP_TABLE,
    INT16_STATE_INPUTS,
    OP_TABLE,
    SUPPORTED_OPS_HINT,
    _text,
    custom_origin,
    load_flatbuffer,
    parse_flatbuffer,
)
from utc.compiler.importers.tflite_schema import TensorType as TflType

#: Tensor types that hold indices, shapes, flags or handles, not activations: the
#: operator table's dtypes do not speak about them.
_NOT_ACTIVATIONS = (TflType.INT32, TflType.INT64, TflType.BOOL, TflType.RESOURCE,
                    TflType.STRING, TflType.VARIANT)
#: Operators that work on variables rather than tensors of data.
_VARIABLE_OPS = (*_INIT_OPS, *_ACCESS_OPS, "CALL_ONCE")


@dataclass(frozen=True)
class Problem:
    """One thing that stops the model: `what` names the operator type and index
    ("CONV_2D #3") or the tensor or the model; `reason` says why."""

    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


def _read(model: str | Path | bytes, label: str | None) -> tuple[str, bytes, tflite.Model]:
    if isinstance(model, bytes | bytearray | memoryview):
        shown = label or "<model bytes>"
        return shown, bytes(model), parse_flatbuffer(bytes(model), shown)
    data, root = load_flatbuffer(model)
    return str(model), data, root


def _builtin(root: tflite.Model, op: tflite.Operator) -> str:
    """The operator's type as TFLite names it (`CONV_2D`, `CUSTOM 'name'`), or `?` when
    its operator code is out of range."""
    opcode = op.OpcodeIndex()
    if not 0 <= opcode < root.OperatorCodesLength():
        return "?"
    code = root.OperatorCodes(opcode)
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = BUILTIN_NAMES.get(builtin, f"builtin code {builtin}")
    if name == "CUSTOM":
        name = f"CUSTOM '{printable(_text(code.CustomCode())[:80])}'"
    return name


def operator_types(model: str | Path | bytes, label: str | None = None) -> tuple[str, ...]:
    """The TFLite operator type of every operator of the main subgraph, by index; empty
    when the model cannot be read (the report then falls back to the IR op names)."""
    try:
        _, _, root = _read(model, label)
        if root.SubgraphsLength() == 0:
            return ()
        graph = root.Subgraphs(0)
        return tuple(_builtin(root, graph.Operators(i)) for i in range(graph.OperatorsLength()))
    except (ImportError_, IndexError, ValueError, TypeError, AttributeError, OSError):
        return ()


def _int_list(getter, length: int) -> list[int]:
    return [int(x) for x in getter()] if length else []


def diagnose(model: str | Path | bytes, label: str | None = None) -> tuple[int, list[Problem]]:
    """(number of operators, every problem found) for the model's main subgraph and the
    subgraphs CALL_ONCE runs: unsupported operator types and versions, operand counts,
    activation dtypes the operator's row does not list, tensor types utc has no storage
    for, variable tensors, dynamic shapes, sparse tensors, control flow."""
    path, data, root = _read(model, label)
    problems: list[Problem] = []
    checks.check_count(path, "subgraph", root.SubgraphsLength(), len(data))
    if root.SubgraphsLength() == 0:
        return 0, [Problem("model", "has no subgraphs")]
    graph = root.Subgraphs(0)
    checks.check_count(path, "operator", graph.OperatorsLength(), len(data))
    checks.check_count(path, "tensor", graph.TensorsLength(), len(data))
    num_tensors = graph.TensorsLength()
    users: dict[int, list[str]] = {}  # tensor index -> "TYPE #i" of the operators using it
    call_once = 0
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        builtin = _builtin(root, op)
        what = f"{builtin} #{i}"
        if builtin == "?":
            problems.append(Problem(f"operator #{i}", f"names operator code #{op.OpcodeIndex()}, "
                                    f"but the model has {root.OperatorCodesLength()}"))
            continue
        inputs = _int_list(op.InputsAsNumpy, op.InputsLength())
        outputs = _int_list(op.OutputsAsNumpy, op.OutputsLength())
        bad = [t for t in (*inputs, *outputs) if not -1 <= t < num_tensors]
        if bad:
            problems.append(Problem(what, f"names tensor #{bad[0]}, but the model has "
                                    f"{num_tensors}"))
            continue
        for t in (*inputs, *outputs):
            if t >= 0:
                users.setdefault(t, []).append(what)
        call_once += builtin == "CALL_ONCE"
        if builtin in _CONTROL_FLOW and builtin != "CALL_ONCE":
            problems.append(Problem(what, "control flow is not supported"))
            continue
        custom = None
        if builtin.startswith("CUSTOM '"):
            # a signal-library operator is a row of the custom table (its own dtypes: the
            # importer and the trial compile check those); any other is refused as the
            # importer words it
            code = root.OperatorCodes(op.OpcodeIndex()).CustomCode()
            custom = _text(code) if code is not None else ""
        rule = CUSTOM_OP_TABLE.get(custom) if custom is not None else OP_TABLE.get(builtin)
        if rule is None:
            origin = custom_origin(custom) if custom else None
            problems.append(Problem(what, origin or f"not supported ({SUPPORTED_OPS_HINT})"))
            continue
        lo, hi = rule.versions
        version = root.OperatorCodes(op.OpcodeIndex()).Version()
        if not lo <= version <= hi:
            problems.append(Problem(what, f"version {version} is not supported (utc implements "
                                    f"versions {lo}-{hi})"))
        try:
            checks.check_arity(path, what, inputs, outputs, rule.inputs, rule.outputs)
        except ImportError_ as exc:
            problems.append(Problem(what, str(exc).split(f"{what}: ", 1)[-1]))
        if builtin in _VARIABLE_OPS or not rule.dtypes or custom is not None:
            continue
        # int16 state inputs of an int8 operator (the SVDF's time weights and state) are
        # checked by the operator's own builder, as the importer does
        state = {inputs[k] for k in INT16_STATE_INPUTS.get(builtin, ()) if k < len(inputs)
                 and graph.Tensors(inputs[k]).Type() == TflType.INT16} if "int16" not in \
            rule.dtypes else set()
        kinds = sorted({_TFL_TYPE_NAMES.get(graph.Tensors(t).Type(), "?").lower()
                        for t in (*inputs, *outputs)
                        if t >= 0 and t not in state
                        and graph.Tensors(t).Type() not in _NOT_ACTIVATIONS}
                       - set(rule.dtypes))
        if kinds:
            problems.append(Problem(what, f"{', '.join(kinds)} tensors are not supported "
                                    f"(utc implements it for {', '.join(rule.dtypes)})"))
    problems += _tensor_problems(graph, users)
    # by operator, in model order (a tensor's problems under the operator that uses it)
    problems.sort(key=_operator_index)
    subgraphs = root.SubgraphsLength()
    if subgraphs > 1 and not call_once:
        problems.append(Problem("model", f"has {subgraphs} subgraphs (control flow or several "
                                "signatures); utc supports one, plus the initialisation "
                                "subgraphs CALL_ONCE runs"))
    return graph.OperatorsLength(), problems


def _operator_index(problem: Problem) -> int:
    """The operator a problem is about ("CONV_2D #3", "operator #3"); tensors last."""
    index = problem.what.rsplit("#", 1)[-1]
    return int(index) if " #" in problem.what and index.isdigit() else 1 << 31


def _tensor_problems(graph: tflite.SubGraph, users: dict[int, list[str]]) -> list[Problem]:
    """Variable, dynamic-shaped, sparse and untyped tensors, each under the first
    operator that uses it (the tensor itself when no operator does)."""
    problems = []
    # variable tensors are state (compiler/importers/variable_tensors.py): fine as operator
    # inputs, not as model inputs or outputs or as what an operator writes
    io = {int(k) for k in graph.InputsAsNumpy()} if graph.InputsLength() else set()
    io |= {int(k) for k in graph.OutputsAsNumpy()} if graph.OutputsLength() else set()
    written = set()
    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        if op.OutputsLength():
            written |= {int(j) for j in op.OutputsAsNumpy()}
    for i in range(graph.TensorsLength()):
        t = graph.Tensors(i)
        label = checks.tensor_label(i, _text(t.Name()))
        reasons = []
        if t.IsVariable() and (i in io or i in written):
            reasons.append(f"{label} is a variable tensor used as a model input or output or "
                           "written by an operator (utc keeps variable tensors as state that "
                           "only operator inputs name)")
        shape = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []
        if not t.ShapeSignatureIsNone() and t.ShapeSignatureLength():
            sig = [int(d) for d in t.ShapeSignatureAsNumpy()]
            dynamic = [k for k, d in enumerate(sig) if d < 0]
            if any(k != 0 for k in dynamic) or (dynamic and shape and shape[0] < 1):
                reasons.append(f"{label} has dynamic dimensions {sig} (utc needs static shapes)")
        elif any(d < 0 for d in shape):
            reasons.append(f"{label} has unknown dimensions {shape}")
        if t.Sparsity() is not None:
            reasons.append(f"{label} is stored sparse (re-convert the model without sparsity)")
        if t.Type() not in _NP_OF and t.Type() not in (TflType.RESOURCE, TflType.VARIANT):
            reasons.append(f"{label} has type {_TFL_TYPE_NAMES.get(t.Type(), t.Type())}, which "
                           "utc has no storage for")
        where = users.get(i, [label])[0]
        problems += [Problem(where, r) for r in reasons]
    return problems
