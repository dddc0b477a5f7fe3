#include "utc_reduce_f32.h"

extern "C" void utc_mean_f32(const float *input, float *output, const int32_t *input_shape,
                             const int32_t *reduce_axes) {
  /* Output strides over the input's dimensions: 0 along reduced ones, so walking the input
   * in row-major order adds every element to its output in TFLM's order. */
  int32_t out_stride[6];
  int32_t num_out = 1, count = 1, num_in = 1;
  for (int d = 5; d >= 0; --d) {
    num_in *= input_shape[d];
    if (reduce_axes[d]) {
      out_stride[d] = 0;
      count *= input_shape[d];
    } else {
      out_stride[d] = num_out;
      num_out *= input_shape[d];
    }
  }
  for (int32_t i = 0; i < num_out; ++i) output[i] = 0.0f;
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0;
  for (int32_t i = 0; i < num_in; ++i) {
    output[off] += input[i];
    for (int d = 5; d >= 0; --d) {
      off += out_stride[d];
      if (++idx[d] < input_shape[d]) break;
      off -= idx[d] * out_stride[d];
      idx[d] = 0;
    }
  }
  if (count > 0) {
    const float n = (float)count;
    for (int32_t i = 0; i < num_out; ++i) output[i] = output[i] / n;
  }
}
