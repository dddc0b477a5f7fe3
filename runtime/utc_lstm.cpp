#include "utc_lstm.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utc_quant.h"
#include "utc_quant16.h"
#include "utc_sigmoid_table.h"

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

namespace {

/* TFLite's int16 Logistic with input multiplier 0 and shift 0 (the LSTM gates' Q3.12
 * input, scaled by 3/4 into the table's range), Q0.15 output. */
inline int16_t sigmoid_s16(int16_t x) {
  const int32_t in = (int32_t)x * 3;
  const uint32_t a = (uint32_t)abs(in);
  const uint32_t uh = a >> 9;
  uint32_t result;
  if (uh >= 255) {
    result = 0x7FFFu << 10;
  } else {
    const uint32_t ua = kSigmoidTable[uh], ub = kSigmoidTable[uh + 1];
    result = (ua << 9) + (a & 0x1ffu) * (ub - ua);
  }
  result = in >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
  return (int16_t)(result >> 10);
}

/* TFLite's int16 Tanh (reference_integer_ops::Tanh) for an input of scale 2^scale_power,
 * with the LSTM's choice of multiplier and shift (lstm_eval.cc Tanh). Q0.15 output. */
inline int16_t tanh_s16(int16_t x, int32_t scale_power) {
  int32_t shift = (15 + scale_power) - 3;
  int32_t mult = 0;
  if (shift < 0) {
    shift = -shift;
    mult = 3;
  }
  if (mult == 0) {
    mult = 3 << shift;
    shift = 0;
  }
  const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
  const int32_t in = ((int32_t)x * mult + round) >> shift;
  const uint32_t a = (uint32_t)abs(in);
  const uint32_t uh = a >> 8;
  int32_t result;
  if (uh >= 255) {
    result = 0xFFFF << 8;
  } else {
    const uint32_t ua = kSigmoidTable[uh], ub = kSigmoidTable[uh + 1];
    const uint8_t ut = (uint8_t)(a & 0xFFu);
    result = (int32_t)((ua << 8) + ut * (ub - ua));
  }
  result = in >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
  return (int16_t)(result >> 8);
}

inline int32_t sat16(int32_t x) { return utc_clamp(x, -32768, 32767); }

/* TFLite's MultiplyByQuantizedMultiplier for the accumulator type: the int32 version
 * (double rounding) for the int8 LSTM, the int64 one (16-bit multiplier) for 16x8. */
inline int32_t requantize(int32_t acc, int32_t mult, int32_t shift) {
  return utc_multiply_by_quantized_multiplier(acc, mult, shift);
}
inline int32_t requantize(int64_t acc, int32_t mult, int32_t shift) {
  return utc_multiply_by_quantized_multiplier_64(acc, mult, shift);
}

/* One gate's pre-activation: the input and recurrent fully connected rows (TFLite's
 * integer FullyConnected with int16 output; the accumulator has the bias's type), each
 * requantized to int16 Q3.12, summed with saturation (lstm_eval.cc AddElementWise). */
template <typename Act, typename Bias>
inline int16_t gate_q(const Act *x, const int8_t *w, const Bias *bias, int32_t j,
                      int32_t input_size, int32_t input_zp, int32_t in_mult, int32_t in_shift,
                      const Act *h, const int8_t *r, int32_t state_size, int32_t hidden_zp,
                      int32_t rec_mult, int32_t rec_shift) {
  Bias acc = 0;
  for (int32_t d = 0; d < input_size; ++d) acc += (int32_t)w[d] * ((int32_t)x[d] - input_zp);
  acc += bias[j];
  const int32_t in = sat16(requantize(acc, in_mult, in_shift));
  acc = 0;
  for (int32_t d = 0; d < state_size; ++d) acc += (int32_t)r[d] * ((int32_t)h[d] - hidden_zp);
  const int32_t rec = sat16(requantize(acc, rec_mult, rec_shift));
  return (int16_t)sat16(in + rec);
}

/* TFLite's MulElementwise of two symmetric int16 values. */
inline int32_t mul_s16(int32_t a, int32_t b, int32_t mult, int32_t shift) {
  return utc_multiply_by_quantized_multiplier(a * b, mult, shift);
}

}  // namespace

namespace {

/* The integer LSTM step loop, for int8 (int32 bias) and 16x8 (int64 bias) params. */
template <typename Act, typename Bias, typename Params>
void lstm_integer(const Params *p, int32_t act_min, int32_t act_max) {
  const size_t state = (size_t)p->batch * (size_t)p->state_size;
  if (p->new_hidden_state != p->hidden_state)
    memcpy(p->new_hidden_state, p->hidden_state, state * sizeof(Act));
  if (p->new_cell_state != p->cell_state)
    memcpy(p->new_cell_state, p->cell_state, state * sizeof(int16_t));
  Act *next_h = (Act *)p->scratch;
  const int32_t n_in = p->input_size, n_s = p->state_size;
  for (int32_t t = 0; t < p->time_steps; ++t) {
    for (int32_t b = 0; b < p->batch; ++b) {
      const int32_t row = p->time_major ? t * p->batch + b : b * p->time_steps + t;
      const Act *x = p->input + (size_t)row * n_in;
      Act *h = p->new_hidden_state + (size_t)b * n_s;
      int16_t *c = p->new_cell_state + (size_t)b * n_s;
      for (int32_t j = 0; j < n_s; ++j) {
        const size_t wo = (size_t)j * n_in, ro = (size_t)j * n_s;
        const int16_t f = sigmoid_s16(gate_q<Act, Bias>(
            x, p->w_forget + wo, p->b_forget, j, n_in, p->input_zp, p->forget_input_mult,
            p->forget_input_shift, h, p->r_forget + ro, n_s, p->hidden_zp,
            p->forget_recurrent_mult, p->forget_recurrent_shift));
        const int16_t i = sigmoid_s16(gate_q<Act, Bias>(
            x, p->w_input + wo, p->b_input, j, n_in, p->input_zp, p->input_input_mult,
            p->input_input_shift, h, p->r_input + ro, n_s, p->hidden_zp,
            p->input_recurrent_mult, p->input_recurrent_shift));
        const int16_t g = tanh_s16(gate_q<Act, Bias>(
            x, p->w_cell + wo, p->b_cell, j, n_in, p->input_zp, p->cell_input_mult,
            p->cell_input_shift, h, p->r_cell + ro, n_s, p->hidden_zp,
            p->cell_recurrent_mult, p->cell_recurrent_shift), -12);
        const int32_t kept = sat16(mul_s16(f, c[j], p->forget_cell_mult, p->forget_cell_shift));
        const int32_t added = sat16(mul_s16(i, g, p->input_cell_mult, p->input_cell_shift));
        int32_t cell = sat16(kept + added);
        if (p->cell_clip >= 0) cell = utc_clamp(cell, -p->cell_clip, p->cell_clip);
        c[j] = (int16_t)cell;
        const int16_t o = sigmoid_s16(gate_q<Act, Bias>(
            x, p->w_output + wo, p->b_output, j, n_in, p->input_zp, p->output_input_mult,
            p->output_input_shift, h, p->r_output + ro, n_s, p->hidden_zp,
            p->output_recurrent_mult, p->output_recurrent_shift));
        const int16_t th = tanh_s16((int16_t)cell, p->cell_scale_power);
        next_h[j] = (Act)utc_clamp(mul_s16(th, o, p->hidden_mult, p->hidden_shift) + p->hidden_zp,
                                   act_min, act_max);
      }
      memcpy(h, next_h, (size_t)n_s * sizeof(Act));
      memcpy(p->output + (size_t)row * n_s, next_h, (size_t)n_s * sizeof(Act));
    }
  }
}

}  // namespace

extern "C" {

void utc_lstm_s8(const utc_lstm_s8_params *params) {
  lstm_integer<int8_t, int32_t>(params, -128, 127);
}

void utc_lstm_s16(const utc_lstm_s16_params *params) {
  lstm_integer<int16_t, int64_t>(params, -32768, 32767);
}

}  // extern "C"
