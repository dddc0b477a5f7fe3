/* utc_compare: comparisons with a bool result (TFLite EQUAL, NOT_EQUAL, LESS, LESS_EQUAL,
 * GREATER, GREATER_EQUAL), the logical operators (LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT)
 * and SELECT_V2, bit-exact with TFLite Micro's reference kernels.
 *
 * Shapes: *_shape point to 6 int32 each, the tensors' shapes right-aligned into 6-D with
 * leading 1s; an input dimension equals the output's or is 1 (broadcast). `predicate`
 * numbers the comparison as utc.dialects.tensor.COMPARISONS does: 0 equal, 1 not equal,
 * 2 less, 3 less or equal, 4 greater, 5 greater or equal.
 *
 * In place: the comparisons and logical operators write each output element after
 * reading both of its input elements, in increasing output order; a bool output may
 * therefore alias a bool input of the output's shape (LOGICAL_*, bool EQUAL). SELECT_V2
 * does the same and may write over x or y when that operand has the output's shape.
 *
 * Needs utc_runtime.h, utc_quant.h and utc_quant_ext.h. */
#ifndef UTC_COMPARE_H
#define UTC_COMPARE_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* int8 (TFLite's comparisons with scaling; constants from
 * utc.passes.quantmath.compare.compare_params):
 *   a = MBQM((in1 - in1_zp) << left_shift, in1_mult, in1_shift)
 *   b = MBQM((in2 - in2_zp) << left_shift, in2_mult, in2_shift)
 *   out = a <predicate> b
 * (MBQM: MultiplyByQuantizedMultiplierSmallerThanOneExp; both shifts are <= 0). */
void utc_compare_s8_bool(const int8_t *in1, const int8_t *in2, bool *out,
                         const int32_t *in1_shape, const int32_t *in2_shape,
                         const int32_t *out_shape, int32_t predicate, int32_t in1_zp,
                         int32_t in2_zp, int32_t left_shift, int32_t in1_mult,
                         int32_t in1_shift, int32_t in2_mult, int32_t in2_shift);

/* int32, int64, float32 and bool (equal / not equal only): out = in1 <predicate> in2. */
void utc_compare_s32_bool(const int32_t *in1, const int32_t *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate);
void utc_compare_s64_bool(const int64_t *in1, const int64_t *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate);
void utc_compare_f32_bool(const float *in1, const float *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate);
void utc_compare_bool(const bool *in1, const bool *in2, bool *out, const int32_t *in1_shape,
                      const int32_t *in2_shape, const int32_t *out_shape, int32_t predicate);

/* out = in1 && in2 (is_or = 0) or in1 || in2 (is_or = 1). */
void utc_logical_bool(const bool *in1, const bool *in2, bool *out, const int32_t *in1_shape,
                      const int32_t *in2_shape, const int32_t *out_shape, int32_t is_or);

/* out[i] = !input[i] for i < size. */
void utc_logical_not_bool(const bool *input, bool *output, int32_t size);

/* out = condition ? x : y, elements of elem_size bytes copied as stored (int8 values are
 * not rescaled, as in TFLite Micro), all three operands broadcast to out_shape. */
void utc_select(const bool *condition, const void *x, const void *y, void *output,
                const int32_t *cond_shape, const int32_t *x_shape, const int32_t *y_shape,
                const int32_t *out_shape, int32_t elem_size);

#ifdef __cplusplus
}
#endif

#endif /* UTC_COMPARE_H */
