"""`utc.compile` and the object it returns: a compiled model with its memory plan, report,
IR at every level, generated code and a host build to run it.

Nothing here compiles differently from the command line: `compile` is the driver's
`prepare_compile` + `run_compile` (what `utc compile` runs), `write` is the driver's
staged write, the report text, SVG and JSON are the driver's report functions, and `run`
builds the same runner as `utc run`, only cached (codegen/runner_cache.py).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from utc.compiler.driver import (
    DEFAULT_MAX_ARENA_BYTES,
    DEFAULT_MAX_MODEL_BYTES,
    DEFAULT_MAX_WEIGHT_BYTES,
    Compilation,
    CompileRequest,
    emit_into,
    is_model_bytes,
    load_builtin_passes,
    pipeline_for,
    prepare_compile,
    run_compile,
    weight_bytes,
    write_compilation,
)
from utc.compiler.driver import import_model as _import_model
from utc.compiler.errors import CompileError, PipelineError, UsageError, UtcError, printable
from utc.compiler.ir import Module, VerifyError
from utc.compiler.pass_manager import Instrumentation, Pass, run_pipeline

#: The IR levels by name (docs/architecture.md): each is the IR just before the pipeline's
#: first pass that lowers out of it; "import-tflite" is the importer's output as is and
#: "buf" the end of the pipeline (planned, what code is generated from).
LEVEL_BOUNDARIES = {"tensor": "tensor-to-fused", "fused": "lower-to-qnn", "qnn": "bufferize"}
LEVELS = ("import-tflite", "tensor", "fused", "qnn", "buf")


@contextlib.contextmanager
def api_errors() -> Iterator[None]:
    """numpy floating-point errors raise, as under the command line (an inf or NaN scale
    must never be compiled silently)."""
    from utc.compiler.driver.cli import floating_point_errors_raise

    with floating_point_errors_raise():
        yield


def _check_model_argument(model: object) -> None:
    if not (is_model_bytes(model) or isinstance(model, str | os.PathLike)):
        raise UsageError(f"model must be a .tflite file name or the model's bytes, got "
                         f"{type(model).__name__}")


def compile(model: str | os.PathLike | bytes | Sequence, *, opt: int = 2, target: str = "host",
            kernels: str = "auto", name: str | None = None, pipeline: str | None = None,
            source: str | None = None, verify_each: bool = False,
            max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
            max_arena_bytes: int = DEFAULT_MAX_ARENA_BYTES,
            max_weight_bytes: int = DEFAULT_MAX_WEIGHT_BYTES,
            memory_regions: Sequence[str] = (), memory: str = "default",
            max_recompute: float = 0.15,
            concurrent: bool = False) -> CompiledModel | CompiledApp:
    """Compile a .tflite file, or a model's bytes, as `utc compile` does (same options and
    defaults: `opt` is -O, `kernels` is --kernels, `pipeline` overrides `opt`,
    `memory_regions` are --memory-region's `NAME:BYTES[:SECTION]`, `memory` and
    `max_recompute` are --memory and --max-recompute; `name` defaults to "model").
    `source` names model bytes in messages and generated comments. Nothing is written:
    see `CompiledModel.write`. Raises `utc.UtcError` with the text the CLI would print.

    A list of models compiles them into one arena, as `utc compile A B --name app`
    does (`name` defaults to "app"; `concurrent` is --concurrent) and returns a
    `CompiledApp`. Each item is a path (named by its file's stem, or `"PATH:NAME"`) or a
    `(model, name)` pair, the model a path or bytes."""
    if isinstance(model, list | tuple):
        return _compile_app(model, name="app" if name is None else name, concurrent=concurrent,
                            opt=opt, target=target, kernels=kernels, pipeline=pipeline,
                            verify_each=verify_each, max_model_bytes=max_model_bytes,
                            max_arena_bytes=max_arena_bytes, max_weight_bytes=max_weight_bytes,
                            memory_regions=memory_regions, memory=memory,
                            max_recompute=max_recompute)
    if concurrent:
        raise UsageError("concurrent needs several models (a list)")
    name = "model" if name is None else name
    _check_model_argument(model)
    with api_errors():
        req = prepare_compile(model if is_model_bytes(model) else os.fspath(model), name, opt,
                              pipeline, kernels, target, Instrumentation(verify_each=verify_each),
                              max_model_bytes, max_arena_bytes, max_weight_bytes, label=source,
                              memory_regions=memory_regions, memory=memory,
                              max_recompute=max_recompute)
        comp = run_compile(req)
    return CompiledModel(req, comp)


class CompiledModel:
    """A compiled model: the planned module and what can be read, written and run from it.

    Memory plan: `arena_bytes`, `lower_bound`, `weight_bytes`, `plan` (the report's memory
    section), `layers` (one row per kernel call), `buffers` (every arena buffer).
    Report: `report()` (text), `report_json()` (the `--report=json` document as a dict),
    `svg()` (the arena map; notebooks show it inline). IR: `ir(level)`, `ir_module(level)`.
    Code: `write(folder)`, `run(inputs)`, `run_samples(samples)`.
    """

    def __init__(self, request: CompileRequest, compilation: Compilation):
        self._request = request
        self._comp = compilation
        self._footprint = None
        self._ir_text: dict[tuple[str, bool, bool], str] = {}
        self._runner: Path | None = None

    # ---- what was compiled, and how ----------------------------------------------------

    @property
    def name(self) -> str:
        return self._comp.name

    @property
    def target(self) -> str:
        return self._comp.target

    @property
    def kernels(self) -> str:
        return self._comp.kernels

    @property
    def opt_level(self) -> int:
        return self._comp.opt_level

    @property
    def pipeline(self) -> str:
        """The pipeline that ran (for `kernels="auto"`, with the choice it made)."""
        return self._comp.pipeline

    @property
    def module(self) -> Module:
        """The planned `buf`-level module code is generated from (shared, not a copy)."""
        return self._comp.module

    @property
    def compilation(self) -> Compilation:
        return self._comp

    # ---- the memory plan ---------------------------------------------------------------

    @property
    def arena_bytes(self) -> int:
        return int(self._main().arena_bytes)

    @property
    def lower_bound(self) -> int:
        """Most arena bytes live at once in this schedule: no plan of it can be smaller."""
        return int(self._main().lower_bound or 0)

    @property
    def weight_bytes(self) -> int:
        """Constant bytes in flash (`NAME_WEIGHT_BYTES`)."""
        return weight_bytes(self.module)

    @property
    def plan(self) -> dict[str, Any]:
        """The memory section of `report_json()`: arena, bounds, gap, strategy, peak."""
        return self.report_json()["memory"]

    @property
    def layers(self) -> list:
        """One `LayerRow` per kernel call in schedule order (step, TFLite sources, op,
        kernel, output shapes, MACs, weight/live/scratch bytes, arena offsets)."""
        from utc.compiler.driver.report import layer_rows

        return layer_rows(self.module)

    @property
    def buffers(self) -> list:
        """Every arena buffer (`ArenaBuffer`: name, kind, size, offset, live steps)."""
        from utc.compiler.driver.report import arena_buffers

        return arena_buffers(self.module)

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The model inputs as in `report_json()`: name, shape, dtype, bytes, quantization."""
        return self.report_json()["inputs"]

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return self.report_json()["outputs"]

    def _main(self):
        from utc.dialects.func import main_function

        return main_function(self.module)

    # ---- reports -----------------------------------------------------------------------

    def report(self) -> str:
        """The per-layer table and totals of `utc compile --report`."""
        from utc.compiler.driver.report import format_report

        return format_report(self.module, self._comp.op_types, self.footprint())

    def footprint(self):
        """Code size and stack as `--report` measures them (compiler/driver/footprint.py:
        built with arm-none-eabi-gcc and run on QEMU for a Cortex-M target; "not measured"
        notes otherwise), measured once per object."""
        if self._footprint is None:
            from utc.compiler.driver.footprint import measure_footprint

            self._footprint = measure_footprint(self._comp)
        return self._footprint

    def report_json(self) -> dict[str, Any]:
        """The `utc compile --report=json` document (docs/report-json.md), as a dict."""
        from utc.compiler.driver.report_json import report_dict

        return report_dict(self._comp, self.footprint())

    def svg(self) -> str:
        """The arena over time as SVG (`memory.svg` of `utc compile --report`)."""
        from utc.compiler.driver.report import memory_svg

        return memory_svg(self.module)

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        from html import escape

        svg = self.svg()
        svg = svg[svg.index("<svg"):]  # inline in HTML: without the XML declaration
        return f"<div><p>{escape(repr(self))}</p>{svg}</div>"

    def __repr__(self) -> str:
        calls = len(self.layers)
        return (f"<utc.CompiledModel '{self.name}': {calls} kernel calls, arena "
                f"{self.arena_bytes:,} B (lower bound {self.lower_bound:,} B), weights "
                f"{self.weight_bytes:,} B, target {self.target}, kernels {self.kernels}>")

    # ---- IR ----------------------------------------------------------------------------

    @property
    def levels(self) -> tuple[str, ...]:
        """What `ir()` accepts: the level names, then every pass of the pipeline."""
        names = [p.name for p in self._request.passes]
        levels = [lv for lv in LEVELS if lv not in LEVEL_BOUNDARIES or
                  LEVEL_BOUNDARIES[lv] in names]
        return tuple(levels + [n for n in names if n not in levels])

    def _passes_until(self, level: str) -> int:
        names = [p.name for p in self._request.passes]
        if level == "import-tflite":
            return 0
        if level == "buf":
            return len(names)
        boundary = LEVEL_BOUNDARIES.get(level)
        if boundary is not None and boundary in names:
            return names.index(boundary)
        if boundary is None and level in names:
            return names.index(level) + 1  # the IR after the pass
        raise UsageError(f"no IR level '{printable(level)}' in this pipeline (levels: "
                         f"{', '.join(self.levels)})")

    def ir_module(self, level: str = "buf") -> Module:
        """A fresh module at `level` (see `levels`): a level name (`tensor`, `fused`,
        `qnn`, `buf`), `import-tflite`, or a pass name for the IR after that pass.
        The model is imported again and the pipeline run up to that point (it is
        deterministic), so the result is yours to change or run passes on."""
        stop = self._passes_until(level)
        req = self._request
        with api_errors():
            module = _import_model(req.model, req.name, req.max_model_bytes, req.label)
            run_pipeline(module, req.passes[:stop], Instrumentation())
        return module

    def ir(self, level: str = "buf", *, elide_resources: bool = True,
           locations: bool = False) -> str:
        """The printed IR at `level` (see `ir_module`). Weights are elided by default, so
        the text is readable in a notebook; `elide_resources=False` prints them in hex,
        as `--dump-ir-dir` files do."""
        key = (level, elide_resources, locations)
        if key not in self._ir_text:
            from utc.compiler.ir.printer import print_module

            module = self.module if level == "buf" else self.ir_module(level)
            self._ir_text[key] = print_module(module, elide_resources=elide_resources,
                                              locations=locations)
        return self._ir_text[key]

    # ---- code --------------------------------------------------------------------------

    def write(self, folder: str | os.PathLike, *, report: bool = False) -> list[Path]:
        """Write the generated C++ into `folder`, as `utc compile -o folder` does (staged:
        on failure nothing is left); with `report`, also `memory.svg` and `report.json`
        (`--report=json`). Returns the folder's files."""
        from utc.compiler.driver.report import memory_svg
        from utc.compiler.driver.report_json import report_json

        extra = ({"memory.svg": memory_svg(self.module).encode(),
                  "report.json": report_json(self._comp, self.footprint()).encode()}
                 if report else None)
        with api_errors():
            return write_compilation(self._comp, os.fspath(folder), extra)

    def _specs(self):
        from utc.compiler.driver.model_io import io_specs

        return io_specs(self.module)

    def _exe(self) -> Path:
        """The host runner of the generated code, from the cache or built now."""
        from utc.codegen.runner_cache import cached_runner

        if self._runner is None or not self._runner.is_file():
            ins, outs = self._specs()
            with tempfile.TemporaryDirectory(prefix="utc-api-") as tmp:
                emit_into(self._comp, Path(tmp))
                self._runner = cached_runner(Path(tmp), self.name, len(ins), len(outs))
        return self._runner

    def run_samples(self, samples: Sequence[Any]) -> list[list[np.ndarray]]:
        """Run many samples through one process of the host build (as on a device, one
        arena for all): each sample is a list of arrays, one per model input, or one
        array for a single-input model. Returns each sample's outputs."""
        from utc.codegen.host_build import run_runner
        from utc.compiler.driver.model_io import check_inputs

        ins, outs = self._specs()
        checked = []
        for k, sample in enumerate(samples):
            arrays = [sample] if isinstance(sample, np.ndarray) else list(sample)
            where = f"sample {k}: " if len(samples) > 1 else ""
            checked.append(check_inputs(ins, arrays, [f"{where}input {i}" for i in range(len(ins))],
                                        "inputs"))
        if not checked:
            return []
        return [[np.array(y) for y in sample] for sample in run_runner(self._exe(), checked, outs)]

    def run(self, inputs: Any) -> list[np.ndarray]:
        """The outputs for one set of inputs (a list of arrays, one per model input, or
        one array for a single-input model), computed by the generated C++ built with the
        host compiler (cached by content: the first call builds, later ones reuse it).
        Inputs must have the model's exact shapes and dtypes (see `inputs`)."""
        with api_errors():
            (outputs,) = self.run_samples([inputs])
        return outputs


    # ---- verification ------------------------------------------------------------------

    def verify(self, inputs: Any = None, *, samples: int = 32, seed: int = 0,
               atol: float | None = None, rtol: float | None = None, per_layer: bool = False):
        """Compare the generated code with TFLite Micro's interpreter on the same inputs, as
        `utc verify` does (the host build; for a model compiled for a Cortex-M target,
        firmware run on its QEMU board, which needs the cross compiler and QEMU): `inputs`
        is one array per model input (or one array for a one-input model), each of the
        input's shape (one sample) or with a leading N (N samples); without it, `samples`
        seeded random samples. Tolerances default to bit-exact for integer outputs, 1e-6
        absolute / 1e-5 relative for float ones. Returns a `Verification` (`.passed`,
        `.outputs`, `.format(header)`); with `per_layer`, a `LayerVerification` that also
        compares every intermediate tensor (`.layers`, `.first_difference`), as
        `utc verify --per-layer` does."""
        from utc.compiler.driver import read_bounded
        from utc.compiler.driver.verify import samples_from_arrays, verify_compilation

        req = self._request
        with api_errors():
            data = (bytes(req.model) if is_model_bytes(req.model) else
                    read_bounded(req.model, req.max_model_bytes, "the model"))
            given = None
            if inputs is not None:
                ins, _ = self._specs()
                arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
                given = samples_from_arrays(arrays, [f"input {i}" for i in range(len(arrays))],
                                            ins)
            return verify_compilation(self._comp, data, self._comp.source, given, samples, seed,
                                      atol, rtol, "given arrays" if given else None,
                                      per_layer=bool(per_layer))


def _compile_app(models: Sequence, *, name: str, concurrent: bool, opt: int, target: str,
                 kernels: str, pipeline: str | None, verify_each: bool, max_model_bytes: int,
                 max_arena_bytes: int, max_weight_bytes: int,
                 memory_regions: Sequence[str], memory: str = "default",
                 max_recompute: float = 0.15) -> CompiledApp:
    from utc.compiler.driver import check_c_name, check_model_names, parse_model_spec, plan_app

    if memory_regions:
        raise UsageError("memory_regions cannot be combined with several models in one arena")
    if not models:
        raise UsageError("no model to compile (an empty list)")
    specs = []
    for item in models:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
            _check_model_argument(item[0])
            specs.append((item[0] if is_model_bytes(item[0]) else os.fspath(item[0]), item[1]))
        elif isinstance(item, str | os.PathLike):
            specs.append(parse_model_spec(os.fspath(item)))
        else:
            raise UsageError("each model of a list must be a path or a (model, name) pair, got "
                             f"{type(item).__name__}")
    with api_errors():
        check_c_name(name)
        for _, n in specs:
            check_c_name(n)
        check_model_names([n for _, n in specs], name)
        reqs = [prepare_compile(m, n, opt, pipeline, kernels, target,
                                Instrumentation(verify_each=verify_each), max_model_bytes,
                                max_arena_bytes, max_weight_bytes, memory=memory,
                                max_recompute=max_recompute) for m, n in specs]
        comps = [run_compile(r) for r in reqs]
        app = plan_app(name, comps, concurrent, max_arena_bytes)
    return CompiledApp(app, [CompiledModel(r, c) for r, c in zip(reqs, comps)])


class CompiledApp:
    """Several models compiled into one arena (`utc.compile([a, b], name="app")`):
    `models` (one `CompiledModel` each, with its own plan, report and IR), the shared
    arena's `arena_bytes`, each model's `offsets` in it, `concurrent`; `report()`,
    `svg()` and `write(folder)` as `utc compile A B --name app` gives them."""

    def __init__(self, app, models: list[CompiledModel]):
        self._app = app
        self.models = models

    @property
    def name(self) -> str:
        return self._app.name

    @property
    def arena_bytes(self) -> int:
        return int(self._app.arena_bytes)

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(self._app.offsets)

    @property
    def concurrent(self) -> bool:
        return bool(self._app.concurrent)

    def report(self) -> str:
        from utc.compiler.driver.report import format_app_report

        return format_app_report(self._app, [m.footprint() for m in self.models])

    def svg(self) -> str:
        from utc.compiler.driver.report import app_memory_svg

        return app_memory_svg(self._app)

    def _repr_svg_(self) -> str:
        return self.svg()

    def write(self, folder: str | os.PathLike, *, report: bool = False) -> list[Path]:
        """Write the folder, as `utc compile A B --name app -o folder` does (staged: on
        failure nothing is left); with `report`, also `memory.svg`."""
        from utc.compiler.driver import emit_app_into, staged_output

        with api_errors(), staged_output(os.fspath(folder)) as staging:
            emit_app_into(self._app, staging)
            if report:
                (staging / "memory.svg").write_text(self.svg())
        return sorted(Path(folder).iterdir())

    def __repr__(self) -> str:
        how = "concurrent" if self.concurrent else "exclusive"
        parts = ", ".join(f"{m.name} {m.arena_bytes:,} B" for m in self.models)
        return (f"<utc.CompiledApp '{self.name}': {len(self.models)} models, shared arena "
                f"{self.arena_bytes:,} B ({how}): {parts}>")


def verify(model: str | os.PathLike | bytes | CompiledModel, inputs: Any = None, *,
           samples: int = 32, seed: int = 0, atol: float | None = None,
           rtol: float | None = None, per_layer: bool = False, **compile_options: Any):
    """`utc verify` from Python: compile `model` (a path or bytes, with `compile`'s
    keyword options; or an already compiled `CompiledModel`) and compare it with TFLite
    Micro (see `CompiledModel.verify`). Returns a `Verification`."""
    if isinstance(model, CompiledModel):
        if compile_options:
            raise UsageError(f"a CompiledModel is already compiled: compile options "
                             f"({', '.join(sorted(compile_options))}) do not apply")
        compiled = model
    else:
        compiled = compile(model, **compile_options)
    return compiled.verify(inputs, samples=samples, seed=seed, atol=atol, rtol=rtol,
                           per_layer=per_layer)


# ---- the IR and passes from Python --------------------------------------------------------


def import_model(model: str | os.PathLike | bytes, *, name: str = "model",
                 source: str | None = None,
                 max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES) -> Module:
    """The `tensor`-level module of a .tflite file or model bytes (`utc inspect`), for
    running passes on it (`utc.passes.run`)."""
    _check_model_argument(model)
    with api_errors():
        return _import_model(model if is_model_bytes(model) else os.fspath(model), name,
                             max_model_bytes, source)


def parse_ir(text: str, *, filename: str = "<string>") -> Module:
    """A module from IR text (any level), verified: what `utc opt` reads."""
    from utc.compiler.ir.parser import parse_module

    load_builtin_passes()
    with api_errors():
        module = parse_module(text, filename=printable(filename))
        try:
            module.verify()
        except VerifyError as exc:  # the text is the user's: their error, as in `utc opt`
            raise CompileError(str(exc)) from None
    return module


def print_ir(module: Module, *, elide_resources: bool = False, locations: bool = False) -> str:
    """The IR text of a module (parseable by `parse_ir` unless weights are elided)."""
    from utc.compiler.ir.printer import print_module

    return print_module(module, elide_resources=elide_resources, locations=locations)


def pipeline(opt: int = 2, kernels: str = "reference", target: str = "host") -> str:
    """The named pipeline of `-O{opt}` for a kernel library and target, as text for
    `utc.passes.run` or `compile(pipeline=...)`. `kernels="auto"` depends on the model:
    compile it and read `CompiledModel.pipeline`."""
    from utc.compiler.driver import PIPELINES
    from utc.runtime.targets import TARGETS

    if opt not in PIPELINES:
        raise UsageError(f"optimization level must be one of {sorted(PIPELINES)}, got {opt}")
    if kernels not in ("reference", "cmsis-nn"):
        raise UsageError(f"kernels must be reference or cmsis-nn, got '{printable(kernels)}' "
                         "(auto chooses per model: compile it and read .pipeline)")
    if target not in TARGETS:
        raise UsageError(f"target must be one of {', '.join(TARGETS)}, got '{printable(target)}'")
    return pipeline_for(opt, kernels, target)


def register_pass(cls: type[Pass] | None = None, *, replace: bool = False):
    """Make a `utc.Pass` subclass available to pipelines by its `name`, as a plugin file's
    `@register_pass` does; usable as `@utc.register_pass` or
    `@utc.register_pass(replace=True)` (re-running a notebook cell that defines the pass
    again replaces it instead of failing as a second pass of the same name)."""
    from utc.compiler.pass_manager import PASS_REGISTRY
    from utc.compiler.pass_manager import register_pass as register

    def decorate(pass_class: type[Pass]) -> type[Pass]:
        if not (isinstance(pass_class, type) and issubclass(pass_class, Pass)):
            raise PipelineError(f"{printable(pass_class)} is not a subclass of utc.Pass")
        load_builtin_passes()
        if replace and pass_class.name and pass_class.name in PASS_REGISTRY:
            builtin = PASS_REGISTRY[pass_class.name].__module__.startswith("utc.passes.")
            if builtin:
                raise PipelineError(f"pass '{pass_class.name}' is one of utc's own and cannot "
                                    "be replaced")
            del PASS_REGISTRY[pass_class.name]
        try:
            return register(pass_class)
        except ValueError as exc:
            raise PipelineError(str(exc)) from None

    return decorate if cls is None else decorate(cls)


def load_pass_plugin(path: str | os.PathLike) -> None:
    """Load a plugin file that registers passes (`--load-pass-plugin FILE.py`)."""
    from utc.compiler.pass_manager import load_plugin

    load_builtin_passes()
    load_plugin(os.fspath(path))


__all__ = ["LEVELS", "CompiledApp", "CompiledModel", "UtcError", "compile", "import_model",
           "load_pass_plugin", "parse_ir", "pipeline", "print_ir", "register_pass", "verify"]
