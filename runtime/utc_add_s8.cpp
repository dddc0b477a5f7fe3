#include "utc_add_s8.h"

#include "utc_quant.h"

extern "C" void utc_add_s8(const int8_t *in1, const int8_t *in2, int8_t *output,
                           const int32_t *shape1, const int32_t *shape2, const int32_t *out_shape,
                           int32_t in1_zp, int32_t in2_zp, int32_t output_zp, int32_t left_shift,
                           int32_t in1_mult, int32_t in1_shift, int32_t in2_mult,
                           int32_t in2_shift, int32_t out_mult, int32_t out_shift,
                           int32_t act_min, int32_t act_max) {
  int32_t stride1[6], stride2[6];
  int32_t s1 = 1, s2 = 1;
  for (int d = 5; d >= 0; --d) {
    stride1[d] = shape1[d] == 1 ? 0 : s1;
    stride2[d] = shape2[d] == 1 ? 0 : s2;
    s1 *= shape1[d];
    s2 *= shape2[d];
  }
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t total = 1;
  for (int d = 0; d < 6; ++d) total *= out_shape[d];
  for (int32_t i = 0; i < total; ++i) {
    int32_t o1 = 0, o2 = 0;
    for (int d = 0; d < 6; ++d) {
      o1 += idx[d] * stride1[d];
      o2 += idx[d] * stride2[d];
    }
    const int32_t a = ((int32_t)in1[o1] - in1_zp) * (1 << left_shift);
    const int32_t b = ((int32_t)in2[o2] - in2_zp) * (1 << left_shift);
    const int32_t sum = utc_multiply_by_quantized_multiplier(a, in1_mult, in1_shift) +
                        utc_multiply_by_quantized_multiplier(b, in2_mult, in2_shift);
    const int32_t out = utc_multiply_by_quantized_multiplier(sum, out_mult, out_shift) + output_zp;
    output[i] = (int8_t)utc_clamp(out, act_min, act_max);
    for (int d = 5; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}
