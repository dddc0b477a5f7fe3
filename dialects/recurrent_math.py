"""The shape and type rules of the recurrent ops (SVDF), shared by their `tensor` and
`qnn` forms: TFLite Micro's `PrepareSvdf` checks, so a damaged model or hand-written IR
fails in the verifier instead of in a kernel."""

from __future__ import annotations

from utc.compiler.ir import F32, I32, Operation, QuantizedType, TensorType


def _storage(t: TensorType) -> str:
    return str(getattr(t.element, "storage", t.element))


def svdf_sizes(op: Operation) -> dict[str, int]:
    """batch, input_size, num_filters, num_units, memory_size of an SVDF op."""
    x = op.operand("input").type.shape
    wf = op.operand("weights_feature").type.shape
    wt = op.operand("weights_time").type.shape
    rank = int(op.attrs["rank"])
    return {"batch": x[0], "input_size": x[1], "num_filters": wf[0],
            "num_units": wf[0] // rank if rank > 0 else 0, "memory_size": wt[1]}


def check_svdf(op: Operation) -> None:
    """Shapes: input [batch, input_size], weights_feature [num_filters, input_size],
    weights_time [num_filters, memory_size], bias [num_units], state [batch, memory_size *
    num_filters] (each filter's `memory_size` newest feature values, oldest first), output
    [batch, num_units] with num_units = num_filters / rank; the new state has the state's
    type. Types: all float32, or int8 input, feature weights and output (per-tensor
    quantized), time weights and state of one quantized storage type (int8 or int16) and
    an int32 bias."""
    values = {f: op.operand(f) for f in ("input", "weights_feature", "weights_time", "state")}
    for field, v in values.items():
        if v.type.rank != 2:
            raise op.error(f"operand '{field}' must have rank 2, got {v.type}")
    rank = int(op.attrs["rank"])
    if rank < 1:
        raise op.error(f"rank must be at least 1, got {rank}")
    x, wf, wt, s = (values[f].type.shape for f in values)
    if wf[0] % rank:
        raise op.error(f"{wf[0]} filters are not a multiple of rank {rank}")
    n = svdf_sizes(op)
    if wf[1] != x[1]:
        raise op.error(f"weights_feature {list(wf)} does not match input {list(x)}")
    if wt[0] != wf[0]:
        raise op.error(f"weights_time {list(wt)} does not have {wf[0]} filters")
    if tuple(s) != (x[0], n["memory_size"] * wf[0]):
        raise op.error(f"state {list(s)} is not [{x[0]}, {n['memory_size'] * wf[0]}]")
    bias = op.operand("bias")
    if bias is not None and tuple(bias.type.shape) != (n["num_units"],):
        raise op.error(f"bias {bias.type} is not [{n['num_units']}]")
    out, new_state = op.result_values
    if tuple(out.type.shape) != (x[0], n["num_units"]):
        raise op.error(f"output {out.type} is not [{x[0]}, {n['num_units']}]")
    if new_state.type != values["state"].type:
        raise op.error(f"new state {new_state.type} is not the state's {values['state'].type}")
    kinds = [_storage(v.type) for v in (values["input"], values["weights_feature"], out)]
    if kinds == ["f32"] * 3:
        wt_type, s_type = values["weights_time"].type, values["state"].type
        if wt_type.element != F32 or s_type.element != F32 or \
                (bias is not None and bias.type.element != F32):
            raise op.error(f"float32 SVDF needs float32 weights, bias and state, got "
                           f"{wt_type}, {s_type}")
        return
    quantized = [values["input"].type, values["weights_feature"].type, out.type,
                 values["weights_time"].type, values["state"].type]
    if kinds != ["i8"] * 3 or any(not isinstance(t.element, QuantizedType) for t in quantized):
        raise op.error("SVDF needs float32 throughout, or per-tensor quantized int8 input, "
                       f"feature weights and output, got {', '.join(str(t) for t in quantized)}")
    wt_kind, s_kind = _storage(values["weights_time"].type), _storage(values["state"].type)
    if wt_kind not in ("i8", "i16") or s_kind != wt_kind:
        raise op.error(f"int8 SVDF needs time weights and state of one type, int8 or int16, "
                       f"got {values['weights_time'].type} and {values['state'].type}")
    if bias is not None and _storage(bias.type) != str(I32):
        raise op.error(f"int8 SVDF needs an int32 bias, got {bias.type}")


#: UNIDIRECTIONAL_SEQUENCE_LSTM's gates, in TFLite's operand order.
LSTM_GATES = ("input_gate", "forget_gate", "cell_gate", "output_gate")


def lstm_sizes(op: Operation) -> dict[str, int]:
    """batch, time_steps, input_size, state_size of an LSTM op (time-major: input
    [time, batch, input_size], else [batch, time, input_size])."""
    x = op.operand("input").type.shape
    time_major = bool(op.attrs["time_major"])
    return {"batch": x[1] if time_major else x[0], "time_steps": x[0] if time_major else x[1],
            "input_size": x[2], "state_size": op.operand("hidden_state").type.shape[1]}


def check_lstm(op: Operation) -> None:
    """TFLite Micro's LSTM checks (lstm_eval_common.cc ValidateTensorSize and
    ValidateTensorStatus): input rank 3; each gate's input weights [state, input_size],
    recurrent weights [state, state] and bias [state]; hidden and cell state [batch,
    state]; output [.., .., state] shaped like the input; new states typed like the states;
    one weight type and one bias type for every gate."""
    x = op.operand("input").type
    if x.rank != 3:
        raise op.error(f"input must have rank 3, got {x}")
    h, c = op.operand("hidden_state").type, op.operand("cell_state").type
    if h.rank != 2 or c.rank != 2:
        raise op.error(f"hidden and cell state must have rank 2, got {h} and {c}")
    n = lstm_sizes(op)
    state = (n["batch"], n["state_size"])
    if tuple(h.shape) != state or tuple(c.shape) != state:
        raise op.error(f"hidden state {h} and cell state {c} must both be {list(state)}")
    weight_types, bias_types = set(), set()
    for gate in LSTM_GATES:
        wi = op.operand(f"{gate}_input_weights").type
        wr = op.operand(f"{gate}_recurrent_weights").type
        b = op.operand(f"{gate}_bias").type
        if tuple(wi.shape) != (n["state_size"], n["input_size"]):
            raise op.error(f"{gate} input weights {wi} are not [{n['state_size']}, "
                           f"{n['input_size']}]")
        if tuple(wr.shape) != (n["state_size"], n["state_size"]):
            raise op.error(f"{gate} recurrent weights {wr} are not [{n['state_size']}, "
                           f"{n['state_size']}]")
        if tuple(b.shape) != (n["state_size"],):
            raise op.error(f"{gate} bias {b} is not [{n['state_size']}]")
        weight_types |= {_storage(wi), _storage(wr)}
        bias_types.add(_storage(b))
    if len(weight_types) != 1 or len(bias_types) != 1:
        raise op.error("every gate's weights must have one type, and every bias one type")
    out, new_h, new_c = op.result_values
    want = (x.shape[0], x.shape[1], n["state_size"])
    if tuple(out.type.shape) != want:
        raise op.error(f"output {out.type} is not {list(want)}")
    if new_h.type != h or new_c.type != c:
        raise op.error("the new states must have the states' types")
    kinds = (_storage(x), _storage(out.type), _storage(h), _storage(c), *weight_types,
             *bias_types)
    if set(kinds) == {"f32"}:
        return
    if kinds not in (("i8", "i8", "i8", "i16", "i8", "i32"), ("i16", "i16", "i16", "i16", "i8", "i64")):
        raise op.error("LSTM needs float32 throughout, or int8 (16x8: int16) input, output and "
                       "hidden state, int8 weights, an int16 cell state and int32 (16x8: int64) "
                       f"biases, got {x}, {out.type}, {h}, {c}")
    per_tensor = [x, out.type, h, c] + [op.operand(f"{g}_{r}_weights").type
                                        for g in LSTM_GATES for r in ("input", "recurrent")]
    for t in per_tensor:
        if not isinstance(t.element, QuantizedType):
            raise op.error(f"int8 LSTM needs per-tensor quantization, got {t}")
    for t in per_tensor[4:]:
        if t.element.zero_point != 0:
            raise op.error(f"int8 LSTM weights must have zero point 0, got {t}")
    if c.element.zero_point != 0:
        raise op.error(f"the int16 cell state must have zero point 0, got {c}")
