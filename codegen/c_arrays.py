"""The initializer text of a constant C array, formatted by numpy and written in chunks.

A model's weights are most of what utc writes (MobileNetV2: 3.5 million numbers, 17 MB of
text). Formatting them one Python string per element took longer than the whole rest of
the compile and held every string at once. Here integers become decimal text with a
few whole-array numpy operations: the digits of every element in one character matrix,
unused cells NUL, one `tobytes()` and one `translate` that drops the NULs. Small types
(int8 above all) go through a table of every value's spelling instead: one gather. Arrays are
formatted in chunks of `CHUNK` elements, so however large a constant is, only one
chunk's text exists at a time and it goes straight to the output file.

The text is exactly what utc always wrote: `, ` between elements, a new line indented
by two spaces after every `per_line` elements (24 integers, 32 booleans, 8 floats), and
INT32_MIN as `(-2147483647 - 1)` (the literal 2147483648 does not fit an int32, so
`-2147483648` would be a long). float32 elements keep numpy's shortest round-trip
spelling, one call per element (of numpy's Dragon4 routine itself): float weights are
rare and small (float and hybrid models), and no whole-array routine spells floats this way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from utc.compiler.errors import CompileError

#: Elements formatted at once (rounded down to whole lines): bounds the text and the
#: digit matrix held in memory to a few hundred KB.
CHUNK = 1 << 14

_INT32_MIN_TEXT = b"-2147483648"
_INT32_MIN_SPELLED = b"(-2147483647 - 1)"
_NUL = ord("\0")


def per_line(dtype: np.dtype) -> int:
    """Elements per line of the initializer for `dtype`."""
    if dtype == np.float32:
        return 8
    if dtype == np.bool_:
        return 32
    return 24


def _separators(start: int, count: int, total: int, line: int) -> np.ndarray:
    """(count, 4) bytes following elements start..start+count-1 of `total`: `, `, or
    `,\\n  ` after every `line`-th element, nothing after the last; NUL-padded."""
    index = np.arange(start, start + count)
    sep = np.zeros((count, 4), dtype=np.uint8)
    sep[:, 0] = ord(",")
    sep[:, 1] = ord(" ")
    eol = (index + 1) % line == 0
    sep[eol, 1] = ord("\n")
    sep[eol, 2:] = ord(" ")
    sep[index == total - 1] = 0
    return sep


def _decimal(values: np.ndarray) -> np.ndarray:
    """(n, width) bytes: each integer's decimal spelling, right-aligned and NUL-padded,
    after a column holding its minus sign (or NUL). `values`: a flat integer or bool
    array whose values fit int64."""
    v = values.astype(np.int64)
    negative = v < 0
    # magnitudes as uint64, so that INT64_MIN has one: -(v + 1) + 1 never overflows
    magnitude = np.where(negative, (-(v + 1)).astype(np.uint64) + np.uint64(1),
                         v.astype(np.uint64))
    largest = int(magnitude.max()) if magnitude.size else 0
    digits = len(str(largest))
    powers = np.uint64(10) ** np.arange(digits - 1, -1, -1, dtype=np.uint64)
    cells = (magnitude[:, None] // powers[None, :]) % np.uint64(10)
    # a digit is shown from the first non-zero one on (the last one always)
    shown = np.maximum.accumulate(cells != 0, axis=1)
    shown[:, -1] = True
    text = np.zeros((v.size, digits + 1), dtype=np.uint8)
    text[:, 1:] = np.where(shown, cells.astype(np.uint8) + ord("0"), _NUL)
    text[negative, 0] = ord("-")
    return text


#: Integer types with few enough values to spell through a table of all their spellings
#: (one gather per chunk instead of digit arithmetic): most weights are int8.
_TABLED = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.uint16),
           np.dtype(np.bool_))
_MID, _EOL = b", ", b",\n  "


@dataclass(frozen=True)
class _Spellings:
    """Every value of a small integer type spelled three ways, one row per value from
    the smallest up, NUL-padded to a multiple of 8 bytes: followed by `, ` (`mid`), by
    the line break (`eol`), or by nothing (`bare`, the last element). Rows of exactly 8
    bytes are viewed as one uint64 each, which numpy gathers several times faster than
    rows of bytes."""

    mid: np.ndarray
    eol: np.ndarray
    bare: np.ndarray
    low: int

    @classmethod
    @functools.cache
    def of(cls, dtype: np.dtype) -> _Spellings:
        if dtype == np.bool_:
            values, low = np.array([0, 1]), 0
        else:
            info = np.iinfo(dtype)
            values, low = np.arange(info.min, info.max + 1), int(info.min)
        digits = _decimal(values)
        width = -(-(digits.shape[1] + len(_EOL)) // 8) * 8
        rows = []
        for tail in (_MID, _EOL, b""):
            row = np.zeros((values.size, width), dtype=np.uint8)
            row[:, : digits.shape[1]] = digits
            row[:, digits.shape[1] : digits.shape[1] + len(tail)] = np.frombuffer(tail, np.uint8)
            rows.append(row.view(np.uint64).reshape(-1) if width == 8 else row)
        return cls(*rows, low)

    def index(self, part: np.ndarray) -> np.ndarray:
        """Each element's row: its value minus the smallest value."""
        if part.dtype == np.int8:
            return part.view(np.uint8) ^ np.uint8(0x80)
        if part.dtype == np.bool_:  # a bool read from a file may hold any non-zero byte
            return (part.view(np.uint8) != 0).view(np.uint8)
        if part.dtype == np.uint8:
            return part
        return part.astype(np.intp) - self.low


def _tabled_chunks(flat: np.ndarray, line: int) -> Iterator[bytes]:
    table = _Spellings.of(flat.dtype)
    total = flat.size
    chunk = max(CHUNK - CHUNK % line, line)  # whole lines: line breaks at fixed places
    for start in range(0, total, chunk):
        index = table.index(flat[start : start + chunk])
        text = table.mid[index]
        text[line - 1 :: line] = table.eol[index[line - 1 :: line]]
        if start + chunk >= total:
            text[-1] = table.bare[index[-1]]
        yield text.tobytes().translate(None, bytes([_NUL]))


#: Integer arrays up to this many elements (and not over one chunk) are spelled with
#: Python's `str` instead: the whole-array route costs ~0.1 ms per array in fixed numpy
#: overhead, more than spelling a few hundred ints one by one (a model has hundreds of
#: small bias and requantization arrays).
SMALL = 512


def _small_integer_chunks(flat: np.ndarray, line: int) -> Iterator[bytes]:
    items = [str(v) for v in flat.tolist()]
    if flat.dtype == np.int32:
        items = [_INT32_MIN_SPELLED.decode() if v == "-2147483648" else v for v in items]
    lines = [", ".join(items[i : i + line]) for i in range(0, len(items), line)]
    yield ",\n  ".join(lines).encode("ascii")


def _integer_chunks(flat: np.ndarray, line: int) -> Iterator[bytes]:
    if flat.dtype in _TABLED:
        yield from _tabled_chunks(flat, line)
        return
    total = flat.size
    if total <= min(SMALL, CHUNK):
        yield from _small_integer_chunks(flat, line)
        return
    int32 = flat.dtype == np.int32
    chunk = max(CHUNK - CHUNK % line, line)  # whole lines: every chunk but the last has
    pattern = _separators(0, chunk, total + chunk, line) if total > chunk else None  # these
    for start in range(0, total, chunk):
        part = flat[start : start + chunk]
        digits = _decimal(part)
        width = digits.shape[1]
        matrix = np.empty((part.size, width + 4), dtype=np.uint8)
        matrix[:, :width] = digits
        if pattern is not None and start + chunk < total:
            matrix[:, width:] = pattern
        else:
            matrix[:, width:] = _separators(start, part.size, total, line)
        text = matrix.tobytes().translate(None, bytes([_NUL]))
        if int32:
            text = text.replace(_INT32_MIN_TEXT, _INT32_MIN_SPELLED)
        yield text


@functools.cache
def _float_speller() -> Callable[[np.ndarray], list[str]]:
    """The spellings `np.format_float_scientific(x, unique=True, trim="0")` of a float32
    array's elements: numpy's Dragon4 routine itself, called without the public wrapper
    (whose argument handling was more than half of the time per element), after checking
    on a few values that it spells them exactly as the wrapper does; else the wrapper."""

    def public(part: np.ndarray) -> list[str]:
        return [np.format_float_scientific(x, unique=True, trim="0") for x in part]

    try:
        from numpy._core.multiarray import dragon4_scientific
    except ImportError:
        return public

    def direct(part: np.ndarray) -> list[str]:
        return [dragon4_scientific(x, unique=True, trim="0") for x in part]

    probes = np.array([0.0, -0.0, 0.1, -1.5, 1e-45, 3.4028235e38, 123456.78, -7e-20],
                      dtype=np.float32)
    try:
        if direct(probes) == public(probes):
            return direct
    except (TypeError, ValueError):
        pass
    return public


def _float_chunks(flat: np.ndarray, line: int) -> Iterator[bytes]:
    finite = np.isfinite(flat)
    if not finite.all():
        bad = flat[np.argmin(finite)]
        raise CompileError(f"cannot emit non-finite weight value {bad}")
    total = flat.size
    spell = _float_speller()
    chunk = max(CHUNK - CHUNK % line, line)  # whole lines, joined by the line break
    for start in range(0, total, chunk):
        if start:
            yield b",\n  "
        part = flat[start : start + chunk]
        items = [text + "f" for text in spell(part)]
        lines = [", ".join(items[i : i + line]) for i in range(0, len(items), line)]
        yield ",\n  ".join(lines).encode("ascii")


def value_chunks(data: np.ndarray) -> Iterator[bytes]:
    """The initializer text of `data` (any shape, read in C order), in ASCII chunks."""
    flat = data.reshape(-1)
    line = per_line(flat.dtype)
    if flat.dtype == np.float32:
        return _float_chunks(flat, line)
    if flat.dtype == np.bool_ or np.issubdtype(flat.dtype, np.integer):
        return _integer_chunks(flat, line)
    raise CompileError(f"cannot emit weights of type {flat.dtype}")


def format_values(data: np.ndarray) -> str:
    """The whole initializer text of `data` as one string (for small arrays)."""
    return b"".join(value_chunks(data)).decode("ascii")
