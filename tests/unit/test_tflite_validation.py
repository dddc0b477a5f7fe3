"""The validating importer: every check refuses a damaged or inconsistent model with one
line naming the tensor or operator, and the checks leave valid models alone.

Models are built with the test writer; damage the writer refuses to produce is patched
into the flatbuffer bytes at the field's offset, found through the `tflite` reader."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
import tflite
from utc.compiler.errors import ImportError_, UtcError
from utc.compiler.importers.tflite import import_tflite
from utc.compiler.importers.tflite_checks import MAX_TENSOR_BYTES

from tests.e2e.op_models import single_op
from tests.tflite_writer import ModelBuilder

Q = (0.05, 0)


def _import(tmp_path: Path, data: bytes, **kwargs):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return import_tflite(path, "m", **kwargs)


def refused(tmp_path: Path, data: bytes, pattern: str) -> str:
    with pytest.raises(ImportError_) as info:
        _import(tmp_path, data)
    message = str(info.value)
    assert "\n" not in message and message.isprintable(), message
    assert re.search(pattern, message), message
    return message


def _table_field(table, slot: int) -> int:
    """Absolute position of field `slot` of a flatbuffer table (it must be present)."""
    offset = table._tab.Offset(4 + 2 * slot)
    assert offset, f"field {slot} is absent"
    return table._tab.Pos + offset


def patch(data: bytes, position: int, fmt: str, value) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, position, value)
    return bytes(out)


def _graph(data: bytes):
    return tflite.Model.GetRootAsModel(data, 0).Subgraphs(0)


def conv_model(x_shape=(1, 6, 6, 2), w_shape=(3, 3, 3, 2), y_shape=(1, 6, 6, 3),
               bias_len=3, w_scales=None, options=None) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", x_shape, "int8", scale=0.05, zero_point=1)
    w = b.add_tensor("w", w_shape, "int8", data=np.ones(w_shape, np.int8), scale=0.02)
    if w_scales is not None:  # per-channel parameters the writer would refuse
        b._graph.tensors[w].scale = list(w_scales)
        b._graph.tensors[w].zero_point = [0] * len(w_scales)
        b._graph.tensors[w].quantized_dimension = 3
    bias = b.add_tensor("b", [bias_len], "int32", data=np.zeros(bias_len, np.int32),
                        scale=0.001)
    y = b.add_tensor("y", y_shape, "int8", scale=0.1, zero_point=-3)
    b.add_operator("CONV_2D", [x, w, bias], [y], options or {"padding": "SAME"})
    return b.build([x], [y])


def relu_chain() -> tuple[ModelBuilder, list[int]]:
    b = ModelBuilder()
    t = [b.add_tensor(f"t{i}", [1, 8], "float32") for i in range(3)]
    return b, t


# ---- models that must import -------------------------------------------------------------

def test_a_consistent_model_imports(tmp_path: Path) -> None:
    module = _import(tmp_path, conv_model())
    assert "tensor.conv2d" in str(module)


# ---- file level ----------------------------------------------------------------------------

def test_a_device_is_not_read(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="not a regular file"):
        import_tflite("/dev/zero", "m")


def test_the_file_size_limit(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="larger than the 100-byte limit"):
        _import(tmp_path, conv_model(), max_bytes=100)


# ---- indices and counts ------------------------------------------------------------------

def test_buffer_index_out_of_range(tmp_path: Path) -> None:
    data = conv_model()
    pos = _table_field(_graph(data).Tensors(1), 2)  # Tensor.buffer
    refused(tmp_path, patch(data, pos, "<I", 999), r"tensor 'w' \(#1\) names buffer #999")


def test_opcode_index_out_of_range(tmp_path: Path) -> None:
    b, t = relu_chain()
    b.add_operator("RELU", [t[0]], [t[1]])
    b.add_operator("TANH", [t[1]], [t[2]])
    data = b.build([t[0]], [t[2]])
    pos = _table_field(_graph(data).Operators(1), 0)  # Operator.opcode_index (= 1)
    refused(tmp_path, patch(data, pos, "<I", 77), "operator #1 names operator code #77")


def test_operator_tensor_index_out_of_range(tmp_path: Path) -> None:
    data = conv_model()
    op = _graph(data).Operators(0)
    pos = op._tab.Vector(op._tab.Offset(6))  # first entry of Operator.inputs
    refused(tmp_path, patch(data, pos, "<i", 1234),
            "operator #0 CONV_2D: input 0 names tensor #1234, but the model has 4 tensors")


def test_tensor_count_larger_than_the_file(tmp_path: Path) -> None:
    data = conv_model()
    graph = _graph(data)
    pos = graph._tab.Vector(graph._tab.Offset(4)) - 4  # length of SubGraph.tensors
    refused(tmp_path, patch(data, pos, "<I", 2**30), "tensor count 1073741824 does not fit")


def test_operand_counts(tmp_path: Path) -> None:
    b, t = relu_chain()
    b.add_operator("ADD", [t[0]], [t[1]])
    refused(tmp_path, b.build([t[0]], [t[1]]), "operator #0 ADD: has 1 inputs, expected 2")


# ---- shapes ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, pattern", [
    ([1, 0, 4], r"shape \[1, 0, 4\]; every dimension must be at least 1"),
    ([65536] * 4, "more than the 2147483647-byte limit"),
    ([1] * 7, "rank 7"),
])
def test_bad_shapes(tmp_path: Path, shape, pattern) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", shape, "float32")
    y = b.add_tensor("y", shape, "float32")
    b.add_operator("RELU", [x], [y])
    refused(tmp_path, b.build([x], [y]), pattern)


def test_byte_limit_counts_the_element_size() -> None:
    assert MAX_TENSOR_BYTES == 2**31 - 1


# ---- quantization --------------------------------------------------------------------------

@pytest.mark.parametrize("scale, zero_point, pattern", [
    (float("nan"), 0, "scale nan"),
    (float("inf"), 0, "scale inf"),
    (-0.5, 0, "scale -0.5"),
    (0.0, 0, "scale 0.0"),
    (0.1, 1000, r"zero point 1000, outside the int8 range \[-128, 127\]"),
    (0.1, -(2**31), "zero point -2147483648"),
])
def test_bad_quantization(tmp_path: Path, scale, zero_point, pattern) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int8", scale=scale, zero_point=zero_point)
    y = b.add_tensor("y", [1, 4], "int8", scale=0.1, zero_point=0)
    b.add_operator("RELU", [x], [y])
    refused(tmp_path, b.build([x], [y]), r"tensor 'x' \(#0\) has (quantization )?" + pattern)


def test_per_channel_count_must_match_the_dimension(tmp_path: Path) -> None:
    b = ModelBuilder()
    w = b.add_tensor("w", [3, 2], "int8", data=np.ones((3, 2), np.int8), scale=[0.1, 0.2, 0.3])
    b._graph.tensors[w].scale = [0.1, 0.2]  # damage the writer would refuse
    b._graph.tensors[w].zero_point = [0, 0]
    x = b.add_tensor("x", [1, 2], "int8", scale=0.1)
    y = b.add_tensor("y", [1, 3], "int8", scale=0.1)
    b.add_operator("FULLY_CONNECTED", [x, w, -1], [y])
    refused(tmp_path, b.build([x], [y]), r"tensor 'w' \(#0\) has 2 per-channel scales for 3")


def test_huge_rescale_factor_is_refused(tmp_path: Path) -> None:
    data = single_op("FULLY_CONNECTED", [([1, 4], (1e30, 0)), ([2, 4], (1e30, 0))],
                     [([1, 2], (1e-30, 0))], consts={1: (np.ones((2, 4)), None)})
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    from utc.compiler.driver import compile_model

    with pytest.raises(UtcError, match="rescale factor .* is too large"):
        compile_model(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- operator consistency (the tensor dialect's verifier, anchored on the operator) -------

@pytest.mark.parametrize("kwargs, pattern", [
    ({"y_shape": (1, 5, 6, 3)}, r"the output must have shape \[1, 6, 6, 3\]"),
    ({"bias_len": 4, }, "bias .* must have 3 elements"),
    ({"w_shape": (3, 3, 3, 5)}, r"grouped convolution \(filter depth 5, input depth 2\)"),
    ({"w_scales": [0.1, 0.2]}, "operand 'filter' must be quantized per channel along "
                               "dimension 0 with 3 scales"),
    ({"options": {"padding": "VALID", "stride_h": 9, "stride_w": 1}},
     r"the output must have shape \[1, 1, 4, 3\]"),
])
def test_convolution_consistency(tmp_path: Path, kwargs, pattern) -> None:
    refused(tmp_path, conv_model(**kwargs), "operator #0 CONV_2D: " + pattern)


def test_fully_connected_depth_must_divide_the_input(tmp_path: Path) -> None:
    data = single_op("FULLY_CONNECTED", [([1, 5], Q), ([2, 4], Q)], [([1, 2], Q)],
                     consts={1: (np.ones((2, 4)), None)})
    refused(tmp_path, data, "does not hold whole rows of the weights' depth 4")


def test_binary_output_must_be_the_broadcast_shape(tmp_path: Path) -> None:
    data = single_op("ADD", [([2, 3], Q), ([1, 3], Q)], [([3, 3], Q)])
    refused(tmp_path, data, r"operator #0 ADD: the output must have the broadcast shape \[2, 3\]")


def test_int8_tensor_without_quantization(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int8", scale=0.1)
    y = b.add_tensor("y", [1, 4], "int8")  # quantization lost
    b.add_operator("TANH", [x], [y])
    refused(tmp_path, b.build([x], [y]), "per-tensor quantized int8(, all int16)? or all float32")


def test_int8_output_retyped_int32(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4], "int8", scale=0.1)
    y = b.add_tensor("y", [1, 4], "int32", scale=0.1)
    b.add_operator("RELU", [x], [y])
    refused(tmp_path, b.build([x], [y]), "per-tensor quantized int8(, all int16)? or all float32")


def test_options_of_another_type_count_as_absent(tmp_path: Path) -> None:
    """TFLite Micro reads options through the union's type tag: a tag naming another
    table means no options, so the zero defaults apply (no fused RELU on ADD, and no
    strides at all on CONV_2D, which utc refuses)."""
    b, t = relu_chain()
    c = b.add_tensor("c", [1, 8], "float32", data=np.ones(8, np.float32))
    b.add_operator("ADD", [t[0], c], [t[1]], {"fused_activation_function": "RELU"})
    data = b.build([t[0]], [t[1]])
    pos = _table_field(_graph(data).Operators(0), 3)  # Operator.builtin_options_type
    assert "act = \"relu\"" in str(_import(tmp_path, data))
    assert "act = \"none\"" in str(_import(tmp_path, patch(data, pos, "<B", 1)))

    data = conv_model()
    pos = _table_field(_graph(data).Operators(0), 3)
    refused(tmp_path, patch(data, pos, "<B", 5), "CONV_2D: the operator has no Conv2DOptions")


def test_absent_softmax_options_mean_beta_zero(tmp_path: Path) -> None:
    data = single_op("SOFTMAX", [([1, 4], None)], [([1, 4], None)], {"beta": 1.0})
    pos = _table_field(_graph(data).Operators(0), 3)
    assert "beta = 0.0" in str(_import(tmp_path, patch(data, pos, "<B", 0)))


def test_integer_operands_must_be_integers(tmp_path: Path) -> None:
    data = single_op("PAD", [([1, 2], None), ([2, 2], None)], [([1, 2], None)],
                     consts={1: (np.zeros((2, 2), np.float32), "float32")})
    refused(tmp_path, data, "input 1 .* must be int32 or int64, got FLOAT32")


# ---- dataflow ------------------------------------------------------------------------------

def test_input_used_before_it_is_computed(tmp_path: Path) -> None:
    b, t = relu_chain()
    b.add_operator("RELU", [t[1]], [t[2]])  # t1 is produced only by the next operator
    b.add_operator("RELU", [t[0]], [t[1]])
    refused(tmp_path, b.build([t[0]], [t[2]]),
            r"operator #0 RELU: input 0 \(tensor 't1' \(#1\)\) is not computed by an earlier")


def test_tensor_produced_twice(tmp_path: Path) -> None:
    b, t = relu_chain()
    b.add_operator("RELU", [t[0]], [t[1]])
    b.add_operator("TANH", [t[0]], [t[1]])
    refused(tmp_path, b.build([t[0]], [t[1]]), "is already produced by operator #0 RELU")


def test_model_output_that_is_a_model_input(tmp_path: Path) -> None:
    b, t = relu_chain()
    b.add_operator("RELU", [t[0]], [t[1]])
    refused(tmp_path, b.build([t[0]], [t[1], t[0]]), "model output .* is a model input")


def test_names_are_escaped(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("evil\nname\x1b[31m", [1, 4], "int8", scale=float("nan"))
    y = b.add_tensor("y", [1, 4], "int8", scale=0.1)
    b.add_operator("RELU", [x], [y])
    message = refused(tmp_path, b.build([x], [y]), r"evil\\nname\\x1b\[31m")
    assert "\x1b" not in message


def test_duplicate_tensor_names_are_told_apart_by_position(tmp_path: Path) -> None:
    """Names are not unique in TFLite files: the IR names values by SSA (suffixes), the
    locations and the header by operator and I/O position, and the dump parses back."""
    from utc.compiler.ir.parser import parse_module
    from utc.compiler.ir.printer import print_module

    b, t = relu_chain()
    for k in range(3):
        b._graph.tensors[t[k]].name = "same"
    b.add_operator("RELU", [t[0]], [t[1]])
    b.add_operator("TANH", [t[1]], [t[2]])
    module = _import(tmp_path, b.build([t[0]], [t[2]]))
    text = print_module(module)
    assert "%same_1 = tensor.relu(%same)" in text and "%same_2 = tensor.tanh(%same_1)" in text
    assert print_module(parse_module(text)) == text


def _conv_with_bias_axis(bias_axis: int, bias_scales: int = 4) -> bytes:
    """A per-channel CONV_2D whose bias's quantized_dimension is `bias_axis`, as older
    converters wrote it (3, the filter's output-channel axis, in person_detect.tflite)."""
    b = ModelBuilder()
    rng = np.random.default_rng(7)
    scales = [0.01, 0.02, 0.015, 0.03]
    x = b.add_tensor("x", [1, 4, 4, 2], "int8", scale=0.05, zero_point=1)
    w = b.add_tensor("w", [4, 3, 3, 2], "int8", data=rng.integers(-127, 128, (4, 3, 3, 2)),
                     scale=scales, zero_point=0)
    bias = b.add_tensor("bias", [4], "int32", data=rng.integers(-500, 500, 4),
                        scale=[0.05 * s for s in scales], zero_point=0)
    t = b._graph.tensors[bias]  # what the writer itself would refuse
    t.quantized_dimension = bias_axis
    t.scale, t.zero_point = t.scale[:bias_scales], t.zero_point[:bias_scales]
    y = b.add_tensor("y", [1, 4, 4, 4], "int8", scale=0.1, zero_point=-3)
    b.add_operator("CONV_2D", [x, w, bias], [y], {"padding": "SAME"})
    return b.build([x], [y])


def test_a_rank1_bias_quantized_along_the_filters_channel_axis_reads_along_axis_0(
        tmp_path: Path) -> None:
    """TFLite Micro never reads a bias's quantized_dimension: a rank-1 bias with one scale
    per element is read along its only axis, and the model matches TFLite Micro."""
    from utc.compiler.importers.tflite_checks import effective_quantized_dimension

    from tests.e2e.op_models import check_against_oracle

    scales = np.ones(4, np.float32)
    assert effective_quantized_dimension([4], scales, 3) == 0
    assert effective_quantized_dimension([4], scales[:2], 3) == 3  # not one per element
    assert effective_quantized_dimension([2, 4], scales, 3) == 3  # rank 2: judged as written
    check_against_oracle(_conv_with_bias_axis(3), tmp_path)


def test_a_rank1_tensor_with_scales_not_one_per_element_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(UtcError, match=r"per channel along dimension 3, but has rank 1"):
        _import(tmp_path, _conv_with_bias_axis(3, bias_scales=2))
