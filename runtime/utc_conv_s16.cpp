#include "utc_conv_s16.h"

#include "utc_quant.h"
#include "utc_quant16.h"

/* TFLite Micro's 16x8 convolutions accumulate in int64 (an int16 x int8 product needs 23
 * bits, so an int32 sum could wrap for windows of a few hundred taps where TFLM's does
 * not). The loops are TFLM's order, the window clipped to the input once per output
 * pixel instead of testing every tap. */

namespace {

/* The taps [f0, f1) of a window starting at input coordinate `origin` that lie inside
 * [0, size). */
inline void clip_window(int32_t origin, int32_t dilation, int32_t taps, int32_t size,
                        int32_t *f0, int32_t *f1) {
  int32_t lo = 0, hi = taps;
  while (lo < hi && origin + dilation * lo < 0) ++lo;
  while (hi > lo && origin + dilation * (hi - 1) >= size) --hi;
  *f0 = lo;
  *f1 = hi;
}

inline int16_t requant16(int64_t acc, const int64_t *bias, int32_t c, const int32_t *mult,
                         const int32_t *shift, int32_t per_channel, int32_t act_min,
                         int32_t act_max) {
  if (bias) acc += bias[c];
  const int32_t q = per_channel ? c : 0;
  const int32_t v = utc_multiply_by_quantized_multiplier_64(acc, mult[q], shift[q]);
  return (int16_t)utc_clamp(v, act_min, act_max);
}

}  // namespace

extern "C" void utc_conv2d_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                               int16_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                               int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                               int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                               int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                               const int32_t *mult, const int32_t *shift, int32_t per_channel,
                               int32_t act_min, int32_t act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    const int16_t *in = input + b * in_h * in_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      int32_t fy0, fy1;
      clip_window(iy0, dil_h, kh, in_h, &fy0, &fy1);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        int32_t fx0, fx1;
        clip_window(ix0, dil_w, kw, in_w, &fx0, &fx1);
        int16_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          int64_t acc = 0;
          for (int32_t fy = fy0; fy < fy1; ++fy) {
            const int16_t *row = in + (iy0 + dil_h * fy) * in_w * in_c;
            const int8_t *wrow = filter + ((oc * kh + fy) * kw) * in_c;
            for (int32_t fx = fx0; fx < fx1; ++fx) {
              const int16_t *x = row + (ix0 + dil_w * fx) * in_c;
              const int8_t *w = wrow + fx * in_c;
              for (int32_t ic = 0; ic < in_c; ++ic) acc += (int32_t)w[ic] * (int32_t)x[ic];
            }
          }
          out[oc] = requant16(acc, bias, oc, mult, shift, per_channel, act_min, act_max);
        }
      }
    }
  }
}

extern "C" void utc_depthwise_conv2d_s16(const int16_t *input, const int8_t *filter,
                                         const int64_t *bias, int16_t *output,
                                         int32_t batches, int32_t in_h, int32_t in_w,
                                         int32_t in_c, int32_t out_h, int32_t out_w,
                                         int32_t depth_mult, int32_t kh, int32_t kw,
                                         int32_t stride_h, int32_t stride_w, int32_t dil_h,
                                         int32_t dil_w, int32_t pad_top, int32_t pad_left,
                                         const int32_t *mult, const int32_t *shift,
                                         int32_t per_channel, int32_t act_min,
                                         int32_t act_max) {
  const int32_t out_c = in_c * depth_mult;
  for (int32_t b = 0; b < batches; ++b) {
    const int16_t *in = input + b * in_h * in_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      int32_t fy0, fy1;
      clip_window(iy0, dil_h, kh, in_h, &fy0, &fy1);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        int32_t fx0, fx1;
        clip_window(ix0, dil_w, kw, in_w, &fx0, &fx1);
        int16_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
        for (int32_t ic = 0; ic < in_c; ++ic) {
          for (int32_t m = 0; m < depth_mult; ++m) {
            const int32_t oc = ic * depth_mult + m;
            int64_t acc = 0;
            for (int32_t fy = fy0; fy < fy1; ++fy) {
              const int32_t iy = iy0 + dil_h * fy;
              for (int32_t fx = fx0; fx < fx1; ++fx) {
                const int32_t ix = ix0 + dil_w * fx;
                acc += (int32_t)filter[(fy * kw + fx) * out_c + oc] *
                       (int32_t)in[(iy * in_w + ix) * in_c + ic];
              }
            }
            out[oc] = requant16(acc, bias, oc, mult, shift, per_channel, act_min, act_max);
          }
        }
      }
    }
  }
}
