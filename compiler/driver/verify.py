"""`utc verify`: the generated code against TFLite Micro's interpreter on the same inputs.

A compiler's claim that its code computes what the model computes is only as good as the
comparison behind it; this one is the comparison the test suite makes, packaged for users:
the compiled C++ (built for the host, or for a Cortex-M target as firmware run on its
QEMU board) and the reference interpreter run on the same samples (seeded random, or the
user's .npy files), and each output summarised by how many
samples and elements are bit-exact, the largest absolute difference, and for float
outputs the RMSE and cosine similarity. An output passes when every element is within
`atol + rtol * |reference|` (numpy's `allclose` rule); by default integer outputs must be
bit-exact and float outputs within 1e-5 relative, 1e-6 absolute (what the suite holds
float models to).

The same functions serve `utc verify` (cli.py) and `utc.verify` in the Python API.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from utc.compiler.errors import UsageError, UtcError, printable

#: Default tolerances: (atol, rtol) for integer and for float outputs.
INT_TOLERANCE = (0.0, 0.0)
FLOAT_TOLERANCE = (1e-6, 1e-5)
#: Largest number of random samples `--samples` accepts (each is one run of both).
MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class OutputComparison:
    """One model output compared over every sample."""

    index: int
    name: str | None
    dtype: str
    shape: tuple[int, ...]
    samples: int
    exact_samples: int
    elements: int
    exact_elements: int
    max_abs_error: float
    rmse: float | None  # float outputs only
    cosine: float | None  # float outputs only
    atol: float
    rtol: float
    passed: bool

    def line(self) -> str:
        name = f" '{printable(self.name)}'" if self.name else ""
        text = (f"output {self.index}{name} {self.dtype} {list(self.shape)}: "
                f"{self.exact_samples}/{self.samples} samples and "
                f"{self.exact_elements}/{self.elements} elements bit-exact, "
                f"max abs error {self.max_abs_error:.6g}")
        if self.rmse is not None:
            text += f", RMSE {self.rmse:.6g}, cosine similarity {self.cosine:.9f}"
        verdict = "ok" if self.passed else "MISMATCH"
        return text + f" (atol {self.atol:g}, rtol {self.rtol:g}): {verdict}"


@dataclass(frozen=True)
class Verification:
    """The comparison of every output; `passed` when all are within their tolerance."""

    outputs: tuple[OutputComparison, ...]
    samples: int
    inputs: str  # where the samples came from: 'random (seed 0)', 'x.npy'

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outputs)

    def format(self, header: str) -> str:
        lines = [f"utc verify: {header}: {self.samples} samples ({self.inputs}) against "
                 "TFLite Micro"]
        lines += ["  " + o.line() for o in self.outputs]
        failed = sum(not o.passed for o in self.outputs)
        lines.append("utc verify: every output matches" if not failed else
                     f"utc verify: {failed} of {len(self.outputs)} outputs differ beyond the "
                     "tolerance")
        return "\n".join(lines) + "\n"


def compare_output(index: int, name: str | None, ours: Sequence[np.ndarray],
                   reference: Sequence[np.ndarray], atol: float | None,
                   rtol: float | None) -> OutputComparison:
    """Summarise one output over all samples (same shapes and dtypes on both sides: the
    code is compiled from the model, so a difference there is a bug, and raised)."""
    a = np.stack([np.asarray(x) for x in ours])
    b = np.stack([np.asarray(x) for x in reference])
    if a.shape != b.shape or a.dtype != b.dtype:
        raise UtcError(f"output {index}: the generated code gives {a.dtype.name} "
                       f"{list(a.shape[1:])}, TFLite Micro {b.dtype.name} {list(b.shape[1:])}")
    is_float = a.dtype.kind == "f"
    default_atol, default_rtol = FLOAT_TOLERANCE if is_float else INT_TOLERANCE
    atol = default_atol if atol is None else float(atol)
    rtol = default_rtol if rtol is None else float(rtol)
    x, y = a.astype(np.float64), b.astype(np.float64)
    same = (a == b) | (np.isnan(x) & np.isnan(y)) if is_float else a == b
    diff = np.abs(x - y)
    finite = np.where(np.isnan(diff), np.inf, diff)
    within = same | (finite <= atol + rtol * np.abs(y))
    rmse = cosine = None
    if is_float:
        rmse = float(math.sqrt(float(np.mean(np.square(finite))))) if diff.size else 0.0
        nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
        if nx == 0.0 or ny == 0.0:
            cosine = 1.0 if nx == ny else 0.0
        else:
            cosine = float(np.dot(x.ravel(), y.ravel()) / (nx * ny))
    per_sample = same.reshape(len(a), -1).all(axis=1) if len(a) else np.zeros(0, bool)
    return OutputComparison(
        index=index, name=name, dtype=a.dtype.name, shape=tuple(a.shape[1:]), samples=len(a),
        exact_samples=int(per_sample.sum()), elements=int(a.size),
        exact_elements=int(same.sum()), max_abs_error=float(finite.max()) if diff.size else 0.0,
        rmse=rmse, cosine=cosine, atol=atol, rtol=rtol, passed=bool(within.all()))


def compare(ours: Sequence[Sequence[np.ndarray]], reference: Sequence[Sequence[np.ndarray]],
            names: Sequence[str | None], atol: float | None, rtol: float | None,
            inputs: str) -> Verification:
    """Compare outputs sample by sample (`ours[s][k]`: sample s, output k)."""
    count = len(names)
    outputs = tuple(compare_output(k, names[k], [s[k] for s in ours], [s[k] for s in reference],
                                   atol, rtol) for k in range(count))
    return Verification(outputs, len(ours), inputs)


def check_tolerance(value: float | None, what: str) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{what} must be a finite number >= 0, got {value}")
    return value


def samples_from_arrays(arrays: Sequence[np.ndarray], labels: Sequence[str],
                        specs: Sequence[tuple[tuple[int, ...], np.dtype]]) -> list[list[np.ndarray]]:
    """Samples from one array per model input: an array of the input's exact shape is one
    sample, one with an extra leading dimension N is N samples (the same N for every
    input). Dtypes must match exactly (nothing is converted)."""
    from utc.compiler.driver.model_io import check_inputs, describe

    if len(arrays) != len(specs):
        raise UtcError(f"the model has {len(specs)} inputs, got {len(arrays)} input arrays")
    batches = []
    for label, x, (shape, dtype) in zip(labels, arrays, specs):
        if isinstance(x, np.ndarray) and tuple(x.shape) == tuple(shape):
            batches.append([x])
        elif isinstance(x, np.ndarray) and x.ndim == len(shape) + 1 and \
                tuple(x.shape[1:]) == tuple(shape):
            batches.append(list(x))
        else:
            got = describe(x.shape, x.dtype) if isinstance(x, np.ndarray) else type(x).__name__
            raise UtcError(f"{printable(label)}: expected {describe(shape, dtype)} (one sample) or "
                           f"{np.dtype(dtype).name} [N, {', '.join(map(str, shape))}] (N samples), "
                           f"got {got}")
    counts = {len(b) for b in batches}
    if len(counts) > 1:
        raise UtcError(f"the inputs hold different numbers of samples ({sorted(counts)})")
    if counts == {0}:
        raise UtcError("the inputs hold no samples")
    samples = [list(s) for s in zip(*batches)]
    return [check_inputs(specs, s, labels, "input arrays") for s in samples]


def npy_files(path: str) -> list[Path]:
    """The .npy files of a folder, sorted by name (one sample or batch each)."""
    folder = Path(path)
    files = sorted(p for p in folder.iterdir() if p.suffix == ".npy" and p.is_file())
    if not files:
        raise UsageError(f"--input {printable(path)}: the folder holds no .npy files")
    return files


def check_target(target: str) -> None:
    """Everything verifying on `target` needs, checked before any work: nothing for the
    host; for a Cortex-M target a QEMU board that emulates it and the cross tools."""
    if target != "host":
        from utc.codegen import cortex_m

        cortex_m.check_tools(target)


def run_generated(comp, samples: Sequence[Sequence[np.ndarray]], taps: bool = False,
                  build_root: Path | None = None) -> bytes:
    """Run `samples` through the generated code of a compilation, consecutively, one
    invocation each with one arena, and return the raw stream: per sample (with `taps`,
    each kernel call's outputs first, then) the model's outputs. On the host the runner
    (cached by content) prints it; on a Cortex-M target the verify firmware, built with
    the target's cross compiler and flags (CMSIS-NN's target paths included), runs on the
    target's QEMU board and writes it to a host file."""
    import tempfile

    from utc.compiler.driver import emit_into
    from utc.compiler.driver.model_io import io_specs

    in_specs, out_specs = io_specs(comp.module)
    with tempfile.TemporaryDirectory(prefix="utc-verify-", dir=build_root) as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        emit_into(comp, out, taps=taps)
        if comp.target == "host":
            from utc.codegen.host_build import run_runner_process
            from utc.codegen.runner_cache import cached_runner

            exe = cached_runner(out, comp.name, len(in_specs), len(out_specs))
            proc = run_runner_process(exe, samples)
            if proc.returncode:
                raise UtcError(f"generated code exited with status {proc.returncode}")
            return proc.stdout
        from utc.codegen import cortex_m

        build = Path(tmp) / "build"
        main = cortex_m.verify_main(comp.name, build, len(samples), len(in_specs),
                                    len(out_specs), taps)
        fw = cortex_m.build_firmware(out, comp.name, comp.target, build, main=main)
        payload = b"".join(np.ascontiguousarray(x).tobytes() for s in samples for x in s)
        # QEMU runs a shared model's inference in well under a second; the bound only
        # tells a hang from a long run, so it grows with the samples
        return cortex_m.run_verify_firmware(fw, payload, Path(tmp) / "run",
                                            timeout=120.0 + 2.0 * len(samples))


def where_run(target: str) -> str:
    """How the generated code ran, for a verification's header."""
    if target == "host":
        return "host build"
    from utc.codegen import cortex_m

    return f"{target} firmware on QEMU {cortex_m.board(target).machine}"


def verify_samples(comp, model: bytes, label: str, arena_hint: int,
                   samples: Sequence[Sequence[np.ndarray]],
                   out_specs: Sequence[tuple[tuple[int, ...], np.dtype]],
                   names: Sequence[str | None], atol: float | None, rtol: float | None,
                   inputs: str) -> Verification:
    """Run the samples through the generated code of `comp` (`run_generated`: the host
    runner, or the target's firmware on QEMU) and TFLite Micro; compare. The code invokes
    the model once per sample in one process, so a stateful model's state carries from
    sample to sample: TFLite Micro is reset before the first sample only, and runs the
    others as the next invocations."""
    from utc.codegen.host_build import decode_outputs
    from utc.compiler.driver.tflm import TflmInterpreter

    reference_runner = TflmInterpreter(model, label, arena_hint)
    ours = decode_outputs(run_generated(comp, samples), len(samples), out_specs)
    reference = [reference_runner.run(s, len(out_specs), reset=k == 0)
                 for k, s in enumerate(samples)]
    return compare(ours, reference, names, atol, rtol, inputs)


def random_samples(specs: Sequence[tuple[tuple[int, ...], np.dtype]], count: int,
                   seed: int) -> list[list[np.ndarray]]:
    """`count` seeded random samples (integers over their whole range, floats normal)."""
    from utc.compiler.driver.model_io import random_inputs

    if not 1 <= count <= MAX_SAMPLES:
        raise UsageError(f"the number of samples must be from 1 to {MAX_SAMPLES}, got {count}")
    rng = np.random.default_rng(seed)
    return [random_inputs(rng, specs) for _ in range(count)]


def verify_compilation(comp, model: bytes, label: str,
                       samples: Sequence[Sequence[np.ndarray]] | None = None,
                       count: int = 32, seed: int = 0, atol: float | None = None,
                       rtol: float | None = None, inputs: str | None = None,
                       per_layer: bool = False) -> Verification:
    """Compare a compilation (`run_compile`) of `model` with TFLite Micro: on `samples`
    (each one array per model input, already checked), or `count` random ones from
    `seed`. The code runs where it was compiled for: built for the host through the
    runner cache, or for a Cortex-M target as firmware on its QEMU board (`run_generated`).
    `per_layer` also compares every intermediate tensor (`verify_layers`; a
    `LayerVerification`)."""
    from utc.compiler.driver.model_io import io_specs
    from utc.dialects.func import main_function

    check_tolerance(atol, "atol")
    check_tolerance(rtol, "rtol")
    check_target(comp.target)
    in_specs, out_specs = io_specs(comp.module)
    if samples is None:
        samples = random_samples(in_specs, count, seed)
        inputs = f"random, seed {seed}"
    fn = main_function(comp.module)
    names = list(fn.outputs or ())
    names += [None] * (len(out_specs) - len(names))
    if per_layer:
        from utc.compiler.driver.verify_layers import verify_layers

        return verify_layers(comp, model, label, samples, names, atol, rtol, inputs or "given")
    hint = int(fn.copy_lower_bound or fn.arena_bytes or 0)
    return verify_samples(comp, model, label, hint, samples, out_specs, names, atol, rtol,
                          inputs or "given")
