"""codegen/c_arrays.py writes exactly the initializer text utc always wrote: compared
element for element with the per-element formatter it replaced (kept here as the
reference), over every dtype the emitter meets, extreme values, and sizes around the
line and chunk boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from utc.codegen import c_arrays
from utc.codegen.c_arrays import format_values, value_chunks
from utc.compiler.errors import CompileError


def reference(data: np.ndarray) -> str:
    """The formatter emit_cpp used before: one Python string per element."""
    flat = data.reshape(-1)
    if flat.dtype == np.float32:
        items = []
        for x in flat:
            if not np.isfinite(x):
                raise CompileError(f"cannot emit non-finite weight value {x}")
            items.append(np.format_float_scientific(x, unique=True, trim="0") + "f")
        per_line = 8
    elif flat.dtype == np.bool_:
        items = ["1" if x else "0" for x in flat]
        per_line = 32
    else:
        items = [str(int(x)) for x in flat]
        per_line = 24
        if flat.dtype == np.int32:
            items = [f"{v}" if v != "-2147483648" else "(-2147483647 - 1)" for v in items]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n  ".join(lines)


INT_DTYPES = (np.int8, np.uint8, np.int16, np.int32, np.int64)
SIZES = (0, 1, 7, 23, 24, 25, 31, 32, 33, 48, 100, 1000)


def sample(dtype, size: int, rng: np.random.Generator) -> np.ndarray:
    if dtype == np.bool_:
        return rng.integers(0, 2, size).astype(np.bool_)
    if dtype == np.float32:
        scale = 10.0 ** rng.integers(-40, 39, size)
        return (rng.standard_normal(size) * scale).astype(np.float32)
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, size, endpoint=True, dtype=dtype)
    extremes = np.array([info.min, info.max, 0, -1 if info.min < 0 else 1, 1, 9, 10, 99, 100],
                        dtype=dtype)
    values[: min(size, extremes.size)] = extremes[: min(size, extremes.size)]
    return values


@pytest.mark.parametrize("dtype", [*INT_DTYPES, np.bool_, np.float32])
@pytest.mark.parametrize("size", SIZES)
def test_same_text_as_the_per_element_formatter(dtype, size: int) -> None:
    data = sample(dtype, size, np.random.default_rng(size))
    assert format_values(data) == reference(data)


@pytest.mark.parametrize("dtype", [*INT_DTYPES, np.bool_, np.float32])
def test_chunk_boundaries(dtype, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks, not multiples of the line length: the text is unchanged and comes
    in several pieces."""
    monkeypatch.setattr(c_arrays, "CHUNK", 20)
    data = sample(dtype, 203, np.random.default_rng(1))
    assert len(list(value_chunks(data))) > 5
    assert format_values(data) == reference(data)


def test_small_magnitudes_only() -> None:
    """A chunk whose largest magnitude has one digit (and all zeros)."""
    for data in (np.zeros(30, np.int8), np.array([-1, 0, 1, -9, 9], np.int32)):
        assert format_values(data) == reference(data)


def test_multidimensional_arrays_read_in_c_order() -> None:
    data = np.arange(-60, 60, dtype=np.int16).reshape(2, 3, 4, 5)
    assert format_values(data) == reference(data)
    assert format_values(data).startswith("-60, -59, ")


def test_int32_min_only_for_int32() -> None:
    assert format_values(np.array([-2**31, 5], np.int32)) == "(-2147483647 - 1), 5"
    assert format_values(np.array([-2**31, 5], np.int64)) == "-2147483648, 5"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_is_refused_like_before(bad: float) -> None:
    data = np.array([1.0, 2.0, bad, np.nan], np.float32)
    with pytest.raises(CompileError) as new:
        format_values(data)
    with pytest.raises(CompileError) as old:
        reference(data)
    assert str(new.value) == str(old.value)


def test_other_dtypes_are_refused() -> None:
    with pytest.raises(CompileError, match="float64"):
        format_values(np.zeros(3, np.float64))


def test_bool_bytes_other_than_one_are_true() -> None:
    """A bool constant read from a model file may hold any non-zero byte; like the old
    formatter's truth test, it is written as 1."""
    data = np.frombuffer(bytes([0, 1, 2, 255, 0, 7]), dtype=np.bool_)
    assert format_values(data) == reference(data) == "0, 1, 1, 1, 0, 1"


def test_float_speller_is_numpys_public_spelling() -> None:
    """The direct Dragon4 call (or its fallback) spells every float32 as
    np.format_float_scientific(unique=True, trim="0") does: subnormals, extremes, signs."""
    spell = c_arrays._float_speller()
    values = sample(np.float32, 5000, np.random.default_rng(7))
    values = np.concatenate([values[np.isfinite(values)],
                             np.array([0.0, -0.0, 1e-45, -1e-45, 3.4028235e38, 1.0, 0.5],
                                      dtype=np.float32)])
    assert spell(values) == [np.format_float_scientific(x, unique=True, trim="0") for x in values]
