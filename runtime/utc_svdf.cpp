#include "utc_svdf.h"

#include <math.h>

#include "utc_quant.h"

namespace {

/* new_state[k] = state[k + 1] for every k but the last (which the feature stage writes):
 * increasing k, so new_state may be state. */
template <typename T>
void shift_state(const T *state, T *new_state, int32_t count) {
  for (int32_t k = 0; k + 1 < count; ++k) new_state[k] = state[k + 1];
}

/* int32 sums wrap as TFLite Micro's do on every target utc supports, without the undefined
 * behaviour of a signed overflow. */
inline int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
inline int32_t wrap_mul(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a * (uint32_t)b);
}

template <typename T>
void svdf_integer(const int8_t *input, const int8_t *weights_feature, const T *weights_time,
                  const T *state, const int32_t *bias, int8_t *output, T *new_state,
                  int32_t batch, int32_t input_size, int32_t num_filters, int32_t memory_size,
                  int32_t rank, int32_t input_zp, int32_t state_zp, int32_t output_zp,
                  int32_t feature_mult, int32_t feature_shift, int32_t time_mult,
                  int32_t time_shift, int32_t state_min, int32_t state_max) {
  shift_state(state, new_state, batch * num_filters * memory_size);
  const int32_t num_units = num_filters / rank;
  for (int32_t b = 0; b < batch; ++b) {
    const int8_t *x = input + b * input_size;
    T *s = new_state + b * num_filters * memory_size;
    /* feature stage: the newest value of each filter's memory */
    for (int32_t f = 0; f < num_filters; ++f) {
      const int8_t *w = weights_feature + f * input_size;
      int32_t acc = 0;
      for (int32_t c = 0; c < input_size; ++c) acc = wrap_add(acc, wrap_mul(w[c], x[c] - input_zp));
      acc = utc_multiply_by_quantized_multiplier(acc, feature_mult, feature_shift);
      acc = utc_clamp(acc, state_min, state_max);
      s[f * memory_size + memory_size - 1] = (T)(state_zp + acc);
    }
    /* time stage, reduced per unit over its rank filters */
    for (int32_t u = 0; u < num_units; ++u) {
      int32_t out = bias ? bias[u] : 0;
      for (int32_t r = 0; r < rank; ++r) {
        const int32_t f = u * rank + r;
        const T *wt = weights_time + f * memory_size;
        const T *sf = s + f * memory_size;
        int32_t dot = 0;
        for (int32_t m = 0; m < memory_size; ++m)
          dot = wrap_add(dot, wrap_mul(wt[m], sf[m] - state_zp));
        out = wrap_add(out, dot);
      }
      out = utc_multiply_by_quantized_multiplier(out, time_mult, time_shift) + output_zp;
      output[b * num_units + u] = (int8_t)utc_clamp(out, -128, 127);
    }
  }
}

/* TFLite Micro's ActivationValFloat for the fused activations SVDF accepts. */
inline float activate(int32_t act, float a) {
  switch (act) {
    case 1: return a < 0.0f ? 0.0f : a;
    case 2: return a < -1.0f ? -1.0f : (a > 1.0f ? 1.0f : a);
    case 3: return a < 0.0f ? 0.0f : (a > 6.0f ? 6.0f : a);
    case 4: return tanhf(a);
    default: return a;
  }
}

}  // namespace

extern "C" {

void utc_svdf_s8(const int8_t *input, const int8_t *weights_feature, const int8_t *weights_time,
                 const int8_t *state, const int32_t *bias, int8_t *output, int8_t *new_state,
                 int32_t batch, int32_t input_size, int32_t num_filters, int32_t memory_size,
                 int32_t rank, int32_t input_zp, int32_t state_zp, int32_t output_zp,
                 int32_t feature_mult, int32_t feature_shift, int32_t time_mult,
                 int32_t time_shift) {
  svdf_integer<int8_t>(input, weights_feature, weights_time, state, bias, output, new_state,
                       batch, input_size, num_filters, memory_size, rank, input_zp, state_zp,
                       output_zp, feature_mult, feature_shift, time_mult, time_shift, -128, 127);
}

void utc_svdf_state16_s8(const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, const int16_t *state, const int32_t *bias,
                     int8_t *output, int16_t *new_state, int32_t batch, int32_t input_size,
                     int32_t num_filters, int32_t memory_size, int32_t rank, int32_t input_zp,
                     int32_t state_zp, int32_t output_zp, int32_t feature_mult,
                     int32_t feature_shift, int32_t time_mult, int32_t time_shift) {
  svdf_integer<int16_t>(input, weights_feature, weights_time, state, bias, output, new_state,
                        batch, input_size, num_filters, memory_size, rank, input_zp, state_zp,
                        output_zp, feature_mult, feature_shift, time_mult, time_shift, -32768,
                        32767);
}

void utc_svdf_f32(const float *input, const float *weights_feature, const float *weights_time,
                  const float *state, const float *bias, float *output, float *new_state,
                  int32_t batch, int32_t input_size, int32_t num_filters, int32_t memory_size,
                  int32_t rank, int32_t act) {
  shift_state(state, new_state, batch * num_filters * memory_size);
  const int32_t num_units = num_filters / rank;
  for (int32_t b = 0; b < batch; ++b) {
    const float *x = input + b * input_size;
    float *s = new_state + b * num_filters * memory_size;
    for (int32_t f = 0; f < num_filters; ++f) {
      const float *w = weights_feature + f * input_size;
      float dot = 0.0f;
      for (int32_t c = 0; c < input_size; ++c) dot += w[c] * x[c];
      s[f * memory_size + memory_size - 1] = dot;
    }
    for (int32_t u = 0; u < num_units; ++u) {
      float out = bias ? bias[u] : 0.0f;
      for (int32_t r = 0; r < rank; ++r) {
        const int32_t f = u * rank + r;
        const float *wt = weights_time + f * memory_size;
        const float *sf = s + f * memory_size;
        float dot = 0.0f;
        for (int32_t m = 0; m < memory_size; ++m) dot += wt[m] * sf[m];
        out += dot;
      }
      output[b * num_units + u] = activate(act, out);
    }
  }
}

}  // extern "C"
