/* utc_reduce_f32: float32 reductions (TFLite MEAN), bit-exact with TFLite Micro's
 * reference float kernel. The int8 counterpart is utc_reduce_s8. */
#ifndef UTC_REDUCE_F32_H
#define UTC_REDUCE_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MEAN: input_shape 6-D, reduce_axes 6 flags (nonzero = reduced). The output holds the kept
 * dimensions in row-major order (keep_dims does not change the layout). Sums in float in
 * the input's row-major order starting from +0.0f, then divides by the element count, as
 * TFLM does. The output must not alias the input. */
void utc_mean_f32(const float *input, float *output, const int32_t *input_shape,
                  const int32_t *reduce_axes);

#ifdef __cplusplus
}
#endif

#endif /* UTC_REDUCE_F32_H */
