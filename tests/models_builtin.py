"""Small deterministic models the project builds itself.

They are the bundled example (examples/make_example.py) and the fallback for end-to-end
tests when ../shared/models is absent, so the repository needs no third-party model
files. The sine model mirrors TFLite Micro's hello_world: x -> FC(16)+ReLU -> FC(16)+ReLU
-> FC(1), approximating sin(x) on [0, 2*pi].

The weights are fitted without any training loop, so they are the same on every machine:
layer 1 places 16 ReLU hinges at seeded slopes on evenly spaced knots, layer 2 mixes them
with seeded random weights whose biases keep every unit alive somewhere on the domain,
and layer 3 is the float64 least-squares fit of sin(x) on layer 2's features (RMS error
about 0.01). The int8 twin is quantized the way the TFLite converter does it: per-tensor
asymmetric int8 activations from the float model's ranges over the domain, symmetric
per-tensor int8 weights (zero point 0), int32 biases at input_scale * weight_scale.
"""

from __future__ import annotations

import functools

import numpy as np

from tests.tflite_writer import ModelBuilder

__all__ = ["SINE_DOMAIN", "sine_model_float", "sine_model_int8", "sine_weights"]

_SEED = 20261125
_HIDDEN = 16
#: The input range the models are fitted (and the int8 input quantized) for.
SINE_DOMAIN = (0.0, 2 * np.pi)
_ACTIVATIONS = ("RELU", "RELU", "NONE")


@functools.cache
def sine_weights() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(weights [out, in], bias [out]) per layer, float32, in TFLite's FC layout."""
    rng = np.random.default_rng(_SEED)
    x = np.linspace(*SINE_DOMAIN, 1000).reshape(-1, 1)
    knots = np.linspace(*SINE_DOMAIN, _HIDDEN + 2)[1:-1]
    signs = np.where(np.arange(_HIDDEN) % 2 == 0, 1.0, -1.0)
    w1 = (signs * rng.uniform(0.5, 1.5, _HIDDEN)).reshape(_HIDDEN, 1)
    b1 = -w1[:, 0] * knots
    h1 = np.maximum(x @ w1.T + b1, 0.0)
    w2 = rng.normal(0.0, 0.5, (_HIDDEN, _HIDDEN))
    pre = h1 @ w2.T
    # Each unit switches on at a seeded quantile of its own pre-activation: none is dead.
    b2 = -np.array([np.quantile(pre[:, j], q)
                    for j, q in enumerate(rng.uniform(0.2, 0.8, _HIDDEN))])
    h2 = np.maximum(pre + b2, 0.0)
    features = np.hstack([h2, np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(features, np.sin(x[:, 0]), rcond=None)
    w3, b3 = coef[:_HIDDEN].reshape(1, _HIDDEN), coef[_HIDDEN:]
    layers = ((w1, b1), (w2, b2), (w3, b3))
    return tuple((w.astype(np.float32), b.astype(np.float32)) for w, b in layers)


def _float_forward(x: np.ndarray) -> list[np.ndarray]:
    """Activations after each layer for x [N, 1] (float32 math, as the float model)."""
    acts = []
    h = x.astype(np.float32)
    for (w, b), act in zip(sine_weights(), _ACTIVATIONS):
        h = h @ w.T + b
        if act == "RELU":
            h = np.maximum(h, 0.0)
        acts.append(h)
    return acts


def sine_model_float() -> bytes:
    """The float32 sine model (FULLY_CONNECTED version 1, as in hello_world_float)."""
    b = ModelBuilder("utc sine example (float32)")
    x = b.add_tensor("x", [1, 1], "float32")
    for i, ((w, bias), act) in enumerate(zip(sine_weights(), _ACTIVATIONS)):
        wt = b.add_tensor(f"dense_{i}/weights", w.shape, "float32", data=w)
        bt = b.add_tensor(f"dense_{i}/bias", bias.shape, "float32", data=bias)
        y = b.add_tensor(f"dense_{i}/out", [1, w.shape[0]], "float32")
        b.add_operator("FULLY_CONNECTED", [x, wt, bt], [y], {"fused_activation_function": act})
        x = y
    return b.build([0], [x])


def _asymmetric(lo: float, hi: float) -> tuple[float, int]:
    """int8 scale and zero point covering [lo, hi] (widened to include 0, as TFLite does)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    return scale, int(np.clip(round(-128 - lo / scale), -128, 127))


def _symmetric(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric per-tensor int8 weights in [-127, 127] and their scale."""
    scale = float(np.abs(w).max()) / 127.0
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def sine_model_int8() -> bytes:
    """The int8 sine model (FULLY_CONNECTED version 4, as in hello_world_int8)."""
    calibration = np.linspace(*SINE_DOMAIN, 1000, dtype=np.float32).reshape(-1, 1)
    ranges = [SINE_DOMAIN] + [(float(a.min()), float(a.max())) for a in _float_forward(calibration)]

    b = ModelBuilder("utc sine example (int8)")
    in_scale, in_zp = _asymmetric(*ranges[0])
    x = b.add_tensor("x", [1, 1], "int8", scale=in_scale, zero_point=in_zp)
    for i, ((w, bias), act) in enumerate(zip(sine_weights(), _ACTIVATIONS)):
        qw, w_scale = _symmetric(w)
        b_scale = in_scale * w_scale
        qb = np.round(bias.astype(np.float64) / b_scale).astype(np.int32)
        wt = b.add_tensor(f"dense_{i}/weights", w.shape, "int8", data=qw, scale=w_scale,
                          zero_point=0)
        bt = b.add_tensor(f"dense_{i}/bias", bias.shape, "int32", data=qb, scale=b_scale,
                          zero_point=0)
        out_scale, out_zp = _asymmetric(*ranges[i + 1])
        y = b.add_tensor(f"dense_{i}/out", [1, w.shape[0]], "int8", scale=out_scale,
                         zero_point=out_zp)
        b.add_operator("FULLY_CONNECTED", [x, wt, bt], [y], {"fused_activation_function": act},
                       version=4)
        x, in_scale = y, out_scale
    return b.build([0], [x])
