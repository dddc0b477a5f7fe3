#include "utc_fully_connected_s16.h"

#include "utc_quant.h"
#include "utc_quant16.h"

/* TFLite Micro's 16x8 FULLY_CONNECTED: the products of an int16 input and an int8 weight
 * need 23 bits, so the sum over a row is taken in int64 as TFLM does (int32 could wrap
 * for depths above 256 where TFLM's does not). Each unit's weights are contiguous, so the
 * inner loop is one pass over depth per unit, the input row staying in cache. */
extern "C" void utc_fully_connected_s16(const int16_t *input, const int8_t *filter,
                                        const int64_t *bias, int16_t *output,
                                        int32_t batches, int32_t depth, int32_t units,
                                        int32_t filter_zp, const int32_t *mult,
                                        const int32_t *shift, int32_t per_channel,
                                        int32_t act_min, int32_t act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    const int16_t *x = input + b * depth;
    for (int32_t u = 0; u < units; ++u) {
      const int8_t *w = filter + u * depth;
      int64_t acc = 0;
      for (int32_t d = 0; d < depth; ++d)
        acc += (int64_t)((int32_t)w[d] - filter_zp) * (int64_t)x[d];
      if (bias) acc += bias[u];
      const int32_t q = per_channel ? u : 0;
      const int32_t v = utc_multiply_by_quantized_multiplier_64(acc, mult[q], shift[q]);
      output[b * units + u] = (int16_t)utc_clamp(v, act_min, act_max);
    }
  }
}
