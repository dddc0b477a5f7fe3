"""Validation of a TFLite model before it is lowered: the structural half of TFLite's
flatbuffer verifier and the consistency checks of TFLite Micro's `Prepare` functions.

A model file is untrusted input to code that will run on a device. The importer trusts
nothing the flatbuffer says until these checks pass: every index is in range, every
count is bounded by the file size (a damaged vector length cannot make the importer loop
for billions of iterations), every shape is positive and small enough that no element or
byte count wraps in the generated int32 arithmetic, every quantization parameter is
finite and in range for its dtype, and the operators form a dataflow graph in execution
order. Operator-level shape consistency (bias length, per-channel counts, output shapes)
is the `tensor` dialect's verifier's job, which the importer runs on every op it builds.

Every function here raises `ImportError_` with one line naming the tensor or operator by
index (names escaped to printable text) and what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from utc.compiler.errors import ImportError_, printable

#: Largest model file utc reads: a flatbuffer addresses at most 2 GiB (32-bit offsets).
MAX_MODEL_BYTES = 2**31 - 1
#: Largest tensor rank utc accepts (TFLite Micro's kernels handle at most 6 dimensions).
MAX_RANK = 6
#: Largest element or byte count of one tensor: the generated code indexes with int32.
MAX_TENSOR_BYTES = 2**31 - 1
#: Storage range of the quantized integer dtypes, by TFLite type name.
ZERO_POINT_RANGE = {"INT8": (-128, 127), "INT32": (-(2**31), 2**31 - 1),
                    "INT64": (-(2**63), 2**63 - 1)}


def tensor_label(index: int, name: str) -> str:
    """How errors name a tensor: its index, and its name made printable."""
    return f"tensor '{printable(name[:80])}' (#{index})"


def check_count(path: str, what: str, count: int, file_bytes: int, entry_bytes: int = 4) -> None:
    """A flatbuffer vector of `count` entries needs at least `entry_bytes` each; a larger
    count is a damaged length field, refused before anything iterates over it."""
    if count < 0 or count * entry_bytes > file_bytes:
        raise ImportError_(f"{path}: corrupt TFLite flatbuffer ({what} count {count} does not "
                           f"fit in a {file_bytes}-byte file)")


def table_in_bounds(data: bytes | bytearray, pos: int) -> bool:
    """Whether the flatbuffer table at `pos` has its vtable and its inline fields inside
    `data`. The `flatbuffers` reader follows a damaged vtable offset to a negative
    position and fails with a TypeError deep inside; tables read lazily (operator
    options) are checked with this first."""
    if not 0 <= pos <= len(data) - 4:
        return False
    vtable = pos - int.from_bytes(data[pos:pos + 4], "little", signed=True)
    if not 0 <= vtable <= len(data) - 4:
        return False
    vtable_bytes = int.from_bytes(data[vtable:vtable + 2], "little")
    table_bytes = int.from_bytes(data[vtable + 2:vtable + 4], "little")
    return vtable + vtable_bytes <= len(data) and pos + table_bytes <= len(data)


def check_shape(path: str, label: str, shape: Sequence[int], itemsize: int) -> None:
    """Positive dimensions, rank <= MAX_RANK, and element/byte counts that fit int32."""
    if len(shape) > MAX_RANK:
        raise ImportError_(f"{path}: {label} has rank {len(shape)} (utc supports at most "
                           f"{MAX_RANK} dimensions)")
    if any(d < 1 for d in shape):
        raise ImportError_(f"{path}: {label} has shape {list(shape)}; every dimension must be "
                           "at least 1")
    count = math.prod(int(d) for d in shape)
    if count * itemsize > MAX_TENSOR_BYTES:
        raise ImportError_(f"{path}: {label} has shape {list(shape)}: {count * itemsize} bytes, "
                           f"more than the {MAX_TENSOR_BYTES}-byte limit of one tensor")


def effective_quantized_dimension(shape: Sequence[int], scales: np.ndarray,
                                  quantized_dimension: int) -> int:
    """The axis a per-channel quantization really runs along. A rank-1 tensor has only
    axis 0, yet older TFLite converters wrote the convolution's output-channel axis (3)
    into its bias's quantization (TFLite Micro's person_detect.tflite): TFLite Micro never
    reads a bias's quantized_dimension, so such a bias with one scale per element is
    read along axis 0 here too. Anything else is left for check_quantization to judge."""
    if len(shape) == 1 and len(scales) > 1 and len(scales) == int(shape[0]):
        return 0
    return quantized_dimension


def check_quantization(path: str, label: str, type_name: str, shape: Sequence[int],
                       scales: np.ndarray, zero_points: np.ndarray | None,
                       quantized_dimension: int) -> None:
    """Scales finite and positive, one zero point per scale and in range for the dtype,
    per-channel parameters along an existing axis with one entry per channel."""
    # whole-array checks (a MobileNet has tens of thousands of per-channel scales); the
    # message names the first offending value, as a Python number
    bad = ~(np.isfinite(scales) & (scales > 0.0))
    if bad.any():
        s = scales[int(np.argmax(bad))].item()
        raise ImportError_(f"{path}: {label} has quantization scale {s!r}; scales must be "
                           "finite and positive")
    # TFLite Micro reads one zero point per scale without checking the vector's length: a
    # missing or short zero-point vector makes it read whatever bytes follow, so no
    # oracle agrees with any reading of such a model
    count = 0 if zero_points is None else len(zero_points)
    if count != len(scales):
        raise ImportError_(f"{path}: {label} has {len(scales)} quantization scales but "
                           f"{count} zero points")
    if zero_points is not None:
        lo, hi = ZERO_POINT_RANGE.get(type_name, (-(2**63), 2**63 - 1))
        outside = (zero_points < lo) | (zero_points > hi)
        if outside.any():
            z = zero_points[int(np.argmax(outside))].item()
            raise ImportError_(f"{path}: {label} has zero point {z}, outside the "
                               f"{type_name.lower()} range [{lo}, {hi}]")
    if len(scales) > 1:
        if not 0 <= quantized_dimension < len(shape):
            raise ImportError_(f"{path}: {label} is quantized per channel along dimension "
                               f"{quantized_dimension}, but has rank {len(shape)}")
        channels = int(shape[quantized_dimension])
        if channels != len(scales):
            raise ImportError_(f"{path}: {label} has {len(scales)} per-channel scales for "
                               f"{channels} channels (dimension {quantized_dimension} of "
                               f"{list(shape)})")


def check_operator_indices(path: str, where: str, inputs: Sequence[int],
                           outputs: Sequence[int], num_tensors: int) -> None:
    """Tensor indices in range; -1 (an omitted optional input) only among the inputs."""
    for role, indices, lowest in (("input", inputs, -1), ("output", outputs, 0)):
        for k, i in enumerate(indices):
            if not lowest <= i < num_tensors:
                raise ImportError_(f"{path}: {where}: {role} {k} names tensor #{i}, but the "
                                   f"model has {num_tensors} tensors")


def check_arity(path: str, where: str, inputs: Sequence[int], outputs: Sequence[int],
                num_inputs: tuple[int, int | None], num_outputs: tuple[int, int | None]) -> None:
    """Operand counts as TFLite Micro's Prepare checks them (None: no upper bound)."""
    for role, got, (lo, hi) in (("inputs", len(inputs), num_inputs),
                                ("outputs", len(outputs), num_outputs)):
        if got < lo or (hi is not None and got > hi):
            want = str(lo) if hi == lo else (f"{lo} or more" if hi is None else f"{lo} to {hi}")
            raise ImportError_(f"{path}: {where}: has {got} {role}, expected {want}")


def check_dataflow(path: str, graph_inputs: Sequence[int], graph_outputs: Sequence[int],
                   operators: Sequence[tuple[str, Sequence[int], Sequence[int]]],
                   is_constant: Sequence[bool], labels: Sequence[str]) -> None:
    """The operators, run in file order, form an acyclic dataflow graph.

    Every non-constant input is a model input or produced by an earlier operator (which
    also rules out cycles); every tensor is produced once, by one operator, and is neither
    a constant nor a model input; model inputs are distinct non-constants; model outputs
    are computed (or constant).
    """
    num_tensors = len(is_constant)
    for role, indices in (("input", graph_inputs), ("output", graph_outputs)):
        for k, i in enumerate(indices):
            if not 0 <= i < num_tensors:
                raise ImportError_(f"{path}: model {role} {k} names tensor #{i}, but the model "
                                   f"has {num_tensors} tensors")
    producer: dict[int, str] = {}
    for i in graph_inputs:
        if i in producer:
            raise ImportError_(f"{path}: {labels[i]} is listed twice as a model input")
        if is_constant[i]:
            raise ImportError_(f"{path}: model input {labels[i]} holds constant data")
        producer[i] = "the model input"
    for where, inputs, outputs in operators:
        for k, i in enumerate(inputs):
            if i >= 0 and i not in producer and not is_constant[i]:
                raise ImportError_(f"{path}: {where}: input {k} ({labels[i]}) is not computed "
                                   "by an earlier operator, nor a constant or a model input")
        for i in outputs:
            if is_constant[i]:
                raise ImportError_(f"{path}: {where}: output {labels[i]} holds constant data")
            if i in producer:
                raise ImportError_(f"{path}: {where}: output {labels[i]} is already "
                                   f"produced by {producer[i]}")
            producer[i] = where
    for i in graph_outputs:
        if i in graph_inputs:
            raise ImportError_(f"{path}: model output {labels[i]} is a model input (nothing "
                               "computes it)")
        if i not in producer and not is_constant[i]:
            raise ImportError_(f"{path}: model output {labels[i]} is never computed")
