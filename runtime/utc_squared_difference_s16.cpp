#include "utc_squared_difference_s16.h"

#include "utc_quant_ext.h"

namespace {

struct SquaredDifference16 {
  int32_t in1_zp, in2_zp, out_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift,
      out_mult, out_shift, act_min, act_max;

  int16_t operator()(int16_t a, int16_t b) const {
    const int32_t sa = (int32_t)((uint32_t)((int32_t)a - in1_zp) << left_shift);
    const int32_t sb = (int32_t)((uint32_t)((int32_t)b - in2_zp) << left_shift);
    const int32_t d = utc_multiply_by_quantized_multiplier(sa, in1_mult, in1_shift) -
                      utc_multiply_by_quantized_multiplier(sb, in2_mult, in2_shift);
    const int32_t v = utc_multiply_by_quantized_multiplier(d * d, out_mult, out_shift) + out_zp;
    return (int16_t)utc_clamp(v, act_min, act_max);
  }
};

}  // namespace

extern "C" void utc_squared_difference_s16(
    const int16_t *in1, const int16_t *in2, int16_t *out, const int32_t *in1_shape,
    const int32_t *in2_shape, const int32_t *out_shape, int32_t in1_zp, int32_t in2_zp,
    int32_t out_zp, int32_t left_shift, int32_t in1_mult, int32_t in1_shift, int32_t in2_mult,
    int32_t in2_shift, int32_t out_mult, int32_t out_shift, int32_t act_min, int32_t act_max) {
  const SquaredDifference16 op = {in1_zp,    in2_zp,   out_zp,    left_shift,
                                  in1_mult,  in1_shift, in2_mult, in2_shift,
                                  out_mult,  out_shift, act_min,  act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}
