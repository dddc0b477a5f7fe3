"""`emit-cpp`: write the generated C++ folder from a planned `buf`-level module.

The output (DESIGN.md §6): `NAME.h` (C and C++; `NAME_invoke`, the zero-copy API,
`NAME_ARENA_BYTES`, I/O shapes and quantization), `NAME.cpp` (the arena and the calls),
`NAME_weights.cpp` (const weights, in flash), the runtime kernels the model uses, and
a `CMakeLists.txt`. Same module in, same bytes out.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from utc.codegen.c_arrays import value_chunks
from utc.codegen.patch_loop import StagePlan, plan_stage, render_stage
from utc.codegen.template_env import environment
from utc.compiler.errors import CompileError, printable
from utc.compiler.ir import (
    MemRefType,
    Module,
    Operation,
    OpResult,
    PerAxisQuantizedType,
    QuantizedType,
    ResourceRef,
    Value,
    is_quantized,
)
from utc.compiler.ir.types import format_f32
from utc.dialects import buf, state
from utc.dialects.func import main_function
from utc.runtime import RUNTIME_DIR
from utc.runtime.kernels import KERNELS_BY_NAME, Arg, Kernel, Pointee
from utc.runtime.targets import TARGETS

_C_TYPE = {"i8": "int8_t", "ui8": "uint8_t", "i16": "int16_t", "i32": "int32_t",
           "i64": "int64_t", "f32": "float", "i1": "bool",
           "ui32": "uint32_t", "ui64": "uint64_t"}
_DTYPE_NAME = {"i8": "int8", "ui8": "uint8", "i16": "int16", "i32": "int32", "i64": "int64",
               "f32": "float32", "i1": "bool", "ui32": "uint32", "ui64": "uint64"}
#: The C identifiers of NAME.cpp besides buffers and weights, as suffixes of `NAME_`.
_API_SUFFIXES = ("run", "input", "output", "invoke", "model", "reset")

#: Written per folder by `emit-cpp` (never copied from the runtime folder).
LINK_HEADER = "utc_link.h"
_QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def runtime_closure(file: str) -> list[str]:
    """`file` and every runtime header it includes, directly or not (quoted includes
    found in the runtime folder, except the per-folder `utc_link.h`), sorted."""
    seen: set[str] = set()
    todo = [file]
    while todo:
        f = todo.pop()
        if f in seen or f == LINK_HEADER or not (RUNTIME_DIR / f).is_file():
            continue
        seen.add(f)
        todo += _QUOTED_INCLUDE.findall((RUNTIME_DIR / f).read_text())
    return sorted(seen)


def link_tag(file: str) -> str:
    """The tag of a runtime source's kernels' link names: a hash of the text of the
    source and of every runtime header it includes. Identical sources get the same tag
    (so two folders share one definition); any change to what the kernel compiles from
    gives another (so kernels of different utc versions never stand in for each other)."""
    digest = hashlib.sha256()
    for f in runtime_closure(file):
        data = (RUNTIME_DIR / f).read_bytes()
        digest.update(f"{f}\0{len(data)}\0".encode() + data)
    return "v" + digest.hexdigest()[:12]


_PROTOTYPE = re.compile(r"\bvoid\s+(utc_\w+)\s*\([^)]*\)\s*;")


def kernels_defined_in(file: str) -> list[str]:
    """The C functions a runtime source defines: those its own header (same stem)
    declares. tests/e2e/test_two_models.py checks the list against the object file."""
    header = RUNTIME_DIR / (Path(file).stem + ".h")
    if not header.is_file():
        return []
    text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
    return sorted(set(_PROTOTYPE.findall(text)))


def link_names(files: list[str]) -> list[dict]:
    """For `utc_link.h`: per copied runtime source, its kernels' plain and link names."""
    out = []
    for f in sorted(x for x in files if x.endswith(".cpp")):
        tag = link_tag(f)
        out.append({"file": f, "symbols": [{"name": n, "link": f"{n}_{tag}"}
                                            for n in kernels_defined_in(f)]})
    return out


def c_type(t: MemRefType) -> str:
    return _C_TYPE[str(t.element.storage)]


def comment_text(text: str) -> str:
    """Text from the model or the command line made safe inside a generated `/* */` or
    `#` comment: one printable line that cannot close the comment early (`*/`) and that
    `-Wall -Werror` accepts: no `/*` inside a comment (-Wcomment) and no `??` that C++11
    would read as a trigraph (-Wtrigraphs; `??/` would even splice lines)."""
    text = re.sub(r"(?<=/)(?=\*)|(?<=\*)(?=/)", " ", printable(text))
    return re.sub(r"\?(?=\?)", r"?\\", text)


def c_identifier(text: str) -> str:
    """`text` as the tail of a C identifier: other characters become `_`, runs of `_`
    collapse to one (a `__` anywhere in a C++ identifier is reserved to the
    implementation) and none is left at either end."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _unique(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`... whichever is not in `taken` (which it joins)."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _short_float(x: float) -> str:
    return f"{x:.6g}"


def element_summary(element) -> str:
    """What one element is, for a comment: `int8, scale 0.5 zero point 3`, `int8 per
    channel along axis 0 (64 scales 0.00027..0.0020, zero point 0)`, `float32`."""
    storage = _DTYPE_NAME.get(str(element.storage), str(element.storage))
    if isinstance(element, PerAxisQuantizedType):
        scales = element.scales  # min/max of the values themselves: no per-channel copies
        low, high = float(min(scales)), float(max(scales))
        zps = (int(min(element.zero_points)), int(max(element.zero_points)))
        zp = (f"zero point {zps[0]}" if zps[0] == zps[1]
              else f"zero points {zps[0]}..{zps[-1]}")
        return (f"{storage} per channel along axis {element.axis} ({len(scales)} scales "
                f"{_short_float(low)}..{_short_float(high)}, {zp})")
    if isinstance(element, QuantizedType):
        return (f"{storage}, scale {_short_float(element.scale)} zero point "
                f"{element.zero_point}")
    return storage


def _steps(live) -> str:
    return "-" if live is None else f"{live[0]}..{live[1]}"


def _span(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """The smallest step range covering both (None: no steps)."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _name_at(names, index: int) -> str:
    """The escaped TFLite name of model input/output `index` ('' when not recorded)."""
    return comment_text(names[index]) if index < len(names) else ""


def _weight_marker(index: int) -> str:
    """Where the values of weight `index` go in the rendered NAME_weights.cpp: NUL
    characters cannot occur in anything else a template prints (all text from the model
    or the command line passes through `printable`, which escapes them)."""
    return f"\0{index}\0"


def write_weights(path: Path, text: str, arrays: list[np.ndarray]) -> None:
    """Write the rendered weights file `text`, with each array's values streamed in
    chunks where its marker stands (`c_arrays.value_chunks`), so no array's whole text
    is ever held in memory. Opened like `Path.write_text`, the other files' way."""
    pieces = text.split("\0")
    markers = pieces[1::2]
    if markers != [str(i) for i in range(len(arrays))]:
        raise CompileError("emit-cpp: the weights template did not place every weight once, "
                           "in order")
    with open(path, "w") as out:
        out.write(pieces[0])
        for data, after in zip(arrays, pieces[2::2]):
            if data.size:
                # the ASCII chunks go to the binary layer as they are (decoding and
                # re-encoding 17 MB of MobileNetV2 text cost ~10 ms); the text written
                # so far goes first
                out.flush()
                for chunk in value_chunks(data):
                    out.buffer.write(chunk)
            else:
                out.write("0")
            out.write(after)


@dataclass
class ArenaBuffer:
    """One row of the memory map: a planned `buf.alloc` or a `buf.view` of one, with the
    name NAME.cpp gives it."""

    value: Value
    name: str  # `buf_<IR value name>`, a macro for a typed pointer into the arena
    ctype: str
    offset: int  # from the start of the arena
    size: int
    live: tuple[int, int] | None = None  # first and last step it is used in; None: never
    view_of: str | None = None  # the buffer this one is a view of ...
    view_offset: int = 0  # ... and where in it
    holds: list[str] = field(default_factory=list)
    base: str = "arena"  # the array it is in: `arena`, or a memory region's `arena_<name>`


@dataclass
class CallContext:
    """One `buf.call` as its kernel's argument functions see it (`runtime.kernels.CallView`):
    the C expressions and types of the buffers by the op's field names, the op's
    attributes, and the C names of compile-time tables."""

    kernel: Kernel
    op_class: type[Operation]  # which of the kernel's op classes this call implements
    attrs: dict
    fields: dict  # operand field name -> C expression ("NULL" for absent optionals)
    field_types: dict  # field name -> MemRefType (a list for a variadic field)
    res: dict  # resource name -> C array name
    table_sizes: dict  # resource name -> elements
    scratch_buffer: tuple[str, int] = ("NULL", 0)  # C expression and bytes

    def field(self, name: str):
        return self.fields[name]

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(int(d) for d in self.field_types[name].shape)

    def shapes(self, name: str) -> list[tuple[int, ...]]:
        return [tuple(int(d) for d in t.shape) for t in self.field_types[name]]

    def _type(self, name: str) -> MemRefType:
        t = self.field_types[name]
        return t[0] if isinstance(t, list) else t

    def byte_width(self, name: str) -> int:
        return self._type(name).element.byte_width

    def ctype(self, name: str) -> str:
        return c_type(self._type(name))

    def is_float(self, name: str) -> bool:
        return bool(self._type(name).element.is_float)

    def table(self, ref: ResourceRef) -> str:
        return self.res[ref.name]

    def table_len(self, ref: ResourceRef) -> int:
        return self.table_sizes[ref.name]

    def scratch(self) -> tuple[str, int]:
        return self.scratch_buffer


def _table_decl(arg: Arg, values: list) -> str:
    """The array an argument points to, declared before the call: `static const` (in
    flash) for numbers; a local array for buffer expressions (arena addresses)."""
    element = arg.ctype[: arg.ctype.rindex("*")].rstrip()
    items = ", ".join(str(v) for v in values)
    if values and all(isinstance(v, str) for v in values):
        return f"{element} {arg.name}[{len(values)}] = {{ {items} }};"
    return f"static {element} {arg.name}[{len(values)}] = {{ {items} }};"


def render_call(kernel: Kernel, ctx: CallContext, width: int = 100) -> str:
    """The C call of `kernel` for one call site, from its typed argument list: tables it
    points to first (inside a block that scopes them), then the call with each scalar
    argument named in a comment."""
    decls: list[str] = []
    args: list[str] = []
    for arg in kernel.args:
        value = arg.value(ctx)
        if isinstance(value, Pointee):
            decls.append(f"static const {value.ctype} {arg.name} = {value.literal};" if value.static
                         else f"{value.ctype} {arg.name} = {value.literal};")
            args.append(f"&{arg.name}")
        elif isinstance(value, list):
            decls.append(_table_decl(arg, value))
            args.append(arg.name)
        elif isinstance(value, str) and "*" in arg.ctype:
            args.append(value)  # a buffer or a named table
        else:
            args.append(f"/*{arg.name}=*/{value}")
    if kernel.params:
        return _render_params_call(kernel, decls, args, width)
    lines: list[str] = []
    line = f"{kernel.name}("
    for i, a in enumerate(args):
        piece = a + (", " if i < len(args) - 1 else ");")
        if len(line) + len(piece.rstrip()) > width and line.strip() and not line.endswith("("):
            lines.append(line.rstrip())
            line = "    "
        line += piece
    lines.append(line.rstrip())
    if not decls:
        return "\n".join(lines)
    return "\n".join(["{", *("  " + d for d in decls), *("  " + s for s in lines), "}"])


def _render_params_call(kernel: Kernel, decls: list[str], fields: list[str], width: int) -> str:
    """A kernel that takes its parameters as one struct (`Kernel.params`): the struct
    `static const`, its fields in order (scalars named in comments, as in a call), then the
    call with its address. Arena and weight addresses are link-time constants, so GCC
    and Clang place the struct in flash with no run-time initialisation."""
    if any(not d.startswith("static ") for d in decls):
        raise ValueError(f"{kernel.name}: a struct parameter cannot point to a local table")
    lines: list[str] = []
    line = f"  static const {kernel.params} params = {{"
    for i, a in enumerate(fields):
        piece = a + (", " if i < len(fields) - 1 else "};")
        if len(line) + len(piece.rstrip()) > width and not line.endswith("{"):
            lines.append(line.rstrip())
            line = "      "
        line += piece
    lines.append(line.rstrip())
    return "\n".join(["{", *("  " + d for d in decls), *lines, f"  {kernel.name}(&params);", "}"])


@dataclass(frozen=True)
class Placement:
    """Where the arena and the state region go (`--arena-section`, `--state-section`,
    `--external-arena`): written into NAME.h as the defaults of its placement macros."""

    arena_section: str | None = None
    state_section: str | None = None
    external: bool = False  # the application defines NAME_arena (and NAME_state)


@dataclass(frozen=True)
class SharedPart:
    """A model's part of an arena shared by several models (`utc compile a b --name app`):
    the app's name (its `APP_arena` array) and this model's byte offset in it."""

    app: str
    offset: int
    concurrent: bool


_SECTION_NAME = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.$]*")


def check_section_name(section: str, option: str) -> str:
    """A linker section name that can stand in a C string and an assembler directive
    (`.sram2`, `.bss.dtcm`, `RAM2`); anything else is refused."""
    if not _SECTION_NAME.fullmatch(section) or len(section) > 64:
        raise CompileError(f"{option} '{printable(section)}' is not a section name (letters, "
                           "digits, '_', '.' and '$', optionally starting with '.')")
    return section


class Emitter:
    def __init__(self, module: Module, name: str, source: str = "", target: str = "host",
                 taps: bool = False, placement: Placement | None = None,
                 shared: SharedPart | None = None):
        self.module = module
        self.shared = shared
        self.taps = taps
        self.placement = placement or Placement()
        self.target = TARGETS[target]
        self.name = name
        self.upper = name.upper()
        self.source = comment_text(source)
        self.fn = main_function(module)
        if self.fn.arena_bytes is None:
            raise CompileError("emit-cpp: memory is not planned (run plan-memory first)")
        self.env = environment()
        self.calls = [op for op in self.fn.block.ops if isinstance(op, buf.CallOp)]
        # every identifier of NAME.cpp is unique: the API, the arena, then weights and
        # buffers named in IR order (so the same module always gets the same names)
        taken = {f"{name}_{suffix}" for suffix in _API_SUFFIXES} | {"arena", "state",
                                                                      "state_initialised"}
        if shared is not None:
            taken.add(f"{shared.app}_arena")
        self.weight_names: dict[str, str] = {}
        for res_name in module.referenced_resources():
            self.weight_names[res_name] = _unique(
                f"{name}_w_{c_identifier(res_name) or 'const'}", taken)
        self.buffers = self._arena_buffers(taken)
        self.canonical = False  # expr() of arena buffers: the `buf_` macro
        self.state = self._state_buffers(taken)

    # ---- buffers -------------------------------------------------------------------------
    def _arena_buffers(self, taken: set[str]) -> dict[Value, ArenaBuffer]:
        """Every `buf.alloc` and `buf.view` of the function with its C name, absolute
        offset, bytes, live steps and what it holds, in IR order. Live steps are the
        plan's for an allocation; a view's are the steps that use it or a view into it
        (model inputs count from step 0, outputs to the last step, as in plan-memory)."""
        ops = self.fn.block.ops
        last_step = max(len(self.calls) - 1, 0)
        direct: dict[Value, list[int]] = {}
        for step, call in enumerate(self.calls):
            for v in call.operand_values:
                direct.setdefault(v, []).append(step)
        inputs = {v: i for i, v in buf.model_inputs(ops).items()}
        outputs = self.output_indices()
        names_in = self.fn.inputs or ()
        names_out = self.fn.outputs or ()
        buffers: dict[Value, ArenaBuffer] = {}
        views: dict[Value, int] = {}
        for op in ops:
            if not isinstance(op, buf.AllocOp | buf.ViewOp):
                continue
            v = op.result
            name = _unique("buf_" + (c_identifier(v.name_hint or "") or "v"), taken)
            if isinstance(op, buf.AllocOp):
                if op.offset is None:
                    raise CompileError(f"emit-cpp: {op.where()} has no arena offset (run "
                                       "plan-memory first)")
                b = ArenaBuffer(v, name, c_type(v.type), op.offset, op.size,
                                base=f"arena_{op.region}" if op.region else "arena")
            else:
                source = buffers.get(op.operand("source"))
                if source is None:
                    raise CompileError(f"emit-cpp: cannot address {op.where()}: its source "
                                       "is not an arena buffer")
                views[source.value] = views.get(source.value, 0) + 1
                b = ArenaBuffer(v, name, c_type(v.type), source.offset + op.offset,
                                v.type.byte_size, view_of=source.name,
                                view_offset=op.offset, base=source.base)
            steps = list(direct.get(v, ()))
            if v in inputs:
                steps.append(0)
                b.holds.append(f'input {inputs[v]} "{_name_at(names_in, inputs[v])}"')
            if v in outputs:
                steps.append(last_step)
            if op.scratch:
                b.holds.append("scratch of " + ", ".join(
                    sorted({self.calls[s].callee for s in direct.get(v, ())})))
            elif op.location and (v in direct or v in outputs):
                index, tensor_name = op.location.sources[-1]
                b.holds.append(f'#{index} "{comment_text(tensor_name)}"')
            if v in outputs:
                b.holds.append(f'output {outputs[v]} "{_name_at(names_out, outputs[v])}"')
            b.live = (min(steps), max(steps)) if steps else None
            buffers[v] = b
        # a view keeps what it is a view of alive: fold each view's steps into its
        # source's, innermost views first
        for v in reversed(list(buffers)):
            if isinstance(v.op, buf.ViewOp):
                source = buffers[v.op.operand("source")]
                source.live = _span(source.live, buffers[v].live)
        for v, b in buffers.items():
            if not b.holds:
                b.holds.append(f"shared by {views[v]} views" if v in views else "unused")
            if isinstance(v.op, buf.AllocOp) and v.op.live is not None:
                b.live = tuple(v.op.live)  # the plan is the truth for allocations
        return buffers

    def _state_buffers(self, taken: set[str]) -> dict[Value, dict]:
        """Every `buf.state` (a persistent variable's bytes in the state region) with its
        C name, offset, bytes and the flash array of its initial value, in IR order."""
        variables = {v.sym_name: v for v in state.variables(self.module)}
        out: dict[Value, dict] = {}
        for op in buf.state_buffers(self.fn.block.ops):
            if op.offset is None:
                raise CompileError(f"emit-cpp: {op.where()} has no state offset (run "
                                   "plan-memory first)")
            var = variables.get(op.variable)
            if var is None:
                raise CompileError(f"emit-cpp: {op.where()}: no state.variable "
                                   f"{op.variable}")
            v = op.result
            out[v] = {
                "name": _unique("buf_" + (c_identifier(op.variable.name) or "state"), taken),
                "ctype": c_type(v.type), "offset": int(op.offset), "bytes": int(op.size),
                "variable": comment_text(str(op.variable)),
                "shared_name": comment_text(var.shared_name or ""),
                "init": self.weight_names[var.init.name],
                "type": f"{element_summary(v.type.element)} "
                        f"[{', '.join(str(int(d)) for d in v.type.shape)}]",
            }
        return out

    def state_map(self) -> list[str]:
        """The rows of the state-region comment, one per variable, columns aligned."""
        header = ("buffer", "offset", "bytes", "variable")
        rows = [(b["name"], str(b["offset"]), str(b["bytes"]),
                 f'{b["variable"]} "{b["shared_name"]}", {b["type"]}')
                for b in sorted(self.state.values(), key=lambda b: b["offset"])]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        lines = []
        for r in [header, *rows]:
            cells = [r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].rjust(widths[2])]
            lines.append(("  ".join(cells) + "  " + r[3]).rstrip())
        return lines

    def output_indices(self) -> dict[Value, int]:
        """Each value the function returns -> the first model output it is."""
        indices: dict[Value, int] = {}
        for i, v in enumerate(self.fn.return_op.operand_values):
            indices.setdefault(v, i)
        return indices

    def ordered_buffers(self) -> list[ArenaBuffer]:
        """The buffers by region (in the order given), offset, then first step, then IR
        order: a map of the arena."""
        rank = {f"arena_{r[0]}": i for i, r in enumerate(self.fn.memory_regions or ())}
        return sorted(self.buffers.values(),
                      key=lambda b: (rank.get(b.base, -1), b.offset, b.live or (-1, -1)))

    def memory_map(self) -> list[str]:
        """The rows of the memory-map comment, one per buffer, columns aligned."""
        order = self.ordered_buffers()
        header = ("buffer", "offset", "bytes", "live", "view of", "holds")
        regions = bool(self.fn.memory_regions)
        rows = [(b.name, f"{b.base[len('arena_'):]}+{b.offset}" if regions else str(b.offset),
                 str(b.size), _steps(b.live),
                 f"{b.view_of} + {b.view_offset}" if b.view_of else "-", "; ".join(b.holds))
                for b in order]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
        right = (False, True, True, False, False)
        lines = []
        for r in [header, *rows]:
            cells = [c.rjust(w) if rj else c.ljust(w) for c, w, rj in zip(r, widths, right)]
            lines.append(("  ".join(cells) + "  " + r[5]).rstrip())
        return lines

    # ---- C expressions for buffers -------------------------------------------------------
    def expr(self, value: Value) -> str:
        """The C expression of a buffer: a weight array's name, or the `buf_` macro of an
        arena buffer (a typed pointer into the arena)."""
        op = value.op if isinstance(value, OpResult) else None
        if isinstance(op, buf.GlobalOp):
            return self.weight_names[op.value.name]
        if value in self.buffers:
            b = self.buffers[value]
            if self.canonical:  # a patch stage's call: the address as base + offset
                return f"(({b.ctype} *)({b.base} + {b.offset}))"
            return b.name
        if value in self.state:
            return self.state[value]["name"]
        raise CompileError(f"emit-cpp: cannot address value {value!r}")

    def kernel_of(self, call: buf.CallOp) -> Kernel:
        kernel = KERNELS_BY_NAME.get(call.callee)
        if kernel is None:
            raise CompileError(f"emit-cpp: unknown kernel '{call.attrs['callee']}' in "
                               f"{call.where()}")
        return kernel

    def call_context(self, call: buf.CallOp) -> CallContext:
        kernel = self.kernel_of(call)
        n_in = call.num_inputs
        operands = call.operand_values
        ins, rest = operands[:n_in], operands[n_in:]
        outs = [v for v in rest if not buf.is_scratch(v)]
        scratch = [v for v in rest if buf.is_scratch(v)]
        fields: dict = {}
        field_types: dict = {}
        for key, value in kernel.fields(ins, outs).items():
            if isinstance(value, list):
                fields[key] = [self.expr(v) for v in value]
                field_types[key] = [v.type for v in value]
            elif value is None:
                fields[key] = "NULL"
            else:
                fields[key] = self.expr(value)
                field_types[key] = value.type
        attrs = {k: v for k, v in call.attrs.items() if k not in ("callee", "op", "num_inputs")}
        sizes = {ref.name: self.module.resources[ref.name].type.num_elements
                 for ref in attrs.values() if isinstance(ref, ResourceRef)}
        try:
            op_class = kernel.implementation(call.op)
        except ValueError as e:
            raise CompileError(f"emit-cpp: {call.where()}: {e}") from None
        return CallContext(kernel=kernel, op_class=op_class, attrs=attrs, fields=fields,
                           field_types=field_types, res=self.weight_names, table_sizes=sizes,
                           scratch_buffer=(self.expr(scratch[0]), scratch[0].type.byte_size)
                           if scratch else ("NULL", 0))

    def render_call(self, call: buf.CallOp) -> str:
        return render_call(self.kernel_of(call), self.call_context(call))

    def stage_runs(self) -> list[tuple[int, int]]:
        """The [first, end) step ranges of patch-stage calls (`tile`) emitted as a loop:
        maximal runs of consecutive tiled calls."""
        runs: list[tuple[int, int]] = []
        start = None
        for step, call in enumerate([*self.calls, None]):
            tiled = call is not None and "tile" in call.attrs
            if tiled and start is None:
                start = step
            elif not tiled and start is not None:
                if step - start > 1:
                    runs.append((start, step))
                start = None
        return runs

    def stage_taps(self, call: buf.CallOp, first: int) -> str:
        """In a verify build, the layer taps of a stage call inside the loop (whose index
        `i` counts from step `first`): `utc_layer_output` of each output buffer, as
        `UTC_LAYER_END` does for a call emitted alone."""
        if not self.taps:
            return ""
        return "".join(f"\nutc_layer_output({first} + (int)i, {k}, {self.expr(v)}, "
                       f"{v.type.byte_size});" for k, v in enumerate(self.layer_outputs(call)))

    def stage_plans(self) -> list[tuple[int, int, StagePlan]]:
        """(first step, calls, grouping) of each patch stage loop, for the report."""
        out = []
        for first, end in self.stage_runs():
            self.canonical = True
            try:
                codes = [self.render_call(op) for op in self.calls[first:end]]
            finally:
                self.canonical = False
            comments = [comment_text(_comment(op)) for op in self.calls[first:end]]
            out.append((first, end - first, plan_stage(codes, comments)))
        return out

    def call_blocks(self) -> list[dict]:
        """NAME_run()'s body: per kernel call its comment and code, except a patch stage,
        one block that loops over a table (codegen/patch_loop.py)."""
        runs = {a: b for a, b in self.stage_runs()}
        blocks: list[dict] = []
        step = 0
        while step < len(self.calls):
            if step in runs:
                end = runs[step]
                self.canonical = True
                try:
                    codes = [self.render_call(op) + self.stage_taps(op, step)
                             for op in self.calls[step:end]]
                finally:
                    self.canonical = False
                comments = [comment_text(_comment(op)) for op in self.calls[step:end]]
                blocks.append({"stage": True, "step": step,
                               "code": render_stage(f"stage{step}", step, codes, comments,
                                                    hooks=not self.taps)})
                step = end
                continue
            op = self.calls[step]
            blocks.append({"comment": f"step {step}: {comment_text(_comment(op))}",
                           "code": self.render_call(op), "step": step, "stage": False})
            step += 1
        return blocks

    def layer_outputs(self, call: buf.CallOp) -> list[Value]:
        """The buffers a call writes that hold results (not its scratch), in operand order:
        what a layer tap hands out after the call."""
        return [v for v in call.operand_values[call.num_inputs:] if not buf.is_scratch(v)]

    def layer_taps(self) -> list[dict]:
        """Per step, the C expression and bytes of each output buffer of its call."""
        return [{"step": step, "outputs": [{"expr": self.expr(v), "bytes": v.type.byte_size}
                                           for v in self.layer_outputs(call)]}
                for step, call in enumerate(self.calls)]

    # ---- I/O description -----------------------------------------------------------------
    def io(self) -> tuple[list[dict], list[dict]]:
        """The model inputs and outputs, each with the C expression of its bytes in the
        arena. Input i is the buffer carrying `input = i`: its own `buf.alloc`, or a
        `buf.view` inside a buffer it shares with a convolution's output (overlap-buffers),
        addressed through the view's offsets like any other view."""
        inputs_by_index = buf.model_inputs(self.fn.block.ops)
        if list(inputs_by_index) != list(range(len(inputs_by_index))):
            raise CompileError(f"emit-cpp: model input buffers are numbered "
                               f"{list(inputs_by_index)}, expected 0..{len(inputs_by_index) - 1}")
        names_in = self.fn.inputs or ()
        names_out = self.fn.outputs or ()
        ins = [self._io_entry(inputs_by_index[i], names_in[i] if i < len(names_in) else "")
               for i in sorted(inputs_by_index)]
        outs = [self._io_entry(v, names_out[i] if i < len(names_out) else "")
                for i, v in enumerate(self.fn.return_op.operand_values)]
        return ins, outs

    def _io_entry(self, value: Value, tensor_name: str) -> dict:
        t = value.type
        el = t.element
        entry = {
            "expr": self.expr(value), "ctype": c_type(t), "bytes": t.byte_size,
            "shape": list(t.shape), "dtype": {"i8": "int8", "f32": "float32", "i32": "int32"}.get(
                str(el.storage), str(el.storage)),
            "tensor_name": comment_text(tensor_name),
            "scale": None, "zero_point": None,
        }
        if is_quantized(el):
            if not isinstance(el, QuantizedType):
                raise CompileError("emit-cpp: per-axis quantized model inputs/outputs are "
                                   "not supported")
            entry["scale"] = format_f32(el.scale) + "f"
            entry["zero_point"] = el.zero_point
        return entry

    # ---- files ---------------------------------------------------------------------------
    def kernels_used(self) -> list[Kernel]:
        used: dict[str, Kernel] = {}
        for op in self.fn.block.ops:
            if isinstance(op, buf.CallOp):
                used.setdefault(op.callee, KERNELS_BY_NAME[op.callee])
        return list(used.values())

    def weight_origins(self) -> dict[str, str]:
        """Where each constant came from, for its comment: the TFLite tensor a
        `buf.global` holds (the importer records the consumer's index and the tensor's own
        name as its location), or the call whose compile-time table it is (`mult`...)."""
        origins: dict[str, str] = {}
        returned = self.output_indices()
        names_out = self.fn.outputs or ()
        for op in self.fn.block.ops:
            if isinstance(op, buf.GlobalOp):
                ref = op.value.name
                if op.location:
                    index, tensor_name = op.location.sources[-1]
                    text = (f'TFLite tensor "{comment_text(tensor_name)}" (an input of TFLite '
                            f"op #{index})")
                elif op.result in returned:
                    i = returned[op.result]
                    text = f'model output {i} "{_name_at(names_out, i)}"'
                else:
                    text = f'IR constant "{comment_text(op.result.name_hint or ref)}"'
                origins.setdefault(ref, text)
        for var in state.variables(self.module):
            origins.setdefault(var.init.name, f"the initial value of state variable "
                                              f"{comment_text(str(var.sym_name))} "
                                              f'("{comment_text(var.shared_name or "")}")')
        for step, call in enumerate(self.calls):
            for key, value in call.attrs.items():
                if isinstance(value, ResourceRef):
                    origins.setdefault(value.name, f"computed by utc, the `{key}` table of step "
                                                   f"{step}: {comment_text(_comment(call))}")
        return origins

    def weights(self) -> list[dict]:
        """The constant arrays, each with the comment that says what it is: resource name,
        shape, element type and quantization, and origin. `data` is a marker that
        `write_weights` replaces with the values (`array`), streamed."""
        out = []
        origins = self.weight_origins()
        for index, (res_name, c_name) in enumerate(self.weight_names.items()):
            data = self.module.resource_data(res_name)
            rtype = self.module.resources[res_name].type
            out.append({
                "name": c_name, "ctype": _C_TYPE[str(rtype.element.storage)],
                "count": max(int(data.size), 1), "data": _weight_marker(index), "array": data,
                "bytes": int(data.nbytes), "source": comment_text(res_name),
                "shape": "[" + ", ".join(str(int(d)) for d in rtype.shape) + "]",
                "element": element_summary(rtype.element),
                "origin": origins.get(res_name, "not used by any buffer or call"),
            })
        return out

    def runtime_files(self) -> list[str]:
        """The runtime sources this model's kernels need, copied into the folder."""
        files: list[str] = ["utc_runtime.h"]
        for k in self.kernels_used():
            for f in k.files:
                if f not in files:
                    files.append(f)
        return files

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        kernels = self.kernels_used()
        files = self.runtime_files()
        inputs, outputs = self.io()
        calls = self.call_blocks()
        ctx = {
            "name": self.name, "NAME": self.upper, "source": self.source,
            "arena_bytes": self.fn.arena_bytes,
            "regions": [{"name": r[0], "NAME": r[0].upper(), "capacity": r[1], "bytes": r[2],
                         "section": r[3]} for r in (self.fn.memory_regions or ())],
            "lower_bound": self.fn.lower_bound or 0,
            "inputs": inputs, "outputs": outputs, "calls": calls,
            "buffers": self.ordered_buffers(),
            "memory_map": self.memory_map(),
            "weights": self.weights(),
            "headers": [f for f in files if f.endswith(".h") and f != "utc_runtime.h"]
            + sorted({h for k in kernels for h in k.includes}),
            "state": sorted(self.state.values(), key=lambda b: b["offset"]),
            "state_bytes": self.fn.state_bytes or 0,
            "state_map": self.state_map() if self.state else [],
            "cmsis_nn": any(k.library == "cmsis-nn" for k in kernels),
            "target": self.target,
            "sources": sorted(f for f in files if f.endswith(".cpp")),
            "taps": self.layer_taps() if self.taps else [],
            "link_files": link_names(files),
            "placement": self.placement,
            "shared": self.shared,
            "models": [],
            "arena_align": max(16, int(self.fn.plan_alignment or 16)),
        }
        ctx["weight_bytes"] = sum(w["bytes"] for w in ctx["weights"])
        written = []
        for template, target in (("model.h.j2", f"{self.name}.h"),
                                 ("model.cpp.j2", f"{self.name}.cpp"),
                                 ("weights.h.j2", f"{self.name}_weights.h"),
                                 ("weights.cpp.j2", f"{self.name}_weights.cpp"),
                                 ("CMakeLists.txt.j2", "CMakeLists.txt"),
                                 ("utc_link.h.j2", LINK_HEADER),
                                 *((("arm-none-eabi.cmake.j2", "arm-none-eabi.cmake"),)
                                   if self.target.cpu_flags else ())):
            path = out_dir / target
            text = self.env.get_template(template).render(**ctx)
            if template == "weights.cpp.j2":
                write_weights(path, text, [w["array"] for w in ctx["weights"]])
            else:
                path.write_text(text)
            written.append(path)
        for f in files:
            shutil.copyfile(RUNTIME_DIR / f, out_dir / f)
            written.append(out_dir / f)
        if self.taps:  # a verify build: the callback that streams the taps to stdout
            path = out_dir / "utc_layer_taps.cpp"
            path.write_text(self.env.get_template("layer_taps.cpp.j2").render())
            written.append(path)
        return written


def _comment(op: Operation) -> str:
    """`qnn.conv2d -> utc_conv2d_s8  [TFLite op #0 (name)]`, unescaped."""
    where = op.location.describe() if op.location else ""
    return f"{op.attrs['op']} -> {op.attrs['callee']}" + (f"  [{where}]" if where else "")


def emit_cpp(module: Module, out_dir: Path, name: str, source: str = "",
             target: str = "host", taps: bool = False,
             placement: Placement | None = None) -> list[Path]:
    """Write the generated sources for `module` into `out_dir`; return the written paths.
    `taps` makes a verify build (`utc verify --per-layer`): every kernel call's outputs go
    to `utc_layer_output` as they are produced; normal compiles never set it, so their
    files stay byte-identical."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise CompileError(f"model name '{name}' is not a valid C identifier")
    return Emitter(module, name, source, target, taps, placement).write(Path(out_dir))


def emit_app(models: Sequence[tuple[Module, str, str]], out_dir: Path, app: str,
             offsets: Sequence[int], arena_bytes: int, alignment: int, concurrent: bool,
             target: str = "host", placement: Placement | None = None) -> list[Path]:
    """Write several planned models into one folder sharing one arena: each model's own
    files (NAME.h, NAME.cpp, NAME_weights.*) as a single compile writes them, except that
    its arena is `APP_arena + offset` (`offsets`, from `planning/shared.py`); then APP.h
    and APP.cpp (the shared array, placed by `placement`'s arena section or external
    arena), and one CMakeLists.txt and utc_link.h for the whole folder. `models`: (module,
    name, source) each. Each model keeps its own weights and state."""
    out_dir = Path(out_dir)
    placement = placement or Placement()
    emitters = [Emitter(module, name, source, target, placement=placement,
                        shared=SharedPart(app, int(offset), concurrent))
                for (module, name, source), offset in zip(models, offsets)]
    written: list[Path] = []
    files: list[str] = []
    for e in emitters:
        for path in e.write(out_dir):
            if path not in written:
                written.append(path)
        files += [f for f in e.runtime_files() if f not in files]
    kernels = [k for e in emitters for k in e.kernels_used()]
    ctx = {
        "name": app, "NAME": app.upper(),
        "source": ", ".join(e.source for e in emitters),
        "models": [{"name": e.name, "NAME": e.upper, "source": e.source,
                    "arena_bytes": int(e.fn.arena_bytes), "offset": int(offset),
                    "state_bytes": int(e.fn.state_bytes or 0)}
                   for e, offset in zip(emitters, offsets)],
        "arena_bytes": int(arena_bytes), "arena_align": int(alignment),
        "concurrent": concurrent, "placement": placement,
        "target": TARGETS[target],
        "cmsis_nn": any(k.library == "cmsis-nn" for k in kernels),
        "sources": sorted(f for f in files if f.endswith(".cpp")),
        "link_files": link_names(files),
    }
    env = environment()
    for template, target_file in (("app.h.j2", f"{app}.h"), ("app.cpp.j2", f"{app}.cpp"),
                                  ("CMakeLists.txt.j2", "CMakeLists.txt"),
                                  ("utc_link.h.j2", LINK_HEADER)):
        path = out_dir / target_file
        path.write_text(env.get_template(template).render(**ctx))
        if path not in written:
            written.append(path)
    return written
