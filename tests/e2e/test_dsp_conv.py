"""utc_conv2d_s8's DSP path (runtime/utc_conv_s8.cpp: SMLAD assembly, two pixels by two
channels or one pixel by four, the fast requantization) on QEMU, bit-exact with TFLite
Micro on random convolutions.

Every case is a one-op CONV_2D model compiled with utc's own kernels (`reference`, so
the convolution is always utc_conv2d_s8), cross-built and run on the emulated board; its
output must equal TFLite Micro's interpreter's on the same random input. The shapes and
quantizations are drawn to reach every path of the kernel:

- kernels 1x1, 3x3, 1xN, Nx1 and NxM up to 5, strides and dilations 1 and 2 on each axis,
  SAME and VALID padding, widths 1 to 10 (pairs of pixels, lone pixels, windows clipped
  differently on the left and the right), batches 1 and 2;
- input channels not a multiple of 4 (the one-by-one tail) and 1 to 33 output channels
  (odd counts: the lone channel of a pair; counts past the 16-channel chunk; 1 to 3 left
  over after blocks of four);
- input zero points from -128 to 127 (border pixels subtract it while widening, interior
  pixels start from zp_bias; at -O0 there is no zp_bias and every pixel subtracts it);
- per-channel and per-tensor weights, with and without bias, the three fused activations,
  output zero point -128 (so RELU spans all of int8: the SSAT store) or random, and
  output scales that put the requantization shift in utc_requant_neg_shift's range
  [-23, -2] or outside it (TFLite's general requantization), and per-channel layers
  with pruned channels (tiny weight scales: shifts -24 to -31, or multiplier 0), as in
  the VWW MobileNet.

Single-op models also exercise the overlap contract: at -O1 and up the memory planner
starts the output below the dying input whenever it saves bytes, and the test checks
that it did for a good share of the cases (the kernel then runs one output row per band).

Cortex-M4 runs the most cases at -O2 and at -O0; Cortex-M7, M33 and M55 (every target
with the DSP extension, where UTC_DSP is defined) fewer. `auto` on Cortex-M4 checks the
kernel choice the record's `faster` predicate makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.codegen import cortex_m
from utc.compiler.driver import compile_model
from utc.compiler.driver.cli import io_specs

from tests.conftest import cmsis_nn_root
from tests.e2e.test_cortex_m import _spec
from tests.kernel_harness import seeded_rng
from tests.oracle import TflmRunner
from tests.tflite_writer import ModelBuilder

SEED = 20261204


def _out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "SAME":
        return -(-size // stride)
    return -(-(size - (k - 1) * dilation) // stride)


def _kernel_size(rng: np.random.Generator) -> tuple[int, int]:
    kind = str(rng.choice(["1x1", "3x3", "1xN", "Nx1", "NxM"]))
    n, m = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    return {"1x1": (1, 1), "3x3": (3, 3), "1xN": (1, n), "Nx1": (n, 1), "NxM": (n, m)}[kind]


def random_conv(rng: np.random.Generator) -> tuple[bytes, dict]:
    """A one-op int8 CONV_2D model and a description of its case."""
    in_c = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 16, 19, 32]))
    out_c = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 19, 33]))
    kh, kw = _kernel_size(rng)
    stride = (int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2])))
    dilation = (int(rng.choice([1, 1, 1, 2])), int(rng.choice([1, 1, 1, 2])))
    padding = str(rng.choice(["SAME", "VALID"]))
    while True:
        h, w = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        if padding == "SAME" or (h > (kh - 1) * dilation[0] and w > (kw - 1) * dilation[1]):
            break
    batch = 2 if rng.random() < 0.15 else 1
    oh = _out_size(h, kh, stride[0], dilation[0], padding)
    ow = _out_size(w, kw, stride[1], dilation[1], padding)
    in_scale, in_zp = float(rng.uniform(0.01, 0.2)), int(rng.choice([-128, -3, 0, 40, 127]))
    per_channel = bool(rng.random() < 0.7)
    w_scales = (rng.uniform(0.002, 0.02, out_c) if per_channel
                else np.full(1, rng.uniform(0.002, 0.02)))
    typical_w = float(np.mean(w_scales))  # the output scale follows the unpruned channels
    pruned = per_channel and rng.random() < 0.3
    if pruned:  # channels with tiny scales: shifts below -23, or multiplier 0 (shift 0)
        tiny = rng.random(out_c) < 0.3
        w_scales[tiny] *= rng.choice([1e-6, 1e-8, 1e-13], tiny.sum())
    # output scale from the accumulation depth (outputs use the int8 range), or far
    # smaller (requantization shift >= -1) or larger (shift < -23): the general path
    requant = str(rng.choice(["fit", "fit", "fit", "fit", "large", "small"]))
    out_scale = float(in_scale * typical_w * 127 * np.sqrt(kh * kw * in_c) / 24)
    out_scale *= {"fit": 1.0, "large": 1 / 256, "small": 2.0 ** 22}[requant]
    out_zp = -128 if rng.random() < 0.4 else int(rng.integers(-20, 20))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))

    b = ModelBuilder("utc dsp conv")
    x = b.add_tensor("x", [batch, h, w, in_c], "int8", scale=in_scale, zero_point=in_zp)
    wt = b.add_tensor("w", [out_c, kh, kw, in_c], "int8",
                      data=rng.integers(-127, 128, (out_c, kh, kw, in_c)).astype(np.int8),
                      scale=list(w_scales) if per_channel else float(w_scales[0]),
                      zero_point=0, quantized_dimension=0)
    inputs = [x, wt]
    bias = bool(rng.random() < 0.85)
    if bias:
        bias_scales = in_scale * (w_scales if per_channel else np.full(out_c, w_scales[0]))
        inputs.append(b.add_tensor("b", [out_c], "int32",
                                   data=rng.integers(-3000, 3000, out_c),
                                   scale=list(bias_scales) if per_channel
                                   else float(bias_scales[0]), zero_point=0))
    else:
        inputs.append(-1)
    y = b.add_tensor("y", [batch, oh, ow, out_c], "int8", scale=out_scale, zero_point=out_zp)
    b.add_operator("CONV_2D", inputs, [y], {
        "padding": padding, "stride_h": stride[0], "stride_w": stride[1],
        "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1],
        "fused_activation_function": act})
    case = dict(x=(batch, h, w, in_c), out_c=out_c, k=(kh, kw), stride=stride,
                dilation=dilation, padding=padding, in_zp=in_zp, per_channel=per_channel,
                pruned=pruned, bias=bias, requant=requant, out_zp=out_zp, act=act)
    return b.build([x], [y]), case


def run_case(model: bytes, rng: np.random.Generator, target: str, kernels: str,
             opt_level: int, work: Path) -> tuple[bool, str]:
    """Compile, build and run one model on QEMU and compare with TFLite Micro; returns
    whether utc placed the output over the input (overlap) and the kernel used."""
    work.mkdir(parents=True)
    path = work / "model.tflite"
    path.write_bytes(model)
    out = work / "out"
    result = compile_model(path, out, name="model", kernels=kernels, target=target,
                           opt_level=opt_level)
    ins, outs = io_specs(result.module)
    data = [rng.integers(-128, 128, shape, dtype=np.int64).astype(np.int8) for shape, _ in ins]
    fw = cortex_m.build_firmware(out, "model", target, work / "build",
                                 inputs=[d.tobytes() for d in data],
                                 model_inputs=_spec(ins), model_outputs=_spec(outs))
    run = cortex_m.run_firmware(fw)
    want = TflmRunner(model).run(data)
    assert run.status == 0
    assert run.outputs == [np.ascontiguousarray(v).tobytes() for v in want]
    source = (out / "model.cpp").read_text()
    # utc's convolution, or its in-place twin (a 1x1 layer keeping the channels)
    utc = "utc_conv2d_s8(" in source or "utc_conv2d_pixel_s8(" in source
    kernel = "utc_conv2d_s8" if utc else "cmsis-nn"
    return "_overlap" in source, kernel


@pytest.mark.slow
@pytest.mark.parametrize("target,opt_level,cases", [
    ("cortex-m4", 2, 100), ("cortex-m4", 0, 40), ("cortex-m7", 2, 15),
    ("cortex-m33", 2, 15), ("cortex-m55", 2, 20)])
def test_random_convolutions_bit_exact(target: str, opt_level: int, cases: int,
                                       tmp_path: Path) -> None:
    rng = seeded_rng(SEED, "dsp conv", target, opt_level)
    overlapped = 0
    for i in range(cases):
        model, case = random_conv(rng)
        try:
            overlap, kernel = run_case(model, rng, target, "reference", opt_level,
                                       tmp_path / str(i))
        except AssertionError as e:
            raise AssertionError(f"case {i} on {target} -O{opt_level}: {case}") from e
        assert kernel == "utc_conv2d_s8"
        overlapped += overlap
    # the overlapping-buffer path (one output row per band) is exercised, not only the
    # disjoint one (-O0 does not overlap buffers)
    if opt_level > 0:
        assert overlapped >= cases // 5, overlapped


@pytest.mark.slow
def test_auto_picks_a_kernel_and_stays_bit_exact(tmp_path: Path) -> None:
    """`--kernels auto` on Cortex-M4 runs utc_conv2d_s8 where its record says it is
    faster and CMSIS-NN elsewhere; either way the bytes are TFLite Micro's."""
    cmsis_nn_root()
    rng = seeded_rng(SEED, "dsp conv auto")
    used = set()
    for i in range(30):
        model, case = random_conv(rng)
        try:
            _, kernel = run_case(model, rng, "cortex-m4", "auto", 2, tmp_path / str(i))
        except AssertionError as e:
            raise AssertionError(f"case {i}: {case}") from e
        used.add(kernel)
    assert used == {"utc_conv2d_s8", "cmsis-nn"}


def pointwise_conv(rng: np.random.Generator, channels: int) -> bytes:
    """A one-op int8 1x1 CONV_2D model keeping `channels` channels (batch 1), which
    overlap-buffers runs in place over the dying model input (utc_conv2d_pixel_s8)."""
    # rows of 3 pixels or more: in place (two pixels of buffer) is then smaller than a row
    h, w = int(rng.integers(1, 7)), int(rng.integers(3, 8))
    in_scale, in_zp = float(rng.uniform(0.01, 0.2)), int(rng.choice([-128, -3, 0, 40, 127]))
    per_channel = bool(rng.random() < 0.7)
    w_scales = (rng.uniform(0.002, 0.02, channels) if per_channel
                else np.full(1, rng.uniform(0.002, 0.02)))
    out_scale = float(in_scale * np.mean(w_scales) * 127 * np.sqrt(channels) / 24)
    b = ModelBuilder("utc in-place pointwise conv")
    x = b.add_tensor("x", [1, h, w, channels], "int8", scale=in_scale, zero_point=in_zp)
    wt = b.add_tensor("w", [channels, 1, 1, channels], "int8",
                      data=rng.integers(-127, 128, (channels, 1, 1, channels)).astype(np.int8),
                      scale=list(w_scales) if per_channel else float(w_scales[0]),
                      zero_point=0, quantized_dimension=0)
    bias_scales = in_scale * (w_scales if per_channel else np.full(channels, w_scales[0]))
    bias = b.add_tensor("b", [channels], "int32", data=rng.integers(-3000, 3000, channels),
                        scale=list(bias_scales) if per_channel else float(bias_scales[0]),
                        zero_point=0)
    y = b.add_tensor("y", [1, h, w, channels], "int8", scale=out_scale,
                     zero_point=int(rng.integers(-20, 20)))
    b.add_operator("CONV_2D", [x, wt, bias], [y], {
        "padding": str(rng.choice(["SAME", "VALID"])),
        "fused_activation_function": str(rng.choice(["NONE", "RELU", "RELU6"]))})
    return b.build([x], [y])


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
def test_in_place_pointwise_convolutions_bit_exact(target: str, tmp_path: Path) -> None:
    """utc_conv2d_pixel_s8's DSP path (each pair of pixels copied into the pixel buffer,
    then two pixels by two channels, a last lone pixel by four) on QEMU: channel counts
    below, at and past the 8-channel chunk of the assembly and odd ones, odd and even
    pixel counts, bit-exact with TFLite Micro, every case in place."""
    rng = seeded_rng(SEED, "in-place pointwise", target)
    for i, channels in enumerate((5, 8, 9, 16, 33)):
        model = pointwise_conv(rng, channels)
        try:
            run_case(model, rng, target, "reference", 2, tmp_path / str(i))
        except AssertionError as e:
            raise AssertionError(f"case {i}: {channels} channels on {target}") from e
        source = (tmp_path / str(i) / "out" / "model.cpp").read_text()
        assert "utc_conv2d_pixel_s8(&params, buf_pixel);" in source, channels
