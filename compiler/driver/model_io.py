"""A compiled model's inputs and outputs as numpy sees them: their shapes and dtypes, seeded
random inputs, and the check that given inputs fit.

`utc run`, `utc verify` and the Python API (`CompiledModel.run`, `utc.verify`) all feed
generated code through these, so a wrong input is refused with the same words everywhere,
and never converted silently: a float array handed to an int8 model would otherwise be
reinterpreted byte by byte, and a comparison built on it would mean nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from utc.compiler.errors import UtcError, printable
from utc.compiler.ir import Module

#: (shape, numpy dtype) of one model input or output.
Spec = tuple[tuple[int, ...], np.dtype]


def io_specs(module: Module) -> tuple[list[Spec], list[Spec]]:
    """(shape, numpy dtype) of the inputs and outputs of a bufferized module."""
    from utc.dialects import buf
    from utc.dialects.func import main_function

    fn = main_function(module)
    ins = [v.type for v in buf.model_inputs(fn.block.ops).values()]
    outs = [v.type for v in fn.return_op.operand_values]

    def spec(t) -> Spec:
        return tuple(int(d) for d in t.shape), np.dtype(t.element.numpy_dtype)

    return [spec(t) for t in ins], [spec(t) for t in outs]


def random_input(rng: np.random.Generator, shape: Sequence[int], dtype) -> np.ndarray:
    """Integers uniform over the dtype's whole range (saturation bugs live at the ends),
    floats standard normal."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def random_inputs(rng: np.random.Generator, specs: Sequence[Spec]) -> list[np.ndarray]:
    return [random_input(rng, shape, dtype) for shape, dtype in specs]


def describe(shape: Sequence[int], dtype) -> str:
    return f"{np.dtype(dtype).name} {list(shape)}"


def check_inputs(specs: Sequence[Spec], arrays: Sequence[object], labels: Sequence[str],
                 given: str) -> list[np.ndarray]:
    """The arrays as contiguous numpy arrays when they are one per model input with its
    exact shape and dtype; else a one-line UtcError naming the first that is not (`labels`
    name each array, `given` what they are: '--input files', 'inputs')."""
    if len(arrays) != len(specs):
        raise UtcError(f"the model has {len(specs)} inputs, got {len(arrays)} {given}")
    out = []
    for label, x, (shape, dtype) in zip(labels, arrays, specs):
        if not isinstance(x, np.ndarray):
            raise UtcError(f"{printable(label)}: expected a numpy array ({describe(shape, dtype)}), "
                           f"got {type(x).__name__}")
        if tuple(x.shape) != tuple(shape) or x.dtype != dtype:
            raise UtcError(f"{printable(label)}: expected {describe(shape, dtype)}, got "
                           f"{describe(x.shape, x.dtype)}")
        out.append(np.ascontiguousarray(x))
    return out
