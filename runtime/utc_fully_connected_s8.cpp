#include "utc_fully_connected_s8.h"

#include "utc_kernel_util.h"
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

using namespace utc_detail;  // the shared helpers of utc_kernel_util.h

/* Units [c0, c0 + NB) of one batch row; x_corr = filter_zp * sum (x - input_zp).
 * kFolded: `bias` is zp_bias (bias - input_zp * sum w, from compile time), so the dot
 * product is sum w * x without the per-element zero point subtraction. */
template <int NB, bool kFolded>
UTC_INLINE void fc_block(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT filter,
                         const int32_t *bias, int8_t *UTC_RESTRICT out, int32_t depth,
                         int32_t c0, int32_t input_zp, uint32_t x_corr, int32_t output_zp,
                         const int32_t *mult, const int32_t *shift, int32_t per_channel,
                         int32_t act_min, int32_t act_max) {
  uint32_t acc[NB];
  for (int32_t j = 0; j < NB; ++j) acc[j] = (bias ? (uint32_t)bias[c0 + j] : 0u) - x_corr;
  dot<NB, !kFolded>(x, filter + c0 * depth, depth, depth, kFolded ? 0 : input_zp, acc);
  for (int32_t j = 0; j < NB; ++j) {
    const int32_t q = per_channel ? c0 + j : 0;
    const int32_t v = utc_multiply_by_quantized_multiplier(to_int32(acc[j]), mult[q], shift[q]) +
                      output_zp;
    out[c0 + j] = (int8_t)utc_clamp(v, act_min, act_max);
  }
}

}  // namespace

extern "C" void utc_fully_connected_s8(const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, const int32_t *zp_bias,
                                       int8_t *output, int32_t batches,
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
    if (zp_bias) {
      for (; c + kBlock <= units; c += kBlock)
        fc_block<kBlock, true>(x, filter, zp_bias, out, depth, c, input_zp, x_corr, output_zp,
                               mult, shift, per_channel, act_min, act_max);
      for (; c < units; ++c)
        fc_block<1, true>(x, filter, zp_bias, out, depth, c, input_zp, x_corr, output_zp, mult,
                          shift, per_channel, act_min, act_max);
      continue;
    }
    for (; c + kBlock <= units; c += kBlock)
      fc_block<kBlock, false>(x, filter, bias, out, depth, c, input_zp, x_corr, output_zp, mult,
                              shift, per_channel, act_min, act_max);
    for (; c < units; ++c)
      fc_block<1, false>(x, filter, bias, out, depth, c, input_zp, x_corr, output_zp, mult, shift,
                         per_channel, act_min, act_max);
  }
}
