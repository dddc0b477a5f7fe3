#include "utc_depthwise_conv2d_s8.h"

#include "utc_quant.h"

/* Bit-exact with TFLite Micro's reference DEPTHWISE_CONV_2D by the argument given in
 * utc_conv2d_s8.cpp: every sum is taken in wrapping uint32_t arithmetic, so it is the
 * exact integer value modulo 2^32, which is TFLM's int32 value whenever TFLM's own
 * computation does not overflow; products cannot overflow (|x * w| <= 128 * 128,
 * |(x - zp) * w| <= 255 * 128).
 *
 * Techniques:
 * - blocks of 8 output channels, the per-channel constants (bias, requantization
 *   parameters) loaded once per band of output rows and block; for interior pixels
 *   (window entirely in bounds) the input zero point is hoisted, bias - zp * sum_taps w,
 *   computed per band and block (no scratch memory to keep it for every channel; a band
 *   is the whole image unless the output overlaps the input, then one row), when the
 *   band has at least kMinHoist interior pixels;
 * - the innermost loop runs over the block's adjacent channels, which are adjacent in
 *   memory for both input (depth_mult 1) and filter; with depth_mult a multiple of the
 *   block, the whole block reads one input value (broadcast);
 * - border pixels clamp the window once and sum w * (x - zp) over the in-bounds taps
 *   only, with no per-tap bounds tests.
 * Access order (the contract of utc_depthwise_conv2d_s8.h): as in utc_conv2d_s8.cpp,
 * output rows finished in increasing order whenever the output overlaps the input, each
 * row reading input rows >= oy * stride_h - pad_top only, no restrict between input and
 * output; several rows per block of channels only when the two buffers are disjoint.
 * Requantization is unchanged (utc_multiply_by_quantized_multiplier per channel). A zero
 * point outside int8 takes TFLM's loop as written. */

namespace {

const int32_t kBlock = 8;     // output channels per block
const int32_t kMinHoist = 2;  // interior pixels in a band for which sum w is worth computing

UTC_INLINE int32_t to_int32(uint32_t u) {
  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* Taps [lo, hi) of a window starting at i0 (step dil, k taps) inside [0, size). */
UTC_INLINE void window(int32_t i0, int32_t dil, int32_t k, int32_t size, int32_t *lo,
                       int32_t *hi) {
  int32_t a = 0, b = k;
  while (a < b && i0 + dil * a < 0) ++a;
  while (b > a && i0 + dil * (b - 1) >= size) --b;
  *lo = a;
  *hi = b;
}

/* Bands of output rows computed one block of output channels at a time: all the rows of
 * a band for one block, then for the next block, so that the per-channel constants (sum w
 * above all) are computed once per band. When the output does not overlap the input at
 * all, the whole image is one band. When it does (the compiler's overlap-buffers pass
 * may start the output below the input), every band is one output row, which keeps the
 * access order of the header: rows finished in increasing order, each row reading only
 * input rows >= oy * stride_h - pad_top. Addresses are compared as uintptr_t. */
UTC_INLINE bool disjoint(const int8_t *a, int32_t a_size, const int8_t *b, int32_t b_size) {
  const uintptr_t a0 = (uintptr_t)a, a1 = (uintptr_t)(a + a_size);
  const uintptr_t b0 = (uintptr_t)b, b1 = (uintptr_t)(b + b_size);
  return a1 <= b0 || b1 <= a0;
}

struct Params {
  const int8_t *input;
  const int8_t *filter;
  const int32_t *bias;
  int8_t *output;
  int32_t in_h, in_w, in_c, out_h, out_w, out_c, depth_mult, kh, kw, stride_h, stride_w,
      dil_h, dil_w, pad_top, pad_left, input_zp, output_zp;
  const int32_t *mult;
  const int32_t *shift;
  int32_t per_channel, act_min, act_max;
};

/* acc[j] += sum over the taps of one window row, fx in [fx0, fx1), of
 * x(channel of oc0 + j) * w(oc0 + j) (kSubZp: (x - zp) * w). kBroadcast: the NB channels
 * share one input channel; else they read NB adjacent input channels. */
template <int NB, bool kBroadcast, bool kSubZp>
UTC_INLINE void taps(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT w, int32_t n,
                     int32_t x_step, int32_t w_step, int32_t zp, uint32_t *UTC_RESTRICT acc) {
  const int16_t z = (int16_t)zp;
  for (int32_t t = 0; t < n; ++t) {
    const int8_t *UTC_RESTRICT xt = x + t * x_step;
    const int8_t *UTC_RESTRICT wt = w + t * w_step;
    for (int32_t j = 0; j < NB; ++j) {
      const int8_t xr = kBroadcast ? xt[0] : xt[j];
      const int32_t xv = kSubZp ? (int32_t)(int16_t)(xr - z) : (int32_t)xr;
      acc[j] += (uint32_t)(xv * wt[j]);
    }
  }
}

/* Output rows [r0, r1), channels [oc0, oc0 + NB), of one batch (in, out: that batch's
 * tensors), row by row. interior_cols: columns whose window is inside the input
 * horizontally. */
template <int NB, bool kBroadcast>
void dw_band_block(const Params &p, const int8_t *in, int8_t *out, int32_t r0, int32_t r1,
                   int32_t oc0, int32_t interior_cols) {
  const int32_t in_h = p.in_h, in_w = p.in_w, in_c = p.in_c, out_w = p.out_w,
                out_c = p.out_c, kh = p.kh, kw = p.kw, stride_h = p.stride_h,
                stride_w = p.stride_w, dil_h = p.dil_h, dil_w = p.dil_w, pad_top = p.pad_top,
                pad_left = p.pad_left, input_zp = p.input_zp, output_zp = p.output_zp,
                act_min = p.act_min, act_max = p.act_max;
  const int32_t ic0 = oc0 / p.depth_mult;  // input channel of oc0 (of the block if kBroadcast)
  const int8_t *UTC_RESTRICT w = p.filter + oc0;
  /* Interior pixels of the band: sum w is computed only when they are enough. */
  int32_t interior_rows = 0;
  for (int32_t oy = r0; oy < r1; ++oy) {
    int32_t fy0, fy1;
    window(oy * stride_h - pad_top, dil_h, kh, in_h, &fy0, &fy1);
    if (fy0 == 0 && fy1 == kh) ++interior_rows;
  }
  const bool hoist = interior_rows * interior_cols >= kMinHoist;
  uint32_t bias[NB], interior_base[NB];
  int32_t mult[NB], shift[NB];
  for (int32_t j = 0; j < NB; ++j) {
    bias[j] = p.bias ? (uint32_t)p.bias[oc0 + j] : 0u;
    interior_base[j] = 0;
    if (hoist) {
      uint32_t wsum = 0;
      for (int32_t t = 0; t < kh * kw; ++t) wsum += (uint32_t)(int32_t)w[t * out_c + j];
      interior_base[j] = bias[j] - (uint32_t)input_zp * wsum;
    }
    const int32_t q = p.per_channel ? oc0 + j : 0;
    mult[j] = p.mult[q];
    shift[j] = p.shift[q];
  }
  const int32_t x_step = dil_w * in_c;  // input elements between taps of a window row
  for (int32_t oy = r0; oy < r1; ++oy) {
    const int32_t iy0 = oy * stride_h - pad_top;
    int32_t fy0, fy1;
    window(iy0, dil_h, kh, in_h, &fy0, &fy1);
    const bool rows_inside = fy0 == 0 && fy1 == kh;
    for (int32_t ox = 0; ox < out_w; ++ox) {
      const int32_t ix0 = ox * stride_w - pad_left;
      int32_t fx0, fx1;
      window(ix0, dil_w, kw, in_w, &fx0, &fx1);
      uint32_t acc[NB];
      if (hoist && rows_inside && fx0 == 0 && fx1 == kw) {
        /* Interior: the whole window is in bounds; zp * sum(w) is in interior_base. */
        for (int32_t j = 0; j < NB; ++j) acc[j] = interior_base[j];
        const int8_t *x = in + (iy0 * in_w + ix0) * in_c + ic0;
        for (int32_t fy = 0; fy < kh; ++fy)
          taps<NB, kBroadcast, false>(x + fy * dil_h * in_w * in_c, w + fy * kw * out_c, kw,
                                      x_step, out_c, 0, acc);
      } else {
        /* Border (or too few interior pixels to hoist): sum w * (x - zp) over the
         * in-bounds taps [fy0, fy1) x [fx0, fx1). */
        for (int32_t j = 0; j < NB; ++j) acc[j] = bias[j];
        if (fx0 < fx1) {
          const int8_t *x = in + ((iy0 + dil_h * fy0) * in_w + ix0 + dil_w * fx0) * in_c + ic0;
          const int8_t *wr = w + (fy0 * kw + fx0) * out_c;
          for (int32_t fy = 0; fy < fy1 - fy0; ++fy)
            taps<NB, kBroadcast, true>(x + fy * dil_h * in_w * in_c, wr + fy * kw * out_c,
                                       fx1 - fx0, x_step, out_c, input_zp, acc);
        }
      }
      int8_t *o = out + (oy * out_w + ox) * out_c + oc0;
      for (int32_t j = 0; j < NB; ++j) {
        const int32_t v =
            utc_multiply_by_quantized_multiplier(to_int32(acc[j]), mult[j], shift[j]) +
            output_zp;
        o[j] = (int8_t)utc_clamp(v, act_min, act_max);
      }
    }
  }
}

/* TFLM's loop as written: the fallback for zero points outside int8. */
void dw_reference(const Params &p, int32_t batches) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        for (int32_t oc = 0; oc < p.out_c; ++oc) {
          const int32_t ic = oc / p.depth_mult;
          uint32_t acc = 0;
          for (int32_t fy = 0; fy < p.kh; ++fy) {
            const int32_t iy = iy0 + p.dil_h * fy;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int32_t fx = 0; fx < p.kw; ++fx) {
              const int32_t ix = ix0 + p.dil_w * fx;
              if (ix < 0 || ix >= p.in_w) continue;
              const int32_t x = p.input[((b * p.in_h + iy) * p.in_w + ix) * p.in_c + ic];
              acc += (uint32_t)(int32_t)p.filter[(fy * p.kw + fx) * p.out_c + oc] *
                     ((uint32_t)x - (uint32_t)p.input_zp);
            }
          }
          if (p.bias) acc += (uint32_t)p.bias[oc];
          const int32_t q = p.per_channel ? oc : 0;
          const int32_t v =
              utc_multiply_by_quantized_multiplier(to_int32(acc), p.mult[q], p.shift[q]) +
              p.output_zp;
          p.output[((b * p.out_h + oy) * p.out_w + ox) * p.out_c + oc] =
              (int8_t)utc_clamp(v, p.act_min, p.act_max);
        }
      }
    }
  }
}

}  // namespace

extern "C" void utc_depthwise_conv2d_s8(const int8_t *input, const int8_t *filter,
                                        const int32_t *bias, int8_t *output, int32_t batches,
                                        int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                                        int32_t out_w, int32_t depth_mult, int32_t kh, int32_t kw,
                                        int32_t stride_h, int32_t stride_w, int32_t dil_h,
                                        int32_t dil_w, int32_t pad_top, int32_t pad_left,
                                        int32_t input_zp, int32_t output_zp, const int32_t *mult,
                                        const int32_t *shift, int32_t per_channel,
                                        int32_t act_min, int32_t act_max) {
  Params p;
  p.input = input;
  p.filter = filter;
  p.bias = bias;
  p.output = output;
  p.in_h = in_h;
  p.in_w = in_w;
  p.in_c = in_c;
  p.out_h = out_h;
  p.out_w = out_w;
  p.out_c = in_c * depth_mult;
  p.depth_mult = depth_mult;
  p.kh = kh;
  p.kw = kw;
  p.stride_h = stride_h;
  p.stride_w = stride_w;
  p.dil_h = dil_h;
  p.dil_w = dil_w;
  p.pad_top = pad_top;
  p.pad_left = pad_left;
  p.input_zp = input_zp;
  p.output_zp = output_zp;
  p.mult = mult;
  p.shift = shift;
  p.per_channel = per_channel;
  p.act_min = act_min;
  p.act_max = act_max;
  if (input_zp < -128 || input_zp > 127) {
    dw_reference(p, batches);
    return;
  }
  /* Columns whose window is inside the input horizontally (the same for every row). */
  int32_t interior_cols = 0;
  for (int32_t ox = 0; ox < out_w; ++ox) {
    int32_t fx0, fx1;
    window(ox * stride_w - pad_left, dil_w, kw, in_w, &fx0, &fx1);
    if (fx0 == 0 && fx1 == kw) ++interior_cols;
  }
  const int32_t band = disjoint(input, batches * in_h * in_w * in_c, output,
                                batches * out_h * out_w * p.out_c)
                           ? out_h
                           : 1;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *in = input + b * in_h * in_w * in_c;
    int8_t *out = output + b * out_h * out_w * p.out_c;
    for (int32_t r0 = 0; r0 < out_h; r0 += band) {
      const int32_t r1 = out_h - r0 < band ? out_h : r0 + band;
      int32_t oc = 0;
      if (depth_mult == 1) {
        for (; oc + kBlock <= p.out_c; oc += kBlock)
          dw_band_block<kBlock, false>(p, in, out, r0, r1, oc, interior_cols);
      } else if (depth_mult % kBlock == 0) {
        for (; oc < p.out_c; oc += kBlock)
          dw_band_block<kBlock, true>(p, in, out, r0, r1, oc, interior_cols);
      }
      for (; oc < p.out_c; ++oc) dw_band_block<1, true>(p, in, out, r0, r1, oc, interior_cols);
    }
  }
}
