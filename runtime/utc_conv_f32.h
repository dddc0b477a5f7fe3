/* utc_conv_f32: float32 convolution and depthwise convolution (TFLite CONV_2D,
 * DEPTHWISE_CONV_2D), same layouts and explicit padding as the int8 kernels; outputs
 * clamped to [act_min, act_max]. Accumulation order follows TFLite's reference kernels.
 *
 * Access order (relied on by overlap-buffers, passes/planning/overlap.py): with batch 1
 * the compiler may start the output d >= min_overlap_offset bytes BEFORE the input, the
 * two buffers overlapping (the input is dead after the call).
 * That is correct only while each kernel here keeps to this order:
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
 * Reverse order (`overlap_reverse`, utc_conv2d_f32's `reverse` = 1): the mirror image.
 * Output rows are finished in decreasing order, and from the first write to output row
 * oy on only input rows below min(in_h, oy * stride_h - pad_top + (kh - 1) * dil_h + 1)
 * are read (the bottom tap), so the output may END u >= min_reverse_overlap bytes after
 * the input ends, containing it: overlap-buffers alternates it with forward placements
 * so a chain of layers does not drift down by a row per layer.
 * Channel-wise (`overlap_channelwise`): with a depth multiplier of 1,
 * utc_depthwise_conv2d_f32 also keeps the pixel order within every channel (output
 * pixels of a channel written in increasing (row, column) order, each after the reads of
 * its window in that channel; channel blocks may be outermost), so the output may start
 * a whole number of pixels k before the input with k >= channelwise_overlap_pixels
 * (often far below the row bound). Reading another channel's input for an output
 * channel, or writing a pixel before reading its window, breaks it: clear
 * `overlap_channelwise` first.
 * In place with a two-pixel buffer (`in_place_pixel`: utc_conv2d_pixel_f32, below): for a
 * 1x1 convolution without padding whose output has the input's shape, the output may
 * start d >= 0 bytes before the input (overlap-buffers puts it exactly on it) although
 * every output pixel overwrites the input pixel it reads: pixels two at a time in
 * increasing order (the last maybe alone), each pair first copied into `pixel` and
 * computed from that copy only.
 * Computing a pixel from the input in place of the copy breaks it: clear
 * `in_place_pixel` first.
 * tests/unit/test_overlap.py runs this kernel with overlapping buffers to check it. */
#ifndef UTC_CONV_F32_H
#define UTC_CONV_F32_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

void utc_conv2d_f32(const float *input, const float *filter, const float *bias, float *output,
                    int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_h,
                    int32_t out_w, int32_t out_c, int32_t kh, int32_t kw, int32_t stride_h,
                    int32_t stride_w, int32_t dil_h, int32_t dil_w, int32_t pad_top,
                    int32_t pad_left, float act_min, float act_max, int32_t reverse);
/* utc_conv2d_pixel_f32: utc_conv2d_f32 in place with a two-pixel buffer (the contract
 * above): a 1x1 convolution without padding whose output has the input's shape, its
 * output on its input (or below it); `pixel`: 2 in_c floats apart from both (the call's
 * scratch buffer, float-aligned). */
void utc_conv2d_pixel_f32(const float *input, const float *filter, const float *bias,
                          float *output, int32_t batches, int32_t in_h, int32_t in_w,
                          int32_t in_c, int32_t out_h, int32_t out_w, int32_t out_c, int32_t kh,
                          int32_t kw, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                          int32_t dil_w, int32_t pad_top, int32_t pad_left, float act_min,
                          float act_max, void *pixel);
void utc_depthwise_conv2d_f32(const float *input, const float *filter, const float *bias,
                              float *output, int32_t batches, int32_t in_h, int32_t in_w,
                              int32_t in_c, int32_t out_h, int32_t out_w, int32_t depth_mult,
                              int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                              int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                              float act_min, float act_max);

#ifdef __cplusplus
}
#endif

#endif
