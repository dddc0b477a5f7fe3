"""Vocabulary shared by several dialects: activation names, padding modes, type checks,
and the op families whose fields the tensor, fused and qnn levels declare once."""

from __future__ import annotations

from utc.compiler.ir import (
    F32,
    I32,
    Ints,
    Operation,
    PerAxisQuantizedType,
    QuantizedType,
    ResourceRef,
    TensorType,
    attr,
    operand,
    result,
)

#: Fused activation functions, with TFLite's meaning.
ACTIVATIONS = ("none", "relu", "relu_n1_to_1", "relu6", "tanh")
PADDINGS = ("SAME", "VALID")


def check_activation(op: Operation, key: str = "act") -> None:
    if op.attrs[key] not in ACTIVATIONS:
        raise op.error(f"unknown activation '{op.attrs[key]}' (expected one of {ACTIVATIONS})")


def check_pair(op: Operation, key: str, minimum: int = 1) -> None:
    value = op.attrs[key]
    if len(value) != 2 or any(not isinstance(v, int) or v < minimum for v in value):
        raise op.error(f"'{key}' must be two integers >= {minimum}, got {list(value)}")


def check_rank(op: Operation, field: str, *ranks: int) -> None:
    value = op.operand(field)
    if value is None:
        return
    if not isinstance(value.type, TensorType) or value.type.rank not in ranks:
        raise op.error(f"operand '{field}' must be a tensor of rank {ranks}, got {value.type}")


def same_element(op: Operation, *fields: str) -> None:
    """Element types (incl. quantization) of these operands/the result must be equal."""
    types = [op.operand(f).type.element for f in fields if op.operand(f) is not None]
    types.append(op.result.type.element)
    if any(t != types[0] for t in types):
        raise op.error(f"element types must match: {', '.join(str(t) for t in types)}")


class KernelChoice:
    """The family of ops a kernel runs. select-kernels sets, on every op it assigns a
    kernel to: the kernel record's name, its scratch bytes on the target, and why a
    preferred library's kernel was not chosen."""

    kernel = attr(str, optional=True)
    scratch = attr(int, optional=True)
    kernel_note = attr(str, optional=True)


def check_pads(op: Operation, key: str = "pad") -> None:
    value = op.attrs[key]
    if len(value) != 4 or any(not isinstance(v, int) or v < 0 for v in value):
        raise op.error(f"'{key}' must be [top, bottom, left, right] >= 0, got {list(value)}")


# ---- shape rules shared by the tensor, fused and qnn levels -----------------------------
# A model file is untrusted: the shapes it declares are checked against the shapes its
# inputs and options imply, so no kernel is ever called with arrays smaller than the
# loops it runs over. The same functions guard IR text given to `utc opt`.

def window_output_size(op: Operation, axis: str, size: int, window: int, stride: int,
                       dilation: int, before: int, after: int) -> int:
    """Output length of a sliding window (convolution/pooling) over explicit padding."""
    extent = (window - 1) * dilation + 1
    out = (size + before + after - extent) // stride + 1
    if out < 1:
        raise op.error(f"the {axis} window of {extent} does not fit the padded {axis} "
                       f"{size + before + after}")
    return out


def explicit_pads(op: Operation, x: TensorType, window: tuple[int, int]) -> tuple[int, ...]:
    """[top, bottom, left, right]: `pad` at the fused/qnn levels, from SAME/VALID at the
    tensor level (TFLite's padding arithmetic)."""
    if "pad" in op.attrs:
        return tuple(op.attrs["pad"])
    from utc.dialects.shape_math import same_padding, valid_padding

    rule = same_padding if op.attrs["padding"] == "SAME" else valid_padding
    dilation = op.attrs.get("dilation", (1, 1))
    _, top, bottom = rule(x.shape[1], window[0], op.attrs["stride"][0], dilation[0])
    _, left, right = rule(x.shape[2], window[1], op.attrs["stride"][1], dilation[1])
    return top, bottom, left, right


def _check_per_axis(op: Operation, field: str, axis: int, channels: int) -> None:
    value = op.operand(field)
    if value is None or not isinstance(value.type.element, PerAxisQuantizedType):
        return
    element = value.type.element
    if element.axis != axis or len(element.scales) != channels:
        raise op.error(f"operand '{field}' must be quantized per channel along dimension "
                       f"{axis} with {channels} scales, got {value.type}")


def check_window_shapes(op: Operation, kind: str) -> None:
    """Shapes of a convolution ('conv'), depthwise convolution ('depthwise') or pooling
    ('pool'): NHWC input, the filter's depth, the bias length, per-channel quantization
    counts, and the output shape the window arithmetic gives."""
    x = op.operand("input").type
    check_rank(op, "input", 4)
    y = op.result.type
    if kind == "pool":
        window = tuple(op.attrs["window"])
        channels = x.shape[3]
    else:
        check_rank(op, "filter", 4)
        w = op.operand("filter").type
        window = (w.shape[1], w.shape[2])
        if kind == "conv":
            channels = w.shape[0]
            if w.shape[3] != x.shape[3]:
                raise op.error(f"filter depth {w.shape[3]} differs from input depth {x.shape[3]}")
            _check_per_axis(op, "filter", 0, channels)
        else:
            channels = w.shape[3]
            if w.shape[0] != 1 or channels != x.shape[3] * op.attrs["depth_multiplier"]:
                raise op.error(f"depthwise filter {list(w.shape)} does not match input depth "
                               f"{x.shape[3]} times depth multiplier "
                               f"{op.attrs['depth_multiplier']}")
            _check_per_axis(op, "filter", 3, channels)
        bias = op.operand("bias")
        if bias is not None:
            if bias.type.shape != (channels,):
                raise op.error(f"bias {bias.type} must have {channels} elements, one per "
                               "output channel")
            _check_per_axis(op, "bias", 0, channels)
    top, bottom, left, right = explicit_pads(op, x, window)
    stride = op.attrs["stride"]
    dilation = op.attrs.get("dilation", (1, 1))
    want = (x.shape[0],
            window_output_size(op, "height", x.shape[1], window[0], stride[0], dilation[0],
                               top, bottom),
            window_output_size(op, "width", x.shape[2], window[1], stride[1], dilation[1],
                               left, right),
            channels)
    if y.shape != want:
        raise op.error(f"the output must have shape {list(want)}, the model says {y}")


def check_fully_connected_shapes(op: Operation) -> None:
    """weights [units, depth]; the input holds whole rows of `depth`; the output holds
    one row of `units` per input row; bias and per-channel scales one per unit."""
    check_rank(op, "weights", 2)
    x, w, y = op.operand("input").type, op.operand("weights").type, op.result.type
    units, depth = w.shape
    if x.rank < 1 or x.num_elements % depth:
        raise op.error(f"input {x} does not hold whole rows of the weights' depth {depth}")
    rows = x.num_elements // depth
    if y.rank < 1 or y.shape[-1] != units or y.num_elements != rows * units:
        raise op.error(f"the output must hold {rows} rows of {units} units, the model says {y}")
    if op.attrs.get("keep_num_dims") and x.shape[-1] != depth:
        raise op.error(f"keep_num_dims needs the input's last dimension to be {depth}, "
                       f"got {x}")
    _check_per_axis(op, "weights", 0, units)
    bias = op.operand("bias")
    if bias is not None:
        if bias.type.shape != (units,):
            raise op.error(f"bias {bias.type} must have {units} elements, one per unit")
        _check_per_axis(op, "bias", 0, units)


def broadcast_shape(op: Operation, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy/TFLite broadcasting of two shapes (trailing dimensions aligned)."""
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + tuple(a)
    b = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for da, db in zip(a, b):
        if da != db and 1 not in (da, db):
            raise op.error(f"shapes {list(a)} and {list(b)} do not broadcast")
        out.append(max(da, db))
    return tuple(out)


def check_broadcast_result(op: Operation, lhs: str, rhs: str) -> None:
    want = broadcast_shape(op, op.operand(lhs).type.shape, op.operand(rhs).type.shape)
    if op.result.type.shape != want:
        raise op.error(f"the output must have the broadcast shape {list(want)}, the model says "
                       f"{op.result.type}")


def element_kind(element: object) -> str:
    """'int8' / 'int16' for a per-tensor quantized int8 / int16 element, 'f32' for float32,
    else its text."""
    if isinstance(element, QuantizedType) and str(element.storage) in ("i8", "i16"):
        return {"i8": "int8", "i16": "int16"}[str(element.storage)]
    return "f32" if element == F32 else str(element)


def check_compute_types(op: Operation, *fields: str, results: bool = True,
                        int16: bool = False, int32: bool = False,
                        boolean: bool = False, int64: bool = False) -> None:
    """The activation operands (and results) of a computing op are all per-tensor
    quantized int8 or all float32 (or, for ops implemented in TFLite's 16x8 scheme,
    `int16`, all int16; for ops TFLite Micro also runs on plain int32 tensors, `int32`,
    all unquantized int32; where it also runs plain int64, `int64`, all int64; on bool
    tensors, `boolean`, all bool): a damaged dtype or a lost
    quantization must not reach a lowering that reads scales, or a kernel that reads the
    wrong element size."""
    values = []
    for f in fields:
        if f"{f}*" in type(op).operands:
            values += op.operand_group(f)
        elif op.operand(f) is not None:
            values.append(op.operand(f))
    if results:
        values += op.result_values
    kinds = {element_kind(v.type.element) for v in values}
    allowed = {"int8", "int16", "f32"} if int16 else {"int8", "f32"}
    if int32:
        allowed.add("i32")
    if boolean:
        allowed.add("i1")
    if int64:
        allowed.add("i64")
    if len(kinds) != 1 or not kinds <= allowed:
        what = ("int8, all int16" if int16 else "int8") + (", all int32" if int32 else "") + \
            (", all int64" if int64 else "") + (", all bool" if boolean else "")
        raise op.error(f"operands and results must all be per-tensor quantized {what} or all "
                       f"float32, got {', '.join(str(v.type) for v in values)}")


def check_weight_types(op: Operation, weights: str) -> None:
    """int8 ops: int8 weights (per tensor or per channel) and an int32 bias; 16x8 ops:
    int8 weights and an int64 bias; float ops: float32 weights and bias."""
    w = op.operand(weights).type.element
    bias = op.operand("bias")
    if element_kind(op.operand("input").type.element) == "int16":
        if not isinstance(w, (QuantizedType, PerAxisQuantizedType)) or str(w.storage) != "i8":
            raise op.error(f"16x8 {op.name} needs quantized int8 {weights}, got {w}")
        if bias is not None and str(getattr(bias.type.element, "storage",
                                            bias.type.element)) != "i64":
            raise op.error(f"16x8 {op.name} needs an int64 bias, got {bias.type.element}")
    elif element_kind(op.operand("input").type.element) == "int8":
        if not isinstance(w, (QuantizedType, PerAxisQuantizedType)) or str(w.storage) != "i8":
            raise op.error(f"int8 {op.name} needs quantized int8 {weights}, got {w}")
        if bias is not None and bias.type.element not in (I32,) and \
                getattr(bias.type.element, "storage", None) != I32:
            raise op.error(f"int8 {op.name} needs an int32 bias, got {bias.type.element}")
    elif w != F32 or (bias is not None and bias.type.element != F32):
        raise op.error(f"float32 {op.name} needs float32 {weights} and bias")


# ---- op families: fields declared once, shared across the levels (compiler/ir/fields.py) --
PAIR = Ints(2, minimum=1)
PADS = Ints(4, minimum=0, names="[top, bottom, left, right]")
CLAMP = Ints(2)


class SlidingWindow:
    """Every sliding-window op (convolution, depthwise convolution, pooling), every level."""

    input = operand()
    output = result()
    stride = attr(PAIR)


class Convolution(SlidingWindow):
    """Convolution and depthwise convolution: a filter, an optional bias, dilation."""

    filter = operand()
    bias = operand(optional=True)
    dilation = attr(PAIR)


class Pooling(SlidingWindow):
    window = attr(PAIR)


class FullyConnected:
    input = operand()
    weights = operand()
    bias = operand(optional=True)
    output = result()


class ImplicitPadding:
    """TFLite's SAME/VALID (the tensor level)."""

    padding = attr(str)


class ExplicitPadding:
    """[top, bottom, left, right] (fused and qnn levels, after the importer resolved it)."""

    pad = attr(PADS)


class NamedActivation:
    """A fused activation by name (tensor and fused levels)."""

    act = attr(str)


class Clamped:
    """An integer clamp [lo, hi] (the qnn level's activation)."""

    act = attr(CLAMP)


class Requantized(Clamped):
    """The qnn level's per-channel requantization: zero points, Q31 multipliers and shifts
    as module resources, and the clamp."""

    input_zp = attr(int)
    output_zp = attr(int)
    mult = attr(ResourceRef)
    shift = attr(ResourceRef)


# ---- transposed convolution (TRANSPOSE_CONV), tensor and qnn levels ------------------------
TRANSPOSE_CONV_PAIR = Ints(2, minimum=1)
TRANSPOSE_CONV_PAD = Ints(2, minimum=0, names="[top, left]")


def check_transpose_conv(op: Operation) -> None:
    """Ranks, channel counts and dtypes of a transposed convolution: input
    [N, H, W, C], filter [O, KH, KW, C], output [N, OH, OW, O], bias [O]."""
    for field in ("input", "filter"):
        check_rank(op, field, 4)
    check_rank(op, "bias", 1)
    x, w, y = op.operand("input").type, op.operand("filter").type, op.result.type
    if y.rank != 4 or y.shape[0] != x.shape[0] or y.shape[3] != w.shape[0] or \
            w.shape[3] != x.shape[3]:
        raise op.error(f"transposed convolution shapes disagree: input {x}, filter {w}, "
                       f"output {y}")
    bias = op.operand("bias")
    if bias is not None and bias.type.shape != (w.shape[0],):
        raise op.error(f"bias {bias.type} must have one entry per output channel")
    check_compute_types(op, "input", int16=True)
    check_weight_types(op, "filter")


# ---- batched matrix product (BATCH_MATMUL), tensor and qnn levels --------------------------

def batch_matmul_shape(lhs: tuple[int, ...], rhs: tuple[int, ...], adj_x: bool,
                       adj_y: bool) -> tuple[int, ...] | None:
    """The output shape of TFLite's BATCH_MATMUL (batch dimensions broadcast, right-aligned;
    rows of lhs (its columns with adj_x), columns of rhs (its rows with adj_y)), or None when
    the operands do not fit (ranks outside 2..5, batch dimensions that do not broadcast,
    different accumulation depths)."""
    if not (2 <= len(lhs) <= 5 and 2 <= len(rhs) <= 5):
        return None
    rank = max(len(lhs), len(rhs))
    lx = (1,) * (rank - len(lhs)) + tuple(lhs)
    rx = (1,) * (rank - len(rhs)) + tuple(rhs)
    batch = []
    for a, b in zip(lx[:-2], rx[:-2]):
        if a != b and 1 not in (a, b):
            return None
        batch.append(b if a == 1 else a)
    rows, depth = (lx[-1], lx[-2]) if adj_x else (lx[-2], lx[-1])
    rdepth, cols = (rx[-1], rx[-2]) if adj_y else (rx[-2], rx[-1])
    if depth != rdepth:
        return None
    return (*batch, rows, cols)


def check_batch_matmul(op: Operation) -> None:
    lhs, rhs = op.operand("lhs").type.shape, op.operand("rhs").type.shape
    want = batch_matmul_shape(lhs, rhs, bool(op.attrs["adj_x"]), bool(op.attrs["adj_y"]))
    if want is None or tuple(op.result.type.shape) != want:
        raise op.error(f"batch matmul of {op.operand('lhs').type} and "
                       f"{op.operand('rhs').type} (adj_x={op.attrs['adj_x']}, "
                       f"adj_y={op.attrs['adj_y']}) cannot give {op.result.type}")
    check_compute_types(op, "lhs", "rhs", int16=True)
