"""Write classifier_head_int8.tflite: a small int8 model ending in a classifier head that
is a 1x1 convolution over one pixel (the shape Keras' MobileNet gives its head), for
trying examples/pass_plugins/pointwise_conv_to_fc.py.

    input [1, 8, 8, 32] -> CONV_2D 1x1, 64 channels, RELU  (64 pixels: kept by default)
                        -> AVERAGE_POOL_2D 8x8             (global pooling)
                        -> CONV_2D 1x1, 10 channels         (1 pixel: the head)

Built with utc's test-only TFLite writer (tests/tflite_writer.py) from seeded random
weights, so the repository carries no model file. Run from the repository root:

    python -m examples.pass_plugins.make_head_model /tmp/classifier_head_int8.tflite
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.tflite_writer import ModelBuilder


def _conv(b: ModelBuilder, rng: np.random.Generator, x: int, x_scale: float, depth: int,
          units: int, pixels: tuple[int, int], act: str, name: str) -> tuple[int, float]:
    """A 1x1 CONV_2D with symmetric per-channel int8 weights and an int32 bias; the output
    scale is chosen from the accumulation depth so outputs use the int8 range."""
    w_scales = rng.uniform(0.002, 0.02, units)
    w = b.add_tensor(f"{name}/weights", [units, 1, 1, depth], "int8",
                     data=rng.integers(-127, 128, (units, 1, 1, depth)).astype(np.int8),
                     scale=list(w_scales), zero_point=0, quantized_dimension=0)
    bias = b.add_tensor(f"{name}/bias", [units], "int32",
                        data=rng.integers(-2000, 2000, units),
                        scale=list(x_scale * w_scales), zero_point=0)
    scale = float(x_scale * np.mean(w_scales) * 127 * np.sqrt(depth) / 24)
    y = b.add_tensor(name, [1, *pixels, units], "int8", scale=scale,
                     zero_point=-128 if act == "RELU" else 3)
    b.add_operator("CONV_2D", [x, w, bias], [y], {"padding": "VALID", "stride_h": 1,
                                                   "stride_w": 1,
                                                   "fused_activation_function": act})
    return y, scale


def head_model(seed: int = 7) -> bytes:
    """The model's flatbuffer bytes (the same bytes for the same seed)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("utc example: a classifier head as a 1x1 convolution")
    x = b.add_tensor("input", [1, 8, 8, 32], "int8", scale=0.05, zero_point=-3)
    features, scale = _conv(b, rng, x, 0.05, 32, 64, (8, 8), "RELU", "features")
    pooled = b.add_tensor("pooled", [1, 1, 1, 64], "int8", scale=scale, zero_point=-128)
    b.add_operator("AVERAGE_POOL_2D", [features], [pooled], {
        "padding": "VALID", "stride_h": 1, "stride_w": 1, "filter_height": 8,
        "filter_width": 8, "fused_activation_function": "NONE"})
    logits, _ = _conv(b, rng, pooled, scale, 64, 10, (1, 1), "NONE", "logits")
    return b.build([x], [logits])


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "classifier_head_int8.tflite")
    target.write_bytes(head_model())
    print(f"wrote {target}")
