"""IR types: scalar element types, uniform quantized types, ranked tensors and memrefs.

Types are frozen, hashable dataclasses so they can be compared, used as dict keys and
shared between values freely. Their textual spellings follow MLIR where MLIR has one
(`tensor<1x28x28x8x!quant.uniform<i8:f32, 0.0115557:-128>>`, `memref<16xi8>`), and every
`str(t)` parses back to an equal type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def format_f32(value: float) -> str:
    """Shortest text that parses back to the same float32 (scales are float32 in TFLite)."""
    text = str(np.float32(value))
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def parse_f32(text: str) -> float:
    """Inverse of format_f32: the float32 value, held as a Python float. A finite value
    beyond float32's range is a ValueError (not a silent infinity, nor numpy's overflow
    warning); inf and nan spelled out stay what they are."""
    value = float(text)
    if math.isfinite(value) and abs(value) > FLOAT32_MAX:
        raise ValueError(f"{text} is out of float32 range")
    return float(np.float32(value))


#: Largest finite float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Storage types a quantized type may use, with their value range.
QUANT_STORAGE = ("i8", "ui8", "i16", "i32", "i64")


def quantization_problem(element: ElementType, shape: tuple[int, ...] | None = None) -> str | None:
    """Why `element` is not a usable quantized type, or None when it is (or is not
    quantized): integer storage, a float expressed type, finite positive float32 scales,
    zero points the storage type can hold, and for per-axis types (given the `shape`) an
    axis inside it with one scale per index. Every pass divides or multiplies by scales,
    so a zero, infinite or NaN scale would otherwise surface as a crash or as wrong code
    far from its cause."""
    if not isinstance(element, QuantizedType | PerAxisQuantizedType):
        return None
    if element.storage.name not in QUANT_STORAGE:
        return f"quantized storage type must be an integer type, not {element.storage}"
    if not element.expressed.is_float:
        return f"quantized expressed type must be a float type, not {element.expressed}"
    info = np.iinfo(element.storage.numpy_dtype)
    if isinstance(element, QuantizedType):
        pairs = [(element.scale, element.zero_point)]
    else:
        pairs = list(zip(element.scales, element.zero_points))
        if shape is not None:
            if not 0 <= element.axis < len(shape):
                return f"quantization axis {element.axis} is outside a rank-{len(shape)} shape"
            if len(pairs) != shape[element.axis]:
                return (f"per-axis quantization has {len(pairs)} scales for dimension "
                        f"{element.axis} of size {shape[element.axis]}")
    for scale, zero_point in pairs:
        if not (math.isfinite(scale) and scale > 0):
            return f"quantization scale must be finite and positive, got {scale}"
        if not info.min <= zero_point <= info.max:
            return (f"zero point {zero_point} does not fit the storage type {element.storage} "
                    f"[{info.min}, {info.max}]")
    return None


@dataclass(frozen=True)
class ScalarType:
    """A machine scalar: i1, i8, ui8, i16, ui32, i32, i64, ui64, f16, f32."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in _NUMPY_OF:
            raise ValueError(f"unknown scalar type '{self.name}'")

    def __str__(self) -> str:
        return self.name

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(_NUMPY_OF[self.name])

    @property
    def storage(self) -> ScalarType:
        return self

    @property
    def byte_width(self) -> int:
        return self.numpy_dtype.itemsize

    @property
    def is_float(self) -> bool:
        return self.name.startswith("f")

    @staticmethod
    def from_numpy(dtype: np.dtype | type) -> ScalarType:
        dt = np.dtype(dtype)
        for name, np_name in _NUMPY_OF.items():
            if np.dtype(np_name) == dt:
                return ScalarType(name)
        raise ValueError(f"no IR scalar type for numpy dtype {dt}")


_NUMPY_OF = {
    "i1": "bool",
    "i8": "int8",
    "ui8": "uint8",
    "i16": "int16",
    "ui32": "uint32",  # TFLite Micro signal library: energies, filter bank channels
    "ui64": "uint64",
    "i32": "int32",
    "i64": "int64",
    "f16": "float16",
    "f32": "float32",
}

I8 = ScalarType("i8")
I16 = ScalarType("i16")
I32 = ScalarType("i32")
I64 = ScalarType("i64")
F32 = ScalarType("f32")


@dataclass(frozen=True)
class QuantizedType:
    """Per-tensor affine quantization: real = scale * (q - zero_point), stored as `storage`."""

    storage: ScalarType
    scale: float
    zero_point: int
    expressed: ScalarType = F32

    def __post_init__(self) -> None:
        # TFLite scales are float32: normalise so equal types compare equal
        object.__setattr__(self, "scale", float(np.float32(self.scale)))
        object.__setattr__(self, "zero_point", int(self.zero_point))

    def __str__(self) -> str:
        return (
            f"!quant.uniform<{self.storage}:{self.expressed}, "
            f"{format_f32(self.scale)}:{self.zero_point}>"
        )

    @property
    def numpy_dtype(self) -> np.dtype:
        return self.storage.numpy_dtype

    @property
    def byte_width(self) -> int:
        return self.storage.byte_width

    @property
    def is_float(self) -> bool:
        return False


@dataclass(frozen=True)
class PerAxisQuantizedType:
    """Per-axis (per-channel) affine quantization along dimension `axis`."""

    storage: ScalarType
    axis: int
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    expressed: ScalarType = F32

    def __post_init__(self) -> None:
        if len(self.scales) != len(self.zero_points):
            raise ValueError("per-axis quantization needs one zero point per scale")
        # float32 values as Python floats: one numpy conversion for all channels
        object.__setattr__(self, "scales",
                           tuple(np.asarray(self.scales, dtype=np.float32).tolist()))
        object.__setattr__(self, "zero_points", tuple(map(int, self.zero_points)))

    def __str__(self) -> str:
        pairs = ",".join(f"{format_f32(s)}:{z}" for s, z in zip(self.scales, self.zero_points))
        return f"!quant.uniform<{self.storage}:{self.expressed}:{self.axis}, {{{pairs}}}>"

    @property
    def numpy_dtype(self) -> np.dtype:
        return self.storage.numpy_dtype

    @property
    def byte_width(self) -> int:
        return self.storage.byte_width

    @property
    def is_float(self) -> bool:
        return False


ElementType = ScalarType | QuantizedType | PerAxisQuantizedType


def _shape_prefix(shape: tuple[int, ...]) -> str:
    return "".join(f"{d}x" for d in shape)


@dataclass(frozen=True)
class TensorType:
    """A ranked, statically shaped tensor with value semantics."""

    shape: tuple[int, ...]
    element: ElementType

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        if any(d < 0 for d in self.shape):
            raise ValueError(f"tensor dimensions must be static and >= 0, got {self.shape}")

    def __str__(self) -> str:
        return self.spell(str(self.element))

    def spell(self, element: str) -> str:
        """The spelling with `element` for the element type: the printer passes a type
        alias (`!q0`) here, so the shape syntax lives in one place."""
        return f"tensor<{_shape_prefix(self.shape)}{element}>"

    @property
    def num_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def byte_size(self) -> int:
        return self.num_elements * self.element.byte_width

    @property
    def rank(self) -> int:
        return len(self.shape)

    def with_shape(self, shape: tuple[int, ...]) -> TensorType:
        return TensorType(tuple(shape), self.element)

    def with_element(self, element: ElementType) -> TensorType:
        return TensorType(self.shape, element)


@dataclass(frozen=True)
class MemRefType:
    """A buffer in memory: what a tensor becomes after bufferization."""

    shape: tuple[int, ...]
    element: ElementType

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))

    def __str__(self) -> str:
        return self.spell(str(self.element))

    def spell(self, element: str) -> str:
        """The spelling with `element` for the element type (see TensorType.spell)."""
        return f"memref<{_shape_prefix(self.shape)}{element}>"

    @property
    def num_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def byte_size(self) -> int:
        return self.num_elements * self.element.byte_width

    @property
    def rank(self) -> int:
        return len(self.shape)


Type = TensorType | MemRefType


def is_quantized(element: ElementType) -> bool:
    return isinstance(element, QuantizedType | PerAxisQuantizedType)
