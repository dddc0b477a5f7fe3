/* utc_conv2d_s8: int8 2-D convolution (TFLite CONV_2D), bit-exact with TFLite Micro.
 * input [n, in_h, in_w, in_c], filter [out_c, kh, kw, in_c], bias [out_c] int32 or NULL,
 * output [n, out_h, out_w, out_c]. Explicit pad_top/pad_left (the compiler resolved
 * SAME/VALID), strides, dilations; per-channel (or per-tensor) requantization. */
#ifndef UTC_CONV2D_S8_H
#define UTC_CONV2D_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_conv2d_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                   int8_t *output, int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c,
                   int32_t out_h, int32_t out_w, int32_t out_c, int32_t kh, int32_t kw,
                   int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                   int32_t pad_top, int32_t pad_left, int32_t input_zp, int32_t output_zp,
                   const int32_t *mult, const int32_t *shift, int32_t per_channel,
                   int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
