#include "utc_conv_s16.h"

#include "utc_kernel_util.h"
#include "utc_quant.h"
#include "utc_quant16.h"

/* TFLite Micro's 16x8 convolutions accumulate in int64 (an int16 x int8 product needs 23
 * bits, so an int32 sum could wrap for windows of a few hundred taps where TFLM's does
 * not). The loops are TFLM's order, the window clipped to the input once per output
 * pixel instead of testing every tap. */

namespace {

using utc_detail::window;

inline int16_t requant16(int64_t acc, const int64_t *bias, int32_t c, const int32_t *mult,
                         const int32_t *shift, int32_t per_channel, int32_t act_min,
                         int32_t act_max) {
  if (bias) acc += bias[c];
  const int32_t q = per_channel ? c : 0;
  const int32_t v = utc_multiply_by_quantized_multiplier_64(acc, mult[q], shift[q]);
  return (int16_t)utc_clamp(v, act_min, act_max);
}

/* One output pixel's in-bounds window: input rows [fy0, fy1) and columns [fx0, fx1) of
 * taps starting at input (iy0, ix0), and where its output channels go. */
struct Pixel {
  int32_t iy0, ix0, fy0, fy1, fx0, fx1;
  const int16_t *in;  // this batch's input
  int16_t *out;       // this pixel's first output channel
};

/* Calls `body(pixel)` for every output pixel in (batch, row, column) order. */
template <typename Body>
void for_each_pixel(const int16_t *input, int16_t *output, int32_t batches, int32_t in_h,
                    int32_t in_w, int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                    int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, const Body &body) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      Pixel p;
      p.in = input + b * in_h * in_w * in_c;
      p.iy0 = oy * stride_h - pad_top;
      window(p.iy0, dil_h, kh, in_h, &p.fy0, &p.fy1);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        p.ix0 = ox * stride_w - pad_left;
        window(p.ix0, dil_w, kw, in_w, &p.fx0, &p.fx1);
        p.out = output + ((b * out_h + oy) * out_w + ox) * out_c;
        body(p);
      }
    }
  }
}

}  // namespace

extern "C" void utc_conv2d_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                               int16_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                               int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                               int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                               int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                               const int32_t *mult, const int32_t *shift, int32_t per_channel,
                               int32_t act_min, int32_t act_max) {
  for_each_pixel(input, output, batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw,
                 stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, [&](const Pixel &p) {
    for (int32_t oc = 0; oc < out_c; ++oc) {
      int64_t acc = 0;
      for (int32_t fy = p.fy0; fy < p.fy1; ++fy) {
        const int16_t *row = p.in + (p.iy0 + dil_h * fy) * in_w * in_c;
        const int8_t *wrow = filter + ((oc * kh + fy) * kw) * in_c;
        for (int32_t fx = p.fx0; fx < p.fx1; ++fx) {
          const int16_t *x = row + (p.ix0 + dil_w * fx) * in_c;
          const int8_t *w = wrow + fx * in_c;
          for (int32_t ic = 0; ic < in_c; ++ic) acc += (int32_t)w[ic] * (int32_t)x[ic];
        }
      }
      p.out[oc] = requant16(acc, bias, oc, mult, shift, per_channel, act_min, act_max);
    }
  });
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
  for_each_pixel(input, output, batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw,
                 stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, [&](const Pixel &p) {
    for (int32_t oc = 0; oc < out_c; ++oc) {
      const int32_t ic = oc / depth_mult;
      int64_t acc = 0;
      for (int32_t fy = p.fy0; fy < p.fy1; ++fy) {
        const int32_t iy = p.iy0 + dil_h * fy;
        for (int32_t fx = p.fx0; fx < p.fx1; ++fx) {
          const int32_t ix = p.ix0 + dil_w * fx;
          acc += (int32_t)filter[(fy * kw + fx) * out_c + oc] *
                 (int32_t)p.in[(iy * in_w + ix) * in_c + ic];
        }
      }
      p.out[oc] = requant16(acc, bias, oc, mult, shift, per_channel, act_min, act_max);
    }
  });
}
