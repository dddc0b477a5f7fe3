/* utc_state: the byte copy persistent state needs. ASSIGN_VARIABLE copies its value into
 * the variable's buffer in the state region; a READ_VARIABLE whose value must outlive the
 * variable's next write copies the buffer out into the arena (other reads use the state's
 * bytes directly). Copied into a model's folder only when the model has state. */
#ifndef UTC_STATE_H
#define UTC_STATE_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[0..bytes) = input[0..bytes). input and output are either the same buffer (a
 * variable assigned its own value, unchanged: nothing to do) or disjoint. */
void utc_copy(const void *input, void *output, int32_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* UTC_STATE_H */
