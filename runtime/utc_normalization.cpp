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

/* Saturating int32 a + b and a - b (TFLite's SaturatingAddNonGemmlowp, SaturatingSub). */
inline int32_t sat_add(int32_t a, int32_t b) {
  const int64_t v = (int64_t)a + b;
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}

inline int32_t sat_sub(int32_t a, int32_t b) {
  const int64_t v = (int64_t)a - b;
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}

inline int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

inline int clz32(uint32_t v) {
  if (v == 0) return 32;
  int n = 0;
  while (!(v & 0x80000000u)) {
    v <<= 1;
    ++n;
  }
  return n;
}

/* TFLite's log_x_for_x_greater_than_or_equal_to_1 with a Q12.19 input and a Q5.26 result:
 * x = 2^e * r with r in [sqrt(1/2), 1) (taking the better of two normalisations), log(r)
 * from a rational approximation around sqrt(sqrt(1/2)), plus e * log(2), accumulated in
 * Q6.25. Raw int32 values; the comments name their fixed-point formats. */
int32_t log_q12_to_q5(int32_t input) {
  const int kInputIntegerBits = 12, kAccumIntegerBits = 6;
  const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  const int32_t one_quarter = 536870912;
  const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769;
  const int32_t alpha_f = 638450708;
  const int32_t shifted_quarter = utc_rounding_divide_by_pot(one_quarter, kAccumIntegerBits);
  /* the input read as Q0.31 */
  const int z_a_headroom_plus_1 = clz32((uint32_t)input);
  const int32_t r_a_tmp = utc_fx_sat_shl(input, z_a_headroom_plus_1 - 1);
  const int32_t r_a = utc_fx_sat_shl(utc_fx_mul(r_a_tmp, sqrt_half), 1);
  const int32_t z_a_pow_2_adj = sat_add(
      utc_fx_sat_shl(kInputIntegerBits - z_a_headroom_plus_1, 31 - kAccumIntegerBits),
      shifted_quarter);
  const int32_t z_b = utc_fx_mul(input, sqrt_half);
  const int z_b_headroom = clz32((uint32_t)z_b) - 1;
  const int32_t r_b = utc_fx_sat_shl(input, z_b_headroom);
  const int32_t z_b_pow_2_adj = sat_sub(
      utc_fx_sat_shl(kInputIntegerBits - z_b_headroom, 31 - kAccumIntegerBits),
      shifted_quarter);
  const int32_t r = r_a < r_b ? r_a : r_b;
  const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
  /* Q0.31 from here to recip_denom */
  const int32_t p = utc_fx_rounding_half_sum(r, sqrt_sqrt_half);
  int32_t q = wrap_add(r, -sqrt_sqrt_half);
  q = wrap_add(q, q);
  const int32_t common_sq = utc_fx_mul(q, q);
  const int32_t num = wrap_add(utc_fx_mul(q, r), utc_fx_mul(utc_fx_mul(q, common_sq), alpha_n));
  const int32_t denom_minus_one = wrap_add(
      utc_fx_mul(p, wrap_add(wrap_add(alpha_i, q), utc_fx_mul(alpha_d, common_sq))),
      utc_fx_mul(alpha_f, q));
  const int32_t recip_denom = utc_fx_one_over_one_plus_x(denom_minus_one);
  const int32_t num_scaled = utc_rounding_divide_by_pot(num, kAccumIntegerBits);  /* Q6.25 */
  const int32_t sum = wrap_add(utc_fx_mul(z_pow_2_adj, log_2), utc_fx_mul(num_scaled, recip_denom));
  return utc_fx_sat_shl(sum, 1); /* Q6.25 -> Q5.26 */
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

void utc_log_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                        int32_t input_mult, int32_t input_left_shift, int32_t reverse_mult,
                        int32_t reverse_shift, int32_t diff_min) {
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t *in = input + (size_t)r * depth;
    int8_t *out = output + (size_t)r * depth;
    int32_t max = -128;
    for (int32_t c = 0; c < depth; ++c) max = in[c] > max ? in[c] : max;
    int32_t sum = 0; /* Q12.19 */
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t d = (int32_t)in[c] - max;
      if (d >= diff_min) {
        const int32_t d5 = utc_multiply_by_quantized_multiplier(d, input_mult, input_left_shift);
        sum = wrap_add(sum, utc_rounding_divide_by_pot(utc_fx_exp_on_negative_values(d5, 5), 12));
      }
    }
    const int32_t log_sum = log_q12_to_q5(sum);
    const int32_t reverse = utc_multiply_by_quantized_multiplier(wrap_add(log_sum, INT32_MIN),
                                                                 reverse_mult, reverse_shift);
    const int32_t adjusted = diff_min - 1 > reverse ? diff_min - 1 : reverse;
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t d = (int32_t)in[c] - max;
      if (d > adjusted) {
        const int32_t d5 = utc_multiply_by_quantized_multiplier(d, input_mult, input_left_shift);
        const int32_t v = utc_rounding_divide_by_pot(d5 - log_sum, 31 - 5 - 4) + 127;
        out[c] = (int8_t)utc_clamp(v, -128, 127);
      } else {
        out[c] = -128;
      }
    }
  }
}

}  // extern "C"
