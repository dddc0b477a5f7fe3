"""`state` dialect: persistent state that survives between invocations of the model.

TFLite's resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, initialised by
a CALL_ONCE subgraph) become one `state.variable` per variable at module level, beside the
function, holding its type and its initial value (a module resource), and in the function
`state.read` / `state.write` of it by symbol:

    state.variable {sym_name = @acc, type = tensor<1x4xf32>, init = dense_resource<acc.init>}
    %v = state.read {variable = @acc} : tensor<1x4xf32>
    state.write(%y) {variable = @acc}

The ops are the same at the tensor, fused and qnn levels (they compute nothing; their
quantization is the variable's). Program order between accesses of one variable is part
of their meaning, so a pass that reorders ops keeps it (`access_order_edges`).
`bufferize` gives each variable a buffer in the state region (`buf.state`), outside the
activation arena, and turns writes, and reads that cannot share the state's bytes, into
calls of a byte copy (`state.copy`).
"""

from __future__ import annotations

from collections.abc import Iterable

from utc.compiler.ir import Operation, ResourceRef, SymbolRef, TensorType, attr, operand, result


class VariableOp(Operation):
    """One persistent variable of the model: its value type, its initial value (what
    the initialisation subgraph assigns, or TFLite Micro's default fill), and the TFLite
    names it was declared with (VAR_HANDLE's `container` and `shared_name`)."""

    name = "state.variable"
    sym_name = attr(SymbolRef)
    type = attr(TensorType)
    init = attr(ResourceRef)
    shared_name = attr(str, optional=True)
    container = attr(str, optional=True)

    def verify_(self) -> None:
        module_block = self.parent
        if module_block is None:
            return
        for other in module_block.ops:
            if other is not self and isinstance(other, VariableOp) \
                    and other.sym_name == self.sym_name:
                raise self.error(f"variable {self.sym_name} is declared twice")


class _Access(Operation):
    """A read or write of one variable, by symbol."""

    variable = attr(SymbolRef)

    def _check_type(self, value_type) -> None:
        """The value's type is the variable's (checked once the op sits in a function
        of a module; the importer verifies ops before it builds the function)."""
        ops = _module_ops(self)
        if ops is None:
            return
        var = find_variable(ops, self.variable)
        if var is None:
            raise self.error(f"no state.variable {self.variable} in the module")
        if value_type != var.type:
            raise self.error(f"{self.variable} holds {var.type}, not {value_type}")


class ReadOp(_Access):
    """The variable's value at this point of the program (TFLite READ_VARIABLE)."""

    name = "state.read"
    output = result()

    def verify_(self) -> None:
        self._check_type(self.output.type)


class WriteOp(_Access):
    """Set the variable to `value`; later reads see it, this invocation and the next ones
    (TFLite ASSIGN_VARIABLE)."""

    name = "state.write"
    value = operand()

    def verify_(self) -> None:
        self._check_type(self.value.type)


class CopyOp(Operation):
    """`output` gets the bytes of `input` (same type). Never built at the tensor level:
    it is the op a `buf.call` of the state copy kernel names, made by `bufferize` for a
    write (value -> the variable's `buf.state`) and for a read whose value must outlive
    the variable's next write (`buf.state` -> an arena buffer)."""

    name = "state.copy"
    input = operand()
    output = result()

    def verify_(self) -> None:
        if self.input.type != self.output.type:
            raise self.error(f"copies {self.input.type} into {self.output.type}")


ACCESS_OPS = (ReadOp, WriteOp)
#: Ops of this dialect that are no kernel call at the tensor level.
NO_KERNEL_OPS = (VariableOp, ReadOp, WriteOp)


def _module_ops(op: Operation) -> list[Operation] | None:
    """The ops of the module body holding the function `op` is in (None while `op` is
    not inside a function that belongs to a module)."""
    block = op.parent
    while block is not None and block.parent is not None:
        owner = block.parent.parent  # block -> region -> the op owning the region
        if owner is None or owner.parent is None:
            return None
        if owner.parent.parent is None:  # the owner sits in the module body
            return list(owner.parent.ops)
        block = owner.parent
    return None


def find_variable(ops: Iterable[Operation] | None, symbol: SymbolRef) -> VariableOp | None:
    """The `state.variable` named `symbol` among module-level `ops`."""
    for op in ops or ():
        if isinstance(op, VariableOp) and op.sym_name == symbol:
            return op
    return None


def variables(module) -> list[VariableOp]:
    """The module's variables, in declaration order."""
    return [op for op in module.body.ops if isinstance(op, VariableOp)]


def access_order_edges(ops: list[Operation]) -> dict[int, int]:
    """For each position of `ops` holding a read or write of a variable, the position of
    the previous access of the same variable: the order a scheduler must keep (two reads
    in either order mean the same, but keeping every access in place is simpler and
    costs no memory)."""
    last: dict[SymbolRef, int] = {}
    edges: dict[int, int] = {}
    for i, op in enumerate(ops):
        if isinstance(op, ACCESS_OPS):
            if op.variable in last:
                edges[i] = last[op.variable]
            last[op.variable] = i
    return edges
