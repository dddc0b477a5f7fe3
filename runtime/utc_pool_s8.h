/* utc_pool_s8: int8 average and max pooling (TFLite AVERAGE_POOL_2D, MAX_POOL_2D).
 * input [n, in_h, in_w, c], output [n, out_h, out_w, c]; explicit pad_top/pad_left.
 * Average: rounded (half away from zero) mean of the in-bounds elements. */
#ifndef UTC_POOL_S8_H
#define UTC_POOL_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_avg_pool_s8(const int8_t *input, int8_t *output, int32_t batches, int32_t in_h,
                     int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w, int32_t fh,
                     int32_t fw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                     int32_t pad_left, int32_t act_min, int32_t act_max);
void utc_max_pool_s8(const int8_t *input, int8_t *output, int32_t batches, int32_t in_h,
                     int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w, int32_t fh,
                     int32_t fw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                     int32_t pad_left, int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
