/* utc_fully_connected_s8: int8 fully connected layer (TFLite FULLY_CONNECTED).
 *
 * input   [batches, depth] int8     filter [units, depth] int8    bias [units] int32 or NULL
 * output  [batches, units] int8
 * Zero points have TFLite's meaning (real = scale * (q - zp)). Requantization of the
 * int32 accumulator uses mult[c], shift[c] when per_channel, else mult[0], shift[0];
 * the result is offset by output_zp and clamped to [act_min, act_max].
 * zp_bias [units] int32 or NULL: bias - input_zp * sum of the unit's weights, wrapped to
 * int32 (the fold-zero-point pass computes it at compile time); when given, the kernel
 * computes sum w * x plus that instead of sum w * (x - input_zp) plus the bias. */
#ifndef UTC_FULLY_CONNECTED_S8_H
#define UTC_FULLY_CONNECTED_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_fully_connected_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                            const int32_t *zp_bias, int8_t *output, int32_t batches, int32_t depth, int32_t units,
                            int32_t input_zp, int32_t filter_zp, int32_t output_zp,
                            const int32_t *mult, const int32_t *shift, int32_t per_channel,
                            int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
