/* utc_softmax_f32: float32 softmax over the last dimension (TFLite SOFTMAX): rows x depth
 * elements, out = exp(beta * (x - max)) / sum, in TFLite's order of operations. The output
 * may alias the input: the row maximum is found first, then each output element is written
 * after the input element at its index is read. */
#ifndef UTC_SOFTMAX_F32_H
#define UTC_SOFTMAX_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_softmax_f32(const float *input, float *output, int32_t rows, int32_t depth, float beta);

#ifdef __cplusplus
}
#endif

#endif
