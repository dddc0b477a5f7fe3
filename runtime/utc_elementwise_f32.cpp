#include "utc_elementwise_f32.h"

namespace {

/* TFLM's ActivationFunctionWithMinMax: min(max(v, lo), hi); NaN passes through. */
inline float clamp_f32(float v, float lo, float hi) { return v < lo ? lo : (hi < v ? hi : v); }

struct AddOp {
  float lo, hi;
  float operator()(float a, float b) const { return clamp_f32(a + b, lo, hi); }
};

struct SubOp {
  float lo, hi;
  float operator()(float a, float b) const { return clamp_f32(a - b, lo, hi); }
};

struct MulOp {
  float lo, hi;
  float operator()(float a, float b) const { return clamp_f32(a * b, lo, hi); }
};

/* TFLM's SquaredDifference<float>: the difference rounded to float, then squared. */
struct SquaredDifferenceOp {
  float operator()(float a, float b) const {
    const float d = a - b;
    return d * d;
  }
};

struct MaximumOp {
  float operator()(float a, float b) const { return a > b ? a : b; }
};

struct MinimumOp {
  float operator()(float a, float b) const { return a < b ? a : b; }
};

}  // namespace

extern "C" void utc_add_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const AddOp op = {act_min, act_max};
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_sub_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const SubOp op = {act_min, act_max};
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_mul_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const MulOp op = {act_min, act_max};
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_squared_difference_f32(const float *in1, const float *in2, float *out,
                                           const int32_t *in1_shape, const int32_t *in2_shape,
                                           const int32_t *out_shape) {
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape,
                                   SquaredDifferenceOp());
}

extern "C" void utc_maximum_f32(const float *in1, const float *in2, float *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape,
                                   MaximumOp());
}

extern "C" void utc_minimum_f32(const float *in1, const float *in2, float *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_detail::broadcast_binary_f32(in1, in2, out, in1_shape, in2_shape, out_shape,
                                   MinimumOp());
}

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
