"""fuse-activation end to end: a standalone activation after a convolution, fully
connected layer, pooling or elementwise op disappears into its producer at -O1/-O2 and
the outputs stay identical to TFLite Micro's (which runs the two ops separately)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.e2e.op_models import check_against_oracle, tensor
from tests.kernel_harness import seeded_rng
from tests.tflite_writer import ModelBuilder


def _producer_then_activation(producer: str, activation: str, q: tuple | None) -> bytes:
    rng = seeded_rng(7, producer, activation, q)
    b = ModelBuilder(f"{producer} then {activation}")
    x = tensor(b, "x", [1, 6, 6, 4], q)
    inputs = [x]
    if producer == "CONV_2D":
        if q:
            w = b.add_tensor("w", [4, 3, 3, 4], "int8", data=rng.integers(-127, 128, (4, 3, 3, 4)),
                             scale=[0.01, 0.02, 0.015, 0.005], zero_point=0,
                             quantized_dimension=0)
            bias = b.add_tensor("b", [4], "int32", data=rng.integers(-500, 500, 4),
                                scale=[q[0] * s for s in (0.01, 0.02, 0.015, 0.005)],
                                zero_point=0)
        else:
            w = b.add_tensor("w", [4, 3, 3, 4], "float32",
                             data=rng.standard_normal((4, 3, 3, 4)).astype(np.float32))
            bias = b.add_tensor("b", [4], "float32", data=rng.standard_normal(4).astype(np.float32))
        mid_q = (0.08, -5) if q else None
        mid = tensor(b, "mid", [1, 6, 6, 4], mid_q)
        b.add_operator("CONV_2D", [x, w, bias], [mid], {"padding": "SAME"})
    elif producer == "ADD":
        mid_q = (0.1, 3) if q else None
        x2 = tensor(b, "x2", [1, 6, 6, 4], q)
        inputs.append(x2)
        mid = tensor(b, "mid", [1, 6, 6, 4], mid_q)
        b.add_operator("ADD", [x, x2], [mid], {"fused_activation_function": "NONE"})
    else:  # MAX_POOL_2D keeps the input quantization
        mid_q = q
        mid = tensor(b, "mid", [1, 3, 3, 4], mid_q)
        b.add_operator("MAX_POOL_2D", [x], [mid], {"padding": "VALID", "stride_h": 2,
                                                  "stride_w": 2, "filter_height": 2,
                                                  "filter_width": 2})
    y = tensor(b, "y", list(b._graph.tensors[mid].shape), mid_q)
    b.add_operator(activation, [mid], [y])
    return b.build(inputs, [y])


@pytest.mark.parametrize("activation", ["RELU", "RELU6"])
@pytest.mark.parametrize("producer", ["CONV_2D", "ADD", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fused_activation_is_bit_exact(producer: str, activation: str, dtype: str,
                                       tmp_path: Path) -> None:
    model = _producer_then_activation(producer, activation, (0.05, -3) if dtype == "int8" else None)
    check_against_oracle(model, tmp_path, samples=20)
    from utc.compiler.driver import compile_model

    result = compile_model(tmp_path / "model.tflite", tmp_path / "o2", opt_level=2)
    calls = [op for op in main_function(result.module).block.ops if isinstance(op, buf.CallOp)]
    assert len(calls) == 1, [c.attrs["callee"] for c in calls]
