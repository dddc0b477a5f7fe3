/* utc_arg_min_max: TFLite ARG_MAX and ARG_MIN (int8 or float32 input, int32 output).
 *
 * For every outer row o < outer and inner position i < inner, the output is the index k
 * along the axis (axis_size values, inner apart) of the largest (ARG_MAX) or smallest
 * (ARG_MIN) input. As in TFLite Micro (reference ArgMinMax with GreaterFn / LessFn), a
 * value replaces the current best only when strictly greater (smaller), so ties give the
 * first index; int8 compares the stored integers (the scale is positive, so their order is
 * the real values' order). float32 uses the plain C comparison: a NaN never replaces the
 * best, and a leading NaN stays the best (index 0), as in TFLite Micro.
 * The output must not overlap the input. */
#ifndef UTC_ARG_MIN_MAX_H
#define UTC_ARG_MIN_MAX_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_arg_max_s8_s32(const int8_t *input, int32_t *output, int32_t outer,
                        int32_t axis_size, int32_t inner);
void utc_arg_min_s8_s32(const int8_t *input, int32_t *output, int32_t outer,
                        int32_t axis_size, int32_t inner);
void utc_arg_max_f32_s32(const float *input, int32_t *output, int32_t outer,
                         int32_t axis_size, int32_t inner);
void utc_arg_min_f32_s32(const float *input, int32_t *output, int32_t outer,
                         int32_t axis_size, int32_t inner);

#ifdef __cplusplus
}
#endif

#endif
