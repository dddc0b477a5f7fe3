#include "utc_pool_f32.h"

#include <math.h>

namespace {

inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

template <bool kAverage>
void pool(const float *input, float *output, int32_t batches, int32_t in_h, int32_t in_w,
          int32_t channels, int32_t out_h, int32_t out_w, int32_t fh, int32_t fw,
          int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left, float act_min,
          float act_max) {
  for (int32_t b = 0; b < batches; ++b)
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      const int32_t fy0 = iy0 < 0 ? -iy0 : 0;
      const int32_t fy1 = fh < in_h - iy0 ? fh : in_h - iy0;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        const int32_t fx0 = ix0 < 0 ? -ix0 : 0;
        const int32_t fx1 = fw < in_w - ix0 ? fw : in_w - ix0;
        for (int32_t c = 0; c < channels; ++c) {
          float acc = kAverage ? 0.0f : -3.40282347e+38f;
          int32_t count = 0;
          for (int32_t fy = fy0; fy < fy1; ++fy)
            for (int32_t fx = fx0; fx < fx1; ++fx) {
              const float v = input[((b * in_h + iy0 + fy) * in_w + ix0 + fx) * channels + c];
              if (kAverage) acc += v; else if (v > acc) acc = v;
              ++count;
            }
          if (kAverage) acc = acc / (float)(count ? count : 1);
          output[((b * out_h + oy) * out_w + ox) * channels + c] = clampf(acc, act_min, act_max);
        }
      }
    }
}

}  // namespace

extern "C" void utc_avg_pool_f32(const float *input, float *output, int32_t batches,
                                 int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                                 int32_t out_w, int32_t fh, int32_t fw, int32_t stride_h,
                                 int32_t stride_w, int32_t pad_top, int32_t pad_left,
                                 float act_min, float act_max) {
  pool<true>(input, output, batches, in_h, in_w, channels, out_h, out_w, fh, fw, stride_h,
             stride_w, pad_top, pad_left, act_min, act_max);
}

extern "C" void utc_max_pool_f32(const float *input, float *output, int32_t batches,
                                 int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                                 int32_t out_w, int32_t fh, int32_t fw, int32_t stride_h,
                                 int32_t stride_w, int32_t pad_top, int32_t pad_left,
                                 float act_min, float act_max) {
  pool<false>(input, output, batches, in_h, in_w, channels, out_h, out_w, fh, fw, stride_h,
              stride_w, pad_top, pad_left, act_min, act_max);
}
