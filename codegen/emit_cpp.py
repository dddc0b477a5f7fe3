"""`emit-cpp`: write the generated C++ folder from a planned `buf`-level module.

The output (DESIGN.md §6): `NAME.h` (C and C++; `NAME_invoke`, the zero-copy API,
`NAME_ARENA_BYTES`, I/O shapes and quantization), `NAME.cpp` (the arena and the calls),
`NAME_weights.cpp` (const weights, in flash), the runtime kernels the model uses, and
a `CMakeLists.txt`. Same module in, same bytes out.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
from utc.codegen.kernels import KERNELS, Kernel
from utc.compiler.errors import CompileError, printable
from utc.compiler.ir import (
    MemRefType,
    Module,
    Operation,
    OpResult,
    QuantizedType,
    ResourceRef,
    Value,
    is_quantized,
)
from utc.compiler.ir.types import format_f32
from utc.dialects import buf, slice_math
from utc.dialects.func import main_function
from utc.runtime import RUNTIME_DIR

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_C_TYPE = {"i8": "int8_t", "ui8": "uint8_t", "i16": "int16_t", "i32": "int32_t",
           "i64": "int64_t", "f32": "float", "i1": "bool"}
_KERNEL_BY_NAME = {k.name: k for k in KERNELS}
_FLT_MAX = "3.40282347e+38f"
_FLOAT_CLAMP = {
    "none": ("-" + _FLT_MAX, _FLT_MAX),
    "relu": ("0.0f", _FLT_MAX),
    "relu6": ("0.0f", "6.0f"),
    "relu_n1_to_1": ("-1.0f", "1.0f"),
}


def c_type(t: MemRefType) -> str:
    return _C_TYPE[str(t.element.storage)]


def shape6(shape) -> str:
    """A shape right-aligned into 6-D with leading 1s, as a C initializer list."""
    dims = [1] * (6 - len(shape)) + [int(d) for d in shape]
    return ", ".join(map(str, dims))


def flags6(rank: int, axes) -> str:
    """One 0/1 flag per 6-D dimension, set for the given axes of a rank-`rank` tensor."""
    return ", ".join("1" if d - (6 - rank) in axes else "0" for d in range(6))


def pads6(pads, side: int) -> str:
    """One side (0 before, 1 after) of per-dimension [before, after] pads, in 6-D."""
    values = [0] * (6 - len(pads)) + [int(p[side]) for p in pads]
    return ", ".join(map(str, values))


def _concat_params(types: list[MemRefType], axis: int) -> tuple[int, list[int]]:
    """(outer, bytes per tensor from the axis on) of a concatenation or split."""
    outer, chunks, _ = slice_math.concat_params([t.shape for t in types], axis,
                                                types[0].element.byte_width)
    return outer, chunks


def _scalar(value: int | float, t: MemRefType) -> str:
    """A C literal of one element of `t`'s element type."""
    return format_f32(float(value)) + "f" if t.element.is_float else str(int(value))


def comment_text(text: str) -> str:
    """Text from the model or the command line made safe inside a generated `/* */` or
    `#` comment: one printable line that cannot close the comment early."""
    return printable(text).replace("*/", "* /")


def c_identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if not name[:1].isdigit() else "_" + name


def _format_values(data: np.ndarray) -> str:
    flat = data.reshape(-1)
    if flat.dtype == np.float32:
        items = []
        for x in flat:
            if not np.isfinite(x):
                raise CompileError(f"cannot emit non-finite weight value {x}")
            items.append(np.format_float_scientific(x, unique=True, trim="0") + "f")
        per_line = 8
    elif flat.dtype == np.bool_:
        items = ["1" if x else "0" for x in flat]
        per_line = 32
    else:
        items = [str(int(x)) for x in flat]
        per_line = 24
        if flat.dtype == np.int32:
            items = [f"{v}" if v != "-2147483648" else "(-2147483647 - 1)" for v in items]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n  ".join(lines)


@dataclass
class CallContext:
    """What a kernel template sees for one `buf.call`."""

    callee: str
    op: str
    attrs: dict
    ins: list[str]  # C expressions of the input buffers, in operand order
    outs: list[str]
    scratch: str  # "NULL" when the kernel has none
    in_types: list[MemRefType]
    out_types: list[MemRefType]
    fields: dict  # operand field name -> C expression ("NULL" for absent optionals)
    field_types: dict
    res: dict  # resource name -> C array name
    mult_count: int = 0  # length of the `mult` resource (1 = per-tensor requantization)
    act_f32: tuple = ("-3.40282347e+38f", "3.40282347e+38f")  # float clamp of `act`

    def r(self, ref: ResourceRef) -> str:
        return self.res[ref.name]

    def shape(self, field: str) -> tuple[int, ...]:
        return self.field_types[field].shape


class Emitter:
    def __init__(self, module: Module, name: str, source: str = ""):
        self.module = module
        self.name = name
        self.upper = name.upper()
        self.source = comment_text(source)
        self.fn = main_function(module)
        if "arena_bytes" not in self.fn.attrs:
            raise CompileError("emit-cpp: memory is not planned (run plan-memory first)")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(prod=lambda xs: int(np.prod(xs, dtype=np.int64)),
                                f32=lambda x: format_f32(x) + "f", shape6=shape6,
                                flags6=flags6, pads6=pads6, perm6=slice_math.transpose_perm6,
                                concat_params=_concat_params, c_type=c_type, scalar=_scalar)
        self.weight_names: dict[str, str] = {}
        for res_name in module.referenced_resources():
            self.weight_names[res_name] = f"{name}_w_{c_identifier(res_name)}"

    # ---- C expressions for buffers -------------------------------------------------------
    def expr(self, value: Value) -> str:
        op = value.op if isinstance(value, OpResult) else None
        t = value.type
        if isinstance(op, buf.GlobalOp):
            return self.weight_names[op.attrs["value"].name]
        offset = 0
        while isinstance(op, buf.ViewOp):
            offset += op.attrs["offset"]
            op = op.operand("source").op
        if isinstance(op, buf.AllocOp):
            return f"(({c_type(t)} *)(arena + {op.attrs['offset'] + offset}))"
        raise CompileError(f"emit-cpp: cannot address value {value!r}")

    def call_context(self, call: buf.CallOp) -> CallContext:
        from utc.compiler.ir import OP_REGISTRY

        n_in = call.attrs["num_inputs"]
        operands = call.operand_values
        ins, rest = operands[:n_in], operands[n_in:]
        outs = [v for v in rest if not v.op.attrs.get("scratch")]
        scratch = [v for v in rest if isinstance(v.op, buf.AllocOp) and v.op.attrs.get("scratch")]
        source_cls = OP_REGISTRY.get(call.attrs["op"])
        fields: dict[str, str] = {}
        field_types: dict[str, MemRefType] = {}
        if source_cls is not None:
            specs = list(source_cls.operands)
            for i, spec in enumerate(specs):
                key = spec.rstrip("?*")
                if spec.endswith("*"):
                    fields[key] = [self.expr(v) for v in ins[i:]]
                    break
                if i < len(ins):
                    fields[key] = self.expr(ins[i])
                    field_types[key] = ins[i].type
                else:
                    fields[key] = "NULL"
            for spec, v in zip(source_cls.results, outs):
                fields[spec.rstrip("?*")] = self.expr(v)
                field_types[spec.rstrip("?*")] = v.type
        attrs = {k: v for k, v in call.attrs.items() if k not in ("callee", "op", "num_inputs")}
        return CallContext(
            callee=call.attrs["callee"], op=call.attrs["op"], attrs=attrs,
            ins=[self.expr(v) for v in ins], outs=[self.expr(v) for v in outs],
            scratch=self.expr(scratch[0]) if scratch else "NULL",
            in_types=[v.type for v in ins], out_types=[v.type for v in outs],
            fields=fields, field_types=field_types, res=self.weight_names,
            mult_count=(self.module.resources[attrs["mult"].name].type.num_elements
                        if isinstance(attrs.get("mult"), ResourceRef) else 0),
            act_f32=_FLOAT_CLAMP.get(attrs.get("act"), _FLOAT_CLAMP["none"]),
        )

    def render_call(self, call: buf.CallOp) -> str:
        kernel = _KERNEL_BY_NAME.get(call.attrs["callee"])
        if kernel is None:
            raise CompileError(f"emit-cpp: unknown kernel '{call.attrs['callee']}' in "
                               f"{call.where()}")
        macros = self.env.get_template(f"kernels/{kernel.family}.j2").module
        macro = getattr(macros, kernel.name, None)
        if macro is None:
            raise CompileError(f"emit-cpp: template kernels/{kernel.family}.j2 has no macro "
                               f"for {kernel.name}")
        return str(macro(self.call_context(call))).strip()

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
        names_in = self.fn.attrs.get("inputs", ())
        names_out = self.fn.attrs.get("outputs", ())
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
                used.setdefault(op.attrs["callee"], _KERNEL_BY_NAME[op.attrs["callee"]])
        return list(used.values())

    def weights(self) -> list[dict]:
        out = []
        for res_name, c_name in self.weight_names.items():
            data = self.module.resource_data(res_name)
            rtype = self.module.resources[res_name].type
            out.append({
                "name": c_name, "ctype": _C_TYPE[str(rtype.element.storage)],
                "count": max(int(data.size), 1), "data": _format_values(data) if data.size else "0",
                "bytes": int(data.nbytes), "source": res_name,
            })
        return out

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        kernels = self.kernels_used()
        files: list[str] = ["utc_runtime.h"]
        for k in kernels:
            for f in k.files:
                if f not in files:
                    files.append(f)
        inputs, outputs = self.io()
        calls = []
        for op in self.fn.block.ops:
            if isinstance(op, buf.CallOp):
                calls.append({"comment": _comment(op), "code": self.render_call(op)})
        ctx = {
            "name": self.name, "NAME": self.upper, "source": self.source,
            "arena_bytes": self.fn.attrs["arena_bytes"],
            "lower_bound": self.fn.attrs.get("lower_bound", 0),
            "inputs": inputs, "outputs": outputs, "calls": calls,
            "weights": self.weights(),
            "headers": [f for f in files if f.endswith(".h") and f != "utc_runtime.h"],
            "sources": sorted(f for f in files if f.endswith(".cpp")),
        }
        ctx["weight_bytes"] = sum(w["bytes"] for w in ctx["weights"])
        written = []
        for template, target in (("model.h.j2", f"{self.name}.h"),
                                 ("model.cpp.j2", f"{self.name}.cpp"),
                                 ("weights.h.j2", f"{self.name}_weights.h"),
                                 ("weights.cpp.j2", f"{self.name}_weights.cpp"),
                                 ("CMakeLists.txt.j2", "CMakeLists.txt")):
            path = out_dir / target
            path.write_text(self.env.get_template(template).render(**ctx))
            written.append(path)
        for f in files:
            shutil.copyfile(RUNTIME_DIR / f, out_dir / f)
            written.append(out_dir / f)
        return written


def _comment(op: Operation) -> str:
    where = op.location.describe() if op.location else ""
    return f"{op.attrs['op']} -> {op.attrs['callee']}" + (f"  [{where}]" if where else "")


def emit_cpp(module: Module, out_dir: Path, name: str, source: str = "") -> list[Path]:
    """Write the generated sources for `module` into `out_dir`; return the written paths."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise CompileError(f"model name '{name}' is not a valid C identifier")
    return Emitter(module, name, source).write(Path(out_dir))
