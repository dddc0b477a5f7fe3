"""`func` dialect: the function that holds the model's computation, and its return."""

from __future__ import annotations

from utc.compiler.ir import Operation, SymbolRef, attr
from utc.compiler.ir.fields import Ints


class FuncOp(Operation):
    """A function; its single-block region's arguments are the model inputs."""

    name = "func.func"
    sym_name = attr(SymbolRef)
    #: The memory plan (`plan-memory`): arena size, the proven lower bound it is measured
    #: against, the strategy that found it, the gap between them, the bounds with
    #: copies forced / overlap forbidden, and the alignment it assumed.
    arena_bytes = attr(int, optional=True)
    lower_bound = attr(int, optional=True)
    plan_strategy = attr(str, optional=True)
    gap = attr(int, optional=True)
    copy_lower_bound = attr(int, optional=True)
    plan_alignment = attr(int, optional=True)
    no_overlap_lower_bound = attr(int, optional=True)
    #: Bytes of the state region (`buf.state` buffers of persistent variables), planned
    #: apart from the arena; absent when the model has no state.
    state_bytes = attr(int, optional=True)
    #: Memory regions (`plan-memory{regions=...}`): one (name, capacity, bytes used,
    #: linker section or "") per region, in the order given; `arena_bytes` is then their
    #: sum and every `buf.alloc` names its `region`. Absent: one arena.
    memory_regions = attr(tuple, optional=True)
    #: The TFLite tensor names of the model inputs and outputs, in order.
    inputs = attr(tuple, optional=True)
    outputs = attr(tuple, optional=True)
    #: Patch-based execution (`patch-stages`): the first `layers` calls of the model run
    #: tile by tile, in bands of `rows` output rows of the last of them, `tiles` bands.
    patch_stage = attr(Ints(3, names="[layers, rows, tiles]"), optional=True)
    regions = 1

    def verify_(self) -> None:
        blocks = self.body[0].blocks
        if len(blocks) != 1:
            raise self.error("a function has exactly one block")
        term = blocks[0].terminator
        if not isinstance(term, ReturnOp):
            raise self.error("a function must end with func.return")

    @property
    def block(self):
        return self.body[0].blocks[0]

    @property
    def return_op(self) -> ReturnOp:
        return self.block.terminator


class ReturnOp(Operation):
    """Ends a function; its operands are the model outputs, in TFLite order."""

    name = "func.return"
    operands = ("values*",)


def main_function(module) -> FuncOp:
    """The module's single function (TFLite models with one subgraph have one)."""
    funcs = [op for op in module.body.ops if isinstance(op, FuncOp)]
    if len(funcs) != 1:
        raise ValueError(f"expected one function in the module, found {len(funcs)}")
    return funcs[0]
