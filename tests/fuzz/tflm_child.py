"""Run TFLite Micro on one model in a child process (``python -m tests.fuzz.tflm_child
MODEL INPUTS.npz OUTPUTS.npz``).

Hostile models can crash the TFLM interpreter (it segfaults on some malformed or merely
unusual models, e.g. an int8 depthwise convolution with a per-tensor filter), which would
take the test process down with it; in a child, a crash is just an exit status.

INPUTS.npz holds ``s<i>_i<k>`` (sample i, input k); OUTPUTS.npz gets ``s<i>_o<k>``.
Exit status: 0 ran; 3 TFLM refused the model (message on stderr); 4 the inputs do not
match the model's declared inputs (the compiler under test and the flatbuffer disagree);
anything else (a signal) TFLM crashed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

EXIT_REFUSED = 3
EXIT_INPUT_MISMATCH = 4


def _samples(path: str) -> list[list[np.ndarray]]:
    with np.load(path) as z:
        keys = {tuple(int(n) for n in re.fullmatch(r"s(\d+)_i(\d+)", k).groups()): k for k in z.files}
        count = 1 + max((i for i, _ in keys), default=-1)
        return [[z[keys[(i, k)]] for k in range(sum(1 for j, _ in keys if j == i))]
                for i in range(count)]


def main(argv: list[str]) -> int:
    from tests.oracle import TflmRunner

    model_path, inputs_path, outputs_path = argv
    model = Path(model_path).read_bytes()
    samples = _samples(inputs_path)
    try:
        runner = TflmRunner(model)
    except Exception as exc:  # noqa: BLE001 (any refusal by the interpreter)
        print(f"TFLM refused the model: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    outputs: dict[str, np.ndarray] = {}
    for i, sample in enumerate(samples):
        try:
            got = runner.run(sample)
        except ValueError as exc:
            if str(exc).startswith(("input ", "model has ")):  # tests.oracle._check_inputs
                print(f"input mismatch: {exc}", file=sys.stderr)
                return EXIT_INPUT_MISMATCH
            print(f"TFLM refused to run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        except Exception as exc:  # noqa: BLE001 (an invoke failure is a refusal too)
            print(f"TFLM refused to run: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        for k, y in enumerate(got):
            outputs[f"s{i}_o{k}"] = y
    np.savez(outputs_path, **outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
