/* utc_math_f32: float32 elementwise functions (TFLite ABS, NEG, FLOOR, CEIL, ROUND, SQRT,
 * RSQRT, EXP, LOG), computed as TFLite Micro computes them: the C library's fabsf, floorf,
 * ceilf, sqrtf, expf and logf in single precision, RSQRT as 1.0f / sqrtf(x), and ROUND
 * half to even (floor, then up when the fraction is above one half, or exactly one half
 * with an odd floor). Out-of-domain inputs give what the C library gives (NaN, inf).
 *
 * Each reads input[i] before writing output[i], in increasing i, so output may be input
 * (in place). */
#ifndef UTC_MATH_F32_H
#define UTC_MATH_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_abs_f32(const float *input, float *output, int32_t size);
void utc_neg_f32(const float *input, float *output, int32_t size);
void utc_floor_f32(const float *input, float *output, int32_t size);
void utc_ceil_f32(const float *input, float *output, int32_t size);
void utc_round_f32(const float *input, float *output, int32_t size);
void utc_sqrt_f32(const float *input, float *output, int32_t size);
void utc_rsqrt_f32(const float *input, float *output, int32_t size);
void utc_exp_f32(const float *input, float *output, int32_t size);
void utc_log_f32(const float *input, float *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif
