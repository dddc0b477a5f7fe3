#include "utc_elementwise_s32.h"

#include "utc_quant_ext.h"

namespace {

/* Two's-complement wrap of a uint32 result back to int32, without implementation-defined
 * conversion of an out-of-range value. */
inline int32_t wrap_s32(uint32_t v) {
  return v <= 0x7fffffffu ? static_cast<int32_t>(v)
                          : -static_cast<int32_t>(~v) - 1;
}

inline int32_t clamp_s32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

struct AddOp {
  int32_t lo, hi;
  int32_t operator()(int32_t a, int32_t b) const {
    return clamp_s32(wrap_s32(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)), lo, hi);
  }
};

struct SubOp {
  int32_t lo, hi;
  int32_t operator()(int32_t a, int32_t b) const {
    return clamp_s32(wrap_s32(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)), lo, hi);
  }
};

struct MulOp {
  int32_t lo, hi;
  int32_t operator()(int32_t a, int32_t b) const {
    return clamp_s32(wrap_s32(static_cast<uint32_t>(a) * static_cast<uint32_t>(b)), lo, hi);
  }
};

struct DivOp {
  int32_t lo, hi;
  int32_t operator()(int32_t a, int32_t b) const {
    int32_t q;
    if (b == 0) {
      q = 0;
    } else if (b == -1) {
      q = wrap_s32(0u - static_cast<uint32_t>(a));
    } else {
      q = a / b; /* C++11: truncation toward zero, as TFLM */
    }
    return clamp_s32(q, lo, hi);
  }
};

struct SquaredDifferenceOp {
  int32_t operator()(int32_t a, int32_t b) const {
    const uint32_t d = static_cast<uint32_t>(a) - static_cast<uint32_t>(b);
    return wrap_s32(d * d);
  }
};

/* MAXIMUM / MINIMUM of plain integers, int32 or int64 (TFLM's templated
 * MaximumMinimumBroadcastSlow compares the stored values). */
template <typename T>
struct MaximumOp {
  T operator()(T a, T b) const { return a > b ? a : b; }
};

template <typename T>
struct MinimumOp {
  T operator()(T a, T b) const { return a < b ? a : b; }
};

}  // namespace

extern "C" void utc_add_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, int32_t act_min, int32_t act_max) {
  const AddOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_sub_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, int32_t act_min, int32_t act_max) {
  const SubOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_mul_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, int32_t act_min, int32_t act_max) {
  const MulOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_div_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                            const int32_t *in1_shape, const int32_t *in2_shape,
                            const int32_t *out_shape, int32_t act_min, int32_t act_max) {
  const DivOp op = {act_min, act_max};
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, op);
}

extern "C" void utc_squared_difference_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                                           const int32_t *in1_shape, const int32_t *in2_shape,
                                           const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, SquaredDifferenceOp());
}

extern "C" void utc_maximum_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaximumOp<int32_t>());
}

extern "C" void utc_minimum_s32(const int32_t *in1, const int32_t *in2, int32_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinimumOp<int32_t>());
}

extern "C" void utc_maximum_s64(const int64_t *in1, const int64_t *in2, int64_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MaximumOp<int64_t>());
}

extern "C" void utc_minimum_s64(const int64_t *in1, const int64_t *in2, int64_t *out,
                                const int32_t *in1_shape, const int32_t *in2_shape,
                                const int32_t *out_shape) {
  utc_broadcast_binary6(in1, in2, out, in1_shape, in2_shape, out_shape, MinimumOp<int64_t>());
}
