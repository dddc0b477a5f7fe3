/* utc_kernel_util.h: helpers shared by the int8 compute kernels (convolution, depthwise
 * convolution, fully connected): wrapping-sum conversion, window clamping, the buffer
 * overlap test, the chunked dot products and sums of the inner loops, requantizing a
 * pixel. (What the two int8 convolutions alone share, their parameters, the bands of
 * output rows and TFLM's reference loop, is in utc_conv_s8.cpp.)
 *
 * Internal to the runtime, C++ only: for the kernel .cpp files, no part of the API of
 * generated code. (The generated model.cpp includes every header its kernels list in
 * codegen/kernels.py, this one too; nothing here emits code unless it is used.)
 * Functions are static in namespace utc_detail, so each kernel gets its own copy, as when
 * they were local to it, and the compiler keeps inlining and specializing them per kernel.
 *
 * Access order (the contract in each convolution's header, relied on by the
 * overlap-buffers pass): Bands (utc_conv_s8.cpp) yields output rows in increasing order and, whenever
 * output and input overlap, one output row at a time; requantize writes one pixel's
 * channels; dot and sum only read. No helper restrict-qualifies a kernel's input against
 * its output. */
#ifndef UTC_KERNEL_UTIL_H
#define UTC_KERNEL_UTIL_H

#include "utc_quant.h"
#include "utc_runtime.h"

#ifdef __cplusplus

#include <string.h>
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Arm's DSP extension (Cortex-M4/M7/M33/M55): SXTB16 sign-extends bytes 0 and 2 of a word
 * into two int16 lanes, SMLAD adds both lanes' products to an accumulator. Four int8 taps
 * cost two of each per filter row instead of four loads, extends and multiply-adds. The
 * products are exact and SMLAD's sum wraps modulo 2^32 like the uint32_t accumulators
 * below, so the result is the same integer (bit-exact with the portable loop). */
#include <arm_acle.h>
#define UTC_DSP 1
#endif

namespace utc_detail {

const int32_t kChunk = 16;  // innermost fixed-length chunk of dot and sum

#ifdef UTC_DSP
/* Bytes 1 and 3 of v sign-extended into two int16 lanes: SXTB16 with its own rotation
 * (GCC does not fold a separate rotate into it, and arm_acle.h has no form with one). */
static UTC_INLINE int32_t sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

static UTC_INLINE uint32_t load4(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);  /* one unaligned LDR on Armv7-M and later */
  return v;
}

/* Four int8 x[0..3] as two int16-lane words, lanes (0, 2) and (1, 3); kSubZp: minus zz
 * (the zero point in both lanes; |x - zp| <= 255 fits int16, the lanes do not carry). */
template <bool kSubZp>
static UTC_INLINE void expand4(const int8_t *x, uint32_t zz, int32_t *x02, int32_t *x13) {
  const uint32_t v = load4(x);
  int32_t a = (int32_t)__sxtb16(v), b = sxtb16_ror8(v);
  if (kSubZp) {
    a = (int32_t)__ssub16(a, zz);
    b = (int32_t)__ssub16(b, zz);
  }
  *x02 = a;
  *x13 = b;
}

/* acc += x[0..3] . w[0..3] with x already split into its (0, 2) and (1, 3) lanes. */
static UTC_INLINE uint32_t smlad4(int32_t x02, int32_t x13, const int8_t *w, uint32_t acc) {
  const uint32_t wv = load4(w);
  int32_t a = (int32_t)acc;
  a = __smlad(x02, (int32_t)__sxtb16(wv), a);
  a = __smlad(x13, sxtb16_ror8(wv), a);
  return (uint32_t)a;
}
#endif

static UTC_INLINE int32_t to_int32(uint32_t u) {
  /* The two's-complement value of u without implementation-defined conversion;
   * compilers emit no instruction for it. */
  return u <= 0x7fffffffu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7fffffff - 1;
}

/* Taps [lo, hi) of a window starting at i0 (step dil, k taps) inside [0, size). */
static UTC_INLINE void window(int32_t i0, int32_t dil, int32_t k, int32_t size, int32_t *lo,
                              int32_t *hi) {
  int32_t a = 0, b = k;
  while (a < b && i0 + dil * a < 0) ++a;
  while (b > a && i0 + dil * (b - 1) >= size) --b;
  *lo = a;
  *hi = b;
}

/* Whether [a, a + a_size) and [b, b + b_size) share no byte, addresses compared as
 * uintptr_t (see Bands). */
static UTC_INLINE bool disjoint(const int8_t *a, int32_t a_size, const int8_t *b,
                                int32_t b_size) {
  const uintptr_t a0 = (uintptr_t)a, a1 = (uintptr_t)(a + a_size);
  const uintptr_t b0 = (uintptr_t)b, b1 = (uintptr_t)(b + b_size);
  return a1 <= b0 || b1 <= a0;
}

/* acc[j] += sum_{t < n} x[t] * w[j * w_stride + t] for j < NB (kSubZp: (x[t] - zp)), in
 * wrapping uint32_t arithmetic, over fixed 16- and 8-element chunks the compiler can
 * unroll or vectorize (kSubZp needs an int8 zp: (x - zp) then fits int16).
 * Only reads memory (acc is the caller's local array), so restrict is sound even when the
 * caller's output overlaps the input. */
template <int NB, bool kSubZp>
static inline void dot(const int8_t *UTC_RESTRICT x, const int8_t *UTC_RESTRICT w,
                       int32_t w_stride, int32_t n, int32_t zp, uint32_t *UTC_RESTRICT acc) {
  const int8_t *UTC_RESTRICT w0 = w;
  const int8_t *UTC_RESTRICT w1 = w + (NB > 1 ? w_stride : 0);
  const int8_t *UTC_RESTRICT w2 = w + (NB > 2 ? 2 * w_stride : 0);
  const int8_t *UTC_RESTRICT w3 = w + (NB > 3 ? 3 * w_stride : 0);
  const int16_t z = (int16_t)zp;
  uint32_t a0 = acc[0], a1 = NB > 1 ? acc[1] : 0, a2 = NB > 2 ? acc[2] : 0,
           a3 = NB > 3 ? acc[3] : 0;
  int32_t t = 0;
#ifdef UTC_DSP
  {
    const uint32_t zz = kSubZp ? (uint32_t)(uint16_t)z * 0x10001u : 0u;
    for (; t + 4 <= n; t += 4) {
      int32_t x02, x13;
      expand4<kSubZp>(x + t, zz, &x02, &x13);
      a0 = smlad4(x02, x13, w0 + t, a0);
      if (NB > 1) a1 = smlad4(x02, x13, w1 + t, a1);
      if (NB > 2) a2 = smlad4(x02, x13, w2 + t, a2);
      if (NB > 3) a3 = smlad4(x02, x13, w3 + t, a3);
    }
  }
#endif
  for (; t + kChunk <= n; t += kChunk) {
    for (int32_t k = 0; k < kChunk; ++k) {
      const int32_t xv = kSubZp ? (int32_t)(int16_t)(x[t + k] - z) : (int32_t)x[t + k];
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
  }
  if (t + kChunk / 2 <= n) {
    for (int32_t k = 0; k < kChunk / 2; ++k) {
      const int32_t xv = kSubZp ? (int32_t)(int16_t)(x[t + k] - z) : (int32_t)x[t + k];
      a0 += (uint32_t)(xv * w0[t + k]);
      if (NB > 1) a1 += (uint32_t)(xv * w1[t + k]);
      if (NB > 2) a2 += (uint32_t)(xv * w2[t + k]);
      if (NB > 3) a3 += (uint32_t)(xv * w3[t + k]);
    }
    t += kChunk / 2;
  }
  for (; t < n; ++t) {
    const int32_t xv = kSubZp ? (int32_t)x[t] - zp : (int32_t)x[t];
    a0 += (uint32_t)(xv * w0[t]);
    if (NB > 1) a1 += (uint32_t)(xv * w1[t]);
    if (NB > 2) a2 += (uint32_t)(xv * w2[t]);
    if (NB > 3) a3 += (uint32_t)(xv * w3[t]);
  }
  acc[0] = a0;
  if (NB > 1) acc[1] = a1;
  if (NB > 2) acc[2] = a2;
  if (NB > 3) acc[3] = a3;
}

/* sum_{t < n} w[t] in wrapping uint32_t arithmetic, chunked like dot. */
static inline uint32_t sum(const int8_t *UTC_RESTRICT w, int32_t n) {
  uint32_t s = 0;
  int32_t t = 0;
  for (; t + kChunk <= n; t += kChunk)
    for (int32_t k = 0; k < kChunk; ++k) s += (uint32_t)(int32_t)w[t + k];
  for (; t < n; ++t) s += (uint32_t)(int32_t)w[t];
  return s;
}

/* How many outputs o in [o0, o1) have their whole window (k taps, step dil, starting at
 * o * stride - pad) inside [0, size). */
static UTC_INLINE int32_t interior_count(int32_t o0, int32_t o1, int32_t stride, int32_t pad,
                                         int32_t dil, int32_t k, int32_t size) {
  int32_t n = 0;
  for (int32_t o = o0; o < o1; ++o) {
    int32_t lo, hi;
    window(o * stride - pad, dil, k, size, &lo, &hi);
    if (lo == 0 && hi == k) ++n;
  }
  return n;
}

/* o[j] = acc[j] requantized (utc_multiply_by_quantized_multiplier by mult[j], shift[j]),
 * plus output_zp, clamped to [act_min, act_max], for j < NB. */
template <int NB>
static UTC_INLINE void requantize(int8_t *o, const uint32_t *acc, const int32_t *mult,
                                  const int32_t *shift, int32_t output_zp, int32_t act_min,
                                  int32_t act_max) {
  for (int32_t j = 0; j < NB; ++j) {
    const int32_t v =
        utc_multiply_by_quantized_multiplier(to_int32(acc[j]), mult[j], shift[j]) + output_zp;
    o[j] = (int8_t)utc_clamp(v, act_min, act_max);
  }
}

}  // namespace utc_detail

#endif /* __cplusplus */

#endif /* UTC_KERNEL_UTIL_H */
