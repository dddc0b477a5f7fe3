"""`bufferize`: turn value-semantics ops into buffers and kernel calls (`buf` dialect).

Model inputs and every kernel output become arena buffers (`buf.alloc`), constants
become flash buffers (`buf.global`), reshapes become views of their source (no copy),
and each kernel-bound op becomes a `buf.call` in destination-passing style whose
attributes are the op's compile-time parameters. Scratch memory a kernel needs is a
buffer of its own, live only during that call.

Before converting, the pass records (or raises) the function's `copy_lower_bound`: the
fixed-order bound of its input program with one buffer per tensor value, reshapes
counted as copies (`passes/planning/copy_bound.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.errors import CompileError
from utc.compiler.ir import I8, Block, MemRefType, Module, Region, TensorType, Value
from utc.compiler.pass_manager import Pass, register_module_check, register_pass
from utc.dialects import buf, func, tensor
from utc.dialects.func import main_function
from utc.passes.planning.copy_bound import record_copy_lower_bound
from utc.runtime.kernels import KERNELS_BY_NAME, needs_kernel


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
        for op in old.ops:
            if isinstance(op, func.ReturnOp):
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
                for r in op.result_values:
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
