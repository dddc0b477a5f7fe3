"""The kernel table: one record per runtime kernel, beside the C++ it describes.

A record says which op (class and dtype) the kernel implements, under which constraints,
with how much scratch memory and which files, how many operations one call costs, which
memory sharing its access order allows (`in_place`: the output may reuse an input's
buffer; `overlap`: a sliding-window output may start below its dying input), and its
typed argument list: the C parameters exactly as the header declares them, each with the
function that computes its value for one call. From that list come the generated call
(codegen/emit_cpp.py), the prototype check against runtime/*.h
(tests/unit/test_kernel_records.py) and the ctypes signatures of the kernel unit tests
(tests/kernel_harness.py), so an argument's position lives in one place.

The table sits below both the passes (kernel selection, in-place and overlap planning)
and code generation, so those facts have one home and no pass keys on kernel names.
Kernel names follow one rule: `utc_<op>_<dtype>` (`_s8`, `_f32`, or `_<in>_<out>` for
conversions); data movement, which works on bytes of any element type, is `utc_<op>`.

Adding a kernel is one `Kernel(...)` row here and its C++ in `runtime/`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from utc.compiler.ir import Operation
from utc.dialects import fused, qnn, signal, slice_math, state, tensor
from utc.passes.quantmath import resize
from utc.passes.quantmath.lstm_cmsis import CMSIS_LSTM_ATTRS

from .cmsis_nn import CMSIS_NN_KERNELS
from .record import (  # noqa: F401  (re-exported: the table's users import them from here)
    FLOAT_CLAMP,
    Arg,
    CallView,
    CostFn,
    Fields,
    Kernel,
    Pointee,
    conv_macs,
    depthwise_macs,
    f32_literal,
    fully_connected_macs,
    input_elements,
    needs_kernel,
    no_compute,
    op_dtype,
    per_output,
    pool_ops,
    shape6,
)
from .targets import Target


def _buf(name: str, ctype: str, field: str | None = None) -> Arg:
    key = field or name
    return Arg(name, ctype, lambda c: c.field(key))


def _attr(name: str, key: str | None = None, index: int | None = None) -> Arg:
    key = key or name
    if index is None:
        return Arg(name, "int32_t", lambda c: int(c.attrs[key]))
    return Arg(name, "int32_t", lambda c: int(c.attrs[key][index]))


def _dim(name: str, field: str, axis: int) -> Arg:
    return Arg(name, "int32_t", lambda c: c.shape(field)[axis])


def _shape6(name: str, field: str) -> Arg:
    return Arg(name, "const int32_t *", lambda c: shape6(c.shape(field)))


def _table(name: str, key: str) -> Arg:
    return Arg(name, "const int32_t *", lambda c: c.table(c.attrs[key]))


def _size(field: str = "output") -> Arg:
    return Arg("size", "int32_t", lambda c: math.prod(c.shape(field)))


def _act_s8() -> tuple[Arg, ...]:
    return (_attr("act_min", "act", 0), _attr("act_max", "act", 1))


def _act_f32() -> tuple[Arg, ...]:
    return (Arg("act_min", "float", lambda c: FLOAT_CLAMP[c.attrs.get("act", "none")][0]),
            Arg("act_max", "float", lambda c: FLOAT_CLAMP[c.attrs.get("act", "none")][1]))


def _io(ctype_in: str, ctype_out: str) -> tuple[Arg, ...]:
    return (_buf("input", f"const {ctype_in} *"), _buf("output", f"{ctype_out} *"))


def _window(last: Arg) -> tuple[Arg, ...]:
    """Batches, input and output geometry, kernel, stride, dilation and padding of a
    convolution: input [N, H, W, C], output [N, OH, OW, `last`], filter [_, KH, KW, _]."""
    return (_dim("batches", "input", 0), _dim("in_h", "input", 1), _dim("in_w", "input", 2),
            _dim("in_c", "input", 3), _dim("out_h", "output", 1), _dim("out_w", "output", 2),
            last, _dim("kh", "filter", 1), _dim("kw", "filter", 2),
            _attr("stride_h", "stride", 0), _attr("stride_w", "stride", 1),
            _attr("dil_h", "dilation", 0), _attr("dil_w", "dilation", 1),
            _attr("pad_top", "pad", 0), _attr("pad_left", "pad", 2))


def _optional_table(name: str, key: str) -> Arg:
    """A compile-time table the op may carry (`zp_bias`), else NULL."""
    return Arg(name, "const int32_t *",
               lambda c: c.table(c.attrs[key]) if key in c.attrs else "NULL")


def _conv_io(ctype: str, bias: str) -> tuple[Arg, ...]:
    zp_bias = (_optional_table("zp_bias", "zp_bias"),) if ctype == "int8_t" else ()
    return (_buf("input", f"const {ctype} *"), _buf("filter", f"const {ctype} *"),
            _buf("bias", f"const {bias} *"), *zp_bias, _buf("output", f"{ctype} *"))


def _per_channel_requant() -> tuple[Arg, ...]:
    return (_attr("input_zp"), _attr("output_zp"), _table("mult", "mult"),
            _table("shift", "shift"),
            Arg("per_channel", "int32_t", lambda c: int(c.table_len(c.attrs["mult"]) > 1)),
            *_act_s8())


def _conv_args(ctype: str, bias: str, depthwise: bool, requant: tuple[Arg, ...]) -> tuple[Arg, ...]:
    last = (_attr("depth_mult", "depth_multiplier") if depthwise
            else _dim("out_c", "output", 3))
    return (*_conv_io(ctype, bias), *_window(last), *requant)


def _conv_s8_params(depthwise: bool) -> tuple[Arg, ...]:
    """The fields of utc_conv_s8_params, which both int8 convolutions take: out_c and
    depth_mult both (a standard convolution's depth_mult is 1)."""
    window = _window(_dim("out_c", "output", 3))
    depth_mult = (_attr("depth_mult", "depth_multiplier") if depthwise
                  else Arg("depth_mult", "int32_t", lambda c: 1))
    return (*_conv_io(_I8, "int32_t"), *window[:7], depth_mult, *window[7:],
            *_per_channel_requant(),
            # overlap-buffers' reverse placement (passes/planning/overlap.py)
            Arg("reverse", "int32_t", lambda c: int(c.attrs.get("reverse", 0))))


def _params_struct(fields: tuple[Arg, ...], ctype: str = "utc_conv_s8_params") -> Callable:
    """An argument pointing to a `static const` struct of `fields` (as a `params` kernel's
    call fills it): for a kernel that takes such a struct and more."""
    def value(c: CallView) -> Pointee:
        items = [str(v) if "*" in a.ctype else f"/*{a.name}=*/{v}"
                 for a, v in ((a, a.value(c)) for a in fields)]
        lines, line = [], ""
        for item in items:
            if line and len(line) + len(item) > 80:
                lines.append(line.rstrip())
                line = ""
            line += item + ", "
        lines.append(line.rstrip(", "))
        return Pointee(ctype, "{" + "\n      ".join(lines) + "}")

    return value


def _only_in_place(op: Operation, target: Target) -> str | None:
    """Only where overlap-buffers runs a channel-keeping 1x1 convolution in place."""
    return "only where overlap-buffers runs a channel-keeping 1x1 convolution in place"


def _fc_args(ctype: str, bias: str, tail: tuple[Arg, ...]) -> tuple[Arg, ...]:
    zp_bias = (_optional_table("zp_bias", "zp_bias"),) if ctype == "int8_t" else ()
    return (_buf("input", f"const {ctype} *"), _buf("filter", f"const {ctype} *", "weights"),
            _buf("bias", f"const {bias} *"), *zp_bias, _buf("output", f"{ctype} *"),
            Arg("batches", "int32_t",
                lambda c: math.prod(c.shape("input")) // c.shape("weights")[1]),
            _dim("depth", "weights", 1), _dim("units", "weights", 0), *tail)


def _pool_args(ctype: str, act: tuple[Arg, ...]) -> tuple[Arg, ...]:
    return (*_io(ctype, ctype), _dim("batches", "input", 0), _dim("in_h", "input", 1),
            _dim("in_w", "input", 2), _dim("channels", "input", 3),
            _dim("out_h", "output", 1), _dim("out_w", "output", 2),
            _attr("fh", "window", 0), _attr("fw", "window", 1),
            _attr("stride_h", "stride", 0), _attr("stride_w", "stride", 1),
            _attr("pad_top", "pad", 0), _attr("pad_left", "pad", 2), *act)


def _binary_args(ctype: str, tail: tuple[Arg, ...] = ()) -> tuple[Arg, ...]:
    """Broadcasting binary kernels: shapes right-aligned into 6-D."""
    return (_buf("in1", f"const {ctype} *", "lhs"), _buf("in2", f"const {ctype} *", "rhs"),
            _buf("out", f"{ctype} *", "output"), _shape6("in1_shape", "lhs"),
            _shape6("in2_shape", "rhs"), _shape6("out_shape", "output"), *tail)


_ZP3 = (_attr("in1_zp", "lhs_zp"), _attr("in2_zp", "rhs_zp"), _attr("out_zp", "output_zp"))
_RESCALED_BINARY_S8 = (*_ZP3, _attr("left_shift"), _attr("in1_mult", "lhs_mult"),
                       _attr("in1_shift", "lhs_shift"), _attr("in2_mult", "rhs_mult"),
                       _attr("in2_shift", "rhs_shift"), _attr("out_mult", "output_mult"),
                       _attr("out_shift", "output_shift"), *_act_s8())
_MUL_S8 = (*_ZP3, _attr("out_mult", "output_mult"), _attr("out_shift", "output_shift"),
           *_act_s8())
_CURVE_S8 = (*_io("int8_t", "int8_t"), _size(), _attr("input_zp"), _attr("input_range_radius"),
             _attr("input_mult"), _attr("input_left_shift"))
_PRELU_SHAPES = (_shape6("input_shape", "input"), _shape6("alpha_shape", "alpha"),
                 _shape6("output_shape", "output"))


def _prelu_io(ctype: str) -> tuple[Arg, ...]:
    return (_buf("input", f"const {ctype} *"), _buf("alpha", f"const {ctype} *"),
            _buf("output", f"{ctype} *"), *_PRELU_SHAPES)


def _mean_axes() -> tuple[Arg, ...]:
    def flags(c: CallView) -> list[int]:
        rank = len(c.shape("input"))
        axes = {int(a) for a in c.attrs["axes"]}
        return [int(d - (6 - rank) in axes) for d in range(6)]

    return (_shape6("input_shape", "input"), Arg("reduce_axes", "const int32_t *", flags))


def _rows(c: CallView) -> int:
    x = c.shape("input")
    return math.prod(x) // x[-1]


_SOFTMAX_ROWS = (Arg("rows", "int32_t", _rows), Arg("depth", "int32_t", lambda c: c.shape("input")[-1]))
_ELEM_SIZE = Arg("elem_size", "int32_t", lambda c: c.byte_width("output"))
_MOVE_IO = (_buf("input", "const void *"), _buf("output", "void *"))


def _clamp_bounds(c: CallView) -> tuple[str, str]:
    """RELU, RELU6 and RELU_N1_TO_1 share one float32 kernel; the op says the bounds."""
    if issubclass(c.op_class, tensor.Relu6Op):
        return "0.0f", "6.0f"
    if issubclass(c.op_class, tensor.ReluN1To1Op):
        return "-1.0f", "1.0f"
    return "0.0f", "HUGE_VALF"


def _pad_value(c: CallView) -> Pointee:
    value = c.attrs["value"]
    literal = f32_literal(value) if c.is_float("output") else str(int(value))
    return Pointee(c.ctype("output"), literal)


def _chunks(c: CallView, field: str) -> tuple[int, list[int]]:
    """(outer, bytes per tensor from the axis on) of a concatenation's inputs or a split's
    outputs (slice_math.concat_params)."""
    outer, chunks, _ = slice_math.concat_params(c.shapes(field), int(c.attrs["axis"]),
                                                c.byte_width(field))
    return outer, chunks


def _strided(name: str, key: str, fill: int) -> Arg:
    def value(c: CallView) -> list[int]:
        rank = len(c.shape("input"))
        return [fill] * (6 - rank) + [int(v) for v in c.attrs[key]]

    return Arg(name, "const int32_t *", value)


def _gather_sizes(c: CallView) -> dict[str, int]:
    """GATHER's loop bounds (see utc_gather): batches, outer, axis_size, coords, inner_bytes."""
    x, idx = c.shape("input"), c.shape("indices")
    axis, batch = int(c.attrs["axis"]), int(c.attrs["batch_dims"])
    return {"batches": math.prod(x[:batch]), "outer": math.prod(x[batch:axis]),
            "axis_size": x[axis], "coords": math.prod(idx[batch:]),
            "inner_bytes": math.prod(x[axis + 1:]) * c.byte_width("input")}


def _gather_arg(name: str) -> Arg:
    return Arg(name, "int32_t", lambda c: _gather_sizes(c)[name])


def _files(*names: str) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        out += [f"{n}.h", f"{n}.cpp"]
    return tuple(out)


_S8 = ("utc_quant.h",)
_S8X = ("utc_quant.h", "utc_quant_ext.h")
_ACT_S8 = _files("utc_activation_s8")
_EW_F32 = _S8X + _files("utc_elementwise_f32")  # utc_quant_ext.h: the shared broadcast loop
_MOVE = _files("utc_data_movement")
_ACT_F32 = _S8X + _files("utc_activation_f32")
_ACT_S16 = ("utc_sigmoid_table.h",) + _files("utc_activation_s16")


def _same_shapes_or_broadcast(op: Operation, target: Target) -> str | None:
    """Inputs of at most 6 dimensions (TFLite broadcasting)."""
    if op.operand("lhs").type.rank > 6 or op.operand("rhs").type.rank > 6:
        return "more than 6 dimensions"
    return None


def _storage(value) -> str:
    element = value.type.element
    return str(getattr(element, "storage", element))


def _input_int8(op: Operation, target: Target) -> str | None:
    """Input int8."""
    return None if _storage(op.operand("input")) == "i8" else "the input is not int8"


def _input_float32(op: Operation, target: Target) -> str | None:
    """Input float32."""
    return None if _storage(op.operand("input")) == "f32" else "the input is not float32"


def _arg_sizes(c: CallView) -> dict[str, int]:
    """ARG_MAX / ARG_MIN loop bounds: rows before the axis, the axis, positions after it."""
    x, axis = c.shape("input"), int(c.attrs["axis"])
    return {"outer": math.prod(x[:axis]), "axis_size": x[axis], "inner": math.prod(x[axis + 1:])}


def _arg_args(ctype: str) -> tuple[Arg, ...]:
    return (_buf("input", f"const {ctype} *"), _buf("output", "int32_t *"),
            *(Arg(n, "int32_t", lambda c, n=n: _arg_sizes(c)[n])
              for n in ("outer", "axis_size", "inner")))


def _input_int16(op: Operation, target: Target) -> str | None:
    """Input int16."""
    return None if _storage(op.operand("input")) == "i16" else "the input is not int16"


def _weights_16x8(op: Operation, target: Target) -> str | None:
    """int16 input, int8 weights, int64 bias (or none): TFLite's 16x8 scheme."""
    if _storage(op.operand("input")) != "i16":
        return "the input is not int16"
    weights = op.operand("weights" if isinstance(op, qnn.FullyConnectedOp) else "filter")
    if _storage(weights) != "i8":
        return "the weights are not int8"
    bias = op.operand("bias")
    if bias is not None and _storage(bias) != "i64":
        return f"the bias is {_storage(bias)}, not int64 (16x8 models carry int64 biases)"
    return None


def conv_dsp_faster(op: Operation, target: Target) -> bool:
    """utc_conv2d_s8's DSP path (SMLAD) beats the CMSIS-NN kernel `auto` would otherwise
    run, on targets with the DSP extension but no Helium (Cortex-M4, M7, M33): windows
    larger than 1x1 (but one input channel under more than 9 taps), and 1x1 windows from
    8 input and 16 output channels.

    Measured per layer on QEMU (instructions, 25 single CONV_2D shapes, utc against
    arm_convolve_s8, arm_convolve_1_x_n_s8, arm_convolve_1x1_s8 and _fast), with the same
    winner on all three targets; Cortex-M4, instructions per MAC: 3x3 stride 1 over 16,
    32, 64 channels 1.61, 1.40, 1.23 against 2.33, 1.93, 1.76; 3x3 over 1 to 8 channels
    2.04 to 8.34 against 3.49 to 14.0; 3x3 stride 2 1.60 against 2.14 (16 channels), 3.55
    against 6.12 (3); 5x5 1.23 against 2.09; 1x3 and 3x1 2.04 to 2.22 against 3.07 to
    3.12; 1x1 64 -> 64 1.86 against 2.09 (_fast) and 2.88 (per row, as `auto` runs it to
    keep the overlap), 8 -> 16 5.71 against 6.69 and 7.34, 16 -> 32 3.33 against 3.98 and
    4.30. In VWW's MobileNet every 1x1 layer (8 -> 16 up to 256 -> 256, some with pruned
    channels) 5.63 to 1.56 against _fast's 6.63 to 1.97. Left to CMSIS-NN: 1x1 to 8
    output channels (8 -> 8: 6.97 against 6.64) or from 3 or 4 input channels (12.88
    against 11.87), KWS's 10x4 stride 2 over 1 channel (3.45 against 3.49: within 2%),
    and Helium everywhere (Cortex-M55: 0.2 to 6 against utc's 1.2 to 8.4)."""
    if not target.dsp or target.mve:
        return False
    out_c, kh, kw, in_c = op.operand("filter").type.shape
    if (kh, kw) == (1, 1):
        return in_c >= 8 and out_c >= 16
    return in_c > 1 or kh * kw <= 9


def _broadcast_4d(op: Operation, target: Target) -> str | None:
    """Same shapes (any rank), or broadcasting up to 4-D (TFLite Micro's comparisons
    broadcast in 4-D only)."""
    lhs, rhs = op.operand("lhs").type, op.operand("rhs").type
    if lhs.shape != rhs.shape and max(lhs.rank, rhs.rank) > 4:
        return "broadcasting over more than 4 dimensions"
    return _same_shapes_or_broadcast(op, target)


def _broadcast_5d(op: Operation, target: Target) -> str | None:
    """Same shapes (any rank), or broadcasting up to 5-D (TFLite Micro's int32 SUB, DIV,
    MAXIMUM and MINIMUM broadcast in 5-D)."""
    lhs, rhs = op.operand("lhs").type, op.operand("rhs").type
    if lhs.shape != rhs.shape and max(lhs.rank, rhs.rank) > 5:
        return "broadcasting over more than 5 dimensions"
    return _same_shapes_or_broadcast(op, target)


#: an int32 fused activation's clamp, as TFLite's CalculateActivationRange gives it
_INT32_MIN, _INT32_MAX = "(-2147483647 - 1)", "2147483647"
_INT32_CLAMP = {"none": (_INT32_MIN, _INT32_MAX), "relu": ("0", _INT32_MAX),
                "relu6": ("0", "6"), "relu_n1_to_1": ("-1", "1")}


def _act_s32(ignored: bool = False) -> tuple[Arg, ...]:
    """The int32 clamp of the op's `act`; `ignored`: TFLite Micro's int32 ADD, which clamps
    to the whole int32 range whatever the model's fused activation says."""
    def bound(c: CallView, i: int) -> str:
        return _INT32_CLAMP["none" if ignored else c.attrs.get("act", "none")][i]

    return (Arg("act_min", "int32_t", lambda c: bound(c, 0)),
            Arg("act_max", "int32_t", lambda c: bound(c, 1)))


def _resize_scale(name: str, axis: int, ctype: str) -> Arg:
    """RESIZE_BILINEAR's source step along `axis` (passes/quantmath/resize.py)."""
    def value(c: CallView) -> str | int:
        args = (c.shape("input")[axis], c.shape("output")[axis], bool(c.attrs["align_corners"]))
        if ctype == "float":
            return f32_literal(resize.resize_scale_f32(*args))
        return resize.resize_scale_q10(*args)

    return Arg(name, ctype, value)


def _cumsum_size(name: str) -> Arg:
    def value(c: CallView) -> int:
        x, axis = c.shape("input"), int(c.attrs["axis"])
        return {"outer": math.prod(x[:axis]), "depth": x[axis],
                "inner": math.prod(x[axis + 1:])}[name]

    return Arg(name, "int32_t", value)


_CUMSUM_SIZES = (_cumsum_size("outer"), _cumsum_size("depth"), _cumsum_size("inner"),
                 Arg("exclusive", "int32_t", lambda c: int(c.attrs["exclusive"])),
                 Arg("reverse", "int32_t", lambda c: int(c.attrs["reverse"])))


#: utc_cast's type codes by C element type
_CAST_CODE = {"bool": 0, "int8_t": 1, "int16_t": 2, "int32_t": 3, "float": 4, "uint32_t": 5}


def _compare_on(storage: str) -> Callable[[Operation, Target], str | None]:
    def check(op: Operation, target: Target) -> str | None:
        if _storage(op.operand("lhs")) != storage:
            return f"the operands are not {storage}"
        return _broadcast_4d(op, target)

    check.__doc__ = f"{storage} operands; " + (_broadcast_4d.__doc__ or "")
    return check


def _compare_args(ctype: str, tail: tuple[Arg, ...] = ()) -> tuple[Arg, ...]:
    return (_buf("in1", f"const {ctype} *", "lhs"), _buf("in2", f"const {ctype} *", "rhs"),
            _buf("out", "bool *", "output"), _shape6("in1_shape", "lhs"),
            _shape6("in2_shape", "rhs"), _shape6("out_shape", "output"),
            Arg("predicate", "int32_t", lambda c: tensor.COMPARISONS.index(c.attrs["predicate"])),
            *tail)


_BINARY = ("lhs", "rhs")
_UNARY = ("input",)  # PRELU: never over the broadcast alpha

_I8, _I16, _F32 = "int8_t", "int16_t", "float"
_S8_CONV = _S8 + ("utc_kernel_util.h",)

def _tconv_io(ctype: str, wtype: str, bias: str) -> tuple[Arg, ...]:
    return (_buf("input", f"const {ctype} *"), _buf("filter", f"const {wtype} *"),
            _buf("bias", f"const {bias} *"), _buf("output", f"{ctype} *"))


#: Batches, input and output geometry, kernel, stride and [top, left] padding of a
#: transposed convolution (runtime/utc_transpose_conv.h).
_TCONV_GEOMETRY = (_dim("batches", "input", 0), _dim("in_h", "input", 1),
                   _dim("in_w", "input", 2), _dim("in_c", "input", 3),
                   _dim("out_h", "output", 1), _dim("out_w", "output", 2),
                   _dim("out_c", "output", 3), _dim("kh", "filter", 1), _dim("kw", "filter", 2),
                   _attr("stride_h", "stride", 0), _attr("stride_w", "stride", 1),
                   _attr("pad_top", "pad", 0), _attr("pad_left", "pad", 1))
_TCONV_FILES = ("utc_quant.h", "utc_quant16.h") + _files("utc_transpose_conv")


def _transpose_conv_macs(fields: Fields, params: dict, out: int) -> int:
    """At most kh * kw * out_c MACs per input element (taps past the output drop out)."""
    x = fields.get("input")
    w = fields.get("filter")
    if x is None or w is None:
        return out
    ws = w.type.shape
    return math.prod(x.type.shape) * ws[0] * ws[1] * ws[2]


def _shape5(name: str, field: str) -> Arg:
    """A shape right-aligned into 5-D (leading 1s), as BATCH_MATMUL's kernels take it."""
    return Arg(name, "const int32_t *",
               lambda c: [1] * (5 - len(c.shape(field))) + list(c.shape(field)))


def _bmm_io(ctype: str) -> tuple[Arg, ...]:
    return (_buf("lhs", f"const {ctype} *"), _buf("rhs", f"const {ctype} *"),
            _buf("out", f"{ctype} *", "output"), _shape5("lhs_shape", "lhs"),
            _shape5("rhs_shape", "rhs"), _attr("adj_x"), _attr("adj_y"))


_BMM_FILES = ("utc_quant.h", "utc_quant16.h") + _files("utc_batch_matmul")


def _batch_matmul_macs(fields: Fields, params: dict, out: int) -> int:
    """depth MACs per output element (depth: the lhs dimension summed over)."""
    lhs = fields.get("lhs")
    if lhs is None:
        return out
    shape = lhs.type.shape
    return out * shape[-2 if params.get("adj_x") else -1]


KERNELS: list[Kernel] = [
    Kernel("utc_fully_connected_s8", qnn.FullyConnectedOp, "int8",
           _S8_CONV + _files("utc_fully_connected_s8"),
           "int8 fully connected, per-tensor or per-channel requantization", cost=fully_connected_macs,
           args=_fc_args(_I8, "int32_t", (_attr("input_zp"), _attr("filter_zp", "weights_zp"),
                                           *_per_channel_requant()[1:]))),
    Kernel("utc_fully_connected_f32", fused.FullyConnectedOp, "float32",
           _files("utc_fully_connected_f32"), "float32 fully connected",
           cost=fully_connected_macs, args=_fc_args(_F32, _F32, _act_f32())),
    Kernel("utc_conv2d_s8", qnn.Conv2DOp, "int8", _S8_CONV + _files("utc_conv_s8"),
           "int8 convolution, per-channel requantization", overlap=True, overlap_reverse=True,
           in_place_pixel="utc_conv2d_pixel_s8",
           cost=conv_macs,
           faster=conv_dsp_faster, args=_conv_s8_params(False), params="utc_conv_s8_params"),
    # utc_conv2d_s8 in place with a two-pixel buffer: only overlap-buffers calls it
    Kernel("utc_conv2d_pixel_s8", qnn.Conv2DOp, "int8", _S8_CONV + _files("utc_conv_s8"),
           "int8 1x1 convolution in place with a two-pixel buffer",
           in_place_pixel="utc_conv2d_pixel_s8",
           cost=conv_macs, constraint=_only_in_place,
           args=(Arg("params", "const utc_conv_s8_params *", _params_struct(_conv_s8_params(False))),
                 Arg("pixel", "int8_t *", lambda c: c.scratch()[0]))),
    Kernel("utc_depthwise_conv2d_s8", qnn.DepthwiseConv2DOp, "int8",
           _S8_CONV + _files("utc_conv_s8"), "int8 depthwise convolution",
           overlap=True, overlap_channelwise=True, cost=depthwise_macs,
           args=_conv_s8_params(True),
           params="utc_conv_s8_params"),
    *(Kernel(f"utc_{kind}_s16", op_class, "int16",
             _S8_CONV + ("utc_quant16.h",) + _files("utc_conv_s16"),
             f"16x8 {kind.replace('_', ' ').replace('conv2d', 'convolution')} "
             "(int16 activations, int8 weights, int64 bias)",
             cost=cost, constraint=_weights_16x8,
             args=(_buf("input", f"const {_I16} *"), _buf("filter", f"const {_I8} *"),
                   _buf("bias", "const int64_t *"), _buf("output", f"{_I16} *"),
                   *_window(last), _table("mult", "mult"), _table("shift", "shift"),
                   Arg("per_channel", "int32_t",
                       lambda c: int(c.table_len(c.attrs["mult"]) > 1)),
                   *_act_s8()))
      for kind, op_class, cost, last in (
          ("conv2d", qnn.Conv2DOp, conv_macs, _dim("out_c", "output", 3)),
          ("depthwise_conv2d", qnn.DepthwiseConv2DOp, depthwise_macs,
           _attr("depth_mult", "depth_multiplier")))),
    Kernel("utc_conv2d_f32", fused.Conv2DOp, "float32", _files("utc_conv_f32"),
           "float32 convolution", overlap=True, overlap_reverse=True, cost=conv_macs,
           in_place_pixel="utc_conv2d_pixel_f32",
           args=(*_conv_args(_F32, _F32, False, _act_f32()),
                 # overlap-buffers' reverse placement (passes/planning/overlap.py)
                 Arg("reverse", "int32_t", lambda c: int(c.attrs.get("reverse", 0))))),
    # utc_conv2d_f32 in place with a two-pixel buffer: only overlap-buffers calls it
    Kernel("utc_conv2d_pixel_f32", fused.Conv2DOp, "float32", _files("utc_conv_f32"),
           "float32 1x1 convolution in place with a two-pixel buffer",
           in_place_pixel="utc_conv2d_pixel_f32", cost=conv_macs, constraint=_only_in_place,
           args=(*_conv_args(_F32, _F32, False, _act_f32()),
                 Arg("pixel", "void *", lambda c: c.scratch()[0]))),
    Kernel("utc_depthwise_conv2d_f32", fused.DepthwiseConv2DOp, "float32",
           _files("utc_conv_f32"), "float32 depthwise convolution", overlap=True,
           overlap_channelwise=True, cost=depthwise_macs,
           args=_conv_args(_F32, _F32, True, _act_f32())),
    # TRANSPOSE_CONV: int8 (per-channel), 16x8 and float32; gathers, so no scratch buffer
    Kernel("utc_transpose_conv_s8", qnn.TransposeConv2DOp, "int8", _TCONV_FILES,
           "int8 transposed convolution, per-channel requantization", cost=_transpose_conv_macs,
           args=(*_tconv_io(_I8, _I8, "int32_t"), *_TCONV_GEOMETRY, _attr("input_zp"),
                 _attr("output_zp"), _table("mult", "mult"), _table("shift", "shift"),
                 *_act_s8())),
    Kernel("utc_transpose_conv_s16", qnn.TransposeConv2DOp, "int16", _TCONV_FILES,
           "16x8 transposed convolution (int16 activations, int8 weights, int64 bias)",
           cost=_transpose_conv_macs,
           args=(*_tconv_io(_I16, _I8, "int64_t"), *_TCONV_GEOMETRY, _table("mult", "mult"),
                 _table("shift", "shift"), *_act_s8())),
    Kernel("utc_transpose_conv_f32", tensor.TransposeConv2DOp, "float32", _TCONV_FILES,
           "float32 transposed convolution", cost=_transpose_conv_macs,
           args=(*_tconv_io(_F32, _F32, _F32), *_TCONV_GEOMETRY, *_act_f32())),
    # BATCH_MATMUL: int8, 16x8 and float32; operands indexed in place (no transposed copies)
    Kernel("utc_batch_matmul_s8", qnn.BatchMatmulOp, "int8", _BMM_FILES,
           "int8 batched matrix product", cost=_batch_matmul_macs,
           args=(*_bmm_io(_I8), _attr("lhs_zp"), _attr("rhs_zp"), _attr("out_zp", "output_zp"),
                 _attr("mult"), _attr("shift"))),
    Kernel("utc_batch_matmul_s16", qnn.BatchMatmulOp, "int16", _BMM_FILES,
           "16x8 batched matrix product (int16 operands, int64 accumulation)",
           cost=_batch_matmul_macs, args=(*_bmm_io(_I16), _attr("mult"), _attr("shift"))),
    Kernel("utc_batch_matmul_f32", tensor.BatchMatmulOp, "float32", _BMM_FILES,
           "float32 batched matrix product", cost=_batch_matmul_macs, args=_bmm_io(_F32)),
    Kernel("utc_avg_pool_s8", qnn.AvgPool2DOp, "int8", _S8 + _files("utc_pool_s8"),
           "int8 average pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_I8, _act_s8())),
    Kernel("utc_max_pool_s8", qnn.MaxPool2DOp, "int8", _S8 + _files("utc_pool_s8"),
           "int8 max pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_I8, _act_s8())),
    Kernel("utc_avg_pool_s16", qnn.AvgPool2DOp, "int16", _S8 + _files("utc_pool_s8"),
           "16x8 average pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_I16, _act_s8())),
    Kernel("utc_max_pool_s16", qnn.MaxPool2DOp, "int16", _S8 + _files("utc_pool_s8"),
           "16x8 max pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_I16, _act_s8())),
    Kernel("utc_avg_pool_f32", fused.AvgPool2DOp, "float32", _files("utc_pool_f32"),
           "float32 average pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_F32, _act_f32())),
    Kernel("utc_max_pool_f32", fused.MaxPool2DOp, "float32", _files("utc_pool_f32"),
           "float32 max pooling", overlap=True, overlap_channelwise=True, cost=pool_ops,
           args=_pool_args(_F32, _act_f32())),
    Kernel("utc_add_s8", qnn.AddOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "int8 broadcasting addition", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I8, _RESCALED_BINARY_S8)),
    Kernel("utc_sub_s8", qnn.SubOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "int8 broadcasting subtraction", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I8, _RESCALED_BINARY_S8)),
    Kernel("utc_mul_s8", qnn.MulOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "int8 broadcasting multiplication", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I8, _MUL_S8)),
    Kernel("utc_squared_difference_s16", qnn.SquaredDifferenceOp, "int16",
           _S8X + _files("utc_squared_difference_s16"),
           "16x8 broadcasting squared difference", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I16, _RESCALED_BINARY_S8)),
    # DIV takes MUL's constants in MUL's order; TFLite Micro broadcasts it in 5-D
    Kernel("utc_div_s8", qnn.DivOp, "int8", _S8X + _files("utc_div_s8"),
           "int8 broadcasting division (TFLite Micro's fixed-point reciprocal)",
           constraint=_broadcast_5d, in_place=_BINARY, args=_binary_args(_I8, _MUL_S8)),
    # SQUARED_DIFFERENCE takes ADD's constants in ADD's order (its act is the int8 range)
    Kernel("utc_squared_difference_s8", qnn.SquaredDifferenceOp, "int8",
           _S8X + _files("utc_elementwise_s8"), "int8 broadcasting squared difference",
           constraint=_same_shapes_or_broadcast, in_place=_BINARY,
           args=_binary_args(_I8, _RESCALED_BINARY_S8)),
    Kernel("utc_maximum_s8", tensor.MaximumOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "int8 broadcasting maximum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I8)),
    Kernel("utc_minimum_s8", tensor.MinimumOp, "int8", _S8X + _files("utc_elementwise_s8"),
           "int8 broadcasting minimum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_I8)),
    *(Kernel(f"utc_{name}_s16", op_class, "int16", _S8X + _files("utc_elementwise_s8"),
             f"16x8 broadcasting {what}", constraint=_same_shapes_or_broadcast,
             in_place=_BINARY, args=_binary_args(_I16, tail))
      for name, op_class, what, tail in (
          ("add", qnn.AddOp, "addition", _RESCALED_BINARY_S8),
          ("sub", qnn.SubOp, "subtraction", _RESCALED_BINARY_S8),
          ("mul", qnn.MulOp, "multiplication", _MUL_S8),
          ("maximum", tensor.MaximumOp, "maximum", ()),
          ("minimum", tensor.MinimumOp, "minimum", ()))),
    Kernel("utc_add_f32", tensor.AddOp, "float32", _EW_F32, "float32 broadcasting addition",
           constraint=_same_shapes_or_broadcast, in_place=_BINARY,
           args=_binary_args(_F32, _act_f32())),
    Kernel("utc_sub_f32", tensor.SubOp, "float32", _EW_F32, "float32 broadcasting subtraction",
           constraint=_same_shapes_or_broadcast, in_place=_BINARY,
           args=_binary_args(_F32, _act_f32())),
    Kernel("utc_mul_f32", tensor.MulOp, "float32", _EW_F32,
           "float32 broadcasting multiplication", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_F32, _act_f32())),
    Kernel("utc_div_f32", tensor.DivOp, "float32", _EW_F32, "float32 broadcasting division",
           constraint=_same_shapes_or_broadcast, in_place=_BINARY,
           args=_binary_args(_F32, _act_f32())),
    Kernel("utc_squared_difference_f32", tensor.SquaredDifferenceOp, "float32", _EW_F32,
           "float32 broadcasting squared difference", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_F32)),
    Kernel("utc_maximum_f32", tensor.MaximumOp, "float32", _EW_F32,
           "float32 broadcasting maximum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_F32)),
    Kernel("utc_minimum_f32", tensor.MinimumOp, "float32", _EW_F32,
           "float32 broadcasting minimum", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY, args=_binary_args(_F32)),
    # int32 (unquantized) arithmetic, as TFLite Micro: ADD and MUL broadcast in 4-D, the
    # others in 5-D; ADD ignores the fused activation (utc_elementwise_s32.h)
    *(Kernel(f"utc_{name}_s32", op_class, "int32", _S8X + _files("utc_elementwise_s32"),
             f"int32 broadcasting {what}", constraint=constraint, in_place=_BINARY,
             args=_binary_args("int32_t", tail))
      for name, op_class, what, constraint, tail in (
          ("add", tensor.AddOp, "addition (wrapping)", _broadcast_4d, _act_s32(ignored=True)),
          ("sub", tensor.SubOp, "subtraction (wrapping)", _broadcast_5d, _act_s32()),
          ("mul", tensor.MulOp, "multiplication (wrapping)", _broadcast_4d, _act_s32()),
          ("div", tensor.DivOp, "division (toward zero)", _broadcast_5d, _act_s32()),
          ("squared_difference", tensor.SquaredDifferenceOp, "squared difference (wrapping)",
           _same_shapes_or_broadcast, ()),
          ("maximum", tensor.MaximumOp, "maximum", _broadcast_5d, ()),
          ("minimum", tensor.MinimumOp, "minimum", _broadcast_5d, ()))),
    # int64 (unquantized) MAXIMUM and MINIMUM, as TFLite Micro (utc_elementwise_s32.h)
    *(Kernel(f"utc_{name}_s64", op_class, "int64", _S8X + _files("utc_elementwise_s32"),
             f"int64 broadcasting {name}", constraint=_broadcast_5d, in_place=_BINARY,
             args=_binary_args("int64_t"))
      for name, op_class in (("maximum", tensor.MaximumOp), ("minimum", tensor.MinimumOp))),
    # L2_NORMALIZATION and LOG_SOFTMAX along the last dimension (utc_normalization.h)
    Kernel("utc_l2_normalization_f32", tensor.L2NormalizationOp, "float32",
           _S8X + _files("utc_normalization"), "float32 L2 normalization over the last dimension",
           in_place=_UNARY, args=(*_io(_F32, _F32), *_SOFTMAX_ROWS)),
    Kernel("utc_l2_normalization_s8", qnn.L2NormalizationOp, "int8",
           _S8X + _files("utc_normalization"),
           "int8 L2 normalization over the last dimension (TFLite Micro's inverse square root)",
           in_place=_UNARY, args=(*_io(_I8, _I8), *_SOFTMAX_ROWS, _attr("input_zp"))),
    Kernel("utc_log_softmax_s8", qnn.LogSoftmaxOp, "int8", _S8X + _files("utc_normalization"),
           "int8 log softmax over the last dimension (TFLite Micro's fixed-point exp and log)",
           args=(*_io(_I8, _I8), *_SOFTMAX_ROWS, _attr("input_mult"),
                 _attr("input_left_shift"), _attr("reverse_mult"), _attr("reverse_shift"),
                 _attr("diff_min"))),
    Kernel("utc_log_softmax_f32", tensor.LogSoftmaxOp, "float32", _S8X + _files("utc_normalization"),
           "float32 log softmax over the last dimension", in_place=_UNARY,
           args=(*_io(_F32, _F32), *_SOFTMAX_ROWS)),
    Kernel("utc_mean_f32", tensor.MeanOp, "float32", _files("utc_reduce_f32"),
           "float32 mean over any axes",
           cost=input_elements, args=(*_io(_F32, _F32), *_mean_axes())),
    Kernel("utc_logistic_f32", tensor.LogisticOp, "float32", _ACT_F32, "float32 logistic",
           in_place=_UNARY, args=(*_io(_F32, _F32), _size())),
    Kernel("utc_tanh_f32", tensor.TanhOp, "float32", _ACT_F32, "float32 tanh",
           in_place=_UNARY, args=(*_io(_F32, _F32), _size())),
    Kernel("utc_clamp_f32", (tensor.ReluOp, tensor.Relu6Op, tensor.ReluN1To1Op), "float32",
           _ACT_F32, "float32 clamp (RELU, RELU6, RELU_N1_TO_1)", in_place=_UNARY,
           args=(*_io(_F32, _F32), _size(), Arg("lo", "float", lambda c: _clamp_bounds(c)[0]),
                 Arg("hi", "float", lambda c: _clamp_bounds(c)[1]))),
    Kernel("utc_leaky_relu_f32", tensor.LeakyReluOp, "float32", _ACT_F32,
           "float32 leaky relu", in_place=_UNARY,
           args=(*_io(_F32, _F32), _size(),
                 Arg("alpha", "float", lambda c: f32_literal(c.attrs["alpha"])))),
    Kernel("utc_hard_swish_f32", tensor.HardSwishOp, "float32", _ACT_F32,
           "float32 hard swish", in_place=_UNARY, args=(*_io(_F32, _F32), _size())),
    Kernel("utc_prelu_f32", tensor.PreluOp, "float32", _ACT_F32,
           "float32 prelu with broadcast alpha", in_place=_UNARY, args=_prelu_io(_F32)),
    Kernel("utc_requantize_s8", qnn.RequantizeOp, "int8", _S8X + _ACT_S8,
           "int8 rescale and clamp (RELU, RELU6, RELU_N1_TO_1, QUANTIZE)", in_place=_UNARY,
           constraint=_input_int8,
           args=(*_io(_I8, _I8), _size(), _attr("input_zp"), _attr("output_zp"),
                 _attr("mult"), _attr("shift"), *_act_s8())),
    Kernel("utc_logistic_s8", qnn.LogisticOp, "int8", _S8X + _ACT_S8,
           "int8 logistic (gemmlowp fixed point)", in_place=_UNARY, args=_CURVE_S8),
    Kernel("utc_tanh_s8", qnn.TanhOp, "int8", _S8X + _ACT_S8,
           "int8 tanh (gemmlowp fixed point)", in_place=_UNARY, args=_CURVE_S8),
    # 16x8 LOGISTIC and TANH: TFLite's int16 algorithm (sigmoid table, interpolated)
    Kernel("utc_abs_s16", qnn.Abs16Op, "int16", _S8 + _files("utc_abs_s16"),
           "16x8 absolute value (TFLite Micro's int16 rescale)", in_place=_UNARY,
           args=(*_io(_I16, _I16), _size(), Arg("rescale", "int32_t",
                                                  lambda c: int(c.attrs["rescale"])),
                 _attr("mult"), _attr("shift"))),
    Kernel("utc_logistic_s16", qnn.Logistic16Op, "int16", _ACT_S16,
           "16x8 logistic (TFLite's interpolated sigmoid table)", in_place=_UNARY,
           args=(*_io(_I16, _I16), _size(), _attr("input_mult"), _attr("input_left_shift"))),
    Kernel("utc_tanh_s16", qnn.Tanh16Op, "int16", _ACT_S16,
           "16x8 tanh (TFLite's interpolated sigmoid table)", in_place=_UNARY,
           args=(*_io(_I16, _I16), _size(), _attr("input_mult"), _attr("input_left_shift"))),
    Kernel("utc_hard_swish_s8", qnn.HardSwishOp, "int8", _S8X + _ACT_S8, "int8 hard swish",
           in_place=_UNARY,
           args=(*_io(_I8, _I8), _size(), _attr("input_zp"), _attr("output_zp"),
                 _attr("reluish_mult"), _attr("reluish_shift"), _attr("output_mult"),
                 _attr("output_shift"))),
    Kernel("utc_leaky_relu_s8", qnn.LeakyReluOp, "int8", _S8X + _ACT_S8, "int8 leaky relu",
           in_place=_UNARY,
           args=(*_io(_I8, _I8), _size(), _attr("input_zp"), _attr("output_zp"),
                 _attr("identity_mult"), _attr("identity_shift"), _attr("alpha_mult"),
                 _attr("alpha_shift"))),
    Kernel("utc_leaky_relu_s16", qnn.LeakyReluOp, "int16", _S8X + _ACT_S8,
           "16x8 leaky relu", in_place=_UNARY,
           args=(*_io(_I16, _I16), _size(), _attr("input_zp"), _attr("output_zp"),
                 _attr("identity_mult"), _attr("identity_shift"), _attr("alpha_mult"),
                 _attr("alpha_shift"))),
    Kernel("utc_prelu_s8", qnn.PreluOp, "int8", _S8X + _ACT_S8,
           "int8 prelu with broadcast alpha", in_place=_UNARY,
           args=(*_prelu_io(_I8), _attr("input_zp"), _attr("alpha_zp"), _attr("output_zp"),
                 _attr("identity_mult"), _attr("identity_shift"), _attr("alpha_mult"),
                 _attr("alpha_shift"))),
    Kernel("utc_quantize_f32_s8", qnn.QuantizeOp, "int8", _S8X + _ACT_S8,
           "float32 -> int8 quantization",
           args=(*_io(_F32, _I8), _size(), Arg("scale", "float", lambda c: f32_literal(c.attrs["scale"])),
                 _attr("zp"))),
    Kernel("utc_dequantize_s8_f32", qnn.DequantizeOp, "float32", _S8X + _ACT_S8,
           "int8 -> float32 dequantization", constraint=_input_int8,
           args=(*_io(_I8, _F32), _size(), Arg("scale", "float", lambda c: f32_literal(c.attrs["scale"])),
                 _attr("zp"))),
    Kernel("utc_fully_connected_s16", qnn.FullyConnectedOp, "int16",
           _S8 + ("utc_quant16.h",) + _files("utc_fully_connected_s16"),
           "16x8 fully connected (int16 activations, int8 weights, int64 bias)",
           cost=fully_connected_macs, constraint=_weights_16x8,
           args=(_buf("input", f"const {_I16} *"), _buf("filter", f"const {_I8} *", "weights"),
                 _buf("bias", "const int64_t *"), _buf("output", f"{_I16} *"),
                 Arg("batches", "int32_t",
                     lambda c: math.prod(c.shape("input")) // c.shape("weights")[1]),
                 _dim("depth", "weights", 1), _dim("units", "weights", 0),
                 _attr("filter_zp", "weights_zp"), _table("mult", "mult"),
                 _table("shift", "shift"),
                 Arg("per_channel", "int32_t", lambda c: int(c.table_len(c.attrs["mult"]) > 1)),
                 *_act_s8())),
    Kernel("utc_quantize_f32_s16", qnn.QuantizeOp, "int16", _S8X + _files("utc_quantize_s16"),
           "float32 -> int16 quantization",
           args=(*_io(_F32, _I16), _size(),
                 Arg("scale", "float", lambda c: f32_literal(c.attrs["scale"])), _attr("zp"))),
    Kernel("utc_dequantize_s16_f32", qnn.DequantizeOp, "float32",
           _S8X + _files("utc_quantize_s16"), "int16 -> float32 dequantization",
           constraint=_input_int16,
           args=(*_io(_I16, _F32), _size(),
                 Arg("scale", "float", lambda c: f32_literal(c.attrs["scale"])), _attr("zp"))),
    *(Kernel(name, qnn.RequantizeOp, out_dtype, _S8X + _files("utc_quantize_s16"), summary,
             constraint=constraint, in_place=_UNARY if cin == cout else (),
             args=(*_io(cin, cout), _size(), _attr("input_zp"), _attr("output_zp"),
                   _attr("mult"), _attr("shift"), *_act_s8()))
      for name, out_dtype, cin, cout, constraint, summary in (
          ("utc_requantize_s16", "int16", _I16, _I16, _input_int16,
           "int16 rescale and clamp (QUANTIZE int16 -> int16)"),
          ("utc_requantize_s8_s16", "int16", _I8, _I16, _input_int8,
           "int8 -> int16 rescale (QUANTIZE)"),
          ("utc_requantize_s16_s8", "int8", _I16, _I8, _input_int16,
           "int16 -> int8 rescale (QUANTIZE)"),
          ("utc_requantize_s8_s32", "int32", _I8, "int32_t", _input_int8,
           "int8 -> int32 rescale (QUANTIZE)"),
          ("utc_requantize_s16_s32", "int32", _I16, "int32_t", _input_int16,
           "int16 -> int32 rescale (QUANTIZE)"))),
    Kernel("utc_mean_s8", qnn.MeanOp, "int8", _S8 + _files("utc_reduce_s8"),
           "int8 mean over any axes", cost=input_elements,
           args=(*_io(_I8, _I8), *_mean_axes(), _attr("input_zp"), _attr("output_zp"),
                 _attr("mult"), _attr("shift"))),
    Kernel("utc_mean_s16", qnn.MeanOp, "int16", _S8 + _files("utc_reduce_s8"),
           "16x8 mean over any axes", cost=input_elements,
           args=(*_io(_I16, _I16), *_mean_axes(), _attr("input_zp"), _attr("output_zp"),
                 _attr("mult"), _attr("shift"))),
    Kernel("utc_pad", tensor.PadOp, "any", _MOVE,
           "constant padding (PAD, PADV2), any element type", cost=no_compute,
           args=(*_MOVE_IO, _shape6("in_shape", "input"),
                 Arg("pad_before", "const int32_t *",
                     lambda c: [0] * (6 - len(c.attrs["pads"])) + [int(p[0]) for p in c.attrs["pads"]]),
                 Arg("pad_after", "const int32_t *",
                     lambda c: [0] * (6 - len(c.attrs["pads"])) + [int(p[1]) for p in c.attrs["pads"]]),
                 _ELEM_SIZE, Arg("pad_value", "const void *", _pad_value))),
    Kernel("utc_concatenation", tensor.ConcatenationOp, "any", _MOVE,
           "concatenation along any axis, any element type", cost=no_compute,
           args=(Arg("inputs", "const void *const *", lambda c: c.field("inputs")),
                 Arg("input_axis_bytes", "const int32_t *", lambda c: _chunks(c, "inputs")[1]),
                 Arg("num_inputs", "int32_t", lambda c: len(c.field("inputs"))),
                 Arg("outer", "int32_t", lambda c: _chunks(c, "inputs")[0]),
                 _buf("output", "void *"))),
    Kernel("utc_transpose", tensor.TransposeOp, "any", _MOVE,
           "transpose up to 6-D, any element type", cost=no_compute,
           args=(*_MOVE_IO, _shape6("in_shape", "input"),
                 Arg("perm", "const int32_t *",
                     lambda c: slice_math.transpose_perm6(c.attrs["perm"])),
                 _ELEM_SIZE)),
    Kernel("utc_strided_slice", tensor.StridedSliceOp, "any", _MOVE,
           "strided slice up to 6-D, any element type", cost=no_compute,
           args=(*_MOVE_IO, _shape6("in_shape", "input"), _strided("begin", "begin", 0),
                 _strided("strides", "strides", 1),
                 Arg("out_shape", "const int32_t *", lambda c: shape6(c.attrs["shape"])),
                 _ELEM_SIZE)),
    Kernel("utc_split", tensor.SplitOp, "any", _MOVE,
           "split along any axis (SPLIT, SPLIT_V), any element type", cost=no_compute,
           args=(_buf("input", "const void *"),
                 Arg("outputs", "void *const *", lambda c: c.field("outputs")),
                 Arg("output_axis_bytes", "const int32_t *", lambda c: _chunks(c, "outputs")[1]),
                 Arg("num_outputs", "int32_t", lambda c: len(c.field("outputs"))),
                 Arg("outer", "int32_t", lambda c: _chunks(c, "outputs")[0]))),
    Kernel("utc_gather", tensor.GatherOp, "any", _MOVE,
           "gather slices by int32 indices along any axis, with batch dims, any element type",
           cost=no_compute,
           args=(_buf("input", "const void *"), _buf("indices", "const int32_t *"),
                 _buf("output", "void *"),
                 *(_gather_arg(n) for n in ("batches", "outer", "axis_size", "coords",
                                            "inner_bytes")))),
    Kernel("utc_broadcast_to", tensor.BroadcastToOp, "any", _MOVE,
           "broadcast up to 6-D (BROADCAST_TO, FILL with a computed value), any element type",
           cost=no_compute,
           args=(*_MOVE_IO, _shape6("in_shape", "input"), _shape6("out_shape", "output"),
                 _ELEM_SIZE)),
    # comparisons (bool results), the logical operators and SELECT_V2 (utc_compare)
    Kernel("utc_compare_s8_bool", qnn.CompareOp, "bool", _S8X + _files("utc_compare"),
           "int8 broadcasting comparison (TFLite's rescaling of both inputs)",
           constraint=_broadcast_4d, in_place=_BINARY,
           args=_compare_args(_I8, (_attr("in1_zp", "lhs_zp"), _attr("in2_zp", "rhs_zp"),
                                    _attr("left_shift"), _attr("in1_mult", "lhs_mult"),
                                    _attr("in1_shift", "lhs_shift"),
                                    _attr("in2_mult", "rhs_mult"),
                                    _attr("in2_shift", "rhs_shift")))),
    *(Kernel(f"utc_compare_{suffix}", tensor.CompareOp, "bool", _S8X + _files("utc_compare"),
             f"{dtype} broadcasting comparison", constraint=check, in_place=_BINARY,
             args=_compare_args(ctype))
      for suffix, dtype, ctype, check in (("s32_bool", "int32", "int32_t", _compare_on("i32")),
                                          ("s64_bool", "int64", "int64_t", _compare_on("i64")),
                                          ("f32_bool", "float32", _F32, _compare_on("f32")),
                                          ("bool", "bool", "bool", _compare_on("i1")))),
    Kernel("utc_logical_bool", tensor.LogicalOp, "bool", _S8X + _files("utc_compare"),
           "bool broadcasting LOGICAL_AND / LOGICAL_OR", constraint=_same_shapes_or_broadcast,
           in_place=_BINARY,
           args=(*_binary_args("bool"),
                 Arg("is_or", "int32_t", lambda c: int(c.attrs["kind"] == "or")))),
    Kernel("utc_logical_not_bool", tensor.LogicalNotOp, "bool", _S8X + _files("utc_compare"),
           "bool LOGICAL_NOT", in_place=_UNARY, args=(*_io("bool", "bool"), _size())),
    Kernel("utc_select", tensor.SelectOp, "any", _S8X + _files("utc_compare"),
           "SELECT_V2 with broadcasting up to 6-D, any element type", cost=no_compute,
           in_place=("x", "y"),
           args=(_buf("condition", "const bool *"), _buf("x", "const void *"),
                 _buf("y", "const void *"), _buf("output", "void *"),
                 _shape6("cond_shape", "condition"), _shape6("x_shape", "x"),
                 _shape6("y_shape", "y"), _shape6("out_shape", "output"), _ELEM_SIZE)),
    *(Kernel(f"utc_resize_bilinear_{suffix}", tensor.ResizeBilinearOp, dtype,
             _files("utc_resize"), f"{dtype} bilinear resize (TFLite Micro's arithmetic)",
             args=(*_io(ctype, ctype), _dim("batches", "input", 0), _dim("in_h", "input", 1),
                   _dim("in_w", "input", 2), _dim("depth", "input", 3),
                   _dim("out_h", "output", 1), _dim("out_w", "output", 2), *scales,
                   Arg("half_pixel_centers", "int32_t",
                       lambda c: int(c.attrs["half_pixel_centers"]))))
      for suffix, dtype, ctype, scales in (
          ("f32", "float32", _F32, (_resize_scale("h_scale", 1, "float"),
                                    _resize_scale("w_scale", 2, "float"))),
          ("s8", "int8", _I8, (_resize_scale("h_scale_10", 1, "int32_t"),
                               _resize_scale("w_scale_10", 2, "int32_t"))))),
    Kernel("utc_lookup_s8", qnn.LookupOp, "int8", _files("utc_lookup"),
           "int8 256-entry table lookup (ELU; table computed at compile time)",
           in_place=_UNARY,
           args=(*_io(_I8, _I8), _size(),
                 Arg("table", "const int8_t *", lambda c: c.table(c.attrs["table"])))),
    Kernel("utc_elu_f32", tensor.EluOp, "float32", _files("utc_lookup"), "float32 ELU",
           in_place=_UNARY, args=(*_io(_F32, _F32), _size())),
    Kernel("utc_cumsum_f32", tensor.CumsumOp, "float32", _S8 + _files("utc_cumsum"),
           "float32 running sum along an axis (exclusive, reverse)", in_place=_UNARY,
           args=(*_io(_F32, _F32), *_CUMSUM_SIZES)),
    Kernel("utc_cumsum_s8", qnn.CumsumOp, "int8", _S8 + _files("utc_cumsum"),
           "int8 running sum along an axis (TFLite Micro's rescaling)", in_place=_UNARY,
           args=(*_io(_I8, _I8), *_CUMSUM_SIZES, _attr("input_zp"), _attr("output_zp"),
                 _attr("left_shift"), _attr("input_mult"), _attr("input_shift"),
                 _attr("output_mult"), _attr("output_shift"))),
    # SUM, REDUCE_MAX and CAST
    *(Kernel(f"utc_sum_{suffix}", qnn.SumOp, dtype, _S8 + _files("utc_reduce_s8"),
             f"{what} sum over any axes", cost=input_elements,
             args=(*_io(ctype, ctype), *_mean_axes(), _attr("input_zp"), _attr("output_zp"),
                   _attr("mult"), _attr("shift")))
      for suffix, dtype, ctype, what in (("s8", "int8", _I8, "int8"),
                                         ("s16", "int16", _I16, "16x8"))),
    Kernel("utc_sum_f32", tensor.SumOp, "float32", _files("utc_reduce_generic"),
           "float32 sum over any axes", cost=input_elements,
           args=(*_io(_F32, _F32), *_mean_axes())),
    *(Kernel(f"utc_reduce_max_{suffix}", tensor.ReduceMaxOp, dtype,
             _files("utc_reduce_generic"), f"{dtype} maximum over any axes",
             cost=input_elements, args=(*_io(ctype, ctype), *_mean_axes()))
      for suffix, dtype, ctype in (("s8", "int8", _I8), ("f32", "float32", _F32))),
    Kernel("utc_cast", tensor.CastOp, "any", _files("utc_cast"),
           "CAST between bool, int8, int16, int32, uint32 and float32", in_place=_UNARY,
           args=(_buf("input", "const void *"), _buf("output", "void *"), _size(),
                 Arg("from", "int32_t", lambda c: _CAST_CODE[c.ctype("input")]),
                 Arg("to", "int32_t", lambda c: _CAST_CODE[c.ctype("output")]))),
    *(Kernel(f"utc_{kind}_{suffix}_s32", cls, "int32", _files("utc_arg_min_max"),
             f"{dtype} {kind.upper()} (index of the {best} along one axis)",
             constraint=check, cost=input_elements, args=_arg_args(ctype))
      for kind, cls, best in (("arg_max", tensor.ArgMaxOp, "largest"),
                              ("arg_min", tensor.ArgMinOp, "smallest"))
      for suffix, dtype, check, ctype in (("s8", "int8", _input_int8, _I8),
                                          ("f32", "float32", _input_float32, _F32))),
    # float32 elementwise math (ABS ... LOG), one record per function
    *(Kernel(f"utc_{cls.name.removeprefix('tensor.')}_f32", cls, "float32", _files("utc_math_f32"),
             f"float32 {cls.name.removeprefix('tensor.').upper()}", in_place=_UNARY,
             args=(*_io(_F32, _F32), _size()))
      for cls in (tensor.AbsOp, tensor.NegOp, tensor.FloorOp, tensor.CeilOp, tensor.RoundOp,
                  tensor.SqrtOp, tensor.RsqrtOp, tensor.ExpOp, tensor.LogOp)),
    Kernel("utc_softmax_s8", qnn.SoftmaxOp, "int8", _S8 + _files("utc_softmax_s8"),
           "int8 softmax (fixed-point exp, TFLite Micro arithmetic)", in_place=_UNARY,
           args=(*_io(_I8, _I8), *_SOFTMAX_ROWS, _attr("input_mult"),
                 _attr("input_left_shift"), _attr("diff_min"))),
    Kernel("utc_softmax_s8_s16", qnn.SoftmaxOp, "int16", _S8 + _files("utc_softmax_s8"),
           "int8 -> int16 softmax (fixed-point exp, TFLite Micro arithmetic)",
           args=(*_io(_I8, "int16_t"), *_SOFTMAX_ROWS, _attr("input_mult"),
                 _attr("input_left_shift"), _attr("diff_min"))),
    Kernel("utc_softmax_s16", qnn.Softmax16Op, "int16", _S8 + _files("utc_softmax_s16"),
           "16x8 softmax (TFLite's int16 exp and reciprocal tables, in flash)",
           in_place=_UNARY,
           args=(*_io(_I16, _I16), *_SOFTMAX_ROWS, _attr("input_mult"),
                 _attr("input_left_shift"),
                 Arg("exp_lut", "const int16_t *", lambda c: c.table(c.attrs["exp_lut"])),
                 Arg("recip_lut", "const int16_t *", lambda c: c.table(c.attrs["recip_lut"])))),
    Kernel("utc_softmax_f32", tensor.SoftmaxOp, "float32", _files("utc_softmax_f32"),
           "float32 softmax", in_place=_UNARY,
           args=(*_io(_F32, _F32), *_SOFTMAX_ROWS,
                 Arg("beta", "float", lambda c: f32_literal(c.attrs["beta"])))),
]

#: The byte copy of state variables: `bufferize` calls it for every ASSIGN_VARIABLE and for
#: a READ_VARIABLE whose value must outlive the variable's next write (it makes these
#: calls itself: there is nothing to choose).
STATE_COPY = Kernel("utc_copy", state.CopyOp, "any", _files("utc_state"),
                    "byte copy into or out of a state variable (ASSIGN_VARIABLE, "
                    "READ_VARIABLE)", cost=no_compute,
                    args=(*_MOVE_IO, Arg("bytes", "int32_t", lambda c: math.prod(
                        c.shape("output")) * c.byte_width("output"))))
KERNELS.append(STATE_COPY)

#: The byte move of patch-based execution (`patch-stages` makes these calls itself): rows a
#: band buffer keeps move to its front. Memmove semantics, so its output may overlap its
#: input anywhere (`move`); it names the state copy's op, whose operands it shares.
MOVE = Kernel("utc_move", state.CopyOp, "any", _files("utc_move"),
              "byte move of kept rows inside a band buffer (patch-stages)", cost=no_compute,
              move=True,
              args=(*_MOVE_IO, Arg("bytes", "int32_t", lambda c: math.prod(
                  c.shape("output")) * c.byte_width("output"))))
KERNELS.append(MOVE)


# ---- recurrent layers ---------------------------------------------------------------------

def _svdf_macs(fields: Fields, params: dict, out: int) -> int:
    """Per batch: num_filters * (input_size + memory_size) MACs (feature and time)."""
    wf = tuple(fields["weights_feature"].type.shape)
    wt = tuple(fields["weights_time"].type.shape)
    batch = tuple(fields["input"].type.shape)[0]
    return batch * wf[0] * (wf[1] + wt[1])


def _svdf_args(ctype_t: str, ctype_io: str, tail: tuple[Arg, ...]) -> tuple[Arg, ...]:
    bias = "float" if ctype_io == _F32 else "int32_t"
    return (_buf("input", f"const {ctype_io} *"), _buf("weights_feature", f"const {ctype_io} *"),
            _buf("weights_time", f"const {ctype_t} *"), _buf("state", f"const {ctype_t} *"),
            _buf("bias", f"const {bias} *"), _buf("output", f"{ctype_io} *"),
            _buf("new_state", f"{ctype_t} *"), _dim("batch", "input", 0),
            _dim("input_size", "input", 1), _dim("num_filters", "weights_feature", 0),
            _dim("memory_size", "weights_time", 1), _attr("rank"), *tail)


def _svdf_state(storage: str) -> Callable[[Operation, Target], str | None]:
    def constraint(op: Operation, target: Target) -> str | None:
        return None if _storage(op.operand("state")) == storage else \
            f"the state is not {storage.replace('i', 'int')}"

    constraint.__doc__ = f"{storage.replace('i', 'int')} activation state and time weights."
    return constraint


_SVDF_S8 = (_attr("input_zp"), _attr("state_zp"), _attr("output_zp"), _attr("feature_mult"),
            _attr("feature_shift"), _attr("time_mult"), _attr("time_shift"))
_SVDF_ACT = {"none": 0, "relu": 1, "relu_n1_to_1": 2, "relu6": 3, "tanh": 4}
_SVDF_STATE = (("state", "new_state"),)
_LSTM_STATE = (("hidden_state", "new_hidden_state"), ("cell_state", "new_cell_state"))

#: SVDF. The state operand is the variable's own buffer (a shared `state.read`) and
#: new_state an arena buffer `bufferize` copies back (ASSIGN-style `state.copy`). CMSIS-NN
#: claims the int8 ones (runtime/cmsis_nn.py): arm_svdf_s8 (int8 state) and
#: arm_svdf_state_s16_s8 (int16 state) shift the same [batch, filters, memory] state
#: through one pointer, so only where it is updated in place, with state zero point 0,
#: and need two int32 scratch buffers (batch x filters, batch x units); utc's need none.
KERNELS += [
    Kernel("utc_svdf_s8", qnn.SvdfOp, "int8", _S8 + _files("utc_svdf"),
           "int8 SVDF with int8 activation state (TFLite Micro arithmetic)",
           constraint=_svdf_state("i8"), cost=_svdf_macs, state_in_place=_SVDF_STATE,
           unused=lambda target: ("kernel_sums",),  # fold-zero-point's, for arm_svdf_s8
           args=_svdf_args(_I8, _I8, _SVDF_S8)),
    Kernel("utc_svdf_state16_s8", qnn.SvdfOp, "int8", _S8 + _files("utc_svdf"),
           "int8 SVDF with int16 activation state (TFLite Micro arithmetic)",
           constraint=_svdf_state("i16"), cost=_svdf_macs, state_in_place=_SVDF_STATE,
           args=_svdf_args(_I16, _I8, _SVDF_S8)),
    Kernel("utc_svdf_f32", tensor.SvdfOp, "float32", _S8 + _files("utc_svdf"),
           "float32 SVDF with its fused activation", cost=_svdf_macs, state_in_place=_SVDF_STATE,
           args=_svdf_args(_F32, _F32, (Arg("act", "int32_t",
                                            lambda c: _SVDF_ACT[c.attrs["act"]]),))),
]


def _lstm_macs(fields: Fields, params: dict, out: int) -> int:
    """Per output element: four gates of input_size + state_size MACs."""
    x = tuple(fields["input"].type.shape)
    h = tuple(fields["hidden_state"].type.shape)
    return out * 4 * (x[2] + h[1])


def _lstm_scratch(op: Operation, target: Target) -> int:
    """One row of the new hidden state (every gate of the step reads the old one)."""
    return op.operand("hidden_state").type.shape[1] * 4


_LSTM_GATE_ARGS = tuple(
    _buf(f"{prefix}_{short}", "const float *", f"{gate}_{role}")
    for prefix, role in (("w", "input_weights"), ("r", "recurrent_weights"), ("b", "bias"))
    for gate, short in (("input_gate", "input"), ("forget_gate", "forget"),
                        ("cell_gate", "cell"), ("output_gate", "output")))

def _lstm_s8_scratch(op: Operation, target: Target) -> int:
    """One int8 row of the new hidden state."""
    return op.operand("hidden_state").type.shape[1]


_LSTM_SIZES = (Arg("batch", "int32_t", lambda c: c.shape("hidden_state")[0]),
               Arg("time_steps", "int32_t", lambda c: math.prod(c.shape("input")[:2])
                   // c.shape("hidden_state")[0]),
               _dim("input_size", "input", 2), _dim("state_size", "hidden_state", 1),
               Arg("time_major", "int32_t", lambda c: int(bool(c.attrs["time_major"]))))

def _lstm_q_args(act: str, bias: str) -> tuple[Arg, ...]:
    gates = tuple(
        _buf(f"{prefix}_{short}", f"const {ctype} *", f"{gate}_{role}")
        for prefix, role, ctype in (("w", "input_weights", _I8), ("r", "recurrent_weights", _I8),
                                    ("b", "bias", bias))
        for gate, short in (("input_gate", "input"), ("forget_gate", "forget"),
                            ("cell_gate", "cell"), ("output_gate", "output")))
    return (_buf("input", f"const {act} *"), *gates,
            _buf("hidden_state", f"const {act} *"), _buf("cell_state", "const int16_t *"),
            _buf("output", f"{act} *"), _buf("new_hidden_state", f"{act} *"),
            _buf("new_cell_state", "int16_t *"),
            Arg("scratch", "void *", lambda c: c.scratch()[0]), *_LSTM_SIZES,
            _attr("input_zp"), _attr("hidden_zp"),
            *(_attr(f"{short}_{kind}_{m}", f"{gate}_{kind}_{m}")
              for gate, short in (("input_gate", "input"), ("forget_gate", "forget"),
                                  ("cell_gate", "cell"), ("output_gate", "output"))
              for kind in ("input", "recurrent") for m in ("mult", "shift")),
            *(_attr(n) for n in ("forget_cell_mult", "forget_cell_shift", "input_cell_mult",
                                 "input_cell_shift", "hidden_mult", "hidden_shift",
                                 "cell_scale_power", "cell_clip")))


def _lstm_s16_scratch(op: Operation, target: Target) -> int:
    """One int16 row of the new hidden state."""
    return op.operand("hidden_state").type.shape[1] * 2


#: The int8 and 16x8 LSTMs. CMSIS-NN claims them (runtime/cmsis_nn.py:
#: arm_lstm_unidirectional_s8 and _s16) where its arithmetic provably equals TFLite Micro's
#: (passes/quantmath/lstm_cmsis.py: its gates add the recurrent half unclamped, the 16x8
#: one sums in int32) and both states are updated in place; utc's kernels run the rest
#: and do not read the tables fold-zero-point computes for CMSIS-NN.
_LSTM_FILES = ("utc_quant16.h", "utc_sigmoid_table.h") + _files("utc_lstm")
#: fold-zero-point's tables for CMSIS-NN (runtime/cmsis_nn.py), which utc's kernels do not read
_LSTM_CMSIS_TABLES = lambda target: CMSIS_LSTM_ATTRS  # noqa: E731
KERNELS += [
    Kernel("utc_lstm_s8", qnn.LstmOp, "int8", _S8 + _LSTM_FILES,
           "int8 unidirectional sequence LSTM, int16 cell state (TFLite Micro's integer "
           "gate arithmetic)", scratch=_lstm_s8_scratch, cost=_lstm_macs,
           state_in_place=_LSTM_STATE, params="utc_lstm_s8_params",
           unused=_LSTM_CMSIS_TABLES,
           args=_lstm_q_args(_I8, "int32_t")),
    Kernel("utc_lstm_s16", qnn.LstmOp, "int16", _S8 + _LSTM_FILES,
           "16x8 unidirectional sequence LSTM, int16 cell state (TFLite Micro's integer gate "
           "arithmetic, int64 accumulators)", scratch=_lstm_s16_scratch, cost=_lstm_macs,
           state_in_place=_LSTM_STATE, params="utc_lstm_s16_params",
           unused=_LSTM_CMSIS_TABLES,
           args=_lstm_q_args(_I16, "int64_t")),
]

#: UNIDIRECTIONAL_SEQUENCE_LSTM, float32 (CMSIS-NN has no float LSTM).
KERNELS.append(
    Kernel("utc_lstm_f32", tensor.LstmOp, "float32", _S8 + _LSTM_FILES,
           "float32 unidirectional sequence LSTM (TFLite Micro's gate order and arithmetic)",
           scratch=_lstm_scratch, cost=_lstm_macs, state_in_place=_LSTM_STATE,
           args=(_buf("input", "const float *"), *_LSTM_GATE_ARGS,
                 _buf("hidden_state", "const float *"), _buf("cell_state", "const float *"),
                 _buf("output", "float *"), _buf("new_hidden_state", "float *"),
                 _buf("new_cell_state", "float *"),
                 Arg("scratch", "void *", lambda c: c.scratch()[0]),
                 Arg("batch", "int32_t", lambda c: c.shape("hidden_state")[0]),
                 Arg("time_steps", "int32_t", lambda c: math.prod(c.shape("input")[:2])
                     // c.shape("hidden_state")[0]),
                 _dim("input_size", "input", 2), _dim("state_size", "hidden_state", 1),
                 Arg("time_major", "int32_t", lambda c: int(bool(c.attrs["time_major"]))),
                 Arg("cell_clip", "float", lambda c: f32_literal(c.attrs["cell_clip"])))))


# ---- TFLite Micro's signal library (the Signal* custom operators) ------------------------
_SIGNAL = _files("utc_signal")


def _rfft_scratch(op: Operation, target: Target) -> int:
    """The zero-padded row and the complex FFT's output: 2 * fft_length elements."""
    return 2 * int(op.attrs["fft_length"]) * op.input.type.element.byte_width


def _rfft_kernel(suffix: str, dtype: str, ctype: str) -> Kernel:
    return Kernel(f"utc_signal_rfft_{suffix}", signal.RfftOp, dtype, _SIGNAL,
                  f"{dtype} real FFT (kissfft arithmetic, SignalRfft)", scratch=_rfft_scratch,
                  cost=input_elements,
                  args=(_buf("input", f"const {ctype} *"), _buf("output", f"{ctype} *"),
                        Arg("scratch", "void *", lambda c: c.scratch()[0]),
                        Arg("rows", "int32_t", lambda c: math.prod(c.shape("input")[:-1])),
                        _dim("input_length", "input", -1), _attr("fft_length"),
                        _table("factors", "factors"),
                        Arg("twiddles", f"const {ctype} *", lambda c: c.table(c.attrs["twiddles"])),
                        Arg("super_twiddles", f"const {ctype} *",
                            lambda c: c.table(c.attrs["super_twiddles"]))))


def _irfft_scratch(op: Operation, target: Target) -> int:
    """The folded spectrum: fft_length elements."""
    return int(op.attrs["fft_length"]) * op.input.type.element.byte_width


def _irfft_kernel(suffix: str, dtype: str, ctype: str) -> Kernel:
    return Kernel(f"utc_signal_irfft_{suffix}", signal.IrfftOp, dtype, _SIGNAL,
                  f"{dtype} inverse real FFT (kissfft arithmetic, SignalIrfft)",
                  scratch=_irfft_scratch, cost=input_elements,
                  args=(_buf("input", f"const {ctype} *"), _buf("output", f"{ctype} *"),
                        Arg("scratch", "void *", lambda c: c.scratch()[0]),
                        Arg("rows", "int32_t", lambda c: math.prod(c.shape("input")[:-1])),
                        _attr("fft_length"), _table("factors", "factors"),
                        Arg("twiddles", f"const {ctype} *", lambda c: c.table(c.attrs["twiddles"])),
                        Arg("super_twiddles", f"const {ctype} *",
                            lambda c: c.table(c.attrs["super_twiddles"]))))


def _optional_buf(name: str, ctype: str, field: str) -> Arg:
    """A buffer an op may lack (a delay of 0 keeps no samples): NULL then."""
    def value(c: CallView) -> str:
        v = c.field(field)
        return (v[0] if v else "NULL") if isinstance(v, list) else v
    return Arg(name, ctype, value)


def _overlap_add_kernel(suffix: str, dtype: str, ctype: str) -> Kernel:
    return Kernel(f"utc_signal_overlap_add_{suffix}", signal.OverlapAddOp, dtype, _SIGNAL,
                  f"{dtype} overlap-add, running buffer in state (SignalOverlapAdd)",
                  cost=input_elements,
                  args=(_buf("input", f"const {ctype} *"), _buf("state_in", f"const {ctype} *", "state"),
                        _buf("output", f"{ctype} *"), _buf("state_out", f"{ctype} *", "buffer"),
                        Arg("rows", "int32_t", lambda c: math.prod(c.shape("input")[:-2])),
                        _dim("frames", "input", -2), _dim("frame_size", "input", -1),
                        _attr("frame_step")))


KERNELS += [
    Kernel("utc_signal_window_s16", signal.WindowOp, "int16", _SIGNAL,
           "int16 window (SignalWindow)", in_place=("input",),
           args=(_buf("input", "const int16_t *"), _buf("weights", "const int16_t *"),
                 _buf("output", "int16_t *"), _size(), _dim("window_size", "weights", 0),
                 _attr("shift"))),
    Kernel("utc_signal_fft_auto_scale_s16", signal.FftAutoScaleOp, "int16", _SIGNAL,
           "int16 FFT auto scale (SignalFftAutoScale)", in_place=("input",),
           args=(_buf("input", "const int16_t *"), _buf("output", "int16_t *"),
                 _buf("scale_bit", "int32_t *"), _size())),
    _rfft_kernel("s16", "int16", "int16_t"),
    _rfft_kernel("s32", "int32", "int32_t"),
    _rfft_kernel("f32", "float32", "float"),
    Kernel("utc_signal_energy_u32", signal.EnergyOp, "uint32", _SIGNAL,
           "complex int16 -> uint32 energy (SignalEnergy)",
           args=(_buf("input", "const int16_t *"), _buf("output", "uint32_t *"), _size(),
                 _attr("start_index"), _attr("end_index"))),
    Kernel("utc_signal_filter_bank_u64", signal.FilterBankOp, "uint64", _SIGNAL,
           "uint32 -> uint64 mel filter bank (SignalFilterBank)", cost=input_elements,
           args=(_buf("input", "const uint32_t *"), _buf("weights", "const int16_t *"),
                 _buf("unweights", "const int16_t *"),
                 _buf("frequency_starts", "const int16_t *", "channel_frequency_starts"),
                 _buf("weight_starts", "const int16_t *", "channel_weight_starts"),
                 _buf("widths", "const int16_t *", "channel_widths"),
                 _buf("output", "uint64_t *"), _attr("num_channels"))),
    Kernel("utc_signal_filter_bank_square_root_u32", signal.FilterBankSquareRootOp, "uint32",
           _SIGNAL, "uint64 -> uint32 square root (SignalFilterBankSquareRoot)",
           args=(_buf("input", "const uint64_t *"), _buf("scale_bits", "const int32_t *"),
                 _buf("output", "uint32_t *"), _size())),
    Kernel("utc_signal_filter_bank_log_s16", signal.FilterBankLogOp, "int16", _SIGNAL,
           "uint32 -> int16 log (SignalFilterBankLog)",
           args=(_buf("input", "const uint32_t *"), _buf("output", "int16_t *"), _size(),
                 _attr("output_scale"), _attr("input_correction_bits"))),
    Kernel("utc_signal_pcan_u32", signal.PcanOp, "uint32", _SIGNAL,
           "uint32 per-channel amplitude normalization (SignalPCAN)",
           in_place=("input", "noise_estimate"),
           args=(_buf("input", "const uint32_t *"), _buf("noise_estimate", "const uint32_t *"),
                 _buf("gain_lut", "const int16_t *"), _buf("output", "uint32_t *"), _size(),
                 _attr("snr_shift"))),
    Kernel("utc_signal_spectral_subtraction_u32", signal.SpectralSubtractionOp, "uint32", _SIGNAL,
           "uint32 spectral subtraction, noise estimate in state "
           "(SignalFilterBankSpectralSubtraction)", in_place=("input",),
           args=(_buf("input", "const uint32_t *"), _buf("state", "const uint32_t *"),
                 _buf("output", "uint32_t *"), _buf("noise", "uint32_t *", "noise_estimate"),
                 _size(), _attr("smoothing"), _attr("one_minus_smoothing"),
                 _attr("alternate_smoothing"), _attr("alternate_one_minus_smoothing"),
                 _attr("smoothing_bits"), _attr("min_signal_remaining"),
                 _attr("spectral_subtraction_bits"),
                 Arg("clamping", "int32_t", lambda c: int(bool(c.attrs["clamping"]))))),
    Kernel("utc_signal_framer_s16", signal.FramerOp, "int16", _SIGNAL,
           "int16 framer with prefill, history in state (SignalFramer)", cost=no_compute,
           args=(_buf("input", "const int16_t *"), _buf("history_in", "const int16_t *", "state"),
                 _buf("output", "int16_t *"), _buf("valid", "bool *"),
                 _optional_buf("history_out", "int16_t *", "history"),
                 Arg("outer", "int32_t", lambda c: math.prod(c.shape("input")[:-1])),
                 _dim("inner", "input", -1), _attr("frame_size"), _attr("frame_step"))),
    _irfft_kernel("s16", "int16", "int16_t"),
    _irfft_kernel("s32", "int32", "int32_t"),
    _irfft_kernel("f32", "float32", "float"),
    Kernel("utc_signal_delay_s16", signal.DelayOp, "int16", _SIGNAL,
           "int16 delay, delayed samples in state (SignalDelay)", cost=no_compute,
           args=(_buf("input", "const int16_t *"),
                 _optional_buf("held_in", "const int16_t *", "state"),
                 _buf("output", "int16_t *"), _optional_buf("held_out", "int16_t *", "history"),
                 Arg("rows", "int32_t", lambda c: math.prod(c.shape("input")[:-1])),
                 _dim("frame_size", "input", -1), _attr("delay_length"))),
    _overlap_add_kernel("s16", "int16", "int16_t"),
    _overlap_add_kernel("f32", "float32", "float"),
    Kernel("utc_signal_stacker_s16", signal.StackerOp, "int16", _SIGNAL,
           "int16 stacker, held frames in state (SignalStacker)", cost=no_compute,
           args=(_buf("input", "const int16_t *"), _buf("held_in", "const int16_t *", "held"),
                 _buf("count_in", "const int32_t *", "count"), _buf("output", "int16_t *"),
                 _buf("valid", "bool *"), _buf("held_out", "int16_t *", "held_next"),
                 _buf("count_out", "int32_t *", "count_next"), _attr("num_channels"),
                 _attr("left_context", "stacker_left_context"),
                 _attr("right_context", "stacker_right_context"), _attr("step", "stacker_step"))),
]

KERNELS += CMSIS_NN_KERNELS

#: kernel name -> record
KERNELS_BY_NAME: dict[str, Kernel] = {k.name: k for k in KERNELS}


def call_macs(call) -> int:
    """Multiply-accumulates of one kernel call (`buf.call`; the usual figure to compare
    layers by), from the cost function of the kernel's record: conv out_elems * kh * kw *
    in_c, depthwise out_elems * kh * kw, fully connected out_elems * depth, pooling
    out_elems * kh * kw, reductions in_elems, elementwise and activations out_elems, data
    movement 0. A kernel without a record (a plugin's) counts one operation per output
    element: a report or a plan must never be the reason a compile breaks."""
    from utc.dialects import buf

    outs = [v for v in call.outputs if not buf.is_scratch(v)]
    out = sum(v.type.num_elements for v in outs)
    kernel = KERNELS_BY_NAME.get(call.callee)
    if kernel is None:
        return int(out)
    return int(kernel.cost(kernel.fields(call.inputs, outs), call.attrs, out))

