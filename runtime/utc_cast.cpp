#include "utc_cast.h"

namespace {

template <typename From, typename To>
void convert(const void *input, void *output, int32_t size) {
  const From *in = static_cast<const From *>(input);
  To *out = static_cast<To *>(output);
  for (int32_t i = 0; i < size; ++i) out[i] = static_cast<To>(in[i]);
}

template <typename From>
void cast_from(const void *input, void *output, int32_t size, int32_t to) {
  switch (to) {
    case 1: convert<From, int8_t>(input, output, size); break;
    case 2: convert<From, int16_t>(input, output, size); break;
    case 3: convert<From, int32_t>(input, output, size); break;
    case 5: convert<From, uint32_t>(input, output, size); break;
    default: convert<From, float>(input, output, size); break;
  }
}

}  // namespace

extern "C" void utc_cast(const void *input, void *output, int32_t size, int32_t from,
                         int32_t to) {
  switch (from) {
    case 0: cast_from<bool>(input, output, size, to); break;
    case 1: cast_from<int8_t>(input, output, size, to); break;
    case 2: cast_from<int16_t>(input, output, size, to); break;
    case 3: cast_from<int32_t>(input, output, size, to); break;
    case 5: cast_from<uint32_t>(input, output, size, to); break;
    default: cast_from<float>(input, output, size, to); break;
  }
}
