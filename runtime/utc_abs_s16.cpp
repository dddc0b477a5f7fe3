#include "utc_abs_s16.h"

#include "utc_quant.h"

extern "C" void utc_abs_s16(const int16_t *input, int16_t *output, int32_t size,
                            int32_t rescale, int32_t mult, int32_t shift) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t x = input[i];
    int32_t v = x < 0 ? -x : x;
    if (rescale) v = utc_multiply_by_quantized_multiplier(v, mult, shift);
    output[i] = (int16_t)utc_clamp(v, -32768, 32767);
  }
}
