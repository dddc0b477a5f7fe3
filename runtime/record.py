"""What a kernel record is: the `Kernel` dataclass, its typed argument list (`Arg`,
`Pointee`, the `CallView` an argument's value function reads) and the cost functions.

The records themselves live with the kernels they describe: utc's own in
`runtime/kernels.py` (which also assembles the whole table), CMSIS-NN's in
`runtime/cmsis_nn.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from utc.compiler.ir import Operation, Value, is_quantized
from utc.compiler.ir.types import format_f32
from utc.dialects import func, state, tensor

from .targets import Target

#: The buffers of one call by the field names of the kernel's op ('input', 'filter',
#: 'bias', 'lhs', 'output', ...): a Value, a list for a variadic field, None when absent.
Fields = dict[str, "Value | list[Value] | None"]
#: (fields, kernel parameters, output elements) -> multiply-accumulates, or for kernels
#: without MACs their basic arithmetic operations (0 for pure data movement).
CostFn = Callable[[Fields, dict, int], int]


def _shape(fields: Fields, key: str) -> tuple[int, ...]:
    value = fields.get(key)
    return tuple(value.type.shape) if isinstance(value, Value) else ()


def per_output(fields: Fields, params: dict, out: int) -> int:
    """One operation per output element: elementwise ops and activations."""
    return out


def no_compute(fields: Fields, params: dict, out: int) -> int:
    """Data movement: no arithmetic."""
    return 0


def conv_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: kh * kw * in_c MACs (filter [out_c, kh, kw, in_c])."""
    w = _shape(fields, "filter")
    return out * w[1] * w[2] * w[3] if len(w) == 4 else out


def depthwise_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: kh * kw MACs (filter [1, kh, kw, out_c])."""
    w = _shape(fields, "filter")
    return out * w[1] * w[2] if len(w) == 4 else out


def fully_connected_macs(fields: Fields, params: dict, out: int) -> int:
    """Each output element: depth MACs (weights [units, depth])."""
    w = _shape(fields, "weights")
    return out * w[1] if len(w) == 2 else out


def pool_ops(fields: Fields, params: dict, out: int) -> int:
    """Each output element: one operation per window element."""
    window = params.get("window")
    return out * int(window[0]) * int(window[1]) if isinstance(window, tuple | list) else out


def input_elements(fields: Fields, params: dict, out: int) -> int:
    """Reductions: one operation per input element."""
    x = _shape(fields, "input")
    return math.prod(x) if x else out


@dataclass(frozen=True)
class Kernel:
    """One runtime kernel: the op it implements, when, and how the generated code calls it."""

    name: str  # the C function the generated code calls
    op: type[Operation] | tuple[type[Operation], ...]
    dtype: str  # "int8", "float32" (the op's output element type) or "any"
    files: tuple[str, ...]  # runtime files (headers and sources) to copy into out/
    summary: str
    #: The C parameters in order, as the header declares them (see `Arg`); with
    #: `params`, the fields of that struct in order instead.
    args: tuple[Arg, ...] = ()
    #: The C struct type of the kernel's one parameter (its fields are `args`), or "":
    #: the generated code fills one `static const` struct per call site, in flash, and
    #: passes its address. Kernels with many parameters take them so: a call costs a few
    #: instructions and no argument words on the caller's stack, and the kernel reads
    #: them in place instead of copying them into its frame.
    params: str = ""
    #: Why the kernel cannot run this op on this target (None: it can). The docstring of
    #: the function is the constraint's text in SUPPORTED_OPS.md.
    constraint: Callable[[Operation, Target], str | None] = lambda op, target: None
    #: Bytes of scratch memory one call needs on the target (a planned arena interval).
    scratch: Callable[[Operation, Target], int] = lambda op, target: 0
    #: Operand fields whose buffer the output may reuse (an input of exactly the output's
    #: shape and bytes, `passes/planning/aliasing.py`): the kernel writes each output
    #: element after reading every input element it depends on, and reads an input of the
    #: output's shape only at indices not yet written. Its header states the contract.
    in_place: tuple[str, ...] = ()
    #: The output may partly overlap the data input, starting `min_overlap_offset` bytes
    #: below it (`passes/planning/overlap.py`): outputs written in increasing (batch, row,
    #: column, channel) order, output row `oy` reading only input rows >= `oy * stride_h -
    #: pad_top`, no `restrict` between them. The header's "Access order" comment states it
    #: and tests/unit/test_overlap.py checks it by running the kernel on overlapped buffers.
    overlap: bool = False
    #: With `overlap`, and for depthwise (multiplier 1) or pooling kernels only: every
    #: channel also keeps the pixel order (output pixels of a channel written in increasing
    #: order, each after the reads of its window in that channel), so the output may start
    #: a whole number of pixels below the input at the smaller, pixel-granular offsets of
    #: `channelwise_overlap_pixels` (`passes/planning/overlap.py`). The header's "Access
    #: order" comment states it; tests/unit/test_overlap.py runs the kernel at that offset.
    overlap_channelwise: bool = False
    #: With `overlap`: the kernel also runs its rows in decreasing order when the call's
    #: `reverse` parameter is 1, so its output may instead END at least
    #: `min_reverse_overlap` bytes after the input ends (`passes/planning/overlap.py`);
    #: `overlap-buffers` picks the direction per call. The header states the mirrored
    #: contract; tests/unit/test_overlap.py runs the kernel reversed on overlapped buffers.
    overlap_reverse: bool = False
    #: The output may overlap the input anywhere: the kernel moves bytes as if through a
    #: temporary (memmove). The plan checker accepts any overlap of its data input.
    move: bool = False
    #: The kernel (its record's name; this record's own name on that kernel) that runs a
    #: 1x1 unpadded convolution whose output has its input's shape (so also its bytes)
    #: right over its input, the output starting exactly on it, given a two-pixel buffer
    #: (`pixel`, 2 in_c elements, the call's scratch buffer): it copies every pair of input
    #: pixels there before writing their outputs, pairs in increasing order
    #: (`call_pixel_in_place`, passes/planning/aliasing.py). `overlap-buffers` switches a
    #: call to it only where the arena falls. A kernel of its own, so that the calls of
    #: the plain kernel keep their code. The header states the contract;
    #: tests/unit/test_overlap.py runs the kernel in place and checks the copy.
    in_place_pixel: str = ""
    #: Whether, on the target, this kernel runs the op in fewer instructions than the
    #: kernel the other library would be chosen for (a measured fact:
    #: `benchmarks/cortex_m.py` and `utc run --profile` per layer). `--kernels auto`
    #: tries such a kernel first; `--kernels cmsis-nn` and `reference` ignore it.
    faster: Callable[[Operation, Target], bool] = lambda op, target: False
    #: (operand field, result field) pairs of a kernel that updates persistent state: the
    #: result may be written over the operand's buffer when that operand is a variable's
    #: state buffer that nothing else reads afterwards and the result is only written back
    #: to the same variable (`bufferize`; `state_write_check` allows exactly that). The
    #: kernel reads every state value it needs before overwriting it (its header says how).
    state_in_place: tuple[tuple[str, str], ...] = ()
    #: Multiply-accumulates of one call (the report's MAC column, instructions/MAC).
    cost: CostFn = per_output
    #: Whose kernel it is: "utc" (runtime/, copied into out/) or "cmsis-nn" (the external
    #: library at CMSIS_NN_PATH, linked, never copied).
    library: str = "utc"
    #: Headers the generated NAME.cpp includes for it besides its own files' (a library's
    #: API header).
    includes: tuple[str, ...] = ()
    #: Compile-time tables of the op this kernel does not read on the target (CMSIS-NN's
    #: convolutions compute their own zero-point sums): select-kernels drops them, so
    #: they take no flash.
    unused: Callable[[Target], tuple[str, ...]] = lambda target: ()

    @property
    def op_class(self) -> type[Operation]:
        """The op class whose operand and result fields name the call's buffers (every
        class a record lists shares one field layout)."""
        return self.op[0] if isinstance(self.op, tuple) else self.op

    def implementation(self, op_name: str) -> type[Operation]:
        """Which of the record's op classes a call of op `op_name` implements (a kernel
        such as the float32 clamp serves several ops, whose parameters differ)."""
        classes = self.op if isinstance(self.op, tuple) else (self.op,)
        for cls in classes:
            if cls.name == op_name:
                return cls
        raise ValueError(f"kernel {self.name} does not implement {op_name}")

    def fields(self, inputs: Sequence[Value], outputs: Sequence[Value]) -> Fields:
        """The call's input and (non-scratch) output buffers by the op's field names."""
        out: Fields = {}
        cls = self.op_class
        for i, spec in enumerate(cls.operands):
            key = spec.rstrip("?*")
            if spec.endswith("*"):
                out[key] = list(inputs[i:])
                break
            out[key] = inputs[i] if i < len(inputs) else None
        for i, spec in enumerate(cls.results):
            key = spec.rstrip("?*")
            if spec.endswith("*"):
                out[key] = list(outputs[i:])
                break
            out[key] = outputs[i] if i < len(outputs) else None
        return out


# ---- typed arguments --------------------------------------------------------------------
class CallView(Protocol):
    """What an argument's value function sees of one call (codegen's CallContext)."""

    attrs: Mapping[str, Any]  # the op's attributes (the kernel's parameters)
    op_class: type[Operation]  # the op the call implements

    def field(self, name: str) -> str | list[str]:
        """The C expression of the buffer bound to the op's field `name` ("NULL" when an
        optional field is absent; a list for a variadic field)."""

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of the buffer bound to field `name`."""

    def shapes(self, name: str) -> list[tuple[int, ...]]:
        """The shapes of the buffers bound to a variadic field."""

    def byte_width(self, name: str) -> int:
        """Bytes of one element of the buffer bound to field `name`."""

    def ctype(self, name: str) -> str:
        """The C element type of the buffer bound to field `name`."""

    def is_float(self, name: str) -> bool:
        """Whether field `name` holds floating-point elements."""

    def table(self, ref: Any) -> str:
        """The C name of a compile-time table (a `dense_resource` attribute)."""

    def table_len(self, ref: Any) -> int:
        """Elements of that table."""

    def scratch(self) -> tuple[str, int]:
        """The C expression and bytes of the call's scratch buffer ("NULL", 0 if none)."""


@dataclass(frozen=True)
class Pointee:
    """An argument passed by address to a value declared before the call: a `static const`
    one in flash (`const void *pad_value`, a CMSIS-NN parameter struct), or with
    `static=False` a local (a struct holding arena addresses, which are not constants)."""

    ctype: str
    literal: str
    static: bool = True


#: What a value function returns: a C expression (`str`), an integer, a list (the
#: argument points to a table emitted before the call: `static const` for numbers, a local
#: array for buffer expressions), or a `Pointee`.
ArgValue = "str | int | list | Pointee"


@dataclass(frozen=True)
class Arg:
    """One C parameter: its name and type exactly as the kernel's header declares them,
    and the function that computes its value for a call."""

    name: str
    ctype: str
    value: Callable[[CallView], Any]


def f32_literal(x: float) -> str:
    """A float32 C literal that reads back bit-exactly."""
    return format_f32(float(x)) + "f"


_FLT_MAX = "3.40282347e+38f"
#: float32 clamp bounds of a fused activation (`act` on the fused level).
FLOAT_CLAMP = {
    "none": ("-" + _FLT_MAX, _FLT_MAX),
    "relu": ("0.0f", _FLT_MAX),
    "relu6": ("0.0f", "6.0f"),
    "relu_n1_to_1": ("-1.0f", "1.0f"),
}


def shape6(shape: Sequence[int]) -> list[int]:
    """A shape right-aligned into 6-D with leading 1s (the runtime's N-D convention)."""
    return [1] * (6 - len(shape)) + [int(d) for d in shape]


def needs_kernel(op: Operation) -> bool:
    """Ops that become kernel calls (constants, reshapes, returns and the state ops do
    not: `bufferize` makes the copies state needs)."""
    return not isinstance(op, (tensor.ConstantOp, tensor.ReshapeOp, func.FuncOp, func.ReturnOp,
                               *state.NO_KERNEL_OPS))


def op_dtype(op: Operation) -> str:
    element = op.result_values[0].type.element
    if is_quantized(element):
        return {"i16": "int16", "i32": "int32"}.get(str(element.storage), "int8")
    return {"f32": "float32", "i8": "int8", "i32": "int32", "i16": "int16", "ui32": "uint32",
            "ui64": "uint64", "i1": "bool", "i64": "int64"}.get(str(element), str(element))
