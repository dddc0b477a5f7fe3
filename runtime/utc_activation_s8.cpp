#include "utc_activation_s8.h"

#include "utc_quant.h"
#include "utc_quant_ext.h"

namespace {

const int kLogisticTanhInputIntegerBits = 4; /* the rescaled input is Q4.27 */

UTC_INLINE int8_t sat8(int32_t x) { return (int8_t)utc_clamp(x, -128, 127); }

struct PreluOp {
  int32_t input_zp, alpha_zp, output_zp, identity_mult, identity_shift, alpha_mult, alpha_shift;
  UTC_INLINE int8_t operator()(int8_t x, int8_t a) const {
    const int32_t d = (int32_t)x - input_zp;
    int32_t r;
    if (d >= 0) {
      r = utc_multiply_by_quantized_multiplier(d, identity_mult, identity_shift);
    } else {
      r = utc_multiply_by_quantized_multiplier(d * ((int32_t)a - alpha_zp), alpha_mult,
                                               alpha_shift);
    }
    return sat8(r + output_zp);
  }
};

/* LOGISTIC and TANH share one scheme: saturate beyond the input radius, otherwise rescale
 * x - zp into Q4.27 and evaluate the gemmlowp fixed-point curve. */
struct LogisticCurve {
  int8_t operator()(int32_t q4) const {
    const int32_t q0 = utc_fx_logistic(q4, kLogisticTanhInputIntegerBits);
    /* Q0.31 -> 8 fractional bits (scale 1/256), zero point -128 */
    return sat8(utc_rounding_divide_by_pot(q0, 23) - 128);
  }
};

struct TanhCurve {
  int8_t operator()(int32_t q4) const {
    const int32_t q0 = utc_fx_tanh(q4, kLogisticTanhInputIntegerBits);
    /* Q0.31 -> 7 fractional bits (scale 1/128), zero point 0 */
    return sat8(utc_rounding_divide_by_pot(q0, 24));
  }
};

template <typename Curve>
void curve_s8(const int8_t *input, int8_t *output, int32_t size, int32_t input_zp,
              int32_t input_range_radius, int32_t input_mult, int32_t input_left_shift,
              const Curve &curve) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t d = (int32_t)input[i] - input_zp;
    if (d <= -input_range_radius) {
      output[i] = -128;
    } else if (d >= input_range_radius) {
      output[i] = 127;
    } else {
      output[i] = curve(utc_multiply_by_quantized_multiplier(d, input_mult, input_left_shift));
    }
  }
}

}  // namespace

namespace {

/* LEAKY_RELU on int8 or int16 elements: one of two rescales by the sign of x - zp. */
template <typename T>
void leaky_relu(const T *input, T *output, int32_t size, int32_t input_zp, int32_t output_zp,
                int32_t identity_mult, int32_t identity_shift, int32_t alpha_mult,
                int32_t alpha_shift, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t d = (int32_t)input[i] - input_zp;
    /* a negative alpha_mult goes straight into the multiply, as in the TFLM build utc is
     * checked against (SRDHM rounds a negative product half away from zero) */
    const int32_t r = d >= 0
                          ? utc_multiply_by_quantized_multiplier(d, identity_mult, identity_shift)
                          : utc_multiply_by_quantized_multiplier(d, alpha_mult, alpha_shift);
    output[i] = (T)utc_clamp(output_zp + r, lo, hi);
  }
}

}  // namespace

extern "C" {

void utc_logistic_s8(const int8_t *input, int8_t *output, int32_t size,
                     int32_t input_zp, int32_t input_range_radius, int32_t input_mult,
                     int32_t input_left_shift) {
  curve_s8(input, output, size, input_zp, input_range_radius, input_mult, input_left_shift,
           LogisticCurve());
}

void utc_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t input_zp,
                 int32_t input_range_radius, int32_t input_mult,
                 int32_t input_left_shift) {
  curve_s8(input, output, size, input_zp, input_range_radius, input_mult, input_left_shift,
           TanhCurve());
}

void utc_hard_swish_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t reluish_mult,
                       int32_t reluish_shift, int32_t output_mult,
                       int32_t output_shift) {
  const int16_t reluish_m = (int16_t)reluish_mult;
  const int16_t output_m = (int16_t)output_mult;
  for (int32_t i = 0; i < size; ++i) {
    const int16_t d = (int16_t)((int32_t)input[i] - input_zp);
    /* input on a 128x finer scale: |d| <= 255, so this fits int16 */
    const int16_t hires = (int16_t)(d * (1 << 7));
    /* the input on the output scale, before the final right shift */
    const int16_t preshift_output = utc_fx16_sat_rounding_doubling_high_mul(hires, output_m);
    /* "relu-ish" factor: the input rescaled so that 3.0 maps to 32768 (saturating), ... */
    int16_t reluish = hires;
    if (reluish_shift > 0) reluish = utc_fx16_sat_shl(reluish, reluish_shift - 1);
    reluish = utc_fx16_sat_rounding_doubling_high_mul(reluish, reluish_m);
    if (reluish_shift > 0) reluish = utc_fx16_sat_shl(reluish, 1);
    if (reluish_shift < 0) reluish = utc_fx16_rounding_divide_by_pot(reluish, -reluish_shift);
    /* ... then mapped from [-1, 1] to [0, 1] */
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
    const int16_t preshift_value = utc_fx16_sat_doubling_high_mul(reluish, preshift_output);
    int16_t value = utc_fx16_rounding_divide_by_pot(preshift_value, -output_shift);
    value = (int16_t)(value + output_zp); /* int16 arithmetic, as TFLite */
    output[i] = sat8(value);
  }
}

void utc_leaky_relu_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t identity_mult,
                       int32_t identity_shift, int32_t alpha_mult,
                       int32_t alpha_shift) {
  leaky_relu(input, output, size, input_zp, output_zp, identity_mult, identity_shift,
             alpha_mult, alpha_shift, -128, 127);
}

void utc_leaky_relu_s16(const int16_t *input, int16_t *output, int32_t size,
                        int32_t input_zp, int32_t output_zp, int32_t identity_mult,
                        int32_t identity_shift, int32_t alpha_mult,
                        int32_t alpha_shift) {
  leaky_relu(input, output, size, input_zp, output_zp, identity_mult, identity_shift,
             alpha_mult, alpha_shift, -32768, 32767);
}

void utc_prelu_s8(const int8_t *input, const int8_t *alpha, int8_t *output,
                  const int32_t *input_shape, const int32_t *alpha_shape,
                  const int32_t *output_shape, int32_t input_zp, int32_t alpha_zp,
                  int32_t output_zp, int32_t identity_mult, int32_t identity_shift,
                  int32_t alpha_mult, int32_t alpha_shift) {
  PreluOp op;
  op.input_zp = input_zp;
  op.alpha_zp = alpha_zp;
  op.output_zp = output_zp;
  op.identity_mult = identity_mult;
  op.identity_shift = identity_shift;
  op.alpha_mult = alpha_mult;
  op.alpha_shift = alpha_shift;
  utc_broadcast_binary6(input, alpha, output, input_shape, alpha_shape, output_shape, op);
}

void utc_requantize_s8(const int8_t *input, int8_t *output, int32_t size,
                       int32_t input_zp, int32_t output_zp, int32_t mult,
                       int32_t shift, int32_t act_min, int32_t act_max) {
  if (mult == (1 << 30) && shift == 1 && input_zp == output_zp) {
    /* MBQM by exactly 1.0 is the identity: only the clamp remains */
    for (int32_t i = 0; i < size; ++i) output[i] = (int8_t)utc_clamp(input[i], act_min, act_max);
    return;
  }
  for (int32_t i = 0; i < size; ++i) {
    const int32_t r =
        utc_multiply_by_quantized_multiplier((int32_t)input[i] - input_zp, mult, shift);
    output[i] = (int8_t)utc_clamp(r + output_zp, act_min, act_max);
  }
}

void utc_quantize_f32_s8(const float *input, int8_t *output, int32_t size,
                         float scale, int32_t zp) {
  for (int32_t i = 0; i < size; ++i)
    output[i] = sat8(utc_quantize_f32_rounded(input[i], scale) + zp);
}

void utc_dequantize_s8_f32(const int8_t *input, float *output, int32_t size,
                           float scale, int32_t zp) {
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)((int32_t)input[i] - zp);
}

}  // extern "C"
