"""`signal` dialect: TFLite Micro's signal library (its audio front end), which models carry
as CUSTOM operators named `Signal*` with FlexBuffers options.

The ops compute on plain integers (int16 samples, uint32 energies, uint64 filter bank
sums) or float32, never on quantized types: the library's fixed-point formats are the
operators' own (`shift`, `scale_bits`, `output_scale`, ...), so the ops stay as they are
from the `tensor` level to kernel selection (`lower-to-qnn` has nothing to lower).

Stateful operators (spectral subtraction's noise estimate, the framer's sample history)
are pure here: the state is an operand (`state.read` of a `state.variable`) and its new
value a result (written back by `state.write`), so the state region, `NAME_reset()` and
the planner's rules for variables apply to them unchanged.
"""

from __future__ import annotations

from utc.compiler.ir import Operation, ResourceRef, ScalarType, TensorType, attr, operand, result

from .common import KernelChoice

I16 = ScalarType("i16")
I32 = ScalarType("i32")
UI32 = ScalarType("ui32")
UI64 = ScalarType("ui64")
F32 = ScalarType("f32")
BOOL = ScalarType("i1")


def _check(op: Operation, field: str, elements: tuple[ScalarType, ...], rank: int | None = None,
           is_result: bool = False) -> TensorType:
    t = getattr(op, field).type
    if not isinstance(t, TensorType) or t.element not in elements:
        names = " or ".join(str(e) for e in elements)
        raise op.error(f"'{field}' must be a tensor of {names} (plain, not quantized), got {t}")
    if rank is not None and t.rank != rank:
        raise op.error(f"'{field}' must have rank {rank}, got {t}")
    return t


def _elements(t: TensorType) -> int:
    n = 1
    for d in t.shape:
        n *= d
    return n


class WindowOp(KernelChoice, Operation):
    """output[i] = clamp((input[i] * weights[i % n]) >> shift, int16), n = len(weights):
    every run of n samples windowed (SignalWindow)."""

    name = "signal.window"
    input = operand()
    weights = operand()
    output = result()
    shift = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16,))
        w = _check(self, "weights", (I16,), rank=1)
        y = _check(self, "output", (I16,), is_result=True)
        if x.shape != y.shape:
            raise self.error(f"output {y} must have the input's shape {x}")
        if _elements(x) % w.shape[0]:
            raise self.error(f"input of {_elements(x)} samples is not a whole number of "
                             f"{w.shape[0]}-sample windows")
        if not 0 <= self.shift <= 31:
            raise self.error(f"shift must be in [0, 31], got {self.shift}")


class FftAutoScaleOp(KernelChoice, Operation):
    """Shift the samples left as far as the largest magnitude allows; `scale_bit` is the
    shift (SignalFftAutoScale)."""

    name = "signal.fft_auto_scale"
    input = operand()
    output = result()
    scale_bit = result()

    def verify_(self) -> None:
        x = _check(self, "input", (I16,), rank=1)
        y = _check(self, "output", (I16,), rank=1, is_result=True)
        s = _check(self, "scale_bit", (I32,), rank=0, is_result=True)
        if x.shape != y.shape or _elements(s) != 1:
            raise self.error("output must have the input's shape and scale_bit one element")


class RfftOp(KernelChoice, Operation):
    """Real FFT of every last-axis row (zero-padded to fft_length), kissfft's arithmetic
    (fixed point for int16 and int32): output rows of fft_length / 2 + 1 complex values,
    real and imaginary interleaved (SignalRfft)."""

    name = "signal.rfft"
    input = operand()
    output = result()
    fft_length = attr(int)
    #: kissfft's tables (dialects/signal_math.rfft_tables): stage factors (int32), twiddles
    #: and super twiddles (interleaved complex, the element type)
    factors = attr(ResourceRef)
    twiddles = attr(ResourceRef)
    super_twiddles = attr(ResourceRef)

    def verify_(self) -> None:
        x = _check(self, "input", (I16, I32, F32))
        y = _check(self, "output", (x.element,), is_result=True)
        n = self.fft_length
        if n < 4 or n & (n - 1):
            raise self.error(f"fft_length must be a power of two >= 4, got {n}")
        if x.rank != y.rank or x.shape[:-1] != y.shape[:-1] or y.shape[-1] != n + 2:
            raise self.error(f"output {y} must be the input's rows of fft_length + 2 = {n + 2}")
        if x.shape[-1] > n:
            raise self.error(f"rows of {x.shape[-1]} samples exceed fft_length {n}")


class EnergyOp(KernelChoice, Operation):
    """output[i] = re^2 + im^2 of complex bin i, for start_index <= i < end_index; the
    other elements are 0 (TFLite Micro leaves them unwritten) (SignalEnergy)."""

    name = "signal.energy"
    input = operand()
    output = result()
    start_index = attr(int)
    end_index = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16,), rank=1)
        y = _check(self, "output", (UI32,), rank=1, is_result=True)
        if x.shape[0] != 2 * y.shape[0]:
            raise self.error(f"output {y} must have one element per complex input bin")
        if not 0 <= self.start_index <= self.end_index <= y.shape[0]:
            raise self.error(f"bins [{self.start_index}, {self.end_index}) must lie in "
                             f"[0, {y.shape[0]}]")


class FilterBankOp(KernelChoice, Operation):
    """Mel filter bank: each channel the weighted sum of its energies plus the previous
    channel's unweighted sum (uint64) (SignalFilterBank)."""

    name = "signal.filter_bank"
    input = operand()
    weights = operand()
    unweights = operand()
    channel_frequency_starts = operand()
    channel_weight_starts = operand()
    channel_widths = operand()
    output = result()
    num_channels = attr(int)

    def verify_(self) -> None:
        _check(self, "input", (UI32,), rank=1)
        for f in ("weights", "unweights", "channel_frequency_starts",
                  "channel_weight_starts", "channel_widths"):
            _check(self, f, (I16,), rank=1)
        y = _check(self, "output", (UI64,), rank=1, is_result=True)
        if y.shape[0] != self.num_channels:
            raise self.error(f"output {y} must have num_channels = {self.num_channels} elements")
        for f in ("channel_frequency_starts", "channel_weight_starts", "channel_widths"):
            if getattr(self, f).type.shape[0] != self.num_channels + 1:
                raise self.error(f"'{f}' must have num_channels + 1 elements")


class FilterBankSquareRootOp(KernelChoice, Operation):
    """output[i] = isqrt(input[i]) >> scale_bits (SignalFilterBankSquareRoot)."""

    name = "signal.filter_bank_square_root"
    input = operand()
    scale_bits = operand()
    output = result()

    def verify_(self) -> None:
        x = _check(self, "input", (UI64,), rank=1)
        s = _check(self, "scale_bits", (I32,), rank=0)
        y = _check(self, "output", (UI32,), rank=1, is_result=True)
        if x.shape != y.shape or _elements(s) != 1:
            raise self.error("output must have the input's length and scale_bits one element")


class FilterBankLogOp(KernelChoice, Operation):
    """output[i] = fixed-point log(input[i] << input_correction_bits) * output_scale,
    saturated to int16 (SignalFilterBankLog)."""

    name = "signal.filter_bank_log"
    input = operand()
    output = result()
    input_correction_bits = attr(int)
    output_scale = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (UI32,), rank=1)
        y = _check(self, "output", (I16,), rank=1, is_result=True)
        if x.shape != y.shape:
            raise self.error("output must have the input's length")
        if not 0 <= self.input_correction_bits <= 31:
            raise self.error("input_correction_bits must be in [0, 31]")


class PcanOp(KernelChoice, Operation):
    """Per-channel amplitude normalization: gain from the noise estimate through the gain
    table, then the shrink function (SignalPCAN)."""

    name = "signal.pcan"
    input = operand()
    noise_estimate = operand()
    gain_lut = operand()
    output = result()
    snr_shift = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (UI32,), rank=1)
        n = _check(self, "noise_estimate", (UI32,), rank=1)
        _check(self, "gain_lut", (I16,), rank=1)
        y = _check(self, "output", (UI32,), rank=1, is_result=True)
        if not x.shape == n.shape == y.shape:
            raise self.error("input, noise_estimate and output must have one length")
        if not 0 <= self.snr_shift <= 63:
            raise self.error("snr_shift must be in [0, 63]")


class SpectralSubtractionOp(KernelChoice, Operation):
    """Noise estimate smoothing and subtraction (SignalFilterBankSpectralSubtraction):
    `state` is the noise estimate before the call, `noise_estimate` after it (the
    operator's second output and the state's next value)."""

    name = "signal.filter_bank_spectral_subtraction"
    input = operand()
    state = operand()
    output = result()
    noise_estimate = result()
    num_channels = attr(int)
    smoothing = attr(int)
    one_minus_smoothing = attr(int)
    alternate_smoothing = attr(int)
    alternate_one_minus_smoothing = attr(int)
    smoothing_bits = attr(int)
    min_signal_remaining = attr(int)
    spectral_subtraction_bits = attr(int)
    clamping = attr(bool)

    def verify_(self) -> None:
        x = _check(self, "input", (UI32,), rank=1)
        s = _check(self, "state", (UI32,), rank=1)
        y = _check(self, "output", (UI32,), rank=1, is_result=True)
        n = _check(self, "noise_estimate", (UI32,), rank=1, is_result=True)
        if not x.shape == s.shape == y.shape == n.shape == (self.num_channels,):
            raise self.error(f"input, state and outputs must have num_channels = "
                             f"{self.num_channels} elements")
        for key in ("smoothing_bits", "spectral_subtraction_bits"):
            if not 0 <= self.attrs[key] <= 31:
                raise self.error(f"{key} must be in [0, 31]")


class FramerOp(KernelChoice, Operation):
    """Frames of frame_size samples every frame_step samples, over the previous
    frame_size - frame_step samples (`state`, prefilled with zeros) and the input
    (SignalFramer with prefill): `history` is the state's next value."""

    name = "signal.framer"
    input = operand()
    state = operand(optional=True)  # absent when frame_size == frame_step
    output = result()
    valid = result()
    history = result(variadic=True)  # none or one, with `state`
    frame_size = attr(int)
    frame_step = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16,))
        y = _check(self, "output", (I16,), is_result=True)
        _check(self, "valid", (BOOL,), is_result=True)
        size, step = self.frame_size, self.frame_step
        if not 0 < step <= size:
            raise self.error(f"need 0 < frame_step <= frame_size, got {step}, {size}")
        inner = x.shape[-1]
        outer = _elements(x) // inner
        frames = inner // step
        if y.shape != (*x.shape[:-1], frames, size):
            raise self.error(f"output {y} must be [..., {frames}, {size}]")
        history = self.result_values[2:]
        if (self.state is None) != (not history) or (size == step) != (not history):
            raise self.error("state and history come together, exactly when frame_size > "
                             "frame_step")
        if history:
            s, h = self.state.type, history[0].type
            if s != h or s.element != I16 or s.shape != (outer, size - step):
                raise self.error(f"state and history must be int16 [{outer}, {size - step}]")


class IrfftOp(KernelChoice, Operation):
    """Inverse real FFT of every row of fft_length / 2 + 1 complex values (interleaved),
    kissfft's arithmetic (fixed point for int16 and int32; float32 divided by
    fft_length): rows of fft_length samples (SignalIrfft)."""

    name = "signal.irfft"
    input = operand()
    output = result()
    fft_length = attr(int)
    factors = attr(ResourceRef)
    twiddles = attr(ResourceRef)
    super_twiddles = attr(ResourceRef)

    def verify_(self) -> None:
        x = _check(self, "input", (I16, I32, F32))
        y = _check(self, "output", (x.element,), is_result=True)
        n = self.fft_length
        if n < 4 or n & (n - 1):
            raise self.error(f"fft_length must be a power of two >= 4, got {n}")
        if x.rank != y.rank or x.shape[:-1] != y.shape[:-1] or x.shape[-1] != n + 2 \
                or y.shape[-1] != n:
            raise self.error(f"input rows must hold fft_length + 2 = {n + 2} values and output "
                             f"rows fft_length = {n}")


class DelayOp(KernelChoice, Operation):
    """Every last-axis row delayed by delay_length samples, the first ones zeros
    (SignalDelay): `state` holds each row's last delay_length samples, `history` their
    next value (both absent when delay_length is 0)."""

    name = "signal.delay"
    input = operand()
    state = operand(optional=True)
    output = result()
    history = result(variadic=True)
    delay_length = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16,))
        y = _check(self, "output", (I16,), is_result=True)
        if x.shape != y.shape or x.rank < 1:
            raise self.error("output must have the input's shape")
        history = self.result_values[1:]
        d = self.delay_length
        if (self.state is None) != (not history) or (d == 0) != (not history) or d < 0:
            raise self.error("state and history come together, exactly when delay_length > 0")
        if history:
            s, h = self.state.type, history[0].type
            rows = _elements(x) // x.shape[-1]
            if s != h or s.element != I16 or s.shape != (rows, d):
                raise self.error(f"state and history must be int16 [{rows}, {d}]")


class OverlapAddOp(KernelChoice, Operation):
    """Frames [..., n, frame_size] added onto a running buffer (`state`, one per outer
    row), frame_step samples out per frame (int16 saturating, float32) (SignalOverlapAdd);
    `buffer` is the state's next value."""

    name = "signal.overlap_add"
    input = operand()
    state = operand()
    output = result()
    buffer = result()
    frame_step = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16, F32))
        y = _check(self, "output", (x.element,), is_result=True)
        if x.rank < 2 or y.shape != (*x.shape[:-2], x.shape[-2] * self.frame_step):
            raise self.error(f"output must be [..., frames * frame_step], got {y}")
        size = x.shape[-1]
        if not 0 < self.frame_step <= size:
            raise self.error(f"need 0 < frame_step <= frame_size {size}")
        rows = _elements(x) // (size * x.shape[-2])
        s, b = self.state.type, self.buffer.type
        if s != b or s.element != x.element or s.shape != (rows, size):
            raise self.error(f"state and buffer must be [{rows}, {size}] of the input's type")


class StackerOp(KernelChoice, Operation):
    """Stacks left context, the frame and right context of num_channels values
    (SignalStacker): `held`/`count` are the samples held and [count, has_first_frame]
    before the call, `held_next`/`count_next` after it; `valid` says whether `output`
    was written (TFLite Micro leaves it unwritten otherwise; utc writes zeros)."""

    name = "signal.stacker"
    input = operand()
    held = operand()
    count = operand()
    output = result()
    valid = result()
    held_next = result()
    count_next = result()
    num_channels = attr(int)
    stacker_left_context = attr(int)
    stacker_right_context = attr(int)
    stacker_step = attr(int)

    def verify_(self) -> None:
        x = _check(self, "input", (I16,), rank=1)
        y = _check(self, "output", (I16,), rank=1, is_result=True)
        _check(self, "valid", (BOOL,), rank=0, is_result=True)
        c, left, right = self.num_channels, self.stacker_left_context, self.stacker_right_context
        size = c * (left + right + 1)
        if c < 1 or left < 0 or right < 0 or not 1 <= self.stacker_step <= left + right + 1:
            raise self.error("need num_channels >= 1, contexts >= 0 and 1 <= stacker_step <= "
                             "left + right + 1")
        if x.shape[0] < c or y.shape != (size,):
            raise self.error(f"input must hold num_channels values and output {size}")
        h, hn = _check(self, "held", (I16,), rank=1), _check(self, "held_next", (I16,), rank=1,
                                                             is_result=True)
        k, kn = _check(self, "count", (I32,), rank=1), _check(self, "count_next", (I32,), rank=1,
                                                              is_result=True)
        if h != hn or h.shape != (size,) or k != kn or k.shape != (2,):
            raise self.error(f"held must be int16 [{size}] and count int32 [2], before and after")


OPS = (WindowOp, FftAutoScaleOp, RfftOp, EnergyOp, FilterBankOp, FilterBankSquareRootOp,
       FilterBankLogOp, PcanOp, SpectralSubtractionOp, FramerOp, IrfftOp, DelayOp,
       OverlapAddOp, StackerOp)
