#include "utc_compare.h"

#include <string.h>

#include "utc_quant.h"
#include "utc_quant_ext.h"

namespace {

enum Predicate { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

/* The raw values (int32, int64, float32, bool). */
struct Identity {
  template <typename T>
  UTC_INLINE T first(T v) const { return v; }
  template <typename T>
  UTC_INLINE T second(T v) const { return v; }
};

/* TFLite's int8 comparison rescaling of each input. */
struct Rescale {
  int32_t in1_zp, in2_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift;
  UTC_INLINE int32_t first(int8_t v) const {
    const int32_t shifted = (int32_t)((uint32_t)((int32_t)v - in1_zp) << left_shift);
    return utc_multiply_by_quantized_multiplier(shifted, in1_mult, in1_shift);
  }
  UTC_INLINE int32_t second(int8_t v) const {
    const int32_t shifted = (int32_t)((uint32_t)((int32_t)v - in2_zp) << left_shift);
    return utc_multiply_by_quantized_multiplier(shifted, in2_mult, in2_shift);
  }
};

template <Predicate kPredicate, typename Pre>
struct CompareOp {
  Pre pre;
  template <typename T>
  UTC_INLINE bool operator()(T a, T b) const {
    const auto x = pre.first(a);
    const auto y = pre.second(b);
    switch (kPredicate) {
      case kEqual: return x == y;
      case kNotEqual: return x != y;
      case kLess: return x < y;
      case kLessEqual: return x <= y;
      case kGreater: return x > y;
      default: return x >= y;
    }
  }
};

template <typename T, typename Pre>
void compare(const T *in1, const T *in2, bool *out, const int32_t *s1, const int32_t *s2,
             const int32_t *so, int32_t predicate, const Pre &pre) {
  switch (predicate) {
    case kEqual:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kEqual, Pre>{pre});
      break;
    case kNotEqual:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kNotEqual, Pre>{pre});
      break;
    case kLess:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kLess, Pre>{pre});
      break;
    case kLessEqual:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kLessEqual, Pre>{pre});
      break;
    case kGreater:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kGreater, Pre>{pre});
      break;
    default:
      utc_broadcast_binary6(in1, in2, out, s1, s2, so, CompareOp<kGreaterEqual, Pre>{pre});
      break;
  }
}

struct AndOp {
  UTC_INLINE bool operator()(bool a, bool b) const { return a && b; }
};

struct OrOp {
  UTC_INLINE bool operator()(bool a, bool b) const { return a || b; }
};

}  // namespace

extern "C" {

void utc_compare_s8_bool(const int8_t *in1, const int8_t *in2, bool *out,
                         const int32_t *in1_shape, const int32_t *in2_shape,
                         const int32_t *out_shape, int32_t predicate, int32_t in1_zp,
                         int32_t in2_zp, int32_t left_shift, int32_t in1_mult,
                         int32_t in1_shift, int32_t in2_mult, int32_t in2_shift) {
  const Rescale pre = {in1_zp, in2_zp, left_shift, in1_mult, in1_shift, in2_mult, in2_shift};
  compare(in1, in2, out, in1_shape, in2_shape, out_shape, predicate, pre);
}

void utc_compare_s32_bool(const int32_t *in1, const int32_t *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate) {
  compare(in1, in2, out, in1_shape, in2_shape, out_shape, predicate, Identity());
}

void utc_compare_s64_bool(const int64_t *in1, const int64_t *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate) {
  compare(in1, in2, out, in1_shape, in2_shape, out_shape, predicate, Identity());
}

void utc_compare_f32_bool(const float *in1, const float *in2, bool *out,
                          const int32_t *in1_shape, const int32_t *in2_shape,
                          const int32_t *out_shape, int32_t predicate) {
  compare(in1, in2, out, in1_shape, in2_shape, out_shape, predicate, Identity());
}

void utc_compare_bool(const bool *in1, const bool *in2, bool *out, const int32_t *in1_shape,
                      const int32_t *in2_shape, const int32_t *out_shape, int32_t predicate) {
  compare(in1, in2, out, in1_shape, in2_shape, out_shape, predicate, Identity());
}

void utc_logical_bool(const bool *in1, const bool *in2, bool *out, const int32_t *in1_shape,
                      const int32_t *in2_shape, const int32_t *out_shape, int32_t is_or) {
  if (is_or) {
    utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, OrOp());
  } else {
    utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, AndOp());
  }
}

void utc_logical_not_bool(const bool *input, bool *output, int32_t size) {
  for (int32_t i = 0; i < size; ++i) output[i] = !input[i];
}

void utc_select(const bool *condition, const void *x, const void *y, void *output,
                const int32_t *cond_shape, const int32_t *x_shape, const int32_t *y_shape,
                const int32_t *out_shape, int32_t elem_size) {
  /* element strides of each operand, 0 along its broadcast dimensions */
  ptrdiff_t sc[6], sx[6], sy[6];
  ptrdiff_t pc = 1, px = 1, py = 1;
  for (int k = 5; k >= 0; --k) {
    if (out_shape[k] == 0) return;
    sc[k] = cond_shape[k] == 1 ? 0 : pc;
    sx[k] = x_shape[k] == 1 ? 0 : px;
    sy[k] = y_shape[k] == 1 ? 0 : py;
    pc *= cond_shape[k];
    px *= x_shape[k];
    py *= y_shape[k];
  }
  const uint8_t *xb = static_cast<const uint8_t *>(x);
  const uint8_t *yb = static_cast<const uint8_t *>(y);
  uint8_t *out = static_cast<uint8_t *>(output);
  const size_t n = (size_t)elem_size;
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  ptrdiff_t total = 1;
  for (int k = 0; k < 6; ++k) total *= out_shape[k];
  for (ptrdiff_t i = 0; i < total; ++i) {
    ptrdiff_t oc = 0, ox = 0, oy = 0;
    for (int k = 0; k < 6; ++k) {
      oc += idx[k] * sc[k];
      ox += idx[k] * sx[k];
      oy += idx[k] * sy[k];
    }
    memmove(out, condition[oc] ? xb + (size_t)ox * n : yb + (size_t)oy * n, n);
    out += n;
    for (int k = 5; k >= 0; --k) {
      if (++idx[k] < out_shape[k]) break;
      idx[k] = 0;
    }
  }
}

}  // extern "C"
