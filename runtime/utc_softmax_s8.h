/* utc_softmax_s8: int8 softmax over the last dimension (TFLite SOFTMAX), bit-exact with
 * TFLite Micro: gemmlowp fixed-point exp of (x - max) scaled by input_mult and
 * input_left_shift (from beta and the input scale), reciprocal of the sum, output
 * quantized with scale 1/256 and zero point -128. Differences below diff_min give -128. */
#ifndef UTC_SOFTMAX_S8_H
#define UTC_SOFTMAX_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                    int32_t input_mult, int32_t input_left_shift, int32_t diff_min);

#ifdef __cplusplus
}
#endif

#endif
