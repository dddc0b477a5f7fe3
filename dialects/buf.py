"""`buf` dialect: buffers and kernel calls in destination-passing style.

After `bufferize`, every tensor is a buffer: `buf.global` (constant, in flash),
`buf.alloc` (in the one static arena; `plan-memory` fills in offset and live range) or
`buf.view` (an alias of another buffer at a byte offset, e.g. a reshape). Compute is
`buf.call` of a kernel on input and output buffers; its attributes are the kernel's
compile-time parameters.

Model input `i` is the one buffer carrying `input = i`: the `buf.alloc` bufferize makes
for it, or, once `overlap-buffers` has put it inside a larger buffer shared with a
convolution's output, a `buf.view` of that buffer (`model_inputs` finds either). The
input is written before the first call; a run may overwrite it.
"""

from __future__ import annotations

from collections.abc import Iterable

from utc.compiler.ir import (
    Ints,
    MemRefType,
    Operation,
    ResourceRef,
    SymbolRef,
    Value,
    attr,
    operand,
    result,
)


def root_and_offset(value: Value) -> tuple[AllocOp | None, int]:
    """The arena buffer (`buf.alloc`) a value lives in, through any chain of views, and
    the value's byte offset inside it; (None, offset) for flash globals and anything
    else that is not in the arena. The one walker of view chains: every pass, the plan
    checker, the report and the emitter ask it."""
    offset = 0
    op = getattr(value, "op", None)
    while isinstance(op, ViewOp):
        offset += op.offset
        op = op.source.op
    return (op if isinstance(op, AllocOp) else None), offset


def is_scratch(value: Value) -> bool:
    """Whether `value` is a kernel's scratch buffer: its own `buf.alloc`, or a `buf.view`
    placed in free bytes of another buffer (`scratch-in-holes`); both carry `scratch`."""
    op = getattr(value, "op", None)
    return isinstance(op, AllocOp | ViewOp) and bool(op.scratch)


def model_inputs(ops: Iterable[Operation]) -> dict[int, Value]:
    """Model input index -> the buffer holding it (a `buf.alloc` or a `buf.view`
    carrying `input`), in index order."""
    found = {op.input: op.result for op in ops
             if isinstance(op, AllocOp | ViewOp) and op.input is not None}
    return dict(sorted(found.items()))


def _check_model_input(op: Operation) -> None:
    """`input = i` names model input i: i >= 0, and no other buffer of the block has it."""
    index = op.input
    if index is None:
        return
    if index < 0:
        raise op.error(f"model input index must be >= 0, got {index}")
    block = op.parent
    if block is None:
        return
    for other in block.ops:
        if (other is not op and isinstance(other, AllocOp | ViewOp)
                and other.input == index):
            raise op.error(f"model input {index} has more than one buffer (also "
                           f"{other.where()})")


class GlobalOp(Operation):
    """A constant buffer placed in flash; its data is a module resource."""

    name = "buf.global"
    result = result()
    value = attr(ResourceRef)


class AllocOp(Operation):
    """A buffer in the arena. `input`/`output` mark model I/O buffers by position;
    `scratch` marks a kernel's temporary buffer. `offset` and `live` (first and last
    schedule step) are set by plan-memory."""

    name = "buf.alloc"
    result = result()
    size = attr(int)
    offset = attr(int, optional=True)
    live = attr(Ints(2, minimum=0, names="[first, last] schedule steps"), optional=True)
    input = attr(int, optional=True)
    output = attr(int, optional=True)
    scratch = attr(bool, optional=True)
    #: With memory regions: the region the buffer is in (`offset` is then into it).
    region = attr(str, optional=True)

    def verify_(self) -> None:
        t = self.result.type
        if not isinstance(t, MemRefType):
            raise self.error(f"result must be a memref, got {t}")
        if self.size < t.byte_size:
            raise self.error(f"size {self.size} is smaller than {t} ({t.byte_size} B)")
        if self.live is not None and self.live[0] > self.live[1]:
            raise self.error(f"live range must be [first, last], got {list(self.live)}")
        if (self.offset or 0) < 0:
            raise self.error("offset must be >= 0")
        if self.input is not None and self.scratch:
            raise self.error("a model input cannot be scratch")
        _check_model_input(self)


class StateOp(Operation):
    """The buffer of one persistent variable (`state.variable`), in the state region: a
    static array of its own beside the arena, never shared with another buffer and never
    reused, that keeps its bytes between runs. `plan-memory` sets `offset` (into the
    region). Only `state.copy` calls write it (`state_write_check`)."""

    name = "buf.state"
    result = result()
    variable = attr(SymbolRef)
    size = attr(int)
    offset = attr(int, optional=True)

    def verify_(self) -> None:
        t = self.result.type
        if not isinstance(t, MemRefType):
            raise self.error(f"result must be a memref, got {t}")
        if self.size < t.byte_size:
            raise self.error(f"size {self.size} is smaller than {t} ({t.byte_size} B)")
        if (self.offset or 0) < 0:
            raise self.error("offset must be >= 0")
        block = self.parent
        for other in block.ops if block is not None else ():
            if other is not self and isinstance(other, StateOp) \
                    and other.variable == self.variable:
                raise self.error(f"variable {self.variable} has more than one buffer (also "
                                 f"{other.where()})")


def state_buffers(ops: Iterable[Operation]) -> list[StateOp]:
    """The function's state buffers, in IR order."""
    return [op for op in ops if isinstance(op, StateOp)]


class ViewOp(Operation):
    """An alias of `source` starting `offset` bytes in, with its own shape: no copy.
    `input = i` marks the view as model input i (its place inside an arena buffer it
    shares with other values, see `overlap-buffers`); `scratch` a kernel's temporary
    buffer placed in bytes of another buffer that are free at its step
    (`scratch-in-holes`)."""

    name = "buf.view"
    source = operand()
    result = result()
    offset = attr(int)
    input = attr(int, optional=True)
    scratch = attr(bool, optional=True)

    def verify_(self) -> None:
        src, dst = self.source.type, self.result.type
        if self.offset < 0 or self.offset + dst.byte_size > src.byte_size:
            raise self.error(f"view of {dst.byte_size} B at {self.offset} "
                             f"exceeds its source {src}")
        if self.input is not None:
            root = getattr(self.source, "op", None)
            while isinstance(root, ViewOp):
                if root.input is not None:
                    raise self.error("a model input view cannot lie inside another model "
                                     "input")
                root = root.source.op
            if not isinstance(root, AllocOp) or root.scratch or root.input is not None:
                raise self.error("a model input view must lie in an arena buffer (a "
                                 "buf.alloc that is neither scratch nor a model input)")
        _check_model_input(self)


class CallOp(Operation):
    """Call `callee` (a kernel record, `utc.runtime.kernels`) on `num_inputs` input
    buffers followed by output (and scratch) buffers. The remaining attributes are the
    kernel's parameters, copied from the op that was bufferized; `op` names that op (the
    record's `implementation(op)` is its class, whose fields name the buffers)."""

    name = "buf.call"
    buffers = operand(variadic=True)
    callee = attr(str)
    op = attr(str)
    num_inputs = attr(int)
    #: Why the preferred library's kernel was not chosen (select-kernels).
    kernel_note = attr(str, optional=True)
    open_attributes = True

    def verify(self) -> None:
        # kernel parameters are open-ended: check the declared ones only
        for key, kind in self.attributes.items():
            if key not in self.attrs:
                raise self.error(f"missing attribute '{key}'")
            if not isinstance(self.attrs[key], kind):
                raise self.error(f"attribute '{key}' must be {kind.__name__}")
        if self.result_values:
            raise self.error("buf.call has no results (destination-passing style)")
        if self.num_inputs > len(self.operand_values):
            raise self.error("num_inputs exceeds the number of operands")
        for i, v in enumerate(self.operand_values):
            if not isinstance(v.type, MemRefType):
                raise self.error(f"operand #{i} must be a buffer, got {v.type}")

    @property
    def inputs(self) -> list[Value]:
        return self.operand_values[: self.num_inputs]

    @property
    def outputs(self) -> list[Value]:
        """Output buffers, then scratch buffers."""
        return self.operand_values[self.num_inputs :]
