/* utc_activation_s16: 16x8 LOGISTIC and TANH (int16 in and out), bit-exact with TFLite
 * Micro's int16 reference kernels.
 *
 * Per element: v = (x * input_mult + round) >> input_left_shift, round = 2^(shift - 1)
 * (0 for shift 0): the input in Q3.12. |v| indexes TFLite's 256-entry table of
 * sigmoid(i / 24) in 0.16 fixed point, interpolated linearly between entries:
 *   logistic: 512 steps of |v| per entry (|v| >> 9), Q0.15 output, mirrored for v < 0
 *             as 1 - sigmoid(|v|);
 *   tanh:     256 steps per entry (|v| >> 8), tanh(x) = 2 sigmoid(2x) - 1, odd in v.
 * Inputs past the last entry saturate. input_mult and input_left_shift come from
 * utc.passes.quantmath.activation.logistic16_params / tanh16_params (TFLM's
 * power-of-two case is resolved there). Output scale 2^-15, zero points 0.
 * Output may alias input (each element is read before it is written).
 *
 * Needs utc_runtime.h. */
#ifndef UTC_ACTIVATION_S16_H
#define UTC_ACTIVATION_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_logistic_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_mult,
                      int32_t input_left_shift);

void utc_tanh_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_mult,
                  int32_t input_left_shift);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ACTIVATION_S16_H */
