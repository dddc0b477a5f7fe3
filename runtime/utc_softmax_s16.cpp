#include "utc_softmax_s16.h"

#include "utc_quant.h"

namespace {

/* TFLite's interpolating int16 table lookup (513 entries). */
inline int16_t lut_lookup(int16_t v, const int16_t *lut) {
  const int32_t index = 256 + (v >> 7);
  const int32_t offset = v & 0x7F;
  const int16_t base = lut[index];
  const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
  return (int16_t)(base + ((slope * offset + 64) >> 7));
}

inline int16_t sat16(int32_t v) {
  return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

inline int32_t leading_zeros(uint32_t v) {
  int32_t n = 0;
  if (v == 0) return 32;
  while (!(v & 0x80000000u)) {
    v <<= 1;
    ++n;
  }
  return n;
}

}  // namespace

extern "C" {

void utc_softmax_s16(const int16_t *input, int16_t *output, int32_t rows, int32_t depth,
                     int32_t input_mult, int32_t input_left_shift, const int16_t *exp_lut,
                     const int16_t *recip_lut) {
  for (int32_t r = 0; r < rows; ++r) {
    const int16_t *x = input + (int64_t)r * depth;
    int16_t *y = output + (int64_t)r * depth;
    int16_t max_v = -32768;
    for (int32_t c = 0; c < depth; ++c) max_v = x[c] > max_v ? x[c] : max_v;
    int32_t sum = 0; /* Q16.15 */
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t scaled = utc_multiply_by_quantized_multiplier((int32_t)x[c] - max_v,
                                                                  input_mult, input_left_shift);
      y[c] = lut_lookup(sat16(scaled + 32767), exp_lut);
      sum += y[c];
    }
    const int32_t lz = leading_zeros((uint32_t)sum);
    const int32_t shifted = (int32_t)((((int64_t)sum << (lz - 1)) + (1 << 13)) >> 14);
    const int16_t recip = lut_lookup(sat16(shifted - ((1 << 15) + (1 << 16))), recip_lut);
    const int32_t right_shift = 31 - lz;
    const int64_t round = (int64_t)1 << (right_shift - 1);
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t v = (int32_t)(((int64_t)y[c] * recip + round) >> right_shift);
      y[c] = (int16_t)(v < 0 ? 0 : (v > 32767 ? 32767 : v));
    }
  }
}

}  // extern "C"
