#include "utc_conv2d_s8.h"

#include "utc_quant.h"

extern "C" void utc_conv2d_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                              int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                              int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                              int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                              int32_t input_zp, int32_t output_zp, const int32_t *mult,
                              const int32_t *shift, int32_t per_channel, int32_t act_min,
                              int32_t act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          int32_t acc = 0;
          for (int32_t fy = 0; fy < kh; ++fy) {
            const int32_t iy = iy0 + dil_h * fy;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t fx = 0; fx < kw; ++fx) {
              const int32_t ix = ix0 + dil_w * fx;
              if (ix < 0 || ix >= in_w) continue;
              const int8_t *x = input + ((b * in_h + iy) * in_w + ix) * in_c;
              const int8_t *w = filter + ((oc * kh + fy) * kw + fx) * in_c;
              for (int32_t ic = 0; ic < in_c; ++ic) {
                acc += (int32_t)w[ic] * ((int32_t)x[ic] - input_zp);
              }
            }
          }
          if (bias) acc += bias[oc];
          const int32_t q = per_channel ? oc : 0;
          acc = utc_multiply_by_quantized_multiplier(acc, mult[q], shift[q]) + output_zp;
          output[((b * out_h + oy) * out_w + ox) * out_c + oc] =
              (int8_t)utc_clamp(acc, act_min, act_max);
        }
      }
    }
  }
}
