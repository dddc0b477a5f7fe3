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
 * border loop relies on); anything else takes TFLM's loop as written.
 *
 * That is the portable path (conv_band_block). Targets with Arm's DSP extension run the
 * DSP path below instead (conv_dsp: the same argument, other loops). */

namespace {

const int32_t kConvBlock = 4;  // output channels per block (convolution)
const int32_t kDwBlock = 8;    // output channels per block (depthwise)
const int32_t kMinHoist = 2;   // interior pixels in a band for which sum w is worth computing

using namespace utc_detail;  // the shared helpers of utc_kernel_util.h

/* The parameters of either convolution, as the generated code passes them (utc_conv_s8.h). */
typedef utc_conv_s8_params ConvParams;

/* The bands of output rows a convolution computes one block of output channels at a
 * time: all the rows of a band for one block, then for the next block, so that the
 * per-channel constants (sum w above all) are computed once per band.
 *   for (Bands band(p, batches); band.next();)
 *     ... output rows [band.r0, band.r1) of the batch whose tensors are band.in, band.out
 * Bands come in increasing order, batch by batch. When the output does not overlap the
 * input at all, the whole image is one band. When it does (the compiler's
 * overlap-buffers pass may start the output below the input), every band is one output
 * row, which keeps the access order of the convolutions' headers: rows finished in
 * increasing order, each row reading only input rows >= oy * stride_h - pad_top. */
class Bands {
 public:
  const int8_t *in;  // the current band's batch of the input
  int8_t *out;       // and of the output
  int32_t r0, r1;    // its output rows

  /* `channelwise`: the caller keeps the channel-wise order of utc_conv_s8.h (depthwise,
   * depth multiplier 1, channel blocks outermost, pixels of a channel in increasing
   * order). Then an output starting a whole number of pixels at or before the input
   * (the only overlaps the planner gives such a call on the channel grid, every one at
   * least channelwise_overlap_pixels, which never exceeds the row bound) is safe with
   * all rows in one band, and the per-band constants are computed once. */
  Bands(const ConvParams &p, int32_t batches, bool channelwise = false)
      : in(p.input), out(p.output), r0(0), r1(p.out_h), input_(p.input), output_(p.output),
        in_size_(p.in_h * p.in_w * p.in_c), out_size_(p.out_h * p.out_w * p.out_c),
        out_h_(p.out_h), batches_(batches), batch_(-1),
        rows_(disjoint(p.input, batches * in_size_, p.output, batches * out_size_) ||
                      (channelwise && on_channel_grid(p, batches))
                  ? p.out_h
                  : 1),
        reverse_(p.reverse != 0) {
    if (reverse_) r0 = 0;  // next_down starts a batch when r0 reaches 0
  }

  /* Moves to the next band; false when there is none. */
  bool next() {
    if (reverse_) return next_down();
    while (r1 >= out_h_) {  // the current batch is done (or none has started)
      if (++batch_ >= batches_) return false;
      in = input_ + batch_ * in_size_;
      out = output_ + batch_ * out_size_;
      r1 = 0;
    }
    r0 = r1;
    r1 = out_h_ - r0 < rows_ ? out_h_ : r0 + rows_;
    return true;
  }

 private:
  /* One batch, forward order, the output starting d bytes before the input with d a
   * whole number k of pixels (equal in and out channels) and k >= the least the
   * channel-wise order allows (passes/planning/overlap.py, channelwise_overlap_pixels:
   * the largest P - first(P), rows and columns apart), so the order alone keeps every
   * read ahead of the write that could clobber it, whatever the bands. */
  static bool on_channel_grid(const ConvParams &p, int32_t batches) {
    if (batches != 1 || p.reverse != 0 || p.depth_mult != 1 || p.in_c != p.out_c) return false;
    const intptr_t d = (intptr_t)((uintptr_t)p.input - (uintptr_t)p.output);
    if (d < 0 || d % p.in_c != 0) return false;
    int32_t rows = 0, cols = 0;
    for (int32_t oy = 0; oy < p.out_h; ++oy) {
      int32_t iy = oy * p.stride_h - p.pad_top;
      iy = iy < 0 ? 0 : (iy > p.in_h - 1 ? p.in_h - 1 : iy);
      const int32_t v = oy * p.out_w - iy * p.in_w;
      rows = oy == 0 || v > rows ? v : rows;
    }
    for (int32_t ox = 0; ox < p.out_w; ++ox) {
      int32_t ix = ox * p.stride_w - p.pad_left;
      ix = ix < 0 ? 0 : (ix > p.in_w - 1 ? p.in_w - 1 : ix);
      const int32_t v = ox - ix;
      cols = ox == 0 || v > cols ? v : cols;
    }
    const intptr_t k = rows + cols > 0 ? rows + cols : 0;
    return d / p.in_c >= k;
  }

  /* next() for params.reverse: the bands of a batch from the last rows to the first. */
  bool next_down() {
    while (r0 <= 0) {
      if (++batch_ >= batches_) return false;
      in = input_ + batch_ * in_size_;
      out = output_ + batch_ * out_size_;
      r0 = out_h_;
    }
    r1 = r0;
    r0 = r1 < rows_ ? 0 : r1 - rows_;
    return true;
  }

  const int8_t *input_;
  int8_t *output_;
  int32_t in_size_, out_size_, out_h_, batches_, batch_, rows_;
  bool reverse_;
};

/* TFLM's loop as written, the fallback for zero points outside int8: CONV_2D (filter
 * [out_c, kh, kw, in_c]) or, kDepthwise, DEPTHWISE_CONV_2D (filter [1, kh, kw, out_c],
 * output channel oc reading input channel oc / depth_mult). */
template <bool kDepthwise>
static void conv_reference(const ConvParams &p, int32_t batches) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t row = 0; row < p.out_h; ++row) {
      const int32_t oy = p.reverse ? p.out_h - 1 - row : row;
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < p.out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        for (int32_t oc = 0; oc < p.out_c; ++oc) {
          const int32_t ic0 = kDepthwise ? oc / p.depth_mult : 0;  // depthwise: its input
          uint32_t acc = 0;
          for (int32_t fy = 0; fy < p.kh; ++fy) {
            const int32_t iy = iy0 + p.dil_h * fy;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int32_t fx = 0; fx < p.kw; ++fx) {
              const int32_t ix = ix0 + p.dil_w * fx;
              if (ix < 0 || ix >= p.in_w) continue;
              const int8_t *x = p.input + ((b * p.in_h + iy) * p.in_w + ix) * p.in_c;
              if (kDepthwise) {
                acc += (uint32_t)(int32_t)p.filter[(fy * p.kw + fx) * p.out_c + oc] *
                       ((uint32_t)(int32_t)x[ic0] - (uint32_t)p.input_zp);
              } else {
                const int8_t *w = p.filter + ((oc * p.kh + fy) * p.kw + fx) * p.in_c;
                for (int32_t ic = 0; ic < p.in_c; ++ic)
                  acc += (uint32_t)(int32_t)w[ic] *
                         ((uint32_t)(int32_t)x[ic] - (uint32_t)p.input_zp);
              }
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

/* In place with a two-pixel buffer (utc_conv2d_pixel_s8; the contract of utc_conv_s8.h): a
 * 1x1 unpadded convolution whose output has the input's shape, output pixel i on (or
 * below) input pixel i. Pairs of pixels in increasing order (the last maybe alone), each
 * copied into `pixel` first and computed from the copy alone (a 1x2 image), so writing
 * their outputs over the input pair clobbers nothing still to be read. */
__attribute__((noinline)) void conv_pixels(const ConvParams &p, int8_t *pixel) {
  ConvParams q = p;  // a 1x2 (or, for a last lone pixel, 1x1) image read from the copy
  q.batches = 1;
  q.in_h = q.out_h = 1;
  q.stride_h = q.stride_w = 1;  // output pixel k reads input pixel k
  q.input = pixel;
  q.reverse = 0;
  const int32_t pixels = p.batches * p.out_h * p.out_w, in_c = p.in_c, out_c = p.out_c;
  const bool zp_ok = p.input_zp >= -128 && p.input_zp <= 127;
  for (int32_t i = 0; i < pixels; i += 2) {
    const int32_t n = pixels - i < 2 ? 1 : 2;
    q.in_w = q.out_w = n;
    memcpy(pixel, p.input + i * in_c, (size_t)(n * in_c));
    int8_t *o = p.output + i * out_c;
    if (!zp_ok) {  // TFLM's loop as written, on the copy
      q.output = o;
      conv_reference<false>(q, 1);
      continue;
    }
    int32_t oc = 0;
    for (; oc + kConvBlock <= out_c; oc += kConvBlock)
      conv_band_block<kConvBlock>(q, pixel, o, 0, 1, oc, n, true);
    for (; oc < out_c; ++oc) conv_band_block<1>(q, pixel, o, 0, 1, oc, n, true);
  }
}

#ifdef UTC_DSP
/* ---- DSP path (Cortex-M4/M7/M33/M55: SMLAD, SXTB16) ----------------------------------
 *
 * With Arm's DSP extension the convolution runs here instead of conv_band_block (on
 * Helium targets too, where `--kernels auto` prefers CMSIS-NN's vector kernels).
 *
 * Work unit: two adjacent output pixels of a row by two output channels. Each int8 word
 * of input or filter is loaded once and widened once (SXTB16: bytes 0, 2 and, rotated,
 * 1, 3 into int16 lanes) and serves two SMLADs, so 16 multiply-accumulates cost 4 loads,
 * 8 widenings and 8 SMLADs (utc_conv_mac2x2). A pixel left alone in a row (odd width, or
 * next to a pixel whose window is clipped differently) runs one pixel by four channels
 * (utc_conv_mac1x4: 5 loads, 10 widenings and 8 SMLADs per 16). Channels that do not
 * fill a block repeat a channel's filter, and the copy is not stored. Neither needs
 * scratch memory: the input is read where it lies.
 *
 * Taps: a window row's in-bounds taps are (fx1 - fx0) * in_c contiguous int8 in input and
 * filter alike (dilated across: each tap's in_c), walked 4 at a time, then 1 to 3 one by
 * one (in_c not a multiple of 4).
 *
 * Zero point: a pixel whose window lies inside the input starts from zp_bias (bias -
 * zp * sum w, computed at compile time) and sums w * x; every other pixel (border, or
 * zp_bias not given: -O0) starts from the bias and sums w * (x - zp) over its in-bounds
 * taps, x - zp formed while widening (SXTAB16 adds -zp to both lanes; |x - zp| <= 255
 * fits a lane). These are the portable path's integers, wrapping modulo 2^32 alike
 * (SMLAD's and MLA's sums wrap), so the same bytes.
 *
 * Requantization: per pixel pair (or lone pixel) the assembly sums up to kDspChunk
 * channels into an array, which a C loop then requantizes: a channel whose multiplier is
 * >= 0 and shift in [-23, -2] (nearly all of them) through utc_requant_neg_shift, any
 * other through TFLite's utc_multiply_by_quantized_multiplier, and with SSAT when the
 * activation range is all of int8.
 *
 * Access order: output rows one after the other in increasing order (Bands: one row per
 * band when the output overlaps the input); in a row, pixels left to right, one or two at
 * a time, each group of channels written after all of its reads; row oy reads input
 * rows >= oy * stride_h - pad_top only; no restrict between input and output. */

/* Channels per run of the assembly: the sums of a pixel pair take 2 x 8 x 4 bytes of
 * stack. 16 channels run KWS in 2% fewer instructions (its 1x1 layers 4%) but take 64
 * bytes more stack, which every model pays for: KWS's arena + stack would exceed the
 * reference build's. */
const int32_t kDspChunk = 8;

/* What the assembly loops read and update; the byte offsets are the assembly's. */
struct MacJob {
  uintptr_t p[4];       // 0: mac2x2: xa, xb, w0, w1; mac1x4: x, d (an offset), w, w2
  const int32_t *base;  // 16: the sums' start values (may be out itself)
  int32_t base_step;    // 20: bytes from a block's start values to the next's: 16 (four
                        //     values; mac1x4 always), or 8 or 0 (mac2x2: two channels')
  int32_t *out;         // 24: the sums, 4 per block, stored here (moved on)
  int32_t blocks;       // 28: blocks of channels, >= 1
  int32_t n4;           // 32: elements per row taken 4 at a time: n & ~3 (may be 0)
  int32_t rows;         // 36: >= 1
  int32_t x_skip;       // 40: from the end of a row (n elements) to the next row, input
  int32_t w_skip;       // 44: the same in the filter
  int32_t x_back;       // 48: from the end of a block's last row to its first row's start
  int32_t w_next;       // 52: from the end of its filters' last row to the next block's
  uint32_t zz;          // 56: -zp in both int16 lanes (the _zp loops)
  int32_t tail;         // 60: elements per row taken one by one: n & 3
};

}  // namespace

/* The inner loops, in Thumb-2 assembly, one function each (local symbols, each in its
 * own section): GCC 12 at -O2 spills the sums of this loop written with ACLE intrinsics,
 * and inline assembly cannot ask for the 14 registers mac2x2 needs at every optimization
 * level (at -O0 and -Os the frame pointer or the surrounding code keeps one).
 *
 * utc_conv_mac2x2(job), _zp: for each of `blocks` blocks of two channels (filters w0, w1;
 * after the block w0, w1 += w_next), the sums start at base[0..3] (base_step 16) or
 * base[0], base[1], base[0], base[1] (base_step 8 or 0), base then moving on by
 * base_step bytes, and over `rows` rows of n = n4 + tail elements (x advancing by
 * n + x_skip per row, w by n + w_skip):
 *   s0 += xa . w0, s1 += xa . w1, s2 += xb . w0, s3 += xb . w1   (_zp: xa - zp, xb - zp)
 * then s0..s3 are stored at out (moved on by 16) and xa, xb move by x_back (from the
 * end of the last row, as w0, w1 by w_next).
 * Registers: r1-r4 the pointers, r5-r8 the sums, r0 and r9-r12, lr temporaries; the
 * row's end and the rows and blocks left and zz on the stack. Two steps of 4 elements
 * per iteration, entered at the second when n4 / 4 is odd; the tail with LDRSB and MLA.
 *
 * utc_conv_mac1x4(job), _zp: the same for one pixel x and blocks of four channels w
 * (s0), w + d (s1), w2 (s2) and w2 + d (s3). Registers: r1-r4 x, d, w, w2; r5-r8 the
 * sums; r0, r9-r11 temporaries; r12 zz; lr the row's end. */
__asm__(
    ".macro utc_mac2x2_step zp\n"
    "  ldr r0, [r1], #4\n"             // xa: 4 int8
    "  ldr r9, [r2], #4\n"             // xb
    "  .if \\zp\n"
    "  ldr r12, [sp, #8]\n"            // -zp in both lanes
    "  sxtab16 r10, r12, r0\n"         // xa bytes 0, 2 minus zp
    "  sxtab16 r0, r12, r0, ror #8\n"  // xa bytes 1, 3 minus zp
    "  sxtab16 r11, r12, r9\n"
    "  sxtab16 r9, r12, r9, ror #8\n"
    "  .else\n"
    "  sxtb16 r10, r0\n"               // xa bytes 0, 2
    "  sxtb16 r0, r0, ror #8\n"        // xa bytes 1, 3
    "  sxtb16 r11, r9\n"
    "  sxtb16 r9, r9, ror #8\n"
    "  .endif\n"
    "  ldr r12, [r3], #4\n"            // w0
    "  sxtb16 lr, r12\n"
    "  sxtb16 r12, r12, ror #8\n"
    "  smlad r5, r10, lr, r5\n"        // s0 += xa . w0
    "  smlad r7, r11, lr, r7\n"        // s2 += xb . w0
    "  smlad r5, r0, r12, r5\n"
    "  smlad r7, r9, r12, r7\n"
    "  ldr r12, [r4], #4\n"            // w1
    "  sxtb16 lr, r12\n"
    "  sxtb16 r12, r12, ror #8\n"
    "  smlad r6, r10, lr, r6\n"        // s1 += xa . w1
    "  smlad r8, r11, lr, r8\n"        // s3 += xb . w1
    "  smlad r6, r0, r12, r6\n"
    "  smlad r8, r9, r12, r8\n"
    ".endm\n"
    ".macro utc_mac2x2_tail zp\n"      // one element; r10 counts
    "  ldrsb r0, [r1], #1\n"
    "  ldrsb r11, [r2], #1\n"
    "  .if \\zp\n"
    "  ldr r12, [sp, #8]\n"
    "  sxtah r0, r0, r12\n"            // x - zp
    "  sxtah r11, r11, r12\n"
    "  .endif\n"
    "  ldrsb r12, [r3], #1\n"
    "  mla r5, r0, r12, r5\n"
    "  mla r7, r11, r12, r7\n"
    "  ldrsb r12, [r4], #1\n"
    "  mla r6, r0, r12, r6\n"
    "  mla r8, r11, r12, r8\n"
    ".endm\n"
    ".macro utc_mac1x4_step zp\n"
    "  ldr r0, [r1], #4\n"             // x
    "  .if \\zp\n"
    "  sxtab16 r9, r12, r0\n"
    "  sxtab16 r0, r12, r0, ror #8\n"
    "  .else\n"
    "  sxtb16 r9, r0\n"
    "  sxtb16 r0, r0, ror #8\n"
    "  .endif\n"
    "  ldr r10, [r3, r2]\n"            // s1: w + d
    "  sxtb16 r11, r10\n"
    "  sxtb16 r10, r10, ror #8\n"
    "  smlad r6, r9, r11, r6\n"
    "  smlad r6, r0, r10, r6\n"
    "  ldr r10, [r4, r2]\n"            // s3: w2 + d
    "  sxtb16 r11, r10\n"
    "  sxtb16 r10, r10, ror #8\n"
    "  smlad r8, r9, r11, r8\n"
    "  smlad r8, r0, r10, r8\n"
    "  ldr r10, [r4], #4\n"            // s2: w2
    "  sxtb16 r11, r10\n"
    "  sxtb16 r10, r10, ror #8\n"
    "  smlad r7, r9, r11, r7\n"
    "  smlad r7, r0, r10, r7\n"
    "  ldr r10, [r3], #4\n"            // s0: w
    "  sxtb16 r11, r10\n"
    "  sxtb16 r10, r10, ror #8\n"
    "  smlad r5, r9, r11, r5\n"
    "  smlad r5, r0, r10, r5\n"
    ".endm\n"
    ".macro utc_mac1x4_tail zp\n"      // one element; r10 counts
    "  ldrsb r0, [r1], #1\n"
    "  .if \\zp\n"
    "  sxtah r0, r0, r12\n"
    "  .endif\n"
    "  ldrsb r11, [r3, r2]\n"
    "  mla r6, r0, r11, r6\n"
    "  ldrsb r11, [r4, r2]\n"
    "  mla r8, r0, r11, r8\n"
    "  ldrsb r11, [r4], #1\n"
    "  mla r7, r0, r11, r7\n"
    "  ldrsb r11, [r3], #1\n"
    "  mla r5, r0, r11, r5\n"
    ".endm\n"
    /* mac2x2: frame [sp] row end, [sp, #4] rows left, [sp, #8] zz, [sp, #12] blocks left,
     * [sp, #16] the job (the pushed r0) */
    ".macro utc_mac2x2 name, zp\n"
    "  .pushsection .text.\\name,\"ax\",%progbits\n"
    "  .p2align 2\n"
    "  .thumb_func\n"
    "  .type \\name, %function\n"
    "\\name:\n"
    "  push {r0, r4-r11, lr}\n"
    "  sub sp, #16\n"
    "  ldr r9, [r0, #28]\n"            // blocks
    "  ldr r10, [r0, #56]\n"           // zz
    "  str r9, [sp, #12]\n"
    "  str r10, [sp, #8]\n"
    "  ldm r0, {r1-r4}\n"              // xa, xb, w0, w1
    "  mov r9, r0\n"
    "0:\n"                             // block; r9: the job
    "  ldrd r10, r11, [r9, #16]\n"     // base, base_step
    "  cmp r11, #16\n"
    "  beq 4f\n"
    "  ldrd r5, r6, [r10]\n"           // two channels' start values, the same for xb
    "  mov r7, r5\n"
    "  mov r8, r6\n"
    "  b 5f\n"
    "4:\n"
    "  ldm r10, {r5-r8}\n"             // four sums
    "5:\n"
    "  add r10, r11\n"
    "  str r10, [r9, #16]\n"
    "  ldr r10, [r9, #36]\n"           // rows
    "  str r10, [sp, #4]\n"
    "1:\n"                             // row; r9: the job
    "  ldr r10, [r9, #32]\n"           // n4
    "  cmp r10, #0\n"
    "  beq 6f\n"
    "  add r0, r1, r10\n"
    "  str r0, [sp]\n"
    "  tst r10, #4\n"
    "  bne 3f\n"
    "2:\n"
    "  utc_mac2x2_step \\zp\n"
    "3:\n"
    "  utc_mac2x2_step \\zp\n"
    "  ldr r0, [sp]\n"
    "  cmp r1, r0\n"
    "  bne 2b\n"
    "  ldr r9, [sp, #16]\n"
    "6:\n"
    "  ldr r10, [r9, #60]\n"           // tail
    "  cmp r10, #0\n"
    "  beq 8f\n"
    "7:\n"
    "  utc_mac2x2_tail \\zp\n"
    "  subs r10, r10, #1\n"
    "  bne 7b\n"
    "8:\n"
    "  ldr r10, [sp, #4]\n"
    "  subs r10, r10, #1\n"
    "  beq 9f\n"                       // the block's last row done
    "  str r10, [sp, #4]\n"
    "  ldrd r10, r11, [r9, #40]\n"     // x_skip, w_skip
    "  add r1, r10\n"
    "  add r2, r10\n"
    "  add r3, r11\n"
    "  add r4, r11\n"
    "  b 1b\n"
    "9:\n"
    "  ldr r10, [r9, #24]\n"           // out
    "  stmia r10!, {r5-r8}\n"
    "  str r10, [r9, #24]\n"
    "  ldrd r10, r11, [r9, #48]\n"     // x_back, w_next
    "  add r1, r10\n"
    "  add r2, r10\n"
    "  add r3, r11\n"
    "  add r4, r11\n"
    "  ldr r10, [sp, #12]\n"
    "  subs r10, r10, #1\n"
    "  str r10, [sp, #12]\n"
    "  bne 0b\n"
    "  add sp, #16\n"
    "  pop {r0, r4-r11, pc}\n"
    "  .size \\name, . - \\name\n"
    "  .popsection\n"
    ".endm\n"
    /* mac1x4: frame [sp] rows left, [sp, #4] blocks left, [sp, #8] the job */
    ".macro utc_mac1x4 name, zp\n"
    "  .pushsection .text.\\name,\"ax\",%progbits\n"
    "  .p2align 2\n"
    "  .thumb_func\n"
    "  .type \\name, %function\n"
    "\\name:\n"
    "  push {r0, r4-r11, lr}\n"
    "  sub sp, #8\n"
    "  ldr r9, [r0, #28]\n"            // blocks
    "  str r9, [sp, #4]\n"
    "  ldr r12, [r0, #56]\n"           // zz
    "  ldm r0, {r1-r4}\n"              // x, d, w, w2
    "  mov r9, r0\n"
    "0:\n"                             // block; r9: the job
    "  ldrd r10, r11, [r9, #16]\n"     // base, base_step
    "  ldm r10, {r5-r8}\n"
    "  add r10, r11\n"
    "  str r10, [r9, #16]\n"
    "  ldr r10, [r9, #36]\n"           // rows
    "  str r10, [sp]\n"
    "1:\n"                             // row; r9: the job
    "  ldr r10, [r9, #32]\n"           // n4
    "  cmp r10, #0\n"
    "  beq 6f\n"
    "  add lr, r1, r10\n"
    "  tst r10, #4\n"
    "  bne 3f\n"
    "2:\n"
    "  utc_mac1x4_step \\zp\n"
    "3:\n"
    "  utc_mac1x4_step \\zp\n"
    "  cmp r1, lr\n"
    "  bne 2b\n"
    "  ldr r9, [sp, #8]\n"
    "6:\n"
    "  ldr r10, [r9, #60]\n"           // tail
    "  cmp r10, #0\n"
    "  beq 8f\n"
    "7:\n"
    "  utc_mac1x4_tail \\zp\n"
    "  subs r10, r10, #1\n"
    "  bne 7b\n"
    "8:\n"
    "  ldr r10, [sp]\n"
    "  subs r10, r10, #1\n"
    "  beq 9f\n"                       // the block's last row done
    "  str r10, [sp]\n"
    "  ldrd r10, r11, [r9, #40]\n"     // x_skip, w_skip
    "  add r1, r10\n"
    "  add r3, r11\n"
    "  add r4, r11\n"
    "  b 1b\n"
    "9:\n"
    "  ldr r10, [r9, #24]\n"           // out
    "  stmia r10!, {r5-r8}\n"
    "  str r10, [r9, #24]\n"
    "  ldrd r10, r11, [r9, #48]\n"     // x_back, w_next
    "  add r1, r10\n"
    "  add r3, r11\n"
    "  add r4, r11\n"
    "  ldr r10, [sp, #4]\n"
    "  subs r10, r10, #1\n"
    "  str r10, [sp, #4]\n"
    "  bne 0b\n"
    "  add sp, #8\n"
    "  pop {r0, r4-r11, pc}\n"
    "  .size \\name, . - \\name\n"
    "  .popsection\n"
    ".endm\n"
    "utc_mac2x2 utc_conv_mac2x2, 0\n"
    "utc_mac2x2 utc_conv_mac2x2_zp, 1\n"
    "utc_mac1x4 utc_conv_mac1x4, 0\n"
    "utc_mac1x4 utc_conv_mac1x4_zp, 1\n"
    ".purgem utc_mac2x2_step\n"
    ".purgem utc_mac2x2_tail\n"
    ".purgem utc_mac1x4_step\n"
    ".purgem utc_mac1x4_tail\n"
    ".purgem utc_mac2x2\n"
    ".purgem utc_mac1x4\n");

namespace {

extern "C" {
void utc_conv_mac2x2(MacJob *job);
void utc_conv_mac2x2_zp(MacJob *job);
void utc_conv_mac1x4(MacJob *job);
void utc_conv_mac1x4_zp(MacJob *job);
}

const int32_t kZeros[4] = {0, 0, 0, 0};

/* The requantization of a call: per-channel, every shift in [-23, -2] (all of them, in
 * the models seen so far but one); per-channel, some shifts outside (pruned channels);
 * per-tensor. */
const int32_t kRequantFast = 0, kRequantMixed = 1, kRequantTflite = 2;

/* Per call: what the DSP path derives from the parameters. */
struct Dsp {
  const ConvParams *p;
  int32_t depth;  // filter elements per output channel
  uint32_t zz;    // -zp in both int16 lanes
  int32_t requant;  // kRequantFast, kRequantMixed or kRequantTflite: how store() goes
};

/* The in-bounds taps of a pixel's window: `groups` groups (x_group, w_group apart) of
 * `rows` rows (x_row, w_row apart) of n contiguous int8, starting at x in the input and
 * w in channel 0's filter. Dilation 1 across: one group, the window's rows; else a group
 * per window row, its taps the rows. n = 0: no tap in bounds. */
struct Taps {
  const int8_t *x;
  const int8_t *w;
  int32_t groups, rows, n, x_group, w_group, x_row, w_row;
};

/* The fields of job that stay the same for every block and group of the taps t, with
 * filters `block` channels apart. */
UTC_INLINE void job_init(MacJob &job, const Dsp &d, const Taps &t, int32_t block) {
  job.n4 = t.n & ~3;
  job.tail = t.n & 3;
  job.rows = t.rows;
  job.x_skip = t.x_row - t.n;
  job.w_skip = t.w_row - t.n;
  job.x_back = -((t.rows - 1) * t.x_row + t.n);
  job.w_next = block * d.depth - ((t.rows - 1) * t.w_row + t.n);
  job.zz = d.zz;
}

/* Runs `loop` for `blocks` blocks over every group of t, p[0..3] = x0, x1, w0, w1 for the
 * first group (x1 moving with the group unless `fixed1`: mac1x4's offset d); the sums
 * (4 per block, into s) start from base (base_step: see MacJob) and accumulate over the
 * groups. */
UTC_INLINE void run(void (*loop)(MacJob *), MacJob &job, const Taps &t, const int8_t *x0,
                    uintptr_t x1, bool fixed1, const int8_t *w0, const int8_t *w1,
                    const int32_t *base, int32_t base_step, int32_t *s, int32_t blocks) {
  for (int32_t g = 0; g < t.groups; ++g) {
    job.p[0] = (uintptr_t)(x0 + g * t.x_group);
    job.p[1] = fixed1 ? x1 : x1 + (uintptr_t)(g * t.x_group);
    job.p[2] = (uintptr_t)(w0 + g * t.w_group);
    job.p[3] = (uintptr_t)(w1 + g * t.w_group);
    job.base = g ? s : base;
    job.base_step = g ? 16 : base_step;
    job.out = s;
    job.blocks = blocks;
    loop(&job);
  }
}

/* Output channels [c0, c1) of one or (kTwo) two pixels (outputs o and o + out_c) from
 * their raw sums s, requantized and clamped (kFull: the activation range is all of int8,
 * SSAT). Two pixels' sums come in blocks of two channels: (a, c), (a, c + 1), (b, c),
 * (b, c + 1); one pixel's one per channel. Per-channel multipliers: a channel in
 * utc_requant_neg_shift's range (multiplier >= 0, shift in [-23, -2]; pruned channels,
 * e.g. shift 0 or -31, are not) takes it, any other TFLite's general requantization. A
 * loop per case, with few enough values to stay in registers. */
/* Channel c of np pixels (outputs o[c], o[out_c + c]) from sums s[0], s[2] with TFLite's
 * general requantization: a channel out of utc_requant_neg_shift's range. Out of line,
 * so that store_fast's loop keeps its registers. */
__attribute__((noinline)) void store_channel(const ConvParams &p, const int32_t *s, int32_t c,
                                             int32_t np, int8_t *o) {
  for (int32_t j = 0; j < np; ++j) {
    const int32_t v = utc_multiply_by_quantized_multiplier(s[2 * j], p.mult[c], p.shift[c]);
    o[j * p.out_c + c] = (int8_t)utc_clamp(v + p.output_zp, p.act_min, p.act_max);
  }
}

template <bool kFull, bool kTwo, bool kMixed>
void store_fast(const ConvParams &p, const int32_t *s, int32_t c0, int32_t c1, int8_t *o) {
  const int32_t lo = p.act_min, hi = p.act_max, zp = p.output_zp;
  const int32_t k = 2 * zp + 1;  // utc_requant_hi0(shift, zp) = k << (-shift - 2)
  const int32_t *mult = p.mult + c0, *shift = p.shift + c0;
  int8_t *oa = o + c0, *ob = oa + p.out_c;
  const int32_t n = c1 - c0;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t m = mult[i];
    int32_t sh = shift[i], hi0, z = 0;
    const int32_t *si = kTwo ? s + 4 * (i >> 1) + (i & 1) : s + i;
    if (!kMixed) {  // every shift in [-23, -2]
      hi0 = (int32_t)((uint32_t)k << (-sh - 2));
    } else {
      if (m == 0) sh = -2;  // a pruned channel: zp whatever the shift, as with -2
      if ((uint32_t)(sh + 31) > 29u || m < 0) {  // shift outside [-31, -2]: rare
        store_channel(p, si, c0 + i, kTwo ? 2 : 1, o);
        continue;
      }
      const bool after = sh < -23;  // zp added after (see utc_requant_neg_shift)
      hi0 = (int32_t)((uint32_t)(after ? 1 : k) << (-sh - 2));
      z = after ? zp : 0;
    }
    const int32_t va = utc_requant_neg_shift(si[0], m, hi0, sh) + z;
    oa[i] = (int8_t)(kFull ? __ssat(va, 8) : utc_clamp(va, lo, hi));
    if (kTwo) {
      const int32_t vb = utc_requant_neg_shift(si[2], m, hi0, sh) + z;
      ob[i] = (int8_t)(kFull ? __ssat(vb, 8) : utc_clamp(vb, lo, hi));
    }
  }
}

/* The same for per-tensor requantization: TFLite's as written. */
void store_any(const ConvParams &p, const int32_t *s, int32_t c0, int32_t c1, int32_t np,
               int8_t *o) {
  for (int32_t c = c0; c < c1; ++c) {
    const int32_t q = p.per_channel ? c : 0, i = c - c0;
    for (int32_t j = 0; j < np; ++j) {
      const int32_t acc = np == 2 ? s[4 * (i >> 1) + (i & 1) + 2 * j] : s[i];
      const int32_t v = utc_multiply_by_quantized_multiplier(acc, p.mult[q], p.shift[q]);
      o[j * p.out_c + c] = (int8_t)utc_clamp(v + p.output_zp, p.act_min, p.act_max);
    }
  }
}

UTC_INLINE void store(const Dsp &d, const int32_t *s, int32_t c0, int32_t c1,
                                     int32_t np, int8_t *o) {
  const ConvParams &p = *d.p;
  const bool full = p.act_min == -128 && p.act_max == 127;
  if (d.requant == kRequantTflite)
    store_any(p, s, c0, c1, np, o);
  else if (d.requant == kRequantMixed)
    np == 2 ? store_fast<false, true, true>(p, s, c0, c1, o)
            : store_fast<false, false, true>(p, s, c0, c1, o);
  else if (np == 2)
    full ? store_fast<true, true, false>(p, s, c0, c1, o)
         : store_fast<false, true, false>(p, s, c0, c1, o);
  else
    full ? store_fast<true, false, false>(p, s, c0, c1, o)
         : store_fast<false, false, false>(p, s, c0, c1, o);
}

/* Two pixels (the second's window xb input elements after the first's; outputs o and
 * o + out_c), every output channel. base: per-channel start of the sums (zp_bias, bias
 * or NULL); zp: sums of w * (x - zp). */
__attribute__((noinline)) void pixels_2(const Dsp &d, const Taps &t, int32_t xb,
                                        const int32_t *base, bool zp, int8_t *o) {
  const int32_t out_c = d.p->out_c, depth = d.depth;
  void (*const loop)(MacJob *) = zp ? utc_conv_mac2x2_zp : utc_conv_mac2x2;
  int32_t sums[2 * kDspChunk];  // per block of two channels: (a, c), (a, c + 1), (b, c), (b, c + 1)
  MacJob job;
  job_init(job, d, t, 2);
  for (int32_t c0 = 0; c0 < out_c; c0 += kDspChunk) {
    const int32_t c1 = out_c - c0 < kDspChunk ? out_c : c0 + kDspChunk;
    const int32_t pairs = (c1 - c0) >> 1, lone = (c1 - c0) & 1;  // a lone channel: last
    const int8_t *w = t.w + c0 * depth;
    if (t.n) {
      if (pairs)
        run(loop, job, t, t.x, (uintptr_t)(t.x + xb), false, w, w + depth,
            base ? base + c0 : kZeros, base ? 8 : 0, sums, pairs);
      if (lone) {  // the lone channel twice, the copy not stored
        const int32_t b = base ? base[c1 - 1] : 0, lone_base[2] = {b, b};
        const int8_t *wl = w + 2 * pairs * depth;
        run(loop, job, t, t.x, (uintptr_t)(t.x + xb), false, wl, wl, lone_base, 0,
            sums + 4 * pairs, 1);
      }
    } else {  // no tap in bounds: the start values
      for (int32_t i = 0; i < 2 * (pairs + lone); ++i) {
        const int32_t c = c0 + i < c1 ? c0 + i : c1 - 1;
        sums[2 * i - (i & 1)] = sums[2 * i - (i & 1) + 2] = base ? base[c] : 0;
      }
    }
    store(d, sums, c0, c1, 2, o);
  }
}

/* One pixel (output o), every output channel, four at a time. */
__attribute__((noinline)) void pixels_1(const Dsp &d, const Taps &t, const int32_t *base,
                                        bool zp, int8_t *o) {
  const int32_t out_c = d.p->out_c, depth = d.depth;
  void (*const loop)(MacJob *) = zp ? utc_conv_mac1x4_zp : utc_conv_mac1x4;
  int32_t sums[kDspChunk];  // one per channel
  MacJob job;
  job_init(job, d, t, 4);
  for (int32_t c0 = 0; c0 < out_c; c0 += kDspChunk) {
    const int32_t c1 = out_c - c0 < kDspChunk ? out_c : c0 + kDspChunk;
    const int32_t quads = (c1 - c0) >> 2, left = (c1 - c0) & 3;
    const int8_t *w = t.w + c0 * depth;
    if (!t.n) {  // no tap in bounds: the start values
      for (int32_t i = 0; i < c1 - c0; ++i) sums[i] = base ? base[c0 + i] : 0;
    } else {
      if (quads)
        run(loop, job, t, t.x, (uintptr_t)depth, true, w, w + 2 * depth,
            base ? base + c0 : kZeros, base ? 16 : 0, sums, quads);
      if (left) {
        /* The last 1 to 3 channels j.. as a block of four whose sums take channels j,
         * j + a, j + b, j + b + a (filters w, w + d, w2, w2 + d with d = a depth and
         * w2 = w + b depth): 3 left: a = b = 1 (sums 1 and 2 the same channel), 2:
         * a = 1, b = 0, 1: a = b = 0 (copies in the sums after the channels'). */
        const int32_t j = c0 + 4 * quads, a = left > 1 ? 1 : 0, b = left == 3 ? 1 : 0;
        int32_t start[4], got[4];
        for (int32_t k = 0; k < 4; ++k) start[k] = base ? base[j + (k & 1) * a + (k >> 1) * b] : 0;
        const int8_t *wl = w + 4 * quads * depth;
        run(loop, job, t, t.x, (uintptr_t)(a * depth), true, wl, wl + b * depth, start, 16,
            got, 1);
        sums[4 * quads] = got[0];
        if (left > 1) sums[4 * quads + 1] = got[1];
        if (left > 2) sums[4 * quads + 2] = got[3];
      }
    }
    store(d, sums, c0, c1, 1, o);
  }
}

/* Output rows [r0, r1) of one batch (in, out: that batch's tensors), every channel. */
void conv_rows_dsp(const Dsp &d, const int8_t *in, int8_t *out, int32_t r0, int32_t r1) {
  const ConvParams &p = *d.p;
  const int32_t in_c = p.in_c, in_w = p.in_w, out_w = p.out_w, kw = p.kw, dil_w = p.dil_w,
                stride_w = p.stride_w;
  const int32_t xb = stride_w * in_c;  // from one pixel's window to the next one's
  Taps t;
  t.x_group = p.dil_h * in_w * in_c;
  t.w_group = kw * in_c;
  t.x_row = dil_w == 1 ? t.x_group : dil_w * in_c;
  t.w_row = dil_w == 1 ? t.w_group : in_c;
  for (int32_t row = r0; row < r1; ++row) {
    const int32_t oy = p.reverse ? r1 - 1 - (row - r0) : row;
    const int32_t iy0 = oy * p.stride_h - p.pad_top;
    int32_t fy0, fy1;
    window(iy0, p.dil_h, p.kh, p.in_h, &fy0, &fy1);
    for (int32_t ox = 0; ox < out_w;) {
      const int32_t ix0 = ox * stride_w - p.pad_left;
      int32_t fx0, fx1;
      window(ix0, dil_w, kw, in_w, &fx0, &fx1);
      bool pair = false;  // the next pixel has the same in-bounds taps
      if (ox + 1 < out_w) {
        int32_t gx0, gx1;
        window(ix0 + stride_w, dil_w, kw, in_w, &gx0, &gx1);
        pair = gx0 == fx0 && gx1 == fx1;
      }
      t.x = in + ((iy0 + p.dil_h * fy0) * in_w + ix0 + dil_w * fx0) * in_c;
      t.w = p.filter + (fy0 * kw + fx0) * in_c;
      if (dil_w == 1) {
        t.groups = 1;
        t.rows = fy1 - fy0;
        t.n = (fx1 - fx0) * in_c;
      } else {
        t.groups = fy1 - fy0;
        t.rows = fx1 - fx0;
        t.n = in_c;
      }
      if (fy1 <= fy0 || fx1 <= fx0) t.n = 0;  // no tap in bounds
      const bool inside = fy0 == 0 && fy1 == p.kh && fx0 == 0 && fx1 == kw;
      const bool folded = inside && p.zp_bias;  // sums of w * x from zp_bias
      const bool zp = !folded && p.input_zp != 0;
      const int32_t *base = folded ? p.zp_bias : p.bias;
      int8_t *o = out + (oy * out_w + ox) * p.out_c;
      if (pair)
        pixels_2(d, t, xb, base, zp, o);
      else
        pixels_1(d, t, base, zp, o);
      ox += pair ? 2 : 1;
    }
  }
}

UTC_INLINE void dsp_init(Dsp &d, const ConvParams &p) {
  d.p = &p;
  d.depth = p.kh * p.kw * p.in_c;
  d.zz = (uint32_t)(uint16_t)(int16_t)-p.input_zp * 0x10001u;
  d.requant = p.per_channel ? kRequantFast : kRequantTflite;
  for (int32_t c = 0; d.requant == kRequantFast && c < p.out_c; ++c)
    if (p.mult[c] < 0 || p.shift[c] > -2 || p.shift[c] < -23) d.requant = kRequantMixed;
}

/* conv_pixels on the DSP path: each pair copied into `pixel`, then two pixels by two
 * channels from the copy (utc_conv_mac2x2, as the plain kernel; with a one-pixel buffer
 * this would be one pixel by four channels, utc_conv_mac1x4: 13% more instructions on a
 * 24x24x32 pointwise pair). 1x1 unpadded: every window is inside, so zp_bias (or the bias with the zero
 * point subtracted while widening) starts the sums. */
__attribute__((noinline)) void conv_pixels_dsp(const ConvParams &p, int8_t *pixel) {
  if (p.input_zp < -128 || p.input_zp > 127) {
    conv_pixels(p, pixel);  // TFLM's loop on each copy
    return;
  }
  Dsp d;
  dsp_init(d, p);
  const int32_t in_c = p.in_c, out_c = p.out_c, pixels = p.batches * p.out_h * p.out_w;
  Taps t;
  t.x = pixel;
  t.w = p.filter;
  t.groups = t.rows = 1;
  t.n = t.x_group = t.w_group = t.x_row = t.w_row = in_c;
  const int32_t *base = p.zp_bias ? p.zp_bias : p.bias;
  const bool zp = !p.zp_bias && p.input_zp != 0;
  for (int32_t i = 0; i < pixels; i += 2) {
    const int32_t n = pixels - i < 2 ? 1 : 2;
    memcpy(pixel, p.input + i * in_c, (size_t)(n * in_c));
    if (n == 2)
      pixels_2(d, t, in_c, base, zp, p.output + i * out_c);
    else
      pixels_1(d, t, base, zp, p.output + i * out_c);
  }
}

__attribute__((noinline)) void conv_reference_noinline(const ConvParams &p, int32_t batches) {
  conv_reference<false>(p, batches);
}

/* The DSP path of utc_conv2d_s8. */
UTC_INLINE void conv_dsp(const ConvParams &p, int32_t batches) {
  Dsp d;
  dsp_init(d, p);
  /* Every row in one go, even when the output overlaps the input: conv_rows_dsp finishes
   * each output row (all its channels) before the next, which is the access order that
   * Bands' one-row bands keep for the portable path. No Bands: a smaller frame. */
  const int32_t in_size = p.in_h * p.in_w * p.in_c, out_size = p.out_h * p.out_w * p.out_c;
  for (int32_t b = 0; b < batches; ++b)
    conv_rows_dsp(d, p.input + b * in_size, p.output + b * out_size, 0, p.out_h);
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
 * output; several rows per block of channels only when the two buffers are disjoint, or,
 * with depth multiplier 1, when the output starts on the channel grid at least
 * channelwise_overlap_pixels before the input (Bands: the channel-wise order then holds
 * with channel blocks outermost over the whole image).
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


extern "C" void utc_conv2d_s8(const utc_conv_s8_params *params) {
  /* Read in place (the generated code's static const struct): no copy in this frame. */
  const ConvParams &p = *params;
#ifdef UTC_DSP
  if (p.input_zp < -128 || p.input_zp > 127)
    conv_reference_noinline(p, p.batches);  // out of line: keeps this frame small
  else
    conv_dsp(p, p.batches);
#else
  const int32_t batches = p.batches, out_h = p.out_h, out_w = p.out_w, out_c = p.out_c,
                kh = p.kh, kw = p.kw, stride_h = p.stride_h, stride_w = p.stride_w,
                pad_top = p.pad_top, pad_left = p.pad_left;
  if (p.input_zp < -128 || p.input_zp > 127) {
    conv_reference<false>(p, batches);
    return;
  }
  /* Columns whose window is inside the input horizontally (the same for every row). */
  const int32_t interior_cols =
      interior_count(0, out_w, stride_w, pad_left, p.dil_w, kw, p.in_w);
  const bool matmul = kh == 1 && kw == 1 && pad_top == 0 && pad_left == 0 &&
                      (out_h - 1) * stride_h < p.in_h && (out_w - 1) * stride_w < p.in_w;
  for (Bands band(p, batches); band.next();) {
    int32_t oc = 0;
    for (; oc + kConvBlock <= out_c; oc += kConvBlock)
      conv_band_block<kConvBlock>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols, matmul);
    for (; oc < out_c; ++oc)
      conv_band_block<1>(p, band.in, band.out, band.r0, band.r1, oc, interior_cols, matmul);
  }
#endif
}


extern "C" void utc_conv2d_pixel_s8(const utc_conv_s8_params *params, int8_t *pixel) {
#ifdef UTC_DSP
  conv_pixels_dsp(*params, pixel);
#else
  conv_pixels(*params, pixel);
#endif
}


extern "C" void utc_depthwise_conv2d_s8(const utc_conv_s8_params *params) {
  const ConvParams &p = *params;
  const int32_t batches = p.batches, input_zp = p.input_zp, out_w = p.out_w, kw = p.kw,
                stride_w = p.stride_w, dil_w = p.dil_w, pad_left = p.pad_left, in_w = p.in_w,
                depth_mult = p.depth_mult;
  if (input_zp < -128 || input_zp > 127) {
    conv_reference<true>(p, batches);
    return;
  }
  /* Columns whose window is inside the input horizontally (the same for every row). */
  const int32_t interior_cols = interior_count(0, out_w, stride_w, pad_left, dil_w, kw, in_w);
  for (Bands band(p, batches, depth_mult == 1); band.next();) {
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
