/* utc runtime: the small common header every generated model and kernel includes.
 *
 * Generated code and kernels are C++11 with no heap, no exceptions, no RTTI and no STL,
 * so this header only pulls in the freestanding integer and size types. */
#ifndef UTC_RUNTIME_H
#define UTC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define UTC_RESTRICT __restrict__
#define UTC_INLINE inline __attribute__((always_inline))
#else
#define UTC_RESTRICT
#define UTC_INLINE inline
#endif

/* The link names of the kernels. In a generated folder utc writes utc_link.h: each
 * kernel function is renamed by a macro to its name plus a tag of its source's content
 * (utc_conv2d_s8 -> utc_conv2d_s8_v<hash>) and defined weak, so two models' folders link
 * into one program: a kernel both use, from identical sources, is one symbol (linked once
 * with --gc-sections), and kernels from different utc versions keep apart instead of
 * silently standing in for each other. The utc_link.h beside this file renames nothing. */
#include "utc_link.h"

#endif /* UTC_RUNTIME_H */
