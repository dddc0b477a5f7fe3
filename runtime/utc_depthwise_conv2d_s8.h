/* utc_depthwise_conv2d_s8: int8 depthwise convolution (TFLite DEPTHWISE_CONV_2D).
 * input [n, in_h, in_w, in_c], filter [1, kh, kw, out_c] with out_c = in_c * depth_mult,
 * bias [out_c] int32 or NULL, output [n, out_h, out_w, out_c]; per-channel requant. */
#ifndef UTC_DEPTHWISE_CONV2D_S8_H
#define UTC_DEPTHWISE_CONV2D_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_depthwise_conv2d_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                             int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                             int32_t in_c, int32_t out_h, int32_t out_w, int32_t depth_mult,
                             int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                             int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                             int32_t input_zp, int32_t output_zp, const int32_t *mult,
                             const int32_t *shift, int32_t per_channel, int32_t act_min,
                             int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
