/* utc_normalization: TFLite L2_NORMALIZATION and LOG_SOFTMAX (int8, float32)
 * along the last dimension, bit-exact with TFLite Micro's reference kernels. `rows` is the
 * product of the other dimensions, `depth` the last one. The output may alias the input
 * (each row is read in full before any of its outputs is written, except L2 int8 and
 * float32, which write element c only after reading it).
 *
 * utc_l2_normalization_f32: per row, s = sum of x * x in float (in order), n = max(sqrtf(s),
 *   1e-6f), out = x / n.
 * utc_l2_normalization_s8: per row, acc = sum of (x - input_zp)^2 in int32 (the record
 *   refuses rows long enough to overflow it); TFLite's GetInvSqrtQuantizedMultiplierExp(acc)
 *   gives a multiplier and shift (five Newton-Raphson steps in Q3.28); each output is
 *   MultiplyByQuantizedMultiplier(x - input_zp, multiplier, shift + 7) clamped to int8: the
 *   output scale is 1/128 with zero point 0, as TFLite Micro fixes it.
 * utc_log_softmax_f32: per row, m = max, s = sum of expf(x - m) in order, out = x - m -
 *   logf(s). */
#ifndef UTC_NORMALIZATION_H
#define UTC_NORMALIZATION_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_l2_normalization_f32(const float *input, float *output, int32_t rows, int32_t depth);
void utc_l2_normalization_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                             int32_t input_zp);
void utc_log_softmax_f32(const float *input, float *output, int32_t rows, int32_t depth);
/* int8 LOG_SOFTMAX, TFLite Micro's fixed-point arithmetic (log_softmax.h): per row, d = x -
 * max; the d >= diff_min contribute exp(d * input_mult * 2^input_left_shift in Q5.26) in
 * Q12.19 to a sum; L = log(sum) in Q5.26 (TFLite's log_x_for_x_greater_than_or_equal_to_1);
 * an element with d > max(diff_min - 1, rescale(L + INT32_MIN, reverse_mult, reverse_shift))
 * gives clamp(RoundingDivideByPOT(d in Q5.26 - L, 22) + 127), any other -128. Output scale
 * 16/256, zero point 127 (log_softmax_params). */
void utc_log_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                        int32_t input_mult, int32_t input_left_shift, int32_t reverse_mult,
                        int32_t reverse_shift, int32_t diff_min);

#ifdef __cplusplus
}
#endif

#endif /* UTC_NORMALIZATION_H */
