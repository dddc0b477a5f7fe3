#include "utc_quantize_s16.h"

#include "utc_quant.h"
#include "utc_quant_ext.h"

namespace {

/* TFLite's Requantize for any pair of integer types: one int32 rescale per element. */
template <typename In, typename Out>
void requantize(const In *input, Out *output, int32_t size, int32_t input_zp,
                int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                int32_t act_max) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t r =
        utc_multiply_by_quantized_multiplier((int32_t)input[i] - input_zp, mult, shift);
    output[i] = (Out)utc_clamp(r + output_zp, act_min, act_max);
  }
}

/* The same into int32: the sum wraps (no signed-overflow UB), the clamp is the int32
 * range itself. */
template <typename In>
void requantize_s32(const In *input, int32_t *output, int32_t size, int32_t input_zp,
                    int32_t output_zp, int32_t mult, int32_t shift) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t r =
        utc_multiply_by_quantized_multiplier((int32_t)input[i] - input_zp, mult, shift);
    output[i] = (int32_t)((uint32_t)r + (uint32_t)output_zp);
  }
}

}  // namespace

extern "C" {

void utc_quantize_f32_s16(const float *input, int16_t *output, int32_t size, float scale,
                          int32_t zp) {
  for (int32_t i = 0; i < size; ++i)
    output[i] = (int16_t)utc_clamp(utc_quantize_f32_rounded(input[i], scale) + zp, -32768,
                                   32767);
}

void utc_dequantize_s16_f32(const int16_t *input, float *output, int32_t size, float scale,
                            int32_t zp) {
  for (int32_t i = 0; i < size; ++i) output[i] = scale * (float)((int32_t)input[i] - zp);
}

void utc_requantize_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_zp,
                        int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                        int32_t act_max) {
  requantize(input, output, size, input_zp, output_zp, mult, shift, act_min, act_max);
}

void utc_requantize_s8_s16(const int8_t *input, int16_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max) {
  requantize(input, output, size, input_zp, output_zp, mult, shift, act_min, act_max);
}

void utc_requantize_s16_s8(const int16_t *input, int8_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max) {
  requantize(input, output, size, input_zp, output_zp, mult, shift, act_min, act_max);
}

void utc_requantize_s8_s32(const int8_t *input, int32_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max) {
  (void)act_min;
  (void)act_max;
  requantize_s32(input, output, size, input_zp, output_zp, mult, shift);
}

void utc_requantize_s16_s32(const int16_t *input, int32_t *output, int32_t size,
                            int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                            int32_t act_min, int32_t act_max) {
  (void)act_min;
  (void)act_max;
  requantize_s32(input, output, size, input_zp, output_zp, mult, shift);
}

}  // extern "C"
