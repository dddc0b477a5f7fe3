#include "utc_reduce_s8.h"

#include "utc_quant.h"

namespace {

/* MEAN on int8 or int16 elements (TFLM's QuantizedMeanOrSum is one template for both):
 * int32 sums, one rescale, clamp to the element type [lo, hi]. */
template <typename T>
void mean(const T *input, T *output, const int32_t *input_shape, const int32_t *reduce_axes,
          int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift, int32_t lo,
          int32_t hi) {
  /* Split the 6 dimensions into kept and reduced ones (size-1 dimensions dropped), each with
   * its input stride; adjacent dimensions of the same kind that are contiguous merge. */
  int32_t kept_ext[6], kept_stride[6], red_ext[6], red_stride[6];
  int nk = 0, nr = 0;
  int32_t stride = 1;
  int32_t n = 1; /* reduced elements per output */
  for (int d = 5; d >= 0; --d) {
    const int32_t e = input_shape[d];
    if (e == 0) return;
    if (reduce_axes[d]) n *= e;
    if (e != 1) {
      int32_t *ext = reduce_axes[d] ? red_ext : kept_ext;
      int32_t *str = reduce_axes[d] ? red_stride : kept_stride;
      int &cnt = reduce_axes[d] ? nr : nk;
      if (cnt > 0 && str[cnt - 1] * ext[cnt - 1] == stride) {
        ext[cnt - 1] *= e;
      } else {
        ext[cnt] = e;
        str[cnt] = stride;
        ++cnt;
      }
    }
    stride *= e;
  }
  int32_t outputs = 1;
  for (int k = 0; k < nk; ++k) outputs *= kept_ext[k];
  const int32_t zp_times_n = input_zp * n;

  int32_t kidx[6] = {0, 0, 0, 0, 0, 0};
  int32_t kept_off = 0;
  for (int32_t o = 0; o < outputs; ++o) {
    /* sum over the reduced dimensions (innermost merged one as a plain strided loop) */
    int32_t sum = 0;
    if (nr == 0) {
      sum = input[kept_off];
    } else {
      const int32_t inner = red_ext[0], inner_stride = red_stride[0];
      int32_t ridx[6] = {0, 0, 0, 0, 0, 0};
      int32_t red_off = 0;
      int32_t outer = 1;
      for (int k = 1; k < nr; ++k) outer *= red_ext[k];
      for (int32_t r = 0; r < outer; ++r) {
        const T *p = input + kept_off + red_off;
        for (int32_t i = 0; i < inner; ++i) sum += p[i * inner_stride];
        for (int k = 1; k < nr; ++k) {
          red_off += red_stride[k];
          if (++ridx[k] < red_ext[k]) break;
          red_off -= red_stride[k] * red_ext[k];
          ridx[k] = 0;
        }
      }
    }
    const int32_t shifted = sum - zp_times_n;
    const int32_t r = utc_multiply_by_quantized_multiplier(shifted, mult, shift) + output_zp;
    output[o] = (T)utc_clamp(r, lo, hi);
    for (int k = 0; k < nk; ++k) {
      kept_off += kept_stride[k];
      if (++kidx[k] < kept_ext[k]) break;
      kept_off -= kept_stride[k] * kept_ext[k];
      kidx[k] = 0;
    }
  }
}

}  // namespace

extern "C" void utc_mean_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                            const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                            int32_t mult, int32_t shift) {
  mean(input, output, input_shape, reduce_axes, input_zp, output_zp, mult, shift, -128, 127);
}

extern "C" void utc_mean_s16(const int16_t *input, int16_t *output, const int32_t *input_shape,
                             const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                             int32_t mult, int32_t shift) {
  mean(input, output, input_shape, reduce_axes, input_zp, output_zp, mult, shift, -32768,
       32767);
}

/* SUM runs MEAN's template: TFLM's QuantizedMeanOrSum differs only in the constants. */
extern "C" void utc_sum_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                           const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                           int32_t mult, int32_t shift) {
  mean(input, output, input_shape, reduce_axes, input_zp, output_zp, mult, shift, -128, 127);
}

extern "C" void utc_sum_s16(const int16_t *input, int16_t *output, const int32_t *input_shape,
                            const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                            int32_t mult, int32_t shift) {
  mean(input, output, input_shape, reduce_axes, input_zp, output_zp, mult, shift, -32768,
       32767);
}
