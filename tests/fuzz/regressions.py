"""Every problem a fuzz campaign has found, as a recipe: a seed model and the mutations that
reach the problem. `tests/fuzz/test_fuzz.py` replays each one and requires a clean outcome
(compiled, or refused with one `utc: error:` line and nothing left behind), and builds the
ones that compile under the sanitizers and compares them with TFLite Micro.

Recipes instead of binary mutants: a recipe is a few readable lines, it applies to the
self-built seeds (`tests.fuzz.seeds`, the same bytes on every machine), and a recipe on a
shared model (``shared:<file>``) needs no copy of that model in the repository (shared
models are never committed). `found` records what the recipe did when it was found (on
the commit named in `found_on`), so a failure can be compared with the original report.

Adding a regression: take the description a campaign prints for the case (for instance
``conv_int8: operators[0].builtin_options.stride_w = 0 (CONV_2D Conv2DOptions)``), shrink
it to the mutations that matter, and write them here as `Patch` (or byte-level) objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tests.fuzz.mutate import (
    BitFlip,
    DuplicateChunk,
    Mutant,
    Mutation,
    Patch,
    RemoveChunk,
    SetByte,
    SetInt32,
    apply_mutations,
)

__all__ = ["REGRESSIONS", "Regression"]

#: The commit the first campaign (and the classes in issue 8) ran against.
_HEAD_0 = "53e9d5d"
#: 53e9d5d plus the validator work in progress (uncommitted), as fuzzed on 2026-12-03.
_VALIDATOR_WIP = "53e9d5d + validator work in progress, 2026-12-03"
_NAN, _INF = math.nan, math.inf


@dataclass(frozen=True)
class Regression:
    """A problem found by fuzzing, as a replayable recipe.

    unsafe: the model was *accepted* and the generated code was wrong (a sanitizer
    report, or outputs that differ from TFLite Micro) rather than the compiler failing
    to refuse it cleanly.
    must_refuse: the model is invalid (its shapes or quantization contradict each other
    or the int8 range), so the only clean outcome is a refusal. Otherwise compiling is
    also clean, provided the code is sanitizer-clean and matches TFLite Micro (a union
    tag naming another options table, for instance, may be refused or read the way
    TFLite Micro reads it)."""

    name: str
    seed_model: str
    mutations: tuple[Mutation, ...]
    found: str
    found_on: str = _HEAD_0
    unsafe: bool = False
    must_refuse: bool = False

    def mutant(self, seeds: Mapping[str, bytes]) -> Mutant:
        """The mutant (raises KeyError when the seed model is not available here, and
        mutate.NotApplicable when the recipe no longer matches its seed)."""
        data = apply_mutations(seeds[self.seed_model], self.mutations)
        return Mutant(self.seed_model, self.mutations, data)

    def describe(self) -> str:
        return f"{self.seed_model}: " + "; ".join(m.describe() for m in self.mutations)


def _r(name: str, seed_model: str, *mutations: Mutation, found: str, unsafe: bool = False,
       must_refuse: bool = False, found_on: str = _HEAD_0) -> Regression:
    return Regression(name, seed_model, tuple(mutations), found, found_on, unsafe, must_refuse)


REGRESSIONS: tuple[Regression, ...] = (
    # ---- the compiler crashed, or broke the one-line error contract ----------------------
    _r("nan-weight-scale", "conv_int8", Patch("tensors[1].quantization.scale[0]", _NAN),
       found="ValueError in compiler/quantmath.py (NaN scale)"),
    _r("nan-activation-scale", "fc_int8", Patch("tensors[0].quantization.scale[0]", _NAN),
       found="ValueError in compiler/quantmath.py (NaN scale)"),
    _r("inf-weight-scale", "mini_cnn_int8", Patch("tensors[1].quantization.scale[3]", _INF),
       found="OverflowError at compiler/quantmath.py:18"),
    _r("zero-stride-pool", "max_pool_float",
       Patch("operators[0].builtin_options.stride_h", 0, "MAX_POOL_2D Pool2DOptions"),
       found="ZeroDivisionError at compiler/shape_math.py:16"),
    _r("zero-stride-conv", "conv_int8",
       Patch("operators[0].builtin_options.stride_w", 0, "CONV_2D Conv2DOptions"),
       found="ZeroDivisionError (zero stride)"),
    _r("zero-dim-softmax", "softmax_int8", Patch("tensors[0].shape[1]", 0),
       Patch("tensors[1].shape[1]", 0),
       found="ZeroDivisionError at codegen/emit_cpp.py:219 (zero dimension)"),
    _r("zero-stride-valid-conv", "conv_float",
       Patch("operators[0].builtin_options.stride_w", 0, "CONV_2D Conv2DOptions"),
       found="ZeroDivisionError at compiler/shape_math.py:23 (VALID padding, zero stride)"),
    _r("zero-output-scale", "fc_int8", Patch("tensors[3].quantization.scale[0]", 0.0),
       found="ZeroDivisionError at compiler/quantmath.py:49"),
    _r("negative-zero-output-scale", "fc_int8", Patch("tensors[3].quantization.scale[0]", -0.0),
       found="ZeroDivisionError at compiler/quantmath.py:65"),
    _r("conv-input-quantization-dropped", "conv_int8",
       Patch("tensors[0].quantization.scale.length", 0),
       found="AttributeError at passes/lower_to_qnn.py:77"),
    _r("softmax-input-quantization-dropped", "softmax_int8",
       Patch("tensors[0].quantization.scale.length", 0),
       found="AttributeError at passes/lower_to_qnn.py:268"),
    _r("weights-quantization-dropped", "conv_int8",
       Patch("tensors[1].quantization.scale.length", 0),
       found="AttributeError at passes/lower_to_qnn.py:33 (int8 weights without a scale)"),
    _r("input-quantization-dropped", "fc_int8",
       Patch("tensors[0].quantization.scale.length", 0),
       found="AttributeError at passes/lower_to_qnn.py:103 (int8 input without a scale)"),
    _r("op-with-three-outputs", "sine_float",
       Patch("operators[1].outputs.length", 3, "FULLY_CONNECTED"),
       found="ValueError at compiler/ir/core.py:197 (tensor.fully_connected has 3 results)"),
    _r("scalar-softmax", "softmax_int8", Patch("tensors[0].shape.length", 0),
       Patch("tensors[1].buffer", 3),
       found="jinja2 UndefinedError at codegen/emit_cpp.py:219 (tuple has no element -1)"),
    _r("pool-input-rank-0", "avg_pool_int8", Patch("tensors[0].shape.length", 0),
       found="ValueError at passes/tensor_to_fused.py:22 (unpacking a 4-D shape)"),
    _r("depthwise-output-rank-2", "mini_cnn_int8", Patch("tensors[6].shape.length", 2),
       found="ValueError at passes/tensor_to_fused.py:23 (unpacking a 4-D shape)"),
    _r("concat-wrong-axis", "concat_int8",
       Patch("operators[0].builtin_options.axis", 0, "CONCATENATION ConcatenationOptions"),
       found="ValueError at compiler/slice_math.py:136 (shapes differ outside the axis)"),
    _r("concat-scalar-input", "concat_int8", Patch("tensors[1].shape.length", 0),
       found="ValueError at compiler/slice_math.py:132 (inputs of different ranks)"),
    _r("newline-in-tensor-name", "mul_float", Patch("operators[0].inputs[1]", 2, "MUL"),
       Patch("tensors[2].name[0]", 0x0A),
       found="tensor name with a newline printed raw: a two-line error message"),
    _r("newline-in-name-of-bad-pool", "avg_pool_int8",
       Patch("operators[0].builtin_options.stride_h", 7, "AVERAGE_POOL_2D Pool2DOptions"),
       Patch("tensors[1].name[0]", 0x0A),
       found="two-line error message (CompileError at passes/tensor_to_fused.py:28)"),
    _r("escape-in-name-of-bad-type", "avg_pool_int8", Patch("tensors[0].name[1]", 0x1B),
       Patch("tensors[0].type", 8),
       found="ESC printed raw (ImportError_ at compiler/importers/tflite.py:151)"),
    _r("non-ascii-tensor-name", "fc_int8", Patch("buffers[3].data.length", 16),
       Patch("tensors[2].name[0]", 0xFF),
       found="tensor name byte 0xff printed raw (ImportError_ at compiler/importers/"
             "tflite.py:376)", found_on=_VALIDATOR_WIP),
    _r("non-ascii-name-zero-point", "softmax_int8",
       Patch("tensors[1].quantization.zero_point[0]", 2**31 - 1), Patch("tensors[1].name[0]", 0xFF),
       found="tensor name byte 0xff printed raw (ImportError_ at compiler/importers/"
             "tflite_checks.py:79)", found_on=_VALIDATOR_WIP),
    _r("giant-output-dim", "softmax_int8", Patch("tensors[1].shape[0]", 2**31 - 1),
       found="compiled with a 160 GiB arena: MemoryError in the memory-plan checker"),

    _r("corrupt-name-non-ascii", "depthwise_int8", RemoveChunk(0x30D, 0x3C),
       found="a name read from corrupt bytes printed raw (ImportError_ at compiler/importers/"
             "tflite.py:325)", found_on=_VALIDATOR_WIP),
    _r("corrupt-name-in-sparse-message", "mean_int8", RemoveChunk(0x1A3, 0x1B),
       RemoveChunk(0xF7, 0x11), BitFlip(0x8C, 6), DuplicateChunk(0x137, 0xB, 0x209),
       found="a name read from corrupt bytes printed raw (ImportError_ at compiler/importers/"
             "tflite.py:330)", found_on=_VALIDATOR_WIP),
    _r("corrupt-name-in-operand-message", "max_pool_float", SetByte(0x12C, 0x7F),
       BitFlip(0x11B, 6), SetInt32(0xF4, 1), BitFlip(0x164, 3),
       found="a name read from corrupt bytes printed raw (ImportError_ at compiler/importers/"
             "tflite_checks.py:138)", found_on=_VALIDATOR_WIP),
    _r("negative-table-offset-a", "sine_float", SetByte(0x92, 0x01), SetInt32(0x120, 255),
       found="utc: internal error: TypeError: bad number -6625 for type uint32 (flatbuffers "
             "reader, at compiler/importers/tflite.py:579)", found_on=_VALIDATOR_WIP),
    _r("negative-table-offset-b", "conv_float", BitFlip(0x12A, 5), BitFlip(0x168, 5),
       found="utc: internal error: TypeError: bad number -2096872 for type uint32 (flatbuffers "
             "reader, at compiler/importers/tflite.py:591)", found_on=_VALIDATOR_WIP),
    _r("negative-table-offset-c", "avg_pool_int8", SetByte(0x10E, 0x0A),
       found="utc: internal error: TypeError: bad number -655108 for type uint32 (flatbuffers "
             "reader, at compiler/importers/tflite.py:641)", found_on=_VALIDATOR_WIP),
    _r("missing-zero-points", "fc_int8", Patch("tensors[0].quantization.zero_point.length", 0),
       found="accepted; TFLite Micro read a zero point past the empty vector and differed "
             "(10,000-case shared-model campaign, seed 8, case 24)", must_refuse=True,
       found_on="d815aae"),

    # ---- accepted, and the generated code was unsafe or wrong ----------------------------
    _r("huge-batch", "conv_int8", Patch("tensors[0].shape[0]", 1 << 20), unsafe=True,
       found="batch 2^20 compiled: global-buffer-overflow under ASan (and, in another run, "
             "the memory-plan check did not finish in 20 s)"),
    _r("bias-shorter-than-channels", "conv_int8", Patch("tensors[2].shape[0]", 2),
       Patch("buffers[3].data.length", 8), unsafe=True, must_refuse=True,
       found="global-buffer-overflow under ASan (bias length != output channels)"),
    _r("per-channel-count-shrunk", "conv_int8", Patch("tensors[1].quantization.scale.length", 2),
       Patch("tensors[1].quantization.zero_point.length", 2), unsafe=True, must_refuse=True,
       found="global-buffer-overflow under ASan (2 scales for 4 output channels)"),
    _r("fc-input-depth", "fc_int8", Patch("tensors[0].shape[1]", 6), unsafe=True,
       must_refuse=True, found="input depth 6 against weights of depth 12 compiled: outputs "
       "differ from TFLM"),
    _r("fc-output-too-wide", "fc_int8", Patch("tensors[3].shape[1]", 7), unsafe=True,
       must_refuse=True, found="7 outputs from 5 weight rows compiled: outputs differ from TFLM"),
    _r("pool-output-channels", "avg_pool_int8", Patch("tensors[1].shape[3]", 5), unsafe=True,
       must_refuse=True, found="5 output channels from 3 compiled: outputs differ from TFLM"),
    _r("fc-output-rank-3", "sine_int8", Patch("tensors[3].shape.length", 3), unsafe=True,
       found="global-buffer-overflow under ASan"),
    _r("element-count-wraps", "mul_float", Patch("tensors[0].shape[1]", 65536),
       Patch("tensors[0].shape[2]", 65536), Patch("tensors[2].shape[1]", 65536),
       Patch("tensors[2].shape[2]", 65536), unsafe=True, must_refuse=True,
       found="element count 3 * 2^32 (wraps in 32-bit size arithmetic) compiled: "
             "MemoryError in the memory-plan checker"),
    _r("zero-point-int32-min", "fc_int8",
       Patch("tensors[0].quantization.zero_point[0]", -(2**31)), unsafe=True, must_refuse=True,
       found="int8 input zero point -2^31 accepted"),
    _r("zero-point-1000", "conv_int8", Patch("tensors[3].quantization.zero_point[0]", 1000),
       unsafe=True, must_refuse=True,
       found="int8 output zero point 1000 accepted: outputs differ from TFLM"),
    _r("negative-scale", "conv_int8", Patch("tensors[3].quantization.scale[0]", -0.03),
       unsafe=True, must_refuse=True,
       found="negative output scale accepted: outputs differ from TFLM"),
    _r("scale-1e30", "fc_int8", Patch("tensors[0].quantization.scale[0]", 1e30), unsafe=True,
       found="scale 1e30 accepted: UBSan 'shift exponent 100 is too large for 32-bit type'"),
    _r("options-tag-svdf-on-pool", "avg_pool_int8",
       Patch("operators[0].builtin_options_type", 6, "AVERAGE_POOL_2D"), unsafe=True,
       found="Pool2DOptions read through an SVDFOptions tag: every output differs from TFLM"),
    _r("options-tag-none-on-fc", "fc_int8",
       Patch("operators[0].builtin_options_type", 0, "FULLY_CONNECTED"), unsafe=True,
       found="options read although the tag says NONE: outputs differ from TFLM"),
    _r("options-tag-255-on-fc", "sine_float",
       Patch("operators[1].builtin_options_type", 255, "FULLY_CONNECTED"), unsafe=True,
       found="options read through an unknown tag: outputs differ from TFLM"),
    _r("depthwise-multiplier-contradicts-shapes", "depthwise_int8",
       Patch("operators[0].builtin_options.depth_multiplier", 3,
             "DEPTHWISE_CONV_2D DepthwiseConv2DOptions"), unsafe=True, must_refuse=True,
       found="depth_multiplier 3 with 2 input and 4 output channels compiled: outputs differ "
             "from TFLM", found_on=_VALIDATOR_WIP),
    _r("add-input-rank-grown", "add_int8", Patch("tensors[1].shape.length", 4), unsafe=True,
       found="rank 3 -> 4 (reading past the shape vector): outputs differ from TFLM"),

    # ---- shared models (replayed only where ../shared/models is present) -----------------
    _r("shared-inf-scale-hybrid", "shared:mlperf_kws_dscnn_float.tflite",
       Patch("tensors[17].quantization.scale[0]", _INF),
       found="RuntimeWarning printed under the error line (FloatingPointError at "
             "compiler/importers/tflite.py:251)"),
    _r("shared-non-ascii-name", "shared:hello_world_int8.tflite",
       Patch("operators[1].inputs[1]", 8, "FULLY_CONNECTED"), Patch("tensors[8].name[0]", 0xFF),
       found="tensor name byte 0xff printed raw (ImportError_ at compiler/importers/"
             "tflite_checks.py:138)", found_on=_VALIDATOR_WIP),
)
