"""utc's CMSIS-NN kernel choice and scratch sizes against CMSIS-NN's own answer.

utc plans memory on the build machine for another processor, so it cannot ask the
library how much scratch a call needs; it carries the `*_get_buffer_size*` formulas per
code path (runtime/cmsis_nn.py). Here CMSIS-NN's size functions for the generic, DSP
and MVE paths (plain C, callable on the host) are built from CMSIS_NN_PATH and compared
with utc's choice of specialised function plus its scratch, over seeded random shapes:
that checks the formulas and that utc picks the function the library's wrapper would.
"""

from __future__ import annotations

import ctypes
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from utc.dialects import qnn
from utc.runtime.cmsis_nn import CMSIS_NN_KERNELS
from utc.runtime.kernels import Kernel
from utc.runtime.targets import TARGETS

from tests.conftest import cmsis_nn_root

_SOURCES = ["ConvolutionFunctions/arm_convolve_get_buffer_sizes_s8.c",
            "ConvolutionFunctions/arm_depthwise_conv_get_buffer_sizes_s8.c",
            "PoolingFunctions/arm_avgpool_get_buffer_sizes_s8.c"]


class Dims(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32),
                ("c", ctypes.c_int32)]


class Tile(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int32), ("h", ctypes.c_int32)]


class Act(ctypes.Structure):
    _fields_ = [("min", ctypes.c_int32), ("max", ctypes.c_int32)]


class ConvParams(ctypes.Structure):
    _fields_ = [("input_offset", ctypes.c_int32), ("output_offset", ctypes.c_int32),
                ("stride", Tile), ("padding", Tile), ("dilation", Tile), ("activation", Act)]


class DwParams(ctypes.Structure):
    _fields_ = [("input_offset", ctypes.c_int32), ("output_offset", ctypes.c_int32),
                ("ch_mult", ctypes.c_int32), ("stride", Tile), ("padding", Tile),
                ("dilation", Tile), ("activation", Act)]


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> ctypes.CDLL:
    root = cmsis_nn_root()
    so = tmp_path_factory.mktemp("cmsis") / "libsizes.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", f"-I{root / 'Include'}",
                    *(str(root / "Source" / s) for s in _SOURCES), "-o", str(so)], check=True)
    return ctypes.CDLL(str(so))


@dataclass
class _Type:
    shape: tuple[int, ...]


@dataclass
class _Value:
    type: _Type


@dataclass
class FakeOp:
    """What the records' constraints and scratch functions read of an op."""

    cls: type
    x: tuple[int, ...]
    f: tuple[int, ...]
    y: tuple[int, ...]
    attrs: dict = field(default_factory=dict)

    def operand(self, name: str) -> _Value:
        return _Value(_Type({"input": self.x, "filter": self.f}[name]))

    def __getattr__(self, name: str):
        """Typed attribute fields (`op.depth_multiplier`) read the attribute dict."""
        if name != "attrs" and name in self.attrs:
            return self.attrs[name]
        raise AttributeError(name)

    @property
    def result(self) -> _Value:
        return _Value(_Type(self.y))

    input = property(lambda self: _Value(_Type(self.x)))
    filter = property(lambda self: _Value(_Type(self.f)))
    output = result
    stride = property(lambda self: self.attrs["stride"])
    dilation = property(lambda self: self.attrs["dilation"])
    pad = property(lambda self: self.attrs["pad"])


def _choose(op: FakeOp, target) -> Kernel:
    for k in CMSIS_NN_KERNELS:
        if k.op is op.cls and not k.constraint(op, target):
            return k
    raise AssertionError("no CMSIS-NN kernel")


def _random_conv(rng: np.random.Generator, depthwise: bool) -> tuple[FakeOp, dict]:
    n = int(rng.choice([1, 1, 1, 2]))
    h = int(rng.choice([1, 1, 3, 7, 12]))
    w = int(rng.integers(1, 14))
    c = int(rng.choice([1, 2, 3, 4, 8, 16, 24]))
    kh = 1 if h == 1 and rng.random() < 0.7 else int(rng.choice([1, 2, 3, 5]))
    kw = int(rng.choice([1, 2, 3, 4, 5]))
    sh, sw = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2, 3]))
    dh, dw = (1, 1) if rng.random() < 0.8 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    pt, pl = (0, 0) if rng.random() < 0.4 else (int(rng.integers(0, kh)), int(rng.integers(0, kw)))
    oh = max(1, (h + 2 * pt - dh * (kh - 1) - 1) // sh + 1)
    ow = max(1, (w + 2 * pl - dw * (kw - 1) - 1) // sw + 1)
    mult = 1 if not depthwise or rng.random() < 0.7 else int(rng.choice([2, 3]))
    oc = c * mult if depthwise else int(rng.choice([1, 4, 8, 12]))
    attrs = {"stride": (sh, sw), "dilation": (dh, dw), "pad": (pt, pt, pl, pl),
             "input_zp": -3, "output_zp": 5, "depth_multiplier": mult}
    f = (1, kh, kw, oc) if depthwise else (oc, kh, kw, c)
    cls = qnn.DepthwiseConv2DOp if depthwise else qnn.Conv2DOp
    return FakeOp(cls, (n, h, w, c), f, (n, oh, ow, oc), attrs), {
        "input": Dims(n, h, w, c), "filter": Dims(*f), "output": Dims(n, oh, ow, oc),
        "stride": Tile(sw, sh), "padding": Tile(pl, pt), "dilation": Tile(dw, dh), "mult": mult}


@pytest.mark.parametrize("path", ["generic", "dsp", "mve"])
def test_convolution_choice_and_scratch_match_cmsis_nn(lib: ctypes.CDLL, path: str) -> None:
    target = {"generic": TARGETS["cortex-m3"], "dsp": TARGETS["cortex-m4"],
              "mve": TARGETS["cortex-m55"]}[path]
    fn = {"generic": lib.arm_convolve_wrapper_s8_get_buffer_size,  # the host build is generic
          "dsp": lib.arm_convolve_wrapper_s8_get_buffer_size_dsp,
          "mve": lib.arm_convolve_wrapper_s8_get_buffer_size_mve}[path]
    rng = np.random.default_rng(2026)
    for _ in range(400):
        op, d = _random_conv(rng, depthwise=False)
        params = ConvParams(3, 5, d["stride"], d["padding"], d["dilation"], Act(-128, 127))
        want = fn(ctypes.byref(params), ctypes.byref(d["input"]), ctypes.byref(d["filter"]),
                  ctypes.byref(d["output"]))
        kernel = _choose(op, target)
        if path == "mve" and kernel.name == "arm_convolve_s8" and d["input"].h == 1 \
                and d["filter"].h == 1 and d["stride"].w > 1:
            continue  # utc avoids the wrapper's MVE 1xN path there (not bit-exact)
        assert kernel.scratch(op, target) == want, (kernel.name, op)


@pytest.mark.parametrize("path", ["dsp", "mve"])
def test_depthwise_choice_and_scratch_match_cmsis_nn(lib: ctypes.CDLL, path: str) -> None:
    target = {"dsp": TARGETS["cortex-m4"], "mve": TARGETS["cortex-m55"]}[path]
    fn = {"dsp": lib.arm_depthwise_conv_wrapper_s8_get_buffer_size_dsp,
          "mve": lib.arm_depthwise_conv_wrapper_s8_get_buffer_size_mve}[path]
    rng = np.random.default_rng(2027)
    for _ in range(400):
        op, d = _random_conv(rng, depthwise=True)
        if path == "mve" and d["input"].c == 1 and d["output"].c > 1:
            continue  # the wrapper turns these into a convolution; utc calls the general kernel
        params = DwParams(3, 5, d["mult"], d["stride"], d["padding"], d["dilation"],
                          Act(-128, 127))
        want = fn(ctypes.byref(params), ctypes.byref(d["input"]), ctypes.byref(d["filter"]),
                  ctypes.byref(d["output"]))
        kernel = _choose(op, target)
        if path == "mve" and kernel.name == "arm_convolve_s8" and d["input"].h == 1 \
                and d["filter"].h == 1 and d["stride"].w > 1:
            continue  # utc avoids the wrapper's MVE 1xN path there (not bit-exact)
        assert kernel.scratch(op, target) == want, (kernel.name, op)


def test_average_pool_scratch(lib: ctypes.CDLL) -> None:
    lib.arm_avgpool_s8_get_buffer_size_dsp.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.arm_avgpool_s8_get_buffer_size_mve.argtypes = [ctypes.c_int, ctypes.c_int]
    record = next(k for k in CMSIS_NN_KERNELS if k.name == "arm_avgpool_s8")
    for channels in (1, 7, 64):
        op = FakeOp(qnn.AvgPool2DOp, (1, 4, 4, channels), (1,), (1, 2, 2, channels))
        assert record.scratch(op, TARGETS["cortex-m4"]) == \
            lib.arm_avgpool_s8_get_buffer_size_dsp(2, channels)
        assert record.scratch(op, TARGETS["cortex-m55"]) == \
            lib.arm_avgpool_s8_get_buffer_size_mve(2, channels)


def test_sources_exist() -> None:
    root = cmsis_nn_root()
    assert all((root / "Source" / s).is_file() for s in _SOURCES)
    assert Path(root / "Include" / "arm_nnfunctions.h").is_file()
