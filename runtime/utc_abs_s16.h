/* utc_abs_s16: 16x8 ABS, bit-exact with TFLite Micro's int16 quantized path (zero points
 * 0): v = |x| in int32 (so |-32768| = 32768), then, when `rescale` (the input and output
 * scales differ), TFLite's MultiplyByQuantizedMultiplier(v, mult, shift); clamped to int16.
 * Constants from abs16_params. In place: each element is read before it is written. */
#ifndef UTC_ABS_S16_H
#define UTC_ABS_S16_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_abs_s16(const int16_t *input, int16_t *output, int32_t size, int32_t rescale,
                 int32_t mult, int32_t shift);

#ifdef __cplusplus
}
#endif

#endif /* UTC_ABS_S16_H */
