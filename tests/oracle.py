"""The correctness oracles: TensorFlow Lite Micro's reference interpreter and LiteRT.

DESIGN.md §7: a claim of correctness compares against one of these, never against a
Python re-implementation of our own. TFLM is the primary oracle (the generated code must
be bit-exact with its reference kernels for integer models); LiteRT with its reference
kernels covers ops TFLM lacks.

Interpreters are slow to create and cheap to invoke, so both come as runner classes that
keep one interpreter for many inputs, and the `run_*` functions reuse a small cache of
runners keyed by the model bytes. Every run starts from a reset interpreter, so results
never depend on earlier runs, and returns copies (never views into an arena the next
invocation overwrites).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import tflite
from tflite.TensorType import TensorType

__all__ = ["LiteRTRunner", "TflmRunner", "random_inputs", "run_litert", "run_tflm",
           "tflm_arena_size"]

#: TensorType -> numpy dtype, for the element types tests feed in and read back.
_NUMPY_DTYPES: dict[int, np.dtype] = {
    TensorType.FLOAT32: np.dtype(np.float32), TensorType.FLOAT16: np.dtype(np.float16),
    TensorType.FLOAT64: np.dtype(np.float64),
    TensorType.INT8: np.dtype(np.int8), TensorType.UINT8: np.dtype(np.uint8),
    TensorType.INT16: np.dtype(np.int16), TensorType.UINT16: np.dtype(np.uint16),
    TensorType.INT32: np.dtype(np.int32), TensorType.UINT32: np.dtype(np.uint32),
    TensorType.INT64: np.dtype(np.int64), TensorType.UINT64: np.dtype(np.uint64),
    TensorType.BOOL: np.dtype(np.bool_),
}


def _io_specs(model: bytes, which: str) -> list[tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of the first subgraph's inputs or outputs, read from the flatbuffer."""
    m = tflite.Model.GetRootAsModel(model, 0)
    if m.SubgraphsLength() == 0:
        raise ValueError("model has no subgraphs")
    g = m.Subgraphs(0)
    count, index = ((g.InputsLength(), g.Inputs) if which == "inputs"
                    else (g.OutputsLength(), g.Outputs))
    specs = []
    for k in range(count):
        t = g.Tensors(index(k))
        if t.Type() not in _NUMPY_DTYPES:
            raise ValueError(f"{which[:-1]} {k} ({t.Name()!r}) has unsupported TensorType {t.Type()}")
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        specs.append((shape, _NUMPY_DTYPES[t.Type()]))
    return specs


def _check_inputs(specs: Sequence[tuple[tuple[int, ...], np.dtype]],
                  inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Refuse inputs of the wrong count, shape or dtype instead of letting an interpreter
    convert (or misread) them: a silently converted input makes a comparison meaningless."""
    if len(inputs) != len(specs):
        raise ValueError(f"model has {len(specs)} inputs, got {len(inputs)}")
    out = []
    for k, ((shape, dtype), x) in enumerate(zip(specs, inputs)):
        arr = np.asarray(x)
        if arr.dtype != dtype or arr.shape != shape:
            raise ValueError(f"input {k}: expected {dtype}{list(shape)}, got {arr.dtype}{list(arr.shape)}")
        out.append(np.ascontiguousarray(arr))
    return out


def tflm_arena_size(model: bytes) -> int:
    """A generous arena for TFLM: every tensor's bytes twice over plus room for the
    interpreter's own structures. (TFLM's default, 10x the model size, is too small for
    the tiny-weights, large-activations models tests build.)"""
    m = tflite.Model.GetRootAsModel(model, 0)
    tensor_bytes = 0
    for s in range(m.SubgraphsLength()):
        g = m.Subgraphs(s)
        for i in range(g.TensorsLength()):
            t = g.Tensors(i)
            size = _NUMPY_DTYPES.get(t.Type(), np.dtype(np.int64)).itemsize
            for d in (t.ShapeAsNumpy() if t.ShapeLength() else ()):
                size *= max(int(d), 1)
            tensor_bytes += size
    return 10 * len(model) + 2 * tensor_bytes + 256 * 1024


class TflmRunner:
    """One TFLite Micro interpreter reused for many inputs (it is slow to create).

    ``run`` resets the interpreter first, so stateful models (variable tensors) give each
    run the result of a fresh interpreter; ``invoke`` does not, for multi-invocation
    tests.
    """

    def __init__(self, model: bytes, arena_size: int | None = None):
        from tflite_micro.python.tflite_micro import runtime

        self.model = bytes(model)
        self.input_specs = _io_specs(self.model, "inputs")
        self.output_specs = _io_specs(self.model, "outputs")
        self.interpreter = runtime.Interpreter.from_bytes(
            self.model, arena_size=arena_size or tflm_arena_size(self.model))

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Outputs (copies, in model order) for one set of inputs (in model order)."""
        self.interpreter.reset()
        return self.invoke(inputs)

    def reset(self) -> None:
        """TFLite Micro's `MicroInterpreter::Reset()`: variables back to their default
        fill (the initialisation subgraph of CALL_ONCE is not run again)."""
        self.interpreter.reset()

    def invoke(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Outputs for one set of inputs, continuing from the state earlier invocations
        left (no reset): consecutive calls are consecutive invocations of a stateful
        model."""
        arrays = _check_inputs(self.input_specs, inputs)
        for i, x in enumerate(arrays):
            self.interpreter.set_input(x, i)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_output(i), copy=True)
                for i in range(len(self.output_specs))]


class LiteRTRunner:
    """One LiteRT interpreter with the reference kernels (BUILTIN_REF: no XNNPACK, no
    optimized kernels) reused for many inputs. ``run`` resets variable tensors first."""

    def __init__(self, model: bytes):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.model = bytes(model)
        self.input_specs = _io_specs(self.model, "inputs")
        self.interpreter = Interpreter(model_content=self.model, num_threads=1,
                                       experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        self.interpreter.allocate_tensors()
        self._inputs = [d["index"] for d in self.interpreter.get_input_details()]
        self._outputs = [d["index"] for d in self.interpreter.get_output_details()]

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Outputs (copies, in model order) for one set of inputs (in model order)."""
        arrays = _check_inputs(self.input_specs, inputs)
        self.interpreter.reset_all_variables()
        for index, x in zip(self._inputs, arrays):
            self.interpreter.set_tensor(index, x)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_tensor(i), copy=True) for i in self._outputs]


@functools.lru_cache(maxsize=16)
def _tflm_runner(model: bytes) -> TflmRunner:
    return TflmRunner(model)


@functools.lru_cache(maxsize=16)
def _litert_runner(model: bytes) -> LiteRTRunner:
    return LiteRTRunner(model)


def run_tflm(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run TFLite Micro's reference interpreter once (the interpreter is cached per model)."""
    return _tflm_runner(bytes(model)).run(inputs)


def run_litert(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run LiteRT's reference kernels once, for ops or models TFLM refuses (the
    interpreter is cached per model)."""
    return _litert_runner(bytes(model)).run(inputs)


def random_inputs(model: bytes, rng: np.random.Generator,
                  float_scale: float = 1.0) -> list[np.ndarray]:
    """Seeded random inputs matching each model input's shape and dtype.

    Integer inputs are uniform over the dtype's full range (quantized models must be
    right at the extremes, where saturation bugs live); bool inputs are fair coins;
    float inputs are N(0, float_scale^2).
    """
    out = []
    for shape, dtype in _io_specs(bytes(model), "inputs"):
        if dtype.kind == "f":
            out.append((rng.standard_normal(shape) * float_scale).astype(dtype))
        elif dtype.kind == "b":
            out.append(rng.integers(0, 2, size=shape).astype(np.bool_))
        else:
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype))
    return out
