"""Passes, the pass registry, pipeline strings and the instrumented pass manager.

A pass is a small frozen dataclass: a kebab-case `name`, a docstring whose first line is
its summary, options as fields (`fuse-activation{max-iterations=3}` sets
`max_iterations`), and `run(module)`. Pipelines are strings of pass names separated by
commas. Users register their own passes with `--load-pass-plugin FILE.py` or the
`utc.passes` entry-point group; both simply define `Pass` subclasses with `@register_pass`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TextIO

from utc.compiler.errors import PipelineError, UtcError, printable
from utc.compiler.ir import Module
from utc.compiler.ir.printer import print_module


@dataclass(frozen=True)
class Pass:
    """Base class of all passes."""

    name: ClassVar[str] = ""

    def run(self, module: Module) -> None:  # pragma: no cover - abstract
        raise TypeError(f"pass {self.name} does not implement run()")

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def options(cls) -> tuple[PassOption, ...]:
        """The pass's options (its dataclass fields), in declaration order, each with its
        pipeline spelling, type and default: what `utc list-passes` shows."""
        return tuple(PassOption(f.name.replace("_", "-"), _type_name(f), _default_of(f))
                     for f in dataclasses.fields(cls))

    @classmethod
    def synopsis(cls) -> str:
        """The pass with every option at its default, as a pipeline string spells it
        (`plan-memory{strategy=optimal,alignment=16}`): paste it, change a value."""
        opts = [f"{o.name}={o.default_text()}" for o in cls.options()]
        return cls.name + ("{" + ",".join(opts) + "}" if opts else "")

    def spelling(self) -> str:
        """The pass as it would be written in a pipeline string (with non-default options)."""
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                opts.append(f"{f.name.replace('_', '-')}={_option_text(value)}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")


def _option_text(value: object) -> str:
    """An option value as a pipeline string writes it (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class PassOption:
    """One option of a pass: `name` as pipelines spell it (kebab-case), the `type` its
    value is parsed as, and its `default` (`REQUIRED` when the pass has none)."""

    name: str
    type: str
    default: object

    def default_text(self) -> str:
        return "<required>" if self.default is REQUIRED else _option_text(self.default)


#: The default of an option the pass declares without one.
REQUIRED = object()


def _type_name(f: dataclasses.Field) -> str:
    return f.type.__name__ if isinstance(f.type, type) else str(f.type)


def _default_of(f: dataclasses.Field) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return REQUIRED


class PassRegistry(Mapping[str, type[Pass]]):
    """Pass name -> pass class, importing a pass's module only when it is looked up.

    Start-up time is most of a small model's compile, and importing every pass module
    (with what they import) to learn their names cost more than running them. So the
    driver *declares* its passes by name and module (`declare`), and a lookup imports
    the module, whose `@register_pass` then fills in the class. Membership and listing
    need no import. Entry-point plugins (group `utc.passes`) are loaded the first time a
    name is looked up that nobody declared or registered, or when every pass is listed:
    a pipeline of builtin passes never scans the installed distributions.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[Pass]] = {}
        self._modules: dict[str, str] = {}  # declared name -> module that registers it
        self._entry_points_loaded = False

    def declare(self, name: str, module: str) -> None:
        """Make `name` known, to be registered by importing `module` when looked up."""
        declared = self._modules.get(name)
        if declared is not None and declared != module:
            raise ValueError(f"pass '{name}' is declared by both {declared} and {module}")
        cls = self._classes.get(name)
        if cls is not None and cls.__module__ != module:
            raise ValueError(f"pass '{name}' is registered twice")
        self._modules[name] = module

    def register(self, cls: type[Pass]) -> None:
        existing = self._classes.get(cls.name)
        declared = self._modules.get(cls.name)
        if ((existing is not None and existing is not cls)
                or (declared is not None and declared != cls.__module__)):
            raise ValueError(f"pass '{cls.name}' is registered twice")
        self._classes[cls.name] = cls

    def _known(self, name: str) -> bool:
        return name in self._classes or name in self._modules

    def _resolve(self, name: str) -> type[Pass] | None:
        if not self._known(name) and not self._entry_points_loaded:
            self.load_entry_points()
        cls = self._classes.get(name)
        if cls is None and name in self._modules:
            importlib.import_module(self._modules[name])
            cls = self._classes.get(name)
            if cls is None:
                raise PipelineError(f"pass '{name}': module {self._modules[name]} does not "
                                    "register it")
        return cls

    def __getitem__(self, name: str) -> type[Pass]:
        cls = self._resolve(name)
        if cls is None:
            raise KeyError(name)
        return cls

    def __delitem__(self, name: str) -> None:
        """Forget a registered pass, so that a new class may take its name (the Python
        API's `register_pass(replace=True)`, when a notebook cell runs again). Declared
        passes (utc's own) cannot be forgotten."""
        if name in self._modules:
            raise ValueError(f"pass '{name}' is one of utc's own and cannot be replaced")
        del self._classes[name]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if not self._known(name) and not self._entry_points_loaded:
            self.load_entry_points()
        return self._known(name)

    def __iter__(self) -> Iterator[str]:
        if not self._entry_points_loaded:
            self.load_entry_points()
        return iter(list(dict.fromkeys([*self._modules, *self._classes])))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def load_all(self) -> None:
        """Import every declared pass (listing summaries; `--verify-each`, whose
        whole-module checks the passes contribute when imported)."""
        for name in list(self):
            self[name]

    def load_entry_points(self) -> None:
        """Import the passes of the installed `utc.passes` entry-point plugins."""
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group="utc.passes"):
            try:
                ep.load()
            except Exception as exc:
                raise PipelineError(f"pass plugin entry point '{ep.name}' failed to load: {exc}"
                                    ) from None


PASS_REGISTRY = PassRegistry()


def declare_pass(name: str, module: str) -> None:
    """Make a pass known by name; `module` registers it when first looked up."""
    PASS_REGISTRY.declare(name, module)


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: make a pass available to pipelines by its kebab-case name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no pass name")
    PASS_REGISTRY.register(cls)
    return cls


#: Whole-module checks that `--verify-each` runs after every pass, besides each op's
#: verifier: invariants no single op can see (the memory plan). Contributed by the
#: passes that establish them (`register_module_check`), so the framework knows no pass.
MODULE_CHECKS: list[Callable[[Module], list[str]]] = []


def register_module_check(check: Callable[[Module], list[str]]) -> Callable[[Module], list[str]]:
    """Add a check returning the problems it finds (empty when the module is fine)."""
    if check not in MODULE_CHECKS:
        MODULE_CHECKS.append(check)
    return check


def load_plugin(path: str | Path) -> None:
    """Import a user's Python file that registers passes."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"pass plugin '{path}' does not exist")
    spec = importlib.util.spec_from_file_location(f"utc_plugin_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise PipelineError(f"pass plugin '{path}' is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # registered while it runs, as an import would: a dataclass pass whose annotations are
    # strings (`from __future__ import annotations`) resolves them through sys.modules
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a plugin's own bug: report it in one line
        sys.modules.pop(spec.name, None)
        raise PipelineError(f"pass plugin '{path}' failed to load: {type(exc).__name__}: {exc}") from None


def load_entry_point_plugins() -> None:
    """Import the installed `utc.passes` entry-point plugins now (otherwise they load
    when a pipeline names a pass utc does not know, or when passes are listed)."""
    PASS_REGISTRY.load_entry_points()


def split_pipeline(text: str) -> list[str]:
    """The pass specs of a pipeline text (commas inside `{...}` options kept)."""
    return _split_top_level(text)


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise PipelineError(f"unbalanced '}}' in pipeline '{text}'")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise PipelineError(f"unbalanced '{{' in pipeline '{text}'")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _convert(pass_name: str, option: str, field: dataclasses.Field, text: str) -> object:
    kind = field.type if isinstance(field.type, type) else {"int": int, "bool": bool,
                                                             "float": float, "str": str}.get(
        str(field.type), str)
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        return kind(text)
    except ValueError:
        raise PipelineError(f"pass '{pass_name}': option '{option}' expects {kind.__name__}, "
                            f"got '{text}'") from None


def known_passes_text() -> str:
    """'known passes: a, b, ...; `utc list-passes` describes them': what an error about a
    pass name nobody declared or registered lists, so a typo is seen at a glance."""
    return (f"known passes: {', '.join(sorted(PASS_REGISTRY))}; `utc list-passes` describes "
            "them")


def parse_pass(spec: str) -> Pass:
    """`name` or `name{opt=value,...}` → a configured pass instance."""
    name, _, rest = spec.partition("{")
    name = name.strip()
    cls = PASS_REGISTRY.get(name) if name else None
    if cls is None:
        raise PipelineError(f"unknown pass '{printable(name)}' ({known_passes_text()})")
    kwargs = {}
    if rest:
        if not rest.endswith("}"):
            raise PipelineError(f"pass '{name}': options must end with '}}'")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for item in _split_top_level(rest[:-1]):
            key, eq, value = item.partition("=")
            if not eq:
                raise PipelineError(f"pass '{name}': option '{item}' needs a value (key=value)")
            attr = key.strip().replace("-", "_")
            if attr not in fields:
                known = ", ".join(f.replace("_", "-") for f in fields) or "none"
                raise PipelineError(f"pass '{name}' has no option '{key.strip()}' (options: {known})")
            kwargs[attr] = _convert(name, key.strip(), fields[attr], value.strip())
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise PipelineError(f"pass '{name}': {exc}") from None


def parse_pipeline(text: str) -> list[Pass]:
    return [parse_pass(p) for p in _split_top_level(text)]


@dataclass
class Instrumentation:
    """What to print, dump and check around each pass (the `--print-ir-*` options).

    Printed IR shows `loc(...)` only with `print_locations` (`--print-loc`): locations
    make every line longer and are rarely what a reader looks for. `--dump-ir-dir` files
    always carry them: a dump is a debugging artifact that `utc opt` may re-run, and its
    errors should still name the TFLite operator an op came from.
    """

    print_after_all: bool = False
    print_before: tuple[str, ...] = ()
    print_after: tuple[str, ...] = ()
    print_after_change: bool = False
    dump_dir: Path | None = None
    verify_each: bool = False
    timing: bool = False
    elide_resources: bool = False
    print_locations: bool = False
    stream: TextIO = dataclasses.field(default_factory=lambda: sys.stderr)
    dump_index: int = 0
    timings: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    #: --timing's phases besides passes (start-up, imports, parsing, emission), in order
    phases: list[tuple[str, float]] = dataclasses.field(default_factory=list)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the body as one phase of `--timing`'s compile table."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases.append((name, time.perf_counter() - start))

    def report_phases(self, total: float) -> None:
        """Under --timing, print the phases, the passes' sum and `total`, so time spent
        outside the passes (start-up above all) stays visible next to them."""
        if not self.timing:
            return
        rows = [*self.phases, ("passes (the pass timing above)", sum(t for _, t in self.timings))]
        self.stream.write("// compile timing (wall):\n")
        for name, t in rows:
            self.stream.write(f"//   {t * 1000:9.2f} ms  {100 * t / (total or 1e-12):5.1f}%  {name}\n")
        self.stream.write(f"//   {total * 1000:9.2f} ms  100.0%  total since utc's first import\n")

    def dump(self, label: str, module: Module) -> None:
        """Write the IR to `dump_dir/NN-<label>.utc` (the `--dump-ir-dir` option). A folder
        that cannot be written is the user's error, reported in one line."""
        if self.dump_dir is None:
            return
        path = self.dump_dir / f"{self.dump_index:02d}-{label}.utc"
        try:
            self.dump_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(print_module(module, elide_resources=self.elide_resources,
                                         locations=True))
        except OSError as exc:
            raise UtcError(f"--dump-ir-dir {printable(self.dump_dir)}: cannot write {path.name} "
                           f"({printable(exc.strerror or exc)})") from None
        self.dump_index += 1

    def show(self, header: str, module: Module) -> None:
        self.stream.write(f"// -----// IR Dump {header} //----- //\n")
        self.stream.write(print_module(module, elide_resources=self.elide_resources,
                                       locations=self.print_locations))


def run_module_checks(module: Module, after: str) -> None:
    """Under --verify-each: every registered whole-module check."""
    from utc.compiler.ir import VerifyError

    for check in MODULE_CHECKS:
        problems = check(module)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise VerifyError(f"after {after}: {problems[0]}{more}")


def run_pipeline(module: Module, passes: Sequence[Pass], inst: Instrumentation | None = None,
                 on_pass: Callable[[Pass], None] | None = None) -> Module:
    """Run passes in order with the requested printing, dumping, verification, timing."""
    inst = inst or Instrumentation()
    if inst.verify_each:
        PASS_REGISTRY.load_all()  # every pass's whole-module checks (run_module_checks)
    for p in passes:
        if p.name in inst.print_before:
            inst.show(f"Before {p.spelling()}", module)
        # with locations, so that a pass that only merges or moves them counts as a change
        before = print_module(module, locations=True) if inst.print_after_change else None
        start = time.perf_counter()
        p.run(module)
        inst.timings.append((p.spelling(), time.perf_counter() - start))
        if inst.verify_each:
            module.verify()
            run_module_checks(module, p.spelling())
        if inst.print_after_all or p.name in inst.print_after:
            inst.show(f"After {p.spelling()}", module)
        elif before is not None and print_module(module, locations=True) != before:
            inst.show(f"After {p.spelling()} (changed)", module)
        inst.dump(p.name, module)
        if on_pass:
            on_pass(p)
    if inst.timing:
        total = sum(t for _, t in inst.timings) or 1e-12
        inst.stream.write("// pass timing (wall):\n")
        for name, t in inst.timings:
            inst.stream.write(f"//   {t * 1000:9.2f} ms  {100 * t / total:5.1f}%  {name}\n")
    return module
