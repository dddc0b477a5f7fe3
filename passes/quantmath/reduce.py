"""Compile-time constants of utc's int8 MEAN kernel (``utc_mean_s8``), bit-exact with
TFLite Micro's reduce_common.cc ``Prepare`` and the reference reduce.h
QuantizedMeanOrSum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from utc.dialects.shape_math import pad_shape6
from utc.passes.quantmath._scales import _check_scale, _check_zp, _smaller_than_one_exp
from utc.passes.quantmath.qnn_attrs import QnnAttrs
from utc.passes.quantmath.requant import UnsupportedQuantization, quantize_multiplier


@dataclass(frozen=True)
class MeanLayout:
    """How ``utc_mean_s8`` sees a reduction: the input shape padded to 6-D, one flag per
    padded dimension (1: reduced), the number of elements averaged into each output, and
    the output shape without the reduced dimensions (keep_dims=False; keep_dims only adds
    ones, which changes neither a constant nor the memory layout)."""

    input_shape: tuple[int, ...]
    reduce_axes: tuple[int, ...]
    num_elements: int
    output_shape: tuple[int, ...]


def resolve_axes(rank: int, axes: Sequence[int]) -> list[int]:
    """TFLite's ResolveAxis: negative axes count from the end, repeats count once."""
    resolved: list[int] = []
    for a in axes:
        a = int(a)
        cur = a + rank if a < 0 else a
        if not 0 <= cur < rank:
            raise ValueError(f"MEAN axis {a} out of range for rank {rank}")
        if cur not in resolved:
            resolved.append(cur)
    return resolved


def mean_layout(input_shape: Sequence[int], axes: Sequence[int]) -> MeanLayout:
    """The `MeanLayout` of reducing `input_shape` over `axes` (TFLite's axis rules)."""
    dims = [int(d) for d in input_shape]
    rank = len(dims)
    resolved = resolve_axes(rank, axes)
    n = 1
    for a in resolved:
        n *= dims[a]
    flags = [0] * 6
    for a in resolved:
        flags[6 - rank + a] = 1
    return MeanLayout(input_shape=tuple(int(d) for d in pad_shape6(dims)),
                      reduce_axes=tuple(flags), num_elements=n,
                      output_shape=tuple(d for i, d in enumerate(dims) if i not in resolved))


@dataclass(frozen=True)
class MeanParams(QnnAttrs):
    """Attributes of `qnn.mean` (TFLM reduce_common.cc + reduce.h QuantizedMeanOrSum, int8):
    the axes as the model gives them, zero points, and one rescale that folds in 1/n."""

    axes: tuple[int, ...]
    input_zp: int
    output_zp: int
    mult: int
    shift: int


def mean_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                input_shape: Sequence[int], axes: Sequence[int],
                storage: str = "i8") -> MeanParams:
    """Constants of ``utc_mean_s8`` (TFLM reduce_common.cc + reference reduce.h
    QuantizedMeanOrSum, int8 MEAN).

    TFLM quantizes input_scale / out_scale (double), then folds 1/n (n = reduced elements
    per output) into it: with k = min(floor(log2 n), 32, 31 + shift) it uses
    (mult * 2^k) // n and shift - k. Axes may be negative or repeated (TFLite's
    ResolveAxis); `axes` keeps them as given, the kernel call resolves them.
    """
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    n = mean_layout(input_shape, axes).num_elements
    mult, shift = quantize_multiplier(si / so)
    if n > 0:
        k = min(n.bit_length() - 1, 32, 31 + shift)
        mult = (mult << k) // n
        shift -= k
    return MeanParams(axes=tuple(int(a) for a in axes),
                      input_zp=_check_zp("input", input_zp, storage),
                      output_zp=_check_zp("output", out_zp, storage), mult=int(mult),
                      shift=int(shift))


def sum_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
               input_shape: Sequence[int], axes: Sequence[int],
               storage: str = "i8") -> MeanParams:
    """Constants of ``utc_sum_s8`` / ``utc_sum_s16`` (TFLM reduce_common.cc + reference
    reduce.h QuantizedMeanOrSum with compute_sum): input_scale / out_scale (double)
    through QuantizeMultiplier, no 1/n folded in; the fields are `qnn.sum`'s.

    The multiplier may exceed one (a positive shift): TFLM then shifts the int32 sum left
    before its high multiply, which overflows (undefined there) when the largest possible
    |sum - zp * n| times 2^shift leaves int32; utc refuses such models."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    n = mean_layout(input_shape, axes).num_elements
    mult, shift = quantize_multiplier(si / so)
    span = 255 if storage == "i8" else 65535
    if span * n > 2**31 - 1 or (shift > 0 and span * n * (1 << shift) > 2**31 - 1):
        raise UnsupportedQuantization(
            f"SUM: output scale {out_scale!r} is too small for {n} summed elements of scale "
            f"{input_scale!r} (the rescaled sum overflows int32 in TFLite Micro)")
    return MeanParams(axes=tuple(int(a) for a in axes),
                      input_zp=_check_zp("input", input_zp, storage),
                      output_zp=_check_zp("output", out_zp, storage), mult=int(mult),
                      shift=int(shift))


#: Left shift TFLite Micro applies to int8 CUMSUM inputs before rescaling them.
CUMSUM_LEFT_SHIFT = 20


@dataclass(frozen=True)
class CumsumParams(QnnAttrs):
    """Attributes of `qnn.cumsum` besides axis, exclusive and reverse (TFLite Micro
    cumsum.cc, int8): ADD's scheme with one input, both multipliers below one."""

    input_zp: int
    output_zp: int
    left_shift: int
    input_mult: int
    input_shift: int
    output_mult: int
    output_shift: int


def cumsum_params(input_scale: float, input_zp: int, out_scale: float, out_zp: int,
                  depth: int) -> CumsumParams:
    """Constants of ``utc_cumsum_s8`` (TFLite Micro cumsum.cc Prepare, int8).

    Each input, minus its zero point and shifted left by 20, is rescaled by
    input_scale / (2 * input_scale) = 1/2; the running int32 sum (which TFLite Micro
    starts at the rescaled -input_zp, not at zero) is rescaled by 2 * input_scale /
    (2^20 * output_scale), which must be below one. Each rescaled term is at most
    255 * 2^19 + 1 in magnitude, so more than 15 of them (the axis length plus the
    starting term) can overflow TFLite Micro's int32 accumulator (undefined there):
    utc refuses longer axes."""
    si = _check_scale("input", input_scale)
    so = _check_scale("output", out_scale)
    twice = 2.0 * si
    mi, shi = _smaller_than_one_exp(si / twice, "CUMSUM input")
    mo, sho = _smaller_than_one_exp(twice / ((1 << CUMSUM_LEFT_SHIFT) * so), "CUMSUM output")
    if (depth + 1) * (255 * (1 << 19) + 1) > 2**31 - 1:
        raise UnsupportedQuantization(
            f"CUMSUM: an int8 axis of {depth} elements can overflow TFLite Micro's int32 "
            "accumulator (at most 15 are accepted)")
    return CumsumParams(input_zp=_check_zp("input", input_zp),
                        output_zp=_check_zp("output", out_zp), left_shift=CUMSUM_LEFT_SHIFT,
                        input_mult=mi, input_shift=shi, output_mult=mo, output_shift=sho)
