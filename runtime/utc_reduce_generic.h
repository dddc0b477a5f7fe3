/* utc_reduce_generic: TFLite SUM (float32) and REDUCE_MAX (int8, float32), bit-exact with
 * TFLite Micro's ReduceGeneric: every output starts at the initial value (0.0f for SUM,
 * the type's lowest value for REDUCE_MAX) and takes in each input element in the input's
 * row-major order (SUM: out = in + out in float; REDUCE_MAX: out = in > out ? in : out).
 *
 * input_shape is 6-D, reduce_axes 6 flags (nonzero = reduced); the output holds the kept
 * dimensions in row-major order (keep_dims does not change the layout). int8 REDUCE_MAX
 * compares stored values (input and output share one quantization). The output must not
 * alias the input. */
#ifndef UTC_REDUCE_GENERIC_H
#define UTC_REDUCE_GENERIC_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_sum_f32(const float *input, float *output, const int32_t *input_shape,
                 const int32_t *reduce_axes);
void utc_reduce_max_f32(const float *input, float *output, const int32_t *input_shape,
                        const int32_t *reduce_axes);
void utc_reduce_max_s8(const int8_t *input, int8_t *output, const int32_t *input_shape,
                       const int32_t *reduce_axes);

#ifdef __cplusplus
}
#endif

#endif /* UTC_REDUCE_GENERIC_H */
