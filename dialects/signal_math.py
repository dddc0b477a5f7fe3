"""The compile-time tables of TFLite Micro's real FFT (kissfft v130, which its signal
library builds at Init): the stage factors, the complex FFT's twiddles and the real FFT's
"super twiddles", computed as kissfft computes them (double-precision phase, then
`floor(0.5 + SAMP_MAX * cos)` for fixed point, `(float)cos` for float32).

Plain functions of the FFT length and element type, used by the importer to attach the
tables to `signal.rfft` (so the kernel needs no trigonometry) and unit tested on their own.
"""

from __future__ import annotations

import math

import numpy as np

#: SAMP_MAX of kissfft's fixed-point builds, by element type.
SAMP_MAX = {"i16": 32767, "i32": 2147483647}


def kf_factor(n: int) -> list[int]:
    """kissfft's stage plan [p1, m1, p2, m2, ...]: powers of 4 first, then 2, then odd
    primes (p * m of a stage is the previous stage's m; the first m0 is n)."""
    out: list[int] = []
    p = 4
    floor_sqrt = math.floor(math.sqrt(float(n)))
    while True:
        while n % p:
            p = {4: 2, 2: 3}.get(p, p + 2)
            if p > floor_sqrt:
                p = n
        n //= p
        out += [p, n]
        if n <= 1:
            return out


def _cexp(phase: float, element: str) -> tuple[float | int, float | int]:
    if element == "f32":
        return float(np.float32(math.cos(phase))), float(np.float32(math.sin(phase)))
    top = SAMP_MAX[element]
    return math.floor(0.5 + top * math.cos(phase)), math.floor(0.5 + top * math.sin(phase))


def rfft_tables(fft_length: int, element: str,
                inverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(factors int32, twiddles, super_twiddles) of a real FFT of `fft_length` (even),
    forward or `inverse` (kissfft negates every phase): the twiddles of the fft_length / 2
    complex FFT and fft_length / 4 super twiddles, each complex value as (real,
    imaginary), of the element type ("i16", "i32" or "f32")."""
    ncfft = fft_length // 2
    dtype = {"i16": np.int16, "i32": np.int32, "f32": np.float32}[element]
    pi = math.pi
    sign = -1.0 if inverse else 1.0
    twiddles = [_cexp(sign * (-2 * pi * i / ncfft), element) for i in range(ncfft)]
    supers = [_cexp(sign * (-pi * ((i + 1) / ncfft + 0.5)), element)
              for i in range(ncfft // 2)]
    return (np.asarray(kf_factor(ncfft), np.int32),
            np.asarray(twiddles, dtype).reshape(-1),
            np.asarray(supers, dtype).reshape(-1) if supers else np.zeros(2, dtype))
