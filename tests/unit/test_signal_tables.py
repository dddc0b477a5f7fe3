"""The signal library's pure functions: reading FlexBuffers custom options the way TFLite
Micro does (by position, so exactly its keys), and kissfft's compile-time tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from utc.compiler.importers.tflite_signal import flexbuffer_options
from utc.dialects.signal_math import kf_factor, rfft_tables

from tests.tflite_writer import flexbuffer_map

FRAMER = {"frame_size": "int", "frame_step": "int", "prefill": "bool"}


def test_flexbuffer_options_reads_ints_and_bools() -> None:
    raw = flexbuffer_map({"prefill": True, "frame_step": 160, "frame_size": 400})
    assert flexbuffer_options(raw, FRAMER) == {"frame_size": 400, "frame_step": 160,
                                               "prefill": True}
    # a bool written as an int (as TensorFlow's converter does for some attributes)
    raw = flexbuffer_map({"prefill": 0, "frame_step": -3, "frame_size": 2**31 - 1})
    assert flexbuffer_options(raw, FRAMER) == {"frame_size": 2**31 - 1, "frame_step": -3,
                                               "prefill": False}


def test_flexbuffer_map_sorts_keys_as_tflite_micro_reads_them() -> None:
    """TFLite Micro reads element i of the map: the keys' sorted order ('T' < 'fft_length')."""
    from flatbuffers import flexbuffers

    m = flexbuffers.GetRoot(bytearray(flexbuffer_map({"fft_length": 512, "T": 7}))).AsMap
    assert [k.AsKey for k in m.Keys] == ["T", "fft_length"]
    assert [v.AsInt for v in m.Values] == [7, 512]


@pytest.mark.parametrize("options,says", [
    ({"frame_size": 4, "frame_step": 2}, "hold keys ['frame_size', 'frame_step']; TFLite Micro "
                                         "reads ['frame_size', 'frame_step', 'prefill']"),
    ({"frame_size": 4, "frame_step": 2, "prefill": True, "zz": 1}, "hold keys"),
    ({"frame_size": 2**31, "frame_step": 2, "prefill": True}, "does not fit int32"),
])
def test_flexbuffer_options_refuses_other_maps(options: dict, says: str) -> None:
    with pytest.raises(ValueError) as info:
        flexbuffer_options(flexbuffer_map(options), FRAMER)
    assert says in str(info.value)


def test_flexbuffer_options_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="has no custom options"):
        flexbuffer_options(b"", FRAMER)
    for raw in (b"\x00", b"\x01\x02\x03", bytes(range(40)), b"\xff" * 16):
        with pytest.raises(ValueError):
            flexbuffer_options(raw, FRAMER)


def test_optional_keys() -> None:
    raw = flexbuffer_map({"T": 7, "frame_step": 4})
    assert flexbuffer_options(raw, {"frame_step": "int"}, optional=("T",)) == {"T": 7,
                                                                                "frame_step": 4}


@pytest.mark.parametrize("n,factors", [(1, [1, 1]), (2, [2, 1]), (4, [4, 1]), (8, [4, 2, 2, 1]),
                                       (256, [4, 64, 4, 16, 4, 4, 4, 1]), (12, [4, 3, 3, 1]),
                                       (30, [2, 15, 3, 5, 5, 1]), (7, [7, 1])])
def test_kf_factor_is_kissfft_stage_plan(n: int, factors: list[int]) -> None:
    assert kf_factor(n) == factors
    stages = kf_factor(n)
    assert math.prod(stages[0::2]) == n and stages[-1] == 1


def test_rfft_tables_int16_values() -> None:
    """fft_length 8: a 4-point complex FFT (twiddles e^{-2 pi i k / 4} * 32767, rounded by
    floor(x + 0.5)) and two super twiddles e^{-i pi ((k + 1) / 4 + 1/2)}."""
    factors, tw, sup = rfft_tables(8, "i16")
    assert factors.tolist() == [4, 1]
    assert tw.dtype == np.int16
    assert tw.tolist() == [32767, 0, 0, -32767, -32767, 0, 0, 32767]
    c = math.floor(0.5 + 32767 * math.cos(-math.pi * 0.75))
    s = math.floor(0.5 + 32767 * math.sin(-math.pi * 0.75))
    assert sup.tolist() == [c, s, -32767, 0]
    assert c == -23170 and s == -23170


def test_rfft_tables_types_and_inverse() -> None:
    _, tw32, sup32 = rfft_tables(16, "i32")
    assert tw32.dtype == np.int32 and tw32[0] == 2147483647 and len(tw32) == 16
    assert len(sup32) == 8
    _, twf, supf = rfft_tables(16, "f32")
    assert twf.dtype == np.float32 and twf[0] == 1.0
    assert twf[3] == np.float32(math.sin(-2 * math.pi / 8))
    _, twi, supi = rfft_tables(16, "i16", inverse=True)
    _, twf16, supf16 = rfft_tables(16, "i16")
    assert np.array_equal(twi[0::2], twf16[0::2]) and np.array_equal(twi[1::2], -twf16[1::2])
    assert np.array_equal(supi[0::2], supf16[0::2]) and np.array_equal(supi[1::2], -supf16[1::2])
