#include "utc_math_f32.h"

#include <math.h>

namespace {

/* TFLite's RoundToNearest: ties go to the even neighbour. */
inline float round_half_even(float x) {
  const float f = floorf(x);
  const float diff = x - f;
  if (diff < 0.5f || (diff == 0.5f && fmodf(f, 2.0f) == 0.0f)) return f;
  return f + 1.0f;
}

template <typename F>
void map(const float *input, float *output, int32_t size, F f) {
  for (int32_t i = 0; i < size; ++i) output[i] = f(input[i]);
}

}  // namespace

extern "C" {

void utc_abs_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return fabsf(x); });
}

void utc_neg_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return -x; });
}

void utc_floor_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return floorf(x); });
}

void utc_ceil_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return ceilf(x); });
}

void utc_round_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return round_half_even(x); });
}

void utc_sqrt_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return sqrtf(x); });
}

void utc_rsqrt_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return 1.0f / sqrtf(x); });
}

void utc_exp_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return expf(x); });
}

void utc_log_f32(const float *input, float *output, int32_t size) {
  map(input, output, size, [](float x) { return logf(x); });
}

}  // extern "C"
