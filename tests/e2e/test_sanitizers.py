"""The generated code under AddressSanitizer and UndefinedBehaviorSanitizer.

Bit-exactness on random inputs says the outputs are right; it does not say that no kernel
reads a byte past a weight array, shifts a negative number, overflows a signed multiply
or touches the arena out of bounds, which may give right answers on the host and wrong
ones (or a fault) on a device. Here every shared model is compiled by utc at -O0 and -O2,
its C++ built with `-fsanitize=address,undefined -fno-sanitize-recover=all` at the C++
optimization levels -O0 and -O2 (the optimizer changes which undefined behaviour
surfaces), and 8 seeded random inputs run through one process, so the static arena is
reused across invocations as on a device. The run must exit 0 with an empty stderr (any
sanitizer report is printed there, and `-fno-sanitize-recover=all` also makes it fatal),
and the outputs must still agree with the oracles of tests/e2e/test_real_models.py:
bit-exact with TFLite Micro for int8 models, within its float tolerance for
hello_world_float, and LiteRT's hybrid kernels for the float KWS model.

A control proves the instrumentation is live (flags reach the compile and the link step
of `build_runner`): the same build with an arena one byte too small must be stopped by a
global-buffer-overflow report.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from utc.codegen.host_build import build_runner, decode_outputs, run_runner_process
from utc.compiler.driver import compile_model
from utc.passes.planning.verify_ir import assert_memory_plan

from tests.conftest import shared_model
from tests.e2e.harness import io_of
from tests.e2e.test_real_models import HYBRID_ATOL, INT8_MODELS
from tests.oracle import TflmRunner, random_inputs, run_litert

SANITIZE = ["-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all"]
#: halt at the first report of either sanitizer, with a stack trace in the message;
#: leak checking stays on (the generated code has no heap, so any leak is a finding)
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=0:detect_leaks=1:"
                    "detect_stack_use_after_return=1:check_initialization_order=1:"
                    "strict_init_order=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
SAMPLES = 8
MODELS = [*INT8_MODELS, "hello_world_float.tflite", "mlperf_kws_dscnn_float.tflite"]


def _sanitized_run(out: Path, build: Path, module, cxx_opt: str, samples):
    """Build `out` with the sanitizers at `cxx_opt`, run `samples` in one process; return
    the finished process and the output specs."""
    ins, outs = io_of(module)
    exe = build_runner(out, "m", len(ins), len(outs), build, [cxx_opt, *SANITIZE])
    proc = run_runner_process(exe, samples, env={**os.environ, **SANITIZER_ENV})
    return proc, outs


@pytest.mark.slow
@pytest.mark.parametrize("cxx_opt", ["-O0", "-O2"])
@pytest.mark.parametrize("opt_level", [0, 2])
@pytest.mark.parametrize("name", MODELS)
def test_generated_code_is_sanitizer_clean(name: str, opt_level: int, cxx_opt: str,
                                           tmp_path: Path) -> None:
    path = shared_model(name)
    data = path.read_bytes()
    result = compile_model(path, tmp_path / "out", name="m", opt_level=opt_level)
    assert_memory_plan(result.module)
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(SAMPLES)]
    proc, outs = _sanitized_run(tmp_path / "out", tmp_path / "build", result.module, cxx_opt,
                                samples)
    report = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0 and report == "", (
        f"{name} (utc -O{opt_level}, C++ {cxx_opt}) exited with status {proc.returncode}:\n"
        f"{report[:4000]}")
    got = decode_outputs(proc.stdout, len(samples), outs)
    if name == "mlperf_kws_dscnn_float.tflite":  # hybrid: LiteRT, as in test_real_models
        for sample, out in zip(samples, got):
            want = run_litert(data, sample)[0]
            np.testing.assert_allclose(out[0], want, atol=HYBRID_ATOL)
            assert np.argmax(out[0]) == np.argmax(want)
        return
    oracle = TflmRunner(data)
    for i, (sample, out) in enumerate(zip(samples, got)):
        for k, (g, w) in enumerate(zip(out, oracle.run(sample))):
            if np.issubdtype(w.dtype, np.integer):
                assert np.array_equal(g, w), f"{name} sample {i} output {k}: " \
                                             f"{int(np.sum(g != w))} differ"
            else:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6,
                                           err_msg=f"{name} sample {i} output {k}")


#: the default (no placement macro) declaration of the arena in m.cpp
ARENA_DECLARATION = "alignas(M_ARENA_ALIGN) uint8_t arena[M_ARENA_BYTES > 0 ? M_ARENA_BYTES : 1];"


@pytest.mark.slow
def test_the_sanitizers_catch_an_arena_one_byte_too_small(tmp_path: Path) -> None:
    """The control: the top byte of hello_world_int8's arena is used (its arena is at the
    lower bound), so cutting the arena by one byte must be reported, at run time, by the
    instrumented build; a build without the sanitizer runtime would run on silently."""
    path = shared_model("hello_world_int8.tflite")
    data = path.read_bytes()
    out = tmp_path / "out"
    result = compile_model(path, out, name="m", opt_level=2)
    source = (out / "m.cpp").read_text()
    assert source.count(ARENA_DECLARATION) == 1, "the arena declaration changed: update the test"
    (out / "m.cpp").write_text(source.replace(ARENA_DECLARATION,
                                              "alignas(M_ARENA_ALIGN) uint8_t arena[M_ARENA_BYTES - 1];"))
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(SAMPLES)]
    proc, _ = _sanitized_run(out, tmp_path / "build", result.module, "-O0", samples)
    assert proc.returncode != 0
    assert "AddressSanitizer: global-buffer-overflow" in proc.stderr.decode(errors="replace")
