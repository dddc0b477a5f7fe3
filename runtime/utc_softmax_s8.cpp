#include "utc_softmax_s8.h"

#include "utc_quant.h"

namespace {

/* Fixed-point helpers in gemmlowp's conventions (raw int32 values; Qm.n formats noted). */
int32_t mul(int32_t a, int32_t b) { return utc_sat_rounding_doubling_high_mul(a, b); }

int32_t sat_shift_left(int32_t x, int e) {
  const int32_t hi = INT32_MAX >> e, lo = INT32_MIN >> e;
  if (x > hi) return INT32_MAX;
  if (x < lo) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), a and result in Q0.31. */
int32_t exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;   /* exp(-1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);            /* a + 1/8 */
  const int32_t x2 = mul(x, x);
  const int32_t x3 = mul(x2, x);
  const int32_t x4 = mul(x2, x2);
  const int32_t x4_over_4 = utc_rounding_divide_by_pot(x4, 2);
  const int32_t poly = utc_rounding_divide_by_pot(mul(x4_over_4 + x3, one_third) + x2, 1);
  return constant_term + mul(constant_term, x + poly);
}

/* exp(a) for a <= 0; a in Q5.26, result in Q0.31. */
int32_t exp_negative(int32_t a) {
  const int32_t quarter = 1 << 24;
  const int32_t mask = quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = (a & mask) - quarter;
  int32_t result = exp_quarter(sat_shift_left(a_mod_quarter_minus_quarter, 5));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  static const int32_t kMultipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                          39332535,   720401,     242};
  for (int k = 0; k < 7; ++k) {
    if (remainder & (1 << (24 + k))) result = mul(result, kMultipliers[k]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out (Newton-Raphson as in gemmlowp). */
int32_t one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540; /* Q2.29 */
  int32_t x = c48_17 + mul(half_denominator, cneg32_17);
  for (int i = 0; i < 3; ++i) {
    const int32_t hdx = mul(half_denominator, x);
    const int32_t one_minus = (1 << 29) - hdx;
    x = x + sat_shift_left(mul(x, one_minus), 2);
  }
  return sat_shift_left(x, 1);
}

int count_leading_zeros(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

}  // namespace

extern "C" void utc_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                               int32_t input_mult, int32_t input_left_shift, int32_t diff_min) {
  const int kAccumulationIntegerBits = 12;
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t *x = input + r * depth;
    int8_t *y = output + r * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
    int32_t sum_of_exps = 0; /* Q12.19 */
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t scaled = mul(diff * (1 << input_left_shift), input_mult);
        sum_of_exps += utc_rounding_divide_by_pot(exp_negative(scaled), kAccumulationIntegerBits);
      }
    }
    const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
    const int num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31));
    const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max_in_row;
      if (diff >= diff_min) {
        const int32_t scaled = mul(diff * (1 << input_left_shift), input_mult);
        const int32_t e = exp_negative(scaled);
        const int32_t unsat =
            utc_rounding_divide_by_pot(mul(shifted_scale, e), num_bits_over_unit + 31 - 8);
        y[c] = (int8_t)utc_clamp(unsat - 128, -128, 127);
      } else {
        y[c] = -128;
      }
    }
  }
}
