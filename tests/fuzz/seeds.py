"""The seed models the fuzzer mutates: small models the suite builds itself (always), and
the real models in ../shared/models (when that folder is present).

The self-built seeds cover every operator family utc compiles (convolution, depthwise,
fully connected, both pools, elementwise, softmax, concatenation, pad, reshape, strided
slice, mean, quantize/dequantize; float32, int8 per tensor and int8 per channel) and a
small multi-operator network, so that mutations reach the per-operator checks, the passes
and the planner rather than only the file reader.

They are written with every default field *materialised* (the flatbuffer builder's
``force_defaults``, and every option key spelled out): TFLite files normally omit fields
that hold their schema default (SAME padding, no activation, quantized_dimension 0,
FLOAT32 type), and a structure-aware mutation can only patch a field in place if it is in
the file. The writer (tests/tflite_writer.py) builds with a plain `flatbuffers.Builder`;
`_materialised_defaults` swaps in one with force_defaults for the writer module alone,
while the seeds are built.
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import flatbuffers
import numpy as np

from tests import tflite_writer
from tests.conftest import SHARED_MODELS
from tests.e2e.op_models import conv_like, int_const, single_op
from tests.models_builtin import sine_model_float, sine_model_int8
from tests.tflite_writer import ModelBuilder

__all__ = ["builtin_seeds", "load_seeds", "shared_seeds"]

_SEED = 20261208


class _ForcingBuilder(flatbuffers.Builder):
    """A flatbuffers builder that writes fields even when they hold their default."""

    def __init__(self, initialSize: int = 1024) -> None:  # noqa: N803 (flatbuffers' name)
        super().__init__(initialSize)
        self.ForceDefaults(True)


@contextlib.contextmanager
def _materialised_defaults() -> Iterator[None]:
    """While active, the test writer builds with `_ForcingBuilder` (only the writer's own
    reference to the flatbuffers module is replaced; nothing else sees it)."""
    proxy = types.SimpleNamespace(Builder=_ForcingBuilder)
    with mock.patch.object(tflite_writer, "flatbuffers", proxy):
        yield


def _conv_opts(padding: str, stride: int, act: str, dilation: int = 1) -> dict:
    return {"padding": padding, "stride_w": stride, "stride_h": stride,
            "fused_activation_function": act, "dilation_w_factor": dilation,
            "dilation_h_factor": dilation}


def _pool_opts(padding: str, stride: int, size: int, act: str) -> dict:
    return {"padding": padding, "stride_w": stride, "stride_h": stride, "filter_width": size,
            "filter_height": size, "fused_activation_function": act}


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([_SEED, *name.encode()])


def _conv_int8() -> bytes:
    return conv_like("CONV_2D", [1, 8, 8, 3], [4, 3, 3, 3], [1, 4, 4, 4],
                     _conv_opts("SAME", 2, "RELU6"), True, _rng("conv_int8"))


def _conv_float() -> bytes:
    return conv_like("CONV_2D", [1, 8, 8, 2], [3, 3, 3, 2], [1, 4, 4, 3],
                     _conv_opts("VALID", 1, "RELU", dilation=2), False, _rng("conv_float"))


def _depthwise_int8() -> bytes:
    opts = {**_conv_opts("SAME", 1, "NONE"), "depth_multiplier": 2}
    return conv_like("DEPTHWISE_CONV_2D", [1, 6, 6, 2], [1, 3, 3, 4], [1, 6, 6, 4], opts, True,
                     _rng("depthwise_int8"))


def _fc_int8() -> bytes:
    opts = {"fused_activation_function": "RELU", "weights_format": "DEFAULT",
            "keep_num_dims": False, "asymmetric_quantize_inputs": False}
    return conv_like("FULLY_CONNECTED", [2, 12], [5, 12], [2, 5], opts, True, _rng("fc_int8"),
                     per_channel=False)


def _avg_pool_int8() -> bytes:
    q = (0.05, -3)
    return single_op("AVERAGE_POOL_2D", [([1, 6, 6, 3], q)], [([1, 3, 3, 3], q)],
                     _pool_opts("VALID", 2, 2, "NONE"))


def _max_pool_float() -> bytes:
    return single_op("MAX_POOL_2D", [([1, 7, 7, 2], None)], [([1, 4, 4, 2], None)],
                     _pool_opts("SAME", 2, 3, "RELU6"))


def _add_int8() -> bytes:
    return single_op("ADD", [([2, 3, 5], (0.05, -3)), ([1, 3, 5], (0.08, 10))],
                     [([2, 3, 5], (0.1, 5))], {"fused_activation_function": "RELU",
                                                "pot_scale_int16": False})


def _mul_float() -> bytes:
    return single_op("MUL", [([1, 4, 4, 3], None), ([3], None)], [([1, 4, 4, 3], None)],
                     {"fused_activation_function": "NONE"})


def _softmax_int8() -> bytes:
    return single_op("SOFTMAX", [([2, 10], (0.1, 3))], [([2, 10], (1 / 256, -128))],
                     {"beta": 1.0})


def _concat_int8() -> bytes:
    q = (0.05, -7)
    return single_op("CONCATENATION", [([1, 2, 2, 3], q), ([1, 2, 2, 5], q)],
                     [([1, 2, 2, 8], q)], {"axis": 3, "fused_activation_function": "NONE"})


def _pad_int8() -> bytes:
    q = (0.05, -7)
    pads = [[0, 0], [1, 1], [2, 0], [0, 0]]
    return single_op("PAD", [([1, 4, 4, 2], q), ([4, 2], None)], [([1, 6, 6, 2], q)],
                     consts={1: int_const(pads)})


def _reshape_slice_float() -> bytes:
    b = ModelBuilder("utc fuzz seed: reshape + strided slice")
    x = b.add_tensor("x", [1, 4, 6], "float32")
    shape = b.add_tensor("new_shape", [2], "int32", data=np.array([6, 4]))
    r = b.add_tensor("reshaped", [6, 4], "float32")
    b.add_operator("RESHAPE", [x, shape], [r], {"new_shape": [6, 4]})
    begin = b.add_tensor("begin", [2], "int32", data=np.array([1, 0]))
    end = b.add_tensor("end", [2], "int32", data=np.array([5, 4]))
    strides = b.add_tensor("strides", [2], "int32", data=np.array([2, 1]))
    y = b.add_tensor("y", [2, 4], "float32")
    b.add_operator("STRIDED_SLICE", [r, begin, end, strides], [y],
                   {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
                    "shrink_axis_mask": 0, "offset": False})
    return b.build([x], [y])


def _mean_int8() -> bytes:
    return single_op("MEAN", [([1, 5, 7, 3], (0.05, -3)), ([2], None)],
                     [([1, 1, 1, 3], (0.03, 7))], {"keep_dims": True},
                     consts={1: int_const([1, 2])})


def _quantize_chain() -> bytes:
    """float32 -> QUANTIZE -> int8 CONV_2D (per channel) -> DEQUANTIZE -> float32."""
    rng = _rng("quantize_chain")
    b = ModelBuilder("utc fuzz seed: quantize chain")
    x = b.add_tensor("x", [1, 5, 5, 2], "float32")
    xq = b.add_tensor("x_q", [1, 5, 5, 2], "int8", scale=0.04, zero_point=-2)
    b.add_operator("QUANTIZE", [x], [xq])
    w_scales = rng.uniform(0.004, 0.02, 3)
    w = b.add_tensor("w", [3, 3, 3, 2], "int8",
                     data=rng.integers(-127, 128, (3, 3, 3, 2)), scale=list(w_scales),
                     zero_point=0, quantized_dimension=0)
    bias = b.add_tensor("bias", [3], "int32", data=rng.integers(-500, 500, 3),
                        scale=list(0.04 * w_scales), zero_point=0)
    yq = b.add_tensor("y_q", [1, 5, 5, 3], "int8", scale=0.03, zero_point=4)
    b.add_operator("CONV_2D", [xq, w, bias], [yq], _conv_opts("SAME", 1, "NONE"), version=3)
    y = b.add_tensor("y", [1, 5, 5, 3], "float32")
    b.add_operator("DEQUANTIZE", [yq], [y], version=2)
    return b.build([x], [y])


def _mini_cnn_int8() -> bytes:
    """conv -> depthwise -> average pool -> reshape -> fully connected -> softmax: enough
    operators for the scheduler, the in-place and overlap passes and the planner to act."""
    rng = _rng("mini_cnn_int8")
    b = ModelBuilder("utc fuzz seed: mini CNN")

    def q8(name: str, shape: list[int], scale: float, zp: int) -> int:
        return b.add_tensor(name, shape, "int8", scale=scale, zero_point=zp)

    def weights(name: str, shape: list[int], qdim: int, channels: int,
                in_scale: float) -> tuple[int, int]:
        scales = rng.uniform(0.004, 0.02, channels)
        w = b.add_tensor(f"{name}/w", shape, "int8", data=rng.integers(-127, 128, shape),
                         scale=list(scales), zero_point=0, quantized_dimension=qdim)
        bias = b.add_tensor(f"{name}/b", [channels], "int32",
                            data=rng.integers(-300, 300, channels),
                            scale=list(in_scale * scales), zero_point=0)
        return w, bias

    x = q8("x", [1, 10, 10, 1], 0.02, -5)
    w, bias = weights("conv", [4, 3, 3, 1], 0, 4, 0.02)
    c1 = q8("conv/out", [1, 5, 5, 4], 0.03, -10)
    b.add_operator("CONV_2D", [x, w, bias], [c1], _conv_opts("SAME", 2, "RELU"), version=3)
    w, bias = weights("dw", [1, 3, 3, 4], 3, 4, 0.03)
    c2 = q8("dw/out", [1, 5, 5, 4], 0.04, -20)
    b.add_operator("DEPTHWISE_CONV_2D", [c1, w, bias], [c2],
                   {**_conv_opts("SAME", 1, "RELU6"), "depth_multiplier": 1}, version=3)
    p = q8("pool/out", [1, 1, 1, 4], 0.04, -20)
    b.add_operator("AVERAGE_POOL_2D", [c2], [p], _pool_opts("VALID", 1, 5, "NONE"), version=2)
    shape = b.add_tensor("flat/shape", [2], "int32", data=np.array([1, 4]))
    f = q8("flat", [1, 4], 0.04, -20)
    b.add_operator("RESHAPE", [p, shape], [f], {"new_shape": [1, 4]})
    fw = b.add_tensor("fc/w", [3, 4], "int8", data=rng.integers(-127, 128, (3, 4)), scale=0.01,
                      zero_point=0)
    fb = b.add_tensor("fc/b", [3], "int32", data=rng.integers(-300, 300, 3), scale=0.0004,
                      zero_point=0)
    logits = q8("logits", [1, 3], 0.05, 2)
    b.add_operator("FULLY_CONNECTED", [f, fw, fb], [logits],
                   {"fused_activation_function": "NONE", "keep_num_dims": False}, version=4)
    probs = q8("probs", [1, 3], 1 / 256, -128)
    b.add_operator("SOFTMAX", [logits], [probs], {"beta": 1.0}, version=2)
    return b.build([x], [probs])


_BUILDERS: dict[str, Callable[[], bytes]] = {
    "sine_int8": sine_model_int8,
    "sine_float": sine_model_float,
    "conv_int8": _conv_int8,
    "conv_float": _conv_float,
    "depthwise_int8": _depthwise_int8,
    "fc_int8": _fc_int8,
    "avg_pool_int8": _avg_pool_int8,
    "max_pool_float": _max_pool_float,
    "add_int8": _add_int8,
    "mul_float": _mul_float,
    "softmax_int8": _softmax_int8,
    "concat_int8": _concat_int8,
    "pad_int8": _pad_int8,
    "reshape_slice_float": _reshape_slice_float,
    "mean_int8": _mean_int8,
    "quantize_chain": _quantize_chain,
    "mini_cnn_int8": _mini_cnn_int8,
}


@functools.cache
def builtin_seeds() -> dict[str, bytes]:
    """Name -> bytes of every self-built seed (deterministic: the same bytes on every
    machine, so a (seed, case) pair names the same mutant everywhere)."""
    with _materialised_defaults():
        return {name: build() for name, build in _BUILDERS.items()}


def shared_seeds(directory: Path | None = None) -> dict[str, bytes]:
    """``shared:<file name>`` -> bytes of every .tflite in the shared models folder (empty
    when it is absent). They are read at run time and never copied into the repository."""
    directory = SHARED_MODELS if directory is None else directory
    if not directory.is_dir():
        return {}
    return {f"shared:{p.name}": p.read_bytes() for p in sorted(directory.glob("*.tflite"))}


def load_seeds(kind: str, directory: Path | None = None) -> dict[str, bytes]:
    """Seeds by kind: ``builtin``, ``shared`` or ``all``."""
    if kind == "builtin":
        return dict(builtin_seeds())
    if kind == "shared":
        return shared_seeds(directory)
    if kind == "all":
        return {**builtin_seeds(), **shared_seeds(directory)}
    raise ValueError(f"unknown seed kind {kind!r} (builtin, shared or all)")
