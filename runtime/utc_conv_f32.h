/* utc_conv_f32: float32 convolution and depthwise convolution (TFLite CONV_2D,
 * DEPTHWISE_CONV_2D), same layouts and explicit padding as the int8 kernels; outputs
 * clamped to [act_min, act_max]. Accumulation order follows TFLite's reference kernels. */
#ifndef UTC_CONV_F32_H
#define UTC_CONV_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_conv2d_f32(const float *input, const float *filter, const float *bias, float *output,
                    int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                    int32_t out_w, int32_t out_c, int32_t kh, int32_t kw, int32_t stride_h,
                    int32_t stride_w, int32_t dil_h, int32_t dil_w, int32_t pad_top,
                    int32_t pad_left, float act_min, float act_max);
void utc_depthwise_conv2d_f32(const float *input, const float *filter, const float *bias,
                              float *output, int32_t batches, int32_t in_h, int32_t in_w,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t depth_mult,
                              int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                              int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                              float act_min, float act_max);

#ifdef __cplusplus
}
#endif

#endif
