#include "utc_lstm.h"

#include <float.h>
#include <math.h>
#include <string.h>

namespace {

/* TFLite's ActivationFunctionWithMinMax with the range of kTfLiteActNone. */
inline float clamp_none(float x) {
  x = x < -FLT_MAX ? -FLT_MAX : x;
  return FLT_MAX < x ? FLT_MAX : x;
}

/* TFLite's reference Logistic for float. */
inline float sigmoid(float x) {
  if (x > 16.619047164916992188f) return 1.0f;
  if (x < -9.0f) return expf(x);
  return 1.0f / (1.0f + expf(-x));
}

/* One gate element: the input and recurrent fully connected rows, each as TFLite's
 * reference FullyConnected computes it, then their sum. */
inline float gate(const float *x, const float *w, float bias, int32_t input_size,
                  const float *h, const float *r, int32_t state_size) {
  float in = 0.0f;
  for (int32_t d = 0; d < input_size; ++d) in += x[d] * w[d];
  float rec = 0.0f;
  for (int32_t d = 0; d < state_size; ++d) rec += h[d] * r[d];
  return clamp_none(in + bias) + clamp_none(rec + 0.0f);
}

}  // namespace

extern "C" {

void utc_lstm_f32(const float *input, const float *w_input, const float *w_forget,
                  const float *w_cell, const float *w_output, const float *r_input,
                  const float *r_forget, const float *r_cell, const float *r_output,
                  const float *b_input, const float *b_forget, const float *b_cell,
                  const float *b_output, const float *hidden_state, const float *cell_state,
                  float *output, float *new_hidden_state, float *new_cell_state, void *scratch,
                  int32_t batch, int32_t time_steps, int32_t input_size, int32_t state_size,
                  int32_t time_major, float cell_clip) {
  const size_t state_bytes = (size_t)batch * (size_t)state_size * sizeof(float);
  if (new_hidden_state != hidden_state) memcpy(new_hidden_state, hidden_state, state_bytes);
  if (new_cell_state != cell_state) memcpy(new_cell_state, cell_state, state_bytes);
  float *next_h = (float *)scratch;
  /* Batch rows are independent, so one (time, row) order serves both layouts. */
  for (int32_t t = 0; t < time_steps; ++t) {
    for (int32_t b = 0; b < batch; ++b) {
      const int32_t row = time_major ? t * batch + b : b * time_steps + t;
      const float *x = input + (size_t)row * input_size;
      float *h = new_hidden_state + (size_t)b * state_size;
      float *c = new_cell_state + (size_t)b * state_size;
      for (int32_t j = 0; j < state_size; ++j) {
        const size_t wo = (size_t)j * input_size, ro = (size_t)j * state_size;
        const float f = sigmoid(gate(x, w_forget + wo, b_forget[j], input_size, h,
                                     r_forget + ro, state_size));
        const float i = sigmoid(gate(x, w_input + wo, b_input[j], input_size, h,
                                     r_input + ro, state_size));
        const float g = tanhf(gate(x, w_cell + wo, b_cell[j], input_size, h, r_cell + ro,
                                   state_size));
        float cell = clamp_none(f * c[j]) + clamp_none(i * g);
        if (cell_clip > 0.0f) {  /* std::max(std::min(clip, cell), -clip), NaN included */
          cell = cell < cell_clip ? cell : cell_clip;
          cell = cell < -cell_clip ? -cell_clip : cell;
        }
        c[j] = cell;
        const float o = sigmoid(gate(x, w_output + wo, b_output[j], input_size, h,
                                     r_output + ro, state_size));
        next_h[j] = clamp_none(tanhf(cell) * o);
      }
      memcpy(h, next_h, (size_t)state_size * sizeof(float));
      memcpy(output + (size_t)row * state_size, next_h, (size_t)state_size * sizeof(float));
    }
  }
}

}  // extern "C"
