#include "utc_normalization.h"

#include <float.h>
#include <math.h>

#include "utc_quant_ext.h"

namespace {

/* TFLite's GetInvSqrtQuantizedMultiplierExp(value, kReverseShift): 1 / sqrt(value) as a
 * Q0.31 multiplier and a left shift (<= 0). Values <= 1 give (INT32_MAX, 0). */
void inv_sqrt_multiplier_exp(int32_t value, int32_t *multiplier, int32_t *shift) {
  if (value <= 1) {
    *multiplier = INT32_MAX;
    *shift = 0;
    return;
  }
  int32_t s = 11;
  while (value >= ((int32_t)1 << 29)) {
    value /= 4;
    ++s;
  }
  int clz = 0;
  for (uint32_t v = (uint32_t)value; !(v & 0x80000000u); v <<= 1) ++clz;
  const int pairs = (clz - 1) / 2 - 1;
  s -= pairs;
  value = (int32_t)((uint32_t)value << (2 * pairs));
  /* Newton-Raphson on 1 / sqrt in Q3.28, from x = 1, five steps */
  const int32_t half_input = utc_rounding_divide_by_pot(value >> 1, 1);
  const int32_t half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28;
  for (int i = 0; i < 5; ++i) {
    const int32_t x3 = utc_fx_sat_shl(utc_fx_mul(utc_fx_mul(x, x), x), 6);
    const uint32_t diff = (uint32_t)utc_fx_mul(half_three, x) - (uint32_t)utc_fx_mul(half_input, x3);
    x = utc_fx_sat_shl((int32_t)diff, 3);
  }
  x = utc_fx_mul(x, 1518500250); /* sqrt(2) / 2 in Q0.31 */
  if (s < 0) {
    x = (int32_t)((uint32_t)x << -s);
    s = 0;
  }
  *multiplier = x;
  *shift = -s;
}

}  // namespace

extern "C" {

void utc_l2_normalization_f32(const float *input, float *output, int32_t rows, int32_t depth) {
  for (int32_t r = 0; r < rows; ++r) {
    const float *in = input + (size_t)r * depth;
    float *out = output + (size_t)r * depth;
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; ++c) sum += in[c] * in[c];
    float norm = sqrtf(sum);
    norm = norm < 1e-6f ? 1e-6f : norm;
    for (int32_t c = 0; c < depth; ++c) out[c] = in[c] / norm;
  }
}

void utc_l2_normalization_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                             int32_t input_zp) {
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t *in = input + (size_t)r * depth;
    int8_t *out = output + (size_t)r * depth;
    int32_t acc = 0;
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t d = (int32_t)in[c] - input_zp;
      acc += d * d;
    }
    int32_t multiplier, shift;
    inv_sqrt_multiplier_exp(acc, &multiplier, &shift);
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t d = (int32_t)in[c] - input_zp;
      const int32_t v = utc_multiply_by_quantized_multiplier(d, multiplier, shift + 7);
      out[c] = (int8_t)utc_clamp(v, -128, 127);
    }
  }
}

void utc_log_softmax_f32(const float *input, float *output, int32_t rows, int32_t depth) {
  for (int32_t r = 0; r < rows; ++r) {
    const float *in = input + (size_t)r * depth;
    float *out = output + (size_t)r * depth;
    float max = -FLT_MAX;
    for (int32_t c = 0; c < depth; ++c) max = in[c] > max ? in[c] : max;
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; ++c) sum += expf(in[c] - max);
    const float log_sum = logf(sum);
    for (int32_t c = 0; c < depth; ++c) out[c] = in[c] - max - log_sum;
  }
}

}  // extern "C"
