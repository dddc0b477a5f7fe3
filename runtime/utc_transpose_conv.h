/* utc_transpose_conv: TFLite TRANSPOSE_CONV (the gradient of a strided convolution),
 * int8 with per-channel requantization, 16x8 and float32, bit-exact with TFLite Micro's
 * reference kernels.
 *
 * input  [batches, in_h, in_w, in_c] NHWC
 * filter [out_c, kh, kw, in_c] (int8 for the integer kernels, zero point ignored as TFLM)
 * bias   [out_c] (int32 for int8, int64 for 16x8, float32) or NULL
 * output [batches, out_h, out_w, out_c]
 * Input pixel (y, x) spreads over output rows y * stride_h - pad_top + fy and columns
 * x * stride_w - pad_left + fx, tap (fy, fx); taps outside the output are dropped.
 * TFLite Micro scatters every input pixel into an accumulator the size of the output (an
 * int32 / int64 scratch buffer, the output itself for float32). These kernels gather
 * instead: each output element sums, in increasing (y, x, input channel) order, exactly the
 * products TFLite scatters into it, in the order it adds them, so no scratch buffer is
 * needed and float32 rounds identically. Then, per element:
 *   int8:    acc = sum((x - input_zp) * w) (int32, wrapping) + bias;
 *            clamp(MultiplyByQuantizedMultiplier(acc, mult[c], shift[c]) + output_zp, act)
 *   16x8:    acc = sum(x * w) (int64) + bias; clamp(64-bit requantization, act)
 *   float32: acc = sum(x * w) rounded at each add, + bias, clamped to [act_min, act_max].
 * mult/shift (out_c entries) come from utc.passes.quantmath.conv_requant_params, pad_top
 * and pad_left from TFLite's ComputePaddingHeightWidth on the output size. The output may
 * not alias the input.
 *
 * Needs utc_runtime.h, utc_quant.h and utc_quant16.h. */
#ifndef UTC_TRANSPOSE_CONV_H
#define UTC_TRANSPOSE_CONV_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_transpose_conv_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                           int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                           int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                           int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                           int32_t pad_top, int32_t pad_left, int32_t input_zp,
                           int32_t output_zp, const int32_t *mult, const int32_t *shift,
                           int32_t act_min, int32_t act_max);

void utc_transpose_conv_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                            int16_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                            int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                            int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                            int32_t pad_top, int32_t pad_left, const int32_t *mult,
                            const int32_t *shift, int32_t act_min, int32_t act_max);

void utc_transpose_conv_f32(const float *input, const float *filter, const float *bias,
                            float *output, int32_t batches, int32_t in_h, int32_t in_w,
                            int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                            int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                            int32_t pad_top, int32_t pad_left, float act_min, float act_max);

#ifdef __cplusplus
}
#endif

#endif /* UTC_TRANSPOSE_CONV_H */
