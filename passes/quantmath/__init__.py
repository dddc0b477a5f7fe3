"""Compile-time quantization arithmetic of the integer lowering (`lower-to-qnn`): pure
functions reproducing TFLite Micro's `Prepare` computations, each unit-tested, each
returning a frozen `QnnAttrs` dataclass whose fields are the attributes of the `qnn` op it
lowers to.

- `requant`: Q31 multipliers, convolution/fully connected rescales, fused activation clamps
- `elementwise`: ADD, SUB, MUL, SQUARED_DIFFERENCE
- `activation`: LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, PRELU, the RELU family and
  QUANTIZE int8 -> int8 (one requantize-and-clamp)
- `softmax`, `reduce` (MEAN), `quantize` (float32 <-> int8)
- `matmul`: BATCH_MATMUL
"""
