/* utc_signal: TFLite Micro's signal library (its audio front end), bit-exact with the
 * `Signal*` custom operators of TFLite Micro. Each kernel states its formula; the
 * compile-time tables come from the importer (kissfft's twiddles: dialects/signal_math.py).
 * In place: window, FFT auto scale, PCAN (input or noise estimate) and spectral
 * subtraction (input) read element i of those inputs before writing output element i and
 * never read it again (auto scale finds its maximum first), so their output may be that
 * input's buffer; no other input and output may alias. */
#ifndef UTC_SIGNAL_H
#define UTC_SIGNAL_H

#include "utc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[i] = saturate_int16((input[i] * weights[i % window_size]) >> shift), i < size. */
void utc_signal_window_s16(const int16_t *input, const int16_t *weights, int16_t *output,
                           int32_t size, int32_t window_size, int32_t shift);

/* scale = max(0, 15 - msb(max |input|)) (msb(0) = 32, GCC's TFLite Micro build);
 * output[i] = input[i] * 2^scale; *scale_bit = scale. */
void utc_signal_fft_auto_scale_s16(const int16_t *input, int16_t *output, int32_t *scale_bit,
                                   int32_t size);

/* Forward real FFT of every row (rows of input_length samples zero-padded to fft_length),
 * kissfft v130's arithmetic: the fft_length / 2 complex FFT on even/odd sample pairs
 * (radix-4 and radix-2 stages of `factors`, each dividing by its radix in fixed point),
 * then the real-FFT split with the super twiddles. Output rows: fft_length / 2 + 1
 * complex values (real, imaginary). scratch: 2 * fft_length elements. */
void utc_signal_rfft_s16(const int16_t *input, int16_t *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const int16_t *twiddles,
                         const int16_t *super_twiddles);
void utc_signal_rfft_s32(const int32_t *input, int32_t *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const int32_t *twiddles,
                         const int32_t *super_twiddles);
void utc_signal_rfft_f32(const float *input, float *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const float *twiddles,
                         const float *super_twiddles);

/* output[i] = re_i^2 + im_i^2 for start <= i < end, 0 elsewhere (TFLite Micro leaves
 * those unwritten). */
void utc_signal_energy_u32(const int16_t *input, uint32_t *output, int32_t size,
                           int32_t start_index, int32_t end_index);

/* Channel c (0 <= c <= num_channels, channel 0 discarded) sums weights[ws + j] * input[fs + j]
 * over its width, plus the previous channel's unweights sum (uint64). */
void utc_signal_filter_bank_u64(const uint32_t *input, const int16_t *weights,
                                const int16_t *unweights, const int16_t *frequency_starts,
                                const int16_t *weight_starts, const int16_t *widths,
                                uint64_t *output, int32_t num_channels);

/* output[i] = sqrt64(input[i]) >> *scale_bits (TFLite Micro's rounded integer square root,
 * 32-bit when the upper word is clear). */
void utc_signal_filter_bank_square_root_u32(const uint64_t *input, const int32_t *scale_bits,
                                            uint32_t *output, int32_t size);

/* output[i] = min(log32(input[i] << correction_bits, output_scale), INT16_MAX) when the
 * shifted value exceeds 1, else 0 (TFLite Micro's piecewise-linear log2 table). */
void utc_signal_filter_bank_log_s16(const uint32_t *input, int16_t *output, int32_t size,
                                    int32_t output_scale, int32_t input_correction_bits);

/* output[i] = shrink((input[i] * gain(noise_estimate[i])) >> snr_shift), gain from the
 * piecewise-polynomial table gain_lut (snr 12, output 6 fractional bits). */
void utc_signal_pcan_u32(const uint32_t *input, const uint32_t *noise_estimate,
                         const int16_t *gain_lut, uint32_t *output, int32_t size,
                         int32_t snr_shift);

/* Spectral subtraction: noise[i] = (input[i] << smoothing_bits) * s + state[i] * (1 - s)
 * >> bits (s alternating on odd channels), clamped when `clamping`; output the subtracted
 * signal, at least input * min_signal_remaining >> bits. noise may not alias state. */
void utc_signal_spectral_subtraction_u32(const uint32_t *input, const uint32_t *state,
                                         uint32_t *output, uint32_t *noise, int32_t size,
                                         int32_t smoothing, int32_t one_minus_smoothing,
                                         int32_t alternate_smoothing,
                                         int32_t alternate_one_minus_smoothing,
                                         int32_t smoothing_bits, int32_t min_signal_remaining,
                                         int32_t spectral_subtraction_bits, int32_t clamping);

/* Framer with prefill, per outer row: the stream is the row's history (frame_size -
 * frame_step samples) then its input; frame f is stream[f * step .. f * step + size);
 * the new history is the stream's last size - step samples; *valid = true. */
void utc_signal_framer_s16(const int16_t *input, const int16_t *history_in, int16_t *output,
                           bool *valid, int16_t *history_out, int32_t outer, int32_t inner,
                           int32_t frame_size, int32_t frame_step);

/* Inverse real FFT of every row (fft_length / 2 + 1 complex values in, fft_length samples
 * out), kissfft v130's kiss_fftri: the split into the fft_length / 2 complex values, then
 * the inverse complex FFT; float32 results divided by fft_length. scratch: fft_length
 * elements. */
void utc_signal_irfft_s16(const int16_t *input, int16_t *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const int16_t *twiddles,
                          const int16_t *super_twiddles);
void utc_signal_irfft_s32(const int32_t *input, int32_t *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const int32_t *twiddles,
                          const int32_t *super_twiddles);
void utc_signal_irfft_f32(const float *input, float *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const float *twiddles,
                          const float *super_twiddles);

/* Per row: the stream is the held delay_length samples then the row's frame_size
 * samples; output = its first frame_size, the new held samples its last delay_length.
 * With delay_length 0 the held pointers are NULL and the output is the input. */
void utc_signal_delay_s16(const int16_t *input, const int16_t *held_in, int16_t *output,
                          int16_t *held_out, int32_t rows, int32_t frame_size,
                          int32_t delay_length);

/* Per outer row, for each of its frames: buffer += frame (int16 saturating), out the
 * buffer's first frame_step values, shift the buffer left by frame_step, zeros in. The
 * buffer starts as state_in and ends in state_out. */
void utc_signal_overlap_add_s16(const int16_t *input, const int16_t *state_in, int16_t *output,
                                int16_t *state_out, int32_t rows, int32_t frames,
                                int32_t frame_size, int32_t frame_step);
void utc_signal_overlap_add_f32(const float *input, const float *state_in, float *output,
                                float *state_out, int32_t rows, int32_t frames,
                                int32_t frame_size, int32_t frame_step);

/* Stacker: held (count_in[0] samples, oldest first) gets the input's num_channels values,
 * and on the first frame (count_in[1] == 0) left_context more copies of them; when it
 * holds size = num_channels * (left + right + 1) values, output = those, the oldest
 * num_channels * step are dropped and *valid = true; else output = zeros, *valid = false. */
void utc_signal_stacker_s16(const int16_t *input, const int16_t *held_in, const int32_t *count_in,
                            int16_t *output, bool *valid, int16_t *held_out, int32_t *count_out,
                            int32_t num_channels, int32_t left_context, int32_t right_context,
                            int32_t step);

#ifdef __cplusplus
}
#endif

#endif /* UTC_SIGNAL_H */
