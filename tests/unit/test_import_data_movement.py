"""Importing the data-movement and elementwise builtins: the IR that the operators written
as views around one existing op become (SPACE_TO_DEPTH, UNPACK, SHAPE folded), and each
variant TFLite Micro lacks or utc cannot match (dtype, computed operand, bad shape or axis)
refused with one line naming the operator and its index."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.e2e.op_models import int_const, single_op
from tests.tflite_writer import ModelBuilder
from tests.unit.test_tflite_validation import _import, refused

Q, Q2 = (0.05, -7), (0.1, 3)


def _ops(module) -> list[str]:
    return [op.name for op in module.walk() if op.name.startswith(("tensor.", "func.return"))]


def test_space_to_depth_is_a_view_a_transpose_and_a_view(tmp_path: Path) -> None:
    model = single_op("SPACE_TO_DEPTH", [([1, 4, 4, 2], Q)], [([1, 2, 2, 8], Q)], {"block_size": 2})
    assert _ops(_import(tmp_path, model)) == [
        "tensor.reshape", "tensor.transpose", "tensor.reshape", "func.return"]


def test_unpack_is_a_split_and_views(tmp_path: Path) -> None:
    model = single_op("UNPACK", [([2, 3], None)], [([3], None)] * 2, {"num": 2, "axis": 0})
    assert _ops(_import(tmp_path, model)) == [
        "tensor.split", "tensor.reshape", "tensor.reshape", "func.return"]


def test_space_to_depth_int16_is_refused(tmp_path: Path) -> None:
    model = single_op("SPACE_TO_DEPTH", [([1, 4, 4, 2], (1e-3, 0))], [([1, 2, 2, 8], (1e-3, 0))],
                      {"block_size": 2}, qdtype="int16")
    refused(tmp_path, model, r"operator #0 SPACE_TO_DEPTH: .*int16 tensors .* not supported "
                             r"for SPACE_TO_DEPTH")


def test_space_to_depth_indivisible_is_refused(tmp_path: Path) -> None:
    model = single_op("SPACE_TO_DEPTH", [([1, 5, 4, 2], None)], [([1, 2, 2, 8], None)],
                      {"block_size": 2})
    refused(tmp_path, model, r"operator #0 SPACE_TO_DEPTH: height 5 and width 4 must be "
                             r"multiples of block_size 2")


def test_depth_to_space_wrong_output_shape_is_refused(tmp_path: Path) -> None:
    model = single_op("DEPTH_TO_SPACE", [([1, 2, 2, 8], None)], [([1, 4, 2, 4], None)],
                      {"block_size": 2})
    refused(tmp_path, model, r"operator #0 DEPTH_TO_SPACE: block_size 2 gives shape "
                             r"\[1, 4, 4, 2\] but the model says \[1, 4, 2, 4\]")


def test_depth_to_space_requantizing_is_refused(tmp_path: Path) -> None:
    model = single_op("DEPTH_TO_SPACE", [([1, 2, 2, 8], Q)], [([1, 4, 4, 2], Q2)], {"block_size": 2})
    refused(tmp_path, model, r"operator #0 DEPTH_TO_SPACE: inputs and outputs must share one "
                             r"quantization")


def test_pack_mixed_quantization_is_refused(tmp_path: Path) -> None:
    model = single_op("PACK", [([2], Q), ([2], Q2)], [([2, 2], Q)], {"values_count": 2})
    refused(tmp_path, model, r"operator #0 PACK: inputs and outputs must share one quantization")


def test_pack_bad_axis_and_count_are_refused(tmp_path: Path) -> None:
    model = single_op("PACK", [([2], None)] * 2, [([2, 2], None)], {"values_count": 2, "axis": 2})
    refused(tmp_path, model, r"operator #0 PACK: axis 2 is out of range for an output of rank 2")
    model = single_op("PACK", [([2], None)] * 2, [([2, 2], None)], {"values_count": 3})
    refused(tmp_path, model, r"operator #0 PACK: values_count 3 differs from the 2 inputs")


def test_unpack_wrong_num_is_refused(tmp_path: Path) -> None:
    model = single_op("UNPACK", [([3, 2], None)], [([2], None)] * 2, {"num": 2, "axis": 0})
    refused(tmp_path, model, r"operator #0 UNPACK: num 2 and the 2 outputs must equal the 3 "
                             r"slices along axis 0")


def test_gather_int64_indices_are_refused(tmp_path: Path) -> None:
    model = single_op("GATHER", [([4, 2], None), ([2], None)], [([2, 2], None)], {"axis": 0},
                      consts={1: int_const([0, 1], "int64")})
    refused(tmp_path, model, r"operator #0 GATHER: indices 'c1' must be int32 \(as TFLite Micro "
                             r"requires\), got INT64")


def test_gather_constant_index_out_of_range_is_refused(tmp_path: Path) -> None:
    model = single_op("GATHER", [([4, 2], None), ([2], None)], [([4, 2], None)], {"axis": 1},
                      consts={1: int_const([1, 2])})
    refused(tmp_path, model, r"operator #0 GATHER: constant index 2 is out of range \[0, 2\) "
                             r"on axis 1")


def test_gather_int16_is_refused(tmp_path: Path) -> None:
    model = single_op("GATHER", [([4, 2], (1e-3, 0)), ([2], None)], [([2, 2], (1e-3, 0))],
                      consts={1: int_const([0, 1])}, qdtype="int16")
    refused(tmp_path, model, r"operator #0 GATHER: .*int16 tensors .* not supported for GATHER")


def test_broadcast_to_rank6_is_refused(tmp_path: Path) -> None:
    out = [2, 1, 1, 1, 1, 3]
    model = single_op("BROADCAST_TO", [([3], None), ([6], None)], [(out, None)],
                      consts={1: int_const(out)})
    refused(tmp_path, model, r"operator #0 BROADCAST_TO: rank 6 is not supported \(TFLite Micro "
                             r"broadcasts up to 5-D\)")


def test_broadcast_to_computed_shape_is_refused(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [3], "float32")
    s = b.add_tensor("s", [2], "int32")
    y = b.add_tensor("y", [2, 3], "float32")
    b.add_operator("BROADCAST_TO", [x, s], [y])
    refused(tmp_path, b.build([x, s], [y]), r"operator #0 BROADCAST_TO: input 1 \('s'\) must be "
                                            r"a constant")


def test_fill_computed_dims_is_refused(tmp_path: Path) -> None:
    b = ModelBuilder()
    d = b.add_tensor("d", [1], "int32")
    v = b.add_tensor("v", [], "float32", data=np.array(1.0))
    y = b.add_tensor("y", [4], "float32")
    b.add_operator("FILL", [d, v], [y])
    refused(tmp_path, b.build([d], [y]), r"operator #0 FILL: dims 'd' must be a constant")


def test_fill_int16_is_refused(tmp_path: Path) -> None:
    b = ModelBuilder()
    d = b.add_tensor("d", [1], "int32", data=np.array([4]))
    x = b.add_tensor("x", [1], "int16", scale=1e-3, zero_point=0)
    v = b.add_tensor("v", [], "int16", scale=1e-3, zero_point=0)
    y = b.add_tensor("y", [4], "int16", scale=1e-3, zero_point=0)
    b.add_operator("RESHAPE", [x], [v])
    b.add_operator("FILL", [d, v], [y])
    refused(tmp_path, b.build([x], [y]), r"operator #1 FILL: .*int16 tensors .* not supported "
                                         r"for FILL")


def test_shape_int64_is_refused(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [2, 3], "float32")
    s = b.add_tensor("s", [2], "int64")
    b.add_operator("SHAPE", [x], [s], {"out_type": "INT64"})
    refused(tmp_path, b.build([x], [s]), r"operator #0 SHAPE: output type INT64 is not supported "
                                         r"\(TFLite Micro's SHAPE writes int32\)")


def test_shape_is_folded_into_a_constant(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.add_tensor("x", [2, 3, 5], "float32")
    s = b.add_tensor("s", [3], "int32")
    b.add_operator("SHAPE", [x], [s], {"out_type": "INT32"})
    module = _import(tmp_path, b.build([x], [s]))
    consts = [op for op in module.walk() if op.name == "tensor.constant"]
    assert len(consts) == 1 and _ops(module) == ["tensor.constant", "func.return"]
    assert module.resources[consts[0].value.name].data.tolist() == [2, 3, 5]


def _arg_model(op: str, x_dtype: str, y_dtype: str, axis_const: bool = True) -> bytes:
    b = ModelBuilder()
    q = {"scale": 1e-3, "zero_point": 0} if x_dtype in ("int8", "int16") else {}
    x = b.add_tensor("x", [2, 3], x_dtype, **q)
    a = b.add_tensor("a", [1], "int32", data=np.array([1]) if axis_const else None)
    y = b.add_tensor("y", [2], y_dtype)
    b.add_operator(op, [x, a], [y], {"output_type": y_dtype.upper()})
    return b.build([x] if axis_const else [x, a], [y])


def test_arg_max_int64_output_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, _arg_model("ARG_MAX", "float32", "int64"),
            r"operator #0 ARG_MAX: output type INT64 is not supported \(TFLite Micro writes int32\)")


def test_arg_min_computed_axis_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, _arg_model("ARG_MIN", "float32", "int32", axis_const=False),
            r"operator #0 ARG_MIN: input 1 \('a'\) must be a constant")


def test_arg_max_int16_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, _arg_model("ARG_MAX", "int16", "int32"),
            r"operator #0 ARG_MAX: .*int16 tensors .* not supported for ARG_MAX")


def test_float_math_int8_is_refused(tmp_path: Path) -> None:
    q = (0.05, -7)
    # (int8 ABS is supported: tests/e2e/test_builtins_more.py)
    refused(tmp_path, single_op("NEG", [([4], q)], [([4], q)]),
            r"operator #0 NEG: input type INT8 is not supported \(supported: float32\)")
    refused(tmp_path, single_op("NEG", [([4], q)], [([4], q)], version=2),
            r"operator #0 NEG version 2 is not supported \(utc implements versions 1-1\)")


def test_div_int16_is_refused(tmp_path: Path) -> None:
    # TFLite Micro divides float32, int32 and int8 (its int16 path is never registered)
    q = (0.05, 0)
    refused(tmp_path, single_op("DIV", [([4], q), ([4], q)], [([4], q)], qdtype="int16"),
            r"operator #0 DIV: tensor 'x0' \(#0\): int16 tensors \(16x8 quantization\) are "
            r"not supported for DIV")


def _resize(size: list[int], out: list[int], options: dict, const: bool = True) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 2, 3, 1], "float32")
    s = b.add_tensor("s", [2], "int32", data=np.array(size) if const else None)
    y = b.add_tensor("y", out, "float32")
    b.add_operator("RESIZE_NEAREST_NEIGHBOR", [x, s], [y], options, version=3)
    return b.build([x] if const else [x, s], [y])


def test_resize_nearest_is_two_gathers_with_constant_indices(tmp_path: Path) -> None:
    module = _import(tmp_path, _resize([4, 6], [1, 4, 6, 1], {}))
    assert _ops(module) == ["tensor.constant", "tensor.gather", "tensor.constant",
                            "tensor.gather", "func.return"]
    tables = [module.resources[op.value.name].data.tolist() for op in module.walk()
              if op.name == "tensor.constant"]
    assert tables == [[0, 0, 1, 1], [0, 0, 1, 1, 2, 2]]


def test_resize_nearest_refusals(tmp_path: Path) -> None:
    refused(tmp_path, _resize([4, 6], [1, 4, 6, 1], {"align_corners": True, "half_pixel_centers": True}),
            r"operator #0 RESIZE_NEAREST_NEIGHBOR: align_corners together with half_pixel_centers")
    refused(tmp_path, _resize([4, 6], [1, 4, 6, 1], {}, const=False),
            r"operator #0 RESIZE_NEAREST_NEIGHBOR: input 1 \('s'\) must be a constant")
    refused(tmp_path, _resize([4, 5], [1, 4, 6, 1], {}),
            r"operator #0 RESIZE_NEAREST_NEIGHBOR: size \[4, 5\] does not give the output shape")


def test_mirror_pad_too_wide_is_refused(tmp_path: Path) -> None:
    model = single_op("MIRROR_PAD", [([3, 4], None), ([2, 2], None)], [([3, 8], None)],
                      {"mode": "REFLECT"}, consts={1: int_const([[0, 0], [4, 0]])})
    refused(tmp_path, model, r"operator #0 MIRROR_PAD: REFLECT paddings \(4, 0\) of a dimension "
                             r"of size 4 must be in \[0, 3\]")


def test_mirror_pad_int16_is_refused(tmp_path: Path) -> None:
    q = (1e-3, 0)
    model = single_op("MIRROR_PAD", [([3], q), ([1, 2], None)], [([5], q)], {"mode": "SYMMETRIC"},
                      consts={1: int_const([[1, 1]])}, qdtype="int16")
    refused(tmp_path, model, r"operator #0 MIRROR_PAD: .*int16 tensors .* not supported for MIRROR_PAD")
