"""The IR-level memory-plan checker (passes/planning/verify_ir.py): sound plans pass, and
each kind of broken plan (seeded by editing a planned module) is reported."""

from __future__ import annotations

import pytest
import utc.passes  # noqa: F401  (registers passes and the plan attributes)
from utc.compiler.driver import lower
from utc.compiler.ir import VerifyError
from utc.compiler.ir.parser import parse_module
from utc.compiler.pass_manager import Instrumentation, parse_pipeline, run_pipeline
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.planning.checker import PlanError
from utc.passes.planning.verify_ir import assert_memory_plan, verify_memory_plan

PIPELINE = "bufferize,inplace,concat-in-place,plan-memory"

SOURCE = """
module @m {
  func.func() {sym_name = @main} ({
  ^entry(%x: tensor<1x4xf32>):
    %w = tensor.constant() {value = dense_resource<w>} : tensor<8x4xf32>
    %w2 = tensor.constant() {value = dense_resource<w2>} : tensor<8x16xf32>
    %a = fused.fully_connected(%x, %w) {act = "none", kernel = "utc_fully_connected_f32"} : tensor<1x8xf32>
    %b = fused.fully_connected(%x, %w) {act = "none", kernel = "utc_fully_connected_f32"} : tensor<1x8xf32>
    %ra = tensor.relu(%a) {kernel = "utc_clamp_f32"} : tensor<1x8xf32>
    %cat = tensor.concatenation(%ra, %b) {axis = 1, kernel = "utc_concatenation"} : tensor<1x16xf32>
    %f = fused.fully_connected(%cat, %w2) {act = "none", kernel = "utc_fully_connected_f32"} : tensor<1x8xf32>
    %t = tensor.tanh(%f) {kernel = "utc_tanh_f32"} : tensor<1x8xf32>
    %r = tensor.reshape(%t) : tensor<8xf32>
    func.return(%r) : ()
  }) : ()
}
{-#
  dense_resources: {
    w: tensor<8x4xf32> = elided,
    w2: tensor<8x16xf32> = elided,
  }
#-}
"""


def planned(pipeline: str = PIPELINE):
    module = parse_module(SOURCE)
    module.verify()
    lower(module, pipeline)
    return module


def ops_by_name(module) -> dict[str, object]:
    fn = main_function(module)
    return {op.result.name_hint: op for op in fn.block.ops
            if isinstance(op, buf.AllocOp | buf.ViewOp)}


@pytest.mark.parametrize("pipeline", [PIPELINE, "bufferize,plan-memory",
                                      "bufferize,plan-memory{strategy=greedy-by-size}",
                                      "bufferize,inplace,plan-memory{alignment=4}"])
def test_sound_plans_pass(pipeline: str) -> None:
    module = planned(pipeline)
    assert verify_memory_plan(module) == []
    assert_memory_plan(module)


def test_the_sample_uses_every_kind_of_alias() -> None:
    ops = ops_by_name(planned())
    assert isinstance(ops["ra"], buf.ViewOp)  # in place
    assert isinstance(ops["a"], buf.ViewOp) and isinstance(ops["b"], buf.ViewOp)  # concat slots
    assert isinstance(ops["t"], buf.ViewOp)  # in place over %f
    assert isinstance(ops["r"], buf.ViewOp)  # reshape


def test_overlapping_live_buffers_are_reported() -> None:
    module = planned()
    ops = ops_by_name(module)
    ops["f"].attrs["offset"] = ops["cat"].attrs["offset"]  # %cat is read while %f is written
    problems = verify_memory_plan(module)
    assert any("share bytes in use at step" in p for p in problems)
    assert any("overlaps input" in p for p in problems)
    with pytest.raises(PlanError, match="invalid memory plan"):
        assert_memory_plan(module)


def test_misaligned_and_out_of_arena_offsets_are_reported() -> None:
    module = planned()
    ops = ops_by_name(module)
    ops["x"].attrs["offset"] = 8
    assert any("not a multiple of 16" in p for p in verify_memory_plan(module))
    module = planned()
    ops = ops_by_name(module)
    ops["f"].attrs["offset"] = main_function(module).attrs["arena_bytes"]
    assert any("past the arena" in p for p in verify_memory_plan(module))


def test_misaligned_element_addresses_are_reported() -> None:
    module = planned()
    ops_by_name(module)["b"].attrs["offset"] = 30  # a float slot at an odd address
    problems = verify_memory_plan(module)
    assert any("not aligned to its 4-byte elements" in p for p in problems)


def test_a_view_outside_its_source_is_reported() -> None:
    module = planned()
    ops_by_name(module)["b"].attrs["offset"] = 48
    assert any("leave its source" in p for p in verify_memory_plan(module))


def test_a_narrow_recorded_live_range_is_reported() -> None:
    module = planned()
    ops = ops_by_name(module)
    ops["cat"].attrs["live"] = (2, 3)
    assert any("does not cover its uses" in p for p in verify_memory_plan(module))


def test_a_kernel_that_may_not_run_in_place_is_reported() -> None:
    module = planned()
    fn = main_function(module)
    ops = ops_by_name(module)
    # make the fully connected layer write over its own input (%cat)
    call = next(op for op in fn.block.ops if isinstance(op, buf.CallOp)
                and op.operand_values[0] is ops["cat"].result)
    f = ops["f"]
    view = buf.ViewOp([ops["cat"].result], [f.result.type], {"offset": 0},
                      result_names=["bad"])
    fn.block.insert_before(f, view)
    f.result.replace_all_uses_with(view.result)
    f.erase()
    problems = verify_memory_plan(module)
    assert any("may not run in place" in p for p in problems), problems
    assert call.parent is fn.block


def test_an_in_place_output_over_data_still_needed_is_reported() -> None:
    module = parse_module(SOURCE)
    lower(module, "bufferize,plan-memory")
    fn = main_function(module)
    ops = ops_by_name(module)
    relu = next(op for op in fn.block.ops if isinstance(op, buf.CallOp)
                and op.attrs["op"] == "tensor.relu")
    # the RELU writes over %b, which the concatenation still reads afterwards
    ra = ops["ra"]
    view = buf.ViewOp([ops["b"].result], [ra.result.type], {"offset": 0}, result_names=["ra"])
    fn.block.insert_before(relu, view)
    ra.result.replace_all_uses_with(view.result)
    ra.erase()
    problems = verify_memory_plan(module)
    assert any("overwrote some of its bytes" in p for p in problems), problems


def test_overlapping_concatenation_slots_are_reported() -> None:
    module = planned()
    ops_by_name(module)["b"].attrs["offset"] = 16  # half over %a's slot
    problems = verify_memory_plan(module)
    assert any("written into overlapping bytes" in p for p in problems), problems


def test_reading_bytes_nobody_wrote_is_reported() -> None:
    module = planned()
    fn = main_function(module)
    # drop the producer of %b: the slot of %cat it filled is never written
    producer = next(op for op in fn.block.ops if isinstance(op, buf.CallOp)
                    and ops_by_name(module)["b"].result in op.operand_values
                    and op.attrs["op"] == "fused.fully_connected")
    producer.erase()
    assert any("before all of its bytes were written" in p for p in verify_memory_plan(module))


def test_unplanned_module() -> None:
    module = parse_module(SOURCE)
    lower(module, "bufferize")
    assert verify_memory_plan(module) == ["memory is not planned (no arena_bytes on the function)"]


def test_verify_each_runs_the_checker_after_planning() -> None:
    module = parse_module(SOURCE)
    passes = parse_pipeline("bufferize,plan-memory")
    run_pipeline(module, passes, Instrumentation(verify_each=True))
    # a pass after planning that breaks the plan is caught under --verify-each
    ops_by_name(module)["f"].attrs["offset"] = ops_by_name(module)["cat"].attrs["offset"]
    from utc.compiler.pass_manager import run_module_checks

    with pytest.raises(VerifyError, match="after p: the memory plan is invalid"):
        run_module_checks(module, "p")


# ---- a model input inside a group (overlap-buffers) ------------------------------------

_CONV = ('stride = [1, 1], dilation = [1, 1], pad = [0, 0, 0, 0], act = "none", '
         'kernel = "utc_conv2d_f32"')
_FC = 'act = "none", kernel = "utc_fully_connected_f32"'
TWO_INPUTS = f"""
module @m {{
  func.func() {{sym_name = @main}} ({{
  ^entry(%x1: tensor<1x4xf32>, %x2: tensor<1x8x8x2xf32>):
    %w = tensor.constant() {{value = dense_resource<w>}} : tensor<2x4xf32>
    %w0 = tensor.constant() {{value = dense_resource<w0>}} : tensor<4x1x1x2xf32>
    %y1 = fused.fully_connected(%x1, %w) {{{_FC}}} : tensor<1x2xf32>
    %c = fused.conv2d(%x2, %w0) {{{_CONV}}} : tensor<1x8x8x4xf32>
    func.return(%y1, %c) : ()
  }}) : ()
}}
{{-#
  dense_resources: {{
    w: tensor<2x4xf32> = elided,
    w0: tensor<4x1x1x2xf32> = elided,
  }}
#-}}
"""


def planned_with_input_in_a_group():
    """Step 0: a fully connected layer on %x1; step 1: a 1x1 conv whose output starts
    576 B before %x2 (model input 1), which dies there: one group, live from step 0."""
    module = parse_module(TWO_INPUTS)
    module.verify()
    lower(module, "bufferize,inplace,concat-in-place,overlap-buffers,plan-memory")
    return module


def test_a_model_input_inside_a_group_is_written_before_step_0() -> None:
    module = planned_with_input_in_a_group()
    ops = ops_by_name(module)
    x2, group = ops["x2"], ops["c_overlap"]
    assert isinstance(x2, buf.ViewOp) and x2.attrs == {"offset": 576, "input": 1}
    assert x2.operand("source") is group.result and group.attrs["live"][0] == 0
    assert buf.model_inputs(main_function(module).block.ops) == {0: ops["x1"].result,
                                                                1: x2.result}
    assert verify_memory_plan(module) == []


def test_a_group_holding_a_model_input_must_be_live_from_step_0() -> None:
    module = planned_with_input_in_a_group()
    ops_by_name(module)["c_overlap"].attrs["live"] = (1, 1)  # its first call is step 1
    problems = verify_memory_plan(module)
    assert any("recorded live range [1, 1] does not cover its uses [0, 1]" in p
               for p in problems), problems


def test_bytes_written_at_step_0_over_a_model_input_in_a_group_are_reported() -> None:
    module = planned_with_input_in_a_group()
    ops = ops_by_name(module)
    # %y1 (written at step 0) over %x2's bytes: the replay knows %x2 was written before
    # step 0, so the conv at step 1 reads bytes %y1 overwrote (not unwritten ones)
    ops["y1"].attrs["offset"] = ops["c_overlap"].attrs["offset"] + 576
    problems = verify_memory_plan(module)
    assert any("reads %x2" in p and "%y1 overwrote" in p for p in problems), problems
    assert not any("before all of its bytes were written" in p for p in problems), problems


def test_one_buffer_per_model_input() -> None:
    module = planned_with_input_in_a_group()
    module.verify()
    ops = ops_by_name(module)
    ops["x1"].attrs["input"] = 1  # now the alloc and the view both claim input 1
    with pytest.raises(VerifyError, match="model input 1 has more than one buffer"):
        module.verify()


@pytest.mark.parametrize("source", ["x1", "w"])
def test_a_model_input_view_lies_in_an_arena_buffer(source: str) -> None:
    """Not inside another model input, nor in flash."""
    module = planned_with_input_in_a_group()
    fn = main_function(module)
    src = next(op for op in fn.block.ops if isinstance(op, buf.AllocOp | buf.GlobalOp)
               and op.result.name_hint == source)
    view = buf.ViewOp([src.result], [src.result.type], {"offset": 0, "input": 2},
                      result_names=["bad"])
    fn.block.insert_before(fn.return_op, view)
    with pytest.raises(VerifyError, match="model input view must lie in an arena buffer"):
        module.verify()
