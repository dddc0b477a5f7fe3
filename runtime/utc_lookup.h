/* utc_lookup: int8 elementwise functions through a 256-entry table computed at compile
 * time (utc.passes.quantmath.lut, TFLite Micro's PopulateLookupTable), and float32 ELU.
 *
 * In place: each element is read before it is written, in increasing order, so the output
 * may alias the input. */
#ifndef UTC_LOOKUP_H
#define UTC_LOOKUP_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[i] = table[(uint8_t)input[i]] for i < size. */
void utc_lookup_s8(const int8_t *input, int8_t *output, int32_t size, const int8_t *table);

/* TFLite ELU on float32: x < 0 ? expm1f(x) : x (TFLite's reference Elu). */
void utc_elu_f32(const float *input, float *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* UTC_LOOKUP_H */
