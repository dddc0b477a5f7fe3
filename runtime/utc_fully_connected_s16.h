/* utc_fully_connected_s16: 16x8 fully connected layer (TFLite FULLY_CONNECTED with int16
 * activations and int8 weights), bit-exact with TFLite Micro's reference kernel.
 *
 * input   [batches, depth] int16 (zero point 0)   filter [units, depth] int8
 * bias    [units] int64 or NULL                   output [batches, units] int16 (zp 0)
 * acc = sum_d (w[d] - filter_zp) * x[d] in int64, plus the bias, requantized with the
 * 64-bit MultiplyByQuantizedMultiplier (utc_quant16.h) by mult[c], shift[c] when
 * per_channel, else mult[0], shift[0], and clamped to [act_min, act_max]. The output may
 * not alias the input. */
#ifndef UTC_FULLY_CONNECTED_S16_H
#define UTC_FULLY_CONNECTED_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_fully_connected_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                             int16_t *output, int32_t batches, int32_t depth, int32_t units,
                             int32_t filter_zp, const int32_t *mult, const int32_t *shift,
                             int32_t per_channel, int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
