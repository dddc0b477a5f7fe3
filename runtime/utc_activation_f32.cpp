#include "utc_activation_f32.h"

#include <math.h>

#include "utc_quant_ext.h"

namespace {

struct PreluOp {
  float operator()(float x, float alpha) const { return x >= 0.0f ? x : x * alpha; }
};

}  // namespace

extern "C" void utc_logistic_f32(const float *input, float *output, int32_t size) {
  const float cutoff_upper = 16.619047164916992188f;  /* where 1/(1+e^-x) rounds to 1 */
  const float cutoff_lower = -9.0f;
  for (int32_t i = 0; i < size; ++i) {
    const float x = input[i];
    if (x > cutoff_upper)
      output[i] = 1.0f;
    else if (x < cutoff_lower)
      output[i] = expf(x);
    else
      output[i] = 1.0f / (1.0f + expf(-x));
  }
}

extern "C" void utc_tanh_f32(const float *input, float *output, int32_t size) {
  for (int32_t i = 0; i < size; ++i) output[i] = tanhf(input[i]);
}

extern "C" void utc_clamp_f32(const float *input, float *output, int32_t size, float lo,
                              float hi) {
  for (int32_t i = 0; i < size; ++i) {
    const float x = input[i];
    output[i] = x < lo ? lo : (hi < x ? hi : x);
  }
}

extern "C" void utc_leaky_relu_f32(const float *input, float *output, int32_t size,
                                   float alpha) {
  for (int32_t i = 0; i < size; ++i) {
    const float x = input[i];
    output[i] = x > 0.0f ? x : x * alpha;
  }
}

extern "C" void utc_hard_swish_f32(const float *input, float *output, int32_t size) {
  for (int32_t i = 0; i < size; ++i) {
    const float x = input[i];
    float r = x + 3.0f;
    r = 0.0f < r ? r : 0.0f; /* std::max(0, r): NaN -> 0 */
    r = r < 6.0f ? r : 6.0f; /* std::min(6, r) */
    output[i] = x * r / 6.0f;
  }
}

extern "C" void utc_prelu_f32(const float *input, const float *alpha, float *output,
                              const int32_t *input_shape, const int32_t *alpha_shape,
                              const int32_t *output_shape) {
  utc_broadcast_binary6(input, alpha, output, input_shape, alpha_shape, output_shape,
                        PreluOp());
}
