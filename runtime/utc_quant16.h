/* utc_quant16.h: the requantization of TFLite's 16x8 scheme (int16 activations, int8
 * weights, int64 accumulators), bit-exact with TFLite's reference arithmetic. */
#ifndef UTC_QUANT16_H
#define UTC_QUANT16_H

#include "utc_runtime.h"

/* TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator: the Q31 multiplier is
 * first rounded to 16 bits (saturating at 0x7FFF), then x * it is shifted right by
 * 15 - shift with one round-half-up. Not the int32 version's double rounding, so 16x8
 * results differ from what the int8 helper would give. |x| < 2^47 (TFLite's assumption:
 * int16 * int8 products over any realistic depth plus an int64 bias fit). */
static UTC_INLINE int32_t utc_multiply_by_quantized_multiplier_64(int64_t x,
                                                                  int32_t multiplier,
                                                                  int shift) {
  const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t round = (int64_t)1 << (total_shift - 1);
  return (int32_t)((x * reduced + round) >> total_shift);
}

#endif /* UTC_QUANT16_H */
