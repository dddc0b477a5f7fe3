"""docs/writing-a-pass.md's example plugin (examples/pass_plugins/pointwise_conv_to_fc.py)
does what the page says: it rewrites 1x1 convolutions (over at most `max-rows` pixels)
into fully connected layers, leaves no dead weights, and the output stays bit-exact with
TFLite Micro, which still runs the model's CONV_2D. The page's own commands and Python
block are run as written, and their printed results checked against the page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import utc
from utc.compiler.pass_manager import PASS_REGISTRY

from examples.pass_plugins.make_head_model import head_model
from tests.conftest import REPO, SHARED_MODELS, shared_model
from tests.oracle import TflmRunner, random_inputs

PLUGIN = REPO / "examples" / "pass_plugins" / "pointwise_conv_to_fc.py"
DOC = REPO / "docs" / "writing-a-pass.md"


@pytest.fixture(scope="module", autouse=True)
def plugin_loaded() -> None:
    if "pointwise-conv-to-fc" not in PASS_REGISTRY:
        utc.load_pass_plugin(PLUGIN)


def pipeline(options: str = "", kernels: str = "reference", target: str = "host") -> str:
    return utc.pipeline(2, kernels, target).replace(
        "lower-to-qnn,", f"lower-to-qnn,pointwise-conv-to-fc{options},")


def check_bit_exact(m, model: bytes, samples: int = 16) -> None:
    rng = np.random.default_rng(5)
    batch = [random_inputs(model, rng) for _ in range(samples)]
    oracle = TflmRunner(model)
    for sample, got in zip(batch, m.run_samples(batch)):
        np.testing.assert_array_equal(got[0], oracle.run(sample)[0])


@pytest.mark.parametrize("options,rewritten", [("", {2}), ("{max-rows=0}", {0, 2}),
                                               ("{max-rows=64}", {0, 2}),
                                               ("{max-rows=63}", {2})])
def test_rewrites_pointwise_convolutions_up_to_max_rows(options: str, rewritten: set[int]) -> None:
    """The head model: a 1x1 convolution over 64 pixels (step 0), global pooling, a 1x1
    convolution over one pixel (step 2)."""
    model = head_model()
    plain = utc.compile(model)
    m = utc.compile(model, pipeline=pipeline(options))
    assert [r.op for r in plain.layers] == ["qnn.conv2d", "qnn.avg_pool2d", "qnn.conv2d"]
    for row, before in zip(m.layers, plain.layers):
        if row.step in rewritten:
            assert (row.op, row.kernel) == ("qnn.fully_connected", "utc_fully_connected_s8")
        else:
            assert (row.op, row.kernel) == (before.op, before.kernel)
        assert row.sources == before.sources and row.macs == before.macs
    # the same weights, reshaped: none left behind, none added
    assert m.weight_bytes == plain.weight_bytes
    check_bit_exact(m, model)


def test_ir_after_the_pass() -> None:
    model = head_model()
    m = utc.compile(model, pipeline=pipeline())
    ir = m.ir("pointwise-conv-to-fc")
    head = re.search(r"%logits = qnn\.fully_connected\(%pooled, %(\S+), %(\S+)\) \{(.*?)\} : "
                     r"tensor<1x1x1x10x", ir, re.S)
    assert head, ir
    weights = head.group(1)
    assert re.search(rf"%{re.escape(weights)} = tensor\.constant\(\) \{{value = dense_resource<"
                     rf"[^>]+\.fc>\}} : tensor<10x64x", ir)
    attrs = " ".join(head.group(3).split())
    # the convolution's requantization constants are kept, not recomputed
    assert "weights_zp = 0" in attrs and "mult = dense_resource<conv2d2.mult>" in attrs
    assert "conv2d2.filter:" not in ir and "conv2d2.filter =" not in ir  # dead filter dropped
    assert ir.count("qnn.conv2d(") == 1


def test_cmsis_nn_kernel_for_the_head() -> None:
    from tests.conftest import cmsis_nn_root

    cmsis_nn_root()
    model = head_model()
    m = utc.compile(model, pipeline=pipeline("", "cmsis-nn", "cortex-m4"), target="cortex-m4")
    assert [r.kernel for r in m.layers] == ["arm_convolve_1x1_s8_fast", "arm_avgpool_s8",
                                            "arm_fully_connected_per_channel_s8"]
    check_bit_exact(m, model)  # CMSIS-NN's portable C on the host


def test_shared_model_per_layer_bit_exact() -> None:
    model = shared_model("mlperf_kws_dscnn_int8.tflite")
    result = utc.verify(model, pipeline=pipeline("{max-rows=0}"), samples=4, per_layer=True)
    assert result.passed
    rewritten = [la for la in result.layers if la.tap.ir_op == "qnn.fully_connected"
                 and la.tap.builtin == "CONV_2D"]
    assert len(rewritten) == 4 and all(la.stats.exact_elements == la.stats.elements
                                       for la in rewritten)


def test_bad_option_is_one_line() -> None:
    with pytest.raises(utc.UtcError, match=r"^pass 'pointwise-conv-to-fc': max-rows must be 0 "
                                           r"\(any\) or more, got -1$"):
        utc.compile(head_model(), pipeline=pipeline("{max-rows=-1}"))


def _blocks(text: str) -> list[tuple[str, str]]:
    """The page's fenced blocks in order: (language, body)."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.M | re.S)]


def test_the_pages_excerpts_are_the_plugins_code() -> None:
    """Every code excerpt on the page (the python blocks that are not the runnable
    example) is the plugin's code: each line begins a line of the plugin file (a comment
    after it may be left out), in the same order."""
    source = [line.strip() for line in PLUGIN.read_text().splitlines()]
    excerpts = [body for lang, body in _blocks(DOC.read_text())
                if lang == "python" and "import utc" not in body]
    assert len(excerpts) >= 5
    for body in excerpts:
        pos = 0
        for line in (x.strip() for x in body.splitlines() if x.strip()):
            found = next((i for i in range(pos, len(source)) if source[i].startswith(line)), None)
            assert found is not None, f"not in {PLUGIN.name} (in order): {line}"
            pos = found + 1


def _expected_after(blocks: list[tuple[str, str]], language: str) -> list[str]:
    """Lines of the `text` blocks that follow blocks of `language` (their printed output)."""
    lines = []
    for (lang, _), (nxt, body) in zip(blocks, blocks[1:]):
        if lang == language and nxt == "text":
            lines += [line for line in body.splitlines() if line.strip()]
    return lines


@pytest.mark.slow
def test_the_pages_commands(tmp_path: Path) -> None:
    """Every `sh` block of the page, run in order from the repository root (QEMU for the
    Cortex-M4 ones), prints the lines of the `text` blocks after them; the `python` block
    prints its own."""
    shared_model("mlperf_kws_dscnn_int8.tflite")
    if SHARED_MODELS != REPO.parent / "shared" / "models":
        pytest.skip("the page's commands read ../shared/models; UTC_SHARED_MODELS points elsewhere")
    blocks = _blocks(DOC.read_text())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = "\n".join(body for lang, body in blocks if lang == "sh")
    script = "set -euo pipefail\n" + script.replace("/tmp/utc-pass-demo", str(tmp_path / "demo"))
    proc = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    printed = proc.stdout.splitlines()
    for line in _expected_after(blocks, "sh"):
        assert line in printed, (line, proc.stdout[-3000:])
    # the head model's profile: the fully connected head takes fewer instructions
    heads = re.findall(r"^\s+2\s+(arm_\S+)\s+640\s+([\d,]+)", proc.stdout, re.M)
    assert [k for k, _ in heads] == ["arm_convolve_1x1_s8_fast", "arm_fully_connected_per_channel_s8"]
    conv, fc = (int(n.replace(",", "")) for _, n in heads)
    assert fc < conv

    (python,) = [body for lang, body in blocks if lang == "python" and "import utc" in body]
    proc = subprocess.run([sys.executable, "-c", python], cwd=REPO, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == _expected_after(blocks, "python")
