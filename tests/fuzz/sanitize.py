"""Build accepted mutants under AddressSanitizer and UndefinedBehaviorSanitizer, run them on
seeded inputs, and compare their outputs with TFLite Micro.

A mutant the compiler accepts is a promise that the generated C++ is memory-safe and
computes what the model says. The fuzz campaign only shows that the compiler did not
crash; here the code it wrote is built with ``-fsanitize=address,undefined
-fno-sanitize-recover=all`` and run, so an inconsistent model that slipped through (a bias
shorter than the output depth, a per-channel scale count that does not match, an input
depth the weights do not have) shows up as the out-of-bounds read it causes. Where TFLite
Micro accepts the same model, the outputs must also match it: bit-exact for integers,
within 1e-5 relative for float32 (NaN matching NaN). TFLM runs in a child process
(`tests.fuzz.tflm_child`), since hostile models can crash it; where it refuses or crashes,
only the sanitizer verdict applies.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from utc.codegen.host_build import decode_outputs
from utc.compiler.errors import UtcError

from tests.fuzz.mutate import Mutant
from tests.fuzz.run import REPO, CaseResult, _site_of
from tests.fuzz.tflm_child import EXIT_INPUT_MISMATCH, EXIT_REFUSED

__all__ = ["SANITIZER_FLAGS", "SanitizerCheck", "check_mutant", "check_mutants", "pick_sample"]

SANITIZER_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
_SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
_REPORT = re.compile(r"(ERROR: AddressSanitizer: .*|runtime error: .*|SUMMARY: .*Sanitizer.*)")
_RUN_TIMEOUT = 300
# compile_model is not documented as thread-safe; builds and runs are what take time.
_COMPILE_LOCK = threading.Lock()


@dataclass
class SanitizerCheck:
    """The verdict on one accepted mutant.

    status: ``clean``; ``refused`` (the compiler refuses it now: nothing to check);
    ``crash`` (the compiler raised something other than a refusal); ``build-failed`` (the
    generated code does not compile warning-free); ``sanitizer`` (a report, or a non-zero
    exit of the generated code); ``mismatch`` (outputs, or I/O signatures, differ from
    TFLM's). oracle: ``tflm-match``, ``tflm-refused``, ``tflm-crashed`` or ``-``."""

    label: str
    status: str
    oracle: str = "-"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("clean", "refused")


def _inputs(specs: Sequence[tuple[tuple[int, ...], np.dtype]], samples: int,
            seed: int) -> list[list[np.ndarray]]:
    """Seeded inputs: integers over their full range (saturation lives at the extremes),
    floats N(0, 3^2)."""
    rng = np.random.default_rng([seed, 0x5A17])
    out = []
    for _ in range(samples):
        sample = []
        for shape, dtype in specs:
            dtype = np.dtype(dtype)
            if dtype.kind == "f":
                sample.append((rng.standard_normal(shape) * 3.0).astype(dtype))
            elif dtype.kind == "b":
                sample.append(rng.integers(0, 2, size=shape).astype(np.bool_))
            else:
                info = np.iinfo(dtype)
                sample.append(rng.integers(info.min, info.max, size=shape, endpoint=True,
                                           dtype=dtype))
        out.append(sample)
    return out


def _decode(stdout: bytes, count: int,
            specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[list[np.ndarray]] | None:
    """The runner's outputs, or None when it wrote the wrong amount."""
    try:
        return decode_outputs(stdout, count, specs)
    except UtcError:
        return None


def _run_tflm(model: Path, samples: list[list[np.ndarray]],
              work: Path) -> tuple[str, list[list[np.ndarray]] | None, str]:
    """(oracle verdict, outputs or None, detail) from TFLM in a child process."""
    inputs, outputs = work / "tflm_in.npz", work / "tflm_out.npz"
    np.savez(inputs, **{f"s{i}_i{k}": x for i, s in enumerate(samples) for k, x in enumerate(s)})
    try:
        proc = subprocess.run([sys.executable, "-m", "tests.fuzz.tflm_child", str(model),
                               str(inputs), str(outputs)], cwd=REPO, capture_output=True,
                              text=True, timeout=_RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "tflm-crashed", None, f"TFLM did not finish in {_RUN_TIMEOUT} s"
    last = (proc.stderr.strip().splitlines() or [""])[-1][:300]
    if proc.returncode == EXIT_REFUSED:
        return "tflm-refused", None, last
    if proc.returncode == EXIT_INPUT_MISMATCH:
        return "tflm-mismatch", None, last
    if proc.returncode != 0:
        return "tflm-crashed", None, f"exit status {proc.returncode}: {last}"
    with np.load(outputs) as z:
        got = [[z[f"s{i}_o{k}"] for k in range(sum(1 for f in z.files if f.startswith(f"s{i}_")))]
               for i in range(len(samples))]
    return "tflm-ran", got, ""


def _compare(ours: list[list[np.ndarray]], theirs: list[list[np.ndarray]]) -> str:
    """'' when every output matches, else the first difference."""
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if len(a) != len(b):
            return f"sample {i}: {len(a)} outputs, TFLM has {len(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            if x.shape != y.shape or x.dtype != y.dtype:
                return (f"sample {i} output {k}: {x.dtype}{list(x.shape)}, TFLM has "
                        f"{y.dtype}{list(y.shape)}")
            if x.dtype.kind == "f":
                close = np.isclose(x, y, rtol=1e-5, atol=1e-6, equal_nan=True)
            else:
                close = x == y
            if not np.all(close):
                bad = int(np.size(close) - np.count_nonzero(close))
                j = int(np.flatnonzero(~close.reshape(-1))[0])
                return (f"sample {i} output {k}: {bad} of {x.size} values differ (first at "
                        f"{j}: {x.reshape(-1)[j]!r} vs TFLM {y.reshape(-1)[j]!r})")
    return ""


def check_mutant(mutant: Mutant, work: Path, samples: int = 4, seed: int = 0) -> SanitizerCheck:
    """Compile, build with the sanitizers, run `samples` seeded inputs, compare with TFLM."""
    from utc.codegen.host_build import build_runner
    from utc.compiler.driver import compile_model
    from utc.compiler.driver.cli import io_specs
    from utc.compiler.errors import UtcError

    label = mutant.describe()
    model = work / "model.tflite"
    model.write_bytes(mutant.data)
    try:
        with _COMPILE_LOCK, np.errstate(divide="raise", over="raise", invalid="raise"):
            module = compile_model(model, work / "out", name="model").module
            in_specs, out_specs = io_specs(module)
    except UtcError as exc:
        return SanitizerCheck(label, "refused", detail=str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 (reported as the compiler's crash)
        return SanitizerCheck(label, "crash", detail=f"{_site_of(exc)}: {exc}"[:300])
    try:
        exe = build_runner(work / "out", "model", len(in_specs), len(out_specs), work / "build",
                           extra_flags=list(SANITIZER_FLAGS))
    except UtcError as exc:
        return SanitizerCheck(label, "build-failed", detail=str(exc)[:300])
    batch = _inputs(in_specs, samples, seed)
    payload = b"".join(np.ascontiguousarray(x).tobytes() for s in batch for x in s)
    try:
        proc = subprocess.run([str(exe), str(len(batch))], input=payload, capture_output=True,
                              timeout=_RUN_TIMEOUT, env={**os.environ, **_SANITIZER_ENV})
    except subprocess.TimeoutExpired:
        return SanitizerCheck(label, "sanitizer", detail=f"no result in {_RUN_TIMEOUT} s")
    stderr = proc.stderr.decode(errors="replace")
    report = _REPORT.search(stderr)
    if proc.returncode or report:
        what = report.group(1) if report else f"exit status {proc.returncode}"
        return SanitizerCheck(label, "sanitizer", detail=what.replace(str(work), "")[:300])
    ours = _decode(proc.stdout, len(batch), out_specs)
    if ours is None:
        return SanitizerCheck(label, "sanitizer", detail="the generated code wrote the wrong "
                              f"amount of output ({len(proc.stdout)} bytes)")
    oracle, theirs, detail = _run_tflm(model, batch, work)
    if oracle == "tflm-mismatch":
        return SanitizerCheck(label, "mismatch", oracle, f"I/O signature: {detail}")
    if theirs is None:
        return SanitizerCheck(label, "clean", oracle, detail)
    difference = _compare(ours, theirs)
    if difference:
        return SanitizerCheck(label, "mismatch", "tflm-ran", difference)
    return SanitizerCheck(label, "clean", "tflm-match")


def check_mutants(mutants: Sequence[Mutant], jobs: int = 2, samples: int = 4,
                  seed: int = 0) -> list[SanitizerCheck]:
    """`check_mutant` for each, `jobs` at a time (the work is in compilers and children)."""
    with tempfile.TemporaryDirectory(prefix="utc-fuzz-san-") as tmp:
        def one(k: int) -> SanitizerCheck:
            work = Path(tmp) / f"m{k}"
            work.mkdir()
            return check_mutant(mutants[k], work, samples, seed)

        with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
            return list(pool.map(one, range(len(mutants))))


def pick_sample(results: Sequence[CaseResult], count: int) -> list[CaseResult]:
    """`count` compiled cases, deterministically: structure-aware mutants first (a patched
    shape, scale or option is what can slip an inconsistency through), spread round-robin
    over the seed models, in case order within each."""
    compiled = [r for r in results if r.outcome == "compiled" and not r.leftovers]
    by_seed: dict[str, list[CaseResult]] = {}
    for r in sorted(compiled, key=lambda r: (not r.structural, r.case)):
        by_seed.setdefault(r.seed_model, []).append(r)
    chosen: list[CaseResult] = []
    queues = [by_seed[k] for k in sorted(by_seed)]
    while len(chosen) < count and any(queues):
        for q in queues:
            if q and len(chosen) < count:
                chosen.append(q.pop(0))
    return chosen
