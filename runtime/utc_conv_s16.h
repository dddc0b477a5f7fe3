/* utc_conv_s16: 16x8 convolutions (TFLite CONV_2D and DEPTHWISE_CONV_2D with int16
 * activations and int8 weights), bit-exact with TFLite Micro's reference kernels.
 *
 * input  [batches, in_h, in_w, in_c] int16 (zero point 0), NHWC
 * filter [out_c, kh, kw, in_c] (convolution) or [1, kh, kw, in_c * depth_mult] (depthwise),
 *        int8, zero point 0
 * bias   [out_c] int64 or NULL
 * output [batches, out_h, out_w, out_c] int16 (zero point 0)
 * Each output is sum(w * x) over the window's in-bounds taps (padding contributes
 * nothing: the input zero point is 0) in int64, plus the bias, requantized by the 64-bit
 * MultiplyByQuantizedMultiplier (utc_quant16.h) with mult[c], shift[c] (per_channel) or
 * mult[0], shift[0], and clamped to [act_min, act_max]. The output may not alias the
 * input. */
#ifndef UTC_CONV_S16_H
#define UTC_CONV_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_conv2d_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                    int16_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                    int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t kh,
                    int32_t kw, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, const int32_t *mult,
                    const int32_t *shift, int32_t per_channel, int32_t act_min,
                    int32_t act_max);

void utc_depthwise_conv2d_s16(const int16_t *input, const int8_t *filter,
                              const int64_t *bias, int16_t *output, int32_t batches,
                              int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                              int32_t out_w, int32_t depth_mult, int32_t kh, int32_t kw,
                              int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                              int32_t pad_top, int32_t pad_left, const int32_t *mult,
                              const int32_t *shift, int32_t per_channel, int32_t act_min,
                              int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
