#include "utc_state.h"

#include <string.h>

extern "C" {

void utc_copy(const void *input, void *output, int32_t bytes) {
  if (input != output && bytes > 0) memcpy(output, input, (size_t)bytes);
}

}  // extern "C"
