#include "utc_elementwise_f32.h"

#include "utc_quant_ext.h"

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

struct DivOp {
  float lo, hi;
  float operator()(float a, float b) const { return clamp_f32(a / b, lo, hi); }
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
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_sub_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const SubOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_mul_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const MulOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_div_f32(const float *in1, const float *in2, float *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, float act_min, float act_max) {
  const DivOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_squared_difference_f32(const float *in1, const float *in2, float *out,
                                           const int32_t *in1_shape, const int32_t *in2_shape,
                                           const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, SquaredDifferenceOp());
}

extern "C" void utc_maximum_f32(const float *in1, const float *in2, float *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaximumOp());
}

extern "C" void utc_minimum_f32(const float *in1, const float *in2, float *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinimumOp());
}
