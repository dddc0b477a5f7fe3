#include "utc_reduce_generic.h"

namespace {

struct Sum {
  template <typename T>
  UTC_INLINE T operator()(T current, T in) const { return in + current; }
};

struct Max {
  template <typename T>
  UTC_INLINE T operator()(T current, T in) const { return in > current ? in : current; }
};

template <typename T, typename Op>
void reduce(const T *input, T *output, const int32_t *input_shape, const int32_t *reduce_axes,
            T init, const Op &op) {
  /* output strides over the input's dimensions, 0 along reduced ones: walking the input in
   * row-major order visits every output's elements in TFLM's order */
  int32_t out_stride[6];
  int32_t num_out = 1, num_in = 1;
  for (int d = 5; d >= 0; --d) {
    num_in *= input_shape[d];
    if (reduce_axes[d]) {
      out_stride[d] = 0;
    } else {
      out_stride[d] = num_out;
      num_out *= input_shape[d];
    }
  }
  for (int32_t i = 0; i < num_out; ++i) output[i] = init;
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0;
  for (int32_t i = 0; i < num_in; ++i) {
    output[off] = op(output[off], input[i]);
    for (int d = 5; d >= 0; --d) {
      off += out_stride[d];
      if (++idx[d] < input_shape[d]) break;
      off -= idx[d] * out_stride[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

extern "C" {

void utc_sum_f32(const float *input, float *output, const int32_t *input_shape,
                 const int32_t *reduce_axes) {
  reduce(input, output, input_shape, reduce_axes, 0.0f, Sum());
}

void utc_reduce_max_f32(const float *input, float *output, const int32_t *input_shape,
                        const int32_t *reduce_axes) {
  reduce(input, output, input_shape, reduce_axes, -3.40282347e+38f, Max());
}

void utc_reduce_max_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                       const int32_t *reduce_axes) {
  reduce(input, output, input_shape, reduce_axes, (int8_t)-128, Max());
}

}  // extern "C"
