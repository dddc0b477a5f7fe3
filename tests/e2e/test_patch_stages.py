"""End to end for `patch-stages` (patch-based execution, `--memory=min`): writer-built
int8 chains (SAME and VALID padding, strides 1 and 2, dilation, pooling, expanding and
shrinking channels) and the shared VWW MobileNet, compiled with their first layers run
tile by tile, built, run on seeded random inputs and compared with TFLite Micro
(bit-exact). The IR-level plan checker runs inside `compile_and_build`; here it must
also catch a corrupted tile plan (the split tensor moved onto input rows a later tile
still reads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import PIPELINES, compile_model, with_patching
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.patch_stages import total_instructions
from utc.passes.planning.verify_ir import verify_memory_plan

from tests.conftest import cmsis_nn_root, shared_model
from tests.e2e.harness import compile_and_build
from tests.e2e.test_overlap import Chain
from tests.oracle import TflmRunner, random_inputs

SAMPLES = 6
VWW_NAME = "mlperf_vww_mobilenet_int8.tflite"


def patched(layers: int = 0, rows: int = 0) -> str:
    """-O2 with patch-stages, fixed to a stage when `layers` and `rows` are given."""
    text = with_patching(PIPELINES[2])
    if layers:
        text = text.replace("patch-stages", f"patch-stages{{layers={layers},rows={rows}}}")
    return text


def compare(model: bytes, tmp_path: Path, pipeline: str, seed: int = 5,
            kernels: str = "reference"):
    """Compile with `pipeline`, build, run, compare with TFLite Micro bit for bit."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    compiled = compile_and_build(path, tmp_path, pipeline=pipeline, kernels=kernels)
    rng = np.random.default_rng(seed)
    batch = [random_inputs(model, rng) for _ in range(SAMPLES)]
    oracle = TflmRunner(model)
    for i, (sample, got) in enumerate(zip(batch, compiled.run(batch))):
        for k, (g, w) in enumerate(zip(got, oracle.run(sample))):
            assert np.array_equal(g, w), f"sample {i} output {k}: {int(np.sum(g != w))} differ"
    return compiled.module


def tile_calls(module) -> list[buf.CallOp]:
    fn = main_function(module)
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp) and "tile" in op.attrs]


def chain_a() -> bytes:
    """SAME convs at stride 1 and 2, a 1x1 expansion, max pooling; odd sizes."""
    return (Chain(True, [1, 21, 17, 3], seed=1).conv(8, 3, 1).conv(1, 3, 2, depthwise=True)
            .conv(16, 1).pool("max", 2, 2, False).conv(8, 3, 1).build())


def chain_b() -> bytes:
    """VALID and SAME, a 5x5 stride-2 VALID conv, a dilated depthwise, average pooling."""
    return (Chain(True, [1, 27, 14, 4], seed=2).conv(6, 5, 2, same=False)
            .conv(1, 3, 1, dilation=2, depthwise=True).pool("avg", 3, 1, True)
            .conv(12, 3, 2, same=False).conv(4, 1).build())


class Residual(Chain):
    """A `Chain` with branches: `mark()` remembers the current tensor, `branch(mark)`
    continues from a remembered one, `add(mark)` adds it to the current one (ADD)."""

    def mark(self) -> tuple[int, list[int], float]:
        return self.last, list(self.shape), self.scale

    def branch(self, mark) -> Residual:
        self.last, self.shape, self.scale = mark[0], list(mark[1]), mark[2]
        return self

    def add(self, mark, act: str = "RELU") -> Residual:
        t, shape, scale = mark
        assert shape == self.shape
        out_scale = scale + self.scale
        y = self._act(self.shape, out_scale, -5)
        self.b.add_operator("ADD", [t, self.last], [y], {"fused_activation_function": act})
        self.last, self.scale = y, out_scale
        return self


def residual() -> bytes:
    """ResNet-8's first two blocks at odd sizes: a 3x3 conv, a block of two 3x3 convs
    added to its input, a block of a 3x3/2 and a 3x3 conv added to a 1x1/2 shortcut conv
    of the block input, then a 3x3/2 conv (outside any stage: it reads the split tensor)."""
    r = Residual(True, [1, 23, 13, 3], seed=11).conv(8, 3, 1)
    x0 = r.mark()
    r.conv(8, 3, 1).conv(8, 3, 1, act="NONE").add(x0)
    x1 = r.mark()
    r.conv(12, 3, 2).conv(12, 3, 1, act="NONE")
    main = r.mark()
    r.branch(x1).conv(12, 1, 2, act="NONE").add(main)
    return r.conv(4, 3, 2).build()


def _steps_compute_every_row_once(module) -> dict[tuple, int]:
    """Per stage layer (by its source), the rows its step calls compute add up to at most
    its output's (each row once), and every step count is the stage's."""
    fn = main_function(module)
    tiles = fn.patch_stage[2]
    calls = tile_calls(module)
    assert {c.attrs["tile"] for c in calls} == {(t, tiles) for t in range(tiles)}
    rows: dict[tuple, int] = {}
    for c in calls:
        if c.callee != "utc_move":
            key = tuple(c.location.sources)
            rows[key] = rows.get(key, 0) + c.outputs[0].type.shape[1]
    assert len(rows) == fn.patch_stage[0]
    return rows


@pytest.mark.parametrize("model, layers, rows", [
    (chain_a, 1, 2), (chain_a, 2, 1), (chain_a, 3, 2), (chain_a, 4, 1), (chain_a, 4, 3),
    (chain_b, 2, 1), (chain_b, 3, 4), (chain_b, 4, 1), (chain_b, 4, 2), (chain_b, 4, 50),
    (residual, 1, 3), (residual, 4, 1), (residual, 4, 5), (residual, 8, 1), (residual, 8, 2),
    (residual, 8, 5),
])
def test_fixed_stage_bit_exact(model, layers: int, rows: int, tmp_path: Path) -> None:
    data = model()
    module = compare(data, tmp_path, patched(layers, rows))
    fn = main_function(module)
    assert fn.patch_stage[:2] == (layers, rows)
    assert verify_memory_plan(module) == []
    per_layer = _steps_compute_every_row_once(module)
    plain = compile_model(_write(tmp_path / "plain.tflite", data), tmp_path / "plain").module
    heights = {tuple(c.location.sources): c.outputs[0].type.shape[1]
               for c in main_function(plain).block.ops if isinstance(c, buf.CallOp)}
    assert all(n <= heights[k] for k, n in per_layer.items())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("layers", [2, 3, 5, 6, 7])
def test_a_stage_must_be_a_cut(layers: int, tmp_path: Path) -> None:
    """A prefix of the residual model whose tensors are read after it (x0 by the first
    addition, x1 by the shortcut) is refused with the cuts there are."""
    from utc.compiler.errors import CompileError

    path = _write(tmp_path / "m.tflite", residual())
    with pytest.raises(CompileError, match=r"is not a cut .* \(cuts: 1, 4, 8\)"):
        compile_model(path, tmp_path / "out", pipeline=patched(layers, 1))


def test_residual_search_patches_the_dag(tmp_path: Path) -> None:
    """The search picks the stage through both residual blocks: smaller arena, within the
    budget, moves of kept rows, bit-exact."""
    data = residual()
    plain = compare(data, tmp_path / "plain", PIPELINES[2])
    module = compare(data, tmp_path / "patched", patched())
    fn, base = main_function(module), main_function(plain)
    assert fn.patch_stage is not None and fn.patch_stage[0] == 8
    assert fn.arena_bytes < base.arena_bytes
    assert total_instructions(fn) <= 1.15 * total_instructions(base)
    assert any(c.callee == "utc_move" for c in tile_calls(module))


@pytest.mark.parametrize("layers, rows", [(3, 1), (3, 2), (2, 3)])
def test_cmsis_nn_depthwise_tiles_bit_exact(layers: int, rows: int, tmp_path: Path) -> None:
    """CMSIS-NN's 3x3 depthwise convolution (its portable C path, as the host builds it)
    tiled: stride 1 and 2, the tiles' padding at most the layer's."""
    cmsis_nn_root()  # skips visibly when CMSIS-NN is absent
    data = (Chain(True, [1, 19, 14, 8], seed=6).conv(1, 3, 1, depthwise=True)
            .conv(1, 3, 2, depthwise=True).conv(1, 3, 1, depthwise=True).conv(8, 1).build())
    text = patched(layers, rows).replace("select-kernels", "select-kernels{kernels=cmsis-nn}")
    module = compare(data, tmp_path, text, kernels="cmsis-nn")
    calls = tile_calls(module)
    assert calls and {c.callee for c in calls} == {"arm_depthwise_conv_3x3_s8", "utc_move"}
    _steps_compute_every_row_once(module)


def test_search_lowers_the_arena_within_budget(tmp_path: Path) -> None:
    """The search only patches where the arena drops, within the instruction budget."""
    data = (Chain(True, [1, 40, 40, 3], seed=3).conv(16, 3, 2).conv(1, 3, 1, depthwise=True)
            .conv(32, 1).conv(1, 3, 2, depthwise=True).conv(16, 1).conv(8, 3, 2).build())
    plain = compare(data, tmp_path / "plain", PIPELINES[2])
    module = compare(data, tmp_path / "patched", patched())
    fn, base = main_function(module), main_function(plain)
    assert fn.patch_stage is not None and tile_calls(module)
    assert fn.arena_bytes < base.arena_bytes

    def cost(m) -> float:
        return total_instructions(main_function(m))

    assert cost(module) <= 1.15 * cost(plain)
    tight = compare(data, tmp_path / "tight", patched().replace(
        "patch-stages", "patch-stages{max-recompute=0.02}"))
    assert cost(tight) <= 1.02 * cost(plain)
    assert main_function(tight).arena_bytes <= base.arena_bytes


@pytest.mark.parametrize("short", [None, 16])
def test_checker_catches_a_corrupted_tile_plan(short: int | None, tmp_path: Path) -> None:
    """Moving the input down onto the split tensor's first rows (`short` None), or only
    one alignment step less far above it than `input_overlap_bound` asks, makes a tile
    overwrite input rows a later tile still reads: the IR-level plan checker's dataflow
    check must say so."""
    path = tmp_path / "model.tflite"
    path.write_bytes(chain_a())
    result = compile_model(path, tmp_path / "out", pipeline=patched(3, 1))
    module = result.module
    assert verify_memory_plan(module) == []
    fn = main_function(module)
    x_view = next(op for op in fn.block.ops if isinstance(op, buf.ViewOp) and op.input == 0)
    split = next(op for op in fn.block.ops if isinstance(op, buf.ViewOp)
                 and op.source is x_view.source and op.input is None)
    assert x_view.offset > split.offset  # the split tensor starts below the input
    x_view.offset = split.offset if short is None else x_view.offset - short
    problems = verify_memory_plan(module)
    assert any("overwrote some of its bytes" in p for p in problems), problems


def test_vww_patched_bit_exact_and_smaller(tmp_path: Path) -> None:
    """VWW MobileNet with --memory=min: at most 32,768 B of arena (its 27,648-byte input
    must be held), at most 15% more estimated instructions, bit-exact with TFLite Micro."""
    vww = shared_model(VWW_NAME)
    data = vww.read_bytes()
    module = compare(data, tmp_path, patched())
    fn = main_function(module)
    assert fn.patch_stage is not None
    assert fn.arena_bytes <= 32768
    base = compile_model(vww, tmp_path / "plain")

    cost = total_instructions(fn)
    assert cost <= 1.15 * total_instructions(main_function(base.module))
    assert fn.arena_bytes < main_function(base.module).arena_bytes


def test_cli_memory_min_prints_the_pass(tmp_path: Path) -> None:
    """`--memory=min` puts patch-stages after bufferize, visible in the printed IR; a
    negative `--max-recompute` is one error line and writes nothing."""
    import subprocess
    import sys

    model = tmp_path / "m.tflite"
    model.write_bytes(Chain(True, [1, 40, 40, 3], seed=3).conv(16, 3, 2)
                       .conv(1, 3, 1, depthwise=True).conv(32, 1).conv(1, 3, 2, depthwise=True)
                       .conv(16, 1).conv(8, 3, 2).build())
    cli = [sys.executable, "-m", "utc.compiler.driver.cli"]
    proc = subprocess.run([*cli, "compile", str(model), "-o", str(tmp_path / "out"),
                           "--memory=min", "--print-ir-after", "patch-stages",
                           "--elide-resources"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    assert "IR Dump After patch-stages" in text
    assert "patch_stage = [" in text and "tile = [0, " in text
    bad = subprocess.run([*cli, "compile", str(model), "-o", str(tmp_path / "bad"),
                          "--memory=min", "--max-recompute=-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["utc: error: --max-recompute must be >= 0, got -1.0"]
    assert not (tmp_path / "bad").exists()


def test_vww_patched_every_layer_matches(tmp_path: Path) -> None:
    """`utc verify --per-layer`: the split tensor (compared once its last tile has written
    it) and every later layer of the tiled VWW are bit-exact with TFLite Micro's tensors,
    not just the two output values."""
    import subprocess
    import sys

    vww = shared_model(VWW_NAME)
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(vww),
                           "--memory=min", "--kernels", "reference", "--samples", "2",
                           "--per-layer"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is finished by step" in proc.stdout  # the split tensor, compared whole
    assert "utc verify: every layer (26) and output matches" in proc.stdout


@pytest.mark.parametrize("which", ["chain_b", "vww", "residual"])
def test_tiled_code_is_sanitizer_clean(which: str, tmp_path: Path) -> None:
    """Step views, band buffers and moves under AddressSanitizer and
    UndefinedBehaviorSanitizer (as tests/e2e/test_sanitizers.py builds the shared models):
    no access outside the arena, outputs still bit-exact."""
    from utc.codegen.host_build import decode_outputs

    from tests.e2e.test_sanitizers import _sanitized_run

    data = {"vww": lambda: shared_model(VWW_NAME).read_bytes(), "chain_b": chain_b,
            "residual": residual}[which]()
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    pipeline = {"vww": patched(), "chain_b": patched(4, 2), "residual": patched(8, 1)}[which]
    result = compile_model(path, tmp_path / "out", name="m", pipeline=pipeline)
    assert main_function(result.module).patch_stage is not None
    rng = np.random.default_rng(9)
    samples = [random_inputs(data, rng) for _ in range(3)]
    proc, outs = _sanitized_run(tmp_path / "out", tmp_path / "build", result.module, "-O1",
                                samples)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode(errors="replace")[:3000]
    oracle = TflmRunner(data)
    for sample, got in zip(samples, decode_outputs(proc.stdout, len(samples), outs)):
        for g, w in zip(got, oracle.run(sample)):
            assert np.array_equal(g, w)


def test_resnet8_patched_bit_exact_and_under_20k(tmp_path: Path) -> None:
    """ResNet-8 with --memory=min: its first two residual blocks (8 calls: two additions,
    a 1x1 stride-2 shortcut) run as one DAG stage with row caching, at most 20,000 B of
    arena, at most 15% more estimated instructions, bit-exact with TFLite Micro, the plan
    checker passing."""
    model = shared_model("mlperf_ic_resnet8_int8.tflite")
    module = compare(model.read_bytes(), tmp_path, patched())
    fn = main_function(module)
    assert fn.patch_stage is not None and fn.patch_stage[0] == 8
    assert fn.arena_bytes <= 20000
    assert verify_memory_plan(module) == []
    base = compile_model(model, tmp_path / "plain")
    assert total_instructions(fn) <= 1.15 * total_instructions(main_function(base.module))
    moves = [c for c in tile_calls(module) if c.callee == "utc_move"]
    assert moves and {c.callee for c in tile_calls(module)} == {
        "utc_conv2d_s8", "utc_add_s8", "utc_move"}


@pytest.mark.parametrize("corruption", ["drop a move", "read a stale generation"])
def test_checker_sees_the_moves(corruption: str, tmp_path: Path) -> None:
    """The kept rows a move carries into a band's new generation are what the next calls
    read: without the move, or reading through the previous generation (whose bytes the
    move and the new rows overwrote), the IR-level plan checker's dataflow check fails."""
    path = _write(tmp_path / "model.tflite", residual())
    module = compile_model(path, tmp_path / "out", pipeline=patched(8, 1)).module
    assert verify_memory_plan(module) == []
    fn = main_function(module)
    moves = [c for c in tile_calls(module) if c.callee == "utc_move" and c.attrs["tile"][0] > 1]
    move = moves[0]
    src, dst = move.inputs[0], move.outputs[0]
    old_gen, new_gen = src.op.source, dst.op.source
    if corruption == "drop a move":
        move.erase()
    else:  # the first later read of the new generation goes to the old one instead
        reader = next(op for op in fn.block.ops[fn.block.ops.index(move) + 1:]
                      if isinstance(op, buf.ViewOp) and op.source is new_gen
                      and op.result is not dst and any(isinstance(u, buf.CallOp) and
                                                       op.result in u.inputs
                                                       for u in op.result.users))
        reader.set_operand(0, old_gen)
        assert reader.source is old_gen
    problems = verify_memory_plan(module)
    assert any("overwrote some of its bytes" in p or "before all of its bytes" in p
               for p in problems), problems


def test_resnet8_patched_every_layer_matches(tmp_path: Path) -> None:
    """`utc verify --per-layer` on ResNet-8 with its DAG stage: the split tensor (compared
    once its last step has written it) and every later layer are bit-exact with TFLite
    Micro's tensors."""
    import subprocess
    import sys

    model = shared_model("mlperf_ic_resnet8_int8.tflite")
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(model),
                           "--memory=min", "--kernels", "reference", "--samples", "2",
                           "--per-layer"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is finished by step" in proc.stdout
    assert "utc verify: every layer (7) and output matches" in proc.stdout


@pytest.mark.parametrize("name, kernels", [("mlperf_ic_resnet8_int8.tflite", "reference"),
                                           (VWW_NAME, "auto")])
def test_stage_is_a_loop_and_costs_little_flash(name: str, kernels: str, tmp_path: Path) -> None:
    """A patch stage is emitted as one loop over a schedule table (codegen/patch_loop.py),
    not one call with its own constant struct per tile: model.cpp has no more call sites
    than the unpatched model's, and the Cortex-M4 code (the report's measurement: .text +
    .rodata of the generated code and kernels) is within 2,500 B of the unpatched (one
    call per tile cost ResNet-8 +25 KB); the arena is still the patched one."""
    from utc.compiler.driver.footprint import measure_footprint

    model = shared_model(name)
    plain = compile_model(model, tmp_path / "plain", name="m", kernels=kernels,
                          target="cortex-m4")
    tiled = compile_model(model, tmp_path / "tiled", name="m", kernels=kernels,
                          target="cortex-m4", memory="min")
    fn = main_function(tiled.module)
    assert fn.patch_stage is not None and len(tile_calls(tiled.module)) > 200
    assert fn.arena_bytes < main_function(plain.module).arena_bytes
    plain_cpp = (tmp_path / "plain" / "m.cpp").read_text()
    tiled_cpp = (tmp_path / "tiled" / "m.cpp").read_text()
    assert tiled_cpp.count("patch stage: steps") == 1
    assert tiled_cpp.count("UTC_LAYER_BEGIN(") <= plain_cpp.count("UTC_LAYER_BEGIN(")
    sizes = [measure_footprint(r.compilation).code_bytes for r in (plain, tiled)]
    assert None not in sizes, measure_footprint(tiled.compilation).code_note
    assert sizes[1] <= sizes[0] + 2500, sizes


def test_residual_stage_loop_builds_for_cortex_m(tmp_path: Path) -> None:
    """The writer-built residual model's stage loop (two additions, a strided shortcut)
    compiles for arm-none-eabi with -Wall -Wextra -Werror (the host build of every e2e
    test already uses them)."""
    import shutil
    import subprocess

    if shutil.which("arm-none-eabi-g++") is None:
        pytest.fail("arm-none-eabi-g++ is not installed (.ci/run installs it)")
    path = tmp_path / "model.tflite"
    path.write_bytes(residual())
    result = compile_model(path, tmp_path / "out", name="m", pipeline=patched(8, 1))
    assert main_function(result.module).patch_stage is not None
    cpp = (tmp_path / "out" / "m.cpp").read_text()
    assert cpp.count("patch stage: steps") == 1 and "for (unsigned i = 0;" in cpp
    subprocess.run(["arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c++11",
                    "-Wall", "-Wextra", "-Werror", "-fno-exceptions", "-fno-rtti", "-c",
                    str(tmp_path / "out" / "m.cpp"), "-o", str(tmp_path / "m.o"),
                    f"-I{tmp_path / 'out'}"], check=True)
