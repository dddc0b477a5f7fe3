#include "utc_signal.h"

#include <string.h>

namespace {

/* Bit length of x; 32 for 0, as GCC's build of TFLite Micro computes it (32 - clz, with
 * clz(0) taken as 0). */
uint32_t msb32(uint32_t x) {
  if (x == 0) return 32;
  uint32_t n = 0;
  while (x) {
    x >>= 1;
    ++n;
  }
  return n;
}

uint32_t msb64(uint64_t x) {
  if (x == 0) return 64;
  uint32_t n = 0;
  while (x) {
    x >>= 1;
    ++n;
  }
  return n;
}

/* Digit-by-digit square root, rounded up when the remainder exceeds the root. */
uint16_t sqrt32(uint32_t num) {
  if (num == 0) return 0;
  uint32_t res = 0;
  int top = (32 - (int)msb32(num)) | 1;
  uint32_t bit = 1u << (31 - top);
  int steps = (31 - top) / 2 + 1;
  while (steps--) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != 0xFFFF) ++res;
  return (uint16_t)res;
}

uint32_t sqrt64(uint64_t num) {
  if ((num >> 32) == 0) return sqrt32((uint32_t)num);
  uint64_t res = 0;
  int top = (64 - (int)msb64(num)) | 1;
  uint64_t bit = (uint64_t)1 << (63 - top);
  int steps = (63 - top) / 2 + 1;
  while (steps--) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != 0xFFFFFFFFull) ++res;
  return (uint32_t)res;
}

/* ---- kissfft v130, one element type at a time ------------------------------------------ */

/* kissfft's arithmetic per element type: fixed point int16 (products int32, 15 fraction
 * bits) or int32 (int64, 31), sums wrapping in the scalar type as kissfft's stores into
 * it do; float32 with each product rounded (no fused multiply-add). */
struct Fixed16 {
  typedef int16_t T;
  static T round(int32_t x) { return (T)((x + (1 << 14)) >> 15); }
  static void cmul(T &mr, T &mi, T ar, T ai, T br, T bi) {
    mr = round((int32_t)ar * br - (int32_t)ai * bi);
    mi = round((int32_t)ar * bi + (int32_t)ai * br);
  }
  static T mul(T a, T b) { return round((int32_t)a * b); }
  static T div(T x, int k) { return round((int32_t)x * (32767 / k)); }
  static T add(T a, T b) { return (T)(int32_t)(a + b); }
  static T sub(T a, T b) { return (T)(int32_t)(a - b); }
  static T half(T x) { return (T)(x >> 1); }
  static T half_sum(T a, T b) { return (T)(((int32_t)a + b) >> 1); }
  static T half_diff(T a, T b) { return (T)(((int32_t)a - b) >> 1); }
  static T neg(T a) { return (T)(int32_t)(-a); }
  static T scale_out(T x, int32_t) { return x; }
  static const bool kFixed = true;
};

struct Fixed32 {
  typedef int32_t T;
  static T round(int64_t x) { return (T)(uint32_t)(uint64_t)((x + (1 << 30)) >> 31); }
  static void cmul(T &mr, T &mi, T ar, T ai, T br, T bi) {
    mr = round((int64_t)ar * br - (int64_t)ai * bi);
    mi = round((int64_t)ar * bi + (int64_t)ai * br);
  }
  static T mul(T a, T b) { return round((int64_t)a * b); }
  static T div(T x, int k) { return round((int64_t)x * (2147483647 / k)); }
  static T add(T a, T b) { return (T)((uint32_t)a + (uint32_t)b); }
  static T sub(T a, T b) { return (T)((uint32_t)a - (uint32_t)b); }
  static T half(T x) { return (T)(x >> 1); }
  static T half_sum(T a, T b) { return (T)((int32_t)((uint32_t)a + (uint32_t)b) >> 1); }
  static T half_diff(T a, T b) { return (T)((int32_t)((uint32_t)a - (uint32_t)b) >> 1); }
  static T neg(T a) { return (T)(0u - (uint32_t)a); }
  static T scale_out(T x, int32_t) { return x; }
  static const bool kFixed = true;
};

struct Float32 {
  typedef float T;
  static void cmul(T &mr, T &mi, T ar, T ai, T br, T bi) {
    T rr = ar * br, ii = ai * bi, ri = ar * bi, ir = ai * br;
    mr = rr - ii;
    mi = ri + ir;
  }
  static T mul(T a, T b) { return a * b; }
  static T div(T x, int) { return x; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T half(T x) { return x * 0.5f; }
  static T half_sum(T a, T b) { return (a + b) * 0.5f; }
  static T half_diff(T a, T b) { return (a - b) * 0.5f; }
  static T neg(T a) { return -a; }
  /* TFLite Micro's float IRFFT divides by the real FFT length afterwards. */
  static T scale_out(T x, int32_t n) { return x / (float)n; }
  static const bool kFixed = false;
};

template <typename A>
struct Fft {
  typedef typename A::T T;
  const int32_t *factors;
  const T *tw;  // twiddles of the complex FFT, interleaved
  int32_t nfft;
  bool inverse;

  static void fixdiv(T *c, int k) {
    if (A::kFixed) {
      c[0] = A::div(c[0], k);
      c[1] = A::div(c[1], k);
    }
  }

  /* radix-2 butterflies over m pairs (Fout[k], Fout[k + m]) */
  void bfly2(T *out, int32_t fstride, int32_t m) const {
    const T *t1 = tw;
    T *a = out, *b = out + 2 * m;
    for (int32_t k = 0; k < m; ++k, a += 2, b += 2, t1 += 2 * fstride) {
      fixdiv(a, 2);
      fixdiv(b, 2);
      T tr, ti;
      A::cmul(tr, ti, b[0], b[1], t1[0], t1[1]);
      b[0] = A::sub(a[0], tr);
      b[1] = A::sub(a[1], ti);
      a[0] = A::add(a[0], tr);
      a[1] = A::add(a[1], ti);
    }
  }

  void bfly4(T *out, int32_t fstride, int32_t m) const {
    const T *t1 = tw, *t2 = tw, *t3 = tw;
    for (int32_t k = 0; k < m; ++k) {
      T *f0 = out + 2 * k, *f1 = f0 + 2 * m, *f2 = f0 + 4 * m, *f3 = f0 + 6 * m;
      fixdiv(f0, 4);
      fixdiv(f1, 4);
      fixdiv(f2, 4);
      fixdiv(f3, 4);
      T s0r, s0i, s1r, s1i, s2r, s2i;
      A::cmul(s0r, s0i, f1[0], f1[1], t1[0], t1[1]);
      A::cmul(s1r, s1i, f2[0], f2[1], t2[0], t2[1]);
      A::cmul(s2r, s2i, f3[0], f3[1], t3[0], t3[1]);
      T s5r = A::sub(f0[0], s1r), s5i = A::sub(f0[1], s1i);
      f0[0] = A::add(f0[0], s1r);
      f0[1] = A::add(f0[1], s1i);
      T s3r = A::add(s0r, s2r), s3i = A::add(s0i, s2i);
      T s4r = A::sub(s0r, s2r), s4i = A::sub(s0i, s2i);
      f2[0] = A::sub(f0[0], s3r);
      f2[1] = A::sub(f0[1], s3i);
      t1 += 2 * fstride;
      t2 += 4 * fstride;
      t3 += 6 * fstride;
      f0[0] = A::add(f0[0], s3r);
      f0[1] = A::add(f0[1], s3i);
      if (inverse) {
        f1[0] = A::sub(s5r, s4i);
        f1[1] = A::add(s5i, s4r);
        f3[0] = A::add(s5r, s4i);
        f3[1] = A::sub(s5i, s4r);
      } else {
        f1[0] = A::add(s5r, s4i);
        f1[1] = A::sub(s5i, s4r);
        f3[0] = A::sub(s5r, s4i);
        f3[1] = A::add(s5i, s4r);
      }
    }
  }

  /* kissfft's kf_work: p decimated FFTs of length m, then the radix-p butterflies. */
  void work(T *out, const T *in, int32_t fstride, const int32_t *f) const {
    const int32_t p = f[0], m = f[1];
    T *const begin = out;
    T *const end = out + 2 * p * m;
    if (m == 1) {
      do {
        out[0] = in[0];
        out[1] = in[1];
        in += 2 * fstride;
        out += 2;
      } while (out != end);
    } else {
      do {
        work(out, in, fstride * p, f + 2);
        in += 2 * fstride;
        out += 2 * m;
      } while (out != end);
    }
    if (p == 2) {
      bfly2(begin, fstride, m);
    } else {
      bfly4(begin, fstride, m);
    }
  }
};

/* kiss_fftr: the ncfft-point complex FFT of the samples taken as (even, odd) pairs into
 * tmp, then the split into the ncfft + 1 bins of the real FFT. */
template <typename A>
void rfft(const typename A::T *input, typename A::T *output, typename A::T *scratch,
          int32_t rows, int32_t input_length, int32_t fft_length, const int32_t *factors,
          const typename A::T *twiddles, const typename A::T *supers) {
  typedef typename A::T T;
  const int32_t ncfft = fft_length / 2;
  T *work = scratch;
  T *tmp = scratch + fft_length;
  Fft<A> fft = {factors, twiddles, ncfft, false};
  for (int32_t row = 0; row < rows; ++row) {
    const T *x = input + (size_t)row * input_length;
    T *y = output + (size_t)row * (fft_length + 2);
    memcpy(work, x, sizeof(T) * (size_t)input_length);
    memset(work + input_length, 0, sizeof(T) * (size_t)(fft_length - input_length));
    fft.work(tmp, work, 1, factors);
    T dc[2] = {tmp[0], tmp[1]};
    Fft<A>::fixdiv(dc, 2);
    y[0] = A::add(dc[0], dc[1]);
    y[2 * ncfft] = A::sub(dc[0], dc[1]);
    y[1] = 0;
    y[2 * ncfft + 1] = 0;
    for (int32_t k = 1; k <= ncfft / 2; ++k) {
      T fpk[2] = {tmp[2 * k], tmp[2 * k + 1]};
      T fpnk[2] = {tmp[2 * (ncfft - k)], A::sub(0, tmp[2 * (ncfft - k) + 1])};
      Fft<A>::fixdiv(fpk, 2);
      Fft<A>::fixdiv(fpnk, 2);
      T f1r = A::add(fpk[0], fpnk[0]), f1i = A::add(fpk[1], fpnk[1]);
      T f2r = A::sub(fpk[0], fpnk[0]), f2i = A::sub(fpk[1], fpnk[1]);
      T twr, twi;
      A::cmul(twr, twi, f2r, f2i, supers[2 * (k - 1)], supers[2 * (k - 1) + 1]);
      y[2 * k] = A::half_sum(f1r, twr);
      y[2 * k + 1] = A::half_sum(f1i, twi);
      y[2 * (ncfft - k)] = A::half_diff(f1r, twr);
      y[2 * (ncfft - k) + 1] = A::half_diff(twi, f1i);
    }
  }
}

/* kiss_fftri: the ncfft + 1 bins folded into ncfft complex values in tmp, then the inverse
 * complex FFT straight into the output row. */
template <typename A>
void irfft(const typename A::T *input, typename A::T *output, typename A::T *tmp, int32_t rows,
           int32_t fft_length, const int32_t *factors, const typename A::T *twiddles,
           const typename A::T *supers) {
  typedef typename A::T T;
  const int32_t ncfft = fft_length / 2;
  Fft<A> fft = {factors, twiddles, ncfft, true};
  for (int32_t row = 0; row < rows; ++row) {
    const T *f = input + (size_t)row * (fft_length + 2);
    T *y = output + (size_t)row * fft_length;
    tmp[0] = A::add(f[0], f[2 * ncfft]);
    tmp[1] = A::sub(f[0], f[2 * ncfft]);
    Fft<A>::fixdiv(tmp, 2);
    for (int32_t k = 1; k <= ncfft / 2; ++k) {
      T fk[2] = {f[2 * k], f[2 * k + 1]};
      T fnkc[2] = {f[2 * (ncfft - k)], A::neg(f[2 * (ncfft - k) + 1])};
      Fft<A>::fixdiv(fk, 2);
      Fft<A>::fixdiv(fnkc, 2);
      T fer = A::add(fk[0], fnkc[0]), fei = A::add(fk[1], fnkc[1]);
      T dr = A::sub(fk[0], fnkc[0]), di = A::sub(fk[1], fnkc[1]);
      T fr, fi;
      A::cmul(fr, fi, dr, di, supers[2 * (k - 1)], supers[2 * (k - 1) + 1]);
      tmp[2 * k] = A::add(fer, fr);
      tmp[2 * k + 1] = A::add(fei, fi);
      tmp[2 * (ncfft - k)] = A::sub(fer, fr);
      tmp[2 * (ncfft - k) + 1] = A::neg(A::sub(fei, fi));
    }
    fft.work(y, tmp, 1, factors);
    for (int32_t i = 0; i < fft_length; ++i) y[i] = A::scale_out(y[i], fft_length);
  }
}

template <typename T>
T overlap_sum(T a, T b);
template <>
int16_t overlap_sum<int16_t>(int16_t a, int16_t b) {
  const int32_t v = (int32_t)a + b;
  return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}
template <>
float overlap_sum<float>(float a, float b) {
  return b + a;
}

template <typename T>
void overlap_add(const T *input, const T *state_in, T *output, T *state_out, int32_t rows,
                 int32_t frames, int32_t frame_size, int32_t frame_step) {
  for (int32_t r = 0; r < rows; ++r) {
    T *buf = state_out + (size_t)r * frame_size;
    memcpy(buf, state_in + (size_t)r * frame_size, sizeof(T) * (size_t)frame_size);
    for (int32_t f = 0; f < frames; ++f) {
      const T *x = input + ((size_t)r * frames + f) * frame_size;
      T *y = output + ((size_t)r * frames + f) * frame_step;
      for (int32_t i = 0; i < frame_size; ++i) buf[i] = overlap_sum<T>(x[i], buf[i]);
      memcpy(y, buf, sizeof(T) * (size_t)frame_step);
      memmove(buf, buf + frame_step, sizeof(T) * (size_t)(frame_size - frame_step));
      memset(buf + frame_size - frame_step, 0, sizeof(T) * (size_t)frame_step);
    }
  }
}

/* kLogLut of TFLite Micro's log.cc: log2(1 + x) - x on 128 segments, scaled by 2^16. */
const uint16_t kLogTable[130] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490,
    2646, 2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272,
    4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280,
    5326, 5368, 5408, 5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637,
    5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439,
    5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762,
    4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668,
    3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207,
    2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963,  830,  695,  559,  421,
    282,  142,  0,    0};

/* log(x) * out_scale / 2^16 in fixed point: integer part from the bit length, fraction
 * from the table by linear interpolation, times ln 2 (45426 / 2^16), rounded. */
uint32_t log32(uint32_t x, uint32_t out_scale) {
  const uint32_t integer = msb32(x) - 1;
  int32_t frac = (int32_t)(x - (uint32_t)(1ull << integer));
  if (integer < 16) {
    frac = (int32_t)((uint32_t)frac << (16 - integer));
  } else {
    frac >>= integer - 16;
  }
  const uint32_t seg = (uint32_t)frac >> 9;
  const int32_t c0 = kLogTable[seg];
  const int32_t c1 = kLogTable[seg + 1];
  const int32_t rel = ((c1 - c0) * (frac - (int32_t)(512 * seg))) >> 16;
  const uint32_t fraction = (uint32_t)(frac + c0 + rel);
  const uint32_t log2 = (integer << 16) + fraction;
  const uint32_t loge = (uint32_t)((45426ull * log2 + 32768u) >> 16);
  return (out_scale * loge + 32768u) >> 16;
}

int16_t wide_dynamic(uint32_t x, const int16_t *lut) {
  if (x <= 2) return lut[x];
  const int16_t interval = (int16_t)msb32(x);
  lut += 4 * interval - 6;
  const int16_t frac =
      (int16_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
  int32_t r = ((int32_t)lut[2] * frac) >> 5;
  r += (int32_t)((uint32_t)lut[1] << 5);
  r *= frac;
  r = (r + (1 << 14)) >> 15;
  r += lut[0];
  return (int16_t)r;
}

uint32_t pcan_shrink(uint32_t x) {
  if (x < (2u << 12)) return (x * x) >> (2 + 2 * 12 - 6);
  return (x >> (12 - 6)) - (1u << 6);
}

}  // namespace

extern "C" {

void utc_signal_window_s16(const int16_t *input, const int16_t *weights, int16_t *output,
                           int32_t size, int32_t window_size, int32_t shift) {
  for (int32_t base = 0; base < size; base += window_size) {
    for (int32_t i = 0; i < window_size; ++i) {
      int32_t v = ((int32_t)input[base + i] * weights[i]) >> shift;
      output[base + i] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
    }
  }
}

void utc_signal_fft_auto_scale_s16(const int16_t *input, int16_t *output, int32_t *scale_bit,
                                   int32_t size) {
  int16_t max = 0;
  for (int32_t i = 0; i < size; ++i) {
    const int16_t v = input[i];
    if (v > max) {
      max = v;
    } else if ((int16_t)-v > max) {
      max = (int16_t)-v;
    }
  }
  int32_t scale = 16 - (int32_t)msb32((uint32_t)(int32_t)max) - 1;
  if (scale < 0) scale = 0;
  for (int32_t i = 0; i < size; ++i) output[i] = (int16_t)(input[i] * (1 << scale));
  *scale_bit = scale;
}

void utc_signal_rfft_s16(const int16_t *input, int16_t *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const int16_t *twiddles,
                         const int16_t *super_twiddles) {
  rfft<Fixed16>(input, output, static_cast<int16_t *>(scratch), rows, input_length, fft_length, factors, twiddles,
                super_twiddles);
}

void utc_signal_rfft_s32(const int32_t *input, int32_t *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const int32_t *twiddles,
                         const int32_t *super_twiddles) {
  rfft<Fixed32>(input, output, static_cast<int32_t *>(scratch), rows, input_length, fft_length, factors, twiddles,
                super_twiddles);
}

void utc_signal_rfft_f32(const float *input, float *output, void *scratch,
                         int32_t rows, int32_t input_length, int32_t fft_length,
                         const int32_t *factors, const float *twiddles,
                         const float *super_twiddles) {
  rfft<Float32>(input, output, static_cast<float *>(scratch), rows, input_length, fft_length, factors, twiddles,
                super_twiddles);
}

void utc_signal_energy_u32(const int16_t *input, uint32_t *output, int32_t size,
                           int32_t start_index, int32_t end_index) {
  for (int32_t i = 0; i < size; ++i) {
    if (i < start_index || i >= end_index) {
      output[i] = 0;
      continue;
    }
    const int32_t re = input[2 * i], im = input[2 * i + 1];
    output[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
  }
}

void utc_signal_filter_bank_u64(const uint32_t *input, const int16_t *weights,
                                const int16_t *unweights, const int16_t *frequency_starts,
                                const int16_t *weight_starts, const int16_t *widths,
                                uint64_t *output, int32_t num_channels) {
  uint64_t weighted = 0, unweighted = 0;
  for (int32_t c = 0; c <= num_channels; ++c) {
    const int32_t fs = frequency_starts[c], ws = weight_starts[c];
    for (int32_t j = 0; j < widths[c]; ++j) {
      weighted += (uint64_t)(int64_t)weights[ws + j] * input[fs + j];
      unweighted += (uint64_t)(int64_t)unweights[ws + j] * input[fs + j];
    }
    if (c > 0) output[c - 1] = weighted;
    weighted = unweighted;
    unweighted = 0;
  }
}

void utc_signal_filter_bank_square_root_u32(const uint64_t *input, const int32_t *scale_bits,
                                            uint32_t *output, int32_t size) {
  const int32_t shift = *scale_bits;
  for (int32_t i = 0; i < size; ++i) output[i] = sqrt64(input[i]) >> shift;
}

void utc_signal_filter_bank_log_s16(const uint32_t *input, int16_t *output, int32_t size,
                                    int32_t output_scale, int32_t input_correction_bits) {
  for (int32_t i = 0; i < size; ++i) {
    const uint32_t scaled = input[i] << input_correction_bits;
    if (scaled > 1) {
      const uint32_t v = log32(scaled, (uint32_t)output_scale);
      output[i] = (int16_t)(v < 32767u ? v : 32767u);
    } else {
      output[i] = 0;
    }
  }
}

void utc_signal_pcan_u32(const uint32_t *input, const uint32_t *noise_estimate,
                         const int16_t *gain_lut, uint32_t *output, int32_t size,
                         int32_t snr_shift) {
  for (int32_t i = 0; i < size; ++i) {
    const uint32_t gain = (uint32_t)(int32_t)wide_dynamic(noise_estimate[i], gain_lut);
    const uint32_t snr = (uint32_t)(((uint64_t)input[i] * gain) >> snr_shift);
    output[i] = pcan_shrink(snr);
  }
}

void utc_signal_spectral_subtraction_u32(const uint32_t *input, const uint32_t *state,
                                         uint32_t *output, uint32_t *noise, int32_t size,
                                         int32_t smoothing, int32_t one_minus_smoothing,
                                         int32_t alternate_smoothing,
                                         int32_t alternate_one_minus_smoothing,
                                         int32_t smoothing_bits, int32_t min_signal_remaining,
                                         int32_t spectral_subtraction_bits, int32_t clamping) {
  for (int32_t i = 0; i < size; ++i) {
    const uint32_t s = (uint32_t)((i & 1) ? alternate_smoothing : smoothing);
    const uint32_t oms = (uint32_t)((i & 1) ? alternate_one_minus_smoothing : one_minus_smoothing);
    const uint32_t up = input[i] << smoothing_bits;
    uint32_t n = (uint32_t)(((uint64_t)up * s + (uint64_t)state[i] * oms) >>
                            spectral_subtraction_bits);
    uint32_t estimate = n;
    if (estimate > up) {
      estimate = up;
      if (clamping) n = estimate;
    }
    noise[i] = n;
    const uint32_t floor =
        (uint32_t)(((uint64_t)input[i] * (uint32_t)min_signal_remaining) >> spectral_subtraction_bits);
    const uint32_t subtracted = (up - estimate) >> smoothing_bits;
    output[i] = subtracted > floor ? subtracted : floor;
  }
}

void utc_signal_framer_s16(const int16_t *input, const int16_t *history_in, int16_t *output,
                           bool *valid, int16_t *history_out, int32_t outer, int32_t inner,
                           int32_t frame_size, int32_t frame_step) {
  const int32_t keep = frame_size - frame_step;
  const int32_t frames = inner / frame_step;
  for (int32_t r = 0; r < outer; ++r) {
    const int16_t *x = input + (size_t)r * inner;
    const int16_t *h = history_in + (size_t)r * keep;
    int16_t *y = output + (size_t)r * frames * frame_size;
    for (int32_t f = 0; f < frames; ++f) {
      for (int32_t j = 0; j < frame_size; ++j) {
        const int32_t t = f * frame_step + j;  // position in history ++ input
        y[f * frame_size + j] = t < keep ? h[t] : x[t - keep];
      }
    }
    int16_t *g = history_out + (size_t)r * keep;
    for (int32_t j = 0; j < keep; ++j) {
      const int32_t t = frames * frame_step + j;
      g[j] = t < keep ? h[t] : x[t - keep];
    }
  }
  *valid = true;
}

void utc_signal_irfft_s16(const int16_t *input, int16_t *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const int16_t *twiddles,
                          const int16_t *super_twiddles) {
  irfft<Fixed16>(input, output, static_cast<int16_t *>(scratch), rows, fft_length, factors,
                 twiddles, super_twiddles);
}

void utc_signal_irfft_s32(const int32_t *input, int32_t *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const int32_t *twiddles,
                          const int32_t *super_twiddles) {
  irfft<Fixed32>(input, output, static_cast<int32_t *>(scratch), rows, fft_length, factors,
                 twiddles, super_twiddles);
}

void utc_signal_irfft_f32(const float *input, float *output, void *scratch, int32_t rows,
                          int32_t fft_length, const int32_t *factors, const float *twiddles,
                          const float *super_twiddles) {
  irfft<Float32>(input, output, static_cast<float *>(scratch), rows, fft_length, factors,
                 twiddles, super_twiddles);
}

void utc_signal_delay_s16(const int16_t *input, const int16_t *held_in, int16_t *output,
                          int16_t *held_out, int32_t rows, int32_t frame_size,
                          int32_t delay_length) {
  for (int32_t r = 0; r < rows; ++r) {
    const int16_t *x = input + (size_t)r * frame_size;
    const int16_t *h = held_in ? held_in + (size_t)r * delay_length : 0;
    int16_t *y = output + (size_t)r * frame_size;
    for (int32_t i = 0; i < frame_size; ++i) {
      y[i] = i < delay_length ? h[i] : x[i - delay_length];
    }
    if (delay_length > 0) {
      int16_t *g = held_out + (size_t)r * delay_length;
      for (int32_t j = 0; j < delay_length; ++j) {
        const int32_t t = frame_size + j;  // position in held ++ input
        g[j] = t < delay_length ? h[t] : x[t - delay_length];
      }
    }
  }
}

void utc_signal_overlap_add_s16(const int16_t *input, const int16_t *state_in, int16_t *output,
                                int16_t *state_out, int32_t rows, int32_t frames,
                                int32_t frame_size, int32_t frame_step) {
  overlap_add<int16_t>(input, state_in, output, state_out, rows, frames, frame_size,
                       frame_step);
}

void utc_signal_overlap_add_f32(const float *input, const float *state_in, float *output,
                                float *state_out, int32_t rows, int32_t frames,
                                int32_t frame_size, int32_t frame_step) {
  overlap_add<float>(input, state_in, output, state_out, rows, frames, frame_size, frame_step);
}

void utc_signal_stacker_s16(const int16_t *input, const int16_t *held_in, const int32_t *count_in,
                            int16_t *output, bool *valid, int16_t *held_out, int32_t *count_out,
                            int32_t num_channels, int32_t left_context, int32_t right_context,
                            int32_t step) {
  const int32_t size = num_channels * (left_context + right_context + 1);
  int32_t count = count_in[0];
  int32_t first = count_in[1];
  memcpy(held_out, held_in, sizeof(int16_t) * (size_t)count);
  memcpy(held_out + count, input, sizeof(int16_t) * (size_t)num_channels);
  count += num_channels;
  if (!first) {
    for (int32_t k = 0; k < left_context; ++k) {
      memcpy(held_out + count, input, sizeof(int16_t) * (size_t)num_channels);
      count += num_channels;
    }
    first = 1;
  }
  if (count >= size) {
    const int32_t drop = num_channels * step;
    memcpy(output, held_out, sizeof(int16_t) * (size_t)size);
    memmove(held_out, held_out + drop, sizeof(int16_t) * (size_t)(count - drop));
    count -= drop;
    *valid = true;
  } else {
    memset(output, 0, sizeof(int16_t) * (size_t)size);
    *valid = false;
  }
  memset(held_out + count, 0, sizeof(int16_t) * (size_t)(size - count));
  count_out[0] = count;
  count_out[1] = first;
}

}  // extern "C"
