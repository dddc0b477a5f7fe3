#include "utc_move.h"

#include <string.h>

extern "C" {

void utc_move(const void *input, void *output, int32_t bytes) {
  if (input != output && bytes > 0) memmove(output, input, (size_t)bytes);
}

}  // extern "C"
