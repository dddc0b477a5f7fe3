/* utc_activation_s8: int8 unary activations and (de)quantization, bit-exact with TFLite
 * Micro's reference kernels (RELU_N1_TO_1, which TFLM lacks, with LiteRT's).
 *
 * All kernels work on `size` contiguous elements (any shape, NHWC or not); output may alias
 * input. Zero points have TFLite's meaning (real = scale * (q - zp)). Multiplier/shift pairs
 * are TFLite's (Q31 multiplier, shift with positive = left) and every parameter comes from
 * the function of utc.passes.quantmath.activation named beside each kernel.
 *
 * Needs utc_runtime.h, utc_quant.h and utc_quant_ext.h. */
#ifndef UTC_ACTIVATION_S8_H
#define UTC_ACTIVATION_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LOGISTIC (logistic_params). d = x - input_zp; d <= -input_range_radius gives -128,
 * d >= input_range_radius gives 127, otherwise d is rescaled into Q4.27 by
 * input_mult * 2^input_left_shift and gemmlowp's fixed-point logistic is rounded to the
 * output scale 1/256, zero point -128 (the output quantization TFLM assumes). */
void utc_logistic_s8(const int8_t *input, int8_t *output, int32_t size,
                     int32_t input_zp, int32_t input_range_radius, int32_t input_mult,
                     int32_t input_left_shift);

/* TANH (tanh_params): as LOGISTIC with gemmlowp's fixed-point tanh; output scale 1/128,
 * zero point 0 (the output quantization TFLM assumes). */
void utc_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t input_zp,
                 int32_t input_range_radius, int32_t input_mult,
                 int32_t input_left_shift);

/* HARD_SWISH (hard_swish_params): TFLite's int16 fixed-point scheme. reluish_mult and
 * output_mult are Q15 multipliers (int16 values passed as int32) with their exponents
 * reluish_shift (any sign) and output_shift (<= 0). */
void utc_hard_swish_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t reluish_mult,
                       int32_t reluish_shift, int32_t output_mult,
                       int32_t output_shift);

/* LEAKY_RELU (leaky_relu_params): d = x - input_zp rescaled by the identity multiplier when
 * d >= 0 and by the alpha multiplier otherwise (a negative alpha gives a negative
 * alpha_mult, used as is), plus output_zp, clamped to int8. */
void utc_leaky_relu_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t identity_mult,
                       int32_t identity_shift, int32_t alpha_mult,
                       int32_t alpha_shift);
/* The same on int16 tensors (16x8), clamped to int16. */
void utc_leaky_relu_s16(const int16_t *input, int16_t *output, int32_t size,
                        int32_t input_zp, int32_t output_zp, int32_t identity_mult,
                        int32_t identity_shift, int32_t alpha_mult,
                        int32_t alpha_shift);

/* PRELU (prelu_params) with the alpha tensor broadcast against the input. Shapes are 6-D
 * padded (leading 1s) as for utc_elementwise_s8; alpha_shape dimensions are the output's or
 * 1. d = x - input_zp; d >= 0: MBQM(d, identity_mult, identity_shift); else
 * MBQM(d * (alpha - alpha_zp), alpha_mult, alpha_shift); plus output_zp, clamped. */
void utc_prelu_s8(const int8_t *input, const int8_t *alpha, int8_t *output,
                  const int32_t *input_shape, const int32_t *alpha_shape,
                  const int32_t *output_shape, int32_t input_zp, int32_t alpha_zp,
                  int32_t output_zp, int32_t identity_mult, int32_t identity_shift,
                  int32_t alpha_mult, int32_t alpha_shift);

/* out = clamp(MBQM(x - input_zp, mult, shift) + output_zp, act_min, act_max).
 * RELU (relu_params), RELU6 (relu6_params), RELU_N1_TO_1 (relu_n1_to_1_params) and
 * QUANTIZE int8 -> int8 (requantize_params). An identity rescale (mult 2^30, shift 1, equal
 * zero points) is a plain clamp. */
void utc_requantize_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t mult,
                       int32_t shift, int32_t act_min, int32_t act_max);

/* QUANTIZE float32 -> int8 (quantize_params): clamp(round_half_away(x / scale) + zp) with the
 * division in float32, as TFLite's AffineQuantize. Where x / scale does not fit int32 (or is
 * NaN) TFLM's float->int conversion is undefined behaviour; utc saturates (NaN -> 0), which
 * is what TFLM does on Arm. */
void utc_quantize_f32_s8(const float *input, int8_t *output, int32_t size,
                         float scale, int32_t zp);

/* DEQUANTIZE int8 -> float32 (dequantize_params): scale * (x - zp), rounded once to float
 * (identical to TFLite's double product cast to float). */
void utc_dequantize_s8_f32(const int8_t *input, float *output, int32_t size,
                           float scale, int32_t zp);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ACTIVATION_S8_H */
