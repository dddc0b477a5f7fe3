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

/* utc_multiply_by_quantized_multiplier(x, mult, shift) + zp for mult >= 0 and
 * -23 <= shift <= -2 (a requantization scale in [2^-24, 2^-2), as in every convolution
 * layer seen so far) and |zp| <= 128: five instructions on Armv7E-M (AND, ORR, ADD, SMLAL,
 * ASR) instead of a saturation test, a 64-bit rounding shift, TFLite's separate rounding
 * divide and the add of zp. hi0 = utc_requant_hi0(shift, zp), once per channel.
 *
 * Why it is the same integer: with e = -shift and P = x * mult, TFLite computes
 * h = floor((P + 2^30) / 2^31) (the doubling high multiply, which cannot saturate with
 * mult >= 0), then rounds h / 2^e half away from zero: floor((h + 2^(e-1)) / 2^e) for
 * h >= 0 and floor((h + 2^(e-1) - 1) / 2^e) for h < 0. Since floor((floor(y) + j) / m)
 * = floor((y + j) / m) for integers j and m > 0, that is floor((P + K) / 2^(31+e)) with
 * K = 2^30 + 2^(30+e) for h >= 0 and K - 2^31 for h < 0. Both give 0 when h = 0, and
 * with mult >= 0 h > 0 needs x > 0 and h < 0 needs x < 0, so the sign of x picks K:
 * K = L + 2^(30+e), L = 2^30 (x >= 0) or -2^30 (x < 0), i.e. the int32 L = 2^30 | sign
 * bit of x, sign-extended. Adding zp * 2^(31+e) adds exactly zp to the quotient. So the
 * result is (P + L + (2^(e-2) + zp * 2^(e-1)) * 2^32) >> (31 + e), which for e >= 2 is
 * the high word of that 64-bit sum shifted right by e - 1. The sum fits int64: |P| < 2^62,
 * |zp| * 2^(31+e) <= 2^61 for e <= 23, |L| + 2^(30+e) < 2^54.
 *
 * Shifts in [-31, -24] (tiny scales, e.g. of pruned channels) take hi0 =
 * utc_requant_hi0(shift, 0) and zp added to the result: without zp the sum stays below
 * 2^62 + 2^61. A multiplier of 0 gives zp with any shift in [-23, -2]. */
static UTC_INLINE int32_t utc_requant_hi0(int32_t shift, int32_t zp) {
  return (int32_t)((uint32_t)(2 * zp + 1) << (-shift - 2));  // (1 + 2 zp) 2^(e-2)
}

static UTC_INLINE int32_t utc_requant_neg_shift(int32_t x, int32_t mult, int32_t hi0,
                                                int32_t shift) {
  const uint32_t lo = ((uint32_t)x & 0x80000000u) | 0x40000000u;  // L's low word
  int32_t hi = hi0 + ((int32_t)lo >> 31);                        // + L's high word
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  /* SMLAL on the two words: GCC otherwise sometimes shares mult's sign extension between
   * calls and multiplies 64 by 64 bits (UMULL, MUL, MLA and an add). */
  uint32_t l = lo;
  __asm__("smlal %0, %1, %2, %3" : "+r"(l), "+r"(hi) : "r"(x), "r"(mult));
#else
  const int64_t a = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo) + (int64_t)x * mult;
  hi = (int32_t)(a >> 32);
#endif
  return hi >> (-shift - 1);
}

static UTC_INLINE int32_t utc_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* UTC_QUANT_H */
