/* utc_softmax_s8: int8 softmax over the last dimension (TFLite SOFTMAX), bit-exact with
 * TFLite Micro's reference kernel.
 *
 * Per row: diff = x - max(row); entries with diff < diff_min contribute nothing and give the
 * output minimum; the others get exp(diff * beta * input_scale) in gemmlowp fixed point
 * (diff scaled into Q5.26 by input_mult * 2^input_left_shift), are summed in Q12.19, and
 * divided by the sum through a fixed-point reciprocal.
 * input_mult, input_left_shift, diff_min come from
 * utc.passes.quantmath.softmax.softmax_params(beta, input_scale).
 * rows = product of all but the last dimension, depth = the last dimension.
 * TFLM accepts only these output quantizations:
 *   int8 output:  scale 1/256,   zero point -128   (utc_softmax_s8)
 *   int16 output: scale 1/65536, zero point -32768 (utc_softmax_s8_s16)
 * With int8 output TFLM aborts on a row whose exp sum exceeds 512 (e.g. more than 512
 * entries equal to the row maximum); utc returns the correctly rounded result there (-128).
 * Output may alias input.
 *
 * Needs utc_runtime.h and utc_quant.h. */
#ifndef UTC_SOFTMAX_S8_H
#define UTC_SOFTMAX_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                    int32_t input_mult, int32_t input_left_shift, int32_t diff_min);

void utc_softmax_s8_s16(const int8_t *input, int16_t *output, int32_t rows, int32_t depth,
                        int32_t input_mult, int32_t input_left_shift, int32_t diff_min);

#ifdef __cplusplus
}
#endif

#endif /* UTC_SOFTMAX_S8_H */
