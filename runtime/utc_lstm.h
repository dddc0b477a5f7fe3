/* utc_lstm: TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, float32, bit-exact with TFLite Micro's
 * reference kernel (lstm_eval.h LstmStep: no CIFG, peephole, projection or layer
 * normalisation, which TFLite Micro does not implement either).
 *
 * input [time, batch, input_size] when time_major, else [batch, time, input_size];
 * output the same with state_size last. For each gate g in (input, forget, cell, output):
 * w_g [state_size, input_size], r_g [state_size, state_size], b_g [state_size].
 * hidden_state, cell_state [batch, state_size]: the state before the call;
 * new_hidden_state, new_cell_state: after it (may be the same buffers as the old ones;
 * otherwise they must not overlap).
 *
 * Per time step and batch row, every gate element is (sum_d x[d] * w_g[j][d] + b_g[j],
 * clamped to +-FLT_MAX) + (sum_d h[d] * r_g[j][d] + 0, clamped), in TFLite Micro's order,
 * then a sigmoid (TFLite's reference Logistic, with its cut-offs) for the input, forget and
 * output gates and tanh for the cell gate; c = clamp(f * c) + clamp(i * g), clipped to
 * +-cell_clip when cell_clip > 0; h = clamp(o * tanh(c)), also the step's output. Every
 * gate reads the hidden state of the previous step, so the new hidden row is built in
 * `scratch` (state_size floats) and copied at the end of the step.
 *
 * CMSIS-NN's arm_lstm_unidirectional_s8 is an int8 kernel (int16 cell state); it could
 * claim an int8 LSTM record, not this one. */
#ifndef UTC_LSTM_H
#define UTC_LSTM_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_lstm_f32(const float *input, const float *w_input, const float *w_forget,
                  const float *w_cell, const float *w_output, const float *r_input,
                  const float *r_forget, const float *r_cell, const float *r_output,
                  const float *b_input, const float *b_forget, const float *b_cell,
                  const float *b_output, const float *hidden_state, const float *cell_state,
                  float *output, float *new_hidden_state, float *new_cell_state, void *scratch,
                  int32_t batch, int32_t time_steps, int32_t input_size, int32_t state_size,
                  int32_t time_major, float cell_clip);

/* utc_lstm_s8: the int8 LSTM (int8 input, hidden state, output and weights, int32 biases,
 * int16 cell state), TFLite Micro's integer arithmetic (lstm_eval.cc): per gate, the
 * input and recurrent fully connected rows requantized to int16 Q3.12 by <gate>_input_* and
 * <gate>_recurrent_* and summed with saturation; sigmoid (tanh for the cell gate) by
 * TFLite's int16 table interpolation into Q0.15; cell = sat(forget * cell by forget_cell_*)
 * + (input * cell gate by input_cell_*), saturated, clamped to +-cell_clip when cell_clip
 * >= 0 (-1: no clip); hidden = tanh(cell, input scale 2^cell_scale_power) * output gate by
 * hidden_*, plus hidden_zp, clamped to int8. The constants come from
 * passes/quantmath/lstm.py. scratch: state_size bytes (the new hidden row). States in
 * place or disjoint, as utc_lstm_f32. */
typedef struct utc_lstm_s8_params {
  const int8_t *input;
  const int8_t *w_input;
  const int8_t *w_forget;
  const int8_t *w_cell;
  const int8_t *w_output;
  const int8_t *r_input;
  const int8_t *r_forget;
  const int8_t *r_cell;
  const int8_t *r_output;
  const int32_t *b_input;
  const int32_t *b_forget;
  const int32_t *b_cell;
  const int32_t *b_output;
  const int8_t *hidden_state;
  const int16_t *cell_state;
  int8_t *output;
  int8_t *new_hidden_state;
  int16_t *new_cell_state;
  void *scratch;
  int32_t batch;
  int32_t time_steps;
  int32_t input_size;
  int32_t state_size;
  int32_t time_major;
  int32_t input_zp;
  int32_t hidden_zp;
  int32_t input_input_mult;
  int32_t input_input_shift;
  int32_t input_recurrent_mult;
  int32_t input_recurrent_shift;
  int32_t forget_input_mult;
  int32_t forget_input_shift;
  int32_t forget_recurrent_mult;
  int32_t forget_recurrent_shift;
  int32_t cell_input_mult;
  int32_t cell_input_shift;
  int32_t cell_recurrent_mult;
  int32_t cell_recurrent_shift;
  int32_t output_input_mult;
  int32_t output_input_shift;
  int32_t output_recurrent_mult;
  int32_t output_recurrent_shift;
  int32_t forget_cell_mult;
  int32_t forget_cell_shift;
  int32_t input_cell_mult;
  int32_t input_cell_shift;
  int32_t hidden_mult;
  int32_t hidden_shift;
  int32_t cell_scale_power;
  int32_t cell_clip;
} utc_lstm_s8_params;

void utc_lstm_s8(const utc_lstm_s8_params *params);

/* utc_lstm_s16: the 16x8 LSTM (int16 input, hidden state and output, int8 weights, int64
 * biases, int16 cell state), the same steps with TFLite's int64 accumulator and its
 * 16-bit-multiplier requantization in the gates' fully connected rows; the hidden state
 * clamped to int16. */
typedef struct utc_lstm_s16_params {
  const int16_t *input;
  const int8_t *w_input;
  const int8_t *w_forget;
  const int8_t *w_cell;
  const int8_t *w_output;
  const int8_t *r_input;
  const int8_t *r_forget;
  const int8_t *r_cell;
  const int8_t *r_output;
  const int64_t *b_input;
  const int64_t *b_forget;
  const int64_t *b_cell;
  const int64_t *b_output;
  const int16_t *hidden_state;
  const int16_t *cell_state;
  int16_t *output;
  int16_t *new_hidden_state;
  int16_t *new_cell_state;
  void *scratch;
  int32_t batch;
  int32_t time_steps;
  int32_t input_size;
  int32_t state_size;
  int32_t time_major;
  int32_t input_zp;
  int32_t hidden_zp;
  int32_t input_input_mult;
  int32_t input_input_shift;
  int32_t input_recurrent_mult;
  int32_t input_recurrent_shift;
  int32_t forget_input_mult;
  int32_t forget_input_shift;
  int32_t forget_recurrent_mult;
  int32_t forget_recurrent_shift;
  int32_t cell_input_mult;
  int32_t cell_input_shift;
  int32_t cell_recurrent_mult;
  int32_t cell_recurrent_shift;
  int32_t output_input_mult;
  int32_t output_input_shift;
  int32_t output_recurrent_mult;
  int32_t output_recurrent_shift;
  int32_t forget_cell_mult;
  int32_t forget_cell_shift;
  int32_t input_cell_mult;
  int32_t input_cell_shift;
  int32_t hidden_mult;
  int32_t hidden_shift;
  int32_t cell_scale_power;
  int32_t cell_clip;
} utc_lstm_s16_params;

void utc_lstm_s16(const utc_lstm_s16_params *params);

#ifdef __cplusplus
}
#endif

#endif /* UTC_LSTM_H */
