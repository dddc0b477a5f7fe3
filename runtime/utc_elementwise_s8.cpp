#include "utc_elementwise_s8.h"

#include "utc_quant.h"
#include "utc_quant_ext.h"

namespace {

/* ADD, SUB and SQUARED_DIFFERENCE share TFLite's input rescaling: each input, offset
 * and shifted left, is rescaled with MultiplyByQuantizedMultiplierSmallerThanOneExp (all
 * input shifts are <= 0, where that is the plain double-rounding multiply); they differ
 * only in how the two rescaled terms combine before the one output rescale (whose shift
 * may be positive for SQUARED_DIFFERENCE) and the clamp. */
enum Combine { kAdd, kSub, kSquaredDifference };

template <Combine kCombine>
struct RescaledBinaryOp {
  int32_t in1_zp, in2_zp, out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
      out_mult, out_shift, act_min, act_max;
  UTC_INLINE int8_t operator()(int8_t a, int8_t b) const {
    /* (x - zp) fits 9 bits, so << 20 (ADD/SUB) or << 7 stays within int32 */
    const int32_t sa = (int32_t)((uint32_t)((int32_t)a - in1_zp) << left_shift);
    const int32_t sb = (int32_t)((uint32_t)((int32_t)b - in2_zp) << left_shift);
    const int32_t ra = utc_multiply_by_quantized_multiplier(sa, in1_mult, in1_shift);
    const int32_t rb = utc_multiply_by_quantized_multiplier(sb, in2_mult, in2_shift);
    int32_t raw;
    if (kCombine == kAdd) {
      raw = ra + rb;
    } else if (kCombine == kSub) {
      raw = ra - rb;
    } else {
      /* |ra - rb| <= 2 * (255 << 7) * 0.5 + 1, so the square fits int32 */
      raw = (ra - rb) * (ra - rb);
    }
    const int32_t out = utc_multiply_by_quantized_multiplier(raw, out_mult, out_shift) + out_zp;
    return (int8_t)utc_clamp(out, act_min, act_max);
  }
};

struct MulOp {
  int32_t in1_zp, in2_zp, out_zp, out_mult, out_shift, act_min, act_max;
  UTC_INLINE int8_t operator()(int8_t a, int8_t b) const {
    const int32_t prod = ((int32_t)a - in1_zp) * ((int32_t)b - in2_zp);
    const int32_t out = utc_multiply_by_quantized_multiplier(prod, out_mult, out_shift) + out_zp;
    return (int8_t)utc_clamp(out, act_min, act_max);
  }
};

struct MaxOp {
  UTC_INLINE int8_t operator()(int8_t a, int8_t b) const { return a > b ? a : b; }
};

struct MinOp {
  UTC_INLINE int8_t operator()(int8_t a, int8_t b) const { return a < b ? a : b; }
};

template <Combine kCombine>
void rescaled_binary(const int8_t *in1, const int8_t *in2, int8_t *out, const int32_t *in1_shape,
             const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp,
             int32_t in2_zp, int32_t out_zp, int32_t left_shift, int32_t in1_mult,
             int32_t in1_shift, int32_t in2_mult, int32_t in2_shift, int32_t out_mult,
             int32_t out_shift, int32_t act_min, int32_t act_max) {
  RescaledBinaryOp<kCombine> op;
  op.in1_zp = in1_zp;
  op.in2_zp = in2_zp;
  op.out_zp = out_zp;
  op.left_shift = left_shift;
  op.in1_mult = in1_mult;
  op.in1_shift = in1_shift;
  op.in2_mult = in2_mult;
  op.in2_shift = in2_shift;
  op.out_mult = out_mult;
  op.out_shift = out_shift;
  op.act_min = act_min;
  op.act_max = act_max;
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

}  // namespace

extern "C" {

void utc_add_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                int32_t out_mult, int32_t out_shift, int32_t act_min,
                int32_t act_max) {
  rescaled_binary<kAdd>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp,
                        out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
                        out_mult, out_shift, act_min, act_max);
}

void utc_sub_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                int32_t out_mult, int32_t out_shift, int32_t act_min,
                int32_t act_max) {
  rescaled_binary<kSub>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp,
                        out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
                        out_mult, out_shift, act_min, act_max);
}

void utc_mul_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t out_mult, int32_t out_shift,
                int32_t act_min, int32_t act_max) {
  MulOp op;
  op.in1_zp = in1_zp;
  op.in2_zp = in2_zp;
  op.out_zp = out_zp;
  op.out_mult = out_mult;
  op.out_shift = out_shift;
  op.act_min = act_min;
  op.act_max = act_max;
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

void utc_squared_difference_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                               const int32_t *in1_shape, const int32_t *in2_shape,
                               const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                               int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                               int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                               int32_t out_mult, int32_t out_shift, int32_t act_min,
                               int32_t act_max) {
  rescaled_binary<kSquaredDifference>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp,
                                      in2_zp, out_zp, left_shift, in1_mult, in1_shift,
                                      in2_mult, in2_shift, out_mult, out_shift, act_min,
                                      act_max);
}

void utc_maximum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaxOp());
}

void utc_minimum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinOp());
}

}  // extern "C"
