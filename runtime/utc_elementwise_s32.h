/* utc_elementwise_s32: int32 (unquantized) broadcasting binary ops (TFLite ADD, SUB, MUL,
 * DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM on int32 tensors), and MAXIMUM, MINIMUM on
 * int64 tensors (the only int64 arithmetic TFLite Micro runs), bit-exact with TFLite
 * Micro's reference kernels.
 *
 * Shapes are 6 int32 each: the tensor's shape right-aligned into 6-D with leading 1s; each
 * input dimension equals the output's or is 1 (broadcast). The output may alias an input
 * whose shape is the output's (each element's inputs are read before it is written).
 *
 * Arithmetic, as TFLite Micro's int32 paths compute it:
 * - ADD, SUB and MUL wrap modulo 2^32 (TFLM's MUL uses WrappingMul; its ADD and SUB add in
 *   int32, which wraps on every target it runs on), then clamp to [act_min, act_max]. TFLM's
 *   int32 ADD ignores the fused activation (its range is the whole int32 range): the record
 *   passes INT32_MIN/INT32_MAX for ADD whatever the model says.
 * - DIV is C++'s int32 division (rounds toward zero), then the clamp. A zero divisor, and
 *   INT32_MIN / -1, are undefined behaviour in TFLM (a trap on most hosts): utc defines
 *   them instead, a zero divisor gives 0 and INT32_MIN / -1 gives INT32_MIN (the wrapped
 *   quotient), before the clamp.
 * - SQUARED_DIFFERENCE: d = in1 - in2, out = d * d, both wrapping (TFLM computes them in
 *   int32), no clamp (no fused activation).
 * - MAXIMUM / MINIMUM (int32 and int64): the larger / smaller value, no clamp. */
#ifndef UTC_ELEMENTWISE_S32_H
#define UTC_ELEMENTWISE_S32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_add_s32(const int32_t *in1, const int32_t *in2, int32_t *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, int32_t act_min,
                 int32_t act_max);
void utc_sub_s32(const int32_t *in1, const int32_t *in2, int32_t *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, int32_t act_min,
                 int32_t act_max);
void utc_mul_s32(const int32_t *in1, const int32_t *in2, int32_t *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, int32_t act_min,
                 int32_t act_max);
void utc_div_s32(const int32_t *in1, const int32_t *in2, int32_t *out, const int32_t *in1_shape,
                 const int32_t *in2_shape, const int32_t *out_shape, int32_t act_min,
                 int32_t act_max);
void utc_squared_difference_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape);
void utc_maximum_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);
void utc_minimum_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);
void utc_maximum_s64(const int64_t *in1, const int64_t *in2, int64_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);
void utc_minimum_s64(const int64_t *in1, const int64_t *in2, int64_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ELEMENTWISE_S32_H */
