/* utc_elementwise_s8: int8 binary elementwise ops with TFLite broadcasting (ADD, SUB, MUL,
 * SQUARED_DIFFERENCE, MAXIMUM, MINIMUM), and their 16x8 twins (ADD, SUB, MUL, MAXIMUM,
 * MINIMUM on int16, same arithmetic with TFLM's left shift of 15 for ADD/SUB), bit-exact
 * with TFLite Micro's reference kernels.
 *
 * Shapes: in1_shape, in2_shape and out_shape point to 6 int32 each, the tensors' shapes
 * right-aligned into 6-D with leading 1s (NHWC [1, 4, 4, 8] -> {1, 1, 1, 4, 4, 8}). An input
 * dimension equals the output's or is 1 (broadcast). The output may alias an input that has
 * the output's shape (in-place). Zero points have TFLite's meaning (real = scale * (q - zp)).
 * Every multiplier/shift pair is TFLite's (Q31 multiplier, shift with positive = left) and
 * comes from utc.passes.quantmath.elementwise (add_params, sub_params, mul_params,
 * squared_difference_params).
 * act_min/act_max: the fused activation's clamp, already intersected with the type's range.
 *
 * Needs utc_runtime.h, utc_quant.h and utc_quant_ext.h. */
#ifndef UTC_ELEMENTWISE_S8_H
#define UTC_ELEMENTWISE_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out = clamp(MBQM(MBQM((in1 - in1_zp) << left_shift, in1_mult, in1_shift)
 *                  + MBQM((in2 - in2_zp) << left_shift, in2_mult, in2_shift),
 *                  out_mult, out_shift) + out_zp, act_min, act_max)
 * (MBQM: TFLite's MultiplyByQuantizedMultiplier.) TFLite ADD: left_shift = 20, both inputs
 * rescaled to twice the larger input scale (add_params). */
void utc_add_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                int32_t out_mult, int32_t out_shift, int32_t act_min,
                int32_t act_max);

/* TFLite SUB: as ADD with the rescaled in2 subtracted (sub_params). */
void utc_sub_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                int32_t out_mult, int32_t out_shift, int32_t act_min,
                int32_t act_max);

/* TFLite MUL: out = clamp(MBQM((in1 - in1_zp) * (in2 - in2_zp), out_mult, out_shift) + out_zp,
 * act_min, act_max), out_mult/out_shift for in1_scale * in2_scale / out_scale (mul_params). */
void utc_mul_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t out_mult, int32_t out_shift,
                int32_t act_min, int32_t act_max);

/* TFLite SQUARED_DIFFERENCE (squared_difference_params: left_shift = 7, both inputs rescaled
 * to twice the larger input scale, no fused activation so act is [-128, 127]):
 *   d = MBQM((in1 - in1_zp) << left_shift, in1_mult, in1_shift)
 *     - MBQM((in2 - in2_zp) << left_shift, in2_mult, in2_shift)
 *   out = clamp(MBQM(d * d, out_mult, out_shift) + out_zp, act_min, act_max)
 * d * d is at most (255 << 7)^2 and fits int32; out_shift may be positive (the output
 * multiplier may exceed one). In place: each output element is written after both of its
 * input elements are read, in increasing output order, so out may alias in1 or in2 when
 * that input has the output's shape. */
void utc_squared_difference_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                               const int32_t *in1_shape, const int32_t *in2_shape,
                               const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                               int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                               int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                               int32_t out_mult, int32_t out_shift, int32_t act_min,
                               int32_t act_max);

/* TFLite MAXIMUM / MINIMUM on the raw int8 values (TFLite requires one quantization for
 * both inputs and the output and does not rescale; neither does this). */
void utc_maximum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape);
void utc_minimum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape);

void utc_add_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                 const int32_t *in1_shape, const int32_t *in2_shape, const int32_t *out_shape,
                 int32_t in1_zp, int32_t in2_zp, int32_t out_zp, int32_t left_shift,
                 int32_t in1_mult, int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                 int32_t out_mult, int32_t out_shift, int32_t act_min, int32_t act_max);
void utc_sub_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                 const int32_t *in1_shape, const int32_t *in2_shape, const int32_t *out_shape,
                 int32_t in1_zp, int32_t in2_zp, int32_t out_zp, int32_t left_shift,
                 int32_t in1_mult, int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                 int32_t out_mult, int32_t out_shift, int32_t act_min, int32_t act_max);
void utc_mul_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                 const int32_t *in1_shape, const int32_t *in2_shape, const int32_t *out_shape,
                 int32_t in1_zp, int32_t in2_zp, int32_t out_zp, int32_t out_mult,
                 int32_t out_shift, int32_t act_min, int32_t act_max);
void utc_maximum_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);
void utc_minimum_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ELEMENTWISE_S8_H */
