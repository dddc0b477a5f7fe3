/* utc_resize: TFLite RESIZE_BILINEAR on NHWC images, bit-exact with TFLite Micro's
 * reference kernels. in [batches, in_h, in_w, depth] -> out [batches, out_h, out_w, depth].
 *
 * float32 (ResizeBilinear): per output row y, in float, src = y * h_scale or, with
 * half_pixel_centers, (y + 0.5f) * h_scale - 0.5f; y0 = max(floor(src), 0), y1 =
 * min(ceil(src), in_h - 1); likewise for columns; out = v00 * (1 - dy) * (1 - dx) +
 * v10 * dy * (1 - dx) + v01 * (1 - dy) * dx + v11 * dy * dx + 0.0f with dy = src - y0,
 * evaluated in that order. h_scale/w_scale from utc.passes.quantmath.resize
 * (resize_scale_f32).
 *
 * int8 (ResizeBilinearInteger): the same in Q10 integers (h_scale_10/w_scale_10 from
 * resize_scale_q10): src = y * scale or y * scale + scale / 2 - 512, y0 = max(src / 1024,
 * 0), y1 = min((src + 1023) / 1024, in_h - 1), the four weighted values summed in int64
 * and divided by 2^20 rounding half away from zero. Stored values are interpolated (input
 * and output share one quantization).
 *
 * The output must not alias the input. */
#ifndef UTC_RESIZE_H
#define UTC_RESIZE_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_resize_bilinear_f32(const float *input, float *output, int32_t batches, int32_t in_h,
                             int32_t in_w, int32_t depth, int32_t out_h, int32_t out_w,
                             float h_scale, float w_scale, int32_t half_pixel_centers);
void utc_resize_bilinear_s8(const int8_t *input, int8_t *output, int32_t batches, int32_t in_h,
                            int32_t in_w, int32_t depth, int32_t out_h, int32_t out_w,
                            int32_t h_scale_10, int32_t w_scale_10,
                            int32_t half_pixel_centers);

#ifdef __cplusplus
}
#endif

#endif /* UTC_RESIZE_H */
