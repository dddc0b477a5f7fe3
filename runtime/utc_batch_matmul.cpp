#include "utc_batch_matmul.h"

#include "utc_quant.h"
#include "utc_quant16.h"

namespace {

/* Walks every output element (batch, row, column) in row-major order, handing `emit` the
 * element's index and the sum `dot` computes over the matching row of L and column of R. */
template <typename T, typename Dot, typename Emit>
void batch_matmul(const T *lhs, const T *rhs, const int32_t *ls, const int32_t *rs,
                  int32_t adj_x, int32_t adj_y, Dot dot, Emit emit) {
  const int32_t rows = adj_x ? ls[4] : ls[3];
  const int32_t depth = adj_x ? ls[3] : ls[4];
  const int32_t cols = adj_y ? rs[3] : rs[4];
  /* element strides of L[r, k] and R[k, c] inside one matrix */
  const int64_t l_row = adj_x ? 1 : depth, l_k = adj_x ? rows : 1;
  const int64_t r_k = adj_y ? 1 : cols, r_col = adj_y ? depth : 1;
  const int64_t l_matrix = (int64_t)ls[3] * ls[4], r_matrix = (int64_t)rs[3] * rs[4];
  int32_t batch[3];
  int64_t l_step[3], r_step[3]; /* 0 along a broadcast dimension */
  int64_t l_size = l_matrix, r_size = r_matrix;
  for (int d = 2; d >= 0; --d) {
    batch[d] = ls[d] > rs[d] ? ls[d] : rs[d];
    l_step[d] = ls[d] == 1 ? 0 : l_size;
    r_step[d] = rs[d] == 1 ? 0 : r_size;
    l_size *= ls[d];
    r_size *= rs[d];
  }
  int64_t index = 0;
  for (int32_t b0 = 0; b0 < batch[0]; ++b0) {
    for (int32_t b1 = 0; b1 < batch[1]; ++b1) {
      for (int32_t b2 = 0; b2 < batch[2]; ++b2) {
        const T *l = lhs + b0 * l_step[0] + b1 * l_step[1] + b2 * l_step[2];
        const T *r = rhs + b0 * r_step[0] + b1 * r_step[1] + b2 * r_step[2];
        for (int32_t i = 0; i < rows; ++i) {
          for (int32_t j = 0; j < cols; ++j) {
            emit(index++, dot(l + i * l_row, l_k, r + j * r_col, r_k, depth));
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" {

void utc_batch_matmul_s8(const int8_t *lhs, const int8_t *rhs, int8_t *out,
                         const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                         int32_t adj_y, int32_t lhs_zp, int32_t rhs_zp, int32_t out_zp,
                         int32_t mult, int32_t shift) {
  batch_matmul(
      lhs, rhs, lhs_shape, rhs_shape, adj_x, adj_y,
      [lhs_zp, rhs_zp](const int8_t *l, int64_t lk, const int8_t *r, int64_t rk,
                       int32_t depth) {
        uint32_t acc = 0; /* int32 accumulation, wrapping as TFLite's */
        for (int32_t k = 0; k < depth; ++k)
          acc += (uint32_t)(((int32_t)l[k * lk] - lhs_zp) * ((int32_t)r[k * rk] - rhs_zp));
        return (int32_t)acc;
      },
      [&](int64_t index, int32_t acc) {
        const int32_t v = utc_multiply_by_quantized_multiplier(acc, mult, shift) + out_zp;
        out[index] = (int8_t)utc_clamp(v, -128, 127);
      });
}

void utc_batch_matmul_s16(const int16_t *lhs, const int16_t *rhs, int16_t *out,
                          const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                          int32_t adj_y, int32_t mult, int32_t shift) {
  batch_matmul(
      lhs, rhs, lhs_shape, rhs_shape, adj_x, adj_y,
      [](const int16_t *l, int64_t lk, const int16_t *r, int64_t rk, int32_t depth) {
        int64_t acc = 0;
        for (int32_t k = 0; k < depth; ++k) acc += (int64_t)l[k * lk] * r[k * rk];
        return acc;
      },
      [&](int64_t index, int64_t acc) {
        const int32_t v = utc_multiply_by_quantized_multiplier_64(acc, mult, shift);
        out[index] = (int16_t)utc_clamp(v, -32768, 32767);
      });
}

void utc_batch_matmul_f32(const float *lhs, const float *rhs, float *out,
                          const int32_t *lhs_shape, const int32_t *rhs_shape, int32_t adj_x,
                          int32_t adj_y) {
  batch_matmul(
      lhs, rhs, lhs_shape, rhs_shape, adj_x, adj_y,
      [](const float *l, int64_t lk, const float *r, int64_t rk, int32_t depth) {
        float acc = 0.0f;
        for (int32_t k = 0; k < depth; ++k) {
          const float p = l[k * lk] * r[k * rk]; /* rounded before the add, as TFLite */
          acc += p;
        }
        return acc;
      },
      [&](int64_t index, float acc) { out[index] = acc; });
}

}  // extern "C"
