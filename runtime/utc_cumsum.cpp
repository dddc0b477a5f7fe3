#include "utc_cumsum.h"

#include "utc_quant.h"

extern "C" {

void utc_cumsum_f32(const float *input, float *output, int32_t outer, int32_t depth,
                    int32_t inner, int32_t exclusive, int32_t reverse) {
  for (int32_t o = 0; o < outer; ++o) {
    for (int32_t i = 0; i < inner; ++i) {
      float acc = 0.0f;
      for (int32_t k = 0; k < depth; ++k) {
        const int32_t d = reverse ? depth - 1 - k : k;
        const ptrdiff_t index = ((ptrdiff_t)o * depth + d) * inner + i;
        const float x = input[index];
        if (exclusive) {
          output[index] = acc;
          acc = acc + x;
        } else {
          acc = acc + x;
          output[index] = acc;
        }
      }
    }
  }
}

void utc_cumsum_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth,
                   int32_t inner, int32_t exclusive, int32_t reverse, int32_t input_zp,
                   int32_t output_zp, int32_t left_shift, int32_t input_mult,
                   int32_t input_shift, int32_t output_mult, int32_t output_shift) {
  const int32_t start = utc_multiply_by_quantized_multiplier(
      (int32_t)((uint32_t)(-input_zp) << left_shift), input_mult, input_shift);
  for (int32_t o = 0; o < outer; ++o) {
    for (int32_t i = 0; i < inner; ++i) {
      int32_t acc = start;
      for (int32_t k = 0; k < depth; ++k) {
        const int32_t d = reverse ? depth - 1 - k : k;
        const ptrdiff_t index = ((ptrdiff_t)o * depth + d) * inner + i;
        const int32_t shifted = (int32_t)((uint32_t)((int32_t)input[index] - input_zp)
                                          << left_shift);
        const int32_t scaled = utc_multiply_by_quantized_multiplier(shifted, input_mult,
                                                                    input_shift);
        int32_t sum;
        if (exclusive) {
          sum = acc;
          acc += scaled;
        } else {
          acc += scaled;
          sum = acc;
        }
        const int32_t r = utc_multiply_by_quantized_multiplier(sum, output_mult, output_shift) +
                          output_zp;
        output[index] = (int8_t)utc_clamp(r, -128, 127);
      }
    }
  }
}

}  // extern "C"
