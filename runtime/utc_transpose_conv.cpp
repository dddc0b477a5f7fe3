#include "utc_transpose_conv.h"

#include "utc_quant.h"
#include "utc_quant16.h"

namespace {

/* The input rows (or columns) whose taps reach output row `o`: y with
 * 0 <= o + pad - y * stride < k, i.e. ceil((o + pad - k + 1) / stride) <= y <=
 * floor((o + pad) / stride), within [0, n). */
struct Span {
  int32_t first, last; /* inclusive; empty when first > last */
};

inline int32_t floor_div(int32_t a, int32_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

inline Span span(int32_t o, int32_t pad, int32_t k, int32_t stride, int32_t n) {
  int32_t first = -floor_div(-(o + pad - k + 1), stride); /* ceil */
  int32_t last = floor_div(o + pad, stride);
  if (first < 0) first = 0;
  if (last > n - 1) last = n - 1;
  return Span{first, last};
}

/* Walks every output element in (batch, row, column, channel) order and hands `emit` the
 * element's index, channel and the taps as (input offset, filter offset) pairs through
 * `tap`, in increasing (input row, input column, input channel) order. */
template <typename Acc, typename In, typename W, typename Tap, typename Emit>
void gather(const In *input, const W *filter, int32_t batches, int32_t in_h, int32_t in_w,
            int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t kh, int32_t kw,
            int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left, Tap tap,
            Emit emit) {
  for (int32_t b = 0; b < batches; ++b) {
    const In *in_b = input + (int64_t)b * in_h * in_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const Span ys = span(oy, pad_top, kh, stride_h, in_h);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const Span xs = span(ox, pad_left, kw, stride_w, in_w);
        const int64_t out_index = (((int64_t)b * out_h + oy) * out_w + ox) * out_c;
        for (int32_t c = 0; c < out_c; ++c) {
          Acc acc = 0;
          for (int32_t y = ys.first; y <= ys.last; ++y) {
            const int32_t fy = oy + pad_top - y * stride_h;
            for (int32_t x = xs.first; x <= xs.last; ++x) {
              const int32_t fx = ox + pad_left - x * stride_w;
              const In *px = in_b + ((int64_t)y * in_w + x) * in_c;
              const W *wt = filter + (((int64_t)c * kh + fy) * kw + fx) * in_c;
              for (int32_t i = 0; i < in_c; ++i) acc = tap(acc, px[i], wt[i]);
            }
          }
          emit(out_index + c, c, acc);
        }
      }
    }
  }
}

}  // namespace

extern "C" {

void utc_transpose_conv_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                           int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                           int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                           int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                           int32_t pad_top, int32_t pad_left, int32_t input_zp,
                           int32_t output_zp, const int32_t *mult, const int32_t *shift,
                           int32_t act_min, int32_t act_max) {
  /* int32 accumulation wraps as TFLite's int32 scratch buffer does (through uint32) */
  gather<uint32_t>(
      input, filter, batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, stride_h,
      stride_w, pad_top, pad_left,
      [input_zp](uint32_t acc, int8_t x, int8_t w) {
        return acc + (uint32_t)(((int32_t)x - input_zp) * (int32_t)w);
      },
      [&](int64_t index, int32_t c, uint32_t acc) {
        if (bias) acc += (uint32_t)bias[c];
        const int32_t v =
            utc_multiply_by_quantized_multiplier((int32_t)acc, mult[c], shift[c]) + output_zp;
        output[index] = (int8_t)utc_clamp(v, act_min, act_max);
      });
}

void utc_transpose_conv_s16(const int16_t *input, const int8_t *filter, const int64_t *bias,
                            int16_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                            int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                            int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                            int32_t pad_top, int32_t pad_left, const int32_t *mult,
                            const int32_t *shift, int32_t act_min, int32_t act_max) {
  gather<int64_t>(
      input, filter, batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, stride_h,
      stride_w, pad_top, pad_left,
      [](int64_t acc, int16_t x, int8_t w) { return acc + (int64_t)((int32_t)x * w); },
      [&](int64_t index, int32_t c, int64_t acc) {
        if (bias) acc += bias[c];
        const int32_t v = utc_multiply_by_quantized_multiplier_64(acc, mult[c], shift[c]);
        output[index] = (int16_t)utc_clamp(v, act_min, act_max);
      });
}

void utc_transpose_conv_f32(const float *input, const float *filter, const float *bias,
                            float *output, int32_t batches, int32_t in_h, int32_t in_w,
                            int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                            int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                            int32_t pad_top, int32_t pad_left, float act_min, float act_max) {
  gather<float>(
      input, filter, batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, stride_h,
      stride_w, pad_top, pad_left, [](float acc, float x, float w) {
        const float p = x * w; /* rounded before the add, as TFLite's += of a product */
        return acc + p;
      },
      [&](int64_t index, int32_t c, float acc) {
        if (bias) acc += bias[c];
        output[index] = acc < act_min ? act_min : (acc > act_max ? act_max : acc);
      });
}

}  // extern "C"
