"""utc_conv2d_s8's DSP path (SMLAD, runtime/utc_conv_s8.cpp: two output pixels by two
output channels) on QEMU Cortex-M4, bit-exact with TFLite Micro on random shapes and
quantizations: channel counts that are not multiples of 4 (the tail loops), odd output
widths and channel counts (the lone pixel and lone channel paths), kernels 1x1 to 5x5,
strides and dilations 1 and 2, SAME and VALID padding (the border pixels that subtract the
zero point, against the interior ones that start from zp_bias), batches of 1 and 2,
per-channel and per-tensor weights, input zero points at the int8 extremes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.e2e.op_models import conv_like
from tests.e2e.test_cortex_m import lcg_inputs, run_on_qemu
from tests.kernel_harness import seeded_rng
from tests.oracle import TflmRunner

SEED = 20261204
CASES = 40


def _out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "SAME":
        return -(-size // stride)
    return -(-(size - (k - 1) * dilation) // stride)


def random_conv(rng: np.random.Generator) -> bytes:
    in_c = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 16, 19, 32]))
    out_c = int(rng.choice([1, 2, 3, 4, 5, 8, 9, 16]))
    kh, kw = (int(rng.integers(1, 6)), int(rng.integers(1, 6))) if rng.random() < 0.5 \
        else (3, 3)
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
    in_zp = int(rng.choice([-128, 127, -3, 0, 40]))
    opts = {"padding": padding, "stride_h": stride[0], "stride_w": stride[1],
            "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1],
            "fused_activation_function": str(rng.choice(["NONE", "RELU", "RELU6"]))}
    return conv_like("CONV_2D", [batch, h, w, in_c], [out_c, kh, kw, in_c],
                     [batch, oh, ow, out_c], opts, True, rng,
                     per_channel=bool(rng.random() < 0.7), bias=bool(rng.random() < 0.85),
                     in_q=(float(rng.uniform(0.01, 0.2)), in_zp))


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["reference", "auto"])
def test_random_convolutions_bit_exact_on_cortex_m4(kernels: str, tmp_path: Path) -> None:
    rng = seeded_rng(SEED, "dsp conv", kernels)
    for i in range(CASES):
        model = random_conv(rng)
        path = tmp_path / f"{i}.tflite"
        path.write_bytes(model)
        _, ins, _, run = run_on_qemu(path, "cortex-m4", kernels, tmp_path / str(i))
        want = TflmRunner(model).run(lcg_inputs(ins))
        assert run.outputs == [np.ascontiguousarray(w).tobytes() for w in want], f"case {i}"
