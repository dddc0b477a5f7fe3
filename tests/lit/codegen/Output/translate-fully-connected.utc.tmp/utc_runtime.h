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

#endif /* UTC_RUNTIME_H */
