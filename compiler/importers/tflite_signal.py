"""TFLite Micro's signal library (its audio front end): the `Signal*` CUSTOM operators.

Each row below is one custom_code. Their options are a FlexBuffers map; TFLite Micro's
kernels read it by position (`FlexbufferWrapper::ElementAs...(i)`, the keys in sorted
order), so a map must hold exactly the keys the kernel expects, or TFLite Micro would read
other values than their names say: `flexbuffer_options` refuses anything else.

Stateful operators (spectral subtraction, framer) get a `state.variable` of their own
(zeros, TFLite Micro's Prepare and Reset fill), read before the op and written after it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
from utc.compiler.errors import printable
from utc.compiler.importers.tflite_schema import TensorType as TflType
from utc.compiler.ir import Location, SymbolRef, TensorType, Value
from utc.compiler.ir.types import ScalarType
from utc.dialects import signal, state
from utc.dialects.signal_math import rfft_tables

from .tflite import CUSTOM_OP_TABLE, ImportContext, OpRule, TflOperator

_INT = "int"
_BOOL = "bool"


def flexbuffer_options(raw: bytes, expected: dict[str, str],
                       optional: tuple[str, ...] = ()) -> dict[str, int | bool]:
    """The FlexBuffers map `raw` as {key: value}, for exactly the keys of `expected`
    (key -> "int" or "bool") plus any of `optional`. Raises ValueError naming the problem."""
    if not raw:
        raise ValueError(f"has no custom options (expected a FlexBuffers map of "
                         f"{', '.join(sorted(expected))})")
    # FlexBuffers (the `flatbuffers` package) only for a model with signal operators: a
    # compile of any other model never imports it
    from flatbuffers import flexbuffers

    try:
        root = flexbuffers.GetRoot(bytearray(raw))
        if not root.IsMap:
            raise ValueError("custom options are not a FlexBuffers map")
        m = root.AsMap
        keys = [k.AsKey for k in m.Keys]
        values = list(m.Values)
    except (IndexError, ValueError, TypeError, UnicodeDecodeError, KeyError, AttributeError,
            OverflowError, RecursionError, struct.error) as exc:
        if isinstance(exc, ValueError) and "not a FlexBuffers map" in str(exc):
            raise
        raise ValueError(f"corrupt FlexBuffers custom options ({type(exc).__name__})") from None
    if len(keys) != len(set(keys)) or len(keys) != len(values):
        raise ValueError("corrupt FlexBuffers custom options (keys and values do not pair up)")
    present = set(keys) - set(optional)
    if present != set(expected):
        shown = [printable(k)[:40] for k in sorted(keys)[:12]]
        raise ValueError(f"custom options hold keys {shown}; TFLite Micro reads "
                         f"{sorted(expected)} by position")
    out: dict[str, int | bool] = {}
    try:
        return _typed_values(keys, values, expected, out)
    except (IndexError, TypeError, UnicodeDecodeError, KeyError, AttributeError, OverflowError,
            RecursionError, struct.error) as exc:
        raise ValueError(f"corrupt FlexBuffers custom options ({type(exc).__name__})") from None


def _typed_values(keys: list, values: list, expected: dict[str, str],
                  out: dict[str, int | bool]) -> dict[str, int | bool]:
    for key, value in zip(keys, values):
        kind = expected.get(key, _INT)
        if kind == _BOOL:
            if not (value.IsBool or value.IsInt or value.IsUInt):
                raise ValueError(f"custom option '{key}' is not a boolean")
            out[key] = bool(value.AsBool)
        else:
            if not (value.IsInt or value.IsUInt or value.IsBool):
                raise ValueError(f"custom option '{key}' is not an integer")
            v = int(value.AsInt)
            if not -2**31 <= v < 2**31:
                raise ValueError(f"custom option '{key}' = {v} does not fit int32")
            out[key] = v
    return out


def _custom_rule(code: str, summary: str, constraints: str, inputs: tuple[int, int],
                 outputs: tuple[int, int], dtypes: tuple[str, ...] = ("int16",)) -> Callable:
    def register(fn: Callable[[ImportContext, TflOperator], None]) -> Callable:
        CUSTOM_OP_TABLE[code] = OpRule(code, fn, (1, 1), dtypes, summary, constraints,
                                       inputs, outputs)
        return fn

    return register


def _options(ctx: ImportContext, op: TflOperator, expected: dict[str, str],
             optional: tuple[str, ...] = ()) -> dict[str, int | bool]:
    try:
        raw = bytes(op.raw.CustomOptionsAsNumpy()) if op.raw.CustomOptionsLength() else b""
    except (ValueError, IndexError, struct.error):  # a length or offset past the file's end
        raise ctx.fail("corrupt custom options vector (it lies outside the file)") from None
    try:
        return flexbuffer_options(raw, expected, optional)
    except ValueError as exc:
        raise ctx.fail(str(exc)) from None


def _constant_ints(ctx: ImportContext, op: TflOperator, position: int, what: str) -> np.ndarray:
    t = ctx.tensor_at(op, position)
    if t.data is None:
        raise ctx.fail(f"input {position} ({what}) must be a constant")
    return np.asarray(t.data).reshape(-1)


def _stateful(ctx: ImportContext, op: TflOperator, label: str, ttype: TensorType) -> tuple[SymbolRef, Value]:
    """A new zero-filled variable for the operator's internal state and its read."""
    taken = {o.sym_name.name for o in state.variables(ctx.module)}
    base, n = f"signal{op.index}_{label}", 2
    name = base
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    symbol = SymbolRef(name)
    ref = ctx.module.add_resource(f"{name}.init",
                                  np.zeros(ttype.shape, ttype.element.numpy_dtype), ttype)
    ctx.module.body.append(state.VariableOp([], [], {"sym_name": symbol, "type": ttype,
                                                     "init": ref}))
    read = _state_op(ctx, op, state.ReadOp, [], [ttype], symbol, name, [name])
    return symbol, read.result


def _state_op(ctx: ImportContext, op: TflOperator, cls: type, operands: list[Value],
              types: list[TensorType], symbol: SymbolRef, tensor: str,
              names: list[str] | None = None) -> state.ReadOp | state.WriteOp:
    """A read or write of an operator's state, located at the operator under `tensor`: the
    TFLite tensor it holds (spectral subtraction's noise estimate), else the variable's
    name, which `utc verify --per-layer` finds in no TFLite tensor and so does not compare."""
    access = cls(operands, types, {"variable": symbol}, location=Location(((op.index, tensor),)),
                 result_names=names)
    access.verify()
    ctx.block.append(access)
    return access


def _write_state(ctx: ImportContext, op: TflOperator, value: Value, symbol: SymbolRef,
                 tensor: str | None = None) -> None:
    _state_op(ctx, op, state.WriteOp, [value], [], symbol, tensor or symbol.name)


@_custom_rule("SignalWindow", "multiply by a window, shift right, saturate to int16",
              "int16 input and weights (a 1-D window applied to every run of its length)",
              (2, 2), (1, 1))
def _window(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"shift": _INT})
    ctx.emit(signal.WindowOp, op, [ctx.input(op, 0), ctx.input(op, 1)], {"shift": opts["shift"]})


@_custom_rule("SignalFftAutoScale", "scale samples up to the int16 range before an FFT",
              "1-D int16 input; int32 scale-bit output", (1, 1), (2, 2))
def _fft_auto_scale(ctx: ImportContext, op: TflOperator) -> None:
    _options_absent_ok(ctx, op)
    ctx.emit(signal.FftAutoScaleOp, op, [ctx.input(op, 0)])


def _options_absent_ok(ctx: ImportContext, op: TflOperator) -> None:
    """Operators with no options: TFLite Micro reads none, so whatever is there is unused."""


_RFFT_TYPES = {TflType.INT16: "i16", TflType.INT32: "i32", TflType.FLOAT32: "f32"}


@_custom_rule("SignalRfft", "real FFT (kissfft: fixed point for int16 and int32, float32)",
              "fft_length a power of two; rows zero-padded to it; T matches the tensors",
              (1, 1), (1, 1), ("int16", "int32", "float32"))
def _rfft(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"T": _INT, "fft_length": _INT})
    t = ctx.tensor_at(op, 0)
    if opts["T"] not in _RFFT_TYPES or opts["T"] != t.tfl_type:
        raise ctx.fail(f"option T = {opts['T']} does not name the input's type (int16, int32 "
                       "or float32)")
    n = opts["fft_length"]
    if n < 4 or n & (n - 1):
        raise ctx.fail(f"fft_length {n} is not supported (utc implements powers of two >= 4)")
    element = _RFFT_TYPES[opts["T"]]
    factors, twiddles, supers = rfft_tables(n, element)
    tables = {key: ctx.module.add_resource(f"rfft{op.index}.{key}", data)
              for key, data in (("factors", factors), ("twiddles", twiddles),
                                ("super_twiddles", supers))}
    ctx.emit(signal.RfftOp, op, [ctx.input(op, 0)], {"fft_length": n, **tables})


@_custom_rule("SignalEnergy", "squared magnitude of complex int16 bins",
              "1-D; bins outside [start_index, end_index) are 0 (TFLite Micro leaves them "
              "unwritten)", (1, 1), (1, 1))
def _energy(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"end_index": _INT, "start_index": _INT})
    ctx.emit(signal.EnergyOp, op, [ctx.input(op, 0)], opts)


@_custom_rule("SignalFilterBank", "mel filter bank: weighted uint64 sums of energies",
              "constant weights, unweights and channel tables (checked in range)",
              (6, 6), (1, 1))
def _filter_bank(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"num_channels": _INT})
    n = opts["num_channels"]
    energies = ctx.tensor_at(op, 0).shape
    weights = _constant_ints(ctx, op, 1, "weights")
    unweights = _constant_ints(ctx, op, 2, "unweights")
    starts = _constant_ints(ctx, op, 3, "channel_frequency_starts")
    wstarts = _constant_ints(ctx, op, 4, "channel_weight_starts")
    widths = _constant_ints(ctx, op, 5, "channel_widths")
    if n < 0 or not len(starts) == len(wstarts) == len(widths) == n + 1:
        raise ctx.fail(f"channel tables must have num_channels + 1 = {n + 1} elements")
    if len(weights) != len(unweights):
        raise ctx.fail("weights and unweights must have one length")
    size = energies[0] if len(energies) == 1 else -1
    for k in range(n + 1):
        w = int(widths[k])
        if w < 0 or (w and (starts[k] < 0 or starts[k] + w > size or wstarts[k] < 0
                            or wstarts[k] + w > len(weights))):
            raise ctx.fail(f"channel {k} reads outside the energies or the weights")
    ctx.emit(signal.FilterBankOp, op, [ctx.input(op, i) for i in range(6)], opts)


@_custom_rule("SignalFilterBankSquareRoot", "integer square root of uint64 channels, "
              "shifted right by scale_bits", "1-D", (2, 2), (1, 1))
def _filter_bank_square_root(ctx: ImportContext, op: TflOperator) -> None:
    ctx.emit(signal.FilterBankSquareRootOp, op, [ctx.input(op, 0), ctx.input(op, 1)])


@_custom_rule("SignalFilterBankLog", "fixed-point natural log of uint32 channels, int16",
              "1-D", (1, 1), (1, 1))
def _filter_bank_log(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"input_correction_bits": _INT, "output_scale": _INT})
    ctx.emit(signal.FilterBankLogOp, op, [ctx.input(op, 0)], opts)


@_custom_rule("SignalPCAN", "per-channel amplitude normalization (gain table, shrink)",
              "constant gain table covering every noise level (4 * 32 - 6 + 3 entries)",
              (3, 3), (1, 1))
def _pcan(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"snr_shift": _INT})
    lut = _constant_ints(ctx, op, 2, "gain_lut")
    if len(lut) < 4 * 32 - 6 + 3:  # WideDynamicFunction reads lut[4 * msb - 6 + 2], msb <= 32
        raise ctx.fail(f"gain_lut has {len(lut)} entries; a uint32 noise estimate may read "
                       f"up to {4 * 32 - 6 + 3}")
    ctx.emit(signal.PcanOp, op, [ctx.input(op, i) for i in range(3)], opts)


_SPECTRAL = {"alternate_one_minus_smoothing": _INT, "alternate_smoothing": _INT,
             "clamping": _BOOL, "min_signal_remaining": _INT, "num_channels": _INT,
             "one_minus_smoothing": _INT, "smoothing": _INT, "smoothing_bits": _INT,
             "spectral_subtraction_bits": _INT}


@_custom_rule("SignalFilterBankSpectralSubtraction",
              "noise estimate smoothing and subtraction (stateful: the noise estimate)",
              "1-D; the noise estimate is utc state (NAME_reset() zeroes it, as TFLite "
              "Micro's Reset)", (1, 1), (2, 2))
def _spectral_subtraction(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, _SPECTRAL)
    n = opts["num_channels"]
    ttype = TensorType((n,), ScalarType("ui32"))
    symbol, noise = _stateful(ctx, op, "noise", ttype)
    sub = ctx.emit(signal.SpectralSubtractionOp, op, [ctx.input(op, 0), noise], opts)
    _write_state(ctx, op, sub.result_values[1], symbol,
                 ctx.tensors[op.outputs[1]].name.split(";")[0])


@_custom_rule("SignalFramer", "frames of frame_size samples every frame_step samples",
              "prefill true (the history starts as zeros, always valid); the history is utc "
              "state (NAME_reset() zeroes it, as TFLite Micro's Reset)", (1, 1), (2, 2))
def _framer(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"frame_size": _INT, "frame_step": _INT, "prefill": _BOOL})
    if not opts["prefill"]:
        raise ctx.fail("prefill false is not supported (outputs before the first full frame "
                       "are left unwritten by TFLite Micro)")
    size, step = opts["frame_size"], opts["frame_step"]
    if not 0 < step <= size:
        raise ctx.fail(f"need 0 < frame_step <= frame_size, got {step}, {size}")
    x = ctx.tensor_at(op, 0).shape
    if not x or x[-1] < step or x[-1] % step:
        raise ctx.fail(f"the input's last dimension must be a positive multiple of frame_step "
                       f"{step} (as TFLite Micro requires)")
    outer = int(np.prod(x[:-1])) if len(x) > 1 else 1
    attrs = {"frame_size": size, "frame_step": step}
    types = [ctx.output_type(op, 0), ctx.output_type(op, 1)]
    if size == step:  # frames do not overlap: no history, no state
        ctx.emit(signal.FramerOp, op, [ctx.input(op, 0)], attrs, types)
        return
    ttype = TensorType((outer, size - step), ScalarType("i16"))
    symbol, history = _stateful(ctx, op, "history", ttype)
    framer = ctx.emit_step(signal.FramerOp, [ctx.input(op, 0), history], [*types, ttype], attrs,
                           ["frames", "valid", "history"])
    ctx.bind(op, 0, framer.result_values[0])
    ctx.bind(op, 1, framer.result_values[1])
    _write_state(ctx, op, framer.result_values[2], symbol)



@_custom_rule("SignalIrfft", "inverse real FFT (kissfft: fixed point for int16 and int32, "
              "float32 divided by fft_length)",
              "fft_length a power of two; rows of fft_length + 2 values in, fft_length out",
              (1, 1), (1, 1), ("int16", "int32", "float32"))
def _irfft(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"T": _INT, "fft_length": _INT})
    t = ctx.tensor_at(op, 0)
    if opts["T"] not in _RFFT_TYPES or opts["T"] != t.tfl_type:
        raise ctx.fail(f"option T = {opts['T']} does not name the input's type (int16, int32 "
                       "or float32)")
    n = opts["fft_length"]
    if n < 4 or n & (n - 1):
        raise ctx.fail(f"fft_length {n} is not supported (utc implements powers of two >= 4)")
    factors, twiddles, supers = rfft_tables(n, _RFFT_TYPES[opts["T"]], inverse=True)
    tables = {key: ctx.module.add_resource(f"irfft{op.index}.{key}", data)
              for key, data in (("factors", factors), ("twiddles", twiddles),
                                ("super_twiddles", supers))}
    ctx.emit(signal.IrfftOp, op, [ctx.input(op, 0)], {"fft_length": n, **tables})


@_custom_rule("SignalDelay", "delay every row by delay_length samples",
              "int16; the delayed samples are utc state (NAME_reset() zeroes them, as TFLite "
              "Micro's Reset)", (1, 1), (1, 1))
def _delay(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"delay_length": _INT})
    d = opts["delay_length"]
    x = ctx.tensor_at(op, 0).shape
    if d < 0 or not x:
        raise ctx.fail(f"delay_length {d} must be >= 0 and the input at least 1-D")
    if d == 0:
        ctx.emit(signal.DelayOp, op, [ctx.input(op, 0)], opts)
        return
    rows = int(np.prod(x[:-1])) if len(x) > 1 else 1
    ttype = TensorType((rows, d), ScalarType("i16"))
    symbol, held = _stateful(ctx, op, "delay", ttype)
    delay = ctx.emit_step(signal.DelayOp, [ctx.input(op, 0), held],
                          [ctx.output_type(op, 0), ttype], opts,
                          [ctx.output_name(op, 0), "delayed"])
    ctx.bind(op, 0, delay.result_values[0])
    _write_state(ctx, op, delay.result_values[1], symbol)


@_custom_rule("SignalOverlapAdd", "overlap-add frames into a stream, frame_step samples per "
              "frame (int16 saturating, float32)",
              "the running buffer is utc state (NAME_reset() zeroes it, as TFLite Micro's "
              "Reset)", (1, 1), (1, 1), ("int16", "float32"))
def _overlap_add(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, {"T": _INT, "frame_step": _INT})
    t = ctx.tensor_at(op, 0)
    if opts["T"] not in (TflType.INT16, TflType.FLOAT32) or opts["T"] != t.tfl_type:
        raise ctx.fail(f"option T = {opts['T']} does not name the input's type (int16 or "
                       "float32)")
    x = t.shape
    if len(x) < 2 or not 0 < opts["frame_step"] <= x[-1]:
        raise ctx.fail("need an input of rank >= 2 and 0 < frame_step <= frame size")
    rows = int(np.prod(x[:-2])) if len(x) > 2 else 1
    ttype = TensorType((rows, x[-1]), ctx.tensor_type(t).element)
    symbol, buffer = _stateful(ctx, op, "overlap", ttype)
    add = ctx.emit_step(signal.OverlapAddOp, [ctx.input(op, 0), buffer],
                        [ctx.output_type(op, 0), ttype], {"frame_step": opts["frame_step"]},
                        [ctx.output_name(op, 0), "overlap"])
    ctx.bind(op, 0, add.result_values[0])
    _write_state(ctx, op, add.result_values[1], symbol)


_STACKER = {"num_channels": _INT, "stacker_left_context": _INT,
            "stacker_right_context": _INT, "stacker_step": _INT}


@_custom_rule("SignalStacker", "stack left context, frame and right context",
              "int16 1-D; the held frames are utc state (NAME_reset() clears them, as TFLite "
              "Micro's Reset); while valid is false the output is zeros (TFLite Micro leaves "
              "it unwritten)", (1, 1), (2, 2))
def _stacker(ctx: ImportContext, op: TflOperator) -> None:
    opts = _options(ctx, op, _STACKER)
    c, left, right = (opts["num_channels"], opts["stacker_left_context"],
                      opts["stacker_right_context"])
    if c < 1 or left < 0 or right < 0 or not 1 <= opts["stacker_step"] <= left + right + 1:
        raise ctx.fail("need num_channels >= 1, contexts >= 0 and 1 <= stacker_step <= "
                       "left + right + 1")
    size = c * (left + right + 1)
    held_t = TensorType((size,), ScalarType("i16"))
    count_t = TensorType((2,), ScalarType("i32"))
    held_sym, held = _stateful(ctx, op, "held", held_t)
    count_sym, count = _stateful(ctx, op, "count", count_t)
    stack = ctx.emit_step(signal.StackerOp, [ctx.input(op, 0), held, count],
                          [ctx.output_type(op, 0), ctx.output_type(op, 1), held_t, count_t],
                          opts, [ctx.output_name(op, 0), ctx.output_name(op, 1), "held",
                                 "count"])
    ctx.bind(op, 0, stack.result_values[0])
    ctx.bind(op, 1, stack.result_values[1])
    _write_state(ctx, op, stack.result_values[2], held_sym)
    _write_state(ctx, op, stack.result_values[3], count_sym)
