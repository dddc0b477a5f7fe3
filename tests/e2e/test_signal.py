"""TFLite Micro's signal library (its audio front end): the `Signal*` CUSTOM operators.

Every model is built by the suite's writer (custom operators with FlexBuffers options,
`flexbuffer_map`), compiled by utc, built with the host compiler and run for several
consecutive invocations in one process; TFLite Micro's interpreter (the `tflite-micro`
package, which registers the signal operators) runs the same inputs on one interpreter
that is not reset in between. Outputs must be equal bit for bit, including float32 (the
float FFT is the same arithmetic in the same order). Stateful operators are also checked
across NAME_reset() against TFLite Micro's Reset(). What utc refuses is checked through
the command line: one line, exit status 2, no output folder.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.harness import compile_and_build
from tests.oracle import TflmRunner
from tests.tflite_writer import ModelBuilder, flexbuffer_map

#: an operator sweep: `-m "not slow"` runs a sample of its cases, CI all (tests/conftest.py)
pytestmark = pytest.mark.sweep

N = 5  # consecutive invocations per model

#: (name, shape, dtype, constant data or None)
TensorSpec = tuple[str, Sequence[int], str, "np.ndarray | None"]
INT16_T, INT32_T, FLOAT32_T = 7, 2, 0  # TFLite TensorType values, the rfft option "T"


def signal_model(code: str, options: dict, inputs: Sequence[TensorSpec],
                 outputs: Sequence[tuple[str, Sequence[int], str]]) -> bytes:
    """One custom operator; non-constant inputs are the model's inputs, in order."""
    b = ModelBuilder("utc signal test")
    ins, model_ins = [], []
    for name, shape, dtype, data in inputs:
        t = b.add_tensor(name, shape, dtype, data=data)
        ins.append(t)
        if data is None:
            model_ins.append(t)
    outs = [b.add_tensor(name, shape, dtype) for name, shape, dtype in outputs]
    b.add_operator("CUSTOM", ins, outs, custom_code=code, custom_options=flexbuffer_map(options))
    return b.build(model_ins, outs)


def _compile(model: bytes, tmp_path: Path, **kwargs):
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    return compile_and_build(path, tmp_path, **kwargs)


def _assert_same(got, want, what: str, mask: Callable[[int], slice] | None = None) -> None:
    assert len(got) == len(want)
    for i, (g_outs, w_outs) in enumerate(zip(got, want)):
        for k, (g, w) in enumerate(zip(g_outs, w_outs)):
            assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: invocation {i} output {k}"
            if mask is not None:
                g, w = g[mask(k)], w[mask(k)]
            assert np.array_equal(g, w), (f"{what}: invocation {i} output {k} differs at "
                                          f"{np.flatnonzero(g.ravel() != w.ravel())[:8]}:\n"
                                          f"utc  {g.ravel()[:8]}\nTFLM {w.ravel()[:8]}")


def check(model: bytes, tmp_path: Path, samples: list[list[np.ndarray]], what: str,
          mask: Callable[[int], slice] | None = None) -> list[list[np.ndarray]]:
    """utc's outputs for consecutive invocations equal TFLite Micro's; returns them."""
    got = _compile(model, tmp_path).run(samples)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    _assert_same(got, want, what, mask)
    return got


def int16_audio(rng: np.random.Generator, shape, amplitude: int = 32768) -> np.ndarray:
    lo, hi = -amplitude, min(amplitude, 32767)
    return rng.integers(lo, hi + 1, size=shape, dtype=np.int64).astype(np.int16)


# ---- stateless operators --------------------------------------------------------------------

@pytest.mark.parametrize("shape,window,shift", [((2, 8), 8, 12), ((1, 16), 4, 0),
                                                 ((3, 5), 15, 15), ((32,), 32, 7)])
def test_window(shape, window: int, shift: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    weights = int16_audio(rng, (window,))
    model = signal_model("SignalWindow", {"shift": shift},
                         [("x", shape, "int16", None), ("w", (window,), "int16", weights)],
                         [("y", shape, "int16")])
    check(model, tmp_path, [[int16_audio(rng, shape)] for _ in range(N)], "window")


def test_fft_auto_scale(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    model = signal_model("SignalFftAutoScale", {}, [("x", (40,), "int16", None)],
                         [("y", (40,), "int16"), ("scale", (), "int32")])
    samples = [[int16_audio(rng, (40,), amp)] for amp in (1, 100, 5000, 32768, 0, 16384)]
    samples.append([np.full(40, -32768, np.int16)])
    samples.append([np.zeros(40, np.int16)])
    check(model, tmp_path, samples, "fft auto scale")


def _rfft_model(fft_length: int, shape, dtype: str, t: int) -> bytes:
    out = (*shape[:-1], fft_length + 2)
    return signal_model("SignalRfft", {"T": t, "fft_length": fft_length},
                        [("x", shape, dtype, None)], [("y", out, dtype)])


@pytest.mark.parametrize("fft_length,shape", [(4, (4,)), (8, (2, 8)), (16, (10,)),
                                              (64, (3, 64)), (256, (240,)), (512, (480,)),
                                              (32, (1, 2, 32))])
def test_rfft_int16(fft_length: int, shape, tmp_path: Path) -> None:
    rng = np.random.default_rng(fft_length)
    samples = [[int16_audio(rng, shape, amp)] for amp in (32768, 30000, 4000, 100, 32768)]
    check(_rfft_model(fft_length, shape, "int16", INT16_T), tmp_path, samples,
          f"rfft int16 {fft_length}")


@pytest.mark.parametrize("fft_length,shape", [(8, (8,)), (64, (2, 50)), (512, (512,))])
def test_rfft_int32(fft_length: int, shape, tmp_path: Path) -> None:
    rng = np.random.default_rng(fft_length + 1)
    samples = [[rng.integers(-2**31, 2**31, size=shape, dtype=np.int64).astype(np.int32)]
               for _ in range(3)]
    samples += [[rng.integers(-2**20, 2**20, size=shape, dtype=np.int64).astype(np.int32)]
                for _ in range(2)]
    check(_rfft_model(fft_length, shape, "int32", INT32_T), tmp_path, samples,
          f"rfft int32 {fft_length}")


@pytest.mark.parametrize("fft_length,shape", [(8, (8,)), (64, (2, 50)), (512, (400,))])
def test_rfft_float32(fft_length: int, shape, tmp_path: Path) -> None:
    rng = np.random.default_rng(fft_length + 2)
    samples = [[rng.standard_normal(shape).astype(np.float32) * 100] for _ in range(N)]
    check(_rfft_model(fft_length, shape, "float32", FLOAT32_T), tmp_path, samples,
          f"rfft float32 {fft_length}")


@pytest.mark.parametrize("bins,start,end", [(33, 0, 33), (129, 4, 100), (9, 3, 3)])
def test_energy(bins: int, start: int, end: int, tmp_path: Path) -> None:
    """TFLite Micro writes only bins [start, end); the rest of its output is whatever the
    arena held, so only that range is compared (utc writes 0 there)."""
    rng = np.random.default_rng(bins)
    model = signal_model("SignalEnergy", {"end_index": end, "start_index": start},
                         [("x", (2 * bins,), "int16", None)], [("y", (bins,), "uint32")])
    samples = [[int16_audio(rng, (2 * bins,))] for _ in range(N)]
    samples.append([np.full(2 * bins, -32768, np.int16)])
    got = check(model, tmp_path, samples, "energy", mask=lambda k: slice(start, end))
    assert all(not g[0][:start].any() and not g[0][end:].any() for g in got)


def mel_tables(rng: np.random.Generator, bins: int, channels: int):
    """Random but valid filter bank tables: channel c covers [starts[c], starts[c] +
    widths[c]) of the energies and the same count of weights from weight_starts[c]."""
    starts = np.sort(rng.integers(0, bins - 4, size=channels + 1))
    widths = rng.integers(0, 5, size=channels + 1)
    widths = np.minimum(widths, bins - starts)
    wstarts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    total = int(widths.sum()) or 1
    weights = rng.integers(0, 4097, size=total)
    unweights = 4096 - weights
    as16 = lambda a: np.asarray(a, np.int16)  # noqa: E731
    return as16(weights), as16(unweights), as16(starts), as16(wstarts), as16(widths)


@pytest.mark.parametrize("bins,channels", [(33, 8), (129, 40), (257, 32)])
def test_filter_bank(bins: int, channels: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(bins * channels)
    w, u, fs, ws, wd = mel_tables(rng, bins, channels)
    model = signal_model(
        "SignalFilterBank", {"num_channels": channels},
        [("x", (bins,), "uint32", None), ("w", w.shape, "int16", w), ("u", u.shape, "int16", u),
         ("fs", fs.shape, "int16", fs), ("ws", ws.shape, "int16", ws),
         ("wd", wd.shape, "int16", wd)],
        [("y", (channels,), "uint64")])
    samples = [[rng.integers(0, 2**32, size=bins, dtype=np.uint64).astype(np.uint32)]
               for _ in range(N)]
    check(model, tmp_path, samples, "filter bank")


@pytest.mark.parametrize("shift", [0, 3, 15])
def test_filter_bank_square_root(shift: int, tmp_path: Path) -> None:
    """scale_bits is a 0-d tensor (TFLite Micro requires it; its Python interpreter cannot
    feed a 0-d input, so here it is a constant; the audio front end computes it)."""
    rng = np.random.default_rng(5 + shift)
    model = signal_model("SignalFilterBankSquareRoot", {},
                         [("x", (40,), "uint64", None),
                          ("s", (), "int32", np.array(shift, np.int32))],
                         [("y", (40,), "uint32")])
    samples = []
    for top in (2**64, 2**32, 2**40, 1000, 2**63):
        x = rng.integers(0, top - 1, size=40, dtype=np.uint64, endpoint=True)
        x[:4] = [0, 1, 2**32 - 1, 2**32]
        samples.append([x])
    check(model, tmp_path, samples, "square root")


@pytest.mark.parametrize("scale,bits", [(1600, 3), (1 << 12, 0), (65535, 1)])
def test_filter_bank_log(scale: int, bits: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(scale + bits)
    model = signal_model("SignalFilterBankLog",
                         {"input_correction_bits": bits, "output_scale": scale},
                         [("x", (64,), "uint32", None)], [("y", (64,), "int16")])
    samples = []
    for top in (2**32, 2**16, 10, 2**29):
        x = rng.integers(0, top, size=64, dtype=np.uint64).astype(np.uint32)
        x[:3] = [0, 1, 2]
        samples.append([x])
    check(model, tmp_path, samples, "log")


def gain_lut(rng: np.random.Generator) -> np.ndarray:
    """A gain table of TFLite Micro's size (4 * 32 - 3 entries: three per bit length
    and the three first values), random int16 entries."""
    return rng.integers(-2000, 2000, size=125).astype(np.int16)


def test_pcan(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    lut = gain_lut(rng)
    model = signal_model("SignalPCAN", {"snr_shift": 6},
                         [("x", (40,), "uint32", None), ("n", (40,), "uint32", None),
                          ("lut", lut.shape, "int16", lut)], [("y", (40,), "uint32")])
    samples = []
    for top in (2**32, 2**20, 2**12, 8):
        x = rng.integers(0, top, size=40, dtype=np.uint64).astype(np.uint32)
        n = rng.integers(0, top, size=40, dtype=np.uint64).astype(np.uint32)
        n[:3] = [0, 1, 2]
        samples.append([x, n])
    check(model, tmp_path, samples, "pcan")


# ---- stateful operators ---------------------------------------------------------------------

SPECTRAL = {"alternate_one_minus_smoothing": 15729, "alternate_smoothing": 655,
            "clamping": False, "min_signal_remaining": 819, "num_channels": 40,
            "one_minus_smoothing": 15729, "smoothing": 655, "smoothing_bits": 5,
            "spectral_subtraction_bits": 14}


def _spectral_model(**changes) -> bytes:
    opts = {**SPECTRAL, **changes}
    n = opts["num_channels"]
    return signal_model("SignalFilterBankSpectralSubtraction", opts,
                        [("x", (n,), "uint32", None)],
                        [("y", (n,), "uint32"), ("noise", (n,), "uint32")])


def _uint32_frames(rng: np.random.Generator, n: int, count: int, top: int) -> list:
    return [[rng.integers(0, top, size=n, dtype=np.uint64).astype(np.uint32)]
            for _ in range(count)]


@pytest.mark.parametrize("changes", [{}, {"clamping": True}, {"smoothing_bits": 0,
                                                              "alternate_smoothing": 1000,
                                                              "alternate_one_minus_smoothing": 15384},
                                     {"num_channels": 7, "smoothing_bits": 10}])
def test_spectral_subtraction_state(changes: dict, tmp_path: Path) -> None:
    model = _spectral_model(**changes)
    n = {**SPECTRAL, **changes}["num_channels"]
    rng = np.random.default_rng(len(changes))
    # loud, then quiet frames: clamping and the noise floor both act
    samples = _uint32_frames(rng, n, 4, 2**20) + _uint32_frames(rng, n, 4, 2**10)
    got = check(model, tmp_path, samples, "spectral subtraction")
    assert not np.array_equal(got[1][1], got[0][1])  # the noise estimate carries over


def test_spectral_subtraction_reset(tmp_path: Path) -> None:
    model = _spectral_model(clamping=True)
    first = _uint32_frames(np.random.default_rng(9), 40, 3, 2**18)
    got = _compile(model, tmp_path, reset_before=3).run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "reset")
    _assert_same(got[3:], got[:3], "after reset")


def _framer_model(shape, size: int, step: int, prefill: bool = True) -> bytes:
    frames = shape[-1] // step
    return signal_model("SignalFramer", {"frame_size": size, "frame_step": step,
                                         "prefill": prefill},
                        [("x", shape, "int16", None)],
                        [("y", (*shape[:-1], frames, size), "int16"), ("valid", (), "bool")])


@pytest.mark.parametrize("shape,size,step", [((160,), 400, 160), ((2, 6), 5, 3),
                                             ((1, 8), 3, 1), ((4,), 4, 4), ((8,), 6, 2)])
def test_framer_state(shape, size: int, step: int, tmp_path: Path) -> None:
    model = _framer_model(shape, size, step)
    rng = np.random.default_rng(size * step)
    samples = [[int16_audio(rng, shape)] for _ in range(N + 2)]
    check(model, tmp_path, samples, "framer")
    header = (tmp_path / "out" / "m.h").read_text()
    if size == step:  # frames do not overlap: nothing to keep, no state
        assert "STATE_BYTES" not in header
        return
    state_bytes = int(header.split("#define M_STATE_BYTES ")[1].split()[0])
    history = 2 * (size - step) * (samples[0][0].size // shape[-1])
    assert history <= state_bytes < history + 16  # the history, aligned
    first = samples[:3]
    (tmp_path / "reset").mkdir()
    got = _compile(model, tmp_path / "reset", reset_before=3).run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "framer reset")


def _reset_check(model: bytes, tmp_path: Path, first: list, what: str,
                 mask: Callable[[int], slice] | None = None) -> None:
    """NAME_reset() before the second pass of `first` gives what TFLite Micro gives after
    its Reset(), and the first pass again."""
    (tmp_path / "reset").mkdir()
    got = _compile(model, tmp_path / "reset", reset_before=len(first)).run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, f"{what} reset", mask)
    _assert_same(got[len(first):], got[:len(first)], f"{what} after reset", mask)


def _irfft_model(fft_length: int, rows: tuple, dtype: str, t: int) -> bytes:
    return signal_model("SignalIrfft", {"T": t, "fft_length": fft_length},
                        [("x", (*rows, fft_length + 2), dtype, None)],
                        [("y", (*rows, fft_length), dtype)])


@pytest.mark.parametrize("fft_length,rows", [(4, ()), (16, (2,)), (64, ()), (512, (1,))])
def test_irfft(fft_length: int, rows: tuple, tmp_path: Path) -> None:
    rng = np.random.default_rng(fft_length + 3)
    shape = (*rows, fft_length + 2)
    samples = [[int16_audio(rng, shape, amp)] for amp in (32768, 3000, 32768)]
    (tmp_path / "s16").mkdir()
    check(_irfft_model(fft_length, rows, "int16", INT16_T), tmp_path / "s16", samples,
          f"irfft int16 {fft_length}")
    samples = [[rng.integers(-2**31, 2**31, size=shape, dtype=np.int64).astype(np.int32)]
               for _ in range(3)]
    (tmp_path / "s32").mkdir()
    check(_irfft_model(fft_length, rows, "int32", INT32_T), tmp_path / "s32", samples,
          f"irfft int32 {fft_length}")
    samples = [[rng.standard_normal(shape).astype(np.float32) * 50] for _ in range(3)]
    (tmp_path / "f32").mkdir()
    check(_irfft_model(fft_length, rows, "float32", FLOAT32_T), tmp_path / "f32", samples,
          f"irfft float32 {fft_length}")


@pytest.mark.parametrize("shape,delay", [((8,), 3), ((2, 5), 7), ((4,), 0), ((3, 6), 6)])
def test_delay_state(shape, delay: int, tmp_path: Path) -> None:
    model = signal_model("SignalDelay", {"delay_length": delay}, [("x", shape, "int16", None)],
                         [("y", shape, "int16")])
    rng = np.random.default_rng(delay)
    samples = [[int16_audio(rng, shape)] for _ in range(N)]
    check(model, tmp_path, samples, "delay")
    if delay:
        _reset_check(model, tmp_path, samples[:3], "delay")


@pytest.mark.parametrize("dtype,t", [("int16", INT16_T), ("float32", FLOAT32_T)])
@pytest.mark.parametrize("shape,step", [((3, 8), 4), ((2, 2, 6), 6), ((1, 5), 1)])
def test_overlap_add_state(shape, step: int, dtype: str, t: int, tmp_path: Path) -> None:
    out = (*shape[:-2], shape[-2] * step)
    model = signal_model("SignalOverlapAdd", {"T": t, "frame_step": step},
                         [("x", shape, dtype, None)], [("y", out, dtype)])
    rng = np.random.default_rng(step)
    if dtype == "int16":
        samples = [[int16_audio(rng, shape)] for _ in range(N)]
    else:
        samples = [[rng.standard_normal(shape).astype(np.float32)] for _ in range(N)]
    check(model, tmp_path, samples, "overlap add")
    _reset_check(model, tmp_path, samples[:3], "overlap add")


@pytest.mark.parametrize("channels,left,right,step", [(3, 1, 0, 1), (4, 2, 1, 2), (2, 0, 0, 1),
                                                      (5, 3, 2, 6)])
def test_stacker_state(channels: int, left: int, right: int, step: int, tmp_path: Path) -> None:
    """The output is compared while valid is true; TFLite Micro leaves it unwritten
    otherwise (utc writes zeros), and valid itself is always compared."""
    size = channels * (left + right + 1)
    model = signal_model("SignalStacker", {"num_channels": channels, "stacker_left_context": left,
                                           "stacker_right_context": right, "stacker_step": step},
                         [("x", (channels,), "int16", None)],
                         [("y", (size,), "int16"), ("valid", (), "bool")])
    rng = np.random.default_rng(size)
    samples = [[int16_audio(rng, (channels,))] for _ in range(3 * (left + right + step) + 2)]
    got = _compile(model, tmp_path).run(samples)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in samples]
    valid = [bool(w[1]) for w in want]
    assert any(valid) and (right == 0 or not all(valid))
    for i, (g, w) in enumerate(zip(got, want)):
        assert bool(g[1]) == bool(w[1]), f"stacker valid at invocation {i}"
        if w[1]:
            assert np.array_equal(g[0], w[0]), f"stacker output at invocation {i}"
        else:
            assert not g[0].any()
    first = samples[:right + 3]
    (tmp_path / "reset").mkdir()
    again = _compile(model, tmp_path / "reset", reset_before=len(first)).run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    for i, (g, w) in enumerate(zip(again, want)):
        assert bool(g[1]) == bool(w[1]) and (not w[1] or np.array_equal(g[0], w[0])), i


# ---- the audio front end ----------------------------------------------------------------------

def audio_frontend(rng: np.random.Generator, step: int = 160, size: int = 400,
                   fft_length: int = 512, channels: int = 40) -> tuple[bytes, dict]:
    """TFLite Micro's audio preprocessor as a graph of signal operators: framer -> window
    -> fft auto scale -> rfft -> energy -> filter bank -> square root (by the auto-scale
    bits) -> spectral subtraction -> PCAN (with the noise estimate) -> log."""
    b = ModelBuilder("utc audio front end")
    bins = fft_length // 2 + 1

    def t(name, shape, dtype, data=None):
        return b.add_tensor(name, shape, dtype, data=data)

    def op(code, ins, outs, opts):
        b.add_operator("CUSTOM", ins, outs, custom_code=code, custom_options=flexbuffer_map(opts))

    audio = t("audio", (step,), "int16")
    frames, valid = t("frames", (1, size), "int16"), t("valid", (), "bool")
    op("SignalFramer", [audio], [frames, valid],
       {"frame_size": size, "frame_step": step, "prefill": True})
    hann = np.round(4096 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size))).astype(np.int16)
    windowed = t("windowed", (1, size), "int16")
    op("SignalWindow", [frames, t("hann", (size,), "int16", hann)], [windowed], {"shift": 12})
    flat = t("flat", (size,), "int16")
    b.add_operator("RESHAPE", [windowed, t("flat_shape", (1,), "int32",
                                           np.array([size], np.int32))], [flat],
                   {"new_shape": [size]})
    scaled, scale_bits = t("scaled", (size,), "int16"), t("scale_bits", (), "int32")
    op("SignalFftAutoScale", [flat], [scaled, scale_bits], {})
    spectrum = t("spectrum", (fft_length + 2,), "int16")
    op("SignalRfft", [scaled], [spectrum], {"T": INT16_T, "fft_length": fft_length})
    energy = t("energy", (bins,), "uint32")
    op("SignalEnergy", [spectrum], [energy], {"end_index": bins, "start_index": 0})
    w, u, fs, ws, wd = mel_tables(rng, bins, channels)
    banks = t("banks", (channels,), "uint64")
    op("SignalFilterBank", [energy, t("w", w.shape, "int16", w), t("u", u.shape, "int16", u),
                            t("fs", fs.shape, "int16", fs), t("ws", ws.shape, "int16", ws),
                            t("wd", wd.shape, "int16", wd)], [banks], {"num_channels": channels})
    roots = t("roots", (channels,), "uint32")
    op("SignalFilterBankSquareRoot", [banks, scale_bits], [roots], {})
    clean, noise = t("clean", (channels,), "uint32"), t("noise", (channels,), "uint32")
    op("SignalFilterBankSpectralSubtraction", [roots], [clean, noise],
       {**SPECTRAL, "num_channels": channels})
    lut = gain_lut(rng)
    normalized = t("normalized", (channels,), "uint32")
    op("SignalPCAN", [clean, noise, t("lut", lut.shape, "int16", lut)], [normalized],
       {"snr_shift": 6})
    features = t("features", (channels,), "int16")
    op("SignalFilterBankLog", [normalized], [features],
       {"input_correction_bits": 3, "output_scale": 1600})
    return b.build([audio], [features, noise]), {"step": step}


@pytest.mark.parametrize("opt_level", [0, 2])
def test_audio_frontend(opt_level: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    model, info = audio_frontend(rng)
    t = np.arange(12 * info["step"])
    tone = (8000 * np.sin(2 * np.pi * 440 * t / 16000)).astype(np.int16)
    noise = int16_audio(rng, t.shape, 2000)
    audio = (tone + noise).astype(np.int16).reshape(12, info["step"])
    samples = [[frame] for frame in audio]
    got = _compile(model, tmp_path, opt_level=opt_level).run(samples)
    tflm = TflmRunner(model)
    _assert_same(got, [tflm.invoke(s) for s in samples], f"audio front end -O{opt_level}")
    assert len({g[0].tobytes() for g in got}) > 1
    # and after NAME_reset(), against TFLite Micro's Reset()
    first = samples[:4]
    (tmp_path / "reset").mkdir()
    got = _compile(model, tmp_path / "reset", opt_level=opt_level,
                   reset_before=4).run(first + first)
    tflm = TflmRunner(model)
    want = [tflm.invoke(s) for s in first]
    tflm.reset()
    want += [tflm.invoke(s) for s in first]
    _assert_same(got, want, "audio front end reset")


# ---- refusals -------------------------------------------------------------------------------

def _refused(model: bytes, tmp_path: Path) -> str:
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


def _custom(code: str, options: bytes | None = None) -> bytes:
    b = ModelBuilder("t")
    x = b.add_tensor("x", (4,), "int8", scale=0.1, zero_point=0)
    y = b.add_tensor("y", (4,), "int8", scale=0.1, zero_point=0)
    b.add_operator("CUSTOM", [x], [y], custom_code=code, custom_options=options)
    return b.build([x], [y])


@pytest.mark.parametrize("code,says", [
    ("ethos-u", "operator #0 CUSTOM 'ethos-u': an Ethos-U NPU command stream (from Arm's "
                "Vela); utc compiles the original .tflite instead"),
    ("FlexRFFT", "operator #0 CUSTOM 'FlexRFFT': a TensorFlow operator kept by the converter's "
                 "SELECT_TF_OPS"),
    ("TFLite_Detection_PostProcess", "SSD detection post-processing"),
    ("AudioSpectrogram", "TensorFlow Lite's AudioSpectrogram audio operator is not supported"),
    ("SignalMfcc", "'SignalMfcc' is not one of the TFLite Micro signal-library operators utc "
                   "implements"),
    ("MyOp", "operator #0 CUSTOM 'MyOp' is not supported (see SUPPORTED_OPS.md"),
    ("", "operator #0 CUSTOM '': a CUSTOM operator without a custom_code is not supported"),
])
def test_unknown_custom_operators_are_refused(code: str, says: str, tmp_path: Path) -> None:
    assert says in _refused(_custom(code), tmp_path)


def test_bad_options_are_refused(tmp_path: Path) -> None:
    x = ("x", (8,), "int16", None)
    w = ("w", (8,), "int16", np.ones(8, np.int16))
    cases = [
        (signal_model("SignalWindow", {"shft": 3}, [x, w], [("y", (8,), "int16")]),
         "custom options hold keys ['shft']; TFLite Micro reads ['shift'] by position"),
        (signal_model("SignalWindow", {"shift": 3, "extra": 1}, [x, w], [("y", (8,), "int16")]),
         "custom options hold keys ['extra', 'shift']"),
        (_rfft_model(12, (12,), "int16", INT16_T), "fft_length 12 is not supported"),
        (_rfft_model(8, (8,), "int16", FLOAT32_T), "option T = 0 does not name the input's type"),
        (_framer_model((4,), 4, 2, prefill=False), "prefill false is not supported"),
        (signal_model("SignalWindow", {"shift": 3}, [("x", (8,), "int8", None), w],
                      [("y", (8,), "int8")]), "'input' must be a tensor of i16"),
    ]
    for k, (model, says) in enumerate(cases):
        (tmp_path / str(k)).mkdir()
        line = _refused(model, tmp_path / str(k))
        assert says in line, line
        assert "SignalWindow" in line or "SignalRfft" in line or "SignalFramer" in line


def test_uint32_tensors_only_for_signal_operators(tmp_path: Path) -> None:
    b = ModelBuilder("t")
    x = b.add_tensor("x", (4,), "uint32")
    y = b.add_tensor("y", (4,), "uint32")
    b.add_operator("RESHAPE", [x, b.add_tensor("s", (1,), "int32", data=np.array([4], np.int32))],
                   [y], {"new_shape": [4]})
    assert "has type UINT32, which utc supports only for TFLite Micro's signal-library" in \
        _refused(b.build([x], [y]), tmp_path)


def test_verify_per_layer_on_the_audio_front_end(tmp_path: Path) -> None:
    """`utc verify --per-layer` taps every kernel call against TFLite Micro's tensors:
    the signal kernels and the noise estimate's state write all match."""
    model, _ = audio_frontend(np.random.default_rng(12))
    path = tmp_path / "frontend.tflite"
    path.write_bytes(model)
    proc = subprocess.run([sys.executable, "-m", "utc.compiler.driver.cli", "verify", str(path),
                           "--per-layer", "--samples", "4"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every layer (11) and output matches" in proc.stdout + proc.stderr


def _stacker_model(channels: int = 4, left: int = 2, right: int = 1, step: int = 2) -> bytes:
    size = channels * (left + right + 1)
    return signal_model("SignalStacker", {"num_channels": channels, "stacker_left_context": left,
                                          "stacker_right_context": right, "stacker_step": step},
                        [("x", (channels,), "int16", None)],
                        [("y", (size,), "int16"), ("valid", (), "bool")])


SANITIZED = {
    "frontend": lambda: audio_frontend(np.random.default_rng(13))[0],
    "rfft_s32": lambda: _rfft_model(64, (2, 64), "int32", INT32_T),
    "irfft_s16": lambda: _irfft_model(64, (2,), "int16", INT16_T),
    "irfft_s32": lambda: _irfft_model(32, (), "int32", INT32_T),
    "overlap_add_s16": lambda: signal_model("SignalOverlapAdd", {"T": INT16_T, "frame_step": 3},
                                            [("x", (2, 2, 8), "int16", None)],
                                            [("y", (2, 6), "int16")]),
    "stacker": _stacker_model,
    "delay": lambda: signal_model("SignalDelay", {"delay_length": 5},
                                  [("x", (2, 4), "int16", None)], [("y", (2, 4), "int16")]),
}


@pytest.mark.parametrize("name", sorted(SANITIZED))
def test_signal_kernels_are_sanitizer_clean(name: str, tmp_path: Path) -> None:
    """Full-range inputs through AddressSanitizer and UndefinedBehaviorSanitizer (the
    kernels' fixed-point shifts and wrapping sums included), several invocations."""
    import os

    from utc.codegen.host_build import build_runner, decode_outputs, run_runner_process
    from utc.compiler.driver import compile_model

    from tests.e2e.harness import io_of
    from tests.e2e.test_sanitizers import SANITIZE, SANITIZER_ENV
    from tests.oracle import random_inputs

    model = SANITIZED[name]()
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    result = compile_model(path, tmp_path / "out", name="m", opt_level=2)
    ins, outs = io_of(result.module)
    exe = build_runner(tmp_path / "out", "m", len(ins), len(outs), tmp_path / "build",
                       ["-O1", *SANITIZE])
    rng = np.random.default_rng(3)
    samples = []
    for _ in range(4):
        sample = []
        for shape, dtype in ins:
            info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
            sample.append(rng.integers(info.min, info.max, size=shape, dtype=np.int64,
                                       endpoint=True).astype(dtype) if info is not None
                          else rng.standard_normal(shape).astype(dtype))
        samples.append(sample)
    samples += [random_inputs(model, rng) for _ in range(2)]
    proc = run_runner_process(exe, samples, env={**os.environ, **SANITIZER_ENV})
    report = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0 and report == "", report[:4000]
    got = decode_outputs(proc.stdout, len(samples), outs)
    tflm = TflmRunner(model)
    for i, (sample, out) in enumerate(zip(samples, got)):
        want = tflm.invoke(sample)
        for k, (g, w) in enumerate(zip(out, want)):
            if name == "stacker" and k == 0 and not want[1]:
                continue  # unwritten by TFLite Micro while not valid
            assert np.array_equal(g, w), f"{name} invocation {i} output {k}"
