#include "utc_conv2d_s8.h"

#include "utc_quant.h"

/* How this stays bit-exact with TFLite Micro's reference CONV_2D while doing less work.
 *
 * TFLM computes, per output element, acc = sum over in-bounds taps t of w[t] * (x[t] - zp)
 * in int32, adds the bias, requantizes. All of that is integer arithmetic, so any other
 * order of the same additions gives the same value as long as no intermediate overflows.
 * Every sum here is accumulated in uint32_t (wrapping, defined behaviour in C++), so each
 * result is the exact integer value modulo 2^32; whenever TFLM's int32 computation does
 * not overflow its value lies in int32, and the value modulo 2^32 converted back to
 * int32 is that value itself. No intermediate needs a range argument: products are
 * computed in int32 from int8 operands (|x * w| <= 128 * 128) or from (x - zp) with
 * |x - zp| <= 255 (|product| <= 32640), which cannot overflow.
 *
 * That frees the loops to:
 * - hoist the input zero point out of the interior: for an output pixel whose window is
 *   entirely inside the input, sum w * (x - zp) = sum w * x - zp * sum w, where sum w over
 *   the whole filter of an output channel is a constant, folded into the bias once per
 *   band of output rows and block of channels (there is no scratch memory to keep it for
 *   every channel; a band is the whole image unless the output overlaps the input, then
 *   one row), when the band has at least kMinHoist interior pixels;
 * - border pixels (window partly in the padding) sum w * (x - zp) over the in-bounds taps
 *   only, found by clamping the window once per pixel instead of testing every tap;
 * - block 4 output channels, so each input byte loaded serves 4 multiply-accumulates;
 * - run the innermost loop over contiguous memory: with dilation 1 an input row of the
 *   window (kw * in_c bytes) is contiguous, as is the matching filter row, in fixed
 *   16- and 8-element chunks the compiler can unroll or vectorize;
 * - 1x1 unpadded convolutions as a matrix multiply, [pixels x in_c] by [in_c x out_c],
 *   with no window logic at all.
 * Requantization is unchanged: utc_multiply_by_quantized_multiplier per output channel.
 *
 * Access order (the contract of utc_conv2d_s8.h, relied on by the overlap-buffers pass):
 * when the output overlaps the input, output rows are finished one after the other in
 * increasing order (within a row, blocks of channels are the outer loop, columns the
 * inner one), all reads for output row oy lie in input rows >= oy * stride_h - pad_top,
 * and input and output are never restrict-qualified against each other. Only when the
 * two buffers are disjoint are several rows done per block of channels (see `disjoint`).
 *
 * The only precondition is an int8 zero point (|x - zp| <= 255 fits int16, which the
 * border loop relies on); anything else takes TFLM's loop as written. */

namespace {

const int32_t kBlock = 4;     // output channels per block
const int32_t kChunk = 16;    // innermost fixed-length chunk
const int32_t kMinHoist = 2;  // interior pixels in a band for which sum w is worth computing

UTC_INLINE int32_t to_int32(uint32_t u) {
  /* The two's-complement value of u without implementation-defined conversion;
   * compilers emit no instruction for it. */
  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* acc[j] += sum_{t < n} x[t] * w[j * w_stride + t] for j < NB (kSubZp: (x[t] - zp)).
 * Only reads memory (acc is the caller's local array), so restrict is sound even when the
 * caller's output overlaps the input. */
template <int NB, bool kSubZp>
inline void dot(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT w, int32_t w_stride,
                int32_t n, int32_t zp, uint32_t *UTC_RESTRICT acc) {
  const int8_t *UTC_RESTRICT w0 = w;
  const int8_t *UTC_RESTRICT w1 = w + (NB > 1 ? w_stride : 0);
  const int8_t *UTC_RESTRICT w2 = w + (NB > 2 ? 2 * w_stride : 0);
  const int8_t *UTC_RESTRICT w3 = w + (NB > 3 ? 3 * w_stride : 0);
  const int16_t z = (int16_t)zp;
  uint32_t a0 = acc[0], a1 = NB > 1 ? acc[1] : 0, a2 = NB > 2 ? acc[2] : 0,
           a3 = NB > 3 ? acc[3] : 0;
  int32_t t = 0;
  for (; t + kChunk <= n; t += kChunk) {
    for (int32_t k = 0; k < kChunk; ++k) {
      const int32_t xv = kSubZp ? (int32_t)(int16_t)(x[t + k] - z) : (int32_t)x[t + k];
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
  }
  if (t + kChunk / 2 <= n) {
    for (int32_t k = 0; k < kChunk / 2; ++k) {
      const int32_t xv = kSubZp ? (int32_t)(int16_t)(x[t + k] - z) : (int32_t)x[t + k];
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
    t += kChunk / 2;
  }
  for (; t < n; ++t) {
    const int32_t xv = kSubZp ? (int32_t)x[t] - zp : (int32_t)x[t];
    a0 += (uint32_t)(xv * w0[t]);
    if (NB > 1) a1 += (uint32_t)(xv * w1[t]);
    if (NB > 2) a2 += (uint32_t)(xv * w2[t]);
    if (NB > 3) a3 += (uint32_t)(xv * w3[t]);
  }
  acc[0] = a0;
  if (NB > 1) acc[1] = a1;
  if (NB > 2) acc[2] = a2;
  if (NB > 3) acc[3] = a3;
}

/* sum_{t < n} w[t], chunked like dot. */
inline uint32_t sum(const int8_t *UTC_RESTRICT w, int32_t n) {
  uint32_t s = 0;
  int32_t t = 0;
  for (; t + kChunk <= n; t += kChunk)
    for (int32_t k = 0; k < kChunk; ++k) s += (uint32_t)(int32_t)w[t + k];
  for (; t < n; ++t) s += (uint32_t)(int32_t)w[t];
  return s;
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
  int32_t in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, stride_h, stride_w, dil_h, dil_w,
      pad_top, pad_left, input_zp, output_zp;
  const int32_t *mult;
  const int32_t *shift;
  int32_t per_channel, act_min, act_max;
};

/* Output rows [r0, r1), channels [oc0, oc0 + NB), of one batch (in, out: that batch's
 * tensors), row by row. interior_cols: columns whose window is inside the input
 * horizontally; matmul: 1x1 unpadded. */
template <int NB>
void conv_band_block(const Params &p, const int8_t *in, int8_t *out, int32_t r0, int32_t r1,
                     int32_t oc0, int32_t interior_cols, bool matmul) {
  const int32_t in_h = p.in_h, in_w = p.in_w, in_c = p.in_c, out_w = p.out_w,
                out_c = p.out_c, kh = p.kh, kw = p.kw, stride_h = p.stride_h,
                stride_w = p.stride_w, dil_h = p.dil_h, dil_w = p.dil_w, pad_top = p.pad_top,
                pad_left = p.pad_left, input_zp = p.input_zp, output_zp = p.output_zp,
                act_min = p.act_min, act_max = p.act_max;
  const int32_t depth = kh * kw * in_c;  // filter elements per output channel
  const int32_t row = kw * in_c;         // filter elements per filter row
  const int8_t *UTC_RESTRICT w = p.filter + oc0 * depth;
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
    interior_base[j] = hoist ? bias[j] - (uint32_t)input_zp * sum(w + j * depth, depth) : 0u;
    const int32_t q = p.per_channel ? oc0 + j : 0;
    mult[j] = p.mult[q];
    shift[j] = p.shift[q];
  }
  /* A window row is read as `segs` contiguous segments of `seg` elements: the whole row
   * (kw * in_c elements) with dilation 1, else one segment of in_c per tap. */
  const int32_t seg = dil_w == 1 ? row : in_c;
  const int32_t segs = dil_w == 1 ? 1 : kw;
  const int32_t seg_step = dil_w * in_c;
  for (int32_t oy = r0; oy < r1; ++oy) {
    const int32_t iy0 = oy * stride_h - pad_top;
    int32_t fy0, fy1;
    window(iy0, dil_h, kh, in_h, &fy0, &fy1);
    const bool rows_inside = fy0 == 0 && fy1 == kh;
    for (int32_t ox = 0; ox < out_w; ++ox) {
      const int32_t ix0 = ox * stride_w - pad_left;
      uint32_t acc[NB];
      if (matmul && hoist) {
        for (int32_t j = 0; j < NB; ++j) acc[j] = interior_base[j];
        dot<NB, false>(in + (iy0 * in_w + ix0) * in_c, w, depth, in_c, 0, acc);
      } else {
        int32_t fx0, fx1;
        window(ix0, dil_w, kw, in_w, &fx0, &fx1);
        if (hoist && rows_inside && fx0 == 0 && fx1 == kw) {
          /* Interior: the whole window is in bounds; zp * sum(w) is in interior_base. */
          for (int32_t j = 0; j < NB; ++j) acc[j] = interior_base[j];
          const int8_t *x = in + (iy0 * in_w + ix0) * in_c;
          for (int32_t fy = 0; fy < kh; ++fy)
            for (int32_t s = 0; s < segs; ++s)
              dot<NB, false>(x + fy * dil_h * in_w * in_c + s * seg_step,
                             w + fy * row + s * in_c, depth, seg, 0, acc);
        } else {
          /* Border (or too few interior pixels to hoist): sum w * (x - zp) over the
           * in-bounds taps [fy0, fy1) x [fx0, fx1). */
          for (int32_t j = 0; j < NB; ++j) acc[j] = bias[j];
          if (fx0 < fx1) {
            const int32_t bseg = dil_w == 1 ? (fx1 - fx0) * in_c : in_c;
            const int32_t bsegs = dil_w == 1 ? 1 : fx1 - fx0;
            const int8_t *x = in + ((iy0 + dil_h * fy0) * in_w + ix0 + dil_w * fx0) * in_c;
            const int8_t *wr = w + (fy0 * kw + fx0) * in_c;
            for (int32_t fy = 0; fy < fy1 - fy0; ++fy)
              for (int32_t s = 0; s < bsegs; ++s)
                dot<NB, true>(x + fy * dil_h * in_w * in_c + s * seg_step,
                              wr + fy * row + s * in_c, depth, bseg, input_zp, acc);
          }
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
void conv_reference(const Params &p, int32_t batches) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        for (int32_t oc = 0; oc < p.out_c; ++oc) {
          uint32_t acc = 0;
          for (int32_t fy = 0; fy < p.kh; ++fy) {
            const int32_t iy = iy0 + p.dil_h * fy;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int32_t fx = 0; fx < p.kw; ++fx) {
              const int32_t ix = ix0 + p.dil_w * fx;
              if (ix < 0 || ix >= p.in_w) continue;
              const int8_t *x = p.input + ((b * p.in_h + iy) * p.in_w + ix) * p.in_c;
              const int8_t *w = p.filter + ((oc * p.kh + fy) * p.kw + fx) * p.in_c;
              for (int32_t ic = 0; ic < p.in_c; ++ic)
                acc += (uint32_t)(int32_t)w[ic] * ((uint32_t)(int32_t)x[ic] - (uint32_t)p.input_zp);
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

extern "C" void utc_conv2d_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                              int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                              int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                              int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                              int32_t input_zp, int32_t output_zp, const int32_t *mult,
                              const int32_t *shift, int32_t per_channel, int32_t act_min,
                              int32_t act_max) {
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
  p.out_c = out_c;
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
    conv_reference(p, batches);
    return;
  }
  /* Columns whose window is inside the input horizontally (the same for every row). */
  int32_t interior_cols = 0;
  for (int32_t ox = 0; ox < out_w; ++ox) {
    int32_t fx0, fx1;
    window(ox * stride_w - pad_left, dil_w, kw, in_w, &fx0, &fx1);
    if (fx0 == 0 && fx1 == kw) ++interior_cols;
  }
  const bool matmul = kh == 1 && kw == 1 && pad_top == 0 && pad_left == 0 &&
                      (out_h - 1) * stride_h < in_h && (out_w - 1) * stride_w < in_w;
  const int32_t band = disjoint(input, batches * in_h * in_w * in_c, output,
                                batches * out_h * out_w * out_c)
                           ? out_h
                           : 1;
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *in = input + b * in_h * in_w * in_c;
    int8_t *out = output + b * out_h * out_w * out_c;
    for (int32_t r0 = 0; r0 < out_h; r0 += band) {
      const int32_t r1 = out_h - r0 < band ? out_h : r0 + band;
      int32_t oc = 0;
      for (; oc + kBlock <= out_c; oc += kBlock)
        conv_band_block<kBlock>(p, in, out, r0, r1, oc, interior_cols, matmul);
      for (; oc < out_c; ++oc) conv_band_block<1>(p, in, out, r0, r1, oc, interior_cols, matmul);
    }
  }
}
