/* utc_add_s8: int8 elementwise addition with broadcasting (TFLite ADD), bit-exact with
 * TFLite Micro: both inputs are shifted left by left_shift, rescaled by their own
 * multipliers, summed, rescaled to the output and clamped.
 * Shapes are given as 6-D arrays (leading 1s), broadcast dimensions have size 1. */
#ifndef UTC_ADD_S8_H
#define UTC_ADD_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_add_s8(const int8_t *in1, const int8_t *in2, int8_t *output, const int32_t *shape1,
                const int32_t *shape2, const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t output_zp, int32_t left_shift, int32_t in1_mult, int32_t in1_shift,
                int32_t in2_mult, int32_t in2_shift, int32_t out_mult, int32_t out_shift,
                int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
