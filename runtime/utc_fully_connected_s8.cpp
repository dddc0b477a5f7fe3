#include "utc_fully_connected_s8.h"

#include "utc_quant.h"

/* Bit-exact with TFLite Micro's reference FULLY_CONNECTED, which computes
 * acc = sum_d (w[d] - filter_zp) * (x[d] - input_zp) in int32, adds the bias and
 * requantizes. Here every sum is taken in wrapping uint32_t arithmetic: the exact integer
 * value modulo 2^32, which is TFLM's int32 value whenever TFLM's own computation does not
 * overflow. With that, the filter zero point is hoisted exactly:
 *   sum (w - fzp)(x - izp) = sum w (x - izp) - fzp * sum (x - izp),
 * the last sum computed once per batch row (and skipped when fzp is 0, as for every int8
 * model). The input zero point is subtracted in the inner loop, once per input element
 * for a block of 4 units: hoisting it as well would need sum w per unit, an extra pass
 * over all the weights per call (there is no scratch memory to keep it), which costs more
 * than the subtraction when there is one batch row.
 *
 * Inner loop: contiguous over depth, 4 units per input byte loaded, fixed 16- and
 * 8-element chunks the compiler can unroll or vectorize ((x - izp) fits int16 since the
 * zero point is int8; a zero point outside int8 takes TFLM's loop as written).
 * Requantization is unchanged (utc_multiply_by_quantized_multiplier). */

namespace {

const int32_t kBlock = 4;
const int32_t kChunk = 16;

UTC_INLINE int32_t to_int32(uint32_t u) {
  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* acc[j] += sum_{t < n} (x[t] - zp) * w[j * w_stride + t] for j < NB. */
template <int NB>
UTC_INLINE void dot(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT w,
                    int32_t w_stride, int32_t n, int32_t zp, uint32_t *UTC_RESTRICT acc) {
  const int8_t *UTC_RESTRICT w0 = w;
  const int8_t *UTC_RESTRICT w1 = w + (NB > 1 ? w_stride : 0);
  const int8_t *UTC_RESTRICT w2 = w + (NB > 2 ? 2 * w_stride : 0);
  const int8_t *UTC_RESTRICT w3 = w + (NB > 3 ? 3 * w_stride : 0);
  const int16_t z = (int16_t)zp;
  uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int32_t t = 0;
  for (; t + kChunk <= n; t += kChunk) {
    for (int32_t k = 0; k < kChunk; ++k) {
      const int32_t xv = (int32_t)(int16_t)(x[t + k] - z);
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
  }
  if (t + kChunk / 2 <= n) {
    for (int32_t k = 0; k < kChunk / 2; ++k) {
      const int32_t xv = (int32_t)(int16_t)(x[t + k] - z);
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
    t += kChunk / 2;
  }
  for (; t < n; ++t) {
    const int32_t xv = (int32_t)x[t] - zp;
    a0 += (uint32_t)(xv * w0[t]);
    if (NB > 1) a1 += (uint32_t)(xv * w1[t]);
    if (NB > 2) a2 += (uint32_t)(xv * w2[t]);
    if (NB > 3) a3 += (uint32_t)(xv * w3[t]);
  }
  acc[0] += a0;
  if (NB > 1) acc[1] += a1;
  if (NB > 2) acc[2] += a2;
  if (NB > 3) acc[3] += a3;
}

/* Units [c0, c0 + NB) of one batch row; x_corr = filter_zp * sum (x - input_zp). */
template <int NB>
UTC_INLINE void fc_block(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT filter,
                         const int32_t *bias, int8_t *UTC_RESTRICT out, int32_t depth,
                         int32_t c0, int32_t input_zp, uint32_t x_corr, int32_t output_zp,
                         const int32_t *mult, const int32_t *shift, int32_t per_channel,
                         int32_t act_min, int32_t act_max) {
  uint32_t acc[NB];
  for (int32_t j = 0; j < NB; ++j) acc[j] = (bias ? (uint32_t)bias[c0 + j] : 0u) - x_corr;
  dot<NB>(x, filter + c0 * depth, depth, depth, input_zp, acc);
  for (int32_t j = 0; j < NB; ++j) {
    const int32_t q = per_channel ? c0 + j : 0;
    const int32_t v = utc_multiply_by_quantized_multiplier(to_int32(acc[j]), mult[q], shift[q]) +
                      output_zp;
    out[c0 + j] = (int8_t)utc_clamp(v, act_min, act_max);
  }
}

}  // namespace

extern "C" void utc_fully_connected_s8(const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, int8_t *output, int32_t batches,
                                       int32_t depth, int32_t units, int32_t input_zp,
                                       int32_t filter_zp, int32_t output_zp, const int32_t *mult,
                                       const int32_t *shift, int32_t per_channel, int32_t act_min,
                                       int32_t act_max) {
  if (input_zp < -128 || input_zp > 127) {  // TFLM's loop as written
    for (int32_t b = 0; b < batches; ++b) {
      const int8_t *x = input + b * depth;
      for (int32_t c = 0; c < units; ++c) {
        const int8_t *w = filter + c * depth;
        uint32_t acc = 0;
        for (int32_t d = 0; d < depth; ++d)
          acc += ((uint32_t)(int32_t)w[d] - (uint32_t)filter_zp) *
                 ((uint32_t)(int32_t)x[d] - (uint32_t)input_zp);
        if (bias) acc += (uint32_t)bias[c];
        const int32_t q = per_channel ? c : 0;
        const int32_t v =
            utc_multiply_by_quantized_multiplier(to_int32(acc), mult[q], shift[q]) + output_zp;
        output[b * units + c] = (int8_t)utc_clamp(v, act_min, act_max);
      }
    }
    return;
  }
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *x = input + b * depth;
    int8_t *out = output + b * units;
    uint32_t x_corr = 0;
    if (filter_zp != 0) {
      uint32_t xsum = 0;
      for (int32_t d = 0; d < depth; ++d) xsum += (uint32_t)(int32_t)x[d];
      x_corr = (uint32_t)filter_zp * (xsum - (uint32_t)input_zp * (uint32_t)depth);
    }
    int32_t c = 0;
    for (; c + kBlock <= units; c += kBlock)
      fc_block<kBlock>(x, filter, bias, out, depth, c, input_zp, x_corr, output_zp, mult, shift,
                       per_channel, act_min, act_max);
    for (; c < units; ++c)
      fc_block<1>(x, filter, bias, out, depth, c, input_zp, x_corr, output_zp, mult, shift,
                  per_channel, act_min, act_max);
  }
}
