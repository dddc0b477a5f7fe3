"""The correctness oracles: TensorFlow Lite Micro's reference interpreter and LiteRT."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tflite


class TflmRunner:
    """One TFLite Micro interpreter reused for many inputs (it is slow to create)."""

    def __init__(self, model: bytes):
        from tflite_micro.python.tflite_micro import runtime

        self.interp = runtime.Interpreter.from_bytes(model)
        self.num_outputs = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0).OutputsLength()

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(self.num_outputs)]


def run_tflm(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    return TflmRunner(model).run(inputs)


def run_litert(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """LiteRT with its reference kernels (no XNNPACK), for ops or models TFLM refuses."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for detail, x in zip(interp.get_input_details(), inputs):
        interp.set_tensor(detail["index"], x)
    interp.invoke()
    return [np.array(interp.get_tensor(d["index"])) for d in interp.get_output_details()]


def random_inputs(model: bytes, rng: np.random.Generator) -> list[np.ndarray]:
    """Seeded random inputs over the full integer range, or N(0, 1) floats."""
    m = tflite.Model.GetRootAsModel(model, 0)
    g = m.Subgraphs(0)
    out = []
    for k in range(g.InputsLength()):
        t = g.Tensors(g.Inputs(k))
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        ttype = t.Type()
        if ttype == 0:
            out.append(rng.standard_normal(shape).astype(np.float32))
        else:
            dtype = {9: np.int8, 2: np.int32, 7: np.int16, 3: np.uint8}[ttype]
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype))
    return out
