"""`concat-in-place`: producers write straight into the slices of a concatenation.

A concatenation along an axis whose preceding dimensions are all 1 lays each input out
as one contiguous slice of the output. When every input of such a `buf.call` is a whole
arena buffer (a `buf.alloc`, or a view covering one, that is not a model input or
scratch) whose bytes nobody touches after the concatenation and that no other input
shares, the pass

- moves the output's `buf.alloc` before those buffers,
- replaces each input's `buf.alloc` by a `buf.view` of the output at the slice's byte
  offset (so its producer, and any op that reads it before the concatenation, use the
  slice), and
- erases the concatenation call.

Liveness follows views, so the output becomes live from the first producer on. That can
raise the peak when the inputs are produced far apart, so a placement is kept only when
the fixed-order lower bound of the resulting plan is not above the current one
(`passes/planning/placement.py`). Run it after `inplace`: an in-place chain over an
input then moves into the slice with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import buf, tensor
from utc.dialects.buf import root_and_offset
from utc.dialects.func import FuncOp, main_function
from utc.passes.inplace import last_use
from utc.passes.plan_memory import live_ranges
from utc.passes.planning.intervals import Buffer, lower_bound
from utc.passes.planning.placement import bound_after_placement
from utc.runtime.kernels import KERNELS_BY_NAME


def _calls(fn: FuncOp) -> list[buf.CallOp]:
    return [op for op in fn.block.ops if isinstance(op, buf.CallOp)]


def contiguous_slices(call: buf.CallOp) -> list[int] | None:
    """Byte offset of each input inside the output, when each input is one contiguous
    slice of it (every dimension before the axis is 1); otherwise None."""
    outs = call.outputs
    if len(outs) != 1 or "axis" not in call.attrs:
        return None
    shape = outs[0].type.shape
    axis = call.attrs["axis"]
    if not 0 <= axis < len(shape) or any(d != 1 for d in shape[:axis]):
        return None
    offsets, at = [], 0
    for v in call.inputs:
        offsets.append(at)
        at += v.type.byte_size
    return offsets if at == outs[0].type.byte_size else None


def placeable_roots(call: buf.CallOp, step: int,
                    step_of: dict[buf.CallOp, int]) -> list[buf.AllocOp] | None:
    """The input buffers of a concatenation call that can all move into its output."""
    roots = []
    for v in call.inputs:
        root, offset = root_and_offset(v)
        if (root is None or offset != 0 or root.result.type.byte_size != v.type.byte_size
                or root.input is not None or root.scratch or root in roots):
            return None
        end = last_use(root, step_of)
        if end is None or end > step:
            return None
        roots.append(root)
    return roots


def _try_place(fn: FuncOp) -> bool:
    """Place the first concatenation that can be placed; True if one was."""
    calls = _calls(fn)
    step_of = {c: i for i, c in enumerate(calls)}
    for step, call in enumerate(calls):
        kernel = KERNELS_BY_NAME.get(call.callee)
        if kernel is None or kernel.op_class is not tensor.ConcatenationOp:
            continue
        offsets = contiguous_slices(call)
        if offsets is None:
            continue
        out = call.outputs[0]
        whole = out.op
        if not isinstance(whole, buf.AllocOp) or whole.input is not None:
            continue
        roots = placeable_roots(call, step, step_of)
        if roots is None or whole in roots:
            continue
        ranges = live_ranges(fn)
        allocs = list(ranges)
        buffers = [Buffer(f"b{i}", a.size, *ranges[a]) for i, a in enumerate(allocs)]
        index = {a: i for i, a in enumerate(allocs)}
        after = bound_after_placement(buffers, [index[r] for r in roots], index[whole], step)
        if after > lower_bound(buffers):
            continue
        _place(fn, call, whole, roots, offsets)
        return True
    return False


def _place(fn: FuncOp, call: buf.CallOp, whole: buf.AllocOp, roots: list[buf.AllocOp],
           offsets: list[int]) -> None:
    block = fn.block
    first = min(block.ops.index(r) for r in roots)
    if block.ops.index(whole) > first:
        block.ops.remove(whole)
        block.ops.insert(first, whole)
    for root, offset in zip(roots, offsets):
        view = buf.ViewOp([whole.result], [root.result.type], {"offset": offset},
                          location=root.location, result_names=[root.result.name_hint])
        block.insert_before(root, view)
        root.result.replace_all_uses_with(view.result)
        root.erase()
    call.erase()


@register_pass
@dataclass(frozen=True)
class ConcatInPlace(Pass):
    """Let the producers of a concatenation write into its output; drop the copy."""

    name = "concat-in-place"

    def run(self, module: Module) -> None:
        fn = main_function(module)
        while _try_place(fn):
            pass
