/* utc_reduce_s8: int8 MEAN over any set of axes (TFLite MEAN), bit-exact with TFLite
 * Micro's reference kernel.
 *
 * TFLM sums the reduced elements in int32, subtracts input_zp * n (n = number of reduced
 * elements per output) and rescales once with a multiplier that folds in 1/n, then adds
 * output_zp and clamps to int8. mult and shift are that folded multiplier, computed by
 * utc.passes.quantmath.reduce.mean_params (which also gives the 6-D shapes and flags).
 *
 * input_shape: the input shape right-aligned into 6-D with leading 1s.
 * reduce_axes: 6 flags, nonzero where that (6-D) dimension is reduced.
 * The output holds the kept dimensions in row-major order (keep_dims does not change the
 * memory layout). The common global-average case [N, H, W, C] over H, W is
 * input_shape {1, 1, N, H, W, C}, reduce_axes {0, 0, 0, 1, 1, 0}.
 * No scratch memory. */
#ifndef UTC_REDUCE_S8_H
#define UTC_REDUCE_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_mean_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                 const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                 int32_t mult, int32_t shift);
/* The same on int16 tensors (16x8), clamped to int16. */
void utc_mean_s16(const int16_t *input, int16_t *output, const int32_t *input_shape,
                  const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                  int32_t mult, int32_t shift);
/* TFLite SUM on int8 / int16: the same arithmetic with mult/shift for input_scale /
 * output_scale and no 1/n (utc.passes.quantmath.reduce.sum_params). */
void utc_sum_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                int32_t mult, int32_t shift);
void utc_sum_s16(const int16_t *input, int16_t *output, const int32_t *input_shape,
                 const int32_t *reduce_axes, int32_t input_zp, int32_t output_zp,
                 int32_t mult, int32_t shift);

#ifdef __cplusplus
}
#endif

#endif /* UTC_REDUCE_S8_H */
