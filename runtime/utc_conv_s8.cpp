#include "utc_conv_s8.h"

#include "utc_kernel_util.h"
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
 *   the whole filter of an output channel is a constant: `zp_bias` (bias - zp * sum w per
 *   channel, computed at compile time by the fold-zero-point pass) when given, else
 *   folded into the bias once per band of output rows and block of channels (a band is
 *   the whole image unless the output overlaps the input, then one row) when the band
 *   has at least kMinHoist interior pixels;
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
 * Access order (the contract of utc_conv_s8.h, relied on by the overlap-buffers pass):
 * when the output overlaps the input, output rows are finished one after the other in
 * increasing order (within a row, blocks of channels are the outer loop, columns the
 * inner one), all reads for output row oy lie in input rows >= oy * stride_h - pad_top,
 * and input and output are never restrict-qualified against each other. Only when the
 * two buffers are disjoint are several rows done per block of channels (see `Bands`
 * in utc_kernel_util.h).
 *
 * The only precondition is an int8 zero point (|x - zp| <= 255 fits int16, which the
 * border loop relies on); anything else takes TFLM's loop as written. */

namespace {

const int32_t kConvBlock = 4;  // output channels per block (convolution)
const int32_t kDwBlock = 8;    // output channels per block (depthwise)
const int32_t kMinHoist = 2;   // interior pixels in a band for which sum w is worth computing

using namespace utc_detail;  // the shared helpers of utc_kernel_util.h



/* Output rows [r0, r1), channels [oc0, oc0 + NB), of one batch (in, out: that batch's
 * tensors), row by row. interior_cols: columns whose window is inside the input
 * horizontally; matmul: 1x1 unpadded. */
template <int NB>
void conv_band_block(const ConvParams &p, const int8_t *in, int8_t *out, int32_t r0, int32_t r1,
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
  const int32_t interior_rows = interior_count(r0, r1, stride_h, pad_top, dil_h, kh, in_h);
  const bool hoist = interior_rows * interior_cols >= (p.zp_bias ? 1 : kMinHoist);
  uint32_t bias[NB], interior_base[NB];
  int32_t mult[NB], shift[NB];
  for (int32_t j = 0; j < NB; ++j) {
    bias[j] = p.bias ? (uint32_t)p.bias[oc0 + j] : 0u;
    if (p.zp_bias)
      interior_base[j] = (uint32_t)p.zp_bias[oc0 + j];  // computed at compile time
    else
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
      requantize<NB>(out + (oy * out_w + ox) * out_c + oc0, acc, mult, shift, output_zp,
                     act_min, act_max);
    }
  }
}

#ifdef UTC_DSP
/* With Arm's DSP extension (SMLAD, SXTB16: Cortex-M4/M7/M33/M55) the convolution runs
 * here instead of conv_band_block: two adjacent output pixels with the same in-bounds
 * taps (every interior pair, and border pairs along the top and bottom rows) by two
 * output channels at a time (dot2x2: each expanded input or filter word serves two
 * SMLADs), a lone pixel by two channels (dot1x2), channels innermost, so the
 * per-channel constants are read where they are used instead of kept per block.
 * Interior pixels (kFolded: zp_bias given) sum w * x and start from zp_bias; all other
 * pixels sum w * (x - zp) over their in-bounds taps (SSUB16 on the expanded input words)
 * and start from the bias. Same sums, same wrapping, so the same bytes as the portable
 * path. Access order: output rows one after the other in increasing order, row oy
 * reading input rows >= oy * stride_h - pad_top only, no restrict across rows. */

UTC_INLINE int8_t requant1(uint32_t acc, int32_t mult, int32_t shift, int32_t output_zp,
                           int32_t act_min, int32_t act_max) {
  const int32_t v = utc_multiply_by_quantized_multiplier(to_int32(acc), mult, shift) + output_zp;
  return (int8_t)utc_clamp(v, act_min, act_max);
}

/* Output rows [r0, r1) of one batch (in, out: that batch's tensors), every channel. */
template <bool kFolded>
void conv_rows_dsp(const ConvParams &p, const int8_t *in, int8_t *out, int32_t r0, int32_t r1) {
  const int32_t in_h = p.in_h, in_w = p.in_w, in_c = p.in_c, out_w = p.out_w,
                out_c = p.out_c, kh = p.kh, kw = p.kw, stride_h = p.stride_h,
                stride_w = p.stride_w, dil_h = p.dil_h, dil_w = p.dil_w, pad_top = p.pad_top,
                pad_left = p.pad_left, input_zp = p.input_zp, output_zp = p.output_zp,
                act_min = p.act_min, act_max = p.act_max;
  const int32_t depth = kh * kw * in_c;          // filter elements per output channel
  const int32_t x_row = dil_h * in_w * in_c;     // input elements between window rows
  const int32_t xb_off = stride_w * in_c;        // from one output pixel's window to the next
  for (int32_t oy = r0; oy < r1; ++oy) {
    const int32_t iy0 = oy * stride_h - pad_top;
    int32_t fy0, fy1;
    window(iy0, dil_h, kh, in_h, &fy0, &fy1);
    for (int32_t ox = 0; ox < out_w;) {
      const int32_t ix0 = ox * stride_w - pad_left;
      int32_t fx0, fx1;
      window(ix0, dil_w, kw, in_w, &fx0, &fx1);
      bool pair = false;
      if (ox + 1 < out_w) {
        int32_t gx0, gx1;
        window(ix0 + stride_w, dil_w, kw, in_w, &gx0, &gx1);
        pair = gx0 == fx0 && gx1 == fx1;
      }
      const bool full = kFolded && fy0 == 0 && fy1 == kh && fx0 == 0 && fx1 == kw;
      /* The in-bounds taps as `rows` rows of `segs` contiguous segments of n elements:
       * with dilation 1 one segment per row, else one per tap of in_c elements. */
      const int32_t rows = fx0 < fx1 ? fy1 - fy0 : 0;
      const int32_t segs = dil_w == 1 ? 1 : fx1 - fx0;
      const int32_t n = dil_w == 1 ? (fx1 - fx0) * in_c : in_c;
      const int8_t *x = in + ((iy0 + dil_h * fy0) * in_w + ix0 + dil_w * fx0) * in_c;
      const int8_t *wr = p.filter + (fy0 * kw + fx0) * in_c;
      const int32_t *base = full ? p.zp_bias : p.bias;  // bias may be NULL
      int8_t *o = out + (oy * out_w + ox) * out_c;
      int32_t oc = 0;
      for (; oc + 2 <= out_c; oc += 2, wr += 2 * depth) {
        uint32_t q[4];
        q[0] = q[2] = base ? (uint32_t)base[oc] : 0u;
        q[1] = q[3] = base ? (uint32_t)base[oc + 1] : 0u;
        for (int32_t s = 0; s < segs; ++s) {
          const int8_t *xs = x + s * dil_w * in_c, *ws = wr + s * in_c;
          if (pair) {
            if (full)
              dot2x2<false>(xs, xb_off, x_row, ws, depth, kw * in_c, rows, n, 0, q);
            else
              dot2x2<true>(xs, xb_off, x_row, ws, depth, kw * in_c, rows, n, input_zp, q);
          } else {
            if (full)
              dot1x2<false>(xs, x_row, ws, depth, kw * in_c, rows, n, 0, q);
            else
              dot1x2<true>(xs, x_row, ws, depth, kw * in_c, rows, n, input_zp, q);
          }
        }
        const int32_t c0 = p.per_channel ? oc : 0, c1 = p.per_channel ? oc + 1 : 0;
        const int32_t m0 = p.mult[c0], s0 = p.shift[c0], m1 = p.mult[c1], s1 = p.shift[c1];
        o[oc] = requant1(q[0], m0, s0, output_zp, act_min, act_max);
        o[oc + 1] = requant1(q[1], m1, s1, output_zp, act_min, act_max);
        if (pair) {
          o[out_c + oc] = requant1(q[2], m0, s0, output_zp, act_min, act_max);
          o[out_c + oc + 1] = requant1(q[3], m1, s1, output_zp, act_min, act_max);
        }
      }
      if (oc < out_c) {  // an odd number of channels: the last one alone
        const int32_t c = p.per_channel ? oc : 0;
        for (int32_t k = 0; k < (pair ? 2 : 1); ++k) {
          uint32_t acc = base ? (uint32_t)base[oc] : 0u;
          for (int32_t r = 0; r < rows; ++r)
            for (int32_t s = 0; s < segs; ++s) {
              const int8_t *xs = x + k * xb_off + r * x_row + s * dil_w * in_c;
              const int8_t *ws = wr + r * kw * in_c + s * in_c;
              if (full)
                dot<1, false>(xs, ws, depth, n, 0, &acc);
              else
                dot<1, true>(xs, ws, depth, n, input_zp, &acc);
            }
          o[k * out_c + oc] =
              requant1(acc, p.mult[c], p.shift[c], output_zp, act_min, act_max);
        }
      }
      ox += pair ? 2 : 1;
    }
  }
}
#endif

/* ---- depthwise ---------------------------------------------------------------------- */

/* Bit-exact with TFLite Micro's reference DEPTHWISE_CONV_2D by the argument given for the
 * convolution above: every sum is taken in wrapping uint32_t arithmetic, so it is the
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
 * Access order (the contract of utc_conv_s8.h): as for the convolution above,
 * output rows finished in increasing order whenever the output overlaps the input, each
 * row reading input rows >= oy * stride_h - pad_top only, no restrict between input and
 * output; several rows per block of channels only when the two buffers are disjoint.
 * Requantization is unchanged (utc_multiply_by_quantized_multiplier per channel). A zero
 * point outside int8 takes TFLM's loop as written. */



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
void dw_band_block(const ConvParams &p, const int8_t *in, int8_t *out, int32_t r0, int32_t r1,
                   int32_t oc0, int32_t interior_cols) {
  const int32_t in_h = p.in_h, in_w = p.in_w, in_c = p.in_c, out_w = p.out_w,
                out_c = p.out_c, kh = p.kh, kw = p.kw, stride_h = p.stride_h,
                stride_w = p.stride_w, dil_h = p.dil_h, dil_w = p.dil_w, pad_top = p.pad_top,
                pad_left = p.pad_left, input_zp = p.input_zp, output_zp = p.output_zp,
                act_min = p.act_min, act_max = p.act_max;
  const int32_t ic0 = oc0 / p.depth_mult;  // input channel of oc0 (of the block if kBroadcast)
  const int8_t *UTC_RESTRICT w = p.filter + oc0;
  /* Interior pixels of the band: sum w is computed only when they are enough. */
  const int32_t interior_rows = interior_count(r0, r1, stride_h, pad_top, dil_h, kh, in_h);
  const bool hoist = interior_rows * interior_cols >= (p.zp_bias ? 1 : kMinHoist);
  uint32_t bias[NB], interior_base[NB];
  int32_t mult[NB], shift[NB];
  for (int32_t j = 0; j < NB; ++j) {
    bias[j] = p.bias ? (uint32_t)p.bias[oc0 + j] : 0u;
    interior_base[j] = 0;
    if (p.zp_bias) {
      interior_base[j] = (uint32_t)p.zp_bias[oc0 + j];  // computed at compile time
    } else if (hoist) {
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
      requantize<NB>(out + (oy * out_w + ox) * out_c + oc0, acc, mult, shift, output_zp,
                     act_min, act_max);
    }
  }
}

}  // namespace


extern "C" void utc_conv2d_s8(const int8_t *input, const int8_t *filter, const int32_t *bias,
                              const int32_t *zp_bias, int8_t *output, int32_t batches, int32_t in_h, int32_t in_w,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c,
                              int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                              int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                              int32_t input_zp, int32_t output_zp, const int32_t *mult,
                              const int32_t *shift, int32_t per_channel, int32_t act_min,
                              int32_t act_max) {
  const ConvParams p = {input, filter, bias, zp_bias, output,
                        in_h, in_w, in_c, out_h, out_w, out_c, /* depth_mult */ 1,
                        kh, kw, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left,
                        input_zp, output_zp, mult, shift, per_channel, act_min, act_max};
  if (input_zp < -128 || input_zp > 127) {
    conv_reference<false>(p, batches);
    return;
  }
#ifdef UTC_DSP
  for (Bands band(p, batches); band.next();) {
    if (zp_bias)
      conv_rows_dsp<true>(p, band.in, band.out, band.r0, band.r1);
    else
      conv_rows_dsp<false>(p, band.in, band.out, band.r0, band.r1);
  }
  return;
#endif
  /* Columns whose window is inside the input horizontally (the same for every row). */
  const int32_t interior_cols = interior_count(0, out_w, stride_w, pad_left, dil_w, kw, in_w);
  const bool matmul = kh == 1 && kw == 1 && pad_top == 0 && pad_left == 0 &&
                      (out_h - 1) * stride_h < in_h && (out_w - 1) * stride_w < in_w;
  for (Bands band(p, batches); band.next();) {
    int32_t oc = 0;
    for (; oc + kConvBlock <= out_c; oc += kConvBlock)
      conv_band_block<kConvBlock>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols, matmul);
    for (; oc < out_c; ++oc)
      conv_band_block<1>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols, matmul);
  }
}


extern "C" void utc_depthwise_conv2d_s8(const int8_t *input, const int8_t *filter,
                                        const int32_t *bias, const int32_t *zp_bias,
                                        int8_t *output, int32_t batches,
                                        int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                                        int32_t out_w, int32_t depth_mult, int32_t kh, int32_t kw,
                                        int32_t stride_h, int32_t stride_w, int32_t dil_h,
                                        int32_t dil_w, int32_t pad_top, int32_t pad_left,
                                        int32_t input_zp, int32_t output_zp, const int32_t *mult,
                                        const int32_t *shift, int32_t per_channel,
                                        int32_t act_min, int32_t act_max) {
  const ConvParams p = {input, filter, bias, zp_bias, output,
                        in_h, in_w, in_c, out_h, out_w, in_c * depth_mult, depth_mult,
                        kh, kw, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left,
                        input_zp, output_zp, mult, shift, per_channel, act_min, act_max};
  if (input_zp < -128 || input_zp > 127) {
    conv_reference<true>(p, batches);
    return;
  }
  /* Columns whose window is inside the input horizontally (the same for every row). */
  const int32_t interior_cols = interior_count(0, out_w, stride_w, pad_left, dil_w, kw, in_w);
  for (Bands band(p, batches); band.next();) {
    int32_t oc = 0;
    if (depth_mult == 1) {
      for (; oc + kDwBlock <= p.out_c; oc += kDwBlock)
        dw_band_block<kDwBlock, false>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols);
    } else if (depth_mult % kDwBlock == 0) {
      for (; oc < p.out_c; oc += kDwBlock)
        dw_band_block<kDwBlock, true>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols);
    }
    for (; oc < p.out_c; ++oc)
      dw_band_block<1, true>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols);
  }
}
