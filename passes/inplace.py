"""`inplace`: let alias-safe kernels write their output over an input that dies there.

For every `buf.call` whose kernel's record allows running in place (`in_place` in
`runtime/kernels.py`: elementwise binary kernels, unary activations and requantization,
softmax) and whose output is a fresh arena `buf.alloc`, the pass looks for an input (in
operand order) that

- the record names and that has exactly the output's shape and bytes;
- lives in the arena (not a flash global) and is not a model input;
- dies at this call: no later call reads or writes its buffer or any view of it, and
  neither it nor any view of it is returned (a model output);
- does not partly overlap another input of the call.

The output `buf.alloc` is then replaced by a `buf.view` of that input at offset 0, so the
kernel runs in place; plan-memory's liveness follows views to the root buffer, which
stays live until the output's last use. Views chain: consecutive in-place ops all share
one buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module, Value
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import buf, func
from utc.dialects.buf import root_and_offset
from utc.dialects.func import main_function
from utc.passes.planning.aliasing import aliasable_inputs, may_alias


def alias_tree(root: buf.AllocOp) -> list[Value]:
    """The root's value and every view of it, transitively."""
    out, todo = [], [root.result]
    while todo:
        v = todo.pop()
        out.append(v)
        for user in v.users:
            if isinstance(user, buf.ViewOp) and user.operand("source") is v:
                todo.append(user.result)
    return out


def last_use(root: buf.AllocOp, step_of: dict[buf.CallOp, int]) -> int | None:
    """The last schedule step that touches the root's bytes; None when something other
    than calls and views uses them (a model output, an unknown op): never dead."""
    last = -1
    for v in alias_tree(root):
        for user in v.users:
            if isinstance(user, buf.CallOp):
                last = max(last, step_of[user])
            elif isinstance(user, func.ReturnOp) or not isinstance(user, buf.ViewOp):
                return None
    return last


def _partly_overlaps(a: tuple[buf.AllocOp | None, int], a_size: int,
                     b: tuple[buf.AllocOp | None, int], b_size: int) -> bool:
    """Do two byte ranges of the same root share bytes without being the same range?"""
    if a[0] is None or a[0] is not b[0] or (a[1], a_size) == (b[1], b_size):
        return False
    return max(a[1], b[1]) < min(a[1] + a_size, b[1] + b_size)


def inplace_input(call: buf.CallOp, step: int,
                  step_of: dict[buf.CallOp, int]) -> tuple[Value, Value] | None:
    """(input, output) when the call's output may take over that input's buffer."""
    outs = [v for v in call.outputs if not (isinstance(v.op, buf.AllocOp)
                                            and v.op.scratch)]
    if len(outs) != 1:
        return None
    out = outs[0]
    alloc = getattr(out, "op", None)
    if not isinstance(alloc, buf.AllocOp) or alloc.input is not None:
        return None
    if any(user is not call and not isinstance(user, buf.CallOp | func.ReturnOp | buf.ViewOp)
           for user in out.users):
        return None
    ins = call.inputs
    for index in aliasable_inputs(call.callee):
        if index >= len(ins) or not may_alias(call.callee, index, ins[index], out):
            continue
        v = ins[index]
        where = root_and_offset(v)
        root = where[0]
        if root is None or root.input is not None or root.scratch:
            continue
        end = last_use(root, step_of)
        if end is None or end > step:
            continue
        size = v.type.byte_size
        if any(_partly_overlaps(where, size, root_and_offset(w), w.type.byte_size)
               for w in ins if w is not v):
            continue  # another input partly overlaps the bytes the output would take
        return v, out
    return None


@register_pass
@dataclass(frozen=True)
class InPlace(Pass):
    """Run alias-safe kernels in place over an input buffer that dies at the call."""

    name = "inplace"

    def run(self, module: Module) -> None:
        fn = main_function(module)
        block = fn.block
        calls = [op for op in block.ops if isinstance(op, buf.CallOp)]
        step_of = {c: i for i, c in enumerate(calls)}
        for step, call in enumerate(calls):
            found = inplace_input(call, step, step_of)
            if found is None:
                continue
            source, out = found
            alloc = out.op
            view = buf.ViewOp([source], [out.type], {"offset": 0}, location=alloc.location,
                              result_names=[out.name_hint])
            position = alloc if block.ops.index(alloc) > _definition_index(block, source) else call
            block.insert_before(position, view)
            out.replace_all_uses_with(view.result)
            alloc.erase()


def _definition_index(block, value: Value) -> int:
    op = getattr(value, "op", None)
    return block.ops.index(op) if op is not None and op.parent is block else -1
