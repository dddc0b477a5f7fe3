"""A MobileNetV2-sized int8 model for the compile-time benchmark, built with the test writer.

The shared models are all small (the largest holds 330 KB of weights), so how a compiler
scales with the weight volume of an ordinary image classifier shows on none of them.
This builds MobileNetV2 (width 1.0, 224x224x3 input, 1000 classes): the published layer
table (inverted residual blocks of expansion 1x1, depthwise 3x3 and projection 1x1, with
the residual ADD where shapes allow), int8 with per-channel weight scales, RELU6 fused
into the expansions and depthwise layers, then average pooling, a fully connected layer
and a softmax. About 3.5 million parameters: 3.5 MB of int8 weights plus int32 biases.

Weights come from a seeded generator, so every run builds the same bytes; they are not
trained, which changes nothing a compiler does. Weight scales follow the accumulation depth so every
activation keeps one scale and uses the int8 range rather than saturating.

This imports `tests.tflite_writer` (an exception to the benchmarks' rule of not importing
tests/): the writer builds exactly the model its calls describe and refuses anything else,
so the model cannot drift with the tests; the layer table here is what fixes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tflite_writer import ModelBuilder  # noqa: E402

#: (expansion t, output channels c, repeats n, first stride s): MobileNetV2's table 2.
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
          (6, 160, 3, 2), (6, 320, 1, 1))
INPUT_SIZE = 224
CLASSES = 1000
LAST_CHANNELS = 1280
SEED = 2
#: Every activation's scale (RELU6's range over the int8 codes), and about how many
#: codes a uniform int8 weight spreads over (its standard deviation).
ACTIVATION_SCALE = 6 / 255
WEIGHT_SPREAD = 73


class _Net:
    """The builder and the running (tensor, shape, scale) of the layer being added."""

    def __init__(self, rng: np.random.Generator):
        self.b = ModelBuilder("utc benchmark: MobileNetV2 1.0 224 (int8, seeded weights)")
        self.rng = rng
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def weighted(self, op: str, x: int, x_shape: list[int], x_scale: float, w_shape: list[int],
                 out_shape: list[int], options: dict, relu6: bool) -> tuple[int, float]:
        """CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED with seeded per-channel weights,
        an int32 bias, and an output scale chosen from the accumulation depth."""
        out_channels = w_shape[-1] if op == "DEPTHWISE_CONV_2D" else w_shape[0]
        depth = int(np.prod(w_shape)) // out_channels
        # an accumulation of `depth` products of values of about WEIGHT_SPREAD codes each
        # lands near the output's own spread: every layer keeps ACTIVATION_SCALE
        out_scale = ACTIVATION_SCALE
        w_scales = (self.rng.uniform(0.5, 1.5, out_channels) * out_scale
                    / (x_scale * np.sqrt(depth) * WEIGHT_SPREAD))
        w = self.b.add_tensor(self.name("w"), w_shape, "int8",
                              data=self.rng.integers(-127, 128, size=w_shape).astype(np.int8),
                              scale=list(w_scales), zero_point=0,
                              quantized_dimension=3 if op == "DEPTHWISE_CONV_2D" else 0)
        bias = self.b.add_tensor(self.name("b"), [out_channels], "int32",
                                 data=self.rng.integers(-2000, 2000, out_channels),
                                 scale=list(x_scale * w_scales), zero_point=0)
        y = self.b.add_tensor(self.name("y"), out_shape, "int8", scale=out_scale,
                              zero_point=-128 if relu6 else 0)
        options = {**options, "fused_activation_function": "RELU6" if relu6 else "NONE"}
        self.b.add_operator(op, [x, w, bias], [y], options)
        return y, out_scale


def build_mobilenet_v2(seed: int = SEED) -> bytes:
    """The flatbuffer bytes of the model (the same bytes for the same seed)."""
    net = _Net(np.random.default_rng(seed))
    b = net.b
    size = INPUT_SIZE
    x_scale = 1 / 128
    model_input = b.add_tensor("input", [1, size, size, 3], "int8", scale=x_scale, zero_point=0)
    size //= 2
    x, x_scale = net.weighted("CONV_2D", model_input, [1, 2 * size, 2 * size, 3], x_scale,
                              [32, 3, 3, 3], [1, size, size, 32],
                              {"padding": "SAME", "stride_w": 2, "stride_h": 2}, relu6=True)
    channels = 32
    for t, c, n, s in BLOCKS:
        for i in range(n):
            stride = s if i == 0 else 1
            block_in, block_scale, in_channels = x, x_scale, channels
            hidden = channels * t
            if t != 1:
                x, x_scale = net.weighted("CONV_2D", x, [1, size, size, channels], x_scale,
                                          [hidden, 1, 1, channels], [1, size, size, hidden],
                                          {"padding": "SAME"}, relu6=True)
            out = size // stride
            x, x_scale = net.weighted("DEPTHWISE_CONV_2D", x, [1, size, size, hidden], x_scale,
                                      [1, 3, 3, hidden], [1, out, out, hidden],
                                      {"padding": "SAME", "stride_w": stride, "stride_h": stride},
                                      relu6=True)
            size = out
            x, x_scale = net.weighted("CONV_2D", x, [1, size, size, hidden], x_scale,
                                      [c, 1, 1, hidden], [1, size, size, c], {"padding": "SAME"},
                                      relu6=False)
            channels = c
            if stride == 1 and in_channels == c:
                sum_scale = 2 * max(x_scale, block_scale)
                y = b.add_tensor(net.name("sum"), [1, size, size, c], "int8", scale=sum_scale,
                                 zero_point=0)
                b.add_operator("ADD", [block_in, x], [y], {"fused_activation_function": "NONE"})
                x, x_scale = y, sum_scale
    x, x_scale = net.weighted("CONV_2D", x, [1, size, size, channels], x_scale,
                              [LAST_CHANNELS, 1, 1, channels], [1, size, size, LAST_CHANNELS],
                              {"padding": "SAME"}, relu6=True)
    pooled = b.add_tensor("pooled", [1, 1, 1, LAST_CHANNELS], "int8", scale=x_scale, zero_point=-128)
    b.add_operator("AVERAGE_POOL_2D", [x], [pooled],
                   {"padding": "VALID", "filter_width": size, "filter_height": size})
    logits, logit_scale = net.weighted("FULLY_CONNECTED", pooled, [1, 1, 1, LAST_CHANNELS], x_scale,
                                       [CLASSES, LAST_CHANNELS], [1, CLASSES], {}, relu6=False)
    probs = b.add_tensor("probabilities", [1, CLASSES], "int8", scale=1 / 256, zero_point=-128)
    b.add_operator("SOFTMAX", [logits], [probs], {"beta": 1.0})
    return b.build([model_input], [probs])


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="where to write the .tflite file")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    data = build_mobilenet_v2(args.seed)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
