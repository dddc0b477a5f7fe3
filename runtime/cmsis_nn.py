"""Kernel records for CMSIS-NN, the second kernel family: Arm's optimised int8 kernels for
Cortex-M (DSP and Helium paths), linked from `CMSIS_NN_PATH`, never copied.

utc knows every shape and constant at compile time, so instead of CMSIS-NN's run-time
wrappers (`arm_convolve_wrapper_s8` picks a function by the shapes on every call) each
record is one specialised function with the wrapper's selection rule as its constraint,
tried in the wrapper's order; parameter structs are `static const` data in flash, and
the scratch size is the function's `*_get_buffer_size*` formula for the target's code
path (generic C, DSP or MVE; `runtime/targets.py`), planned as an arena interval. What
TFLite Micro computes in `Prepare` is precomputed too: the fully connected layer's
kernel sums with the bias folded in, which the Helium path reads from its context
buffer, are fold-zero-point's `zp_bias` table in flash instead of arena scratch.

CMSIS-NN follows TFLite Micro's reference arithmetic (double rounding, TFLite's
per-channel multipliers and shifts), so the qnn ops' constants are passed unchanged; the
bit-exactness is what tests/e2e/test_cmsis_nn.py checks against TFLite Micro on every
shared model and operator variant.

Sources: the CMSIS-NN headers (`arm_nnfunctions.h`, `arm_nn_types.h`) for the API and
the `Source/*/arm_*_get_buffer_sizes_s8.c` files for the scratch formulas (facts, not
code, carried over).
"""

from __future__ import annotations

import math

from utc.compiler.ir import Operation, PerAxisQuantizedType
from utc.dialects import qnn, state, tensor

from .record import (
    Arg,
    CallView,
    Kernel,
    Pointee,
    conv_macs,
    depthwise_macs,
    fully_connected_macs,
    no_compute,
    per_output,
    pool_ops,
)
from .targets import Target

LIBRARY = "cmsis-nn"
_HEADERS = ("arm_nnfunctions.h",)


def _align(n: int, to: int) -> int:
    return (n + to - 1) // to * to


# ---- facts about the op, as CMSIS-NN's dims see them ------------------------------------
def _geometry(op: Operation) -> dict[str, int]:
    """Input [n, h, w, c], filter [_, kh, kw, _], output [_, oh, ow, oc] and the window
    parameters (CMSIS-NN's `cmsis_nn_tile` is {w, h}; padding is top/left only: the
    output size implies the rest, as in TFLite Micro)."""
    x, f, y = op.input.type.shape, op.filter.type.shape, op.output.type.shape
    (sh, sw), (dh, dw), pad = op.stride, op.dilation, op.pad
    return {"n": x[0], "h": x[1], "w": x[2], "c": x[3], "kh": f[1], "kw": f[2],
            "oh": y[1], "ow": y[2], "oc": y[3], "sh": sh, "sw": sw, "dh": dh, "dw": dw,
            "pt": pad[0], "pl": pad[2]}


def _is_1x1(g: dict[str, int]) -> bool:
    return g["pt"] == 0 and g["pl"] == 0 and g["kh"] == 1 and g["kw"] == 1 \
        and g["dh"] == 1 and g["dw"] == 1


def _is_1_x_n(g: dict[str, int]) -> bool:
    return g["h"] == 1 and g["dw"] == 1 and g["kh"] == 1 and (g["sw"] * g["c"]) % 4 == 0


def _int8_zero_points(op: Operation, target: Target) -> str | None:
    for key in ("input_zp", "output_zp"):
        if not -128 <= op.attrs[key] <= 127:
            return f"{key} {op.attrs[key]} outside the int8 range"
    return None


# ---- scratch formulas (arm_*_get_buffer_size*) --------------------------------------------
def convolve_s8_scratch(g: dict[str, int], target: Target) -> int:
    """arm_convolve_s8: two int16 im2col columns (DSP/generic), four 16-byte-lane int8
    columns (MVE)."""
    cols = g["kh"] * g["kw"] * g["c"]
    if target.mve:
        return 4 * ((cols + 15) // 16) * 16
    return 2 * _align(cols, 4) * 2


def convolve_1_x_n_scratch(g: dict[str, int], target: Target) -> int:
    """arm_convolve_1_x_n_s8: arm_convolve_s8's size, except on MVE where it keeps one
    padded input row segment."""
    if not target.mve:
        return convolve_s8_scratch(g, target)
    total_pad = (g["ow"] - 1) * g["sw"] + g["kw"] - g["w"]
    asym = total_pad % 2
    pad, stride = g["pl"], g["sw"]
    right = max(1, (pad + asym + stride - 1) // stride) if pad + asym != 0 else 0
    left = max(1, (pad + stride - 1) // stride) if pad != 0 else 0
    middle = max(g["ow"] - (right + left), 0)
    if right + middle + left != g["ow"]:
        return convolve_s8_scratch(g, target)
    pad_left = pad * g["c"]
    pad_right = right * g["c"] if asym else pad_left
    left_elems = g["kw"] * g["c"]
    return max(left_elems + pad_left, left_elems - g["c"] + pad_right)


def convolve_1x1_fast_scratch(g: dict[str, int], target: Target) -> int:
    """arm_convolve_1x1_s8_fast: none with GCC and Clang (utc's supported compilers; an
    Arm Compiler 6 build of the DSP path would want two int16 columns, so generated code
    that calls it refuses to build there, see codegen/templates/model.cpp.j2)."""
    return 0


def depthwise_opt_scratch(g: dict[str, int], target: Target) -> int:
    """arm_depthwise_conv_s8_opt: an int16 im2col of all channels (DSP), 4 x 124-channel
    blocks (MVE), none on the generic path."""
    if target.mve:
        return 4 * 124 * g["kw"] * g["kh"]
    if target.dsp:
        return g["c"] * g["kw"] * g["kh"] * 2
    return 0


# ---- arguments ----------------------------------------------------------------------------
def _dims(name: str, fn) -> Arg:
    def value(c: CallView) -> Pointee:
        n, h, w, ch = fn(c)
        return Pointee("cmsis_nn_dims", f"{{{n}, {h}, {w}, {ch}}}")

    return Arg(name, "const cmsis_nn_dims *", value)


def _context(buffer=None) -> Arg:
    """The scratch buffer (arena) or, with `buffer`, a compile-time table in flash that
    the kernel reads through its context (cast: the struct's pointer is not const)."""
    def value(c: CallView) -> Pointee:
        if buffer is not None:
            expr, size = buffer(c)
        else:
            expr, size = c.scratch()
        if expr == "NULL":
            return Pointee("cmsis_nn_context", "{NULL, 0}")
        # static const too: an arena address or a flash table (cast to the struct's
        # non-const pointer) is a link-time constant, which GCC and Clang initialise
        # statically (as utc's own parameter structs, codegen/emit_cpp.py); the caller's
        # frame, which adds to the stack high-water, stays 8 bytes smaller
        return Pointee("cmsis_nn_context", f"{{(void *){expr}, {size}}}")

    return Arg("ctx", "const cmsis_nn_context *", value)


def _tile(a: int, b: int) -> str:
    return f"{{{a}, {b}}}"


def _act(c: CallView) -> str:
    lo, hi = c.attrs["act"]
    return _tile(lo, hi)


def _window(c: CallView) -> str:
    """stride, padding, dilation and activation: the tail every convolution struct shares."""
    a = c.attrs
    (sh, sw), (dh, dw) = a["stride"], a["dilation"]
    return f"{_tile(sw, sh)}, {_tile(a['pad'][2], a['pad'][0])}, {_tile(dw, dh)}, {_act(c)}"


def _conv_params(c: CallView) -> Pointee:
    a = c.attrs
    return Pointee("cmsis_nn_conv_params",
                   f"{{{-a['input_zp']}, {a['output_zp']}, {_window(c)}}}")


def _dw_params(c: CallView) -> Pointee:
    a = c.attrs
    return Pointee("cmsis_nn_dw_conv_params",
                   f"{{{-a['input_zp']}, {a['output_zp']}, {a['depth_multiplier']}, "
                   f"{_window(c)}}}")


def _per_channel(c: CallView) -> Pointee:
    return Pointee("cmsis_nn_per_channel_quant_params",
                   f"{{(int32_t *){c.table(c.attrs['mult'])}, "
                   f"(int32_t *){c.table(c.attrs['shift'])}}}")


def _nhwc(field: str):
    return lambda c: c.shape(field)


def _conv_args(params: str, params_type: str, params_fn, filter_dims, upscale: bool = False
               ) -> tuple[Arg, ...]:
    out = (
        _context(),
        Arg(params, f"const {params_type} *", params_fn),
        Arg("quant_params", "const cmsis_nn_per_channel_quant_params *", _per_channel),
        _dims("input_dims", _nhwc("input")),
        Arg("input_data", "const int8_t *", lambda c: c.field("input")),
        _dims("filter_dims", filter_dims),
        Arg("filter_data", "const int8_t *", lambda c: c.field("filter")),
        _dims("bias_dims", lambda c: (1, 1, 1, c.shape("output")[3])),
        Arg("bias_data", "const int32_t *", lambda c: c.field("bias")),
    )
    if upscale:
        out += (Arg("upscale_dims", "const cmsis_nn_dims *", lambda c: "NULL"),)
    return out + (_dims("output_dims", _nhwc("output")),
                  Arg("output_data", "int8_t *", lambda c: c.field("output")))


_CONV = lambda upscale=False: _conv_args(  # noqa: E731
    "conv_params", "cmsis_nn_conv_params", _conv_params, _nhwc("filter"), upscale)
_DW = _conv_args("dw_conv_params", "cmsis_nn_dw_conv_params", _dw_params,
                 lambda c: (1, *c.shape("filter")[1:3], c.shape("output")[3]))


# ---- constraints --------------------------------------------------------------------------
def _conv_1x1_fast(op: Operation, target: Target) -> str | None:
    """1x1 filter, no padding, stride 1, dilation 1."""
    g = _geometry(op)
    if not _is_1x1(g):
        return "not a 1x1 unpadded undilated convolution"
    if (g["sh"], g["sw"]) != (1, 1):
        return "stride is not 1"
    return _int8_zero_points(op, target)


def _conv_1x1(op: Operation, target: Target) -> str | None:
    """1x1 filter, no padding, dilation 1 (any stride)."""
    return None if _is_1x1(_geometry(op)) else "not a 1x1 unpadded undilated convolution"


def _conv_1_x_n(op: Operation, target: Target) -> str | None:
    """Input height 1, filter height 1, width dilation 1, stride x input channels a
    multiple of 4; on Helium targets horizontal stride 1."""
    g = _geometry(op)
    if _is_1x1(g):
        return "a 1x1 convolution (arm_convolve_1x1_s8 runs it)"
    if not _is_1_x_n(g):
        return "not a 1xN convolution of a 1-row input"
    if target.mve and g["sw"] > 1:
        # measured: the MVE 1xN path is not bit-exact with TFLite Micro (wrong bytes or
        # ARM_CMSIS_NN_FAILURE) for horizontal strides >= 2; arm_convolve_s8 is exact
        return "horizontal stride > 1 on the MVE path (not bit-exact there)"
    return None


def _conv_general(op: Operation, target: Target) -> str | None:
    """Any shape (the general path); int8 zero points."""
    return _int8_zero_points(op, target)


def _dw_common(op: Operation) -> str | None:
    g = _geometry(op)
    if op.depth_multiplier != 1:
        return "depth multiplier is not 1"
    if g["n"] != 1:
        return "batch is not 1"
    if (g["dh"], g["dw"]) != (1, 1):
        return "dilated"
    return None


def _dw_3x3(op: Operation, target: Target) -> str | None:
    """Depth multiplier 1, batch 1, 3x3 filter, no dilation, top and left padding at most
    1; not on Helium targets (CMSIS-NN's MVE path has no 3x3 kernel)."""
    if target.mve:
        return "the MVE path has no 3x3 kernel"
    g = _geometry(op)
    return _dw_common(op) or (None if (g["kh"], g["kw"]) == (3, 3) and g["pt"] <= 1
                              and g["pl"] <= 1 else "not 3x3 with padding <= 1")


def _dw_opt(op: Operation, target: Target) -> str | None:
    """Depth multiplier 1, batch 1, no dilation."""
    return _dw_common(op)


def _same_shape(op: Operation, target: Target) -> str | None:
    """Both inputs have the output's shape (CMSIS-NN does not broadcast)."""
    shapes = {tuple(op.operand(k).type.shape) for k in ("lhs", "rhs")}
    if shapes != {tuple(op.result.type.shape)}:
        return "broadcasting"
    return None


def _fc_per_channel_matches(per_channel: bool):
    """One record per requantization kind: the split is by the weights' quantization
    (select-kernels sees the op, not the multiplier table's length)."""
    def check(op: Operation, target: Target) -> str | None:
        element = op.operand("weights").type.element
        is_per_channel = isinstance(element, PerAxisQuantizedType) and len(element.scales) > 1
        if is_per_channel != per_channel:
            return "per-channel weights" if is_per_channel else "per-tensor weights"
        if op.weights_zp != 0:
            return f"weights zero point {op.attrs['weights_zp']} is not 0"
        if target.mve and "zp_bias" not in op.attrs:
            return "the MVE path needs the kernel sums fold-zero-point computes (-O1 and up)"
        return _int8_zero_points(op, target)

    check.__doc__ = ("Weights zero point 0; on Helium targets, the kernel sums in flash "
                     "(fold-zero-point). " + ("Per-channel" if per_channel else "Per-tensor")
                     + " requantization.")
    return check


def _fc_args(quant: str, quant_fn) -> tuple[Arg, ...]:
    def kernel_sums(c: CallView) -> tuple[str, int]:
        if "zp_bias" in c.attrs:  # the MVE path's kernel sums, from flash
            return c.table(c.attrs["zp_bias"]), 4 * c.shape("weights")[0]
        return "NULL", 0

    def fc_params(c: CallView) -> Pointee:
        a = c.attrs
        return Pointee("cmsis_nn_fc_params", f"{{{-a['input_zp']}, {-a['weights_zp']}, "
                                             f"{a['output_zp']}, {_act(c)}}}")

    def batches(c: CallView) -> int:
        return math.prod(c.shape("input")) // c.shape("weights")[1]

    return (
        _context(kernel_sums),
        Arg("fc_params", "const cmsis_nn_fc_params *", fc_params),
        Arg("quant_params", f"const {quant} *", quant_fn),
        _dims("input_dims", lambda c: (batches(c), 1, 1, c.shape("weights")[1])),
        Arg("input_data", "const int8_t *", lambda c: c.field("input")),
        _dims("filter_dims", lambda c: (c.shape("weights")[1], 1, 1, c.shape("weights")[0])),
        Arg("filter_data", "const int8_t *", lambda c: c.field("weights")),
        _dims("bias_dims", lambda c: (1, 1, 1, c.shape("weights")[0])),
        Arg("bias_data", "const int32_t *", lambda c: c.field("bias")),
        _dims("output_dims", lambda c: (batches(c), 1, 1, c.shape("weights")[0])),
        Arg("output_data", "int8_t *", lambda c: c.field("output")),
    )


def _per_tensor(c: CallView) -> Pointee:
    """The one multiplier and shift, read from the tables' first entries at compile time
    would need the module; the struct takes them by value, so the call reads them."""
    return Pointee("cmsis_nn_per_tensor_quant_params",
                   f"{{{c.table(c.attrs['mult'])}[0], {c.table(c.attrs['shift'])}[0]}}",
                   static=False)


def _pool_args() -> tuple[Arg, ...]:
    def params(c: CallView) -> Pointee:
        a = c.attrs
        sh, sw = a["stride"]
        return Pointee("cmsis_nn_pool_params", f"{{{_tile(sw, sh)}, "
                                               f"{_tile(a['pad'][2], a['pad'][0])}, {_act(c)}}}")

    return (
        _context(),
        Arg("pool_params", "const cmsis_nn_pool_params *", params),
        _dims("input_dims", _nhwc("input")),
        Arg("input_data", "const int8_t *", lambda c: c.field("input")),
        _dims("filter_dims", lambda c: (1, c.attrs["window"][0], c.attrs["window"][1], 1)),
        _dims("output_dims", _nhwc("output")),
        Arg("output_data", "int8_t *", lambda c: c.field("output")),
    )


def _i32(name: str, fn) -> Arg:
    return Arg(name, "const int32_t", fn)


def _attr(name: str, key: str, sign: int = 1) -> Arg:
    return _i32(name, lambda c: sign * int(c.attrs[key]))


def _block_size(c: CallView) -> int:
    return math.prod(c.shape("output"))


def _scratch(fn):
    return lambda op, target: fn(_geometry(op), target)


def _avgpool_scratch(op: Operation, target: Target) -> int:
    """arm_avgpool_s8: one int32 per channel on the DSP path."""
    return 4 * op.result.type.shape[3] if target.dsp and not target.mve else 0


def _kernel(name: str, op, summary: str, constraint, args, scratch=None, cost=per_output,
            unused=lambda target: ("zp_bias",), overlap: bool = False,
            in_place: tuple[str, ...] = (), overlap_channelwise: bool = False,
            state_in_place: tuple[tuple[str, str], ...] = (), dtype: str = "int8") -> Kernel:
    return Kernel(name, op, dtype, (), summary, constraint=constraint,
                  scratch=scratch or (lambda op, target: 0), cost=cost, args=args,
                  library=LIBRARY, includes=_HEADERS, unused=unused, overlap=overlap,
                  in_place=in_place, overlap_channelwise=overlap_channelwise,
                  state_in_place=state_in_place)


# Memory sharing, from each function's loop order on every code path (generic C, DSP,
# MVE) of the pinned CMSIS-NN, checked end to end by tests/e2e/test_cortex_m.py and
# test_cmsis_nn.py (the planner overlaps or aliases these calls in the shared models, and
# the outputs stay bit-exact with TFLite Micro on the host, Cortex-M4 and Cortex-M55):
# - overlap (the contract of runtime/utc_conv_s8.h): arm_convolve_s8 walks output
#   pixels in (batch, row, column) order on every path, im2col-copying each window and
#   writing a pixel's channels after reading its window and at most three before it;
#   arm_depthwise_conv_3x3_s8 and arm_depthwise_conv_s8 walk output pixels in the same
#   order with channels innermost; arm_convolve_1x1_s8 finishes one output row per
#   matrix multiply, in order, reading only input row oy * stride_h for output row oy
#   (inside the row any order is allowed by the contract). Not the others: arm_convolve_1x1_s8_fast's generic
#   and DSP matrix multiply walks output channels outermost (every pixel's input is read
#   again for each pair of channels), and arm_depthwise_conv_s8_opt's MVE path walks
#   blocks of 124 channels outermost.
#   Channel-wise (`overlap_channelwise`, passes/planning/overlap.py): arm_depthwise_conv_3x3_s8
#   and arm_depthwise_conv_s8 compute each output pixel's channels (in groups of up to four)
#   from that pixel's window alone, reading the window before storing the pixel, pixels in
#   increasing order; so within a channel the pixel order holds.
# - in place: arm_elementwise_add_s8 and arm_elementwise_mul_s8 read elements i..i+k of
#   both inputs before writing the same elements of the output (k = 1, 4 or 16 by path).


def _fc_unused(target: Target) -> tuple[str, ...]:
    """Only the Helium path reads the kernel sums."""
    return () if target.mve else ("zp_bias",)


def _rank4(op: Operation, target: Target) -> str | None:
    """Inputs of at most 4 dimensions (CMSIS-NN's dims are NHWC); broadcasting allowed."""
    if max(op.operand(k).type.rank for k in ("lhs", "rhs")) > 4:
        return "more than 4 dimensions"
    return None


def _nhwc4(field: str):
    """A shape right-aligned into CMSIS-NN's 4-D NHWC dims."""
    return lambda c: tuple([1] * (4 - len(c.shape(field))) + list(c.shape(field)))


def _extremum_args() -> tuple[Arg, ...]:
    return (_context(), Arg("input_1_data", "const int8_t *", lambda c: c.field("lhs")),
            _dims("input_1_dims", _nhwc4("lhs")),
            Arg("input_2_data", "const int8_t *", lambda c: c.field("rhs")),
            _dims("input_2_dims", _nhwc4("rhs")),
            Arg("output_data", "int8_t *", lambda c: c.field("output")),
            _dims("output_dims", _nhwc4("output")))


def _pad_rank4(op: Operation, target: Target) -> str | None:
    """At most 4 dimensions."""
    return "more than 4 dimensions" if op.operand("input").type.rank > 4 else None


def _pads4(side: int):
    def value(c: CallView) -> tuple[int, ...]:
        pads = [int(p[side]) for p in c.attrs["pads"]]
        return tuple([0] * (4 - len(pads)) + pads)

    return value


def _pad_args() -> tuple[Arg, ...]:
    return (Arg("input", "const int8_t *", lambda c: c.field("input")),
            Arg("output", "int8_t *", lambda c: c.field("output")),
            Arg("pad_value", "const int8_t", lambda c: int(c.attrs["value"])),
            _dims("input_size", _nhwc4("input")), _dims("pre_pad", _pads4(0)),
            _dims("post_pad", _pads4(1)))


# ---- SVDF (arm_svdf_s8, arm_svdf_state_s16_s8) ---------------------------------------------
def _svdf_state_in_place(op: Operation) -> str | None:
    """CMSIS-NN shifts the state in place through one pointer, so the call is only correct
    where `bufferize` binds the state operand and the new state to the variable's own
    buffer (record field `state_in_place`): the state is a shared `state.read` used only
    here, and the new state is only written back to the same variable. select-kernels runs
    right before bufferize, so this is the condition bufferize then sees."""
    return _state_updated_in_place(op, "state", "new_state")


def _state_updated_in_place(op: Operation, operand: str, result: str) -> str | None:
    """Why `bufferize` would not bind state `operand` and `result` to one variable buffer
    (None: it will), for kernels that update a state through one pointer."""
    from utc.passes.planning.state import shared_reads

    value, new = op.operand(operand), getattr(op, result)
    read = getattr(value, "op", None)
    if not isinstance(read, state.ReadOp):
        return "the state is not a variable's read"
    users = [user for user, _ in new.uses]
    if len(value.uses) != 1 or len(users) != 1 or not isinstance(users[0], state.WriteOp) \
            or users[0].variable != read.variable:
        return "the state is not updated in place (another op reads it)"
    if op.parent is None or read not in shared_reads(op.parent.ops):
        return "the state read is a copy, not the variable's buffer"
    return None


def _svdf_fits(storage: str):
    def check(op: Operation, target: Target) -> str | None:
        st = op.operand("state").type.element.storage
        if str(st) != storage:
            return f"the state is not {storage.replace('i', 'int')}"
        if op.attrs["state_zp"] != 0:
            return f"state zero point {op.attrs['state_zp']} is not 0 (CMSIS-NN has none)"
        if op.operand("bias") is None:
            return "no bias"
        if target.mve and storage == "i8" and op.attrs.get("kernel_sums") is None:
            # arm_svdf_s8's Helium path starts each feature-stage accumulator from a kernel
            # sum of the feature weights read through ctx (arm_vector_sum_s8's)
            return "the MVE path needs the kernel sums fold-zero-point computes (-O1 and up)"
        return _int8_zero_points(op, target) or _svdf_state_in_place(op)

    check.__doc__ = (f"{storage.replace('i', 'int')} state with zero point 0, updated in place "
                     "(the variable's own buffer); a bias" +
                     ("; on Helium targets, the feature weights' kernel sums in flash "
                      "(fold-zero-point)." if storage == "i8" else "."))
    return check


def _svdf_unused(target: Target) -> tuple[str, ...]:
    """Only arm_svdf_s8's Helium path reads the kernel sums (arm_svdf_state_s16_s8 sums
    the feature weights itself on every path)."""
    return () if target.mve else ("kernel_sums",)


def _svdf_sizes(op: Operation) -> tuple[int, int, int]:
    """batch, number of filters and of units."""
    batch = op.operand("input").type.shape[0]
    filters = op.operand("weights_feature").type.shape[0]
    return batch, filters, filters // op.attrs["rank"]


def _svdf_scratch(op: Operation, target: Target) -> int:
    """Both int32 buffers TFLite Micro requests in the arena: the time stage's
    batch x filters sums (`input_ctx`), then the batch x units outputs (`output_ctx`)."""
    batch, filters, units = _svdf_sizes(op)
    return 4 * batch * (filters + units)


def _svdf_args(state_type: str, time_type: str, with_kernel_sums: bool) -> tuple[Arg, ...]:
    state_range = "{-128, 127}" if state_type == "int8_t" else "{-32768, 32767}"

    def sums_size(c: CallView) -> int:
        return 4 * c.shape("input")[0] * c.shape("weights_feature")[0]

    def first(c: CallView) -> tuple[str, int]:
        expr, _ = c.scratch()
        return expr, sums_size(c)

    def second(c: CallView) -> tuple[str, int]:
        expr, size = c.scratch()
        return f"((int8_t *){expr} + {sums_size(c)})", size - sums_size(c)

    def params(c: CallView) -> Pointee:
        # CMSIS-NN adds -input_offset to the input and output_offset to the output
        # (TFLite Micro's port passes the zero points themselves)
        a = c.attrs
        return Pointee("cmsis_nn_svdf_params",
                       f"{{{a['rank']}, {a['input_zp']}, {a['output_zp']}, {state_range}, "
                       f"{{-128, 127}}}}")

    def quant(mult: str, shift: str):
        return lambda c: Pointee("cmsis_nn_per_tensor_quant_params",
                                 f"{{{int(c.attrs[mult])}, {int(c.attrs[shift])}}}")

    def ctx(name: str, fn) -> Arg:
        return Arg(name, "const cmsis_nn_context *", _context(fn).value)

    def kernel_sums(c: CallView) -> tuple[str, int]:
        if "kernel_sums" in c.attrs:  # the Helium path's, from flash
            return c.table(c.attrs["kernel_sums"]), 4 * c.shape("weights_feature")[0]
        return "NULL", 0

    head = (ctx("ctx", kernel_sums),) if with_kernel_sums else ()
    return head + (
        ctx("input_ctx", first), ctx("output_ctx", second),
        Arg("svdf_params", "const cmsis_nn_svdf_params *", params),
        Arg("input_quant_params", "const cmsis_nn_per_tensor_quant_params *",
            quant("feature_mult", "feature_shift")),
        Arg("output_quant_params", "const cmsis_nn_per_tensor_quant_params *",
            quant("time_mult", "time_shift")),
        _dims("input_dims", lambda c: (*c.shape("input"), 1, 1)),
        Arg("input_data", "const int8_t *", lambda c: c.field("input")),
        _dims("state_dims", lambda c: (*c.shape("state"), 1, 1)),
        # the same buffer as new_state (the constraint), shifted in place
        Arg("state_data", f"{state_type} *", lambda c: c.field("new_state")),
        _dims("weights_feature_dims", lambda c: (*c.shape("weights_feature"), 1, 1)),
        Arg("weights_feature_data", "const int8_t *", lambda c: c.field("weights_feature")),
        _dims("weights_time_dims", lambda c: (*c.shape("weights_time"), 1, 1)),
        Arg("weights_time_data", f"const {time_type} *", lambda c: c.field("weights_time")),
        _dims("bias_dims", lambda c: (c.shape("bias")[0], 1, 1, 1)),
        Arg("bias_data", "const int32_t *", lambda c: c.field("bias")),
        _dims("output_dims", lambda c: (*c.shape("output"), 1, 1)),
        Arg("output_data", "int8_t *", lambda c: c.field("output")),
    )


_SVDF_STATE = (("state", "new_state"),)


def _svdf_macs(fields, params: dict, out: int) -> int:
    """Feature stage (filters x input size) and time stage (filters x memory) per batch."""
    batch, size = fields["input"].type.shape
    filters, memory = fields["weights_time"].type.shape
    return batch * filters * (size + memory)


# ---- LSTM (arm_lstm_unidirectional_s8, arm_lstm_unidirectional_s16) --------------------------
# Facts from CMSIS-NN's sources: the function reads the hidden state from
# `buffers->hidden_state` and the cell state from `buffers->cell_state` (zeroing the cell
# state only when hidden_state is NULL, which TFLite Micro's CMSIS-NN port passes: that
# port restarts from zero state every invocation), updates the cell state in place step by
# step and copies the last step's output into hidden_state at the end. Passing the
# variables' own buffers therefore keeps the state between invocations exactly as TFLite
# Micro's reference kernel does. The gate arithmetic is TFLite Micro's (the same Q3.12 and
# Q0.15 formats, double-rounding requantization, the same sigmoid table and tanh input
# shift, the cell update saturated and clipped), except that the recurrent half of each
# gate is added unclamped (see passes/quantmath/lstm_cmsis.py), so the records ask for a
# recurrent range inside int16, and the 16x8 one, which sums in int32 where TFLite Micro
# uses int64, for int32 intermediates inside int32.
_LSTM_STATES = (("hidden_state", "new_hidden_state"), ("cell_state", "new_cell_state"))
_LSTM_GATES = ("forget_gate", "input_gate", "cell_gate", "output_gate")  # the struct's order


def _lstm_fits(storage: str):
    def check(op: Operation, target: Target) -> str | None:
        if str(op.operand("input").type.element.storage) != storage:
            return f"the input is not {storage.replace('i', 'int')}"
        if str(op.operand("cell_state").type.element.storage) != "i16":
            return "the cell state is not int16"
        if op.attrs.get("recurrent_range") is None \
                or op.attrs.get("input_gate_recurrent_effective_bias") is None:
            return "needs the effective biases fold-zero-point computes (-O1 and up)"
        if storage == "i16" and (op.attrs["input_zp"] != 0 or op.attrs["hidden_zp"] != 0):
            return "a zero point is not 0"
        low, high = op.attrs["recurrent_range"]
        if low < -32768 or high > 32767:
            return (f"a recurrent fully connected output can reach [{low}, {high}], outside "
                    "int16 (CMSIS-NN adds it to the gate unclamped, TFLite Micro clamps it first)")
        if storage == "i16":
            low, high = op.attrs["int32_range"]
            if low < -(1 << 31) or high >= 1 << 31:
                return (f"an int32 intermediate of CMSIS-NN's gate can reach [{low}, {high}] "
                        "(TFLite Micro accumulates in int64)")
        if op.attrs["cell_clip"] == 0:
            return "the cell clip quantizes to 0 (CMSIS-NN takes 0 as no clipping)"
        for operand, result in _LSTM_STATES:
            reason = _state_updated_in_place(op, operand, result)
            if reason:
                return f"{operand.replace('_', ' ')}: {reason}"
        return None  # int8 zero points: in range by lower-to-qnn (lstm_params)

    kind = storage.replace("i", "int")
    check.__doc__ = (
        f"{kind} input, hidden state and output, int16 cell state"
        + ("" if storage == "i8" else ", zero points 0")
        + "; the effective biases fold-zero-point computes (-O1 and up); every gate's "
        "recurrent half provably inside int16 (CMSIS-NN adds it unclamped)"
        + ("" if storage == "i8" else "; every int32 intermediate provably inside int32 "
           "(CMSIS-NN sums up to 512 columns in int32)")
        + "; a cell clip that does not quantize to 0 (CMSIS-NN reads 0 as no clip); both "
        "states updated in place (the variables' own buffers).")
    return check


def _lstm_batch_time(c: CallView) -> tuple[int, int]:
    batch = c.shape("hidden_state")[0]
    return batch, math.prod(c.shape("input")[:2]) // batch


def _lstm_temp_elements(batch: int, hidden: int, time_major: bool) -> int:
    """int16 elements of each of temp1 and temp2: one step's gates of every batch
    (time-major), of one batch (batch-major: CMSIS-NN runs the batches one by one)."""
    return (batch if time_major else 1) * hidden


def _lstm_scratch(op: Operation, target: Target) -> int:
    """temp1 and temp2, int16 gate buffers of one step (every path)."""
    batch, hidden = op.operand("hidden_state").type.shape
    return 2 * 2 * _lstm_temp_elements(batch, hidden, bool(op.attrs["time_major"]))


def _lstm_args(ctype: str) -> tuple[Arg, ...]:
    def gate(c: CallView, name: str) -> str:
        a = c.attrs
        act = "ARM_TANH" if name == "cell_gate" else "ARM_SIGMOID"
        # 16x8: zero points 0, so the input half's effective bias is the int64 bias itself
        input_bias = c.table(a[name + "_input_effective_bias"]) if ctype == "int8_t" \
            else c.field(name + "_bias")
        return (f"{{{a[name + '_input_mult']}, {a[name + '_input_shift']}, "
                f"{c.field(name + '_input_weights')}, {input_bias}, "
                f"{a[name + '_recurrent_mult']}, {a[name + '_recurrent_shift']}, "
                f"{c.field(name + '_recurrent_weights')}, "
                f"{c.table(a[name + '_recurrent_effective_bias'])}, "
                f"{c.field(name + '_bias')}, {act}}}")

    def params(c: CallView) -> Pointee:
        # CMSIS-NN's offsets are TFLite Micro's: input_offset -input_zp (unused by the s8
        # path, which reads the effective biases), output_offset the hidden zero point
        a = c.attrs
        batch, time = _lstm_batch_time(c)
        clip = max(int(a["cell_clip"]), 0)  # -1 (no clip) -> 0, CMSIS-NN's "none"
        head = (f"{int(bool(a['time_major']))}, {batch}, {time}, {c.shape('input')[2]}, "
                f"{c.shape('hidden_state')[1]}, {-a['input_zp']}, {a['forget_cell_mult']}, "
                f"{a['forget_cell_shift']}, {a['input_cell_mult']}, {a['input_cell_shift']}, "
                f"{clip}, {a['cell_scale_power']}, {a['hidden_mult']}, {a['hidden_shift']}, "
                f"{a['hidden_zp']}")
        gates = ", ".join(gate(c, name) for name in _LSTM_GATES)
        return Pointee("cmsis_nn_lstm_params", f"{{{head}, {gates}}}")

    def buffers(c: CallView) -> Pointee:
        # a local: it holds arena and state addresses the kernel writes through; the states
        # are the variables' own buffers (the constraint), read first and updated in place
        expr, _ = c.scratch()
        batch, _ = _lstm_batch_time(c)
        temp = 2 * _lstm_temp_elements(batch, c.shape("hidden_state")[1],
                                       bool(c.attrs["time_major"]))
        return Pointee("cmsis_nn_lstm_context",
                       f"{{(void *){expr}, (void *)((int8_t *){expr} + {temp}), "
                       f"(void *){c.field('new_cell_state')}, "
                       f"(void *){c.field('new_hidden_state')}}}", static=False)

    return (Arg("input", f"const {ctype} *", lambda c: c.field("input")),
            Arg("output", f"{ctype} *", lambda c: c.field("output")),
            Arg("params", "const cmsis_nn_lstm_params *", params),
            Arg("buffers", "cmsis_nn_lstm_context *", buffers))


def _lstm_macs(fields, params: dict, out: int) -> int:
    """Per output element: four gates of input size + hidden size MACs."""
    return out * 4 * (fields["input"].type.shape[2] + fields["hidden_state"].type.shape[1])


CMSIS_NN_KERNELS: list[Kernel] = [
    _kernel("arm_convolve_1x1_s8_fast", qnn.Conv2DOp, "CMSIS-NN 1x1 convolution, stride 1",
            _conv_1x1_fast, _CONV(), _scratch(convolve_1x1_fast_scratch), conv_macs),
    _kernel("arm_convolve_1x1_s8", qnn.Conv2DOp, "CMSIS-NN 1x1 convolution, any stride",
            _conv_1x1, _CONV(), None, conv_macs, overlap=True),
    _kernel("arm_convolve_1_x_n_s8", qnn.Conv2DOp, "CMSIS-NN 1xN convolution of one row",
            _conv_1_x_n, _CONV(), _scratch(convolve_1_x_n_scratch), conv_macs),
    _kernel("arm_convolve_s8", qnn.Conv2DOp, "CMSIS-NN convolution (im2col + matrix multiply)",
            _conv_general, _CONV(upscale=True), _scratch(convolve_s8_scratch), conv_macs,
            overlap=True),
    _kernel("arm_depthwise_conv_3x3_s8", qnn.DepthwiseConv2DOp,
            "CMSIS-NN 3x3 depthwise convolution", _dw_3x3, _DW, None, depthwise_macs,
            overlap=True, overlap_channelwise=True),
    _kernel("arm_depthwise_conv_s8_opt", qnn.DepthwiseConv2DOp,
            "CMSIS-NN depthwise convolution, multiplier 1", _dw_opt, _DW,
            _scratch(depthwise_opt_scratch), depthwise_macs),
    _kernel("arm_depthwise_conv_s8", qnn.DepthwiseConv2DOp,
            "CMSIS-NN depthwise convolution, any multiplier", _conv_general, _DW, None,
            depthwise_macs, overlap=True, overlap_channelwise=True),
    _kernel("arm_fully_connected_s8", qnn.FullyConnectedOp,
            "CMSIS-NN fully connected, per-tensor requantization", _fc_per_channel_matches(False),
            _fc_args("cmsis_nn_per_tensor_quant_params", _per_tensor), None,
            fully_connected_macs, _fc_unused),
    _kernel("arm_fully_connected_per_channel_s8", qnn.FullyConnectedOp,
            "CMSIS-NN fully connected, per-channel requantization",
            _fc_per_channel_matches(True),
            _fc_args("cmsis_nn_per_channel_quant_params", _per_channel), None,
            fully_connected_macs, _fc_unused),
    _kernel("arm_avgpool_s8", qnn.AvgPool2DOp, "CMSIS-NN average pooling",
            lambda op, target: None, _pool_args(), _avgpool_scratch, pool_ops),
    _kernel("arm_max_pool_s8", qnn.MaxPool2DOp, "CMSIS-NN max pooling",
            lambda op, target: None, _pool_args(), None, pool_ops),
    _kernel("arm_softmax_s8", qnn.SoftmaxOp, "CMSIS-NN softmax",
            lambda op, target: None,
            (Arg("input", "const int8_t *", lambda c: c.field("input")),
             _i32("num_rows", lambda c: math.prod(c.shape("input")) // c.shape("input")[-1]),
             _i32("row_size", lambda c: c.shape("input")[-1]),
             _attr("mult", "input_mult"), _attr("shift", "input_left_shift"),
             _attr("diff_min", "diff_min"),
             Arg("output", "int8_t *", lambda c: c.field("output")))),
    _kernel("arm_elementwise_add_s8", qnn.AddOp, "CMSIS-NN addition of same-shape tensors",
            _same_shape,
            (Arg("input_1_vect", "const int8_t *", lambda c: c.field("lhs")),
             Arg("input_2_vect", "const int8_t *", lambda c: c.field("rhs")),
             _attr("input_1_offset", "lhs_zp", -1), _attr("input_1_mult", "lhs_mult"),
             _attr("input_1_shift", "lhs_shift"), _attr("input_2_offset", "rhs_zp", -1),
             _attr("input_2_mult", "rhs_mult"), _attr("input_2_shift", "rhs_shift"),
             _attr("left_shift", "left_shift"),
             Arg("output", "int8_t *", lambda c: c.field("output")),
             _attr("out_offset", "output_zp"), _attr("out_mult", "output_mult"),
             _attr("out_shift", "output_shift"),
             _i32("out_activation_min", lambda c: c.attrs["act"][0]),
             _i32("out_activation_max", lambda c: c.attrs["act"][1]),
             _i32("block_size", _block_size)), in_place=("lhs", "rhs")),
    _kernel("arm_elementwise_mul_s8", qnn.MulOp, "CMSIS-NN multiplication of same-shape tensors",
            _same_shape,
            (Arg("input_1_vect", "const int8_t *", lambda c: c.field("lhs")),
             Arg("input_2_vect", "const int8_t *", lambda c: c.field("rhs")),
             _attr("input_1_offset", "lhs_zp", -1), _attr("input_2_offset", "rhs_zp", -1),
             Arg("output", "int8_t *", lambda c: c.field("output")),
             _attr("out_offset", "output_zp"), _attr("out_mult", "output_mult"),
             _attr("out_shift", "output_shift"),
             _i32("out_activation_min", lambda c: c.attrs["act"][0]),
             _i32("out_activation_max", lambda c: c.attrs["act"][1]),
             _i32("block_size", _block_size)), in_place=("lhs", "rhs")),
    _kernel("arm_maximum_s8", tensor.MaximumOp, "CMSIS-NN broadcasting maximum", _rank4,
            _extremum_args()),
    _kernel("arm_minimum_s8", tensor.MinimumOp, "CMSIS-NN broadcasting minimum", _rank4,
            _extremum_args()),
    _kernel("arm_pad_s8", tensor.PadOp, "CMSIS-NN constant padding", _pad_rank4, _pad_args(),
            cost=no_compute),
    _kernel("arm_svdf_s8", qnn.SvdfOp, "CMSIS-NN int8 SVDF, int8 state and time weights",
            _svdf_fits("i8"), _svdf_args("int8_t", "int8_t", True), _svdf_scratch, _svdf_macs,
            unused=_svdf_unused, state_in_place=_SVDF_STATE),
    _kernel("arm_svdf_state_s16_s8", qnn.SvdfOp,
            "CMSIS-NN int8 SVDF, int16 state and time weights", _svdf_fits("i16"),
            _svdf_args("int16_t", "int16_t", False), _svdf_scratch, _svdf_macs,
            unused=lambda target: ("kernel_sums",), state_in_place=_SVDF_STATE),
    _kernel("arm_lstm_unidirectional_s8", qnn.LstmOp,
            "CMSIS-NN int8 unidirectional sequence LSTM, int16 cell state", _lstm_fits("i8"),
            _lstm_args("int8_t"), _lstm_scratch, _lstm_macs, unused=lambda target: (),
            state_in_place=_LSTM_STATES),
    _kernel("arm_lstm_unidirectional_s16", qnn.LstmOp,
            "CMSIS-NN 16x8 unidirectional sequence LSTM, int16 cell state, int64 biases",
            _lstm_fits("i16"), _lstm_args("int16_t"), _lstm_scratch, _lstm_macs,
            unused=lambda target: (), state_in_place=_LSTM_STATES, dtype="int16"),
]
