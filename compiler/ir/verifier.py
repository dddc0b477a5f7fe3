"""The module verifier: structural SSA checks plus every op's declared and custom checks.

Run after parsing, after each pass under `--verify-each`, and in tests. A failure is a
VerifyError naming the op and its TFLite location.
"""

from __future__ import annotations

from .core import Block, Module, Operation, Value, VerifyError


def _verify_block(block: Block, visible: set[Value], module: Module) -> None:
    scope = set(visible) | set(block.args)
    for op in block.ops:
        if op.parent is not block:
            raise op.error("parent link is broken")
        for i, v in enumerate(op.operand_values):
            if v not in scope:
                raise op.error(f"operand #{i} is not defined before its use")
            if (op, i) not in v.uses:
                raise op.error(f"operand #{i} is missing from its value's use list")
        op.verify()
        _verify_resources(op, module)
        for region in op.body:
            if region.parent is not op:
                raise op.error("region parent link is broken")
            for inner in region.blocks:
                _verify_block(inner, scope, module)
        scope.update(op.result_values)


def _verify_resources(op: Operation, module: Module) -> None:
    from .attributes import ResourceRef

    def visit(value: object) -> None:
        if isinstance(value, ResourceRef) and value.name not in module.resources:
            raise op.error(f"refers to unknown resource '{value.name}'")
        if isinstance(value, tuple):
            for v in value:
                visit(v)

    for v in op.attrs.values():
        visit(v)


def verify_module(module: Module) -> None:
    """Raise VerifyError on the first broken invariant."""
    if not isinstance(module, Module):
        raise VerifyError("not a module")
    _verify_block(module.body, set(), module)
