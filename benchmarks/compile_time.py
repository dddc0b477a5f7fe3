"""Compile time and peak memory: `utc compile -O2` next to Arm's Vela, whole processes.

Both are Python compilers that read the same TFLite flatbuffers, plan memory and write
their output; what a developer who recompiles after every training run waits for is the
whole command, start-up included. So each compile runs as its own child process, and
this measures its wall time (from forking it to reaping it) and its peak resident set
size (the child's own `ru_maxrss`, read with `os.wait4` for that one child, forked from
a small launcher so that the benchmark's own memory does not count).

Vela runs its normal full compile for its default system: Ethos-U55-256 on
`Ethos_U55_High_End_Embedded` with the `Shared_Sram` memory mode from its bundled
`vela.ini` (the configuration Vela itself falls back to, named here so it prints no
warnings), writing its optimised .tflite and summary into a temporary folder. utc
writes its C++ folder into a temporary folder.

Models: every .tflite of ../shared/models, and MobileNetV2 (3.5 MB of int8 weights,
built by `benchmarks/mobilenet_v2.py`), since none of the shared models has the weight
volume of an ordinary image classifier. Each model runs N times, utc and Vela
alternating (which one goes first alternates too), after one untimed compile by each
(bytecode caches and the page cache warm, as on a developer's machine), and the table
shows medians: the machine is shared, so only figures measured side by side in one run
are compared.

Vela is a benchmark-only dependency: `pip install -e '.[bench]'` (ethos-u-vela).

Which utc is measured matters: a development checkout's editable install adds an import
hook to every start (~10 ms), which users, who install the wheel, never pay. The notes
under the table say which kind of install the `utc` command belongs to; `--utc PATH`
measures another one, e.g. a wheel installed into a scratch environment:
    pip wheel --no-deps . -w dist && python -m venv /tmp/w && /tmp/w/bin/pip install dist/*.whl
    .venv/bin/python benchmarks/compile_time.py --utc /tmp/w/bin/utc

Run from the repository root:
    .venv/bin/python benchmarks/compile_time.py [--runs N] [--models NAME ...] [--no-large]
        [--utc PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Column, Report, add_model_args, ratio, select_models  # noqa: E402

#: Runs per model and compiler (the median is reported).
DEFAULT_RUNS = 5
#: The large model's file name (built into a temporary folder on every run).
LARGE_MODEL = "mobilenet_v2_int8.tflite"
#: The goals of issue 14: utc's wall time at most this fraction of Vela's (the large
#: model has its own), and peak RSS at most Vela's.
TIME_GOAL, LARGE_TIME_GOAL, RSS_GOAL = 0.75, 0.5, 1.0


@dataclass
class Run:
    seconds: float
    peak_rss_bytes: int


#: Runs one command and prints its wall time and peak RSS. Started with `python -S -I`
#: so it stays small: Linux carries a process's peak RSS across fork and exec, so a
#: child forked straight from this benchmark (numpy, the built model: 60+ MB) would
#: report at least the benchmark's own size. Forked from this launcher, a child starts
#: from a few MB, less than any compiler's own peak.
_LAUNCHER = r"""
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.dup2(2, 1)  # the child's output goes to the log; stdout carries the result
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
print(os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss * 1024)
"""


def child_environment() -> dict[str, str]:
    """This environment, but letting Python write bytecode caches: an installed wheel has
    them (pip compiles them) and so has Vela's, while a checkout run under
    PYTHONDONTWRITEBYTECODE would recompile every utc module on every run."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Wall time (fork to reaping) and peak RSS (`ru_maxrss` of that one process, read
    with `wait4`) of one child running `cmd` (with `env` added to its environment), which
    must succeed. Its output goes to a file."""
    log = cwd / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.run([sys.executable, "-S", "-I", "-c", _LAUNCHER, *cmd], cwd=cwd,
                              stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                              env={**child_environment(), **(env or {})})
    fields = proc.stdout.decode().split()
    if proc.returncode or len(fields) != 3:
        raise RuntimeError(f"the launcher failed for {Path(cmd[0]).name} (status {proc.returncode})")
    status, seconds, rss = int(fields[0]), float(fields[1]), int(fields[2])
    if status:
        lines = log.read_text(errors="replace").strip().splitlines() or ["(no output)"]
        raise RuntimeError(f"{Path(cmd[0]).name} exited with status {status}: {lines[-1]}")
    return Run(seconds, rss)


def tool(name: str) -> str:
    """The console script `name` of this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if not found:
        sys.exit(f"error: `{name}` not found (pip install -e '.[bench]' installs Vela)")
    return found


def vela_config() -> list[str]:
    """Vela's default system, named explicitly: its bundled vela.ini's U55 high-end
    embedded configuration with shared SRAM, on an Ethos-U55 with 256 MACs/cycle."""
    import importlib.util

    spec = importlib.util.find_spec("ethosu")
    options = ["--accelerator-config", "ethos-u55-256", "--system-config",
               "Ethos_U55_High_End_Embedded", "--memory-mode", "Shared_Sram"]
    if spec and spec.submodule_search_locations:
        ini = Path(list(spec.submodule_search_locations)[0]) / "config_files" / "Arm" / "vela.ini"
        if ini.is_file():
            options = ["--config", str(ini), *options]
    return options


def utc_command(utc: str, model: Path, out: Path) -> list[str]:
    return [utc, "compile", str(model), "-O2", "-o", str(out)]


def vela_command(vela: str, model: Path, out: Path) -> list[str]:
    return [vela, str(model), "--output-dir", str(out), *vela_config()]


def compare(model: Path, runs: int, utc: str, vela: str, work: Path) -> tuple[list[Run], list[Run]]:
    """`runs` compiles of `model` by each, alternating which goes first."""
    utc_runs: list[Run] = []
    vela_runs: list[Run] = []
    for i in range(runs):
        jobs = [(utc_runs, utc_command(utc, model, work / f"utc-{i}")),
                (vela_runs, vela_command(vela, model, work / f"vela-{i}"))]
        for into, cmd in jobs if i % 2 == 0 else reversed(jobs):
            into.append(measure(cmd, work))
        for out in work.iterdir():  # keep the folder small between runs
            if out.is_dir():
                shutil.rmtree(out)
    return utc_runs, vela_runs


def median_seconds(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def median_rss(runs: list[Run]) -> float:
    return statistics.median(r.peak_rss_bytes for r in runs)


def interpreter_of(script: str) -> str:
    """The Python interpreter a console script runs with (its #! line), else this one."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace").strip()
    except OSError:
        return sys.executable
    return first[2:].split()[0] if first.startswith("#!") else sys.executable


def install_kind(python: str) -> str:
    """How utc is installed for `python`: an editable install of a checkout (pip's
    direct_url.json says so) or an installed wheel, with its version."""
    probe = ("import importlib.metadata as m, json; d = m.distribution('utc'); "
             "print(json.dumps([d.version, d.read_text('direct_url.json') or '']))")
    # -I and a neutral folder: a checkout's own utc.egg-info (no direct_url.json) must
    # not stand in for the installed distribution
    proc = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True,
                          env=child_environment(), cwd=tempfile.gettempdir())
    if proc.returncode:
        return "unknown (utc's distribution metadata not found)"
    version, direct = json.loads(proc.stdout)
    info = json.loads(direct) if direct else {}
    if info.get("dir_info", {}).get("editable"):
        return f"editable install {version} of {info.get('url', '?').removeprefix('file://')}"
    return f"installed wheel {version}"


def start_up_notes(runs: int, utc: str, vela: str, work: Path) -> list[str]:
    """Median wall time of what neither compiler can go below, measured like the
    compiles (notes under the table: on a small model both spend most of their time
    starting up): utc's interpreter importing numpy, utc's one third-party import on
    the compile path, with one BLAS thread as the utc command loads it, and Vela doing
    nothing but start up."""
    notes = []
    python = interpreter_of(utc)
    for what, cmd, env in (("python -c 'import numpy' (utc's third-party import alone)",
                            [python, "-c", "import numpy"], {"OPENBLAS_NUM_THREADS": "1"}),
                           ("vela --version (Vela's start-up alone)", [vela, "--version"], None)):
        seconds = median_seconds([measure(cmd, work, env) for _ in range(runs)])
        notes.append(f"{what}: {seconds:.2f} s (median)")
    return notes


def environment_libraries(script: str) -> list[Path]:
    """The shared libraries of the Python environment a console script runs in (its
    site-packages' `*.so*` files: numpy's OpenBLAS is 25 MB of them)."""
    prefix = Path(interpreter_of(script)).parent.parent  # the venv, not the python it links to
    if not prefix.is_dir():
        return []
    return sorted(f for site in prefix.glob("lib/python3*/site-packages")
                  for f in site.rglob("*.so*") if f.is_file())


def drop_from_page_cache(files: list[Path]) -> int:
    """Ask the kernel to forget the cached pages of `files`; how many it was asked for.

    Why: peak RSS counts the file pages a process maps, and on a page fault Linux maps
    the neighbouring pages too when they are already in the page cache ("fault-around").
    A wheel installed a minute ago is cached whole, so each of its libraries maps far
    more than a long-installed one whose unused pages were evicted long ago: measured on
    identical numpy files, `import numpy` peaks at 30.6 MB right after an install and at
    25.2 MB otherwise. Dropping both tools' libraries before the warm-up compiles puts
    utc and Vela in the same state: cached exactly what their own runs touch."""
    dropped = 0
    for f in files:
        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)  # a fresh install's pages may still be dirty: those stay cached
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            dropped += 1
        finally:
            os.close(fd)
    return dropped


def verdict(time_ratio: float, rss_ratio: float, time_goal: float) -> str:
    missed = [what for what, value, goal in (("time", time_ratio, time_goal),
                                             ("rss", rss_ratio, RSS_GOAL)) if value > goal]
    return "ok" if not missed else "over: " + ", ".join(missed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                        help="compiles per model and compiler; medians are shown (default %(default)s)")
    parser.add_argument("--no-large", action="store_true",
                        help=f"skip the built MobileNetV2 ({LARGE_MODEL})")
    parser.add_argument("--utc", metavar="PATH",
                        help="the utc command to measure (default: this environment's)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    selected = select_models(args)
    utc, vela = args.utc or tool("utc"), tool("vela")

    columns = [
        Column("model", "", "<"),
        Column("KB", "size of the .tflite file"),
        Column("utc s", "wall time of `utc compile MODEL -O2 -o DIR` (median)"),
        Column("vela s", "wall time of `vela MODEL` on Ethos-U55-256, default system (median)"),
        Column("time", f"utc / vela (goal: at most {TIME_GOAL}x, {LARGE_TIME_GOAL}x on the large model)"),
        Column("utc MB", "peak resident set size of utc's process (median)"),
        Column("vela MB", "peak resident set size of Vela's process (median)"),
        Column("rss", f"utc / vela (goal: at most {RSS_GOAL}x)"),
        Column("goals", "whether both ratios meet their goal"),
    ]
    report = Report(columns)
    report.notes.append(f"{args.runs} runs per model and compiler, alternating, on one machine in one "
                        "run; MB = 2^20 bytes.")
    with tempfile.TemporaryDirectory(prefix="utc-compile-time-") as tmp:
        work = Path(tmp)
        models = [(m, TIME_GOAL) for m in selected]
        if not args.no_large:
            from benchmarks.mobilenet_v2 import build_mobilenet_v2

            large = work / "models" / LARGE_MODEL
            large.parent.mkdir()
            large.write_bytes(build_mobilenet_v2())
            models.append((large, LARGE_TIME_GOAL))
        scratch = work / "out"
        scratch.mkdir()

        # both environments' libraries start from the same page-cache state (see
        # drop_from_page_cache), then one untimed compile by each: bytecode caches
        # written, what each touches in the page cache (a model that fails gets its
        # FAILED row below)
        libraries = sorted(set(environment_libraries(utc) + environment_libraries(vela)))
        dropped = drop_from_page_cache(libraries)
        report.notes.append(f"page cache of both environments' {dropped} shared libraries dropped "
                            "before the warm-up compiles (peak RSS counts the cached pages a "
                            "library maps; a just-installed wheel is cached whole)")
        for model, _ in models:
            try:
                compare(model, 1, utc, vela, scratch)
                break
            except RuntimeError:
                continue
        report.notes.append(f"utc measured: {utc} ({install_kind(interpreter_of(utc))})")
        report.notes += start_up_notes(args.runs, utc, vela, scratch)
        for model, goal in models:
            def row(model: Path = model, goal: float = goal) -> list[str]:
                utc_runs, vela_runs = compare(model, args.runs, utc, vela, scratch)
                t_utc, t_vela = median_seconds(utc_runs), median_seconds(vela_runs)
                m_utc, m_vela = median_rss(utc_runs), median_rss(vela_runs)
                return [f"{model.stat().st_size / 1024:.0f}", f"{t_utc:.2f}", f"{t_vela:.2f}",
                        ratio(t_utc, t_vela), f"{m_utc / 2**20:.0f}", f"{m_vela / 2**20:.0f}",
                        ratio(m_utc, m_vela), verdict(t_utc / t_vela, m_utc / m_vela, goal)]

            report.add(model.name, row)
            print(f"  measured {model.name}", file=sys.stderr, flush=True)
    print(report.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
