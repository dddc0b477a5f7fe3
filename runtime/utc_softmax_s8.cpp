#include "utc_softmax_s8.h"

#include "utc_quant.h"

/* The gemmlowp fixed-point pieces softmax needs (exp on negative values, 1/(1+x)) are
 * spelled out here rather than taken from utc_quant_ext.h, so this kernel needs only
 * utc_quant.h, which code generation already copies for it. They are the same operations
 * as utc_quant_ext.h's utc_fx_* functions (both are checked bit-exact against TFLM). */

namespace {

int32_t fx_mul(int32_t a, int32_t b) { return utc_sat_rounding_doubling_high_mul(a, b); }

/* saturating x * 2^e, 0 < e < 31 (gemmlowp SaturatingRoundingMultiplyByPOT, e > 0) */
int32_t fx_sat_shl(int32_t x, int e) {
  const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8) */
int32_t exp_quarter_interval(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668;
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = fx_mul(x, x);
  const int32_t x3 = fx_mul(x2, x);
  const int32_t x4 = fx_mul(x2, x2);
  const int32_t x4_over_4 = utc_rounding_divide_by_pot(x4, 2);
  const int32_t poly = utc_rounding_divide_by_pot(fx_mul(x4_over_4 + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + fx_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0, a in Q5.26, result in Q0.31 */
int32_t exp_on_negative_values_q5(int32_t a) {
  const int32_t one_quarter = 1 << 24;
  const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
  int32_t result = exp_quarter_interval(fx_sat_shl(a_mod_quarter_minus_quarter, 5));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  /* exp(-1/4), exp(-1/2), exp(-1), ..., exp(-16) in Q0.31 */
  static const int32_t kMultipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                          39332535,   720401,     242};
  for (int k = 0; k < 7; ++k) {
    if (remainder & (1 << (24 + k))) result = fx_mul(result, kMultipliers[k]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, three iterations) */
int32_t one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + fx_mul(half_denominator, -1010580540); /* 48/17 - 32/17 d, Q2.29 */
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = (1 << 29) - fx_mul(half_denominator, x);
    x = x + fx_sat_shl(fx_mul(x, one_minus), 2);
  }
  return fx_sat_shl(x, 1);
}

const int kAccumulationIntegerBits = 12; /* sum of exps format Q12.19 */

int count_leading_zeros(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* exp(diff * beta * input_scale) in Q0.31 for diff <= 0 (TFLite's
 * MultiplyByQuantizedMultiplierGreaterThanOne then exp_on_negative_values on Q5.26). */
UTC_INLINE int32_t exp_of_diff(int32_t diff, int32_t input_mult, int32_t input_left_shift) {
  const int32_t scaled = fx_mul((int32_t)((uint32_t)diff << input_left_shift), input_mult);
  return exp_on_negative_values_q5(scaled);
}

/* One softmax row; OutT is int8_t or int16_t, the output zero point its minimum. */
template <typename OutT, int kOutBits>
void softmax_row(const int8_t *x, OutT *y, int32_t depth, int32_t input_mult,
                 int32_t input_left_shift, int32_t diff_min) {
  const int32_t out_min = -(1 << (kOutBits - 1)), out_max = (1 << (kOutBits - 1)) - 1;
  int32_t max_in_row = -128;
  for (int32_t c = 0; c < depth; ++c) max_in_row = x[c] > max_in_row ? x[c] : max_in_row;

  int32_t sum_of_exps = 0; /* Q12.19 */
  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = x[c] - max_in_row;
    if (diff >= diff_min) {
      const int32_t term = utc_rounding_divide_by_pot(
          exp_of_diff(diff, input_mult, input_left_shift), kAccumulationIntegerBits);
      /* plain (wrapping) fixed-point addition as gemmlowp; cannot wrap below 4096 columns */
      sum_of_exps = (int32_t)((uint32_t)sum_of_exps + (uint32_t)term);
    }
  }

  /* 1 / sum as a Q0.31 value in [1/2, 1) times 2^-num_bits_over_unit (TFLite's
   * GetReciprocal) */
  const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
  const int num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31));
  const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
  const int exponent = num_bits_over_unit + 31 - kOutBits;

  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = x[c] - max_in_row;
    if (diff >= diff_min) {
      const int32_t e = exp_of_diff(diff, input_mult, input_left_shift);
      /* TFLM aborts when exponent > 31 (int8 output, exp sum above 512: e.g. more than 512
       * entries equal to the row maximum); every quotient then rounds to 0. */
      const int32_t unsat =
          exponent > 31 ? 0 : utc_rounding_divide_by_pot(fx_mul(shifted_scale, e), exponent);
      y[c] = (OutT)utc_clamp(unsat + out_min, out_min, out_max);
    } else {
      y[c] = (OutT)out_min;
    }
  }
}

}  // namespace

extern "C" {

void utc_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                    int32_t input_mult, int32_t input_left_shift, int32_t diff_min) {
  for (int32_t r = 0; r < rows; ++r) {
    softmax_row<int8_t, 8>(input + r * depth, output + r * depth, depth, input_mult,
                           input_left_shift, diff_min);
  }
}

void utc_softmax_s8_s16(const int8_t *input, int16_t *output, int32_t rows, int32_t depth,
                        int32_t input_mult, int32_t input_left_shift, int32_t diff_min) {
  for (int32_t r = 0; r < rows; ++r) {
    softmax_row<int16_t, 16>(input + r * depth, output + r * depth, depth, input_mult,
                             input_left_shift, diff_min);
  }
}

}  // extern "C"
