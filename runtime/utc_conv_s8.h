/* utc_conv_s8: the int8 convolution family, bit-exact with TFLite Micro: utc_conv2d_s8
 * (TFLite CONV_2D) and utc_depthwise_conv2d_s8 (DEPTHWISE_CONV_2D, below).
 *
 * utc_conv2d_s8:
 * input [n, in_h, in_w, in_c], filter [out_c, kh, kw, in_c], bias [out_c] int32 or NULL,
 * output [n, out_h, out_w, out_c]. Explicit pad_top/pad_left (the compiler resolved
 * SAME/VALID), strides, dilations; per-channel (or per-tensor) requantization.
 * zp_bias [out_c] int32 or NULL: bias - input_zp * sum of the channel's filter, wrapped to
 * int32 (the fold-zero-point pass computes it at compile time); when given, the kernel
 * uses it for every output whose window lies inside the input instead of summing the
 * filter at run time. The result is the same either way.
 *
 * Access order (relied on by overlap-buffers, passes/planning/overlap.py): with batch 1
 * the compiler may start the output d >= min_overlap_offset bytes BEFORE the input, the
 * two buffers overlapping (the input is dead after the call).
 * That is correct only while both kernels keep to this order:
 *   1. output rows are finished in increasing order: nothing of output row oy+1 or later
 *      is written before every write to row oy is done (the order inside a row, e.g.
 *      pixels or blocks of channels, is free);
 *   2. from the first write to output row oy on, only input rows at or after
 *      max(0, oy * stride_h - pad_top) are read (the top tap of the window; later taps,
 *      dilated or not, read later rows);
 *   3. input and output are not `restrict`-qualified against each other in a scope that
 *      spans more than one output row, so the compiler keeps every store after the loads
 *      it may overwrite (within one output row the bytes read and the bytes written are
 *      disjoint at such an offset, so a per-row or per-pixel helper may use restrict).
 * Reordering the loops (e.g. output channels outermost across all rows, or reading a
 * later input row ahead) breaks models compiled at -O1/-O2: clear the kernel's
 * `overlap` flag in runtime/kernels.py first.
 * Reverse order (`overlap_reverse`, params.reverse = 1): the mirror image. Output rows are
 * finished in decreasing order, and from the first write to output row oy on only input
 * rows below min(in_h, oy * stride_h - pad_top + (kh - 1) * dil_h + 1) are read (the
 * bottom tap), so the output may END u >= min_reverse_overlap bytes after the input
 * ends, containing it (an expanding or channel-keeping pointwise layer then drifts up
 * where a forward one drifts down). Both kernels honour it; the record says which one
 * the planner may use it for.
 * Channel-wise (`overlap_channelwise`): with a depth multiplier of 1,
 * utc_depthwise_conv2d_s8 also keeps the pixel order within every channel (output pixels
 * of a channel written in increasing (row, column) order, each after the reads of its
 * window in that channel; channel blocks may be outermost), so the output may start a
 * whole number of pixels k before the input with k >= channelwise_overlap_pixels (often
 * far below the row bound). Reading another channel's input for an output channel, or
 * writing a pixel before reading its window, breaks it: clear `overlap_channelwise`
 * first.
 * In place with a two-pixel buffer (`in_place_pixel`: utc_conv2d_pixel_s8, below): for a
 * 1x1 convolution without padding whose output has the input's shape, the output may
 * start d >= 0 bytes before the input (overlap-buffers puts it exactly on it, d = 0)
 * although every output pixel overwrites the input pixel it reads: pixels are done two
 * at a time in increasing order (batch, row, column; the last maybe alone), each pair
 * first copied into `pixel` (2 in_c bytes) and then all its out_c outputs computed from
 * that copy only, so no input byte is read after an output byte was written over it.
 * Computing a pixel from the input in place of the copy, or more pixels per copy than
 * the buffer holds, breaks it: clear `in_place_pixel` first. The pixel buffer is the
 * call's scratch buffer (never inside the input or the output).
 * tests/unit/test_overlap.py runs this kernel with overlapping buffers to check it. */
#ifndef UTC_CONV_S8_H
#define UTC_CONV_S8_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parameters of one call of either kernel. The generated code declares one per call
 * site `static const` (in flash, arena and weight addresses being link-time constants)
 * and passes its address: a call costs a few instructions and no argument words on the
 * caller's stack, and the kernel reads its parameters where they are instead of copying
 * 27 of them into its frame (Cortex-M4, KWS: about 200 bytes less stack).
 * utc_conv2d_s8: depth_mult 1, out_c the filter's first dimension; utc_depthwise_conv2d_s8:
 * out_c = in_c * depth_mult. */
typedef struct utc_conv_s8_params {
  const int8_t *input;
  const int8_t *filter;
  const int32_t *bias;
  const int32_t *zp_bias;
  int8_t *output;
  int32_t batches;
  int32_t in_h;
  int32_t in_w;
  int32_t in_c;
  int32_t out_h;
  int32_t out_w;
  int32_t out_c;
  int32_t depth_mult;
  int32_t kh;
  int32_t kw;
  int32_t stride_h;
  int32_t stride_w;
  int32_t dil_h;
  int32_t dil_w;
  int32_t pad_top;
  int32_t pad_left;
  int32_t input_zp;
  int32_t output_zp;
  const int32_t *mult;
  const int32_t *shift;
  int32_t per_channel;
  int32_t act_min;
  int32_t act_max;
  /* 1: output rows in decreasing order (overlap-buffers' reverse placement, the output
   * ending at or above the end of the input it overlaps; see the access order above). */
  int32_t reverse;
} utc_conv_s8_params;

void utc_conv2d_s8(const utc_conv_s8_params *params);

/* utc_conv2d_pixel_s8: utc_conv2d_s8 in place with a two-pixel buffer (the contract
 * above): a 1x1 convolution without padding whose output has the input's shape, its
 * output on its input (or below it); `pixel`: 2 in_c bytes apart from both (the call's
 * scratch buffer). params.reverse is ignored. */
void utc_conv2d_pixel_s8(const utc_conv_s8_params *params, int8_t *pixel);

/* utc_depthwise_conv2d_s8: int8 depthwise convolution (TFLite DEPTHWISE_CONV_2D).
 * input [n, in_h, in_w, in_c], filter [1, kh, kw, out_c] with out_c = in_c * depth_mult,
 * bias [out_c] int32 or NULL, output [n, out_h, out_w, out_c]; per-channel requant.
 * zp_bias, the access order and its test: as utc_conv2d_s8's above. */
void utc_depthwise_conv2d_s8(const utc_conv_s8_params *params);

#ifdef __cplusplus
}
#endif

#endif
