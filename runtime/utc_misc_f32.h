/* utc_misc_f32: float32 pooling and softmax (TFLite AVERAGE_POOL_2D, MAX_POOL_2D,
 * SOFTMAX). */
#ifndef UTC_MISC_F32_H
#define UTC_MISC_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_avg_pool_f32(const float *input, float *output, int32_t batches, int32_t in_h,
                      int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w, int32_t fh,
                      int32_t fw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, float act_min, float act_max);
void utc_max_pool_f32(const float *input, float *output, int32_t batches, int32_t in_h,
                      int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w, int32_t fh,
                      int32_t fw, int32_t stride_h, int32_t stride_w, int32_t pad_top,
                      int32_t pad_left, float act_min, float act_max);
void utc_softmax_f32(const float *input, float *output, int32_t rows, int32_t depth, float beta);

#ifdef __cplusplus
}
#endif

#endif
