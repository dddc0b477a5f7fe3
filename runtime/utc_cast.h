/* utc_cast: TFLite CAST between bool, int8, int16, int32, uint32 and float32, as TFLite Micro
 * does it: out[i] = static_cast<To>(in[i]) over the stored values (quantization ignored).
 * float32 -> integer truncates toward zero; a float32 value outside the target type's
 * range is undefined in TFLite Micro and here. Integer narrowing keeps the low bits.
 *
 * Type codes: 0 bool, 1 int8, 2 int16, 3 int32, 4 float32, 5 uint32 (the output is never
 * bool; uint32 is what TFLite Micro's signal-library operators exchange). In
 * place: each element is read before it is written, in increasing order, so the output
 * may alias the input when both have one element size. */
#ifndef UTC_CAST_H
#define UTC_CAST_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_cast(const void *input, void *output, int32_t size, int32_t from, int32_t to);

#ifdef __cplusplus
}
#endif

#endif /* UTC_CAST_H */
