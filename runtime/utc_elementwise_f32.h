/* utc_elementwise_f32: float32 broadcasting binary ops (TFLite ADD, SUB, MUL, DIV,
 * SQUARED_DIFFERENCE, MAXIMUM, MINIMUM), bit-exact with TFLite Micro's reference float
 * kernels.
 *
 * Shapes are 6 int32 each: the tensor's shape right-aligned into 6-D with leading 1s. Each
 * input dimension equals the output's or is 1 (broadcast). The loop is the one every binary
 * kernel shares (utc_broadcast_binary6 in utc_quant_ext.h), so the output may alias an
 * input whose shape is the output's (in-place use is safe). act_min/act_max are the fused
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
#endif

#endif /* UTC_ELEMENTWISE_F32_H */
