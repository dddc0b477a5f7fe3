/* utc_quant_ext.h: fixed-point helpers for utc's int8 nonlinear and elementwise kernels,
 * on top of utc_quant.h.
 *
 * TFLite Micro's int8 softmax, logistic, tanh and hard-swish kernels evaluate exp, 1/(1+x)
 * and friends in gemmlowp's fixed-point arithmetic; bit-exactness with TFLM means doing the
 * same integer operations in the same order. This header re-implements the few gemmlowp
 * functions those kernels need on raw int32 (and int16) values; the fixed-point format of
 * each value is noted as Qm.n (m integer bits, n fractional bits, m + n = 31 for int32).
 * It also holds the broadcast iteration shared by the binary int8 kernels.
 *
 * Header-only (static inline), C++11, no state; included by utc_activation_s8.cpp and
 * utc_elementwise_s8.cpp, so code generation must copy it along with those kernels.
 * (utc_softmax_s8.cpp keeps its own copy of exp and 1/(1+x) so it needs only utc_quant.h.) */
#ifndef UTC_QUANT_EXT_H
#define UTC_QUANT_EXT_H

#include "utc_quant.h"
#include "utc_runtime.h"

/* ---------------------------------------------------------------------------------------
 * int32 fixed point (gemmlowp::FixedPoint<int32_t, m> on raw values)
 * ------------------------------------------------------------------------------------- */

/* Saturating x * 2^e for 0 <= e < 31 (gemmlowp's SaturatingRoundingMultiplyByPOT with a
 * positive exponent, used by Rescale to fewer integer bits). */
static UTC_INLINE int32_t utc_fx_sat_shl(int32_t x, int e) {
  if (e == 0) return x;
  const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* Product of two fixed-point values: a Qa * Qb gives Q(a+b) in the same raw convention. */
static UTC_INLINE int32_t utc_fx_mul(int32_t a, int32_t b) {
  return utc_sat_rounding_doubling_high_mul(a, b);
}

/* (a + b) / 2 rounded half away from zero, computed without overflow. */
static UTC_INLINE int32_t utc_fx_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0): a and the result in Q0.31. Taylor expansion around -1/8. */
static UTC_INLINE int32_t utc_fx_exp_quarter_interval(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
  const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
  const int32_t x = a + (1 << 28);                 /* a + 1/8 */
  const int32_t x2 = utc_fx_mul(x, x);
  const int32_t x3 = utc_fx_mul(x2, x);
  const int32_t x4 = utc_fx_mul(x2, x2);
  const int32_t x4_over_4 = utc_rounding_divide_by_pot(x4, 2);
  const int32_t poly =
      utc_rounding_divide_by_pot(utc_fx_mul(x4_over_4 + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + utc_fx_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0. a is in Q(integer_bits).(31 - integer_bits) (1 <= integer_bits <= 6
 * in practice; softmax uses 5, logistic 4, tanh 5), the result in Q0.31. The fractional
 * part modulo 1/4 goes through the polynomial, the rest through a barrel of exp(-2^k)
 * multipliers, exactly as gemmlowp's exp_on_negative_values. */
static UTC_INLINE int32_t utc_fx_exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
  int32_t result = utc_fx_exp_quarter_interval(
      utc_fx_sat_shl(a_mod_quarter_minus_quarter, integer_bits));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
  static const int32_t kMultipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                          39332535,   720401,     242};
  for (int k = -2; k <= 4; ++k) {
    if (integer_bits > k) {
      const int32_t bit = (int32_t)(1u << (fractional_bits + k));
      if (remainder & bit) result = utc_fx_mul(result, kMultipliers[k + 2]);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
    if (a < clamp) result = 0;
  }
  return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson reciprocal shared by 1/(1+x) and (1-x)/(1+x): for half_denominator
 * = (1 + x) / 2 in Q0.31 returns 1 / half_denominator in Q2.29 (three iterations from
 * the 48/17 - 32/17 * d start, as gemmlowp). */
static UTC_INLINE int32_t utc_fx_newton_reciprocal_q2(int32_t half_denominator) {
  const int32_t c48_over_17 = 1515870810;      /* 48/17 in Q2.29 */
  const int32_t cneg32_over_17 = -1010580540;  /* -32/17 in Q2.29 */
  int32_t x = c48_over_17 + utc_fx_mul(half_denominator, cneg32_over_17);
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = utc_fx_mul(half_denominator, x);
    const int32_t one_minus = (1 << 29) - half_denominator_times_x;
    x = x + utc_fx_sat_shl(utc_fx_mul(x, one_minus), 2);
  }
  return x;
}

/* 1 / (1 + a) for a in [0, 1): Q0.31 in and out. */
static UTC_INLINE int32_t utc_fx_one_over_one_plus_x(int32_t a) {
  const int32_t x = utc_fx_newton_reciprocal_q2(utc_fx_rounding_half_sum(a, INT32_MAX));
  return utc_fx_sat_shl(x, 1); /* Q2.29 halved = Q1.30 raw, rescaled to Q0.31 */
}

/* (1 - a) / (1 + a) for a in [0, 1): Q0.31 in and out. */
static UTC_INLINE int32_t utc_fx_one_minus_x_over_one_plus_x(int32_t a) {
  const int32_t x = utc_fx_newton_reciprocal_q2(utc_fx_rounding_half_sum(a, INT32_MAX));
  return utc_fx_sat_shl(x - (1 << 29), 2);
}

/* logistic(a) = 1 / (1 + exp(-a)); a in Q(integer_bits), result in Q0.31. */
static UTC_INLINE int32_t utc_fx_logistic(int32_t a, int integer_bits) {
  if (a == 0) return 1 << 30;
  const int32_t abs_a = a > 0 ? a : -a;
  const int32_t if_positive =
      utc_fx_one_over_one_plus_x(utc_fx_exp_on_negative_values(-abs_a, integer_bits));
  return a > 0 ? if_positive : INT32_MAX - if_positive;
}

/* tanh(a) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with the sign of a; a in Q(integer_bits),
 * result in Q0.31. exp is evaluated on -|a| read as Q(integer_bits + 1), i.e. on -2|a|. */
static UTC_INLINE int32_t utc_fx_tanh(int32_t a, int integer_bits) {
  if (a == 0) return 0;
  const int32_t n = a < 0 ? a : -a;
  const int32_t t =
      utc_fx_one_minus_x_over_one_plus_x(utc_fx_exp_on_negative_values(n, integer_bits + 1));
  return a < 0 ? -t : t;
}

/* ---------------------------------------------------------------------------------------
 * int16 fixed point (TFLite's hard-swish arithmetic)
 * ------------------------------------------------------------------------------------- */

/* gemmlowp's SaturatingRoundingDoublingHighMul on int16 (Q0.15). */
static UTC_INLINE int16_t utc_fx16_sat_rounding_doubling_high_mul(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = (int32_t)a * (int32_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (int16_t)((ab + nudge) / (1 << 15));
}

/* TFLite's SaturatingDoublingHighMul on int16: like the above but truncating toward zero. */
static UTC_INLINE int16_t utc_fx16_sat_doubling_high_mul(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = (int32_t)a * (int32_t)b;
  return (int16_t)(ab / (1 << 15));
}

/* gemmlowp's RoundingDivideByPOT instantiated on int16, including its behaviour for
 * exponents of 16 and more, where the int16 mask wraps to all ones. */
static UTC_INLINE int16_t utc_fx16_rounding_divide_by_pot(int16_t x, int exponent) {
  const int16_t mask = (int16_t)(uint16_t)((1ull << exponent) - 1u);
  const int16_t remainder = (int16_t)(x & mask);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* value * 2^amount saturated to int16 (TFLite's hard-swish SaturatingLeftShift). */
static UTC_INLINE int16_t utc_fx16_sat_shl(int16_t value, int amount) {
  const int64_t r = (int64_t)value * ((int64_t)1 << amount);
  return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

/* ---------------------------------------------------------------------------------------
 * Broadcast iteration for binary elementwise ops on 6-D padded shapes
 * ------------------------------------------------------------------------------------- */

/* Calls op(a_element, b_element) for every output element in row-major order and stores the
 * result. Shapes are 6-D (leading 1s); an input dimension is either the output's or 1
 * (broadcast). Adjacent dimensions with compatible strides are merged first so the inner
 * loop is as long as possible (a scalar or per-channel operand gives one long loop). The
 * output may alias an input of the output's shape. */
template <typename A, typename B, typename Out, typename Op>
static inline void utc_broadcast_binary6(const A *a, const B *b, Out *out, const int32_t *a_shape,
                                         const int32_t *b_shape, const int32_t *out_shape,
                                         const Op &op) {
  /* innermost-first list of merged dimensions: extent and the two input strides */
  int32_t ext[6], sa[6], sb[6];
  int n = 0;
  int32_t acc_a = 1, acc_b = 1;
  for (int d = 5; d >= 0; --d) {
    const int32_t e = out_shape[d];
    if (e == 0) return;
    if (e == 1) continue;
    const int32_t stride_a = a_shape[d] == 1 ? 0 : acc_a;
    const int32_t stride_b = b_shape[d] == 1 ? 0 : acc_b;
    if (n > 0 && sa[n - 1] * ext[n - 1] == stride_a && sb[n - 1] * ext[n - 1] == stride_b) {
      /* each input either continues the previous dimension contiguously or stays
       * broadcast (stride 0 in both): one longer dimension */
      ext[n - 1] *= e;
    } else {
      ext[n] = e;
      sa[n] = stride_a;
      sb[n] = stride_b;
      ++n;
    }
    acc_a *= a_shape[d];
    acc_b *= b_shape[d];
  }
  if (n == 0) { /* every dimension is 1 */
    out[0] = op(a[0], b[0]);
    return;
  }
  const int32_t inner = ext[0], ia = sa[0], ib = sb[0];
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t outer = 1;
  for (int k = 1; k < n; ++k) outer *= ext[k];
  for (int32_t o = 0; o < outer; ++o) {
    int32_t off_a = 0, off_b = 0;
    for (int k = 1; k < n; ++k) {
      off_a += idx[k] * sa[k];
      off_b += idx[k] * sb[k];
    }
    const A *pa = a + off_a;
    const B *pb = b + off_b;
    if (ia == 1 && ib == 1) {
      for (int32_t i = 0; i < inner; ++i) out[i] = op(pa[i], pb[i]);
    } else if (ia == 0) {
      const A va = pa[0];
      for (int32_t i = 0; i < inner; ++i) out[i] = op(va, pb[i]);
    } else {
      const B vb = pb[0];
      for (int32_t i = 0; i < inner; ++i) out[i] = op(pa[i], vb);
    }
    out += inner;
    for (int k = 1; k < n; ++k) {
      if (++idx[k] < ext[k]) break;
      idx[k] = 0;
    }
  }
}

/* TFLite's AffineQuantize step before the zero point and clamp: round(x / scale) half away
 * from zero (std::round), the division in float. NaN gives 0; quotients beyond +-2^17 are
 * cut to +-2^17, which clamps to the same int8 or int16 value whatever the zero point. */
static inline int32_t utc_quantize_f32_rounded(float x, float scale) {
  const float t = x / scale;
  if (!(t == t)) return 0;
  if (t > 131072.0f) return 131072;
  if (t < -131072.0f) return -131072;
  int32_t r = (int32_t)t; /* t - trunc(t) is exact in float */
  const float frac = t - (float)r;
  if (frac >= 0.5f) {
    ++r;
  } else if (frac <= -0.5f) {
    --r;
  }
  return r;
}

#endif /* UTC_QUANT_EXT_H */
