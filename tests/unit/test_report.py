"""The compile report (compiler/driver/report.py): per-layer rows, totals and the arena SVG.

A small float CNN (conv, depthwise, max pool, fully connected, softmax) built with the
test writer gives MAC counts that are checked against the hand computation; the int8
sine model and, when present, the real VWW MobileNet check the memory invariants
(live bytes within the arena, peak == the recorded lower bound) on planned modules.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model
from utc.compiler.driver.report import (
    KIND_COLORS,
    arena_buffers,
    format_report,
    layer_rows,
    macs,
    memory_svg,
    peak,
)
from utc.compiler.errors import CompileError
from utc.compiler.ir import Module
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import shared_model
from tests.models_builtin import sine_model_int8
from tests.tflite_writer import ModelBuilder

SVG = "{http://www.w3.org/2000/svg}"


def small_cnn() -> bytes:
    """x[1,8,8,3] -> conv 3x3 (4 ch, SAME, relu) -> depthwise 3x3 -> max pool 2x2/2 ->
    fully connected (10 units over 64) -> softmax."""
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    b = ModelBuilder("report test cnn")
    x = b.add_tensor("x", [1, 8, 8, 3], "float32")
    w = b.add_tensor("conv/w", [4, 3, 3, 3], "float32", data=f32(4, 3, 3, 3))
    bias = b.add_tensor("conv/b", [4], "float32", data=f32(4))
    y1 = b.add_tensor("conv/out", [1, 8, 8, 4], "float32")
    b.add_operator("CONV_2D", [x, w, bias], [y1],
                   {"padding": "SAME", "fused_activation_function": "RELU"})
    dw = b.add_tensor("dw/w", [1, 3, 3, 4], "float32", data=f32(1, 3, 3, 4))
    dwb = b.add_tensor("dw/b", [4], "float32", data=f32(4))
    y2 = b.add_tensor("dw/out", [1, 8, 8, 4], "float32")
    b.add_operator("DEPTHWISE_CONV_2D", [y1, dw, dwb], [y2], {"padding": "SAME"})
    y3 = b.add_tensor("pool/out", [1, 4, 4, 4], "float32")
    b.add_operator("MAX_POOL_2D", [y2], [y3], {"padding": "VALID", "stride_w": 2, "stride_h": 2,
                                              "filter_width": 2, "filter_height": 2})
    fw = b.add_tensor("fc/w", [10, 64], "float32", data=f32(10, 64))
    fb = b.add_tensor("fc/b", [10], "float32", data=f32(10))
    y4 = b.add_tensor("fc/out", [1, 10], "float32")
    b.add_operator("FULLY_CONNECTED", [y3, fw, fb], [y4])
    y5 = b.add_tensor("probs", [1, 10], "float32")
    b.add_operator("SOFTMAX", [y4], [y5], {"beta": 1.0})
    return b.build([x], [y5])


def _compile(tmp_path: Path, data: bytes, name: str = "m") -> Module:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    return compile_model(path, tmp_path / f"{name}_out").module


@pytest.fixture(scope="module")
def cnn(tmp_path_factory: pytest.TempPathFactory) -> Module:
    return _compile(tmp_path_factory.mktemp("cnn"), small_cnn(), "cnn")


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> Module:
    return _compile(tmp_path_factory.mktemp("sine"), sine_model_int8(), "sine")


def _check_memory_invariants(module: Module) -> None:
    fn = main_function(module)
    rows = layer_rows(module)
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    assert [r.step for r in rows] == list(range(len(calls)))
    assert all(r.live_bytes <= fn.attrs["arena_bytes"] for r in rows)
    assert max(r.live_bytes for r in rows) == fn.attrs["lower_bound"]
    step, bytes_ = peak(module)
    assert bytes_ == fn.attrs["lower_bound"] and rows[step].live_bytes == bytes_
    for b in arena_buffers(module):
        assert b.offset + b.size <= fn.attrs["arena_bytes"]


def test_cnn_macs_match_hand_computation(cnn: Module) -> None:
    rows = layer_rows(cnn)
    by_op = {r.op.rsplit(".", 1)[-1]: r for r in rows}
    assert by_op["conv2d"].macs == (8 * 8 * 4) * 3 * 3 * 3
    assert by_op["depthwise_conv2d"].macs == (8 * 8 * 4) * 3 * 3
    assert by_op["max_pool2d"].macs == (4 * 4 * 4) * 2 * 2
    assert by_op["fully_connected"].macs == 10 * 64
    assert by_op["softmax"].macs == 10
    assert by_op["fully_connected"].weight_bytes == (10 * 64 + 10) * 4
    assert by_op["conv2d"].weight_bytes == (4 * 27 + 4) * 4
    assert by_op["softmax"].weight_bytes == 0
    assert by_op["conv2d"].output_shapes == ((1, 8, 8, 4),)
    assert by_op["conv2d"].output_dtypes == ("f32",)
    assert "TFLite op #0" in by_op["conv2d"].location


def test_cnn_memory_invariants(cnn: Module) -> None:
    _check_memory_invariants(cnn)


def test_sine_int8_memory_invariants_and_fc_macs(sine: Module) -> None:
    _check_memory_invariants(sine)
    rows = layer_rows(sine)
    assert [r.kernel for r in rows] == ["utc_fully_connected_s8"] * 3
    assert [r.macs for r in rows] == [16 * 1, 16 * 16, 1 * 16]


def test_live_bytes_count_each_buffer_once(sine: Module) -> None:
    buffers = arena_buffers(sine)
    for r in layer_rows(sine):
        assert r.live_bytes == sum(b.used(r.step) for b in buffers)


def test_output_offsets_are_the_planned_offsets(cnn: Module) -> None:
    fn = main_function(cnn)
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    for row, call in zip(layer_rows(cnn), calls):
        out, offset = call.outputs[0], 0
        while isinstance(out.op, buf.ViewOp):  # an in-place output (softmax) is a view
            offset += out.op.attrs["offset"]
            out = out.op.operand("source")
        assert isinstance(out.op, buf.AllocOp)
        assert row.output_offsets == (out.op.attrs["offset"] + offset,)


def test_macs_come_from_the_kernel_record(cnn: Module) -> None:
    """The call's kernel record holds its cost; a kernel without a record (a plugin's)
    counts one operation per output element, so a report never breaks a compile."""
    fn = main_function(cnn)
    call = next(op for op in fn.block.ops if isinstance(op, buf.CallOp))
    saved = call.attrs["callee"]
    try:
        assert saved == "utc_conv2d_f32" and macs(call) == 8 * 8 * 4 * 3 * 3 * 3
        call.attrs["callee"] = "my_plugin_kernel"
        assert macs(call) == 8 * 8 * 4
    finally:
        call.attrs["callee"] = saved


def test_format_report_table_and_totals(cnn: Module) -> None:
    fn = main_function(cnn)
    text = format_report(cnn)
    for header in ("step", "operator", "kernel", "output shape", "MACs", "weights B", "live B",
                   "offset", "scratch B"):
        assert header in text
    assert "utc_conv2d_f32" in text and "utc_softmax_f32" in text
    total = sum(r.macs for r in layer_rows(cnn))
    assert f"total MACs          {total:,}" in text
    assert f"arena               {fn.attrs['arena_bytes']:,} B" in text
    assert f"lower bound         {fn.attrs['lower_bound']:,} B" in text
    step, _ = peak(cnn)
    assert f"step {step}," in text
    # every line of the table has the same layout: no ragged columns
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("step"))
    rules = [i for i, line in enumerate(lines) if line.startswith("----")]
    assert len(rules) == 2 and rules[0] == header + 1
    assert rules[1] - rules[0] - 1 == len(layer_rows(cnn))


def test_report_and_svg_are_deterministic(tmp_path: Path) -> None:
    a = _compile(tmp_path, small_cnn(), "a")
    b = _compile(tmp_path, small_cnn(), "b")
    assert format_report(a) == format_report(b)
    assert memory_svg(a).encode() == memory_svg(b).encode()
    assert memory_svg(a) == memory_svg(a)


def test_svg_is_valid_xml_with_one_rect_per_buffer(cnn: Module) -> None:
    """One rect per buffer, or, for a buffer holding views (an overlap chain), one per
    step that uses some of its bytes, as high as the bytes in use."""
    root = ET.fromstring(memory_svg(cnn))
    assert root.tag == f"{SVG}svg"
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "buf"]
    buffers = arena_buffers(cnn)
    expected = [(b, None) if not b.windows else (b, s)
                for b in buffers
                for s in ([None] if not b.windows else
                          [s for s in range(b.first, b.last + 1) if b.used(s)])]
    assert len(rects) == len(expected)
    assert any(b.windows for b in buffers)  # the cnn's convolutions overlap
    for rect, (b, step) in zip(rects, expected):
        title = rect.find(f"{SVG}title")
        assert title is not None and b.name in title.text and f"{b.size:,} B" in title.text
        if step is not None:
            assert f"step {step}: {b.used(step):,} B in use" in title.text
        assert rect.get("fill") == KIND_COLORS[b.kind]
    kinds = {b.kind for b in buffers}
    assert {"input", "output"} <= kinds
    limits = [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "limit"]
    assert len(limits) == 2 and all(ln.get("stroke-dasharray") for ln in limits)
    assert sum(1 for r in root.iter(f"{SVG}rect") if r.get("class") == "peak") == 1


def test_unplanned_module_is_a_clear_error(tmp_path: Path) -> None:
    from utc.compiler.driver import import_model, lower

    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    module = import_model(path, "sine")
    lower(module, "tensor-to-fused,lower-to-qnn,select-kernels,bufferize")
    with pytest.raises(CompileError, match="plan-memory"):
        format_report(module)
    with pytest.raises(CompileError, match="plan-memory"):
        memory_svg(module)


#: A hand-planned buf-level module: a kernel with scratch, an op no formula knows, and a
#: view feeding the second call (no kernel in the table has scratch today).
HAND_PLANNED = """\
module @t {
  func.func() {sym_name = @main, arena_bytes = 64, lower_bound = 64, plan_strategy = "optimal"} ({
  ^entry():
    %x = buf.alloc() {size = 16, input = 0, offset = 0, live = [0, 0]} : memref<1x16xi8>
    %s = buf.alloc() {size = 32, scratch = true, offset = 16, live = [0, 0]} : memref<32xi8>
    %y = buf.alloc() {size = 16, offset = 48, live = [0, 1]} : memref<1x16xi8>
    buf.call(%x, %y, %s) {callee = "k1", op = "my.thing", num_inputs = 1} : ()
    %v = buf.view(%y) {offset = 8} : memref<8xi8>
    %z = buf.alloc() {size = 8, offset = 0, live = [1, 1]} : memref<8xi8>
    buf.call(%v, %z) {callee = "k2", op = "qnn.quantize", num_inputs = 1} : ()
    func.return(%z) : ()
  }) : ()
}
"""


def test_scratch_views_and_kinds_on_hand_planned_ir() -> None:
    from utc.compiler.ir.parser import parse_module

    module = parse_module(HAND_PLANNED)
    module.verify()
    rows = layer_rows(module)
    # step 1 reads only %v, the last 8 bytes of %y: the first 8 are no longer live
    assert [(r.macs, r.live_bytes, r.output_offsets, r.scratch_bytes) for r in rows] == [
        (16, 64, (48,), 32), (8, 16, (0,), 0)]
    assert [(b.name, b.kind) for b in arena_buffers(module)] == [
        ("x", "input"), ("s", "scratch"), ("y", "activation"), ("z", "output")]
    _check_memory_invariants(module)
    text = format_report(module)
    assert "scratch" in text and "unknown location" in text
    root = ET.fromstring(memory_svg(module))
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class") == "buf"]
    # %y holds a view: one rect per step it uses bytes at (0 and 1)
    assert fills == [KIND_COLORS[k] for k in ("input", "scratch", "activation", "activation",
                                              "output")]


def test_real_vww_mobilenet(tmp_path: Path) -> None:
    path = shared_model("mlperf_vww_mobilenet_int8.tflite")
    module = compile_model(path, tmp_path / "vww").module
    _check_memory_invariants(module)
    rows = layer_rows(module)
    assert len(rows) >= 30
    assert any(r.kernel == "utc_depthwise_conv2d_s8" for r in rows)
    # MobileNet v1 0.25 at 96x96: about 7.5 M MACs (the VWW benchmark's reference figure)
    assert 7_000_000 < sum(r.macs for r in rows) < 8_000_000
    text = format_report(module)
    assert len(text.splitlines()) > 30
    ET.fromstring(memory_svg(module))
