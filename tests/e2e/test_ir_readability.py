"""The printed IR stays readable: a per-channel model's tensor-level dump with elided
weights averages well under 120 characters a line (issue 9, "Readable IR"). Per-axis
scales live in type aliases, locations are off by default and long attribute
dictionaries wrap, so no op line carries them. Line lengths are not timing: this is exact."""

from __future__ import annotations

import numpy as np
import pytest
from utc.compiler.driver import import_model
from utc.compiler.ir.parser import parse_module
from utc.compiler.ir.printer import WIDTH, print_module

from tests.conftest import SHARED_MODELS
from tests.e2e.op_models import conv_like

RESNET8 = SHARED_MODELS / "mlperf_ic_resnet8_int8.tflite"


def _model(tmp_path):
    """resnet8 when the shared models are present, else a self-built per-channel conv
    with 64 output channels (the widest per-axis type in resnet8)."""
    if RESNET8.is_file():
        return RESNET8
    path = tmp_path / "conv_per_channel.tflite"
    path.write_bytes(conv_like("CONV_2D", [1, 8, 8, 32], [64, 3, 3, 32], [1, 8, 8, 64],
                               {"padding": "SAME", "stride_w": 1, "stride_h": 1},
                               q=True, rng=np.random.default_rng(9)))
    return path


@pytest.mark.parametrize("locations", [False, True])
def test_elided_tensor_level_dump_is_readable(tmp_path, locations):
    module = import_model(_model(tmp_path), "model")
    text = print_module(module, elide_resources=True, locations=locations)
    lengths = [len(line) for line in text.splitlines()]
    mean = sum(lengths) / len(lengths)
    assert mean < WIDTH, f"mean line length {mean:.1f}"
    # every line but a location (an op's list of TFLite sources) fits the width
    assert max(len(line.split(" loc(")[0]) for line in text.splitlines()) <= WIDTH
    assert "!quant" not in text.split("\nmodule @", 1)[1], "quantized types are aliased"
    assert ("loc(" in text) == locations
    assert print_module(parse_module(text), elide_resources=True, locations=locations) == text
