#include "utc_fully_connected_s8.h"

#include "utc_quant.h"

extern "C" void utc_fully_connected_s8(const int8_t *input, const int8_t *filter,
                                       const int32_t *bias, int8_t *output, int32_t batches,
                                       int32_t depth, int32_t units, int32_t input_zp,
                                       int32_t filter_zp, int32_t output_zp, const int32_t *mult,
                                       const int32_t *shift, int32_t per_channel, int32_t act_min,
                                       int32_t act_max) {
  for (int32_t b = 0; b < batches; ++b) {
    const int8_t *x = input + b * depth;
    for (int32_t c = 0; c < units; ++c) {
      const int8_t *w = filter + c * depth;
      int32_t acc = 0;
      for (int32_t d = 0; d < depth; ++d) {
        acc += ((int32_t)w[d] - filter_zp) * ((int32_t)x[d] - input_zp);
      }
      if (bias) acc += bias[c];
      const int32_t q = per_channel ? c : 0;
      acc = utc_multiply_by_quantized_multiplier(acc, mult[q], shift[q]) + output_zp;
      output[b * units + c] = (int8_t)utc_clamp(acc, act_min, act_max);
    }
  }
}
