"""The compiler driver: named pipelines (-O0/-O1/-O2) and `compile_model`.

`compile_model` checks its arguments (the model file, the output folder, the C name)
before any work, imports, runs the pipeline, refuses a model that needs more memory than
the stated limits, and emits C++ into a staging folder that only replaces the requested
output once everything succeeded, so a failed compile never leaves output behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from utc.compiler import STARTED
from utc.compiler.errors import ImportError_, LimitError, UsageError, UtcError, printable
from utc.compiler.ir import Module
from utc.compiler.pass_manager import (
    Instrumentation,
    declare_pass,
    parse_pipeline,
    run_pipeline,
    split_pipeline,
)

if TYPE_CHECKING:  # codegen (jinja2) loads only when code is written
    from utc.codegen.emit_cpp import Placement


def load_builtin_passes() -> None:
    """Register utc's dialects and declare its passes (each is imported when a pipeline
    first names it; installed plugins' passes load when a name is not utc's): the
    driver's job, so that the pass framework itself knows no dialect or pass."""
    import utc.dialects  # noqa: F401  (registers ops)
    from utc.passes import PASS_NAMES, module_of

    for name in PASS_NAMES:
        declare_pass(name, module_of(name))

#: The named pipelines. Every level produces bit-identical outputs; higher levels use
#: less memory and run faster. From -O1, PADs fold into convolutions (fold-pad), standalone
#: RELU/RELU6/RELU_N1_TO_1 into their producer (fuse-activation), convolutions' and fully
#: connected layers' zero-point corrections are precomputed into flash (fold-zero-point,
#: 4 B per output channel), alias-safe kernels run in place (inplace), concatenation
#: inputs are produced straight into their output (concat-in-place) and a convolution's or
#: pooling's output overlaps the input that dies there (overlap-buffers); -O2 also
#: reorders independent ops for a lower peak (reorder-for-memory, before fold-pad so the
#: recorded copy bound sees the final order).
PIPELINES = {
    0: "tensor-to-fused,lower-to-qnn,select-kernels,bufferize,"
       "plan-memory{strategy=greedy-by-size}",
    1: "canonicalize,tensor-to-fused,fold-pad,fuse-activation,lower-to-qnn,fold-zero-point,"
       "select-kernels,bufferize,inplace,concat-in-place,overlap-buffers,scratch-in-holes,"
       "plan-memory",
    2: "canonicalize,tensor-to-fused,reorder-for-memory,fold-pad,fuse-activation,lower-to-qnn,"
       "fold-zero-point,select-kernels,bufferize,inplace,concat-in-place,overlap-buffers,"
       "scratch-in-holes,plan-memory",
}

MiB = 1 << 20

#: The kernel libraries `--kernels` chooses from (see README, "Cortex-M targets").
KERNEL_CHOICES = ("auto", "cmsis-nn", "reference")

#: Largest model file read (flatbuffers address 2 GiB, but a microcontroller model of
#: more than a few MiB is already unusual; the bound keeps `/dev/zero`-like input finite).
DEFAULT_MAX_MODEL_BYTES = 256 * MiB
#: Largest arena accepted: far above any microcontroller's RAM, so it only stops a model
#: (or a fuzzed file) whose activations could never fit anywhere utc targets.
DEFAULT_MAX_ARENA_BYTES = 64 * MiB
#: Largest total of constant weights accepted: far above any microcontroller's flash.
DEFAULT_MAX_WEIGHT_BYTES = 256 * MiB
#: Longest `--name`: it prefixes every symbol and file name of the generated API.
MAX_NAME_LENGTH = 64

#: C11 and C++ (up to C++23) keywords and alternative tokens: none of them may be the
#: model name, which becomes an identifier (`NAME_model` is a C++ class) and file names.
C_CXX_KEYWORDS = frozenset("""
    alignas alignof and and_eq asm atomic_cancel atomic_commit atomic_noexcept auto bitand
    bitor bool break case catch char char8_t char16_t char32_t class compl concept const
    consteval constexpr constinit const_cast continue co_await co_return co_yield decltype
    default delete do double dynamic_cast else enum explicit export extern false float for
    friend goto if inline int long mutable namespace new noexcept not not_eq nullptr
    operator or or_eq private protected public reflexpr register reinterpret_cast requires
    restrict return short signed sizeof static static_assert static_cast struct switch
    synchronized template this thread_local throw true try typedef typeid typename union
    unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())


def pipeline_for(opt_level: int, kernels: str = "reference", target: str = "host",
                 keep_reference: Sequence[int] = (), force_reference: Sequence[int] = ()) -> str:
    """The named pipeline of `opt_level`, its kernel selection set for `kernels` on
    `target` (the only passes that depend on them)."""
    text = PIPELINES[opt_level]
    options = [f"{k}={v}" for k, v, default in (("kernels", kernels, "reference"),
                                                 ("target", target, "host")) if v != default]
    for key, ops in (("keep-reference", keep_reference), ("force-reference", force_reference)):
        if ops:
            options.append(f"{key}=" + ";".join(str(i) for i in sorted(ops)))
    if options:
        text = text.replace("select-kernels", f"select-kernels{{{','.join(options)}}}")
    return text


#: A model: the name of a .tflite file, or its bytes (the Python API accepts both).
ModelSource = str | os.PathLike | bytes | bytearray | memoryview


def _planned(model: ModelSource, name: str, text: str, max_model_bytes: int,
             label: str | None = None) -> Module:
    module = import_model(model, name, max_model_bytes, label)
    run_pipeline(module, parse_pipeline(text), Instrumentation())
    return module


def sharing_ops(module: Module) -> set[int]:
    """TFLite operator indices whose kernel call shares memory between an input and an
    output (in place, or an overlapping output) in a planned module."""
    from utc.dialects import buf
    from utc.dialects.buf import root_and_offset
    from utc.passes.select_kernels import op_index

    found: set[int] = set()
    for op in module.walk():
        if not isinstance(op, buf.CallOp):
            continue
        ins = {id(r) for r, _ in map(root_and_offset, op.inputs) if r is not None}
        outs = {id(r) for r, _ in map(root_and_offset, op.outputs) if r is not None}
        index = op_index(op)
        if ins & outs and index is not None:
            found.add(index)
    return found


def auto_pipeline(model_path: ModelSource, name: str, opt_level: int, target: str,
                  max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                  label: str | None = None, max_recompute: float | None = None) -> str:
    """`--kernels auto` on a Cortex-M target: CMSIS-NN for speed, but never a larger arena
    than utc's reference kernels need. Plans the model with both; when CMSIS-NN's arena is
    larger, the ops whose utc kernel shares memory (in place, overlapping output) take a
    CMSIS-NN kernel that shares it the same way or keep utc's; then the ops whose CMSIS-NN
    scratch sits at a step over the limit keep utc's (each says why in `kernel_note`);
    and if even that costs memory, the reference build is the choice. With
    `max_recompute` (`--memory=min`) every pipeline tried has patch-stages, so the
    limit is the arena of the tiled reference build."""
    def pipeline(*args, **kwargs) -> str:
        text = pipeline_for(*args, **kwargs)
        return text if max_recompute is None else with_patching(text, max_recompute)

    reference = pipeline(opt_level, "reference", target)
    if target == "host":
        return reference
    # select-kernels' `auto`: CMSIS-NN, except where a utc kernel is measured faster
    cmsis = pipeline(opt_level, "auto", target)
    from utc.dialects.func import main_function

    def arena(module: Module) -> int:
        return int(main_function(module).arena_bytes)

    ref_module = _planned(model_path, name, reference, max_model_bytes, label)
    limit = arena(ref_module)
    if arena(_planned(model_path, name, cmsis, max_model_bytes, label)) <= limit:
        return cmsis
    keep, force = sharing_ops(ref_module), set()
    while True:
        mixed = pipeline(opt_level, "auto", target, sorted(keep), sorted(force))
        module = _planned(model_path, name, mixed, max_model_bytes, label)
        if arena(module) <= limit:
            return mixed
        # still larger: CMSIS-NN's scratch buffers at the steps over the limit are what
        # is left; those calls take utc's kernel, until the arena fits
        more = over_limit_cmsis_ops(module, limit) - force
        if not more:
            return reference
        force |= more


def over_limit_cmsis_ops(module: Module, limit: int) -> set[int]:
    """TFLite operator indices of the CMSIS-NN calls at steps where more than `limit`
    arena bytes are live: those with scratch, or all of them when none has any."""
    from utc.compiler.driver.report import layer_rows
    from utc.runtime.kernels import KERNELS_BY_NAME

    rows = [r for r in layer_rows(module) if r.live_bytes > limit
            and KERNELS_BY_NAME[r.kernel].library == "cmsis-nn" and r.sources]
    chosen = [r for r in rows if r.scratch_bytes] or rows
    return {int(r.sources[0][0]) for r in chosen}


@dataclass(frozen=True)
class CompileRequest:
    """A compile whose arguments have all been checked (`prepare_compile`): what
    `run_compile` needs, with the pipeline already chosen and parsed."""

    model: ModelSource
    name: str
    opt_level: int
    kernels: str
    target: str
    pipeline: str
    passes: tuple
    inst: Instrumentation
    source: str  # the model as generated files and the report name it (printable)
    label: str | None  # what messages call model bytes
    max_model_bytes: int
    max_arena_bytes: int
    max_weight_bytes: int


@dataclass(frozen=True)
class Compilation:
    """A compiled model, before any file is written: the planned `buf`-level module and
    the choices it was compiled with. The CLI and the Python API (`utc.compile`) both
    produce it with `run_compile` and write it with `emit_into`."""

    module: Module
    name: str
    opt_level: int
    kernels: str
    target: str
    pipeline: str
    source: str
    #: the TFLite operator type of each operator of the model, by index (the report's
    #: operator column); empty when unknown
    op_types: tuple[str, ...] = ()


@dataclass
class CompileResult:
    """A finished compile: the final module, the files written and the `Compilation`."""

    module: Module
    files: list[Path]
    compilation: Compilation | None = None


# ---- argument checks (all run before any work) -------------------------------------------


def check_c_name(name: str) -> str:
    """Refuse a model name that would not give valid, non-clashing C/C++ (it prefixes
    every generated symbol, macro and file name); return it unchanged otherwise."""
    shown = printable(name)
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"--name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise UsageError(f"--name '{shown}' is not a C identifier that starts with a letter "
                         "(letters, digits and '_' only)")
    if name in C_CXX_KEYWORDS:
        raise UsageError(f"--name '{shown}' is a C/C++ keyword")
    if "__" in name:
        # identifiers holding a double underscore are reserved to the C++ implementation
        raise UsageError(f"--name '{shown}' contains '__', which C++ reserves")
    if name.lower().startswith("utc_"):
        raise UsageError(f"--name '{shown}' starts with 'utc_', which the runtime's files and "
                         "macros use")
    return name


def check_positive(value: int, what: str) -> int:
    if value <= 0:
        raise UsageError(f"{what} must be a positive number of bytes, got {value}")
    return value


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_output_dir(path: str | Path, option: str = "-o") -> Path:
    """A folder utc may create or fill: not an existing file, and its nearest existing
    ancestor a folder we can write to. Returns it as an absolute path."""
    out = Path(os.path.abspath(path))
    shown = printable(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {shown}: exists and is not a folder")
    base = _nearest_existing(out)
    if not base.is_dir():
        raise UsageError(f"{option} {shown}: {printable(base)} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {shown}: {printable(base)} is not writable")
    return out


def check_output_file(path: str | Path, option: str) -> Path:
    """A file utc may write: not a folder, in an existing writable folder."""
    target = Path(os.path.abspath(path))
    shown = printable(path)
    if target.is_dir():
        raise UsageError(f"{option} {shown}: is a folder")
    if not target.parent.is_dir():
        what = "does not exist" if not target.parent.exists() else "is not a folder"
        raise UsageError(f"{option} {shown}: {printable(target.parent)} {what}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {shown}: {printable(target.parent)} is not writable")
    return target


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a plain file"


def read_bounded(path: str | Path, limit: int, what: str = "file") -> bytes:
    """Read a regular file of at most `limit` bytes. A device, FIFO or folder is refused
    before reading (opened non-blocking, so a FIFO without a writer cannot hang us), and
    the read itself stops at `limit + 1` bytes, so a file that grows meanwhile is still
    refused instead of exhausting memory."""
    shown = printable(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ImportError_(f"{shown}: cannot read file ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{shown}: is not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise LimitError(f"{shown}: {what} is {info.st_size} bytes, larger than the limit of "
                             f"{limit} bytes")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise ImportError_(f"{shown}: cannot read file ({exc.strerror})") from None
    if len(data) > limit:
        raise LimitError(f"{shown}: {what} is larger than the limit of {limit} bytes")
    return data


def check_model_file(path: str | Path, limit: int = DEFAULT_MAX_MODEL_BYTES) -> None:
    """Refuse, before the importer reads it, a model that is missing, not a regular file
    (`/dev/zero`, a FIFO, a folder) or larger than `limit` bytes."""
    shown = printable(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ImportError_(f"{shown}: cannot read file ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{shown}: is not a regular file ({_kind(info.st_mode)})")
    if info.st_size > limit:
        raise LimitError(f"{shown}: the model is {info.st_size} bytes, larger than the limit of "
                         f"{limit} bytes (--max-model-bytes)")


def file_sha256(path: str | Path, limit: int = DEFAULT_MAX_MODEL_BYTES) -> str | None:
    """sha256 of a regular file of at most `limit` bytes (for bug reports), else None."""
    import hashlib  # only for a bug report: importing it costs every compile ~2 ms

    try:
        return hashlib.sha256(read_bounded(path, limit)).hexdigest()
    except (UtcError, OSError):
        return None


# ---- the pipeline ------------------------------------------------------------------------


def is_model_bytes(model: object) -> bool:
    """Whether `model` is a model held in memory rather than a file name."""
    return isinstance(model, bytes | bytearray | memoryview)


def model_label(model: ModelSource, label: str | None = None) -> str:
    """How messages name a model: its file name, or for bytes `label` (the API's
    `source=`), else '<model bytes>'."""
    if is_model_bytes(model):
        return printable(label) if label else "<model bytes>"
    return printable(model)


def check_model(model: ModelSource, limit: int = DEFAULT_MAX_MODEL_BYTES,
                label: str | None = None) -> None:
    """`check_model_file` for a file; for bytes, the same size limit."""
    if not is_model_bytes(model):
        check_model_file(model, limit)
        return
    size = memoryview(model).nbytes
    if size > limit:
        raise LimitError(f"{model_label(model, label)}: the model is {size} bytes, larger than "
                         f"the limit of {limit} bytes (--max-model-bytes)")


def import_model(model: ModelSource, name: str,
                 max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                 label: str | None = None) -> Module:
    """The `tensor`-level module of a .tflite file or of model bytes (`label` names bytes
    in messages)."""
    from utc.compiler.importers.tflite import import_tflite, import_tflite_bytes

    check_model(model, max_model_bytes, label)
    load_builtin_passes()
    if is_model_bytes(model):
        return import_tflite_bytes(bytes(model), name, model_label(model, label))
    return import_tflite(model, name)


def lower(module: Module, pipeline: str, inst: Instrumentation | None = None) -> Module:
    load_builtin_passes()
    passes = parse_pipeline(pipeline)
    return run_pipeline(module, passes, inst)


def weight_bytes(module: Module) -> int:
    """Bytes of the constant weights the generated code holds (its `NAME_WEIGHT_BYTES`)."""
    return sum(module.resources[r].type.byte_size for r in module.referenced_resources()
               if r in module.resources)


def check_limits(module: Module, max_arena_bytes: int, max_weight_bytes: int,
                 source: str = "the model") -> None:
    """Refuse a compiled module that needs more arena or weight memory than allowed
    (read after the pipeline: the arena is only known once memory is planned)."""
    from utc.dialects.func import main_function

    arena = main_function(module).arena_bytes
    if arena is not None and arena > max_arena_bytes:
        raise LimitError(f"{source}: needs an arena of {arena} bytes, more than the limit of "
                         f"{max_arena_bytes} bytes (--max-arena-bytes)")
    weights = weight_bytes(module)
    if weights > max_weight_bytes:
        raise LimitError(f"{source}: needs {weights} bytes of weights, more than the limit of "
                         f"{max_weight_bytes} bytes (--max-weight-bytes)")


#: What marks a file as one utc wrote, in its first bytes (`is_utc_output`).
_UTC_MARKS = (b"generated by utc", b"utc arena map", b'"utc_version"')
_RUNTIME_NAME = re.compile(r"utc_\w+\.(?:h|cpp)")


def is_utc_output(path: Path) -> bool:
    """Whether `path` is a file utc writes into an output folder: a generated file (its
    first lines say "generated by utc"), the report's memory.svg or report.json, a
    runtime source (utc_*.h/.cpp opening with utc's own comment or its header's include),
    or a leftover staging folder (.utc-*). Judged by content, not by a list, so the
    output of an older utc counts too."""
    if path.is_symlink():
        return False
    if path.is_dir():
        return path.name.startswith(".utc-")
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return False
    if any(mark in head.lower() for mark in _UTC_MARKS):
        return True
    return bool(_RUNTIME_NAME.fullmatch(path.name)) and (
        head.startswith(b"/* utc") or head.startswith(b'#include "utc_'))


def check_replaceable(out: Path, shown: str) -> None:
    """Refuse, before any work, to replace a folder that is not utc's output: the current
    folder or one above it, a home folder, the file system root, or a folder holding
    anything utc did not write. So a mistyped -o never deletes the user's files."""
    cwd = Path(os.getcwd()).resolve()
    real = out.resolve()
    home = Path(os.path.expanduser("~")).resolve()
    if real == cwd or real in cwd.parents:
        raise UsageError(f"-o {shown}: will not replace the current folder"
                         f"{'' if real == cwd else ' or one above it'}; name a folder for the "
                         "generated code")
    if real == home or real == Path(real.anchor) or real.parent == Path("/home"):
        raise UsageError(f"-o {shown}: will not replace a home or root folder; name a folder "
                         "for the generated code")
    foreign = sorted(p.name for p in out.iterdir() if not is_utc_output(p))
    if foreign:
        listed = ", ".join(f"'{printable(n)}'" for n in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UsageError(f"-o {shown}: not replaced: it holds files utc did not write ({listed}"
                         f"{more}); remove them or choose another folder")


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """A fresh staging folder that becomes `out_dir` when the body succeeds, and
    vanishes, with any parent folders made for it, when the body fails. An existing
    `out_dir` is replaced: its files from an earlier compile that this one did not write
    are removed, so the folder holds exactly this model's files; a folder that does not
    look like utc's output is refused before any work (`check_replaceable`). Creating the
    staging folder first proves the destination writable (an access() check alone says
    yes to root on a read-only mount)."""
    out = check_output_dir(out_dir)
    base = _nearest_existing(out)
    exists = out.is_dir()
    where = out if exists else out.parent
    shown = printable(out_dir)
    if exists:
        check_replaceable(out, shown)
    try:
        where.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".utc-", dir=where))
    except OSError as exc:
        _remove_created(where, base)
        raise UsageError(f"-o {shown}: cannot create the output folder ({exc.strerror})") from None
    try:
        yield staging
        if exists:
            produced = {f.name for f in staging.iterdir()}
            for old in sorted(out.iterdir()):
                # the previous model's files; anything that appeared meanwhile stays
                if old != staging and old.name not in produced and is_utc_output(old) \
                        and not old.is_dir():
                    old.unlink()
            for f in staging.iterdir():
                target = out / f.name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                os.replace(f, target)
            staging.rmdir()
        else:
            # mkdtemp makes the staging folder private (0700); the output is an ordinary
            # folder, with the permissions `mkdir` would give it under the user's umask
            umask = os.umask(0)
            os.umask(umask)
            staging.chmod(0o777 & ~umask)
            os.replace(staging, out)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not exists:
            _remove_created(where, base)
        if isinstance(exc, OSError):
            raise UsageError(f"-o {shown}: cannot write the output "
                             f"({printable(exc.strerror or exc)})") from None
        raise


def _remove_created(path: Path, base: Path) -> None:
    """Remove the (empty) folders from `path` up to, not including, `base`."""
    while path != base and base in path.parents:
        try:
            path.rmdir()
        except OSError:
            return
        path = path.parent


def with_memory_regions(pipeline: str, regions: Sequence[str]) -> str:
    """The pipeline with `plan-memory` planning into the given memory regions
    (`NAME:BYTES[:SECTION]` each, fastest first; passes/planning/regions.py). UsageError
    for a malformed region or a pipeline without plan-memory."""
    from utc.passes.planning.regions import format_regions, parse_regions

    try:
        option = format_regions(parse_regions(";".join(regions)))
    except ValueError as e:
        raise UsageError(str(e)) from None
    parts = split_pipeline(pipeline)
    at = [i for i, p in enumerate(parts) if p.split("{")[0].strip() == "plan-memory"]
    if not at:
        raise UsageError("--memory-region needs plan-memory in the pipeline")
    for i in at:
        spec = parts[i].strip()
        parts[i] = (spec[:-1] + f",regions={option}}}" if spec.endswith("}")
                    else f"{spec}{{regions={option}}}")
    return ",".join(parts)


#: `--memory` choices: the -O pipeline as it is, or with patch-based execution
#: (patch-stages after bufferize: the first layers run tile by tile where that lowers
#: the arena, within `--max-recompute` more instructions).
MEMORY_CHOICES = ("default", "min")
DEFAULT_MAX_RECOMPUTE = 0.15


def with_patching(pipeline: str, max_recompute: float = DEFAULT_MAX_RECOMPUTE) -> str:
    """The pipeline with `patch-stages` right after `bufferize` (`--memory=min`).
    UsageError for a pipeline without bufferize or a negative budget."""
    if not max_recompute >= 0:
        raise UsageError(f"--max-recompute must be >= 0, got {printable(max_recompute)}")
    parts = split_pipeline(pipeline)
    at = [i for i, p in enumerate(parts) if p.split("{")[0].strip() == "bufferize"]
    if not at:
        raise UsageError("--memory=min needs bufferize in the pipeline")
    option = "" if max_recompute == DEFAULT_MAX_RECOMPUTE else f"{{max-recompute={max_recompute}}}"
    parts.insert(at[-1] + 1, f"patch-stages{option}")
    return ",".join(parts)


def prepare_compile(model: ModelSource, name: str = "model", opt_level: int = 2,
                    pipeline: str | None = None, kernels: str = "reference",
                    target: str = "host", inst: Instrumentation | None = None,
                    max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                    max_arena_bytes: int = DEFAULT_MAX_ARENA_BYTES,
                    max_weight_bytes: int = DEFAULT_MAX_WEIGHT_BYTES,
                    label: str | None = None,
                    memory_regions: Sequence[str] = (), memory: str = "default",
                    max_recompute: float = DEFAULT_MAX_RECOMPUTE) -> CompileRequest:
    """Check every argument of a compile (name, options, pipeline, the model file) and
    choose its pipeline, before the model is imported (`--kernels auto` on a Cortex-M
    target plans the model to choose, the only work done here)."""
    from utc.runtime.targets import TARGETS

    check_c_name(name)
    if opt_level not in PIPELINES:
        raise UsageError(f"optimization level must be one of {sorted(PIPELINES)}, got "
                         f"{printable(opt_level)}")
    if kernels not in KERNEL_CHOICES:
        raise UsageError(f"kernels must be one of {', '.join(KERNEL_CHOICES)}, got "
                         f"'{printable(kernels)}'")
    if target not in TARGETS:
        raise UsageError(f"target must be one of {', '.join(TARGETS)}, got '{printable(target)}'")
    for what, value in (("max_model_bytes", max_model_bytes), ("max_arena_bytes", max_arena_bytes),
                        ("max_weight_bytes", max_weight_bytes)):
        check_positive(value, what)
    if memory not in MEMORY_CHOICES:
        raise UsageError(f"memory must be one of {', '.join(MEMORY_CHOICES)}, got "
                         f"'{printable(memory)}'")
    if memory == "min" and not max_recompute >= 0:
        raise UsageError(f"--max-recompute must be >= 0, got {printable(max_recompute)}")
    load_builtin_passes()
    inst = inst or Instrumentation()
    if pipeline:
        text = pipeline
    elif kernels == "auto":
        check_model(model, max_model_bytes, label)
        with inst.phase("kernel choice (--kernels auto plans a Cortex-M model more than once)"):
            text = auto_pipeline(model, name, opt_level, target, max_model_bytes, label,
                                 max_recompute if memory == "min" else None)
    else:
        text = pipeline_for(opt_level, kernels, target)
    if memory == "min" and (pipeline or kernels != "auto"):
        text = with_patching(text, max_recompute)
    if memory_regions:
        text = with_memory_regions(text, memory_regions)
    with inst.phase("import: the pipeline's pass modules"):
        passes = parse_pipeline(text)  # reject a bad pipeline before any work
    check_model(model, max_model_bytes, label)
    # the file name lands in a /* */ comment of every generated file
    shown = model_label(model, label) if is_model_bytes(model) else os.path.basename(str(model))
    source = printable(shown).replace("*/", "* /")
    return CompileRequest(model, name, opt_level, kernels, target, text, tuple(passes), inst,
                          source, label, max_model_bytes, max_arena_bytes, max_weight_bytes)


def run_compile(req: CompileRequest) -> Compilation:
    """Import the model and run the pipeline: a planned module within the limits."""
    inst = req.inst
    with inst.phase("import: the TFLite importer"):
        import utc.compiler.importers.tflite  # noqa: F401
    with inst.phase("import-tflite: validate and read the model"):
        module = import_model(req.model, req.name, req.max_model_bytes, req.label)
    if inst.verify_each:
        module.verify()
    inst.dump("import-tflite", module)
    if inst.print_after_all or "import-tflite" in inst.print_after:
        inst.show("After import-tflite", module)
    run_pipeline(module, req.passes, inst)
    check_limits(module, req.max_arena_bytes, req.max_weight_bytes,
                 model_label(req.model, req.label))
    from utc.compiler.importers.tflite_diagnose import operator_types

    return Compilation(module, req.name, req.opt_level, req.kernels, req.target, req.pipeline,
                       req.source, operator_types(req.model, req.label))


def emit_into(comp: Compilation, folder: Path, taps: bool = False,
              placement: Placement | None = None) -> None:
    """Write the generated C++ of a compilation into `folder` (a staging folder); `taps`
    adds the per-layer hooks of a verify build (see `emit_cpp`); `placement`
    (`codegen.emit_cpp.Placement`) where the arena and state go."""
    from utc.codegen.emit_cpp import emit_cpp

    emit_cpp(comp.module, folder, comp.name, source=comp.source, target=comp.target, taps=taps,
             placement=placement)


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Extra files (the report, the arena map) beside the generated code."""
    for file_name, data in sorted(files.items()):
        (folder / file_name).write_bytes(data)


def write_compilation(comp: Compilation, out_dir: str | Path,
                      extra_files: Mapping[str, bytes] | None = None) -> list[Path]:
    """Write a compilation's C++ (and `extra_files`) to `out_dir` through a staging folder,
    so a failure leaves nothing behind; returns the folder's files."""
    with staged_output(out_dir) as staging:
        emit_into(comp, staging)
        write_files(staging, extra_files or {})
    return sorted(Path(out_dir).iterdir())


def compile_model(model_path: ModelSource, out_dir: str | Path, name: str = "model",
                  opt_level: int = 2, pipeline: str | None = None,
                  kernels: str = "reference", target: str = "host",
                  inst: Instrumentation | None = None,
                  max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                  max_arena_bytes: int = DEFAULT_MAX_ARENA_BYTES,
                  max_weight_bytes: int = DEFAULT_MAX_WEIGHT_BYTES,
                  extra_files: Callable[[Compilation], Mapping[str, bytes]] | None = None,
                  placement: Placement | None = None,
                  memory_regions: Sequence[str] = (),
                  label: str | None = None, memory: str = "default",
                  max_recompute: float = DEFAULT_MAX_RECOMPUTE) -> CompileResult:
    """Compile a .tflite file (or model bytes) into a folder of C++ sources.

    `extra_files` makes files from the compilation (the CLI's report) that are written
    into the same staging folder, so they appear with the code or not at all.
    `placement` (`codegen.emit_cpp.Placement`): where the arena and state go.
    `label` names model bytes in messages and generated comments (a Keras file's name).
    Raises UtcError (one line) for anything the user can fix: a bad name, path or
    pipeline, an unsupported model, or one that needs more memory than the limits."""
    if memory_regions and placement is not None and (placement.arena_section
                                                      or placement.external):
        raise UsageError("--memory-region gives every region its own array and section: "
                         "it cannot be combined with --arena-section or --external-arena")
    req = prepare_compile(model_path, name, opt_level, pipeline, kernels, target, inst,
                          max_model_bytes, max_arena_bytes, max_weight_bytes, label,
                          memory_regions=memory_regions, memory=memory,
                          max_recompute=max_recompute)
    inst = req.inst
    with staged_output(out_dir) as staging:
        comp = run_compile(req)
        with inst.phase("import: the C++ emitter"):
            import utc.codegen.emit_cpp  # noqa: F401
        with inst.phase("emit-cpp: render and write the sources"):
            emit_into(comp, staging, placement=placement)
        if extra_files is not None:
            write_files(staging, extra_files(comp))
    out = Path(out_dir)
    inst.report_phases(time.perf_counter() - STARTED)
    return CompileResult(comp.module, sorted(out.iterdir()), comp)


# ---- several models, one arena (`utc compile a.tflite b.tflite --name app`) -------------


def parse_model_spec(spec: str) -> tuple[str, str]:
    """(path, C name) of one model of a multi-model compile: `PATH:NAME`, or `PATH` named
    by its file stem. A whole argument that is an existing file is a path (even with a
    ':' in it). UsageError when the name is not a usable C identifier."""
    path, name = spec, None
    if ":" in spec and not os.path.isfile(spec):
        head, _, tail = spec.rpartition(":")
        if head and not re.search(r"[/\\]", tail):
            path, name = head, tail
    shown = printable(spec)
    if name is None:
        name = Path(path).stem
        hint = f" (from the file name of '{shown}'; name it with {shown}:NAME)"
    else:
        hint = f" (of '{shown}')"
    try:
        check_c_name(name)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--name", "model name", 1) + hint) from None
    return path, name


def check_model_names(names: Sequence[str], app: str) -> None:
    """Refuse model names that would clash in one folder: the same name twice, a model
    named like the app, or any two that would write the same file (NAME.h, NAME.cpp,
    NAME_weights.h, NAME_weights.cpp; the app's APP.h, APP.cpp)."""
    owners: dict[str, str] = {f"{app}.h": f"the app '{app}'", f"{app}.cpp": f"the app '{app}'"}
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UsageError(f"model name '{name}' is given twice: name each model with "
                             "PATH:NAME")
        if name == app:
            raise UsageError(f"model name '{name}' is also the --name of the app: choose "
                             "another for either")
        seen.add(name)
        for file in (f"{name}.h", f"{name}.cpp", f"{name}_weights.h", f"{name}_weights.cpp"):
            if file in owners:
                raise UsageError(f"model name '{name}' writes {file}, as {owners[file]} does: "
                                 "rename one with PATH:NAME")
            owners[file] = f"model '{name}'"


@dataclass
class AppResult:
    """Several models compiled into one folder sharing one arena: each model's
    compilation, where each sits in the shared arena and how large it is."""

    name: str
    compilations: list[Compilation]
    offsets: tuple[int, ...]
    arena_bytes: int
    alignment: int
    concurrent: bool
    files: list[Path]


def plan_app(name: str, comps: Sequence[Compilation], concurrent: bool,
             max_arena_bytes: int = DEFAULT_MAX_ARENA_BYTES) -> AppResult:
    """Lay planned models into one arena (`passes/planning/shared.py`), checked by the
    independent checker (`verify_shared_arena`); LimitError when the shared arena is over
    `max_arena_bytes`. Files are not written (`files` is empty)."""
    from utc.compiler.errors import CompileError
    from utc.dialects.func import main_function
    from utc.passes.planning.checker import PlanError
    from utc.passes.planning.shared import plan_shared_arena
    from utc.passes.planning.verify_ir import verify_shared_arena

    fns = [main_function(c.module) for c in comps]
    for c, fn in zip(comps, fns):
        if fn.arena_bytes is None:
            raise CompileError(f"{c.name}: memory is not planned (run plan-memory first)")
        if fn.memory_regions:
            raise UsageError(f"{c.name}: --memory-region cannot be combined with several "
                             "models in one arena")
    layout = plan_shared_arena([(int(fn.arena_bytes), max(16, int(fn.plan_alignment or 16)))
                                for fn in fns], concurrent)
    problems = verify_shared_arena([c.module for c in comps], list(layout.offsets),
                                   layout.arena_bytes, layout.alignment, concurrent)
    if problems:
        raise PlanError("invalid shared arena:\n  " + "\n  ".join(problems))
    if layout.arena_bytes > max_arena_bytes:
        raise LimitError(f"{name}: the shared arena needs {layout.arena_bytes} bytes, more than "
                         f"the limit of {max_arena_bytes} bytes (--max-arena-bytes)")
    return AppResult(name, list(comps), layout.offsets, layout.arena_bytes, layout.alignment,
                     concurrent, [])


def emit_app_into(app: AppResult, folder: Path, placement: Placement | None = None) -> None:
    """Write an app's models and its shared arena into `folder` (a staging folder)."""
    from utc.codegen.emit_cpp import emit_app

    emit_app([(c.module, c.name, c.source) for c in app.compilations], folder, app.name,
             app.offsets, app.arena_bytes, app.alignment, app.concurrent,
             target=app.compilations[0].target, placement=placement)


def compile_models(models: Sequence[tuple[ModelSource, str]], out_dir: str | Path,
                   name: str = "app", concurrent: bool = False, opt_level: int = 2,
                   pipeline: str | None = None, kernels: str = "reference",
                   target: str = "host", inst: Instrumentation | None = None,
                   max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
                   max_arena_bytes: int = DEFAULT_MAX_ARENA_BYTES,
                   max_weight_bytes: int = DEFAULT_MAX_WEIGHT_BYTES,
                   extra_files: Callable[[AppResult], Mapping[str, bytes]] | None = None,
                   placement: Placement | None = None, memory: str = "default",
                   max_recompute: float = DEFAULT_MAX_RECOMPUTE) -> AppResult:
    """Compile several models ((path or bytes, C name) each) into one folder where they
    share one arena: each model is compiled exactly as it would be alone (same plan,
    same outputs), then laid into the arena by `plan_app` (exclusive: all from byte 0,
    the arena their maximum; `concurrent`: disjoint parts, the arena their sum). Every
    argument is checked before any work; nothing is written unless all succeed."""
    check_c_name(name)
    check_model_names([n for _, n in models], name)
    if len(models) < 1:
        raise UsageError("no model to compile")
    reqs = [prepare_compile(m, n, opt_level, pipeline, kernels, target, inst, max_model_bytes,
                            max_arena_bytes, max_weight_bytes, memory=memory,
                            max_recompute=max_recompute) for m, n in models]
    inst = reqs[0].inst
    with staged_output(out_dir) as staging:
        comps = [run_compile(r) for r in reqs]
        app = plan_app(name, comps, concurrent, max_arena_bytes)
        with inst.phase("emit-cpp: render and write the sources"):
            emit_app_into(app, staging, placement)
        if extra_files is not None:
            write_files(staging, extra_files(app))
    inst.report_phases(time.perf_counter() - STARTED)
    app.files = sorted(Path(out_dir).iterdir())
    return app
