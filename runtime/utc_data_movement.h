/* utc_data_movement: dtype-agnostic data-movement kernels (TFLite PAD, PADV2,
 * CONCATENATION, TRANSPOSE, STRIDED_SLICE, SPLIT, SPLIT_V, GATHER, BROADCAST_TO, FILL).
 *
 * These kernels only move elements, so one implementation serves every dtype: an element
 * is `elem_size` bytes (1 for int8, 4 for float32/int32). Shapes are 6-D int32 arrays,
 * the tensor shape right-aligned with leading 1s. Every parameter is resolved at compile
 * time (dialects/slice_math.py): the kernels do no range checks. Contiguous runs are
 * copied with memcpy. Input and output buffers must not overlap. */
#ifndef UTC_DATA_MOVEMENT_H
#define UTC_DATA_MOVEMENT_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[in_shape + pad_before + pad_after] = input placed at pad_before, every other
 * element a copy of the one element at pad_value (int8 PAD: the output zero point;
 * float PAD: 0.0f; PADV2: its constant). Paddings are >= 0. */
void utc_pad(const void *input, void *output, const int32_t *in_shape,
             const int32_t *pad_before, const int32_t *pad_after, int32_t elem_size,
             const void *pad_value);

/* Output row r (r < outer) is the concatenation of the r-th chunk of every input, where
 * input i's chunk is input_axis_bytes[i] bytes (its dims from the axis on times
 * elem_size) and outer is the product of the dims before the axis. */
void utc_concatenation(const void *const *inputs, const int32_t *input_axis_bytes,
                       int32_t num_inputs, int32_t outer, void *output);

/* Output dim k is input dim perm[k] (perm is a permutation of 0..5). */
void utc_transpose(const void *input, void *output, const int32_t *in_shape,
                   const int32_t *perm, int32_t elem_size);

/* output[i0..i5] = input[begin + i * strides] along every dim, i[k] < out_shape[k].
 * Fully resolved: strides nonzero (negative walks backwards), every index read is in
 * range; any out_shape[k] == 0 gives an empty output. */
void utc_strided_slice(const void *input, void *output, const int32_t *in_shape,
                       const int32_t *begin, const int32_t *strides, const int32_t *out_shape,
                       int32_t elem_size);

/* Inverse of utc_concatenation: input row r (r < outer) is cut into consecutive chunks of
 * output_axis_bytes[i] bytes, chunk i going to row r of outputs[i] (SPLIT and SPLIT_V). */
void utc_split(const void *input, void *const *outputs, const int32_t *output_axis_bytes,
               int32_t num_outputs, int32_t outer);

/* TFLite GATHER: for every batch b < batches, outer row o < outer and index position
 * k < coords, output chunk ((b * outer + o) * coords + k) is input chunk
 * ((b * outer + o) * axis_size + indices[b * coords + k]), a chunk being inner_bytes bytes
 * (the input dims after the axis times the element size). indices may be a model input:
 * an index outside [0, axis_size) gives a chunk of zero bytes (TFLite Micro only checks
 * this in debug builds and otherwise reads outside the input). The output must not
 * overlap the input or the indices. */
void utc_gather(const void *input, const int32_t *indices, void *output, int32_t batches,
                int32_t outer, int32_t axis_size, int32_t coords, int32_t inner_bytes);

/* TFLite BROADCAST_TO: output[i0..i5] = input[j0..j5] with j_k = (in_shape[k] == 1 ? 0 : i_k);
 * every in_shape[k] is 1 or out_shape[k]. The output must not overlap the input. */
void utc_broadcast_to(const void *input, void *output, const int32_t *in_shape,
                      const int32_t *out_shape, int32_t elem_size);

#ifdef __cplusplus
}
#endif

#endif
