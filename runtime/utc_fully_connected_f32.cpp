#include "utc_fully_connected_f32.h"

extern "C" void utc_fully_connected_f32(const float *input, const float *filter,
                                        const float *bias, float *output, int32_t batches,
                                        int32_t depth, int32_t units, float act_min,
                                        float act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    for (int32_t c = 0; c < units; ++c) {
      float total = 0.0f;
      for (int32_t d = 0; d < depth; ++d) total += input[b * depth + d] * filter[c * depth + d];
      const float v = total + (bias ? bias[c] : 0.0f);
      output[b * units + c] = v < act_min ? act_min : (v > act_max ? act_max : v);
    }
  }
}
