/* utc_svdf: TFLite SVDF (singular value decomposition filter), int8 with int8 or int16
 * activation state, and float32; bit-exact with TFLite Micro's reference kernels
 * (svdf_common.cc).
 *
 * input [batch, input_size]   weights_feature [num_filters, input_size]
 * weights_time [num_filters, memory_size]   bias [num_units] or NULL (num_units =
 * num_filters / rank)   state, new_state [batch, num_filters, memory_size] (each filter's
 * memory_size newest feature values, oldest first)   output [batch, num_units].
 *
 * One call: new_state = state shifted left by one value (the whole buffer, as TFLite
 * Micro does; each filter's oldest value drops out), then each filter's feature
 * (weights_feature row . input) becomes its newest value; output[b][u] = bias[u] + sum
 * over the unit's rank filters f = u * rank + r (in increasing r) of weights_time[f] .
 * new_state[b][f]. int8: the feature is requantized by feature_mult/feature_shift,
 * clamped to the state type's range and offset by state_zp; the output by
 * time_mult/time_shift, offset by output_zp, clamped to int8 (no fused activation: TFLite
 * Micro's integer SVDF ignores it). float32: the sums in TFLite Micro's order, then the
 * fused activation `act` (0 none, 1 relu, 2 relu_n1_to_1, 3 relu6, 4 tanh).
 *
 * In place: new_state may be state itself (the shift reads each value before writing it,
 * in increasing order); otherwise they must not overlap. Scratch: none (each unit's rank
 * products are reduced as they are computed, in TFLite Micro's order).
 *
 * CMSIS-NN (arm_svdf_s8 with int16 state, arm_svdf_state_s16_s8 with int8 weights) could
 * run the int8 variants: it keeps the state in the same [batch, filters, memory] layout but
 * shifts it in place and needs a [batch * num_filters] int32 scratch buffer and an int32
 * bias; see the kernel records in runtime/kernels.py. */
#ifndef UTC_SVDF_H
#define UTC_SVDF_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_svdf_s8(const int8_t *input, const int8_t *weights_feature, const int8_t *weights_time,
                 const int8_t *state, const int32_t *bias, int8_t *output, int8_t *new_state,
                 int32_t batch, int32_t input_size, int32_t num_filters, int32_t memory_size,
                 int32_t rank, int32_t input_zp, int32_t state_zp, int32_t output_zp,
                 int32_t feature_mult, int32_t feature_shift, int32_t time_mult,
                 int32_t time_shift);

void utc_svdf_state16_s8(const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, const int16_t *state, const int32_t *bias,
                     int8_t *output, int16_t *new_state, int32_t batch, int32_t input_size,
                     int32_t num_filters, int32_t memory_size, int32_t rank, int32_t input_zp,
                     int32_t state_zp, int32_t output_zp, int32_t feature_mult,
                     int32_t feature_shift, int32_t time_mult, int32_t time_shift);

void utc_svdf_f32(const float *input, const float *weights_feature, const float *weights_time,
                  const float *state, const float *bias, float *output, float *new_state,
                  int32_t batch, int32_t input_size, int32_t num_filters, int32_t memory_size,
                  int32_t rank, int32_t act);

#ifdef __cplusplus
}
#endif

#endif /* UTC_SVDF_H */
