"""Small deterministic models the project builds itself: the bundled example and the
fallback for end-to-end tests when ../shared/models is absent.

The sine model mirrors TFLite Micro's hello_world: x -> FC(16)+ReLU -> FC(16)+ReLU -> FC(1),
with seeded weights (not trained: the point is exercising the compiler, not the sine).
"""

from __future__ import annotations

import numpy as np

from tests.tflite_writer import ModelBuilder

_SEED = 20261125


def _float_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(_SEED)
    shapes = [(16, 1), (16, 16), (1, 16)]
    return [(rng.normal(0, 0.6, s).astype(np.float32), rng.normal(0, 0.2, s[0]).astype(np.float32))
            for s in shapes]


def sine_model_float() -> bytes:
    b = ModelBuilder("utc sine example (float32)")
    x = b.add_tensor("x", [1, 1], "float32")
    acts = ["RELU", "RELU", "NONE"]
    for i, ((w, bias), act) in enumerate(zip(_float_weights(), acts)):
        wt = b.add_tensor(f"dense_{i}/weights", w.shape, "float32", data=w)
        bt = b.add_tensor(f"dense_{i}/bias", bias.shape, "float32", data=bias)
        y = b.add_tensor(f"dense_{i}/out", [1, w.shape[0]], "float32")
        b.add_operator("FULLY_CONNECTED", [x, wt, bt], [y],
                       {"fused_activation_function": act})
        x = y
    return b.build([0], [x])


def _symmetric(w: np.ndarray) -> tuple[np.ndarray, float]:
    scale = float(np.abs(w).max()) / 127.0
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def sine_model_int8() -> bytes:
    """int8 twin: per-tensor activations (ranges from a seeded calibration pass),
    symmetric int8 weights, int32 biases at input_scale * weight_scale."""
    weights = _float_weights()
    calib = np.linspace(0, 2 * np.pi, 256, dtype=np.float32).reshape(-1, 1)
    ranges = [(0.0, 2 * np.pi)]
    h = calib
    for i, (w, bias) in enumerate(weights):
        h = h @ w.T + bias
        if i < 2:
            h = np.maximum(h, 0)
        ranges.append((min(float(h.min()), 0.0), max(float(h.max()), 0.0)))

    def qparams(lo: float, hi: float) -> tuple[float, int]:
        scale = (hi - lo) / 255.0 or 1.0
        return scale, int(np.clip(round(-128 - lo / scale), -128, 127))

    b = ModelBuilder("utc sine example (int8)")
    s, z = qparams(*ranges[0])
    x = b.add_tensor("x", [1, 1], "int8", scale=s, zero_point=z)
    in_scale = s
    acts = ["RELU", "RELU", "NONE"]
    for i, ((w, bias), act) in enumerate(zip(weights, acts)):
        qw, ws = _symmetric(w)
        qb = np.round(bias / (in_scale * ws)).astype(np.int32)
        wt = b.add_tensor(f"dense_{i}/weights", w.shape, "int8", data=qw, scale=ws, zero_point=0)
        bt = b.add_tensor(f"dense_{i}/bias", bias.shape, "int32", data=qb, scale=in_scale * ws,
                          zero_point=0)
        s, z = qparams(*ranges[i + 1])
        y = b.add_tensor(f"dense_{i}/out", [1, w.shape[0]], "int8", scale=s, zero_point=z)
        b.add_operator("FULLY_CONNECTED", [x, wt, bt], [y],
                       {"fused_activation_function": act}, version=4)
        x, in_scale = y, s
    return b.build([0], [x])
