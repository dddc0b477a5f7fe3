"""TFLite Micro's rules for resource variables, as plain functions the importer applies.

Facts from TFLite Micro (`micro_resource_variable.cc`, `var_handle.cc`,
`assign_variable.cc`, `call_once.cc`, `micro_interpreter_graph.cc`):

- Every VAR_HANDLE names a variable by `(container, shared_name)`; when the graph is
  prepared (subgraph 0 first, then the others in index order, operators in order) each
  handle finds the first variable created with the same `shared_name` and, unless its own
  `container` is absent, the same `container`, or creates a new one.
- A variable's storage is made when the first ASSIGN_VARIABLE of it is prepared, sized
  for the assigned tensor and filled with `memset(byte)`, where the byte is the first zero
  point of that tensor cast to int8 when the tensor is quantized, else 0. READ_VARIABLE
  copies the storage out; ASSIGN_VARIABLE copies the value in.
- CALL_ONCE runs its initialisation subgraph on the first invocation only.
- `MicroInterpreter::Reset()` refills every variable with that byte and does not run the
  initialisation subgraph again (CALL_ONCE has no reset hook).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class HandleError(ValueError):
    """A VAR_HANDLE that TFLite Micro could not resolve safely (message says why)."""


@dataclass(frozen=True)
class Handle:
    """One VAR_HANDLE's names; `container` None when the file omits it."""

    container: str | None
    shared_name: str


def resolve_handles(handles: list[Handle]) -> list[int]:
    """The variable index each handle resolves to, in TFLite Micro's prepare order
    (`handles` must be in that order). A handle with a container looks for the same
    container; one without matches any. A handle with a container meeting a variable
    created without one is refused: TFLite Micro would compare against a null string."""
    created: list[Handle] = []
    out = []
    for h in handles:
        found = None
        for index, var in enumerate(created):
            if var.shared_name != h.shared_name:
                continue
            if h.container is not None and var.container is None:
                raise HandleError(f"variable '{h.shared_name}' is declared without a container "
                                  f"and then with container '{h.container}'")
            if h.container is None or h.container == var.container:
                found = index
                break
        if found is None:
            created.append(h)
            found = len(created) - 1
        out.append(found)
    return out


def default_fill(shape: tuple[int, ...], dtype: np.dtype, zero_point: int | None) -> np.ndarray:
    """The value a variable holds before anything is assigned to it (and after TFLite
    Micro's Reset): every byte `int8(zero_point)` for a quantized tensor, else 0."""
    byte = (int(zero_point) & 0xFF) if zero_point is not None else 0
    count = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return np.frombuffer(bytes([byte]) * count, dtype=np.dtype(dtype)).reshape(shape).copy()
