/* utc_fully_connected_f32: float fully connected layer (TFLite FULLY_CONNECTED).
 * input [batches, depth], filter [units, depth], bias [units] or NULL,
 * output [batches, units] clamped to [act_min, act_max]. */
#ifndef UTC_FULLY_CONNECTED_F32_H
#define UTC_FULLY_CONNECTED_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_fully_connected_f32(const float *input, const float *filter, const float *bias,
                             float *output, int32_t batches, int32_t depth, int32_t units,
                             float act_min, float act_max);

#ifdef __cplusplus
}
#endif

#endif
