"""`bufferize`: turn value-semantics ops into buffers and kernel calls (`buf` dialect).

Model inputs and every kernel output become arena buffers (`buf.alloc`), constants
become flash buffers (`buf.global`), reshapes become views of their source (no copy),
and each kernel-bound op becomes a `buf.call` in destination-passing style whose
attributes are the op's compile-time parameters. Scratch memory a kernel needs is a
buffer of its own, live only during that call.

Persistent state: each variable the function reads or writes gets one `buf.state`
buffer (in the state region, beside the arena); a `state.write` becomes a call of the
state copy kernel into it, and a `state.read` is the state buffer itself when its value
is used up before the variable's next write (`passes/planning/state.py`), else a copy
into an arena buffer.

Before converting, the pass records (or raises) the function's `copy_lower_bound`: the
fixed-order bound of its input program with one buffer per tensor value, reshapes
counted as copies (`passes/planning/copy_bound.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import I8, Block, MemRefType, Module, Region, TensorType, Value
from utc.compiler.pass_manager import Pass, register_module_check, register_pass
from utc.dialects import buf, func, state, tensor
from utc.dialects.func import main_function
from utc.passes.planning.copy_bound import record_copy_lower_bound
from utc.passes.planning.state import shared_reads
from utc.runtime.kernels import KERNELS_BY_NAME, STATE_COPY, needs_kernel


def memref_of(t: TensorType) -> MemRefType:
    return MemRefType(t.shape, t.element)


@register_module_check
def kernel_call_check(module: Module) -> list[str]:
    """Every `buf.call` is typed by its kernel's record: the callee is a declared kernel,
    `op` is one of the op classes it implements, and the input and output segments
    (`num_inputs`, then outputs, then scratch buffers) match that class's fields."""
    problems: list[str] = []
    for op in module.walk():
        if not isinstance(op, buf.CallOp):
            continue
        kernel = KERNELS_BY_NAME.get(op.callee)
        if kernel is None:
            problems.append(f"{op.where()} calls '{op.callee}', which no kernel record "
                            "declares")
            continue
        try:
            cls = kernel.implementation(op.op)
        except ValueError as e:
            problems.append(f"{op.where()}: {e}")
            continue
        outputs = [v for v in op.outputs if not buf.is_scratch(v)]
        for kind, specs, count in (("inputs", cls.operands, len(op.inputs)),
                                   ("outputs", cls.results, len(outputs))):
            fixed = [s for s in specs if not s.endswith(("?", "*"))]
            variadic = any(s.endswith("*") for s in specs)
            if count < len(fixed) or (not variadic and count > len(specs)):
                problems.append(f"{op.where()}: {count} {kind} do not fit {cls.name}'s fields "
                                f"{list(specs)}")
    return problems


@register_module_check
def state_write_check(module: Module) -> list[str]:
    """State buffers keep the variables between runs: only the state copy kernel writes
    them (a kernel writing its output there would change a variable behind the model's
    back), and no view points into one."""
    problems: list[str] = []
    for op in module.walk():
        if isinstance(op, buf.CallOp) and op.op != state.CopyOp.name:
            updated = _state_updated_in_place(op)
            for v in op.outputs:
                if isinstance(getattr(v, "op", None), buf.StateOp) and v not in updated:
                    problems.append(f"{op.where()} writes the state buffer of "
                                    f"{v.op.variable}")
        elif isinstance(op, buf.ViewOp) and isinstance(getattr(op.source, "op", None),
                                                       buf.StateOp):
            problems.append(f"{op.where()} is a view of the state buffer of "
                            f"{op.source.op.variable}")
    return problems


def _state_updated_in_place(call: buf.CallOp) -> list[Value]:
    """The state buffers a call updates in place as its kernel record allows
    (`state_in_place`: the same buffer bound to the operand field and its result field)."""
    kernel = KERNELS_BY_NAME.get(call.callee)
    if kernel is None or not kernel.state_in_place:
        return []
    outputs = [v for v in call.outputs if not buf.is_scratch(v)]
    fields = kernel.fields(call.inputs, outputs)
    return [fields[r] for o, r in kernel.state_in_place
            if fields.get(o) is not None and fields.get(o) is fields.get(r)]


def _in_place_states(op, mapping: dict, state_of: dict) -> dict:
    """Results of `op` that its kernel may write over a variable's state buffer (record
    field `state_in_place`): the operand is a read of the variable whose state buffer is
    used directly and has no other use, and the result is used only to write the same
    variable back, so no one sees the old bytes after the kernel overwrites them."""
    kernel = KERNELS_BY_NAME.get(op.kernel)
    out: dict = {}
    for operand_field, result_field in (kernel.state_in_place if kernel else ()):
        value, result = op.operand(operand_field), getattr(op, result_field)
        read = getattr(value, "op", None)
        if not isinstance(read, state.ReadOp) or mapping.get(value) is not state_of.get(read.variable):
            continue
        if len(value.uses) != 1 or len(result.uses) != 1:
            continue
        user = result.uses[0][0]
        if isinstance(user, state.WriteOp) and user.variable == read.variable:
            out[result] = mapping[value]
    return out


def _copy(source: Value, dest: Value, op) -> buf.CallOp:
    """A call of the state copy kernel, located at the TFLite operator it implements."""
    return buf.CallOp([source, dest], [], {"callee": STATE_COPY.name,
                                           "op": state.CopyOp.name, "num_inputs": 1},
                      location=op.location)


@register_pass
@dataclass(frozen=True)
class Bufferize(Pass):
    """Convert tensors to arena/flash buffers and kernel-bound ops to `buf.call`."""

    name = "bufferize"

    def run(self, module: Module) -> None:
        fn = main_function(module)
        record_copy_lower_bound(fn)
        old = fn.block
        new = Block()
        mapping: dict[Value, Value] = {}
        for i, arg in enumerate(old.args):
            alloc = buf.AllocOp([], [memref_of(arg.type)], {"size": arg.type.byte_size, "input": i},
                                result_names=[arg.name_hint])
            new.append(alloc)
            mapping[arg] = alloc.result
        state_of: dict = {}  # variable symbol -> its buf.state value
        for op in old.ops:
            if isinstance(op, state.ReadOp | state.WriteOp) and op.variable not in state_of:
                t = op.result.type if isinstance(op, state.ReadOp) else op.value.type
                s = buf.StateOp([], [memref_of(t)], {"variable": op.variable,
                                                     "size": t.byte_size},
                                result_names=[op.variable.name])
                state_of[op.variable] = new.append(s).result
        shared = shared_reads(old.ops)
        for op in old.ops:
            if isinstance(op, state.ReadOp):
                if op in shared:
                    mapping[op.result] = state_of[op.variable]
                    continue
                a = buf.AllocOp([], [memref_of(op.result.type)],
                                {"size": op.result.type.byte_size}, location=op.location,
                                result_names=[op.result.name_hint])
                mapping[op.result] = new.append(a).result
                new.append(_copy(state_of[op.variable], a.result, op))
            elif isinstance(op, state.WriteOp):
                if mapping[op.value] is not state_of[op.variable]:  # else updated in place
                    new.append(_copy(mapping[op.value], state_of[op.variable], op))
            elif isinstance(op, func.ReturnOp):
                new.append(func.ReturnOp([mapping[v] for v in op.operand_values]))
            elif isinstance(op, tensor.ConstantOp):
                g = buf.GlobalOp([], [memref_of(op.result.type)], {"value": op.value},
                                 location=op.location, result_names=[op.result.name_hint])
                mapping[op.result] = new.append(g).result
            elif isinstance(op, tensor.ReshapeOp):
                v = buf.ViewOp([mapping[op.operand("input")]], [memref_of(op.result.type)],
                               {"offset": 0}, location=op.location,
                               result_names=[op.result.name_hint])
                mapping[op.result] = new.append(v).result
            elif needs_kernel(op):
                if "kernel" not in op.attrs:
                    raise CompileError(f"{self.name}: {op.where()} has no kernel; run "
                                       "select-kernels first")
                outs = []
                in_place = _in_place_states(op, mapping, state_of)
                for r in op.result_values:
                    if r in in_place:
                        mapping[r] = in_place[r]
                        outs.append(in_place[r])
                        continue
                    a = buf.AllocOp([], [memref_of(r.type)], {"size": r.type.byte_size},
                                    location=op.location, result_names=[r.name_hint])
                    new.append(a)
                    mapping[r] = a.result
                    outs.append(a.result)
                scratch = []
                if op.scratch:
                    size = op.scratch
                    s = buf.AllocOp([], [MemRefType((size,), I8)], {"size": size, "scratch": True},
                                    location=op.location, result_names=["scratch"])
                    scratch.append(new.append(s).result)
                ins = [mapping[v] for v in op.operand_values]
                attrs = {"callee": op.kernel, "op": op.name, "num_inputs": len(ins)}
                attrs.update({k: v for k, v in op.attrs.items() if k not in ("kernel", "scratch")})
                new.append(buf.CallOp(ins + outs + scratch, [], attrs, location=op.location))
            else:
                raise CompileError(f"{self.name}: cannot bufferize {op.where()}")
        # swap the new body in and drop the old ops (in reverse, so uses disappear first)
        fn.body[0] = Region([new])
        fn.body[0].parent = fn
        for op in reversed(old.ops):
            op._drop_operands()
