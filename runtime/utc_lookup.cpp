#include "utc_lookup.h"

#include <math.h>

extern "C" void utc_lookup_s8(const int8_t *input, int8_t *output, int32_t size,
                              const int8_t *table) {
  for (int32_t i = 0; i < size; ++i) output[i] = table[(uint8_t)input[i]];
}

extern "C" void utc_elu_f32(const float *input, float *output, int32_t size) {
  for (int32_t i = 0; i < size; ++i) {
    const float x = input[i];
    output[i] = x < 0.0f ? expm1f(x) : x;
  }
}
