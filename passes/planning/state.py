"""Planning persistent state: which variable reads can use the state's bytes directly,
and where each variable sits in the state region.

The state region is not the arena: its buffers keep their bytes between invocations, so
nothing else may ever use them, and each variable simply gets its own aligned slot.
"""

from __future__ import annotations

from collections.abc import Sequence

from utc.compiler.ir import Operation, Value
from utc.dialects import func, state, tensor


def _uses(value: Value) -> list[Operation]:
    """The users of `value`, through reshapes (which bufferize turns into views of the
    same bytes)."""
    out = []
    todo = [value]
    while todo:
        v = todo.pop()
        for user, _ in v.uses:
            if isinstance(user, tensor.ReshapeOp):
                todo.append(user.result)
            else:
                out.append(user)
    return out


def shared_reads(ops: Sequence[Operation]) -> set[state.ReadOp]:
    """The `state.read` ops (in a function's ops, in schedule order) whose value can be
    the variable's own buffer instead of a copy: every use comes before the variable's
    next write (or is that write, storing the value back unchanged), and the value is
    not a model output (outputs are read after the run, when a later write, this run or
    the next, could have changed the bytes)."""
    position = {op: i for i, op in enumerate(ops)}
    shared = set()
    for i, op in enumerate(ops):
        if not isinstance(op, state.ReadOp):
            continue
        next_write = next((k for k in range(i + 1, len(ops))
                           if isinstance(ops[k], state.WriteOp)
                           and ops[k].variable == op.variable), None)
        ok = True
        for user in _uses(op.result):
            if isinstance(user, func.ReturnOp) or user not in position:
                ok = False
            elif next_write is not None and position[user] > next_write:
                ok = False
            # position[user] == next_write: that write stores these very bytes back
        if ok:
            shared.add(op)
    return shared


def pack_state(sizes: Sequence[int], alignment: int) -> tuple[list[int], int]:
    """Offsets of buffers laid out one after the other, each at a multiple of
    `alignment`, and the region's size (0 for no buffers)."""
    offsets, end = [], 0
    for size in sizes:
        offset = -(-end // alignment) * alignment
        offsets.append(offset)
        end = offset + size
    return offsets, end
