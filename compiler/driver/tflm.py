"""TensorFlow Lite Micro's Python interpreter as the reference `utc verify` compares with.

TFLite Micro is what utc's generated code must match bit for bit; its interpreter is an
optional dependency (the `tflite-micro` package, `pip install 'utc[verify]'`), loaded
only here, so compiling never needs it.

The interpreter reports problems by printing from C++ to the process's stderr (a model it
cannot run, an arena too small) and then raising a bare RuntimeError. That would break
utc's one-line error contract, so every call into it runs with file descriptor 2
redirected to a temporary file, and a failure becomes one UtcError quoting what it said.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence

import numpy as np
from utc.compiler.errors import UtcError, printable

INSTALL_HINT = "pip install 'utc[verify]' (the tflite-micro package)"

#: Arena retries: TFLite Micro has no way to ask how much it needs, so a first guess from
#: the model's sizes grows by this factor until it fits, at most `_ARENA_TRIES` times.
_ARENA_GROWTH = 4
_ARENA_TRIES = 4


@contextlib.contextmanager
def _native_stderr() -> Iterator[list[str]]:
    """Collect what native code writes to fd 2 while the body runs (into the list
    yielded, filled on exit) instead of letting it reach the user's terminal."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            lines.extend(line.strip() for line in text.splitlines() if line.strip())


def _reason(lines: Sequence[str], exc: BaseException) -> str:
    """The most telling line TFLite Micro printed (not its 'failed to prepare' echo)."""
    useful = [line.split(" ", 1)[1] if line.startswith("tensorflow/") and " " in line else line
              for line in lines if "failed to prepare" not in line]
    return printable(useful[0] if useful else str(exc))


class TflmInterpreter:
    """One TFLite Micro interpreter for a model, reused for many samples; every run starts
    from a reset interpreter, and returns copies of the outputs.

    `preserve_all_tensors` gives every tensor its own bytes (TFLite Micro's
    kPreserveAllTensors), so `tensors` can read intermediate results after a run, as
    `utc verify --per-layer` does; it needs a larger arena."""

    def __init__(self, model: bytes, label: str, arena_hint: int,
                 preserve_all_tensors: bool = False, tensor_count: int = 0):
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError:
            raise UtcError(f"comparing with TFLite Micro needs its interpreter: {INSTALL_HINT}"
                           ) from None
        self.model = bytes(model)
        self.tensor_count = tensor_count
        config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors
                  else runtime.InterpreterConfig.kAllocationRecording)
        arena = 10 * len(self.model) + 4 * arena_hint + (256 << 10)
        for attempt in range(_ARENA_TRIES):
            with _native_stderr() as said:
                try:
                    self._interpreter = runtime.Interpreter.from_bytes(
                        self.model, arena_size=arena, intrepreter_config=config)
                    break
                except RuntimeError as exc:
                    error = exc
            if any("allocate" in line for line in said) and attempt + 1 < _ARENA_TRIES:
                arena *= _ARENA_GROWTH
                continue
            raise UtcError(f"{label}: TFLite Micro cannot run this model "
                           f"({_reason(said, error)})")

    def run(self, inputs: Sequence[np.ndarray], count: int, reset: bool = True) -> list[np.ndarray]:
        """The `count` outputs for one sample (inputs in model order). `reset=False` runs
        it as the next invocation of the previous one (a model's state carries over)."""
        with _native_stderr() as said:
            try:
                if reset:
                    self._interpreter.reset()
                for i, x in enumerate(inputs):
                    self._interpreter.set_input(np.ascontiguousarray(x), i)
                self._interpreter.invoke()
                return [np.array(self._interpreter.get_output(i), copy=True)
                        for i in range(count)]
            except RuntimeError as exc:
                error = exc
        raise UtcError(f"TFLite Micro failed to run the model ({_reason(said, error)})")

    def tensors(self, indices: Sequence[int]) -> list[np.ndarray]:
        """Copies of the tensors `indices` (main subgraph) as the last `run` left them; only
        for an interpreter made with `preserve_all_tensors`. Each index is checked against
        the model's tensor count first: the interpreter reads out of bounds otherwise."""
        out = []
        for i in indices:
            if not 0 <= i < self.tensor_count:
                raise UtcError(f"tensor #{i} is not a tensor of the model's main subgraph")
            with _native_stderr() as said:
                try:
                    t = self._interpreter.GetTensor(int(i), 0)
                except RuntimeError as exc:
                    error = exc
                else:
                    out.append(np.array(t["tensor_data"], copy=True).reshape(-1))
                    continue
            raise UtcError(f"TFLite Micro cannot show tensor #{i} ({_reason(said, error)})")
        return out
