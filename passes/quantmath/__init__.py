"""Compile-time quantization arithmetic of the int8 lowering (`lower-to-qnn`): pure
functions reproducing TFLite Micro's `Prepare` computations, each unit-tested."""
