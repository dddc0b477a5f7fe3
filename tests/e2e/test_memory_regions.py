"""`--memory-region NAME:BYTES[:SECTION]`: the arena planned into several memories, one
array per region in its own linker section, bit-exact with TFLite Micro on the host and
on Cortex-M4 under QEMU, exact per-region sizes, and clear refusals."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model, pipeline_for, with_memory_regions
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import shared_model
from tests.e2e.harness import compile_and_build
from tests.e2e.test_cli_errors import CLI
from tests.oracle import TflmRunner, random_inputs

KWS = "mlperf_kws_dscnn_int8.tflite"
REGIONS = ["dtcm:4096:.bss.utc_dtcm", "sram:65536:.bss.utc_sram"]


def _regions(result) -> dict[str, tuple[int, int, str]]:
    return {r[0]: (int(r[1]), int(r[2]), r[3])
            for r in main_function(result.module).memory_regions}


def test_regions_are_planned_apart_and_exact(tmp_path: Path) -> None:
    path = shared_model(KWS)
    result = compile_model(path, tmp_path / "out", memory_regions=REGIONS)
    fn = main_function(result.module)
    regions = _regions(result)
    assert list(regions) == ["dtcm", "sram"]
    assert fn.arena_bytes == sum(used for _, used, _ in regions.values())
    allocs = [op for op in fn.block.ops if isinstance(op, buf.AllocOp)]
    for name, (capacity, used, _) in regions.items():
        members = [a for a in allocs if a.region == name]
        assert members, name
        assert max(a.offset + a.size for a in members) <= used <= capacity
    # the hottest buffer per byte, the model input read by the first convolution, is in
    # the first region; the big overlap chain did not fit there
    inputs = buf.model_inputs(fn.block.ops)
    assert buf.root_and_offset(inputs[0])[0].region == "dtcm"
    header = (tmp_path / "out" / "model.h").read_text()
    source = (tmp_path / "out" / "model.cpp").read_text()
    for name, (_, used, section) in regions.items():
        assert f"#define MODEL_{name.upper()}_BYTES {used}\n" in header
        assert f'#define MODEL_{name.upper()}_SECTION "{section}"\n' in header
        assert re.search(rf"uint8_t arena_{name}\[.*\] __attribute__\(\(section\(\"{section}\"\)\)\);",
                         source)
    assert f"#define MODEL_ARENA_BYTES {fn.arena_bytes}\n" in header


def test_regions_are_bit_exact_with_tflite_micro(tmp_path: Path) -> None:
    """Built for the host by the e2e harness (which also runs the IR-level plan checker),
    the same outputs as TFLite Micro on seeded inputs."""
    path = shared_model(KWS)
    pipeline = with_memory_regions(pipeline_for(2, "reference", "host"), REGIONS)
    compiled = compile_and_build(path, tmp_path, pipeline=pipeline)
    assert main_function(compiled.module).memory_regions
    rng = np.random.default_rng(3)
    samples = [random_inputs(path.read_bytes(), rng) for _ in range(8)]
    oracle = TflmRunner(path.read_bytes())
    for sample, got in zip(samples, compiled.run(samples)):
        for g, w in zip(got, oracle.run(sample)):
            assert np.array_equal(g, w)


def test_a_model_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run([*CLI, "compile", str(shared_model(KWS)), "-o", str(out),
                           "--memory-region", "dtcm:4096", "--memory-region", "sram:4000"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not fit the memory regions (dtcm:4096;sram:4000" in lines[0]
    assert "fits in no memory region" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("region,message", [
    ("dtcm", "expected NAME:BYTES"), ("dtcm:4k", "positive number of bytes"),
    ("x-y:16", "the name must be"),
])
def test_malformed_regions_are_refused_in_one_line(region: str, message: str,
                                                   tmp_path: Path) -> None:
    proc = subprocess.run([*CLI, "compile", str(shared_model(KWS)), "-o", str(tmp_path / "o"),
                           "--memory-region", region], capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_regions_in_distinct_sections_on_cortex_m4(tmp_path: Path) -> None:
    """Cross-compiled, each region's array is alone in its own linker section of exactly
    its size; the firmware (whose linker script maps .bss.* to RAM) runs on QEMU and
    matches TFLite Micro."""
    from utc.codegen import cortex_m

    from tests.e2e.test_cortex_m import _spec, io_specs, lcg_inputs

    path = shared_model(KWS)
    out = tmp_path / "out"
    result = compile_model(path, out, name="model", kernels="reference", target="cortex-m4",
                           memory_regions=REGIONS)
    regions = _regions(result)
    gxx = shutil.which("arm-none-eabi-g++")
    assert gxx, "arm-none-eabi-g++ is needed (the Cortex-M tests install it in CI)"
    obj = tmp_path / "model.o"
    subprocess.run([gxx, "-mcpu=cortex-m4", "-mthumb", "-Os", "-fno-exceptions", "-fno-rtti",
                    "-I", str(out), "-c", str(out / "model.cpp"), "-o", str(obj)], check=True)
    table = subprocess.run(["arm-none-eabi-objdump", "-h", str(obj)], capture_output=True,
                           text=True, check=True).stdout
    sizes = {m[1]: int(m[2], 16) for m in re.finditer(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s", table,
                                                         re.M)}
    for _, used, section in regions.values():
        assert sizes.get(section) == used, (section, sizes)
    ins, outs = io_specs(result.module)
    fw = cortex_m.build_firmware(out, "model", "cortex-m4", tmp_path / "build",
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    run = cortex_m.run_firmware(fw)
    assert run.status == 0
    want = TflmRunner(path.read_bytes()).run(lcg_inputs(ins))
    for got, w in zip(run.outputs, want):
        assert got == np.ascontiguousarray(w).tobytes()
