"""`utc verify --per-layer`: every intermediate tensor against TFLite Micro's, not only outputs.

When outputs differ, the question is which layer went wrong first; an output mismatch
alone cannot say. A verify build of the generated code (`emit_cpp(taps=True)`) hands each
kernel call's output buffers to a callback right after the call, before a later call can
reuse the bytes, and TFLite Micro's interpreter, made with kPreserveAllTensors, keeps
every tensor. The two are matched by the TFLite location every IR op carries.

The mapping rule, one line per case:

- a kernel call's outputs hold the outputs of the TFLite operator named by the *last*
  source of its location (output k of the call is output k of the operator; a call with
  one output and an operator with several takes the one named in the location);
- a call output that is a state buffer (`buf.state`: an SVDF's activation state, an
  LSTM's hidden and cell state) holds the state the operator updates in place, which
  TFLite Micro keeps in the operator's variable-tensor inputs: state output j of the call
  is the operator's j-th variable input, compared with that tensor as the invocation
  left it (only its owner writes a variable tensor in TFLite Micro, so that is the value
  after the call); the call's other outputs follow the rule above among themselves;
- fusion merges locations producer first, so a convolution with a fused ReLU is
  compared with the ReLU's tensor, a PAD folded into a convolution with the
  convolution's; the tensors a fusion removed (the pre-activation output, the padded
  input) exist only in TFLite Micro and are not compared;
- views (RESHAPE, SQUEEZE, an in-place result) and concatenations their producers write
  in place have no call of their own: the bytes are those of the calls that produced
  them, compared there;
- when several calls carry the same location (one operator lowered to a chain of
  kernels), the last one in step order finishes the tensor and is compared;
- the samples run as consecutive invocations on both sides, as the runner runs them (a
  model with state carries it from one sample to the next, as on a device);
- a call whose location names no output tensor (a state copy of ASSIGN_VARIABLE) is not
  compared, and neither is a tensor whose element type or count differs from the buffer
  utc computes (listed with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from utc.compiler.driver.verify import OutputComparison, Verification, compare, compare_output
from utc.compiler.errors import UtcError, printable

_NUMPY = {"i8": np.int8, "ui8": np.uint8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
          "f32": np.float32, "i1": np.bool_, "ui32": np.uint32, "ui64": np.uint64}


@dataclass(frozen=True)
class LayerTap:
    """One output buffer of one kernel call, as the verify build streams it, and the
    TFLite tensor it is compared with (None, with `note` saying why, when it is not)."""

    step: int
    ir_op: str
    kernel: str
    dtype: np.dtype
    shape: tuple[int, ...]
    tflite_op: int | None
    builtin: str
    tensor: int | None
    tensor_name: str
    note: str = ""

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class LayerComparison:
    """One intermediate tensor compared over every sample."""

    tap: LayerTap
    stats: OutputComparison

    @property
    def passed(self) -> bool:
        return self.stats.passed

    def where(self) -> str:
        """`step 3, qnn.conv2d -> utc_conv2d_s8, TFLite op #3 CONV_2D, tensor #12 'name'`."""
        t = self.tap
        return (f"step {t.step}, {t.ir_op} -> {t.kernel}, TFLite op #{t.tflite_op} {t.builtin}, "
                f"tensor #{t.tensor} '{printable(t.tensor_name.split(';')[0])}'")


@dataclass(frozen=True)
class LayerVerification(Verification):
    """Outputs and every intermediate tensor; `passed` when all are within tolerance."""

    layers: tuple[LayerComparison, ...]
    not_compared: tuple[LayerTap, ...]  # call outputs with no TFLite tensor to compare
    tflite_only: tuple[str, ...]  # TFLite operator outputs no call computes, and why

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outputs) and all(la.passed for la in self.layers)

    @property
    def first_difference(self) -> LayerComparison | None:
        """The first layer in step order beyond the tolerance (None: every layer matches)."""
        return next((la for la in self.layers if not la.passed), None)

    def table(self) -> list[str]:
        header = ("step", "TFLite op", "tensor", "IR op", "kernel", "type", "bit-exact",
                  "max abs err", "")
        rows = [header]
        for la in self.layers:
            t, s = la.tap, la.stats
            rows.append((str(t.step), f"#{t.tflite_op} {t.builtin}", f"#{t.tensor}", t.ir_op,
                         t.kernel, f"{s.dtype} {list(s.shape)}", f"{s.exact_elements}/{s.elements}",
                         f"{s.max_abs_error:.6g}", "ok" if s.passed else "MISMATCH"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        right = {0, 2, 6, 7}
        return ["  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                for r in rows]

    def format(self, header: str) -> str:
        lines = [f"utc verify: {header}: {self.samples} samples ({self.inputs}) against "
                 "TFLite Micro, layer by layer"]
        lines += self.table() if self.layers else ["  (no kernel call computes a TFLite tensor)"]
        for t in self.not_compared:
            lines.append(f"  step {t.step} {t.ir_op} -> {t.kernel}: not compared ({t.note})")
        if self.tflite_only:
            lines.append("  TFLite tensors no kernel call computes (not compared): "
                         + "; ".join(self.tflite_only))
        lines += ["  " + o.line() for o in self.outputs]
        first = self.first_difference
        bad_layers = sum(not la.passed for la in self.layers)
        bad_outputs = sum(not o.passed for o in self.outputs)
        if first is None and not bad_outputs:
            lines.append(f"utc verify: every layer ({len(self.layers)}) and output matches")
        else:
            if first is not None:
                lines.append(f"utc verify: first layer that differs: {first.where()}")
            lines.append(f"utc verify: {bad_layers} of {len(self.layers)} layers and "
                         f"{bad_outputs} of {len(self.outputs)} outputs differ beyond the "
                         "tolerance")
        return "\n".join(lines) + "\n"


def _numpy_dtype(value) -> np.dtype:
    storage = str(value.type.element.storage)
    if storage not in _NUMPY:
        raise UtcError(f"--per-layer: cannot read a buffer of element type {storage}")
    return np.dtype(_NUMPY[storage])


def layer_taps(module, operators) -> list[LayerTap]:
    """Every output buffer of every kernel call, in the order the verify build streams
    them, each mapped to the TFLite tensor it holds by the rules of this module's
    docstring (`operators`: the importer's `OperatorTensors` of the same model)."""
    from utc.dialects import buf
    from utc.dialects.func import main_function

    fn = main_function(module)
    calls = [op for op in fn.block.ops if isinstance(op, buf.CallOp)]
    taps: list[LayerTap] = []
    for step, call in enumerate(calls):
        outs = [v for v in call.operand_values[call.num_inputs:] if not buf.is_scratch(v)]
        source = call.location.sources[-1] if call.location else None
        states = [v for v in outs if isinstance(getattr(v, "op", None), buf.StateOp)]
        variables = (operators.variables[source[0]] if source is not None
                     and 0 <= source[0] < len(operators.variables) else ())
        if len(states) != len(variables):
            states = []  # not an operator's own state: the plain rule for every output
        plain = [v for v in outs if not any(v is w for w in states)]
        for v in outs:
            base = dict(step=step, ir_op=str(call.op), kernel=str(call.callee),
                        dtype=_numpy_dtype(v), shape=tuple(int(d) for d in v.type.shape))
            if source is None:
                taps.append(LayerTap(**base, tflite_op=None, builtin="", tensor=None,
                                     tensor_name="", note="no TFLite location"))
                continue
            index, name = source
            if not 0 <= index < len(operators.outputs):
                raise UtcError(f"step {step}: the location names TFLite op #{index}, which the "
                               "model does not have (was the model compiled from another file?)")
            builtin = operators.builtins[index]
            state = next((j for j, w in enumerate(states) if w is v), None)
            if state is not None:
                taps.append(LayerTap(**base, tflite_op=index, builtin=builtin,
                                     tensor=variables[state],
                                     tensor_name=operators.tensor_names[variables[state]]))
                continue
            k = next(j for j, w in enumerate(plain) if w is v)
            produced = [t for t in operators.outputs[index] if t >= 0]
            named = [t for t in produced if operators.tensor_names[t].split(";")[0] == name]
            tensor = (produced[k] if len(produced) == len(plain) else
                      named[0] if len(plain) == 1 and named else None)
            note = "" if tensor is not None else (
                f"TFLite op #{index} {builtin} has no output tensor" if not produced else
                f"TFLite op #{index} {builtin} has {len(produced)} outputs, the call {len(plain)}")
            taps.append(LayerTap(**base, tflite_op=index, builtin=builtin, tensor=tensor,
                                 tensor_name=operators.tensor_names[tensor] if tensor is not None
                                 else name, note=note))
    return taps


def compared_taps(taps: Sequence[LayerTap]) -> dict[int, int]:
    """TFLite tensor -> the position in `taps` of the last call that writes it."""
    last: dict[int, int] = {}
    for pos, t in enumerate(taps):
        if t.tensor is not None:
            last[t.tensor] = pos
    return last


def decode_stream(stdout: bytes, count: int, taps: Sequence[LayerTap],
                  out_specs: Sequence[tuple[tuple[int, ...], np.dtype]]
                  ) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """Split the verify runner's stdout into per-sample taps (flat arrays, in tap order)
    and per-sample outputs."""
    tap_bytes = [t.nbytes for t in taps]
    out_bytes = [int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in out_specs]
    per_sample = sum(tap_bytes) + sum(out_bytes)
    if len(stdout) != per_sample * count:
        raise UtcError(f"the verify build wrote {len(stdout)} bytes, expected {per_sample * count} "
                       f"({count} samples of {per_sample})")
    layers, outputs = [], []
    pos = 0
    for _ in range(count):
        sample = []
        for t, size in zip(taps, tap_bytes):
            sample.append(np.frombuffer(stdout[pos:pos + size], dtype=t.dtype).copy())
            pos += size
        layers.append(sample)
        sample = []
        for (shape, dtype), size in zip(out_specs, out_bytes):
            sample.append(np.frombuffer(stdout[pos:pos + size], dtype=dtype).reshape(shape))
            pos += size
        outputs.append(sample)
    return layers, outputs


def verify_layers(comp, model: bytes, label: str, samples: Sequence[Sequence[np.ndarray]],
                  names: Sequence[str | None], atol: float | None, rtol: float | None,
                  inputs: str) -> LayerVerification:
    """Build the verify runner of a compilation (for the host, or firmware for its Cortex-M
    target), run it and TFLite Micro (preserving all tensors) on `samples`, and compare
    every mapped intermediate tensor and the outputs."""
    from utc.compiler.driver.model_io import io_specs
    from utc.compiler.driver.tflm import TflmInterpreter
    from utc.compiler.driver.verify import run_generated
    from utc.compiler.importers.tflite import operator_tensors
    from utc.dialects.func import main_function

    operators = operator_tensors(model, label)
    taps = layer_taps(comp.module, operators)
    last = compared_taps(taps)
    in_specs, out_specs = io_specs(comp.module)
    # the host runner, or the target's firmware on QEMU: both stream the taps the same way
    ours_layers, ours = decode_stream(run_generated(comp, samples, taps=True), len(samples),
                                      taps, out_specs)

    fn = main_function(comp.module)
    hint = int(fn.copy_lower_bound or fn.arena_bytes or 0) + 2 * sum(t.nbytes for t in taps)
    reference = TflmInterpreter(model, label, hint, preserve_all_tensors=True,
                                tensor_count=len(operators.tensor_names))
    order = sorted(last.values())  # compared taps, in step order
    wanted = [taps[p].tensor for p in order]
    ref_outputs, ref_layers = [], []
    for k, s in enumerate(samples):  # consecutive invocations, as in the runner
        ref_outputs.append(reference.run(s, len(out_specs), reset=k == 0))
        ref_layers.append(reference.tensors(wanted))

    layers: list[LayerComparison] = []
    not_compared = [t if t.tensor is None else
                    _replace_note(t, f"TFLite tensor #{t.tensor} is finished by step "
                                     f"{taps[last[t.tensor]].step}")
                    for pos, t in enumerate(taps) if t.tensor is None or last[t.tensor] != pos]
    for j, pos in enumerate(order):
        tap = taps[pos]
        a = [sample[pos] for sample in ours_layers]
        b = [sample[j] for sample in ref_layers]
        if b[0].dtype != tap.dtype or b[0].size != a[0].size:
            not_compared.append(_replace_note(tap, f"TFLite holds {b[0].dtype.name} "
                                                   f"[{b[0].size}], utc {tap.dtype.name} [{a[0].size}]"))
            continue
        stats = compare_output(tap.step, tap.tensor_name, [x.reshape(tap.shape) for x in a],
                               [x.reshape(tap.shape) for x in b], atol, rtol)
        layers.append(LayerComparison(tap, stats))
    not_compared.sort(key=lambda t: t.step)
    result = compare(ours, ref_outputs, names, atol, rtol, inputs)
    return LayerVerification(result.outputs, result.samples, result.inputs, tuple(layers),
                             tuple(not_compared), _uncomputed(comp.module, operators, last))


def _uncomputed(module, operators, last: dict[int, int]) -> tuple[str, ...]:
    """Each TFLite operator output no call computes, with why: its operator was fused into
    a call (named by step), or it has no call at all (a view, such as RESHAPE)."""
    from utc.dialects import buf
    from utc.dialects.func import main_function

    calls = [op for op in main_function(module).block.ops if isinstance(op, buf.CallOp)]
    fused_into: dict[int, int] = {}
    for step, call in enumerate(calls):
        for index, _ in (call.location.sources if call.location else ()):
            fused_into.setdefault(index, step)
    out = []
    for index, tensors in enumerate(operators.outputs):
        for t in tensors:
            if t < 0 or t in last:
                continue
            why = (f"fused into step {fused_into[index]}" if index in fused_into
                   else "no call of its own: a view, written in place by its producers, or "
                        "folded away")
            out.append(f"#{index} {operators.builtins[index]} ({why})")
    return tuple(out)


def _replace_note(tap: LayerTap, note: str) -> LayerTap:
    return replace(tap, note=note)


