/* utc_quantize_s16: conversions into and out of int16 tensors (TFLite QUANTIZE and
 * DEQUANTIZE of the 16x8 scheme), bit-exact with TFLite Micro's reference kernels.
 *
 * QUANTIZE float32 -> int16: clamp(round_half_away(x / scale) + zp) to int16, the
 * division in float as TFLM does. QUANTIZE between int8 and int16 (either way, or int16
 * to int16) rescales x - input_zp by the Q31 multiplier of input_scale / output_scale
 * (TFLite's MultiplyByQuantizedMultiplier, utc_quant.h), adds output_zp and clamps to
 * [act_min, act_max] (the output type's range). DEQUANTIZE int16 -> float32: scale * (x -
 * zp), rounded once to float.
 *
 * Access order: each output element is written after its input element is read, in
 * increasing order; the int16 -> int16 rescale may run in place. */
#ifndef UTC_QUANTIZE_S16_H
#define UTC_QUANTIZE_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_quantize_f32_s16(const float *input, int16_t *output, int32_t size, float scale,
                          int32_t zp);
void utc_dequantize_s16_f32(const int16_t *input, float *output, int32_t size, float scale,
                            int32_t zp);
void utc_requantize_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_zp,
                        int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                        int32_t act_max);
void utc_requantize_s8_s16(const int8_t *input, int16_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max);
void utc_requantize_s16_s8(const int16_t *input, int8_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max);
/* int8 / int16 -> quantized int32 (TFLM QUANTIZE): the rescaled value plus output_zp in
 * int32, wrapping as TFLM's sum does; act_min/act_max are the int32 range. */
void utc_requantize_s8_s32(const int8_t *input, int32_t *output, int32_t size,
                           int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                           int32_t act_min, int32_t act_max);
void utc_requantize_s16_s32(const int16_t *input, int32_t *output, int32_t size,
                            int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                            int32_t act_min, int32_t act_max);

#ifdef __cplusplus
}
#endif

#endif
