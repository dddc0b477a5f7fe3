/* utc_div_s8: int8 broadcasting DIV, bit-exact with TFLite Micro's reference kernel (the
 * tflite-micro build utc is checked against). Arguments as utc_mul_s8 (utc_elementwise_s8.h):
 * 6-D shapes, zero points, the output multiplier and shift of in1_scale / (in2_scale *
 * out_scale) (div_params), the activation clamp. The output may alias a same-shape input.
 *
 * Per element, TFLite Micro's arithmetic: n = in1 - in1_zp, d = in2 - in2_zp, both negated
 * when d < 0; r = 1 / d as TFLite's GetReciprocal (d normalised to [1, 2) by its leading
 * zeros, recip_shift = 31 - clz(d), gemmlowp's 1 / (1 + x) Newton-Raphson in Q0.31);
 * h = the count of redundant sign bits of n (31 for 0); q = SaturatingRoundingDoublingHighMul
 * (n * 2^h, r); out = clamp(out_zp + RoundingDivideByPOT(SaturatingRoundingDoublingHighMul
 * (q, out_mult), recip_shift + h - out_shift)).
 *
 * That last exponent often exceeds 31 (a zero or small numerator with a small multiplier),
 * where TFLite's RoundingDivideByPOT is undefined. utc reproduces what TFLite Micro
 * computes there on the hosts it is checked on (x86-64: the 64-bit mask truncated to
 * int32 is all ones and the int32 shift count is taken modulo 32), so a zero numerator
 * gives out_zp + 1, not out_zp; TFLite Micro built for Arm may differ for those elements.
 * div_params refuses multipliers that would take the exponent past 63 or below 0.
 *
 * A zero divisor (in2 == in2_zp) is undefined in TFLite Micro; utc gives the clamp bound
 * of the numerator's sign (act_max for n > 0, act_min for n < 0) and clamp(out_zp) for 0. */
#ifndef UTC_DIV_S8_H
#define UTC_DIV_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_div_s8(const int8_t *in1, const int8_t *in2, int8_t *out, const int32_t *in1_shape,
                const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp,
                int32_t in2_zp, int32_t out_zp, int32_t out_mult, int32_t out_shift,
                int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif /* UTC_DIV_S8_H */
