"""scratch-in-holes: the hole search, and what it does to a real model's plan."""

from __future__ import annotations

from utc.passes.scratch_in_holes import find_hole

from tests.conftest import shared_model


def test_lowest_aligned_offset_among_the_busy_ranges_of_the_step() -> None:
    busy = [(0, 1, 40, 100), (2, 3, 0, 64), (0, 5, 128, 200)]
    # step 0: [40, 100) and [128, 200) busy; 32 bytes fit below 40 at offset 0
    assert find_hole(busy, 0, 32, 256, 16) == 0
    # 48 bytes do not fit below 40: the next aligned offset after 100 is 112, but
    # [112, 160) meets [128, 200); after 200 comes 208, and 208 + 48 = 256 fits exactly
    assert find_hole(busy, 0, 48, 256, 16) == 208
    assert find_hole(busy, 0, 49, 256, 16) is None
    # step 2: [0, 64) and [128, 200) busy; [64, 128) is free
    assert find_hole(busy, 2, 64, 256, 16) == 64
    # step 6: nothing in use
    assert find_hole(busy, 6, 256, 256, 16) == 0


def test_ranges_that_touch_leave_no_hole_between_them() -> None:
    busy = [(0, 0, 0, 16), (0, 0, 16, 32)]
    assert find_hole(busy, 0, 16, 32, 16) is None
    assert find_hole(busy, 0, 16, 48, 16) == 32


def test_kws_auto_keeps_the_reference_arena_and_says_why_at_its_first_convolution(
        tmp_path) -> None:
    """KWS on Cortex-M4: `auto` never plans a larger arena than the reference kernels.
    The first convolution's im2col scratch (arm_convolve_s8) finds no unused bytes at
    step 0, where the re-based overlap chain is at the arena's peak, so `auto` keeps
    utc's kernel there (within 2% of CMSIS-NN's instructions on that layer) and the
    kernel note says why; the depthwise layers, which need no scratch, stay CMSIS-NN's."""
    from utc.compiler.driver import compile_model
    from utc.dialects import buf
    from utc.dialects.func import main_function

    path = shared_model("mlperf_kws_dscnn_int8.tflite")
    ref = compile_model(path, tmp_path / "ref", name="m", kernels="reference", target="cortex-m4")
    auto = compile_model(path, tmp_path / "auto", name="m", kernels="auto", target="cortex-m4")
    arena = [int(main_function(r.module).attrs["arena_bytes"]) for r in (ref, auto)]
    assert arena[1] <= arena[0]
    calls = [op for op in main_function(auto.module).block.ops if isinstance(op, buf.CallOp)]
    assert calls[0].attrs["callee"] == "utc_conv2d_s8"
    assert "arm_convolve_s8's scratch buffer would raise the arena" \
        in calls[0].attrs["kernel_note"], calls[0].attrs["kernel_note"]
    assert calls[1].attrs["callee"] == "arm_depthwise_conv_3x3_s8"
