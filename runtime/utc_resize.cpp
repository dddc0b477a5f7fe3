#include "utc_resize.h"

#include <math.h>

namespace {

void source_f32(int32_t i, float scale, bool half, int32_t size, float *src, int32_t *lo,
                int32_t *hi) {
  *src = half ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
  const int32_t f = (int32_t)floorf(*src);
  const int32_t c = (int32_t)ceilf(*src);
  *lo = f > 0 ? f : 0;
  *hi = c < size - 1 ? c : size - 1;
}

void source_q10(int32_t i, int32_t scale, bool half, int32_t size, int32_t *src, int32_t *lo,
                int32_t *hi) {
  *src = half ? i * scale + scale / 2 - (1 << 9) : i * scale;
  const int32_t f = *src / (1 << 10);
  const int32_t c = (*src + (1 << 10) - 1) / (1 << 10);
  *lo = f > 0 ? f : 0;
  *hi = c < size - 1 ? c : size - 1;
}

}  // namespace

extern "C" {

void utc_resize_bilinear_f32(const float *input, float *output, int32_t batches, int32_t in_h,
                             int32_t in_w, int32_t depth, int32_t out_h, int32_t out_w,
                             float h_scale, float w_scale, int32_t half_pixel_centers) {
  const bool half = half_pixel_centers != 0;
  for (int32_t b = 0; b < batches; ++b) {
    const float *img = input + (ptrdiff_t)b * in_h * in_w * depth;
    for (int32_t y = 0; y < out_h; ++y) {
      float sy;
      int32_t y0, y1;
      source_f32(y, h_scale, half, in_h, &sy, &y0, &y1);
      const float dy = sy - (float)y0;
      for (int32_t x = 0; x < out_w; ++x) {
        float sx;
        int32_t x0, x1;
        source_f32(x, w_scale, half, in_w, &sx, &x0, &x1);
        const float dx = sx - (float)x0;
        const float *p00 = img + ((ptrdiff_t)y0 * in_w + x0) * depth;
        const float *p10 = img + ((ptrdiff_t)y1 * in_w + x0) * depth;
        const float *p01 = img + ((ptrdiff_t)y0 * in_w + x1) * depth;
        const float *p11 = img + ((ptrdiff_t)y1 * in_w + x1) * depth;
        for (int32_t c = 0; c < depth; ++c) {
          *output++ = p00[c] * (1 - dy) * (1 - dx) + p10[c] * dy * (1 - dx) +
                      p01[c] * (1 - dy) * dx + p11[c] * dy * dx + 0.0f;
        }
      }
    }
  }
}

void utc_resize_bilinear_s8(const int8_t *input, int8_t *output, int32_t batches, int32_t in_h,
                            int32_t in_w, int32_t depth, int32_t out_h, int32_t out_w,
                            int32_t h_scale_10, int32_t w_scale_10,
                            int32_t half_pixel_centers) {
  const bool half = half_pixel_centers != 0;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *img = input + (ptrdiff_t)b * in_h * in_w * depth;
    for (int32_t y = 0; y < out_h; ++y) {
      int32_t sy, y0, y1;
      source_q10(y, h_scale_10, half, in_h, &sy, &y0, &y1);
      const int64_t wy1 = sy - (1 << 10) * y0, wy0 = (1 << 10) - wy1;
      for (int32_t x = 0; x < out_w; ++x) {
        int32_t sx, x0, x1;
        source_q10(x, w_scale_10, half, in_w, &sx, &x0, &x1);
        const int64_t wx1 = sx - (1 << 10) * x0, wx0 = (1 << 10) - wx1;
        const int8_t *p00 = img + ((ptrdiff_t)y0 * in_w + x0) * depth;
        const int8_t *p10 = img + ((ptrdiff_t)y1 * in_w + x0) * depth;
        const int8_t *p01 = img + ((ptrdiff_t)y0 * in_w + x1) * depth;
        const int8_t *p11 = img + ((ptrdiff_t)y1 * in_w + x1) * depth;
        for (int32_t c = 0; c < depth; ++c) {
          const int64_t sum = p00[c] * wy0 * wx0 + p10[c] * wy1 * wx0 + p01[c] * wy0 * wx1 +
                              p11[c] * wy1 * wx1;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          *output++ = (int8_t)((sum + round) / (1 << 20));
        }
      }
    }
  }
}

}  // extern "C"
