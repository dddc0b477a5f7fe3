/* utc_batch_matmul: TFLite BATCH_MATMUL, int8, 16x8 (int16 operands) and float32,
 * bit-exact with TFLite Micro's reference kernel.
 *
 * lhs_shape, rhs_shape: the operands' shapes right-aligned into 5-D (leading 1s); the
 * first three dimensions are batch dimensions and broadcast (a 1 against n repeats the
 * operand); out is [batch..., rows, cols] row-major with rows = lhs_shape[3] (lhs_shape[4]
 * with adj_x) and cols = rhs_shape[4] (rhs_shape[3] with adj_y).
 *   out[b, r, c] = sum over k, in increasing order, of L[b, r, k] * R[b, k, c],
 * L = lhs (transposed in its last two dimensions with adj_x), R = rhs (likewise, adj_y).
 *   int8:    the sum of (l - lhs_zp) * (r - rhs_zp) in int32 (wrapping), then
 *            MultiplyByQuantizedMultiplier(sum, mult, shift) + out_zp, clamped to int8;
 *   16x8:    zero points 0, the sum in int64, the 64-bit requantization (utc_quant16.h),
 *            clamped to int16;
 *   float32: each product rounded, then added (no fused activation).
 * mult and shift come from utc.passes.quantmath.matmul.batch_matmul_params. TFLite Micro
 * transposes operands into persistent buffers first; these kernels index the operands in
 * place, so they need no memory besides the output. The output may not alias an input.
 *
 * Needs utc_runtime.h, utc_quant.h and utc_quant16.h. */
#ifndef UTC_BATCH_MATMUL_H
#define UTC_BATCH_MATMUL_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_batch_matmul_s8(const int8_t *lhs, const int8_t *rhs, int8_t *out,
                         const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                         int32_t adj_y, int32_t lhs_zp, int32_t rhs_zp, int32_t out_zp,
                         int32_t mult, int32_t shift);

void utc_batch_matmul_s16(const int16_t *lhs, const int16_t *rhs, int16_t *out,
                          const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                          int32_t adj_y, int32_t mult, int32_t shift);

void utc_batch_matmul_f32(const float *lhs, const float *rhs, float *out,
                          const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                          int32_t adj_y);

#ifdef __cplusplus
}
#endif

#endif /* UTC_BATCH_MATMUL_H */
