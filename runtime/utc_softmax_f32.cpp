#include "utc_softmax_f32.h"

#include <math.h>

extern "C" void utc_softmax_f32(const float *input, float *output, int32_t rows, int32_t depth,
                                float beta) {
  for (int32_t r = 0; r < rows; ++r) {
    const float *x = input + r * depth;
    float *y = output + r * depth;
    float max = x[0];
    for (int32_t c = 1; c < depth; ++c) max = x[c] > max ? x[c] : max;
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; ++c) {
      y[c] = expf((x[c] - max) * beta);
      sum += y[c];
    }
    for (int32_t c = 0; c < depth; ++c) y[c] = y[c] / sum;
  }
}
