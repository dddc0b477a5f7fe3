#include "utc_activation_s16.h"

#include "utc_sigmoid_table.h"

namespace {

/* The input rescaled to Q3.12 (arithmetic shift, as TFLite). */
inline int32_t rescale(int16_t x, int32_t mult, int32_t shift, int32_t round) {
  return ((int32_t)x * mult + round) >> shift;
}

}  // namespace

extern "C" {

void utc_logistic_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_mult,
                      int32_t input_left_shift) {
  const int32_t round = input_left_shift > 0 ? (int32_t)1 << (input_left_shift - 1) : 0;
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = rescale(input[i], input_mult, input_left_shift, round);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t entry = a >> 9;
    uint32_t r; /* sigmoid(|v|) in 0.25 fixed point */
    if (entry >= 255) {
      r = (uint32_t)0x7FFF << 10;
    } else {
      const uint32_t lo = kSigmoidTable[entry], hi = kSigmoidTable[entry + 1];
      r = (lo << 9) + (a & 0x1FF) * (hi - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    output[i] = (int16_t)(r >> 10);
  }
}

void utc_tanh_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_mult,
                  int32_t input_left_shift) {
  const int32_t round = input_left_shift > 0 ? (int32_t)1 << (input_left_shift - 1) : 0;
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = rescale(input[i], input_mult, input_left_shift, round);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t entry = a >> 8;
    int32_t r; /* sigmoid(2|x|) in 0.24 fixed point */
    if (entry >= 255) {
      r = (int32_t)(0xFFFFu << 8);
    } else {
      const uint32_t lo = kSigmoidTable[entry], hi = kSigmoidTable[entry + 1];
      r = (int32_t)((lo << 8) + (a & 0xFF) * (hi - lo));
    }
    /* 2 s - 1 = (s - 1/2) * 2, rounded: (r - 2^23 + 2^7) >> 8, mirrored for v < 0 */
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    output[i] = (int16_t)(r >> 8);
  }
}

}  // extern "C"
