/* utc_cumsum: TFLite CUMSUM, bit-exact with TFLite Micro's reference kernels. The input is
 * [outer, depth, inner] around the summed axis; `exclusive` leaves each element out of its
 * own output, `reverse` sums from the end of the axis.
 *
 * float32: the running sum in float, in the axis order (from the end when reversed).
 * int8 (constants from utc.passes.quantmath.reduce.cumsum_params): each element becomes
 * MBQM((x - input_zp) << left_shift, input_mult, input_shift), the int32 running sum
 * starts at the same rescaling of -input_zp (as TFLite Micro's does) and each partial sum
 * is written as clamp(MBQM(sum, output_mult, output_shift) + output_zp, -128, 127).
 *
 * In place: along each line the element is read before its output is written, and no
 * other line is touched, so the output may alias the input. */
#ifndef UTC_CUMSUM_H
#define UTC_CUMSUM_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_cumsum_f32(const float *input, float *output, int32_t outer, int32_t depth,
                    int32_t inner, int32_t exclusive, int32_t reverse);
void utc_cumsum_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth,
                   int32_t inner, int32_t exclusive, int32_t reverse, int32_t input_zp,
                   int32_t output_zp, int32_t left_shift, int32_t input_mult,
                   int32_t input_shift, int32_t output_mult, int32_t output_shift);

#ifdef __cplusplus
}
#endif

#endif /* UTC_CUMSUM_H */
