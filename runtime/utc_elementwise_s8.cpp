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

template <Combine kCombine, typename T>
struct RescaledBinaryOp {
  int32_t in1_zp, in2_zp, out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
      out_mult, out_shift, act_min, act_max;
  UTC_INLINE T operator()(T a, T b) const {
    /* (x - zp) fits 9 bits, so << 20 (ADD/SUB) or << 7 stays within int32; int16 inputs
     * (zero point 0 in practice) fit 16 bits and are shifted by 15 */
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
    return (T)utc_clamp(out, act_min, act_max);
  }
};

template <typename T>
struct MulOp {
  int32_t in1_zp, in2_zp, out_zp, out_mult, out_shift, act_min, act_max;
  UTC_INLINE T operator()(T a, T b) const {
    /* int16 x int16 with zero point 0 fits int32, as in TFLM */
    const int32_t prod = ((int32_t)a - in1_zp) * ((int32_t)b - in2_zp);
    const int32_t out = utc_multiply_by_quantized_multiplier(prod, out_mult, out_shift) + out_zp;
    return (T)utc_clamp(out, act_min, act_max);
  }
};

template <typename T>
struct MaxOp {
  UTC_INLINE T operator()(T a, T b) const { return a > b ? a : b; }
};

template <typename T>
struct MinOp {
  UTC_INLINE T operator()(T a, T b) const { return a < b ? a : b; }
};

template <Combine kCombine, typename T>
void rescaled_binary(const T *in1, const T *in2, T *out, const int32_t *in1_shape,
             const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp,
             int32_t in2_zp, int32_t out_zp, int32_t left_shift, int32_t in1_mult,
             int32_t in1_shift, int32_t in2_mult, int32_t in2_shift, int32_t out_mult,
             int32_t out_shift, int32_t act_min, int32_t act_max) {
  RescaledBinaryOp<kCombine, T> op;
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

template <typename T>
void mul(const T *in1, const T *in2, T *out, const int32_t *in1_shape,
         const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
         int32_t out_zp, int32_t out_mult, int32_t out_shift, int32_t act_min,
         int32_t act_max) {
  MulOp<T> op;
  op.in1_zp = in1_zp;
  op.in2_zp = in2_zp;
  op.out_zp = out_zp;
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
  rescaled_binary<kAdd, int8_t>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp,
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
  rescaled_binary<kSub, int8_t>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp,
                        out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
                        out_mult, out_shift, act_min, act_max);
}

void utc_mul_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                const int32_t *in1_shape, const int32_t *in2_shape,
                const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                int32_t out_zp, int32_t out_mult, int32_t out_shift,
                int32_t act_min, int32_t act_max) {
  mul(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp, out_zp, out_mult,
      out_shift, act_min, act_max);
}

void utc_mul_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                 const int32_t *in1_shape, const int32_t *in2_shape,
                 const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                 int32_t out_zp, int32_t out_mult, int32_t out_shift,
                 int32_t act_min, int32_t act_max) {
  mul(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp, in2_zp, out_zp, out_mult,
      out_shift, act_min, act_max);
}

void utc_squared_difference_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                               const int32_t *in1_shape, const int32_t *in2_shape,
                               const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
                               int32_t out_zp, int32_t left_shift, int32_t in1_mult,
                               int32_t in1_shift, int32_t in2_mult, int32_t in2_shift,
                               int32_t out_mult, int32_t out_shift, int32_t act_min,
                               int32_t act_max) {
  rescaled_binary<kSquaredDifference, int8_t>(in1, in2, out, in1_shape, in2_shape, out_shape, in1_zp,
                                      in2_zp, out_zp, left_shift, in1_mult, in1_shift,
                                      in2_mult, in2_shift, out_mult, out_shift, act_min,
                                      act_max);
}

void utc_maximum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaxOp<int8_t>());
}

void utc_minimum_s8(const int8_t *in1, const int8_t *in2, int8_t *out,
                    const int32_t *in1_shape, const int32_t *in2_shape,
                    const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinOp<int8_t>());
}

#define UTC_RESCALED_BINARY_S16(NAME, COMBINE)                                              \
  void NAME(const int16_t *in1, const int16_t *in2, int16_t *out, const int32_t *in1_shape, \
            const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp,             \
            int32_t in2_zp, int32_t out_zp, int32_t left_shift, int32_t in1_mult,           \
            int32_t in1_shift, int32_t in2_mult, int32_t in2_shift, int32_t out_mult,       \
            int32_t out_shift, int32_t act_min, int32_t act_max) {                          \
    rescaled_binary<COMBINE, int16_t>(in1, in2, out, in1_shape, in2_shape, out_shape,       \
                                      in1_zp, in2_zp, out_zp, left_shift, in1_mult,         \
                                      in1_shift, in2_mult, in2_shift, out_mult, out_shift,  \
                                      act_min, act_max);                                    \
  }

UTC_RESCALED_BINARY_S16(utc_add_s16, kAdd)
UTC_RESCALED_BINARY_S16(utc_sub_s16, kSub)

void utc_maximum_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaxOp<int16_t>());
}

void utc_minimum_s16(const int16_t *in1, const int16_t *in2, int16_t *out,
                     const int32_t *in1_shape, const int32_t *in2_shape,
                     const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinOp<int16_t>());
}

}  // extern "C"
