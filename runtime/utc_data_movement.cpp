#include "utc_data_movement.h"

#include <string.h>

namespace {

const int kDims = 6;

/* Copies `count` runs of kBytes bytes, the k-th from src + off + k * stride, to dst
 * (sequentially). A constant size turns each memcpy into a single load and store. */
template <size_t kBytes>
void copy_runs_fixed(uint8_t *UTC_RESTRICT dst, const uint8_t *UTC_RESTRICT src, ptrdiff_t off,
                     ptrdiff_t stride, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    memcpy(dst, src + off, kBytes);
    dst += kBytes;
    off += stride;
  }
}

void copy_runs(uint8_t *UTC_RESTRICT dst, const uint8_t *UTC_RESTRICT src, ptrdiff_t off,
               ptrdiff_t stride, int32_t count, size_t run) {
  switch (run) {
    case 1: copy_runs_fixed<1>(dst, src, off, stride, count); return;
    case 2: copy_runs_fixed<2>(dst, src, off, stride, count); return;
    case 4: copy_runs_fixed<4>(dst, src, off, stride, count); return;
    case 8: copy_runs_fixed<8>(dst, src, off, stride, count); return;
    default:
      for (int32_t i = 0; i < count; ++i) {
        memcpy(dst, src + off, run);
        dst += run;
        off += stride;
      }
  }
}

/* Writes dst sequentially with the elements of an n-D view of src: dim k (outermost
 * first) has sizes[k] positions strides[k] bytes apart; each element is elem_size bytes.
 * Dims of size 1 are dropped, dims that are adjacent in memory are merged, and the
 * innermost dims that are contiguous become one memcpy run, so a slice or transpose that
 * keeps the trailing dims whole copies long runs. */
void gather(const uint8_t *src, uint8_t *dst, int n, const int32_t *sizes,
            const ptrdiff_t *strides, size_t elem_size) {
  int32_t size[kDims];
  ptrdiff_t stride[kDims];
  int m = 0;
  for (int k = 0; k < n; ++k) {
    if (sizes[k] <= 0) return;  // empty output
    if (sizes[k] == 1) continue;
    if (m > 0 && stride[m - 1] == strides[k] * sizes[k]) {
      size[m - 1] *= sizes[k];
      stride[m - 1] = strides[k];
    } else {
      size[m] = sizes[k];
      stride[m] = strides[k];
      ++m;
    }
  }
  size_t run = elem_size;
  if (m > 0 && stride[m - 1] == (ptrdiff_t)run) {
    run *= (size_t)size[m - 1];
    --m;
  }
  if (m == 0) {
    memcpy(dst, src, run);
    return;
  }
  const int inner = m - 1;
  const size_t row_bytes = run * (size_t)size[inner];
  int32_t idx[kDims] = {0, 0, 0, 0, 0, 0};
  ptrdiff_t outer_off = 0;
  for (;;) {
    copy_runs(dst, src, outer_off, stride[inner], size[inner], run);
    dst += row_bytes;
    int k = inner - 1;
    for (; k >= 0; --k) {
      outer_off += stride[k];
      if (++idx[k] < size[k]) break;
      idx[k] = 0;
      outer_off -= stride[k] * size[k];
    }
    if (k < 0) return;
  }
}

/* Byte distance between neighbours along each dim of a dense 6-D tensor. */
void dense_strides(const int32_t *shape, size_t elem_size, ptrdiff_t *strides) {
  ptrdiff_t s = (ptrdiff_t)elem_size;
  for (int k = kDims - 1; k >= 0; --k) {
    strides[k] = s;
    s *= shape[k];
  }
}

/* Fills `bytes` bytes (a whole number of elements) with copies of the element at value:
 * memset when all its bytes are equal (int8, 0.0f), else by doubling memcpy. */
void fill(uint8_t *dst, size_t bytes, const uint8_t *value, size_t elem_size) {
  if (bytes == 0) return;
  bool uniform = true;
  for (size_t i = 1; i < elem_size; ++i) uniform = uniform && value[i] == value[0];
  if (uniform) {
    memset(dst, value[0], bytes);
    return;
  }
  memcpy(dst, value, elem_size);
  size_t done = elem_size;
  while (done < bytes) {
    const size_t n = done < bytes - done ? done : bytes - done;
    memcpy(dst + done, dst, n);
    done += n;
  }
}

struct PadPlan {
  const int32_t *in_shape;
  const int32_t *before;
  const int32_t *after;
  size_t in_step[kDims];   // bytes of one index along dim k of the input
  size_t out_step[kDims];  // bytes of one index along dim k of the output
  int dense_from;          // dims >= dense_from have no padding
  const uint8_t *value;
  size_t elem_size;
};

/* Output block of dim k: the leading padding, the input rows (recursing into dim k + 1
 * unless no inner dim is padded, when they are one contiguous copy), the trailing
 * padding. Recursion depth is at most 6. */
void pad_dim(const PadPlan &p, int k, const uint8_t *&in, uint8_t *&out) {
  const size_t lead = (size_t)p.before[k] * p.out_step[k];
  fill(out, lead, p.value, p.elem_size);
  out += lead;
  if (k + 1 >= p.dense_from) {
    const size_t n = (size_t)p.in_shape[k] * p.in_step[k];
    if (n > 0) memcpy(out, in, n);
    out += n;
    in += n;
  } else {
    for (int32_t i = 0; i < p.in_shape[k]; ++i) pad_dim(p, k + 1, in, out);
  }
  const size_t trail = (size_t)p.after[k] * p.out_step[k];
  fill(out, trail, p.value, p.elem_size);
  out += trail;
}

}  // namespace

extern "C" {

void utc_pad(const void *input, void *output, const int32_t *in_shape,
             const int32_t *pad_before, const int32_t *pad_after, int32_t elem_size,
             const void *pad_value) {
  PadPlan p;
  p.in_shape = in_shape;
  p.before = pad_before;
  p.after = pad_after;
  p.value = static_cast<const uint8_t *>(pad_value);
  p.elem_size = (size_t)elem_size;
  size_t in_step = p.elem_size;
  size_t out_step = p.elem_size;
  p.dense_from = kDims;
  for (int k = kDims - 1; k >= 0; --k) {
    p.in_step[k] = in_step;
    p.out_step[k] = out_step;
    in_step *= (size_t)in_shape[k];
    out_step *= (size_t)(in_shape[k] + pad_before[k] + pad_after[k]);
    if (p.dense_from == k + 1 && pad_before[k] == 0 && pad_after[k] == 0) p.dense_from = k;
  }
  const uint8_t *in = static_cast<const uint8_t *>(input);
  uint8_t *out = static_cast<uint8_t *>(output);
  pad_dim(p, 0, in, out);
}

void utc_concatenation(const void *const *inputs, const int32_t *input_axis_bytes,
                       int32_t num_inputs, int32_t outer, void *output) {
  uint8_t *out = static_cast<uint8_t *>(output);
  for (int32_t r = 0; r < outer; ++r) {
    for (int32_t i = 0; i < num_inputs; ++i) {
      const size_t n = (size_t)input_axis_bytes[i];
      if (n == 0) continue;
      memcpy(out, static_cast<const uint8_t *>(inputs[i]) + (size_t)r * n, n);
      out += n;
    }
  }
}

void utc_transpose(const void *input, void *output, const int32_t *in_shape,
                   const int32_t *perm, int32_t elem_size) {
  ptrdiff_t in_strides[kDims];
  dense_strides(in_shape, (size_t)elem_size, in_strides);
  int32_t sizes[kDims];
  ptrdiff_t strides[kDims];
  for (int k = 0; k < kDims; ++k) {
    sizes[k] = in_shape[perm[k]];
    strides[k] = in_strides[perm[k]];
  }
  gather(static_cast<const uint8_t *>(input), static_cast<uint8_t *>(output), kDims, sizes,
         strides, (size_t)elem_size);
}

void utc_strided_slice(const void *input, void *output, const int32_t *in_shape,
                       const int32_t *begin, const int32_t *strides, const int32_t *out_shape,
                       int32_t elem_size) {
  ptrdiff_t in_strides[kDims];
  dense_strides(in_shape, (size_t)elem_size, in_strides);
  ptrdiff_t steps[kDims];
  ptrdiff_t base = 0;
  for (int k = 0; k < kDims; ++k) {
    if (out_shape[k] <= 0) return;  // empty output: begin may be out of range
    steps[k] = (ptrdiff_t)strides[k] * in_strides[k];
    base += (ptrdiff_t)begin[k] * in_strides[k];
  }
  gather(static_cast<const uint8_t *>(input) + base, static_cast<uint8_t *>(output), kDims,
         out_shape, steps, (size_t)elem_size);
}

void utc_split(const void *input, void *const *outputs, const int32_t *output_axis_bytes,
               int32_t num_outputs, int32_t outer) {
  const uint8_t *in = static_cast<const uint8_t *>(input);
  for (int32_t r = 0; r < outer; ++r) {
    for (int32_t i = 0; i < num_outputs; ++i) {
      const size_t n = (size_t)output_axis_bytes[i];
      if (n == 0) continue;
      memcpy(static_cast<uint8_t *>(outputs[i]) + (size_t)r * n, in, n);
      in += n;
    }
  }
}

void utc_gather(const void *input, const int32_t *indices, void *output, int32_t batches,
                int32_t outer, int32_t axis_size, int32_t coords, int32_t inner_bytes) {
  const uint8_t *in = static_cast<const uint8_t *>(input);
  uint8_t *out = static_cast<uint8_t *>(output);
  const size_t n = (size_t)inner_bytes;
  for (int32_t b = 0; b < batches; ++b) {
    const int32_t *idx = indices + (ptrdiff_t)b * coords;
    for (int32_t o = 0; o < outer; ++o) {
      const uint8_t *row = in + ((size_t)b * outer + o) * axis_size * n;
      for (int32_t k = 0; k < coords; ++k) {
        const int32_t i = idx[k];
        if (i >= 0 && i < axis_size) {
          memcpy(out, row + (size_t)i * n, n);
        } else {
          memset(out, 0, n);
        }
        out += n;
      }
    }
  }
}

void utc_broadcast_to(const void *input, void *output, const int32_t *in_shape,
                      const int32_t *out_shape, int32_t elem_size) {
  /* input strides in elements, 0 along broadcast dimensions */
  ptrdiff_t stride[kDims];
  ptrdiff_t step = 1;
  for (int k = kDims - 1; k >= 0; --k) {
    stride[k] = in_shape[k] == 1 ? 0 : step;
    step *= in_shape[k];
  }
  const uint8_t *in = static_cast<const uint8_t *>(input);
  uint8_t *out = static_cast<uint8_t *>(output);
  const size_t n = (size_t)elem_size;
  const int32_t *s = out_shape;
  for (int32_t a = 0; a < s[0]; ++a)
    for (int32_t b = 0; b < s[1]; ++b)
      for (int32_t c = 0; c < s[2]; ++c)
        for (int32_t d = 0; d < s[3]; ++d)
          for (int32_t e = 0; e < s[4]; ++e) {
            const ptrdiff_t base = a * stride[0] + b * stride[1] + c * stride[2] +
                                   d * stride[3] + e * stride[4];
            for (int32_t f = 0; f < s[5]; ++f) {
              memcpy(out, in + (size_t)(base + f * stride[5]) * n, n);
              out += n;
            }
          }
}

}  // extern "C"
