"""Run fuzz cases: compile each mutant in-process under a time limit and hold the result to
utc's contract.

The contract (README, compiler/driver/cli.py): `utc compile` either succeeds, or prints exactly
one line ``utc: error: ...`` (printable ASCII) on stderr, returns 2 and leaves no output
folder and no ``.utc-*`` staging folder behind. Everything else is a finding:

* ``crash``: an exception escaping `utc.compiler.driver.cli.main`, exit status 3 (``utc: internal
  error``) or any status other than 0 and 2, or a malformed error message (several lines,
  control characters, another prefix), or a Python warning printed on a refusal (it would
  be a second line on stderr);
* ``hang``: the compile did not finish within the time limit (SIGALRM raises `Hang`, a
  BaseException so that no ``except Exception`` in the compiler can swallow it; a compile
  stuck in C code past the limit is killed by the parent);
* ``bad-plan``: it compiled, but `assert_memory_plan` (the independent IR-level checker of
  the arena plan) rejects the plan, or the output folder is missing;
* leftovers (``CaseResult.leftovers``): files a failed or hung compile left behind.

Each case runs in its own folder in a worker process (forked; a worker that dies, e.g. of
a segfault in an extension module or the address-space limit, costs only its case, which
is reported as a crash). Results are per case index, so they do not depend on the number
of workers or their scheduling. A crash *site* is the exception type and the innermost
frame in utc's own source (compiler/, dialects/, passes/, codegen/, runtime/): one site
per distinct bug, however many mutants reach it. For exit status 3 and malformed
messages, the case is compiled once more with ``UTC_TRACEBACK=1`` to read that frame off
the traceback the CLI then prints.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import shutil
import signal
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.fuzz.mutate import Mutant, Patch

__all__ = ["CaseResult", "Hang", "Summary", "run_case", "run_cases"]

REPO = Path(__file__).resolve().parents[2]


def _utc_dirs() -> tuple[tuple[str, str], ...]:
    """(folder of each utc subpackage, the folder site paths are shown relative to), found
    from the imported packages rather than assumed to be this checkout (an installed or
    other tree of utc can be fuzzed the same way)."""
    import utc.codegen
    import utc.compiler
    import utc.dialects
    import utc.passes
    import utc.runtime

    out = []
    for package in (utc.compiler, utc.dialects, utc.passes, utc.codegen, utc.runtime):
        for folder in package.__path__:
            out.append((os.path.join(folder, ""), os.path.dirname(os.path.normpath(folder))))
    return tuple(out)


#: Folders holding utc's own source (a crash site is the innermost frame in one of them).
UTC_DIRS = _utc_dirs()
OUTCOMES = ("compiled", "refused", "crash", "hang", "bad-plan")
PROBLEMS = ("crash", "hang", "bad-plan")
#: Default per-case time limit (s). Every seed compiles in well under a second; a limit
#: far above that keeps the classification deterministic on a loaded machine.
DEFAULT_TIME_LIMIT = 20.0
#: Address-space limit of a worker process: a mutant that makes the compiler allocate
#: without bound gets a MemoryError (a crash with a site) instead of exhausting the host.
WORKER_ADDRESS_SPACE = 6 << 30
_ERROR_LINE = re.compile(r"utc: error: [\x20-\x7e]+")


class Hang(BaseException):
    """Raised by SIGALRM when a compile exceeds its time limit (BaseException, so that
    ``except Exception`` handlers inside the compiler cannot swallow it)."""


@dataclass
class CaseResult:
    """What one case did: its outcome, the message or exception, the crash site, and any
    files a failed compile left behind."""

    case: int
    label: str
    seed_model: str
    structural: bool
    outcome: str
    detail: str = ""
    site: str = ""
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_problem(self) -> bool:
        return self.outcome in PROBLEMS or bool(self.leftovers)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _utc_frame(frames: Sequence[tuple[str, int]]) -> str:
    """``file:line`` of the innermost frame in utc's source (else the innermost frame)."""
    for filename, line in reversed(frames):
        for folder, base in UTC_DIRS:
            if filename.startswith(folder):
                return f"{os.path.relpath(filename, base)}:{line}"
    if frames:
        filename, line = frames[-1]
        return f"{filename}:{line}"
    return "?"


def _site_of(exc: BaseException) -> str:
    frames = [(f.filename, f.lineno or 0) for f in traceback.extract_tb(exc.__traceback__)]
    return f"{type(exc).__name__} at {_utc_frame(frames)}"


_TB_FRAME = re.compile(r'^  File "([^"]+)", line (\d+)')
_TB_EXC = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def _site_from_traceback_text(text: str) -> str | None:
    """The site of the last traceback in printed text (`traceback.print_exc` format)."""
    blocks = text.split("Traceback (most recent call last):\n")
    if len(blocks) < 2:
        return None
    frames, exc_name = [], "?"
    for line in blocks[-1].splitlines():
        match = _TB_FRAME.match(line)
        if match:
            frames.append((match.group(1), int(match.group(2))))
        elif not line.startswith(" ") and _TB_EXC.match(line):
            exc_name = _TB_EXC.match(line).group(1).rsplit(".", 1)[-1]
            break
    return f"{exc_name} at {_utc_frame(frames)}"


def _leftovers(case_dir: Path) -> list[str]:
    """Whatever a failed compile left beside the model: the output folder, a ``.utc-*``
    staging folder, or any other file (the case folder held only the model)."""
    return sorted(p.name for p in case_dir.iterdir() if p.name != "model.tflite")


def _call_cli(argv: list[str], limit: float,
              env: dict[str, str] | None = None) -> tuple[int | None, str, BaseException | None]:
    """Run `utc.compiler.driver.cli.main(argv)` in this process with stdout and stderr captured
    and warnings recorded (as one more stderr line each, as a real process would print
    them): (exit status or None, stderr text, escaping exception or None)."""
    from utc.compiler.driver.cli import main

    err = io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("always")
            try:
                with _time_limit(limit):
                    status = main(argv)
            except SystemExit as exc:  # argparse, or a sys.exit in the compiler
                status = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:  # noqa: BLE001 (Hang, and every escaping exception)
                return None, err.getvalue(), exc
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    text = err.getvalue() + "".join(
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught)
    return status, text, None


def _message_problem(stderr: str) -> str | None:
    """Why a refusal's stderr breaks the one-line contract (None when it does not)."""
    lines = stderr.splitlines()
    if len(lines) != 1 or not stderr.endswith("\n"):
        return f"{len(lines)} lines on stderr"
    if not _ERROR_LINE.fullmatch(lines[0]):
        if not lines[0].startswith("utc: error: "):
            return "not a 'utc: error: ' line"
        return "non-printable or non-ASCII characters"
    return None


def run_case(mutant: Mutant, case: int, workdir: Path,
             limit: float = DEFAULT_TIME_LIMIT) -> CaseResult:
    """Compile one mutant through the CLI in this process and classify the result (see
    the module docstring). The case's folder is removed afterwards."""
    case_dir = Path(tempfile.mkdtemp(prefix=f"case{case}-", dir=workdir))
    model, out = case_dir / "model.tflite", case_dir / "out"
    model.write_bytes(mutant.data)
    result = CaseResult(case, mutant.describe(), mutant.seed_model,
                        any(isinstance(m, Patch) for m in mutant.mutations), "compiled")
    argv = ["compile", str(model), "-O2", "-o", str(out)]
    start = time.perf_counter()
    try:
        status, stderr, exc = _call_cli(argv, limit)
        if status != 0:
            result.leftovers = _leftovers(case_dir)
        first = stderr.strip().splitlines()[0][:300] if stderr.strip() else ""
        if isinstance(exc, Hang):
            result.outcome, result.site, result.detail = "hang", "hang", str(exc)
        elif exc is not None:
            result.outcome, result.site = "crash", _site_of(exc)
            message = str(exc).splitlines()[0] if str(exc) else ""
            result.detail = f"{type(exc).__name__}: {message}"[:300]
        elif status == 0:
            result.outcome, result.site, result.detail = _check_compiled(model, out, limit)
        elif status == 2 and _message_problem(stderr) is None:
            result.outcome, result.detail = "refused", first
        else:
            result.outcome = "crash"
            problem = (f"exit status {status}" if status != 2
                       else f"malformed error message ({_message_problem(stderr)})")
            result.detail = f"{problem}: {stderr.strip()[:300]!r}"
            result.site = f"{_rerun_for_site(model, case_dir / 'again', limit)} ({problem})"
    finally:
        result.seconds = time.perf_counter() - start
        shutil.rmtree(case_dir, ignore_errors=True)
    return result


def _rerun_for_site(model: Path, again: Path, limit: float) -> str:
    """Where a compile that broke the contract without an escaping exception (exit status
    3, a malformed message) went wrong: the innermost utc frame of the traceback the CLI
    prints with ``UTC_TRACEBACK=1``, or, from a CLI without that switch, of the exception
    the driver raises when called directly (under the CLI's numpy error settings)."""
    from utc.compiler.driver import compile_model

    _, traced, exc = _call_cli(["compile", str(model), "-O2", "-o", str(again / "out")], limit,
                               env={"UTC_TRACEBACK": "1"})
    site = _site_from_traceback_text(traced)
    if site is not None:
        return site
    if exc is not None:
        return _site_of(exc)
    try:
        with _time_limit(limit), warnings.catch_warnings(), \
                np.errstate(divide="raise", over="raise", invalid="raise"):
            warnings.simplefilter("error", RuntimeWarning)
            compile_model(model, again / "direct")
    except BaseException as exc:  # noqa: BLE001 (we want its site, whatever it is)
        return _site_of(exc)
    return "no traceback"


def _check_compiled(model: Path, out: Path, limit: float) -> tuple[str, str, str]:
    """A compile that returned 0: the output folder must exist and the memory plan of the
    same compile (through the driver, which returns the module) must pass the checker."""
    from utc.compiler.driver import import_model, lower, pipeline_for
    from utc.passes.planning.verify_ir import assert_memory_plan

    if not out.is_dir() or not any(out.iterdir()):
        return "bad-plan", "exit status 0 but no output folder", ""
    try:
        with _time_limit(limit), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = lower(import_model(model, "model"), pipeline_for(2))
            assert_memory_plan(module)
    except Hang:
        return "hang", "hang (checking the memory plan)", ""
    except Exception as exc:  # noqa: BLE001 (the checker's verdict, or a crash re-lowering)
        message = str(exc).splitlines()[0] if str(exc) else ""
        if type(exc).__name__ == "PlanError":
            return "bad-plan", "invalid memory plan", message[:300]
        return "bad-plan", f"{_site_of(exc)} (checking the memory plan)", message[:300]
    return "compiled", "", ""


# ---- running many cases -------------------------------------------------------------------

def _worker(conn: multiprocessing.connection.Connection, make: Callable[[int], Mutant],
            workdir: Path, limit: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C
    while True:
        case = conn.recv()
        if case is None:
            break
        try:
            mutant = make(case)
        except Exception as exc:  # noqa: BLE001 (a fuzzer bug: report it, keep going)
            conn.send(CaseResult(case, "(mutant generation failed)", "?", False, "crash",
                                 f"{type(exc).__name__}: {exc}", f"fuzzer: {_site_of(exc)}"))
            continue
        conn.send(run_case(mutant, case, workdir, limit))


@dataclass
class _Slot:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection
    case: int | None = None
    started: float = 0.0


def run_cases(make: Callable[[int], Mutant], cases: Sequence[int], jobs: int = 2,
              limit: float = DEFAULT_TIME_LIMIT,
              progress: Callable[[int, int], None] | None = None) -> list[CaseResult]:
    """Run `make(case)` for every case in worker processes (``jobs`` of them; 0 runs them
    in this process, for debugging) and return the results ordered by case.

    A worker that dies mid-case, or is still inside a case ``limit + 30`` seconds after
    starting it (stuck where SIGALRM cannot interrupt), is replaced and its case recorded
    as a crash or a hang."""
    with tempfile.TemporaryDirectory(prefix="utc-fuzz-") as tmp:
        workdir = Path(tmp)
        if jobs <= 0:
            results = []
            for n, case in enumerate(cases):
                results.append(run_case(make(case), case, workdir, limit))
                if progress:
                    progress(n + 1, len(cases))
            return results
        return _run_pool(make, list(cases), jobs, limit, workdir, progress)


def _run_pool(make: Callable[[int], Mutant], cases: list[int], jobs: int, limit: float,
              workdir: Path, progress: Callable[[int, int], None] | None) -> list[CaseResult]:
    ctx = multiprocessing.get_context("fork")
    pending = list(reversed(cases))
    results: dict[int, CaseResult] = {}
    slots: list[_Slot] = []

    def spawn() -> _Slot:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, make, workdir, limit), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def feed(slot: _Slot) -> None:
        if pending:
            slot.case, slot.started = pending.pop(), time.monotonic()
            slot.conn.send(slot.case)
        else:
            slot.case = None
            slot.conn.send(None)

    def lost(slot: _Slot, outcome: str, site: str, detail: str) -> None:
        case = slot.case
        assert case is not None
        label, seed_model = "(mutant generation failed)", "?"
        with contextlib.suppress(Exception):
            label, seed_model = make(case).describe(), make(case).seed_model
        results[case] = CaseResult(case, label, seed_model, False, outcome, detail, site)
        slot.conn.close()
        slot.process.join(5)
        slots.remove(slot)
        if pending:
            fresh = spawn()
            slots.append(fresh)
            feed(fresh)

    try:
        for _ in range(min(jobs, len(cases))):
            slots.append(spawn())
            feed(slots[-1])
        while any(s.case is not None for s in slots):
            busy = [s for s in slots if s.case is not None]
            ready = multiprocessing.connection.wait([s.conn for s in busy], timeout=1.0)
            for slot in [s for s in busy if s.conn in ready]:
                try:
                    result = slot.conn.recv()
                except (EOFError, OSError):
                    slot.process.join(5)
                    code = slot.process.exitcode
                    why = (f"signal {-code}" if code is not None and code < 0
                           else f"exit status {code}")
                    lost(slot, "crash", f"worker process died ({why})",
                         f"the compile killed its worker process ({why})")
                    continue
                results[result.case] = result
                if progress:
                    progress(len(results), len(cases))
                feed(slot)
            for slot in [s for s in slots if s.case is not None]:
                if time.monotonic() - slot.started > limit + 30:
                    slot.process.kill()
                    lost(slot, "hang", "hang (killed: SIGALRM did not interrupt it)",
                         f"no result after {limit + 30:g} s")
    finally:
        for slot in slots:
            with contextlib.suppress(Exception):
                slot.conn.close()
            slot.process.join(5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
    return [results[c] for c in sorted(results)]


# ---- summaries ------------------------------------------------------------------------------

@dataclass
class Summary:
    """Counts by outcome and the distinct problem sites, with one reproducer each."""

    results: list[CaseResult]
    seed: int | None = None
    seconds: float = 0.0

    @property
    def counts(self) -> Counter:
        return Counter(r.outcome for r in self.results)

    @property
    def problems(self) -> list[CaseResult]:
        return [r for r in self.results if r.is_problem]

    def sites(self) -> dict[str, list[CaseResult]]:
        """Problem site -> the cases that reached it (in case order)."""
        out: dict[str, list[CaseResult]] = {}
        for r in self.problems:
            key = f"[{r.outcome}] {r.site}" if r.outcome in PROBLEMS else \
                f"[leftover] {', '.join(r.leftovers)} after {r.outcome}"
            out.setdefault(key, []).append(r)
        return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))

    def table(self) -> str:
        """The outcome counts and every distinct problem site with its first reproducer."""
        counts = self.counts
        leftovers = sum(1 for r in self.results if r.leftovers)
        lines = [f"{len(self.results)} cases" + (f", seed {self.seed}" if self.seed is not None
                                                 else "")
                 + (f", {self.seconds:.1f} s" if self.seconds else ""),
                 "", f"  {'outcome':<10} {'cases':>6}"]
        for name in OUTCOMES:
            lines.append(f"  {name:<10} {counts.get(name, 0):>6}")
        lines.append(f"  {'leftovers':<10} {leftovers:>6}")
        sites = self.sites()
        if sites:
            lines += ["", f"distinct problem sites: {len(sites)}"]
            for key, cases in sites.items():
                first = cases[0]
                lines.append(f"  {len(cases):>5} x {key}")
                lines.append(f"          e.g. case {first.case}: {first.label}")
                if first.detail:
                    lines.append(f"          -> {first.detail[:240]}")
        return "\n".join(lines)
