/* utc_quant.h: int8 requantization helpers, bit-exact with TFLite's reference
 * arithmetic (gemmlowp-style saturating rounding doubling high multiply followed by a
 * rounding right shift: TFLite's "double rounding"). */
#ifndef UTC_QUANT_H
#define UTC_QUANT_H

#include "utc_runtime.h"

/* TFLite's SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 truncated, nudge
 * 2^30 for a * b >= 0 and 1 - 2^30 below. Computed as floor((a * b + 2^30) / 2^31), the
 * same integer in both cases (for a * b < 0, truncating (a * b + 1 - 2^30) / 2^31 rounds
 * it up, and ceil(s / 2^31) = floor((s + 2^31 - 1) / 2^31)): one SMLAL-style multiply-add
 * and a shift instead of a sign-dependent nudge and a signed division. (An arithmetic
 * right shift of a negative int64_t: implementation-defined in C++11, arithmetic in
 * every compiler utc supports.) */
static UTC_INLINE int32_t utc_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + (1ll << 30)) >> 31);
}

/* TFLite's RoundingDivideByPOT (exponent in [0, 31]), the mask in 32-bit arithmetic. */
static UTC_INLINE int32_t utc_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1u << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), rounded as TFLite's MultiplyByQuantizedMultiplier. */
static UTC_INLINE int32_t utc_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                                               int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return utc_rounding_divide_by_pot(
      utc_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

static UTC_INLINE int32_t utc_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* UTC_QUANT_H */
