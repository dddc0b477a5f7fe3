/* utc_move: the byte move patch-based execution needs. `patch-stages` keeps each stage
 * tensor's rows in a band buffer and, at each step, moves the rows it still needs to the
 * front of that buffer before computing the new ones; source and destination then lie in
 * the same buffer and may overlap. Copied into a model's folder only when a stage has a
 * move. */
#ifndef UTC_MOVE_H
#define UTC_MOVE_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[0..bytes) = the bytes input[0..bytes) held before the call. Access order: any
 * overlap of input and output is allowed (memmove semantics). */
void utc_move(const void *input, void *output, int32_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* UTC_MOVE_H */
