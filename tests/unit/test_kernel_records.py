"""The kernel records (runtime/kernels.py) against the C headers they describe.

A record's typed argument list is where the generated call and the test harness's ctypes
signatures come from, so it must be the header's prototype exactly: same parameters, same
order, same C types, same names. Every kernel a header declares has a record, and every
record's files exist.
"""

from __future__ import annotations

import re

import pytest
from utc.runtime import RUNTIME_DIR
from utc.runtime.kernels import KERNELS, KERNELS_BY_NAME, Kernel

from tests.conftest import cmsis_nn_root

_PROTOTYPE = re.compile(r"\bvoid\s+(utc_\w+)\s*\(([^)]*)\)\s*;")
#: `typedef struct NAME { fields } NAME;` (a kernel's parameter struct)
_STRUCT = re.compile(r"\btypedef\s+struct\s+\w+\s*\{([^}]*)\}\s*(\w+)\s*;")
_CMSIS_PROTOTYPE = re.compile(r"\b(?:void|arm_cmsis_nn_status)\s+(arm_\w+)\s*\(([^)]*)\)\s*;")
UTC_KERNELS = [k for k in KERNELS if k.library == "utc"]
CMSIS_NN_KERNELS = [k for k in KERNELS if k.library == "cmsis-nn"]


def _normalise(ctype: str) -> str:
    """`const int8_t*`, `const  int8_t *` -> `const int8_t *`."""
    ctype = re.sub(r"\s*\*\s*", " *", ctype.strip())
    return re.sub(r"\s+", " ", ctype).replace("* const", "*const")


def _parse_parameter(text: str) -> tuple[str, str]:
    """`const int32_t *in1_shape` -> ("const int32_t *", "in1_shape")."""
    m = re.fullmatch(r"(.*?)(\w+)", " ".join(text.split()))
    assert m, f"cannot parse parameter {text!r}"
    return _normalise(m.group(1)), m.group(2)


def header_prototypes() -> dict[str, list[tuple[str, str]]]:
    """Every `void utc_*(...)` declared in runtime/*.h -> its (type, name) parameters."""
    found: dict[str, list[tuple[str, str]]] = {}
    for header in sorted(RUNTIME_DIR.glob("*.h")):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        for name, params in _PROTOTYPE.findall(text):
            assert name not in found, f"{name} is declared twice"
            found[name] = [_parse_parameter(p) for p in params.split(",")]
    return found


def test_parser_reads_a_prototype() -> None:
    assert _parse_parameter(" const void *const  *inputs") == ("const void *const *", "inputs")
    assert _parse_parameter("int32_t size") == ("int32_t", "size")


@pytest.mark.parametrize("kernel", UTC_KERNELS, ids=lambda k: k.name)
def test_record_matches_its_header(kernel: Kernel) -> None:
    headers = [f for f in kernel.files if f.endswith(".h")]
    declared = {}
    for h in headers:
        text = re.sub(r"/\*.*?\*/", "", (RUNTIME_DIR / h).read_text(), flags=re.S)
        declared.update({n: p for n, p in _PROTOTYPE.findall(text)})
    assert kernel.name in declared, f"none of {headers} declares {kernel.name}"
    prototype = [_parse_parameter(p) for p in declared[kernel.name].split(",")]
    record = [(_normalise(a.ctype), a.name) for a in kernel.args]
    if kernel.params:  # one struct parameter, whose fields are the record's arguments
        assert prototype == [(f"const {kernel.params} *", "params")]
        texts = [re.sub(r"/\*.*?\*/", "", (RUNTIME_DIR / h).read_text(), flags=re.S)
                 for h in headers]
        structs = [m for text in texts for m in _STRUCT.findall(text) if m[1] == kernel.params]
        assert len(structs) == 1, f"none of {headers} defines the struct {kernel.params}"
        fields = [_parse_parameter(f) for f in structs[0][0].split(";") if f.strip()]
        assert record == fields
    else:
        assert record == prototype


def test_every_declared_kernel_has_a_record() -> None:
    assert sorted(set(header_prototypes()) - set(KERNELS_BY_NAME)) == []


@pytest.mark.parametrize("kernel", CMSIS_NN_KERNELS, ids=lambda k: k.name)
def test_cmsis_nn_record_matches_the_library_header(kernel: Kernel) -> None:
    """The CMSIS-NN records against arm_nnfunctions.h of the tree at CMSIS_NN_PATH."""
    header = cmsis_nn_root() / "Include" / "arm_nnfunctions.h"
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header.read_text(), flags=re.S)
    declared = dict(_CMSIS_PROTOTYPE.findall(text))
    assert kernel.name in declared, f"arm_nnfunctions.h does not declare {kernel.name}"
    prototype = [_parse_parameter(p) for p in declared[kernel.name].split(",")]
    assert [(_normalise(a.ctype), a.name) for a in kernel.args] == prototype
    assert kernel.includes == ("arm_nnfunctions.h",) and kernel.files == ()


def test_record_files_exist_and_names_follow_the_rule() -> None:
    for kernel in UTC_KERNELS:
        for f in kernel.files:
            assert (RUNTIME_DIR / f).is_file(), f"{kernel.name}: missing {f}"
        suffix = {"int8": "_s8", "int16": "_s16", "float32": "_f32", "int32": "_s32", "int64": "_s64",
                  "uint32": "_u32", "uint64": "_u64", "bool": "_bool", "any": ""}[kernel.dtype]
        # utc_<op>_<dtype>; conversions name both ends (utc_quantize_f32_s8)
        assert re.fullmatch(r"utc_[a-z0-9_]+", kernel.name)
        assert kernel.name.endswith(suffix) or kernel.dtype == "any", kernel.name
        if kernel.dtype == "any":
            assert not re.search(r"_(s8|s16|f32)$", kernel.name), kernel.name


def test_buf_calls_are_checked_against_their_records() -> None:
    """bufferize's module check: a call names a declared kernel implementing its op, with
    input and output segments that fit the op's fields."""
    from utc.compiler.ir.parser import parse_module
    from utc.passes.bufferize import kernel_call_check

    from tests.conftest import REPO

    text = (REPO / "tests" / "lit" / "codegen" / "translate-fully-connected.utc").read_text()
    assert kernel_call_check(parse_module(text)) == []
    bad = parse_module(text.replace('callee = "utc_fully_connected_s8"', 'callee = "utc_nope"', 1))
    assert any("'utc_nope', which no kernel record declares" in p for p in kernel_call_check(bad))
    wrong_op = parse_module(text.replace('op = "qnn.fully_connected"', 'op = "qnn.conv2d"', 1))
    assert any("does not implement qnn.conv2d" in p for p in kernel_call_check(wrong_op))
    few = parse_module(text.replace("num_inputs = 3", "num_inputs = 1", 1))
    assert any("inputs do not fit qnn.fully_connected" in p for p in kernel_call_check(few))
