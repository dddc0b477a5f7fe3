/* utc_elementwise_f32: float32 broadcasting binary ops (TFLite ADD, SUB, MUL, DIV,
 * SQUARED_DIFFERENCE, MAXIMUM, MINIMUM), bit-exact with TFLite Micro's reference float
 * kernels.
 *
 * Shapes are 6 int32 each: the tensor's shape right-aligned into 6-D with leading 1s. Each
 * input dimension equals the output's or is 1 (broadcast). The output may alias an input
 * whose shape is the output's (in-place use is safe). act_min/act_max are the fused
 * activation's range; for NONE pass -FLT_MAX/FLT_MAX (TFLM's range, which also clamps an
 * overflowed +-inf result to +-FLT_MAX), never +-inf. */
#ifndef UTC_ELEMENTWISE_F32_H
#define UTC_ELEMENTWISE_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_add_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, float act_min,
                 float act_max);
void utc_sub_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, float act_min,
                 float act_max);
void utc_mul_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, float act_min,
                 float act_max);
/* DIV: in1 / in2 in float (IEEE: a zero divisor gives +-inf or NaN), then the clamp. */
void utc_div_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, float act_min,
                 float act_max);
/* SQUARED_DIFFERENCE: d = in1 - in2, out = d * d in float, no clamp (TFLite has no fused
 * activation for it; an overflow gives +inf as in TFLM). In place as the others: out may
 * alias a same-shape input. */
void utc_squared_difference_f32(const float *in1, const float *in2, float *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape);
/* NaN handling as TFLM: maximum is in1 > in2 ? in1 : in2, minimum in1 < in2 ? in1 : in2. */
void utc_maximum_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                     const int32_t *in2_shape, const int32_t *out_shape);
void utc_minimum_f32(const float *in1, const float *in2, float *out, const int32_t *in1_shape,
                     const int32_t *in2_shape, const int32_t *out_shape);
#ifdef __cplusplus
}

/* The broadcasting loop shared by the binary kernels here and utc_prelu_f32: out[i] =
 * op(in1[...], in2[...]) over the 6-D output in row-major order. Each element's inputs are
 * read before it is written and an aliased same-shape input is read only at indices not yet
 * written, so out may alias in1 or in2 when that input has the output's shape. */
namespace utc_detail {

template <typename Op>
inline void broadcast_binary_f32(const float *in1, const float *in2, float *out,
                                 const int32_t *in1_shape, const int32_t *in2_shape,
                                 const int32_t *out_shape, const Op &op) {
  int32_t stride1[6], stride2[6];
  int32_t s1 = 1, s2 = 1;
  for (int d = 5; d >= 0; --d) {
    stride1[d] = in1_shape[d] == 1 ? 0 : s1;
    stride2[d] = in2_shape[d] == 1 ? 0 : s2;
    s1 *= in1_shape[d];
    s2 *= in2_shape[d];
  }
  int32_t outer = 1;
  for (int d = 0; d < 5; ++d) outer *= out_shape[d];
  const int32_t inner = out_shape[5];
  int32_t idx[5] = {0, 0, 0, 0, 0};
  float *o = out;
  for (int32_t k = 0; k < outer; ++k) {
    int32_t off1 = 0, off2 = 0;
    for (int d = 0; d < 5; ++d) {
      off1 += idx[d] * stride1[d];
      off2 += idx[d] * stride2[d];
    }
    for (int32_t i = 0; i < inner; ++i)
      *o++ = op(in1[off1 + i * stride1[5]], in2[off2 + i * stride2[5]]);
    for (int d = 4; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace utc_detail
#endif

#endif /* UTC_ELEMENTWISE_F32_H */
