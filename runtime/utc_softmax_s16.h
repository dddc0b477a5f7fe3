/* utc_softmax_s16: 16x8 SOFTMAX over the last dimension (int16 in and out), bit-exact with
 * TFLite Micro's int16 reference kernel.
 *
 * Per row of `depth` values:
 *   d = x - max(row), scaled by (input_mult, input_left_shift) so that [-65535, 0] covers
 *       [-10, 0], shifted by +32767 and saturated to int16;
 *   e = exp_lut(d) in Q0.15 (interpolated 513-entry table), summed in int32;
 *   the sum is normalised by its leading zeros into [1, 2) (14 fraction bits after a
 *       rounding shift), recentred by -(2^15 + 2^16) and saturated to int16, and
 *       recip_lut of it is 1 / (1 + x);
 *   out = clamp((e * recip + 2^(s - 1)) >> s, 0, 32767), s = 31 - leading zeros of the sum.
 * A table lookup takes entry 256 + (v >> 7) and adds the slope to the next entry times the
 * low 7 bits of v, rounded.
 * input_mult and input_left_shift come from
 * utc.passes.quantmath.softmax.softmax16_params(beta, ...); exp_lut and recip_lut
 * (513 int16 each, flash) from softmax16_luts(). Output scale 1/32768, zero points 0.
 * The exps are kept in the output row until the sum is known; output may alias input (each
 * input is read, after the row maximum, before its output is written).
 *
 * Needs utc_runtime.h and utc_quant.h. */
#ifndef UTC_SOFTMAX_S16_H
#define UTC_SOFTMAX_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_softmax_s16(const int16_t *input, int16_t *output, int32_t rows, int32_t depth,
                     int32_t input_mult, int32_t input_left_shift, const int16_t *exp_lut,
                     const int16_t *recip_lut);

#ifdef __cplusplus
}
#endif

#endif /* UTC_SOFTMAX_S16_H */
