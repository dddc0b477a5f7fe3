#include "utc_div_s8.h"

#include "utc_quant_ext.h"

namespace {

/* Leading zero bits of a non-zero uint32. */
inline int clz32(uint32_t v) {
  int n = 0;
  while (!(v & 0x80000000u)) {
    v <<= 1;
    ++n;
  }
  return n;
}

/* TFLite's CountLeadingSignBits: redundant sign bits, 31 for 0 and for -1. */
inline int leading_sign_bits(int32_t x) {
  const uint32_t v = x < 0 ? ~(uint32_t)x : (uint32_t)x;
  return v == 0 ? 31 : clz32(v) - 1;
}

/* RoundingDivideByPOT for an exponent in [0, 63]: gemmlowp's up to 31; beyond, what
 * TFLite Micro computes on x86-64 hosts (see the header). */
inline int32_t rounding_divide_by_pot_wide(int32_t x, int exponent) {
  if (exponent <= 31) return utc_rounding_divide_by_pot(x, exponent);
  const int32_t threshold = x < 0 ? 0 : -1;
  return (x >> (exponent & 31)) + (x > threshold ? 1 : 0);
}

struct DivOp {
  int32_t in1_zp, in2_zp, out_zp, out_mult, out_shift, act_min, act_max;

  int8_t operator()(int8_t a, int8_t b) const {
    int32_t n = (int32_t)a - in1_zp;
    int32_t d = (int32_t)b - in2_zp;
    if (d == 0) {
      const int32_t v = n > 0 ? act_max : (n < 0 ? act_min : out_zp);
      return (int8_t)utc_clamp(v, act_min, act_max);
    }
    if (d < 0) {
      n = -n;
      d = -d;
    }
    const int lz = clz32((uint32_t)d);
    const int recip_shift = 31 - lz;
    const int32_t scaled = (int32_t)(((uint32_t)d << lz) - 0x80000000u);
    const int32_t reciprocal = utc_fx_one_over_one_plus_x(scaled);
    const int headroom = leading_sign_bits(n);
    const int32_t q = utc_sat_rounding_doubling_high_mul(
        (int32_t)((uint32_t)n << headroom), reciprocal);
    const int exponent = recip_shift + headroom - out_shift;
    const int32_t v = out_zp + rounding_divide_by_pot_wide(
        utc_sat_rounding_doubling_high_mul(q, out_mult), exponent);
    return (int8_t)utc_clamp(v, act_min, act_max);
  }
};

}  // namespace

extern "C" void utc_div_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                           const int32_t *in1_shape, const int32_t *in2_shape,
                           const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                           int32_t out_zp, int32_t out_mult, int32_t out_shift,
                           int32_t act_min, int32_t act_max) {
  const DivOp op = {in1_zp, in2_zp, out_zp, out_mult, out_shift, act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}
