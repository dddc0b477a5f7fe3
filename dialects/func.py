"""`func` dialect: the function that holds the model's computation, and its return."""

from __future__ import annotations

from utc.compiler.ir import Operation, SymbolRef


class FuncOp(Operation):
    """A function; its single-block region's arguments are the model inputs."""

    name = "func.func"
    attributes = {"sym_name": SymbolRef}
    optional_attributes = {
        "arena_bytes": int,
        "lower_bound": int,
        "plan_strategy": str,
        "gap": int,
        "copy_lower_bound": int,
        "plan_alignment": int,
        "no_overlap_lower_bound": int,
        "inputs": tuple,
        "outputs": tuple,
    }
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
