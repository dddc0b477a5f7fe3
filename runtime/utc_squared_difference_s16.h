/* utc_squared_difference_s16: 16x8 SQUARED_DIFFERENCE, bit-exact with TFLite Micro's int16
 * path (zero points 0, no left shift): each input rescaled by its multiplier (below one, to
 * twice the larger input scale), the difference squared in int32 (|difference| <= 2^15 + 1,
 * so the square fits), rescaled once to the output and clamped to [act_min, act_max] (the
 * int16 range). Arguments and constants as utc_squared_difference_s8 (utc_elementwise_s8.h,
 * squared_difference_params with storage i16). Shapes are 6-D; the output may alias a
 * same-shape input (each element's inputs are read before it is written). */
#ifndef UTC_SQUARED_DIFFERENCE_S16_H
#define UTC_SQUARED_DIFFERENCE_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_squared_difference_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                                int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                                int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                                int32_t out_mult, int32_t out_shift, int32_t act_min,
                                int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif /* UTC_SQUARED_DIFFERENCE_S16_H */
