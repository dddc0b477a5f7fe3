"""utc's code on emulated Cortex-M4 (DSP path) and Cortex-M55 (Helium path), bit-exact with
TFLite Micro.

Every int8 shared model is compiled for the target with each kernel choice, cross-built
into firmware (arm-none-eabi-gcc, TFLite Micro's default flags) and run on QEMU. Its
outputs on the benchmark input (the LCG of ../shared/anchors/tflm-cortex-m4.json) must
equal TFLite Micro's interpreter's on the same input, and on Cortex-M4 their FNV-1a hash
must equal the one TFLite Micro itself printed on the same emulated board. Needs the
Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi,
libstdc++-arm-none-eabi-newlib and qemu-system-arm (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from utc.codegen import cortex_m
from utc.compiler.driver import compile_model
from utc.compiler.driver.cli import io_specs
from utc.compiler.errors import UtcError

from tests.conftest import REPO, cmsis_nn_root, shared_model
from tests.e2e.test_real_models import INT8_MODELS
from tests.oracle import TflmRunner

ANCHORS = REPO.parent / "shared" / "anchors" / "tflm-cortex-m4.json"


def lcg_inputs(specs) -> list[np.ndarray]:
    """The anchors' input rule: x = x * 1664525 + 1013904223 from 12345, advanced before
    each input byte (uint8 of x >> 24); float inputs take (int8)(x >> 24) / 16 per element."""
    x = 12345
    arrays = []
    for shape, dtype in specs:
        count = int(np.prod(shape))
        values = []
        for _ in range(count * (1 if np.dtype(dtype) == np.float32 else np.dtype(dtype).itemsize)):
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            values.append(x >> 24)
        if np.dtype(dtype) == np.float32:
            arrays.append((np.array(values, np.uint8).view(np.int8).astype(np.float32) / 16)
                          .reshape(shape))
        else:
            arrays.append(np.array(values, np.uint8).view(dtype).reshape(shape))
    return arrays


def _spec(specs) -> list[dict]:
    return [{"bytes": int(np.prod(s)) * np.dtype(d).itemsize, "dtype": np.dtype(d).name}
            for s, d in specs]


def _anchor_hash(name: str) -> str | None:
    if not ANCHORS.is_file():
        return None
    models = json.loads(ANCHORS.read_text())["models"]
    entry = models.get(name.removesuffix(".tflite"), {}).get("default-mix", {})
    return entry.get("reference", {}).get("output_fnv1a")


def run_on_qemu(path: Path, target: str, kernels: str, work: Path):
    out = work / "out"
    result = compile_model(path, out, name="model", kernels=kernels, target=target)
    ins, outs = io_specs(result.module)
    fw = cortex_m.build_firmware(out, "model", target, work / "build",
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    return result, ins, outs, cortex_m.run_firmware(fw)


@pytest.mark.slow
@pytest.mark.parametrize("target,kernels", [("cortex-m4", "reference"), ("cortex-m4", "auto"),
                                            ("cortex-m4", "cmsis-nn"), ("cortex-m55", "auto"),
                                            ("cortex-m55", "cmsis-nn")])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_bit_exact_on_qemu(name: str, target: str, kernels: str,
                                      tmp_path: Path) -> None:
    if kernels != "reference":
        cmsis_nn_root()
    path = shared_model(name)
    result, ins, outs, run = run_on_qemu(path, target, kernels, tmp_path)
    assert run.status == 0 and run.instructions > 0
    want = TflmRunner(path.read_bytes()).run(lcg_inputs(ins))
    for k, (got, w) in enumerate(zip(run.outputs, want)):
        assert got == np.ascontiguousarray(w).tobytes(), f"{name} output {k} on {target}"
    anchor = _anchor_hash(name)
    if anchor is not None:  # TFLite Micro's own hash on emulated Cortex-M4
        assert run.fnv1a == anchor


@pytest.mark.slow
def test_profile_counts_every_layer(tmp_path: Path) -> None:
    path = shared_model("mlperf_kws_dscnn_int8.tflite")
    out = tmp_path / "out"
    result = compile_model(path, out, name="model", kernels="reference", target="cortex-m4")
    ins, outs = io_specs(result.module)
    fw = cortex_m.build_firmware(out, "model", "cortex-m4", tmp_path / "build", profile=True,
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    run = cortex_m.run_firmware(fw, profile=True)
    calls = len(re.findall(r"UTC_LAYER_BEGIN\(\d+\);", (out / "model.cpp").read_text()))
    assert len(run.layers) == calls and all(n > 0 for n in run.layers)
    # the inference region encloses the layers' (the plugin counts nested pairs apart)
    assert run.instructions > sum(run.layers)


def test_map_file_attribution() -> None:
    text = """Discarded input sections
 .text.unused   0x00000000       0x40 /b/model.o
Linker script and memory map
 .text.model_run
                0x00000100      0x120 /b/model.o
 .rodata.model_w_conv_filter
                0x00000220      0x200 /b/model_weights.o
 .text.arm_convolve_s8
                0x00000420       0x80 /c/libcmsis-nn.a(arm_convolve_s8.o)
 .text.utc_conv2d_s8
                0x000004a0       0x60 /b/utc_conv2d_s8.o
 .text.printf   0x00000500       0x90 /usr/lib/libc_nano.a(printf.o)
"""
    sizes = cortex_m.section_sizes(text)
    assert sizes["/b/model.o"] == 0x120  # the discarded 0x40 is not counted
    assert sizes["/b/model_weights.o"] == 0x200
    counted = {o for o in sizes if cortex_m._counts_as_code(o, "model")}
    assert counted == {"/b/model.o", "/c/libcmsis-nn.a(arm_convolve_s8.o)", "/b/utc_conv2d_s8.o"}


def test_lcg_matches_the_anchor_rule() -> None:
    (x,) = lcg_inputs([((3,), np.int8)])
    state, want = 12345, []
    for _ in range(3):
        state = (state * 1664525 + 1013904223) % 2**32
        want.append(state >> 24)
    assert x.view(np.uint8).tolist() == want


def test_missing_cross_compiler_is_one_clear_line(tmp_path: Path) -> None:
    model = REPO / "examples" / "sine_int8.tflite"
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "run", str(model),
                           "--target", "cortex-m4", "--kernels", "reference"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "gcc-arm-none-eabi" in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_generated_folder_builds_with_cmake_and_its_toolchain_file(tmp_path: Path) -> None:
    """What a firmware project does with the folder: CMake with the generated
    arm-none-eabi toolchain file, CMSIS-NN from CMSIS_NN_PATH."""
    cmsis_nn_root()
    out = tmp_path / "out"
    compile_model(shared_model("mlperf_kws_dscnn_int8.tflite"), out, name="kws",
                  kernels="cmsis-nn", target="cortex-m55")
    assert "-mcpu=cortex-m55" in (out / "arm-none-eabi.cmake").read_text()
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(out), "-B", str(build),
                    f"-DCMAKE_TOOLCHAIN_FILE={out / 'arm-none-eabi.cmake'}"],
                   check=True, capture_output=True)
    proc = subprocess.run(["cmake", "--build", str(build), "-j", "2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(build / "libkws.a")],
                           capture_output=True, text=True, check=True).stdout
    assert 'Tag_CPU_name: "cortex-m55"' in attrs


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["reference", "cmsis-nn"])
@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_convolution_variants_on_cortex_m4(op: str, kernels: str, tmp_path: Path) -> None:
    """The operator sweep's convolution cases (odd channel counts, strides, dilations,
    padding, batches) on the DSP path: utc's SMLAD inner loops and CMSIS-NN's."""
    if kernels != "reference":
        cmsis_nn_root()
    from tests.e2e import test_ops as ops
    from tests.e2e.op_models import conv_like

    for i, case in enumerate(sorted(ops.CONV_CASES)):
        x, (kh, kw), n, stride, dilation, padding = ops.CONV_CASES[case]
        oh = ops._out_size(x[1], kh, stride[0], dilation[0], padding)
        ow = ops._out_size(x[2], kw, stride[1], dilation[1], padding)
        channels = n if op == "CONV_2D" else x[3] * (1 + n % 3)
        w_shape = [channels, kh, kw, x[3]] if op == "CONV_2D" else [1, kh, kw, channels]
        opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1],
                "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]}
        model = conv_like(op, x, w_shape, [x[0], oh, ow, channels], opts, True,
                          ops._rng(op, case, "int8"))
        path = tmp_path / f"{i}.tflite"
        path.write_bytes(model)
        _, ins, _, run = run_on_qemu(path, "cortex-m4", kernels, tmp_path / str(i))
        want = TflmRunner(model).run(lcg_inputs(ins))
        assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want], case


def _sharing_models() -> dict[str, tuple[bytes, str]]:
    """Single-op models whose only input dies at the op, so the planner overlaps (conv)
    or aliases (mul) it with the output: the memory sharing CMSIS-NN's records allow."""
    from tests.e2e import test_ops as ops
    from tests.e2e.op_models import conv_like

    conv = conv_like("CONV_2D", [1, 9, 7, 6], [6, 3, 3, 6], [1, 9, 7, 6],
                     {"padding": "SAME"}, True, ops._rng("sharing", "conv"))
    # MUL of an ADD's result, which dies there (model inputs are never reused in place)
    from tests.e2e.op_models import tensor
    from tests.tflite_writer import ModelBuilder

    b = ModelBuilder("sharing: mul in place")
    x0, x1 = (tensor(b, f"x{k}", [2, 5, 7], q) for k, q in enumerate([(0.05, -3), (0.04, 2)]))
    s = tensor(b, "s", [2, 5, 7], (0.08, 0))
    y = tensor(b, "y", [2, 5, 7], (0.02, 1))
    b.add_operator("ADD", [x0, x1], [s], {"fused_activation_function": "NONE"})
    b.add_operator("MUL", [s, x1], [y], {"fused_activation_function": "NONE"})
    mul = b.build([x0, x1], [y])
    return {"conv": (conv, ["arm_convolve_s8"]),
            "mul": (mul, ["arm_elementwise_add_s8", "arm_elementwise_mul_s8"])}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["host", "cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("case", ["conv", "mul"])
def test_cmsis_nn_memory_sharing_is_bit_exact(case: str, target: str, tmp_path: Path) -> None:
    """arm_convolve_s8 overlapping its dying input and arm_elementwise_mul_s8 running in
    place, on the generic (host), DSP (M4) and MVE (M55) paths, against TFLite Micro."""
    from utc.compiler.driver import sharing_ops

    cmsis_nn_root()
    model, kernels = _sharing_models()[case]
    path = tmp_path / f"{case}.tflite"
    path.write_bytes(model)
    result = compile_model(path, tmp_path / "plan", name="model", kernels="cmsis-nn",
                           target=target)
    calls = [op for op in result.module.walk() if op.name == "buf.call"]
    assert [c.attrs["callee"] for c in calls] == kernels
    assert sharing_ops(result.module), "the planner did not share memory here"
    if target == "host":
        from tests.e2e.harness import compile_and_build
        from tests.oracle import random_inputs

        compiled = compile_and_build(path, tmp_path / "host", kernels="cmsis-nn")
        rng = np.random.default_rng(3)
        samples = [random_inputs(model, rng) for _ in range(20)]
        oracle = TflmRunner(model)
        for sample, got in zip(samples, compiled.run(samples)):
            assert all(np.array_equal(g, w) for g, w in zip(got, oracle.run(sample)))
        return
    _, ins, _, run = run_on_qemu(path, target, "cmsis-nn", tmp_path / "qemu")
    want = TflmRunner(model).run(lcg_inputs(ins))
    assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]


@pytest.mark.slow
@pytest.mark.parametrize("target,kernels", [("cortex-m4", "reference"), ("cortex-m55", "cmsis-nn")])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_given_inputs_are_bit_exact_on_qemu(name: str, target: str, kernels: str,
                                            tmp_path: Path) -> None:
    """Seeded random inputs embedded in the firmware (the path `utc run --input` takes),
    not the benchmark LCG: outputs equal TFLite Micro's interpreter's on the same arrays."""
    from tests.oracle import random_inputs

    if kernels != "reference":
        cmsis_nn_root()
    path = shared_model(name)
    model = path.read_bytes()
    out = tmp_path / "out"
    result = compile_model(path, out, name="model", kernels=kernels, target=target)
    ins, outs = io_specs(result.module)
    inputs = random_inputs(model, np.random.default_rng(20260))
    fw = cortex_m.build_firmware(out, "model", target, tmp_path / "build",
                                 inputs=[np.ascontiguousarray(x).tobytes() for x in inputs],
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    run = cortex_m.run_firmware(fw)
    want = TflmRunner(model).run(inputs)
    assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]


def _fits_or_refused(path: Path, target: str, kernels: str, work: Path):
    """Run on a board with little memory: either it fits, or the link says so in one line."""
    try:
        return run_on_qemu(path, target, kernels, work)
    except UtcError as exc:
        assert re.fullmatch(rf"the firmware does not fit {target}'s board \(QEMU \S+\): its "
                            r"(code and constants|RAM \(data, arena and a 1 KiB stack reserve\)) "
                            r"need [\d,]+ bytes more than the \d+ KiB there", str(exc)), exc
        return None


@pytest.mark.slow
@pytest.mark.parametrize("target,kernels", [("cortex-m0", "reference"), ("cortex-m0", "cmsis-nn"),
                                            ("cortex-m33", "reference"), ("cortex-m33", "cmsis-nn")])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_on_cortex_m0_and_m33(name: str, target: str, kernels: str,
                                         tmp_path: Path) -> None:
    """Armv6-M (generic C, no unaligned access, 16 KiB of RAM on QEMU's micro:bit) and
    Armv8-M Mainline (DSP, TrustZone's Secure state on AN505): bit-exact where it fits."""
    if kernels != "reference":
        cmsis_nn_root()
    path = shared_model(name)
    ran = _fits_or_refused(path, target, kernels, tmp_path)
    if ran is None:
        assert target == "cortex-m0" and name not in ("hello_world_int8.tflite",
                                                      "micro_speech_quantized.tflite")
        return
    _, ins, _, run = ran
    want = TflmRunner(path.read_bytes()).run(lcg_inputs(ins))
    assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want]


def _bare_firmware(source: str, target: str, work: Path) -> Path:
    """A C main linked with utc's start-up, semihosting and the board's linker script."""
    from utc.codegen.targets import linker_memory
    from utc.codegen.targets import target as find_target

    t = find_target(target)
    work.mkdir(parents=True, exist_ok=True)
    (work / "main.c").write_text(source)
    (work / "board.ld").write_text(linker_memory(t.require_board())
                                   + (cortex_m.FIRMWARE / "cortex_m.ld").read_text())
    elf = work / "test.elf"
    subprocess.run(["arm-none-eabi-gcc", *t.cpu_flags, "-O2", str(work / "main.c"),
                    str(cortex_m.FIRMWARE / "startup.c"), str(cortex_m.FIRMWARE / "semihost.c"),
                    f"-T{work / 'board.ld'}", "-nostartfiles", "--specs=nano.specs",
                    "--specs=nosys.specs", "-o", str(elf)], check=True)
    return elf


MARKERS = """
#define MARK(f) __attribute__((noinline)) void f(void) { __asm__ volatile("" ::: "memory"); }
MARK(outer_begin) MARK(outer_end) MARK(inner_begin) MARK(inner_end)
"""


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4", "cortex-m33", "cortex-m55"])
def test_plugin_counts_nested_regions_exactly(target: str, tmp_path: Path) -> None:
    elf = _bare_firmware(MARKERS + """
int main(void) {
  outer_begin();
  inner_begin(); __asm__ volatile(".rept 1000\\n nop\\n .endr"); inner_end();
  inner_begin(); __asm__ volatile(".rept 10\\n nop\\n .endr"); inner_end();
  outer_end();
  return 0;
}
""", target, tmp_path)
    _, (outer, inner) = cortex_m.run_qemu(elf, target, [("outer_begin", "outer_end"),
                                                        ("inner_begin", "inner_end")])
    assert len(outer) == 1 and len(inner) == 2
    assert inner[0] - inner[1] == 990  # exactly the extra nops
    assert outer[0] > inner[0] + inner[1]


@pytest.mark.slow
def test_fault_and_hang_are_one_clear_error(tmp_path: Path) -> None:
    elf = _bare_firmware('int main(void) { __asm__ volatile("udf #0"); return 0; }\n',
                         "cortex-m4", tmp_path / "fault")
    with pytest.raises(UtcError, match=r"faulted \(exception 3\) on QEMU mps2-an386: fault: "
                                       r"exception 00000003"):
        cortex_m.run_qemu(elf, "cortex-m4")
    elf = _bare_firmware("int main(void) { for (;;) {} }\n", "cortex-m4", tmp_path / "hang")
    with pytest.raises(UtcError, match=r"QEMU mps2-an386 did not finish within 2 s"):
        cortex_m.run_qemu(elf, "cortex-m4", timeout=2)


@pytest.mark.slow
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_cmsis_nn_on_cortex_m4(state16: bool, tmp_path: Path) -> None:
    """arm_svdf_s8 / arm_svdf_state_s16_s8 on the DSP path (their SMLAD time stage), 8
    consecutive invocations of the firmware against one un-reset TFLite Micro
    interpreter (`utc verify`). `auto` keeps utc's kernel in this one-layer model: the
    two int32 scratch buffers CMSIS-NN needs would raise the arena above the reference
    kernels' (which need none), and the report says so."""
    from tests.e2e.test_rnn import svdf_model

    cmsis_nn_root()
    model = svdf_model("int8", 2, 5, 3, 2, 8, state16=state16, seed=1, state_zp=0)
    path = tmp_path / "svdf.tflite"
    path.write_bytes(model)
    kernel = "arm_svdf_state_s16_s8" if state16 else "arm_svdf_s8"
    auto = compile_model(path, tmp_path / "auto", name="model", kernels="auto",
                         target="cortex-m4")
    calls = [op for op in auto.module.walk() if op.name == "buf.call"]
    assert [c.attrs["callee"] for c in calls] == [kernel.replace("arm_svdf", "utc_svdf")
                                                  .replace("_s16_s8", "16_s8")]
    assert f"{kernel}'s scratch buffer would raise the arena" in calls[0].attrs["kernel_note"]
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--target", "cortex-m4", "--kernels", "cmsis-nn", "--samples", "8"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8/8 samples and 48/48 elements bit-exact" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("state16", [False, True], ids=["state8", "state16"])
def test_svdf_cmsis_nn_on_cortex_m55(state16: bool, tmp_path: Path) -> None:
    """arm_svdf_s8 / arm_svdf_state_s16_s8 on the Helium path, 8 consecutive invocations
    against TFLite Micro; arm_svdf_s8 reads fold-zero-point's kernel sums from flash
    (more shapes and ranks: tests/e2e/test_cmsis_nn_svdf_m55.py)."""
    from tests.e2e.test_rnn import svdf_model

    cmsis_nn_root()
    path = tmp_path / "svdf.tflite"
    path.write_bytes(svdf_model("int8", 2, 5, 3, 2, 8, state16=state16, seed=1, state_zp=0))
    result = compile_model(path, tmp_path / "m", name="model", kernels="cmsis-nn",
                           target="cortex-m55")
    calls = [op for op in result.module.walk() if op.name == "buf.call"]
    assert [c.attrs["callee"] for c in calls] == \
        ["arm_svdf_state_s16_s8" if state16 else "arm_svdf_s8"]
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--target", "cortex-m55", "--kernels", "cmsis-nn", "--samples", "8"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8/8 samples and 48/48 elements bit-exact" in proc.stdout + proc.stderr
