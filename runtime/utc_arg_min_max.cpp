#include "utc_arg_min_max.h"

namespace {

struct Greater {
  template <typename T>
  bool operator()(T candidate, T best) const { return candidate > best; }
};

struct Less {
  template <typename T>
  bool operator()(T candidate, T best) const { return candidate < best; }
};

template <typename T, typename Better>
void arg_best(const T *input, int32_t *output, int32_t outer, int32_t axis_size, int32_t inner,
              Better better) {
  for (int32_t o = 0; o < outer; ++o) {
    const T *row = input + (ptrdiff_t)o * axis_size * inner;
    for (int32_t i = 0; i < inner; ++i) {
      T best = row[i];
      int32_t index = 0;
      for (int32_t k = 1; k < axis_size; ++k) {
        const T v = row[(ptrdiff_t)k * inner + i];
        if (better(v, best)) {
          best = v;
          index = k;
        }
      }
      output[(ptrdiff_t)o * inner + i] = index;
    }
  }
}

}  // namespace

extern "C" {

void utc_arg_max_s8_s32(const int8_t *input, int32_t *output, int32_t outer,
                        int32_t axis_size, int32_t inner) {
  arg_best(input, output, outer, axis_size, inner, Greater());
}

void utc_arg_min_s8_s32(const int8_t *input, int32_t *output, int32_t outer,
                        int32_t axis_size, int32_t inner) {
  arg_best(input, output, outer, axis_size, inner, Less());
}

void utc_arg_max_f32_s32(const float *input, int32_t *output, int32_t outer,
                         int32_t axis_size, int32_t inner) {
  arg_best(input, output, outer, axis_size, inner, Greater());
}

void utc_arg_min_f32_s32(const float *input, int32_t *output, int32_t outer,
                         int32_t axis_size, int32_t inner) {
  arg_best(input, output, outer, axis_size, inner, Less());
}

}  // extern "C"
