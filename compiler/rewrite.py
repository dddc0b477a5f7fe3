"""Rewrite patterns and the greedy driver.

A pattern names the op class it starts from (`root`) and returns whether it changed the
IR. The driver walks the function body in order and tries the patterns registered for
each op's class in the order given (the documented, fixed order is the list order),
repeating until nothing changes or `max_iterations` sweeps have run. Conversions add a
legality check: any op of an illegal dialect left afterwards is an error naming it and
its TFLite location.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from utc.compiler.errors import CompileError
from utc.compiler.ir import Block, Module, Operation, Value


class Rewriter:
    """IR mutations for patterns; it records whether anything changed."""

    def __init__(self) -> None:
        self.changed = False

    def insert_before(self, anchor: Operation, op: Operation) -> Operation:
        anchor.parent.insert_before(anchor, op)
        self.changed = True
        return op

    def replace_op(self, op: Operation, new: Operation | Sequence[Value]) -> None:
        """Replace `op`'s results with `new` (an op inserted before it, or values)."""
        if isinstance(new, Operation):
            if new.parent is None:
                op.parent.insert_before(op, new)
            values = new.result_values
        else:
            values = list(new)
        if len(values) != len(op.result_values):
            raise CompileError(f"{op.where()}: replacement has {len(values)} results, "
                               f"expected {len(op.result_values)}")
        for old, fresh in zip(op.result_values, values):
            if fresh.name_hint is None:
                fresh.name_hint = old.name_hint
            old.replace_all_uses_with(fresh)
        op.erase()
        self.changed = True

    def erase_op(self, op: Operation) -> None:
        op.erase()
        self.changed = True


class RewritePattern:
    """Subclass, set `root`, implement `match_and_rewrite`."""

    root: ClassVar[type[Operation]] = Operation

    def match_and_rewrite(self, op: Operation, rewriter: Rewriter) -> bool:
        raise TypeError(f"{type(self).__name__} does not implement match_and_rewrite")


def _blocks(module: Module) -> Iterable[Block]:
    for op in module.walk():
        for region in op.body:
            yield from region.blocks


def apply_patterns_greedily(module: Module, patterns: Sequence[RewritePattern],
                            max_iterations: int = 10) -> bool:
    """Apply patterns until a fixed point; return True if anything changed."""
    any_change = False
    for _ in range(max_iterations):
        rewriter = Rewriter()
        for block in list(_blocks(module)):
            for op in list(block.ops):
                if op.parent is not block:  # erased by an earlier rewrite in this sweep
                    continue
                for pattern in patterns:
                    if isinstance(op, pattern.root) and pattern.match_and_rewrite(op, rewriter):
                        break
        any_change |= rewriter.changed
        if not rewriter.changed:
            return any_change
    return any_change


def apply_conversion(module: Module, patterns: Sequence[RewritePattern],
                     illegal: Sequence[type[Operation]] | None = None,
                     illegal_dialects: Sequence[str] = (), pass_name: str = "") -> None:
    """Apply patterns once over every op, then check no illegal op remains."""
    apply_patterns_greedily(module, patterns, max_iterations=1)
    for op in module.walk():
        bad = (illegal and isinstance(op, tuple(illegal))) or op.name.split(".")[0] in illegal_dialects
        if bad:
            raise CompileError(f"{pass_name}: cannot lower {op.where()}; no lowering applies "
                               f"to its operand types or attributes")
