"""TFLite Micro's rules for variable tensors (`is_variable`), as plain functions the
importer applies.

Facts from TFLite Micro (`micro_allocator.cc` AllocateVariables,
`micro_interpreter_graph.cc` ResetVariableTensors / ResetTensorData,
`micro_interpreter.cc` AllocateTensors):

- Every variable tensor gets its own persistent buffer, outside the planned (reused)
  arena, even when the flatbuffer holds data for it: that data is never read.
- AllocateTensors ends with `Reset()`, and `Reset()` fills every variable tensor with
  `memset(byte)`: the first zero point of an INT8 tensor, else 0 (int16 and float32
  variables start at 0 whatever their zero point).
- Kernels that own the state (SVDF's activation state, UNIDIRECTIONAL_SEQUENCE_LSTM's
  output and cell state) update the buffer in place; every other operator only reads it.

utc makes each variable tensor a `state.variable` whose initial value is that fill, so
`NAME_reset()` is exactly TFLite Micro's `Reset()` for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from utc.compiler.importers.resource_variables import default_fill


class VariableTensorError(ValueError):
    """A variable tensor used in a way utc does not keep as state (message says how)."""


def initial_value(shape: tuple[int, ...], dtype: np.dtype, is_int8: bool,
                  zero_point: int | None) -> np.ndarray:
    """The value TFLite Micro's Reset() gives a variable tensor: every byte the zero point
    for an int8 tensor with one, else every byte 0."""
    return default_fill(shape, dtype, zero_point if is_int8 else None)


def check_uses(variables: set[int], graph_inputs: Sequence[int], graph_outputs: Sequence[int],
               operators: Sequence[tuple[str, Sequence[int], Sequence[int]]],
               labels: Sequence[str]) -> None:
    """Variable tensors are operator inputs only: not model inputs or outputs (the caller
    would see or set the state's bytes between invocations, which utc's interface does not
    offer) and not operator outputs (no TFLite Micro kernel writes state through an output
    tensor). Raises VariableTensorError naming the first offence, operator first."""
    for where, _, outputs in operators:
        for i in outputs:
            if i in variables:
                raise VariableTensorError(f"{where}: output {labels[i]} is a variable tensor; "
                                          "utc keeps variable tensors as state that only "
                                          "operator inputs name")
    for role, indices in (("input", graph_inputs), ("output", graph_outputs)):
        for i in indices:
            if i in variables:
                raise VariableTensorError(f"model {role} {labels[i]} is a variable tensor "
                                          "(state TFLite Micro keeps between invocations); "
                                          f"utc does not expose state as a model {role}")
