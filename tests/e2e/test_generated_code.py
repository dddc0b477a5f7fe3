"""The generated C++ reads like the plan it was made from.

A person debugging a model on a board reads `NAME.cpp` and `NAME_weights.cpp`, not the
IR: so the arena is described by a memory-map comment (one row per planned buffer:
name, offset, bytes, live steps, what it is a view of, the TFLite tensor it holds), every
buffer is addressed through a named macro instead of `arena + <number>`, every constant
array follows one naming scheme (`NAME_w_<op><TFLite index>_<role>`, the same prefix for
an op's filter and bias from the importer and its requantization tables from
lower-to-qnn) and carries a comment with its shape, element type and origin. These
tests check all of that against the planned IR the code was generated from, and that
tensor names which would end or nest a C comment, or form a trigraph, still give code
that builds warning-free.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from utc.codegen.emit_cpp import comment_text
from utc.compiler.driver import compile_model
from utc.compiler.ir import ResourceRef
from utc.dialects import buf
from utc.dialects.func import main_function

from tests.conftest import shared_model
from tests.e2e.harness import compile_and_build
from tests.e2e.test_memory_passes import Net
from tests.tflite_writer import ModelBuilder

#: `<op><TFLite operator index>_<role>`, optionally `_<n>` when a name repeats
WEIGHT_SCHEME = re.compile(r"(?P<op>[a-z][a-z0-9_]*?)(?P<index>\d+)_(?P<role>[a-z]+(?:_[a-z]+)*)(?:_\d+)?")
MAP_ROW = re.compile(r"(?P<name>\S+)\s+(?P<offset>\d+)\s+(?P<bytes>\d+)\s+(?P<live>\S+)\s+"
                     r"(?:-|(?P<source>\S+) \+ (?P<at>\d+))\s+(?P<holds>.*)")
DEFINE = re.compile(r"#define (?P<name>buf_\w+) \(\((?P<ctype>\w+) \*\)\(arena \+ "
                    r"(?P<offset>\d+)\)\)")
WEIGHT_ARRAY = re.compile(
    r"/\* (?P<resource>\S+), (?P<bytes>\d+) bytes\n"
    r" \*   shape: \[(?P<shape>[^\]\n]*)\]\n"
    r" \*   type:  (?P<type>[^\n]+)\n"
    r" \*   from:  (?P<origin>[^\n]+) \*/\n"
    r"alignas\(16\) extern const (?P<ctype>\w+) (?P<name>\w+)\[(?P<count>\d+)\] = \{")


def pad_conv_model() -> bytes:
    """PAD then an int8 convolution: fold-pad merges the PAD's location in front of the
    convolution's, so the requantization tables must still take the convolution's
    index (the one its filter and bias were named after)."""
    net = Net(True, seed=3)
    x = net.act([1, 6, 6, 3])
    pads = net.const_i32([[0, 0], [1, 1], [1, 1], [0, 0]])
    p = net.op("PAD", [x, pads], [1, 8, 8, 3])
    y, shape = net.conv(p, [1, 8, 8, 3], 4, k=3)
    z = net.op("RESHAPE", [y], [1, int(np.prod(shape))], scale=0.08, zp=2)
    return net.b.build([x], [z])


def hostile_names_model() -> bytes:
    """A convolution whose tensor names would close (`*/`) or nest (`/*`) a C comment,
    form a trigraph (`??/` reads as a backslash in C++11) or end in a backslash."""
    b = ModelBuilder("utc */ generated-code test /*")
    rng = np.random.default_rng(5)
    x = b.add_tensor("in*/put /* ??/", [1, 4, 4, 2], "int8", scale=0.05, zero_point=-3)
    w = b.add_tensor("w/**/??=", [3, 1, 1, 2], "int8", data=rng.integers(-127, 128, 6),
                     scale=[0.01, 0.02, 0.03], zero_point=0)
    bias = b.add_tensor("bias*/\\", [3], "int32", data=rng.integers(-50, 50, 3),
                        scale=[0.0005, 0.001, 0.0015], zero_point=0)
    y = b.add_tensor("out/*put*/??/", [1, 4, 4, 3], "int8", scale=0.1, zero_point=2)
    b.add_operator("CONV_2D", [x, w, bias], [y], {"padding": "VALID"})
    return b.build([x], [y])


def _compile(tmp_path: Path, model: bytes | Path, opt_level: int):
    if isinstance(model, bytes):
        path = tmp_path / "model.tflite"
        path.write_bytes(model)
        model = path
    out = tmp_path / "out"
    module = compile_model(model, out, name="m", opt_level=opt_level).module
    return module, out


def _planned_buffers(module) -> list[tuple]:
    """(op, absolute offset, bytes, planned live range or None) for every `buf.alloc`
    and `buf.view`, in IR order: what the memory map must show."""
    absolute: dict = {}
    found = []
    for op in main_function(module).block.ops:
        if isinstance(op, buf.AllocOp):
            absolute[op.result] = op.attrs["offset"]
            found.append((op, op.attrs["offset"], op.attrs["size"], tuple(op.attrs["live"])))
        elif isinstance(op, buf.ViewOp):
            absolute[op.result] = absolute[op.operand("source")] + op.attrs["offset"]
            found.append((op, absolute[op.result], op.result.type.byte_size, None))
    return found


def _memory_map(cpp: str) -> dict[str, dict]:
    block = cpp.split("/* Memory map of the arena", 1)[1].split("*/", 1)[0]
    lines = [line[3:] for line in block.splitlines() if line.startswith(" * ")]
    header = next(i for i, line in enumerate(lines) if line.startswith("buffer "))
    rows = {}
    for line in lines[header + 1:]:
        m = MAP_ROW.fullmatch(line)
        assert m, f"memory-map row does not parse: {line!r}"
        assert m["name"] not in rows, f"{m['name']} has two rows"
        rows[m["name"]] = m.groupdict()
    return rows


def _hint_identifier(hint: str) -> str:
    return "buf_" + (re.sub(r"[^A-Za-z0-9]+", "_", hint).strip("_") or "v")


def check_memory_map(module, cpp: str) -> None:
    rows = _memory_map(cpp)
    defines = {m["name"]: m.groupdict() for m in DEFINE.finditer(cpp)}
    assert set(defines) == set(rows), "every buffer in the map has exactly one macro"
    planned = _planned_buffers(module)
    assert len(rows) == len(planned), "one memory-map row per planned buffer"
    name_of: dict = {}
    unclaimed = dict(rows)
    for op, offset, size, live in planned:
        base = _hint_identifier(op.result.name_hint or "")
        candidates = [n for n, r in unclaimed.items()
                      if re.fullmatch(re.escape(base) + r"(_\d+)?", n)
                      and int(r["offset"]) == offset and int(r["bytes"]) == size]
        assert candidates, f"no row named after %{op.result.name_hint} at {offset} ({size} B)"
        name = candidates[0]
        row = unclaimed.pop(name)
        name_of[op.result] = name
        assert int(defines[name]["offset"]) == offset
        if live is not None:
            assert row["live"] == f"{live[0]}..{live[1]}", (name, row["live"], live)
        if isinstance(op, buf.ViewOp):
            assert row["source"] == name_of[op.operand("source")], name
            assert int(row["at"]) == op.attrs["offset"], name
        else:
            assert row["source"] is None, name
    fn = main_function(module)
    for i, v in buf.model_inputs(fn.block.ops).items():
        assert f'input {i} "{comment_text(fn.attrs["inputs"][i])}"' in rows[name_of[v]]["holds"]
    for i, v in enumerate(fn.return_op.operand_values):
        if v in name_of:
            expected = f'output {i} "{comment_text(fn.attrs["outputs"][i])}"'
            assert expected in rows[name_of[v]]["holds"]


def check_no_raw_offsets(cpp: str) -> None:
    """Only the `buf_` macros spell out arena offsets; the calls and the I/O functions
    use their names."""
    raw = [line for line in cpp.splitlines()
           if re.search(r"arena\s*\+", line) and not DEFINE.fullmatch(line)]
    assert not raw, f"raw arena offsets outside the buffer macros: {raw[:3]}"
    run = cpp.split("int m_run(void) {", 1)[1].split("\n}\n", 1)[0]
    used = set(re.findall(r"\bbuf_\w+", run))
    assert used and used <= {m["name"] for m in DEFINE.finditer(cpp)}


def _prefix(resource: str) -> str:
    return resource.split(".", 1)[0]


def check_weights(module, out: Path) -> dict[str, dict]:
    header = (out / "m_weights.h").read_text()
    declared = re.findall(r"extern const \w+ (\w+)\[\d+\];  /\* \[[0-9, ]*\] \*/", header)
    assert declared and len(declared) == header.count("extern const")
    for name in declared:
        assert name.startswith("m_w_") and WEIGHT_SCHEME.fullmatch(name[4:]), name
    source = (out / "m_weights.cpp").read_text()
    arrays = {m["name"]: m.groupdict() for m in WEIGHT_ARRAY.finditer(source)}
    assert sorted(arrays) == sorted(declared), "every weight array has its comment block"
    for name, a in arrays.items():
        rtype = module.resources[a["resource"]].type
        assert a["shape"] == ", ".join(map(str, rtype.shape)), name
        assert int(a["count"]) == max(math.prod(rtype.shape), 1), name
        assert name == "m_w_" + a["resource"].replace(".", "_"), name
    # an op's own constants and the tables computed for it form one family
    fn = main_function(module)
    for call in (op for op in fn.block.ops if isinstance(op, buf.CallOp)):
        tables = [v.name for v in call.attrs.values() if isinstance(v, ResourceRef)]
        if not tables:
            continue
        owned = [v.op.attrs["value"].name for v in call.operand_values
                 if isinstance(v.op, buf.GlobalOp)]
        prefixes = {_prefix(r) for r in tables + owned}
        assert len(prefixes) == 1, f"{call.where()}: resources {tables + owned}"
        kind = call.attrs["op"].split(".")[-1]
        assert WEIGHT_SCHEME.fullmatch(f"{prefixes.pop()}_x")["op"] == kind
    return {a["resource"]: a for a in arrays.values()}


@pytest.mark.parametrize("opt_level", [0, 2])
def test_kws_code_names_buffers_and_weights(opt_level: int, tmp_path: Path) -> None:
    module, out = _compile(tmp_path, shared_model("mlperf_kws_dscnn_int8.tflite"), opt_level)
    cpp = (out / "m.cpp").read_text()
    check_memory_map(module, cpp)
    check_no_raw_offsets(cpp)
    weights = check_weights(module, out)
    assert {"conv2d0.filter", "conv2d0.bias", "conv2d0.mult", "conv2d0.shift",
            "fully_connected11.weights", "fully_connected11.mult"} <= set(weights)
    assert weights["conv2d0.filter"]["origin"] == (
        'TFLite tensor "functional_1/conv2d/Conv2D" (an input of TFLite op #0)')
    assert weights["conv2d0.filter"]["type"].startswith("int8 per channel along axis 0 (64 ")
    assert weights["conv2d0.mult"]["origin"].startswith(
        "computed by utc, the `mult` table of step 0: qnn.conv2d -> utc_conv2d_s8")
    # the convolution's parameters: one struct in flash, its address passed
    assert ("static const utc_conv_s8_params params = {buf_input_1, m_w_conv2d0_filter,"
            in cpp) and "utc_conv2d_s8(&params);" in cpp


@pytest.mark.parametrize("opt_level", [0, 2])
def test_folded_pad_keeps_one_weight_family(opt_level: int, tmp_path: Path) -> None:
    module, out = _compile(tmp_path, pad_conv_model(), opt_level)
    cpp = (out / "m.cpp").read_text()
    check_memory_map(module, cpp)
    check_no_raw_offsets(cpp)
    weights = check_weights(module, out)
    assert {"conv2d1.filter", "conv2d1.bias", "conv2d1.mult", "conv2d1.shift"} <= set(weights)
    # the reshape is a view of the convolution's output, shown as such
    rows = _memory_map(cpp)
    assert any(r["source"] for r in rows.values())


def test_hostile_tensor_names_stay_inside_comments(tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(hostile_names_model())
    # compile_and_build builds every file with -Wall -Wextra -Werror (so -Wcomment and
    # -Wtrigraphs) and runs the IR-level plan checker
    compiled = compile_and_build(path, tmp_path, name="m")
    out = tmp_path / "out"
    cpp = (out / "m.cpp").read_text()
    check_memory_map(compiled.module, cpp)
    check_no_raw_offsets(cpp)
    weights = check_weights(compiled.module, out)
    assert weights["conv2d0.filter"]["origin"].startswith('TFLite tensor "w/ ** /?\\?="')
    assert 'input 0 "in* /put / * ?\\?/"' in cpp
    for generated in ("m.h", "m.cpp", "m_weights.h", "m_weights.cpp"):
        text = (out / generated).read_text()
        for comment in re.findall(r"/\*(.*?)\*/", text, flags=re.S):
            assert "/*" not in comment and "??" not in comment, (generated, comment)


def test_the_output_folder_gets_ordinary_permissions(tmp_path: Path) -> None:
    """The staging folder is private while it is written (mkdtemp: 0700); the folder
    users get has the permissions a plain `mkdir` gives under their umask."""
    import os
    import stat

    from utc.compiler.driver import compile_model

    from tests.models_builtin import sine_model_int8

    model = tmp_path / "sine.tflite"
    model.write_bytes(sine_model_int8())
    umask = os.umask(0o022)
    try:
        compile_model(model, tmp_path / "out")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_a_model_with_only_constant_outputs_builds_and_runs(tmp_path: Path) -> None:
    """Nothing lives in the arena (no inputs, a constant output): the generated code still
    builds warning-free (the arena is referenced) and returns the constant. Found by the
    fuzzer's sanitizer sample (a mutant whose operators were all cut away)."""
    from utc.codegen.host_build import build_runner, run_runner

    from tests.tflite_writer import ModelBuilder

    b = ModelBuilder()
    c = b.add_tensor("c", [1, 4], "float32", data=np.arange(4, dtype=np.float32))
    model = tmp_path / "const.tflite"
    model.write_bytes(b.build([], [c]))
    compile_model(model, tmp_path / "out")
    exe = build_runner(tmp_path / "out", "model", 0, 1, tmp_path / "build")
    (outputs,) = run_runner(exe, [[]], [((1, 4), np.float32)])
    assert outputs[0].tolist() == [[0.0, 1.0, 2.0, 3.0]]


@pytest.mark.parametrize("compiler", ["g++", "arm-none-eabi-g++"])
def test_parameter_structs_are_initialised_statically(compiler: str, tmp_path: Path) -> None:
    """The `static const` parameter structs hold arena addresses (not constant expressions
    in ISO C++ terms): GCC must still place them in read-only data, initialised at link
    time, with no guard variable or start-up constructor, at -O0 as at -Os."""
    import shutil
    import subprocess

    if shutil.which(compiler) is None:
        pytest.fail(f"{compiler} is not installed (.ci/run installs it)")
    _, out = _compile(tmp_path, shared_model("mlperf_kws_dscnn_int8.tflite"), 2)
    cpp = (out / "m.cpp").read_text()
    assert "static const utc_conv_s8_params params = {" in cpp
    for opt in ("-O0", "-Os"):
        obj = tmp_path / f"m{opt}.o"
        flags = ["-mcpu=cortex-m4", "-mthumb"] if compiler.startswith("arm") else []
        subprocess.run([compiler, *flags, opt, "-std=c++11", "-fno-exceptions", "-fno-rtti",
                        "-c", str(out / "m.cpp"), "-o", str(obj), f"-I{out}"], check=True)
        symbols = subprocess.run([compiler.replace("g++", "nm"), str(obj)], check=True,
                                 capture_output=True, text=True).stdout
        assert "__cxa_guard" not in symbols and "_GLOBAL__sub_I" not in symbols, opt
        assert re.search(r" [rRdD] _ZZ\w*params", symbols), symbols
