/* utc_activation_f32: float32 activations (TFLite LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1,
 * RELU_0_TO_1, LEAKY_RELU, HARD_SWISH, PRELU), bit-exact with TFLite Micro's (and, for the
 * RELU_N1_TO_1 / RELU_0_TO_1 TFLM lacks, LiteRT's) reference float kernels on the same libm.
 *
 * The unary kernels work on `size` contiguous elements; the output may alias the input. */
#ifndef UTC_ACTIVATION_F32_H
#define UTC_ACTIVATION_F32_H

#include <math.h> /* HUGE_VALF: the unbounded top of a standalone RELU */

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x > 16.619047f ? 1 : x < -9 ? expf(x) : 1 / (1 + expf(-x)) (TFLM's cutoffs). */
void utc_logistic_f32(const float *input, float *output, int32_t size);
/* tanhf(x). */
void utc_tanh_f32(const float *input, float *output, int32_t size);
/* min(max(x, lo), hi), NaN passes through: RELU (0, FLT_MAX), RELU6 (0, 6),
 * RELU_N1_TO_1 (-1, 1), RELU_0_TO_1 (0, 1). */
void utc_clamp_f32(const float *input, float *output, int32_t size, float lo, float hi);
/* x > 0 ? x : x * alpha. */
void utc_leaky_relu_f32(const float *input, float *output, int32_t size, float alpha);
/* x * min(6, max(0, x + 3)) / 6, evaluated left to right. */
void utc_hard_swish_f32(const float *input, float *output, int32_t size);
/* x >= 0 ? x : x * alpha, alpha broadcast against the input; shapes 6-D (leading 1s) as
 * in utc_elementwise_f32.h. The output may alias the input. */
void utc_prelu_f32(const float *input, const float *alpha, float *output,
                   const int32_t *input_shape, const int32_t *alpha_shape,
                   const int32_t *output_shape);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ACTIVATION_F32_H */
