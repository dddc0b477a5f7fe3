"""The Python API (`import utc`): the same compiler as the command line, seen from Python.

Each test holds the API to the CLI or to TFLite Micro: the plan, report, JSON and
written files equal what `utc compile` prints and writes, `run` equals the interpreter,
the IR at a level re-runs through `utc.passes.run` to the final IR, and every error is
`utc.UtcError` with the CLI's words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import utc
from utc.compiler.ir import Module

from tests.conftest import shared_model
from tests.models_builtin import sine_model_float, sine_model_int8
from tests.oracle import TflmRunner, random_inputs

CLI = [sys.executable, "-m", "utc.compiler.driver.cli"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Runners are cached under $XDG_CACHE_HOME: a fresh one per test module run, so the
    cache tests see their own builds (CMSIS-NN is not used here, so nothing slow is lost)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def sine(tmp_path: Path) -> Path:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    return path


# ---- compile: the CLI's plan, report, JSON and files ------------------------------------


def test_compile_matches_the_cli(sine: Path, tmp_path: Path) -> None:
    m = utc.compile(sine, name="m")
    proc = cli("compile", str(sine), "-o", str(tmp_path / "cli"), "--name", "m", "--report",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"(arena {m.arena_bytes} B, lower bound {m.lower_bound} B)" in proc.stdout
    assert m.report() in proc.stdout
    assert (tmp_path / "cli" / "memory.svg").read_text() == m.svg()

    files = m.write(tmp_path / "api")
    names = sorted(p.name for p in files)
    cli_names = sorted(p.name for p in (tmp_path / "cli").iterdir() if p.name != "memory.svg")
    assert names == cli_names
    for name in names:
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_report_json_is_the_cli_document(sine: Path, tmp_path: Path) -> None:
    m = utc.compile(sine, name="m")
    proc = cli("compile", str(sine), "-o", str(tmp_path / "out"), "--name", "m",
               "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == m.report_json()
    assert m.plan == m.report_json()["memory"]
    assert m.plan["arena_bytes"] == m.arena_bytes and m.plan["lower_bound"] == m.lower_bound
    assert [r.kernel for r in m.layers] == [row["kernel"] for row in m.report_json()["layers"]]
    written = m.write(tmp_path / "with-report", report=True)
    assert {"memory.svg", "report.json"} <= {p.name for p in written}
    assert (tmp_path / "with-report" / "report.json").read_text() == proc.stdout


def test_bytes_and_path_compile_alike(sine: Path) -> None:
    from_path = utc.compile(sine)
    from_bytes = utc.compile(sine.read_bytes(), source="sine.tflite")
    assert from_bytes.report_json() == from_path.report_json()
    assert from_bytes.ir("buf") == from_path.ir("buf")
    unnamed = utc.compile(bytearray(sine.read_bytes()))
    assert unnamed.report_json()["model"]["source"] == "<model bytes>"


def test_options_reach_the_pipeline(sine: Path) -> None:
    o0 = utc.compile(sine, opt=0)
    assert o0.pipeline == utc.pipeline(0)
    assert "plan-memory{strategy=greedy-by-size}" in o0.pipeline
    m4 = utc.compile(sine, target="cortex-m4", kernels="cmsis-nn")
    assert m4.target == "cortex-m4" and m4.report_json()["target"] == "cortex-m4"
    assert "select-kernels{kernels=cmsis-nn,target=cortex-m4}" in m4.pipeline
    own = utc.compile(sine, pipeline=utc.pipeline(1))
    assert own.pipeline == utc.pipeline(1)


def test_notebook_display_is_the_svg(sine: Path) -> None:
    m = utc.compile(sine, name="m")
    assert m._repr_svg_() == m.svg()
    html = m._repr_html_()
    assert html.startswith("<div>") and "<?xml" not in html
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    assert ET.fromstring(svg).tag.endswith("svg")
    assert repr(m) == (f"<utc.CompiledModel 'm': 3 kernel calls, arena {m.arena_bytes:,} B (lower "
                       f"bound {m.lower_bound:,} B), weights {m.weight_bytes:,} B, target host, "
                       "kernels auto>")


# ---- run: the generated code on numpy inputs ---------------------------------------------


@pytest.mark.parametrize("make", [sine_model_int8, sine_model_float], ids=["int8", "float"])
def test_run_matches_tflite_micro(make, tmp_path: Path) -> None:
    data = make()
    m = utc.compile(data)
    oracle = TflmRunner(data)
    rng = np.random.default_rng(7)
    samples = [random_inputs(data, rng) for _ in range(50)]
    got = m.run_samples(samples)
    for sample, outputs in zip(samples, got):
        want = oracle.run(sample)
        if want[0].dtype.kind == "f":
            np.testing.assert_allclose(outputs[0], want[0], rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(outputs[0], want[0])
    single = m.run(samples[0][0])  # one array for a one-input model
    np.testing.assert_array_equal(single[0], got[0][0])
    single[0][...] = 0  # outputs are the caller's arrays, not views of a buffer


def test_run_reuses_the_cached_build(sine: Path) -> None:
    x = np.array([[3]], dtype=np.int8)
    first = utc.compile(sine, name="m")
    first.run(x)
    exe = first._exe()
    built = exe.stat().st_mtime_ns
    # the same code from another object (the source name is in the generated comments)
    second = utc.compile(sine.read_bytes(), name="m", source="sine.tflite")
    second.run(x)
    assert second._exe() == exe and exe.stat().st_mtime_ns == built
    other = utc.compile(sine, name="other")  # other code: another runner
    other.run(x)
    assert other._exe() != exe


def test_real_model_runs_bit_exact() -> None:
    path = shared_model("micro_speech_quantized.tflite")
    data = path.read_bytes()
    m = utc.compile(path)
    rng = np.random.default_rng(3)
    samples = [random_inputs(data, rng) for _ in range(10)]
    oracle = TflmRunner(data)
    for sample, outputs in zip(samples, m.run_samples(samples)):
        np.testing.assert_array_equal(outputs[0], oracle.run(sample)[0])


# ---- IR and passes -----------------------------------------------------------------------


def _conv_model() -> Path:
    path = shared_model("mlperf_kws_dscnn_int8.tflite")
    return path


def test_ir_levels_show_each_dialect(sine: Path) -> None:
    m = utc.compile(sine)
    assert m.levels[:5] == ("import-tflite", "tensor", "fused", "qnn", "buf")
    tensor, fused, qnn, final = (m.ir(lv) for lv in ("tensor", "fused", "qnn", "buf"))
    assert "tensor.fully_connected" in tensor and "fused." not in tensor
    assert "fused.fully_connected" in fused and "qnn." not in fused
    assert "qnn.fully_connected" in qnn and "buf." not in qnn
    assert "buf.call" in final and "arena_bytes" in final
    assert m.ir("buf") == utc.print_ir(m.module, elide_resources=True)
    assert "elided" not in m.ir("qnn", elide_resources=False)


def test_ir_after_a_pass_and_unknown_levels(sine: Path) -> None:
    m = utc.compile(sine)
    assert m.ir("plan-memory") == m.ir("buf")
    assert "buf.alloc" in m.ir("bufferize") and "offset" not in m.ir("bufferize").split("module")[1]
    with pytest.raises(utc.UtcError, match=r"no IR level 'llvm' in this pipeline \(levels: "
                                           r"import-tflite, tensor, fused, qnn, buf, canonicalize"):
        m.ir("llvm")
    o0 = utc.compile(sine, pipeline="tensor-to-fused,lower-to-qnn,select-kernels,bufferize,"
                                    "plan-memory")
    with pytest.raises(utc.UtcError, match="no IR level 'canonicalize'"):
        o0.ir("canonicalize")


@pytest.mark.parametrize("level", ["import-tflite", "tensor", "fused", "qnn"])
def test_passes_run_finishes_the_pipeline_from_any_level(level: str, sine: Path) -> None:
    """The module at a level, with the rest of the pipeline run by `utc.passes.run`, ends
    at exactly the compiled IR: levels and passes are the compiler's own, not a second
    implementation."""
    m = utc.compile(sine, kernels="reference")
    names = [p.strip() for p in m.pipeline.split(",")]
    boundary = {"import-tflite": names[0], "tensor": "tensor-to-fused",
                "fused": "lower-to-qnn", "qnn": "bufferize"}[level]
    rest = ",".join(names[names.index(boundary):])
    module = m.ir_module(level)
    assert isinstance(module, Module)
    assert utc.print_ir(module, elide_resources=True) == m.ir(level)
    utc.passes.run(module, rest, verify_each=True)
    assert utc.print_ir(module, elide_resources=True) == m.ir("buf")


def test_ir_text_parses_back_and_lowers(sine: Path) -> None:
    """`utc opt` from Python: the printed qnn level, parsed, lowered to the final IR."""
    m = utc.compile(sine, kernels="reference")
    names = [p.strip() for p in m.pipeline.split(",")]
    module = utc.parse_ir(m.ir("qnn", elide_resources=False))
    utc.passes.run(module, ",".join(names[names.index("bufferize"):]))
    assert utc.print_ir(module, elide_resources=True) == m.ir("buf")


def test_passes_run_on_a_real_model_from_import() -> None:
    path = _conv_model()
    m = utc.compile(path, kernels="reference")
    module = utc.import_model(path)
    utc.passes.run(module, m.pipeline)
    assert utc.print_ir(module, elide_resources=True) == m.ir("buf")
    assert "fused.conv2d" in m.ir("fold-pad")


def test_passes_run_errors_are_utc_errors(sine: Path) -> None:
    module = utc.import_model(sine)
    with pytest.raises(utc.UtcError, match=r"unknown pass 'no-such-pass' \(known passes: bufferize, "):
        utc.passes.run(module, "canonicalize,no-such-pass")
    with pytest.raises(utc.UtcError, match="pass 'plan-memory' has no option 'colour'"):
        utc.passes.run(module, "plan-memory{colour=red}")
    with pytest.raises(utc.UtcError, match=r"<string>:1:\d+: "):
        utc.parse_ir("module @m { this is not IR }")


@dataclass(frozen=True)
class CountCalls(utc.Pass):
    """Counts kernel calls into a module attribute (a test pass registered from Python)."""

    name = "test-count-calls"

    def run(self, module: Module) -> None:
        from utc.dialects import buf

        CountCalls.seen = sum(isinstance(op, buf.CallOp) for op in module.walk())


def test_a_pass_registered_from_python_runs_in_pipelines(sine: Path) -> None:
    utc.register_pass(CountCalls, replace=True)
    m = utc.compile(sine, pipeline=utc.pipeline(2) + ",test-count-calls")
    assert CountCalls.seen == len(m.layers) == 3
    assert "test-count-calls" in m.levels
    module = utc.import_model(sine)
    CountCalls.seen = -1
    utc.passes.run(module, "test-count-calls")
    assert CountCalls.seen == 0  # nothing bufferized yet


def test_register_pass_refusals() -> None:
    @dataclass(frozen=True)
    class First(utc.Pass):
        name = "test-twice"

        def run(self, module: Module) -> None:
            pass

    @dataclass(frozen=True)
    class Second(utc.Pass):
        name = "test-twice"

        def run(self, module: Module) -> None:
            pass

    @dataclass(frozen=True)
    class Canonicalize(utc.Pass):
        name = "canonicalize"

        def run(self, module: Module) -> None:
            pass

    utc.register_pass(First, replace=True)
    with pytest.raises(utc.UtcError, match="pass 'test-twice' is registered twice"):
        utc.register_pass(Second)
    assert utc.register_pass(replace=True)(Second) is Second  # a re-run notebook cell
    with pytest.raises(utc.UtcError, match="pass 'canonicalize' is one of utc's own"):
        utc.register_pass(Canonicalize, replace=True)
    with pytest.raises(utc.UtcError, match="is not a subclass of utc.Pass"):
        utc.register_pass(int)


def test_pass_plugin_file_loads_from_python(sine: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "myplugin.py"
    plugin.write_text(
        "from dataclasses import dataclass\n"
        "from utc.compiler.pass_manager import Pass, register_pass\n\n"
        "@register_pass\n@dataclass(frozen=True)\n"
        "class Mark(Pass):\n"
        "    '''Sets the module's name (a plugin loaded from a file).'''\n"
        "    name = 'test-plugin-mark'\n"
        "    def run(self, module):\n"
        "        module.name = 'marked'\n")
    utc.load_pass_plugin(plugin)
    module = utc.import_model(sine)
    utc.passes.run(module, "test-plugin-mark")
    assert module.name == "marked"
    with pytest.raises(utc.UtcError, match="pass plugin '.*missing.py' does not exist"):
        utc.load_pass_plugin(tmp_path / "missing.py")


# ---- errors: utc.UtcError with the CLI's text ---------------------------------------------


def _cli_error(tmp_path: Path, *args: str) -> str:
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("utc: error: ") and proc.stderr.count("\n") == 1
    return proc.stderr[len("utc: error: "):-1]


@pytest.mark.parametrize("case", ["not-a-model", "truncated", "bad-name", "missing",
                                  "arena-limit", "bad-pipeline"])
def test_errors_carry_the_cli_text(case: str, sine: Path, tmp_path: Path) -> None:
    model, options, kwargs = str(sine), [], {}
    if case == "not-a-model":
        model = str(tmp_path / "junk.tflite")
        Path(model).write_bytes(b"not a flatbuffer at all")
    elif case == "truncated":
        model = str(tmp_path / "cut.tflite")
        Path(model).write_bytes(sine.read_bytes()[:200])
    elif case == "bad-name":
        options, kwargs = ["--name", "int"], {"name": "int"}
    elif case == "missing":
        model = str(tmp_path / "nowhere.tflite")
    elif case == "arena-limit":
        options, kwargs = ["--max-arena-bytes", "8"], {"max_arena_bytes": 8}
    elif case == "bad-pipeline":
        options, kwargs = ["--pipeline", "canonicalize,nope"], {"pipeline": "canonicalize,nope"}
    expected = _cli_error(tmp_path, "compile", model, "-o", str(tmp_path / "out"), *options)
    with pytest.raises(utc.UtcError) as caught:
        utc.compile(model, **kwargs)
    if case == "bad-pipeline":  # the list of known passes also names the passes this test
        # process registered from Python (other tests' plugins), which the CLI has not
        got, expected = (t.split(" (known passes: ")[0] for t in (str(caught.value), expected))
        assert got == expected and "unknown pass 'nope'" in got
        return
    assert str(caught.value) == expected
    assert not (tmp_path / "out").exists()


def test_argument_errors(sine: Path, tmp_path: Path) -> None:
    for kwargs, pattern in (({"kernels": "fast"}, "kernels must be one of auto, cmsis-nn, "
                                                   "reference, got 'fast'"),
                            ({"target": "cortex-m99"}, "target must be one of host, "),
                            ({"opt": 3}, r"optimization level must be one of \[0, 1, 2\], got 3"),
                            ({"max_weight_bytes": 0}, "max_weight_bytes must be a positive")):
        with pytest.raises(utc.UtcError, match=pattern):
            utc.compile(sine, **kwargs)
    with pytest.raises(utc.UtcError, match="model must be a .tflite file name or the model's "
                                           "bytes, got int"):
        utc.compile(42)
    with pytest.raises(utc.UtcError, match="<model bytes>: not a TFLite flatbuffer"):
        utc.compile(b"TFL3")
    with pytest.raises(utc.UtcError, match="kernels must be reference or cmsis-nn"):
        utc.pipeline(kernels="auto")


def test_run_refuses_wrong_inputs(sine: Path) -> None:
    m = utc.compile(sine)
    with pytest.raises(utc.UtcError, match=r"input 0: expected int8 \[1, 1\], got float32 \[1, 1\]"):
        m.run(np.zeros((1, 1), np.float32))
    with pytest.raises(utc.UtcError, match=r"input 0: expected int8 \[1, 1\], got int8 \[1\]"):
        m.run(np.zeros(1, np.int8))
    with pytest.raises(utc.UtcError, match="the model has 1 inputs, got 2 inputs"):
        m.run([np.zeros((1, 1), np.int8)] * 2)
    with pytest.raises(utc.UtcError, match="input 0: expected a numpy array"):
        m.run([[5]])
    assert m.run_samples([]) == []


def test_write_refuses_a_file_and_leaves_nothing(sine: Path, tmp_path: Path) -> None:
    m = utc.compile(sine)
    target = tmp_path / "afile"
    target.write_text("keep")
    expected = _cli_error(tmp_path, "compile", str(sine), "-o", str(target))
    with pytest.raises(utc.UtcError) as caught:
        m.write(target)
    assert str(caught.value) == expected
    assert target.read_text() == "keep"


# ---- the package itself --------------------------------------------------------------------


def test_import_utc_is_cheap() -> None:
    """`import utc` loads nothing of the compiler (nor numpy): `utc --version` and plugin
    files pay for what they use."""
    code = ("import sys, utc; print(sorted(m for m in sys.modules "
            "if m.startswith('utc') or m == 'numpy'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['utc']"


def test_python_dash_m_utc_is_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "utc", "--version"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"utc {utc.__version__}"


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="module 'utc' has no attribute 'compiler_x'"):
        utc.compiler_x  # noqa: B018


def test_readme_python_example_runs(tmp_path: Path) -> None:
    """The README's Python section, run as written (from a folder holding the example)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Python"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("\n```", start)]
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "sine_int8.tflite").write_bytes(sine_model_int8())
    proc = subprocess.run([sys.executable, "-c", code + "\nprint('ok', y[0].dtype, len(doc['layers']))"],
                          cwd=tmp_path, capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "ok int8 3"
    assert (tmp_path / "out" / "report.json").is_file() and (tmp_path / "out" / "m.h").is_file()


def test_run_links_cmsis_nn_code(sine: Path) -> None:
    """Code compiled with CMSIS-NN kernels runs on the host build too (the library's
    portable C, cached), and gives TFLite Micro's outputs."""
    from tests.conftest import cmsis_nn_root

    cmsis_nn_root()
    data = sine.read_bytes()
    m = utc.compile(data, target="cortex-m4", kernels="cmsis-nn")
    assert {row.kernel for row in m.layers} == {"arm_fully_connected_s8"}
    rng = np.random.default_rng(11)
    samples = [random_inputs(data, rng) for _ in range(20)]
    oracle = TflmRunner(data)
    for sample, outputs in zip(samples, m.run_samples(samples)):
        np.testing.assert_array_equal(outputs[0], oracle.run(sample)[0])
