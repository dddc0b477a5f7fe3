#include "utc_conv_f32.h"

#include <string.h>

namespace {
inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
}  // namespace

extern "C" void utc_conv2d_f32(const float *input, const float *filter, const float *bias,
                               float *output, int32_t batches, int32_t in_h, int32_t in_w,
                               int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                               int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                               int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                               float act_min, float act_max, int32_t reverse) {
  for (int32_t b = 0; b < batches; ++b)
    for (int32_t row = 0; row < out_h; ++row) {
      const int32_t oy = reverse ? out_h - 1 - row : row;  // the header's reverse order
      for (int32_t ox = 0; ox < out_w; ++ox)
        for (int32_t oc = 0; oc < out_c; ++oc) {
          float total = 0.0f;
          for (int32_t fy = 0; fy < kh; ++fy) {
            const int32_t iy = oy * stride_h - pad_top + dil_h * fy;
            for (int32_t fx = 0; fx < kw; ++fx) {
              const int32_t ix = ox * stride_w - pad_left + dil_w * fx;
              if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
              const float *x = input + ((b * in_h + iy) * in_w + ix) * in_c;
              const float *w = filter + ((oc * kh + fy) * kw + fx) * in_c;
              for (int32_t ic = 0; ic < in_c; ++ic) total += x[ic] * w[ic];
            }
          }
          const float v = total + (bias ? bias[oc] : 0.0f);
          output[((b * out_h + oy) * out_w + ox) * out_c + oc] = clampf(v, act_min, act_max);
        }
    }
}

/* Two pixels at a time in increasing order: each pair copied into `pixel`, then
 * utc_conv2d_f32 on that 1x2 image, its outputs written over the input pair (the
 * header's in-place contract). */
extern "C" void utc_conv2d_pixel_f32(const float *input, const float *filter, const float *bias,
                                     float *output, int32_t batches, int32_t in_h, int32_t in_w,
                                     int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                                     int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                                     int32_t dil_h, int32_t dil_w, int32_t pad_top,
                                     int32_t pad_left, float act_min, float act_max,
                                     void *pixel_buffer) {
  (void)in_h;
  (void)in_w;
  float *pixel = static_cast<float *>(pixel_buffer);
  (void)stride_h;
  (void)stride_w;
  const int32_t pixels = batches * out_h * out_w;
  for (int32_t i = 0; i < pixels; i += 2) {  // two pixels at a time (the last maybe alone)
    const int32_t n = pixels - i < 2 ? 1 : 2;
    memcpy(pixel, input + i * in_c, (size_t)(n * in_c) * sizeof(float));
    // a 1xn image; output pixel k reads input pixel k (stride 1)
    utc_conv2d_f32(pixel, filter, bias, output + i * out_c, 1, 1, n, in_c, 1, n, out_c, kh, kw,
                   1, 1, dil_h, dil_w, pad_top, pad_left, act_min, act_max, 0);
  }
}

extern "C" void utc_depthwise_conv2d_f32(const float *input, const float *filter,
                                         const float *bias, float *output, int32_t batches,
                                         int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                                         int32_t out_w, int32_t depth_mult, int32_t kh,
                                         int32_t kw, int32_t stride_h, int32_t stride_w,
                                         int32_t dil_h, int32_t dil_w, int32_t pad_top,
                                         int32_t pad_left, float act_min, float act_max) {
  const int32_t out_c = in_c * depth_mult;
  for (int32_t b = 0; b < batches; ++b)
    for (int32_t oy = 0; oy < out_h; ++oy)
      for (int32_t ox = 0; ox < out_w; ++ox)
        for (int32_t ic = 0; ic < in_c; ++ic)
          for (int32_t m = 0; m < depth_mult; ++m) {
            const int32_t oc = ic * depth_mult + m;
            float total = 0.0f;
            for (int32_t fy = 0; fy < kh; ++fy) {
              const int32_t iy = oy * stride_h - pad_top + dil_h * fy;
              for (int32_t fx = 0; fx < kw; ++fx) {
                const int32_t ix = ox * stride_w - pad_left + dil_w * fx;
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                total += input[((b * in_h + iy) * in_w + ix) * in_c + ic] *
                         filter[(fy * kw + fx) * out_c + oc];
              }
            }
            const float v = total + (bias ? bias[oc] : 0.0f);
            output[((b * out_h + oy) * out_w + ox) * out_c + oc] = clampf(v, act_min, act_max);
          }
}
