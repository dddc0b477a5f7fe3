#include "utc_pool_s8.h"

#include "utc_quant.h"

/* Same arithmetic as TFLite Micro's reference pooling (and as before), with the loops
 * reordered: the window is clamped to the input once per output pixel (its in-bounds
 * element count is the same for every channel), and the innermost loop runs over a
 * block of adjacent channels, contiguous in memory, with the block's accumulators in
 * registers, instead of one channel at a time at a stride of `channels` bytes.
 * Access order as before: output pixels in increasing (batch, row, column, channel
 * block) order, each pixel's reads before its writes, input and output not restrict-
 * qualified, so an output overlapping its input from below by
 * passes/planning/overlap.py's bound is computed correctly. */

namespace {

template <bool kAverage, int NB, typename T>
UTC_INLINE void pool_pixel(const T *x, T *out,
                           int32_t rows, int32_t cols, int32_t row_step, int32_t col_step,
                           int32_t count, int32_t act_min, int32_t act_max) {
  int32_t acc[NB];
  for (int32_t k = 0; k < NB; ++k) acc[k] = kAverage ? 0 : (sizeof(T) == 1 ? -128 : -32768);
  for (int32_t fy = 0; fy < rows; ++fy) {
    for (int32_t fx = 0; fx < cols; ++fx) {
      const T *xr = x + fy * row_step + fx * col_step;
      for (int32_t k = 0; k < NB; ++k) {
        const int32_t v = xr[k];
        if (kAverage) {
          acc[k] += v;
        } else {
          acc[k] = v > acc[k] ? v : acc[k];
        }
      }
    }
  }
  for (int32_t k = 0; k < NB; ++k) {
    int32_t a = acc[k];
    if (kAverage) a = a > 0 ? (a + count / 2) / count : (a - count / 2) / count;
    out[k] = (T)utc_clamp(a, act_min, act_max);
  }
}

template <bool kAverage, typename T>
void pool(const T *input, T *output, int32_t batches, int32_t in_h, int32_t in_w,
          int32_t channels, int32_t out_h, int32_t out_w, int32_t fh, int32_t fw,
          int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t act_min,
          int32_t act_max) {
  const int32_t kBlock = 16;
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride_h - pad_top;
      const int32_t fy0 = iy0 < 0 ? -iy0 : 0;
      const int32_t fy1 = fh < in_h - iy0 ? fh : in_h - iy0;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * stride_w - pad_left;
        const int32_t fx0 = ix0 < 0 ? -ix0 : 0;
        const int32_t fx1 = fw < in_w - ix0 ? fw : in_w - ix0;
        const int32_t rows = fy1 > fy0 ? fy1 - fy0 : 0;
        const int32_t cols = fx1 > fx0 ? fx1 - fx0 : 0;
        const int32_t count = rows * cols > 0 ? rows * cols : 1;
        /* Only formed when the window has an in-bounds element (then it is one). */
        const T *x =
            rows * cols > 0
                ? input + ((b * in_h + iy0 + fy0) * in_w + ix0 + fx0) * channels
                : input;
        T *o = output + ((b * out_h + oy) * out_w + ox) * channels;
        int32_t c = 0;
        for (; c + kBlock <= channels; c += kBlock)
          pool_pixel<kAverage, kBlock>(x + c, o + c, rows, cols, in_w * channels, channels,
                                       count, act_min, act_max);
        for (; c < channels; ++c)
          pool_pixel<kAverage, 1>(x + c, o + c, rows, cols, in_w * channels, channels, count,
                                  act_min, act_max);
      }
    }
  }
}

}  // namespace

/* The four entry points: {average, max} x {int8, int16}, one signature. */
#define UTC_POOL_ENTRY(NAME, T, AVERAGE)                                                   \
  extern "C" void NAME(const T *input, T *output, int32_t batches, int32_t in_h,          \
                       int32_t in_w, int32_t channels, int32_t out_h, int32_t out_w,      \
                       int32_t fh, int32_t fw, int32_t stride_h, int32_t stride_w,        \
                       int32_t pad_top, int32_t pad_left, int32_t act_min,                \
                       int32_t act_max) {                                                 \
    pool<AVERAGE>(input, output, batches, in_h, in_w, channels, out_h, out_w, fh, fw,     \
                  stride_h, stride_w, pad_top, pad_left, act_min, act_max);               \
  }

UTC_POOL_ENTRY(utc_avg_pool_s8, int8_t, true)
UTC_POOL_ENTRY(utc_max_pool_s8, int8_t, false)
UTC_POOL_ENTRY(utc_avg_pool_s16, int16_t, true)
UTC_POOL_ENTRY(utc_max_pool_s16, int16_t, false)
