"""`reorder-for-memory`: schedule independent ops so that fewer activation bytes are live.

The order of the function's ops is the schedule memory planning works with. On branchy
graphs (residual blocks, inception-style branches) the importer's order can keep a large
branch output alive while another branch runs; a different topological order may not.
This pass builds the dataflow graph of the function (one step per op other than
constants, one buffer per tensor value, a reshape being an alias of its input since it
will become a view), finds an order of minimum peak with
`passes/planning/reorder.py:min_peak_order` and applies it only when its peak is
strictly below the current order's. Only the order of independent ops changes, so the
results are bit-identical: the accesses of one state variable count as dependent (each
after the previous one, `state.access_order_edges`). Constants move with their first user.

The search is exponential in the width of the graph at worst, so it runs on a work budget
(`budget`, in the units of passes/planning/reorder.py, default `DEFAULT_BUDGET`): past
it the greedy order (or the current one) is used, still only when it lowers the peak. The
budget is a count, not a time, so the chosen order, and the output, never depend on the
machine. Building the graph and applying the order are linear in the ops and operands.
"""

from __future__ import annotations

from dataclasses import dataclass

from utc.compiler.ir import Module, Operation, Value
from utc.compiler.pass_manager import Pass, register_pass
from utc.dialects import func, state, tensor
from utc.dialects.func import main_function
from utc.passes.planning.reorder import (
    DEFAULT_BUDGET,
    Graph,
    Step,
    min_peak_order,
    order_peak,
)


def dataflow_graph(fn: func.FuncOp) -> tuple[Graph, list[Operation]]:
    """The function's ops (without constants and the return) as a `Graph`, and the ops in
    step order."""
    ops = [op for op in fn.block.ops if not isinstance(op, tensor.ConstantOp | func.ReturnOp)]
    root: dict[Value, int] = {}
    sizes: list[int] = []
    defined_by: dict[Value, int] = {}

    def new_buffer(v: Value) -> int:
        sizes.append(v.type.byte_size)
        root[v] = len(sizes) - 1
        return root[v]

    inputs = frozenset(new_buffer(a) for a in fn.block.args)
    # reads and writes of one variable keep their program order
    state_order = state.access_order_edges(ops)
    steps = []
    for i, op in enumerate(ops):
        reads = tuple(dict.fromkeys(root[v] for v in op.operand_values if v in root))
        after = tuple(sorted({defined_by[v] for v in op.operand_values if v in defined_by}
                             | ({state_order[i]} if i in state_order else set())))
        if isinstance(op, tensor.ReshapeOp):
            if op.operand("input") in root:
                root[op.result] = root[op.operand("input")]
            writes: tuple[int, ...] = ()
        else:
            writes = tuple(new_buffer(r) for r in op.result_values)
        for r in op.result_values:
            defined_by[r] = i
        steps.append(Step(reads, writes, after))
    outputs = frozenset(root[v] for v in fn.return_op.operand_values if v in root)
    return Graph(tuple(steps), tuple(sizes), inputs, outputs), ops


def apply_order(fn: func.FuncOp, ops: list[Operation], order: list[int]) -> None:
    """Rewrite the block as the ops in `order`, each constant just before its first user."""
    block = fn.block
    constants = [op for op in block.ops if isinstance(op, tensor.ConstantOp)]
    placed: set[Operation] = set()
    body: list[Operation] = []
    for i in order:
        op = ops[i]
        for v in op.operand_values:
            producer = getattr(v, "op", None)
            if isinstance(producer, tensor.ConstantOp) and producer not in placed:
                placed.add(producer)
                body.append(producer)
        body.append(op)
    unused = [c for c in constants if c not in placed]
    block.ops[:] = unused + body + [fn.return_op]


@register_pass
@dataclass(frozen=True)
class ReorderForMemory(Pass):
    """Reorder independent ops to lower the peak of live activation bytes."""

    name = "reorder-for-memory"
    budget: int = DEFAULT_BUDGET  # units of work of the order search (see above)

    def run(self, module: Module) -> None:
        fn = main_function(module)
        graph, ops = dataflow_graph(fn)
        current = order_peak(graph, range(len(ops)))
        result = min_peak_order(graph, limit=current, budget=self.budget)
        if result.peak < current and result.order != list(range(len(ops))):
            apply_order(fn, ops, result.order)
