"""int32 (unquantized) arithmetic and data movement, and the uint32 CAST, against TFLite Micro.

TFLite Micro's own audio front end (micro_speech's `audio_preprocessor_int8.tflite` and
`audio_preprocessor_float.tflite`) ends in these: the signal operators' uint32 energies are
cast to int32, sliced and concatenated with constants, cast back, and the int16 log
features are scaled in int32 (MUL, ADD, DIV, ADD, MINIMUM, MAXIMUM) before a CAST to
int8. Every model here is built by the suite's writer; inputs are seeded random values
(including ones whose sums and products overflow int32, which TFLite Micro wraps). The
public example models themselves are compiled in `test_micro_speech_audio_preprocessors`
(marked slow), which reads them from a TFLite Micro checkout when one is present.

The other int32 (and bool) data movement TFLite Micro runs is checked here too: PACK,
UNPACK, FILL, ZEROS_LIKE, RESHAPE, SQUEEZE, SPLIT, SPLIT_V; bool STRIDED_SLICE and
CONCATENATION.

TFLite Micro traps on an int32 division by zero (and on INT32_MIN / -1), so the DIV
samples avoid those divisors: utc's defined results for them are in utc_elementwise_s32.h.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tflm_file
from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner
from tests.tflite_writer import ModelBuilder

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def _model(op: str, shapes: Sequence[Sequence[int]], out_shape: Sequence[int],
           options: dict | None = None, consts: dict[int, np.ndarray] | None = None,
           dtype: str = "int32", out_dtype: str = "int32", version: int = 1) -> bytes:
    b = ModelBuilder(f"utc int32 sweep: {op}")
    consts = consts or {}
    ins, model_ins = [], []
    for k, shape in enumerate(shapes):
        if k in consts:
            ins.append(b.add_tensor(f"c{k}", shape, "int32", data=consts[k]))
        else:
            ins.append(b.add_tensor(f"x{k}", shape, dtype))
            model_ins.append(ins[-1])
    out = b.add_tensor("y", out_shape, out_dtype)
    b.add_operator(op, ins, [out], options, version=version)
    return b.build(model_ins, [out])


def _check(model: bytes, tmp_path: Path, samples: list[list[np.ndarray]], what: str,
           opt_level: int = 2) -> list[list[np.ndarray]]:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    got = compile_and_build(path, tmp_path, opt_level=opt_level).run(samples)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    for i, (g_outs, w_outs) in enumerate(zip(got, want, strict=True)):
        for k, (g, w) in enumerate(zip(g_outs, w_outs, strict=True)):
            assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: sample {i} output {k}"
            assert np.array_equal(g, w), (f"{what}: sample {i} output {k} differs at "
                                          f"{np.flatnonzero(g.ravel() != w.ravel())[:8]}:\n"
                                          f"utc  {g.ravel()[:8]}\nTFLM {w.ravel()[:8]}")
    return got


def _ints(rng: np.random.Generator, shape: Sequence[int], lo: int = INT32_MIN,
          hi: int = INT32_MAX) -> np.ndarray:
    """Seeded int32 values: a mix of the whole range (sums and products wrap) and small
    values (the clamps and the division's rounding show)."""
    wide = rng.integers(lo, hi + 1, size=tuple(shape), dtype=np.int64)
    small = rng.integers(max(lo, -300), min(hi, 300) + 1, size=tuple(shape), dtype=np.int64)
    return np.where(rng.random(tuple(shape)) < 0.5, wide, small).astype(np.int32)


def _divisors(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Non-zero divisors other than -1 (TFLite Micro traps on x / 0 and INT32_MIN / -1)."""
    d = _ints(rng, shape)
    d[(d == 0) | (d == -1)] = 7
    return d


# (op, lhs shape, rhs shape, output shape, fused activation): same shapes, a single value, a
# channel vector, two-way broadcasting (4-D, within what TFLite Micro's int32 kernels
# broadcast)
BINARY_CASES = [
    ("ADD", [2, 3, 5], [2, 3, 5], [2, 3, 5], "NONE"),
    ("ADD", [4, 6], [1], [4, 6], "RELU"),  # TFLite Micro's int32 ADD ignores the activation
    ("SUB", [1, 3, 1, 4], [2, 1, 5, 4], [2, 3, 5, 4], "NONE"),
    ("SUB", [7], [7], [7], "RELU6"),
    ("MUL", [3, 8], [8], [3, 8], "NONE"),
    ("MUL", [2, 1, 3], [1, 4, 3], [2, 4, 3], "RELU_N1_TO_1"),
    ("DIV", [5, 6], [5, 6], [5, 6], "NONE"),
    ("DIV", [2, 3, 4], [4], [2, 3, 4], "RELU"),
    ("SQUARED_DIFFERENCE", [3, 5], [3, 5], [3, 5], None),
    ("SQUARED_DIFFERENCE", [2, 1, 4], [3, 1], [2, 3, 4], None),
    ("MAXIMUM", [3, 4], [3, 4], [3, 4], None),
    ("MAXIMUM", [2, 1, 5], [3, 1], [2, 3, 5], None),
    ("MINIMUM", [6], [1], [6], None),
    ("MINIMUM", [1, 2, 3, 2, 2], [2, 1, 1, 2, 1], [2, 2, 3, 2, 2], None),
]


def _binary_case(op: str, lhs: list, rhs: list, out: list, act: str | None,
                 tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    options = None if act is None else {"fused_activation_function": act}
    model = _model(op, [lhs, rhs], out, options)
    rhs_values = _divisors if op == "DIV" else _ints
    samples = [[_ints(rng, lhs), rhs_values(rng, rhs)] for _ in range(6)]
    _check(model, tmp_path, samples, f"int32 {op} {lhs} {rhs} {act}")


@pytest.mark.parametrize("op,lhs,rhs,out,act", BINARY_CASES)
def test_int32_binary(op: str, lhs: list, rhs: list, out: list, act: str | None,
                      tmp_path: Path) -> None:
    _binary_case(op, lhs, rhs, out, act, tmp_path, seed=len(op) * 100 + len(lhs))


@pytest.mark.slow
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM",
                                "MINIMUM"])
@pytest.mark.parametrize("seed", range(4))
def test_int32_binary_sweep(op: str, seed: int, tmp_path: Path) -> None:
    """Random shapes (broadcasting up to 4-D) and activations."""
    rng = np.random.default_rng(1000 + seed)
    rank = int(rng.integers(1, 5))
    dims = [int(d) for d in rng.integers(1, 5, size=rank)]
    lhs = [d if rng.random() < 0.7 else 1 for d in dims]
    rhs = [d if rng.random() < 0.7 else 1 for d in dims][int(rng.integers(0, rank)):]
    out = list(np.broadcast_shapes(tuple(lhs), tuple(rhs)))
    act = None if op in ("MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE") else \
        str(rng.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]))
    _binary_case(op, lhs, rhs, out, act, tmp_path, seed=2000 + seed)


def test_int32_div_rounds_toward_zero(tmp_path: Path) -> None:
    """Every sign combination, exact and inexact quotients, the extremes."""
    a = np.array([7, -7, 7, -7, 6, -6, INT32_MAX, INT32_MIN, INT32_MIN, 1, -1, 0], np.int32)
    b = np.array([2, 2, -2, -2, 3, -3, 2, 3, 1, INT32_MAX, INT32_MIN, 5], np.int32)
    _check(_model("DIV", [[12], [12]], [12]), tmp_path, [[a, b]], "int32 DIV rounding")


def test_int32_constant_operands(tmp_path: Path) -> None:
    """The audio preprocessor's pattern: every arithmetic op with a constant scalar."""
    rng = np.random.default_rng(5)
    consts = {"ADD": 81, "SUB": -9, "MUL": 6, "DIV": -13, "MAXIMUM": -50, "MINIMUM": 40}
    for op, c in consts.items():
        (tmp_path / op).mkdir()
        model = _model(op, [[16], []], [16], {"fused_activation_function": "NONE"}
                       if op not in ("MAXIMUM", "MINIMUM") else None,
                       consts={1: np.array(c, np.int32)})
        _check(model, tmp_path / op, [[_ints(rng, [16])] for _ in range(3)], f"int32 {op} const")


@pytest.mark.parametrize("shapes,axis,out", [
    ([[5], [7], [3]], 0, [15]),
    ([[2, 3], [2, 1]], 1, [2, 4]),
    ([[1, 2, 3], [2, 2, 3]], 0, [3, 2, 3]),
])
def test_int32_concatenation(shapes: list, axis: int, out: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(sum(map(len, shapes)) + axis)
    model = _model("CONCATENATION", shapes, out, {"axis": axis})
    _check(model, tmp_path, [[_ints(rng, s) for s in shapes] for _ in range(3)],
           "int32 CONCATENATION")


@pytest.mark.parametrize("shape,begin,end,strides,out", [
    ([257], [5], [241], [1], [236]),  # the audio preprocessor's slice
    ([4, 6], [1, 5], [4, 0], [2, -2], [2, 3]),
])
def test_int32_strided_slice(shape: list, begin: list, end: list, strides: list, out: list,
                             tmp_path: Path) -> None:
    rng = np.random.default_rng(len(shape))
    k = len(shape)
    b = ModelBuilder("utc int32 sweep: STRIDED_SLICE")
    x = b.add_tensor("x", shape, "int32")
    params = [b.add_tensor(n, [k], "int32", data=np.array(v, np.int32))
              for n, v in (("begin", begin), ("end", end), ("strides", strides))]
    y = b.add_tensor("y", out, "int32")
    b.add_operator("STRIDED_SLICE", [x, *params], [y], {}, version=1)
    _check(b.build([x], [y]), tmp_path, [[_ints(rng, shape)] for _ in range(3)],
           "int32 STRIDED_SLICE")


@pytest.mark.parametrize("src,dst", [("uint32", "int32"), ("int32", "uint32"),
                                     ("uint32", "float32"), ("int16", "uint32"),
                                     ("uint32", "int8")])
def test_uint32_cast(src: str, dst: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(len(src) + 3 * len(dst))
    lo, hi = {"uint32": (0, 2**32 - 1), "int32": (INT32_MIN, INT32_MAX),
              "int16": (-32768, 32767)}[src]
    samples = [[rng.integers(lo, hi + 1, size=(9,), dtype=np.int64).astype(src)]
               for _ in range(3)]
    model = _model("CAST", [[9]], [9], dtype=src, out_dtype=dst, version=2)
    _check(model, tmp_path, samples, f"CAST {src} -> {dst}")


def preprocessor_tail() -> bytes:
    """The int32 part of TFLite Micro's audio preprocessor as the writer builds it: uint32
    energies -> CAST int32 -> STRIDED_SLICE -> CONCATENATION with constant zeros -> CAST
    uint32 (a second output), and int16 features -> CAST int32 -> MUL, ADD, DIV, ADD by
    constant scalars -> MINIMUM, MAXIMUM -> CAST int8."""
    b = ModelBuilder("utc int32 audio tail")
    t = b.add_tensor

    def scalar(name: str, value: int) -> int:
        return t(name, [], "int32", data=np.array(value, np.int32))

    energy = t("energy", [257], "uint32")
    e32 = t("e32", [257], "int32")
    b.add_operator("CAST", [energy], [e32], version=2)
    sliced = t("sliced", [236], "int32")
    b.add_operator("STRIDED_SLICE", [e32, *(t(n, [1], "int32", data=np.array([v], np.int32))
                                            for n, v in (("b", 5), ("e", 241), ("s", 1)))],
                   [sliced], {})
    joined = t("joined", [257], "int32")
    b.add_operator("CONCATENATION", [t("lo", [5], "int32", data=np.zeros(5, np.int32)), sliced,
                                     t("hi", [16], "int32", data=np.zeros(16, np.int32))],
                   [joined], {"axis": 0})
    masked = t("masked", [257], "uint32")
    b.add_operator("CAST", [joined], [masked], version=2)
    features = t("features", [40], "int16")
    f32 = t("f32", [40], "int32")
    b.add_operator("CAST", [features], [f32], version=2)
    x = f32
    for k, (op, value) in enumerate((("MUL", 670), ("ADD", 3200), ("DIV", 6400), ("ADD", -128),
                                     ("MINIMUM", 127), ("MAXIMUM", -128))):
        y = t(f"s{k}", [40], "int32")
        opts = None if op in ("MINIMUM", "MAXIMUM") else {"fused_activation_function": "NONE"}
        b.add_operator(op, [x, scalar(f"k{k}", value)], [y], opts)
        x = y
    out = t("out", [40], "int8")
    b.add_operator("CAST", [x], [out], version=2)
    return b.build([energy, features], [masked, out])


@pytest.mark.parametrize("opt_level", [0, 2])
def test_audio_preprocessor_int32_tail(opt_level: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    samples = [[rng.integers(0, 2**32, size=(257,), dtype=np.int64).astype(np.uint32),
                rng.integers(-32768, 32768, size=(40,), dtype=np.int64).astype(np.int16)]
               for _ in range(5)]
    _check(preprocessor_tail(), tmp_path, samples, f"int32 audio tail -O{opt_level}", opt_level)


def _refused(model: bytes, tmp_path: Path) -> str:
    tmp_path.mkdir()
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "compile", str(path),
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("utc: error: "), proc.stderr
    assert not out.exists()
    return lines[0]


def test_int32_refusals(tmp_path: Path) -> None:
    zero = _model("DIV", [[4], [4]], [4], {"fused_activation_function": "NONE"},
                  consts={1: np.array([1, 2, 0, 3], np.int32)})
    assert "DIV: the constant divisor holds a zero" in _refused(zero, tmp_path / "a")
    b = ModelBuilder("t")
    x = b.add_tensor("x", [4], "int32", scale=0.5, zero_point=0)
    y = b.add_tensor("y", [4], "int32", scale=0.5, zero_point=0)
    b.add_operator("ADD", [x, x], [y], {"fused_activation_function": "NONE"})
    line = _refused(b.build([x], [y]), tmp_path / "b")
    assert "ADD" in line and "quantized int32" in line, line
    wide = _model("ADD", [[2, 1, 2, 1, 2], [1, 2, 1, 2, 1]], [2, 2, 2, 2, 2],
                  {"fused_activation_function": "NONE"})
    line = _refused(wide, tmp_path / "c")
    assert "broadcasting over more than 4 dimensions" in line, line


# ---- TFLite Micro's public example models (from a checkout, when there is one) ----------------

PREPROCESSOR = "tensorflow/lite/micro/examples/micro_speech/models/audio_preprocessor_{}.tflite"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["int8", "float"])
def test_micro_speech_audio_preprocessors(kind: str, tmp_path: Path) -> None:
    """micro_speech's audio preprocessor (signal operators, then the int32 tail) over 12
    consecutive 30 ms windows of seeded random int16 audio: the spectral subtraction and
    PCAN state carries over, so each invocation depends on the ones before."""
    model = tflm_file(PREPROCESSOR.format(kind))
    rng = np.random.default_rng(16000)
    samples = [[rng.integers(-32768, 32768, size=(1, 480), dtype=np.int64).astype(np.int16)]
               for _ in range(12)]
    got = _check(model, tmp_path, samples, f"micro_speech audio_preprocessor_{kind}")
    assert len({g[0].tobytes() for g in got}) > 1


# ---- int32 data movement TFLite Micro also runs: PACK, UNPACK, FILL, ZEROS_LIKE ------------

def test_int32_pack_unpack(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    b = ModelBuilder("utc int32 sweep: PACK, UNPACK")
    xs = [b.add_tensor(f"x{k}", [2, 3], "int32") for k in range(3)]
    packed = b.add_tensor("packed", [2, 3, 3], "int32")
    b.add_operator("PACK", xs, [packed], {"values_count": 3, "axis": 2})
    parts = [b.add_tensor(f"p{k}", [3, 3], "int32") for k in range(2)]
    b.add_operator("UNPACK", [packed], parts, {"num": 2, "axis": 0})
    _check(b.build(xs, [packed, *parts]), tmp_path,
           [[_ints(rng, [2, 3]) for _ in range(3)] for _ in range(3)], "int32 PACK/UNPACK")


def test_int32_fill_and_zeros_like(tmp_path: Path) -> None:
    """FILL with a computed value (the scalar sliced out of an input, so broadcast at run
    time) and with a constant one (folded), and ZEROS_LIKE."""
    rng = np.random.default_rng(32)
    b = ModelBuilder("utc int32 sweep: FILL, ZEROS_LIKE")
    x = b.add_tensor("x", [3], "int32")
    scalar = b.add_tensor("scalar", [], "int32")
    b.add_operator("STRIDED_SLICE", [x, *(b.add_tensor(n, [1], "int32", data=np.array([v], np.int32))
                                          for n, v in (("b", 1), ("e", 2), ("s", 1)))],
                   [scalar], {"shrink_axis_mask": 1})
    dims = b.add_tensor("dims", [2], "int32", data=np.array([2, 4], np.int32))
    filled = b.add_tensor("filled", [2, 4], "int32")
    b.add_operator("FILL", [dims, scalar], [filled], version=2)
    const = b.add_tensor("const", [], "int32", data=np.array(-77, np.int32))
    filled_const = b.add_tensor("filled_const", [2, 4], "int32")
    b.add_operator("FILL", [dims, const], [filled_const], version=2)
    zeros = b.add_tensor("zeros", [3], "int32")
    b.add_operator("ZEROS_LIKE", [x], [zeros])
    _check(b.build([x], [filled, filled_const, zeros]), tmp_path,
           [[_ints(rng, [3])] for _ in range(3)], "int32 FILL/ZEROS_LIKE")


def test_int32_reshape_squeeze_split(tmp_path: Path) -> None:
    """RESHAPE and SQUEEZE (views) and SPLIT / SPLIT_V on int32, as TFLite Micro runs them."""
    rng = np.random.default_rng(33)
    b = ModelBuilder("utc int32 sweep: RESHAPE, SQUEEZE, SPLIT, SPLIT_V")
    x = b.add_tensor("x", [1, 4, 6], "int32")
    flat = b.add_tensor("flat", [24], "int32")
    b.add_operator("RESHAPE", [x, b.add_tensor("shape", [1], "int32",
                                               data=np.array([24], np.int32))], [flat],
                   {"new_shape": [24]})
    squeezed = b.add_tensor("squeezed", [4, 6], "int32")
    b.add_operator("SQUEEZE", [x], [squeezed], {"squeeze_dims": [0]})
    halves = [b.add_tensor(f"h{k}", [2, 6], "int32") for k in range(2)]
    b.add_operator("SPLIT", [b.add_tensor("axis0", [], "int32", data=np.array(0, np.int32)),
                             squeezed], halves, {"num_splits": 2})
    parts = [b.add_tensor(f"v{k}", [2, n], "int32") for k, n in enumerate((1, 5))]
    b.add_operator("SPLIT_V", [halves[1], b.add_tensor("sizes", [2], "int32",
                                                       data=np.array([1, 5], np.int32)),
                               b.add_tensor("axis1", [], "int32", data=np.array(1, np.int32))],
                   parts, {"num_splits": 2})
    _check(b.build([x], [flat, halves[0], *parts]), tmp_path,
           [[_ints(rng, [1, 4, 6])] for _ in range(3)], "int32 RESHAPE/SQUEEZE/SPLIT")


def test_bool_strided_slice_and_concatenation(tmp_path: Path) -> None:
    """TFLite Micro also slices and concatenates bool tensors (moved bytes, no arithmetic)."""
    rng = np.random.default_rng(34)
    b = ModelBuilder("utc sweep: bool STRIDED_SLICE, CONCATENATION")
    x = b.add_tensor("x", [4, 6], "bool")
    y = b.add_tensor("y", [2, 6], "bool")
    sliced = b.add_tensor("sliced", [2, 3], "bool")
    params = [b.add_tensor(n, [2], "int32", data=np.array(v, np.int32))
              for n, v in (("begin", [0, 5]), ("end", [4, 0]), ("strides", [2, -2]))]
    b.add_operator("STRIDED_SLICE", [x, *params], [sliced], {})
    joined = b.add_tensor("joined", [6, 6], "bool")
    b.add_operator("CONCATENATION", [x, y], [joined], {"axis": 0})
    samples = [[rng.integers(0, 2, size=s).astype(np.bool_) for s in ([4, 6], [2, 6])]
               for _ in range(3)]
    _check(b.build([x, y], [sliced, joined]), tmp_path, samples, "bool slice/concatenation")
