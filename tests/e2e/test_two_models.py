"""Two models compiled separately into two folders link into one program.

The firmware way the README gives: every .cpp of each folder on one command line, no
flags. Both folders carry the kernels they use (utc_conv_s8.cpp in each); utc_link.h gives
every kernel a weak, content-tagged link name, so identical kernels are one symbol and
kernels of different runtime sources keep apart. Both models must still match TFLite
Micro in the one program, and on Cortex-M a shared kernel takes flash once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from utc.codegen.emit_cpp import link_names, link_tag
from utc.codegen.template_env import environment
from utc.compiler.driver import compile_model
from utc.runtime import RUNTIME_DIR

from tests.conftest import require_tools, shared_model
from tests.oracle import TflmRunner, random_inputs

MODELS = (("mlperf_kws_dscnn_int8.tflite", "kws"), ("micro_speech_quantized.tflite", "speech"))

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "kws.h"
#include "speech.h"

/* One sample per model from stdin (kws's input, then speech's), their outputs to stdout. */
int main(void) {
  static unsigned char in_kws[KWS_INPUT0_BYTES], in_speech[SPEECH_INPUT0_BYTES];
  static unsigned char out_kws[KWS_OUTPUT0_BYTES], out_speech[SPEECH_OUTPUT0_BYTES];
  if (fread(in_kws, 1, sizeof in_kws, stdin) != sizeof in_kws) return 3;
  if (fread(in_speech, 1, sizeof in_speech, stdin) != sizeof in_speech) return 3;
  const void *ki[1] = {in_kws}, *si[1] = {in_speech};
  void *ko[1] = {out_kws}, *so[1] = {out_speech};
  /* interleaved on purpose: each model keeps to its own arena */
  memcpy(kws_input(0), in_kws, sizeof in_kws);
  if (speech_invoke(si, so) != 0) return 4;
  if (kws_run() != 0) return 4;
  memcpy(out_kws, kws_output(0), sizeof out_kws);
  if (kws_invoke(ki, ko) != 0) return 4;
  fwrite(out_kws, 1, sizeof out_kws, stdout);
  fwrite(out_speech, 1, sizeof out_speech, stdout);
  return 0;
}
"""


def _compile_both(tmp_path: Path, target: str = "host") -> list[Path]:
    folders = []
    for file, name in MODELS:
        out = tmp_path / name
        compile_model(shared_model(file), out, name=name, target=target)
        folders.append(out)
    (tmp_path / "main.cpp").write_text(MAIN)
    return folders


def test_two_models_link_with_plain_gxx_and_match_tflm(tmp_path: Path) -> None:
    folders = _compile_both(tmp_path)
    shared = {f.name for f in folders[0].glob("utc_*.cpp")} & {f.name for f in folders[1].glob("utc_*.cpp")}
    assert "utc_conv_s8.cpp" in shared  # the case that used to fail with duplicate symbols
    sources = [str(s) for folder in folders for s in sorted(folder.glob("*.cpp"))]
    exe = tmp_path / "both"
    subprocess.run(["g++", "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions",
                    "-fno-rtti", *(f"-I{f}" for f in folders), *sources,
                    str(tmp_path / "main.cpp"), "-o", str(exe)], check=True)
    # a kernel both folders define is one symbol of the program
    nm = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
    tag = link_tag("utc_conv_s8.cpp")
    assert len(re.findall(rf"^\S+ W utc_depthwise_conv2d_s8_{tag}$", nm, re.M)) == 1
    rng = np.random.default_rng(12)
    runners = [TflmRunner(shared_model(file).read_bytes()) for file, _ in MODELS]
    for _ in range(3):
        inputs = [random_inputs(shared_model(file).read_bytes(), rng)[0] for file, _ in MODELS]
        proc = subprocess.run([str(exe)], input=b"".join(x.tobytes() for x in inputs),
                              capture_output=True, check=True)
        pos = 0
        for runner, x in zip(runners, inputs):
            want = runner.run([x])[0]
            got = np.frombuffer(proc.stdout[pos:pos + want.nbytes], want.dtype).reshape(want.shape)
            pos += want.nbytes
            np.testing.assert_array_equal(got, want)
        assert pos == len(proc.stdout)


def test_link_names_are_tagged_by_content_and_weak(tmp_path: Path) -> None:
    """A kernel whose source differs (another utc version) gets another link name, so two
    versions in one program never stand in for each other; the same source, the same
    name."""
    folders = _compile_both(tmp_path)
    texts = [(f / "utc_link.h").read_text() for f in folders]
    tag = link_tag("utc_conv_s8.cpp")
    for text in texts:
        assert f"#define utc_depthwise_conv2d_s8 utc_depthwise_conv2d_s8_{tag}\n" in text
        assert f"#pragma weak utc_depthwise_conv2d_s8_{tag}\n" in text
    # simulate an older utc: the same kernel file with other content links beside this one
    old = tmp_path / "old"
    shutil.copytree(folders[1], old)
    conv = old / "utc_conv_s8.cpp"
    conv.write_text(conv.read_text() + "\n/* an older version */\n")
    header = (old / "utc_link.h").read_text().replace(tag, "v000000000000")
    (old / "utc_link.h").write_text(header)
    objs = []
    for src in sorted(old.glob("utc_conv_s8.cpp")) + sorted(folders[1].glob("utc_conv_s8.cpp")):
        obj = tmp_path / f"{src.parent.name}_{src.stem}.o"
        subprocess.run(["g++", "-std=c++11", "-c", f"-I{src.parent}", str(src), "-o", str(obj)],
                       check=True)
        objs.append(obj)
    names = [set(re.findall(r" W (utc_\w+)", subprocess.run(
        ["nm", str(o)], capture_output=True, text=True, check=True).stdout)) for o in objs]
    assert names[0] and names[1] and not names[0] & names[1]


def test_every_kernel_symbol_of_a_runtime_source_is_renamed(tmp_path: Path) -> None:
    """Every global symbol a runtime source defines, compiled as a generated folder
    compiles it, is a weak tagged link name: nothing a second folder could collide with."""
    sources = sorted(p.name for p in RUNTIME_DIR.glob("*.cpp"))
    for f in [*RUNTIME_DIR.glob("*.cpp"), *RUNTIME_DIR.glob("*.h")]:
        shutil.copyfile(f, tmp_path / f.name)
    (tmp_path / "utc_link.h").write_text(
        environment().get_template("utc_link.h.j2").render(link_files=link_names(sources)))
    for src in sources:
        obj = tmp_path / (Path(src).stem + ".o")
        subprocess.run(["g++", "-std=c++11", "-c", str(tmp_path / src), "-o", str(obj)],
                       check=True)
        defined = [line.split() for line in subprocess.run(
            ["nm", "--defined-only", "-g", str(obj)], capture_output=True, text=True,
            check=True).stdout.splitlines()]
        tag = link_tag(src)
        bad = [s for _, kind, s in defined if kind != "W" or not s.endswith("_" + tag)]
        assert defined and not bad, f"{src}: {bad}"


def test_two_models_cross_link_once_on_cortex_m4(tmp_path: Path) -> None:
    """arm-none-eabi-g++ links both folders; with --gc-sections a kernel both use takes
    flash once: the program is smaller than the two single-model programs together (less
    the C library they share) by at least the shared kernels' bytes."""
    require_tools("arm-none-eabi-g++", "arm-none-eabi-size", why="Debian gcc-arm-none-eabi")
    from utc.codegen.targets import TARGETS

    folders = _compile_both(tmp_path, target="cortex-m4")
    flags = [*TARGETS["cortex-m4"].cpu_flags, "-Os", "-std=c++11", "-fno-exceptions", "-fno-rtti",
             "-ffunction-sections", "-fdata-sections"]
    link = ["--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections"]
    mains = {"both": "#include \"kws.h\"\n#include \"speech.h\"\n"
                     "int main() { return kws_run() + speech_run(); }\n",
             "kws": "#include \"kws.h\"\nint main() { return kws_run(); }\n",
             "speech": "#include \"speech.h\"\nint main() { return speech_run(); }\n",
             "none": "int main() { return 0; }\n"}
    text: dict[str, int] = {}
    symbols: dict[str, dict[str, int]] = {}
    for key, code in mains.items():
        main = tmp_path / f"main_{key}.cpp"
        main.write_text(code)
        used = {"both": folders, "kws": folders[:1], "speech": folders[1:], "none": []}[key]
        elf = tmp_path / f"{key}.elf"
        subprocess.run(["arm-none-eabi-g++", *flags, *(f"-I{f}" for f in used),
                        *(str(s) for f in used for s in sorted(f.glob("*.cpp"))), str(main),
                        *link, "-o", str(elf)], check=True)
        size = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True,
                              check=True).stdout.splitlines()[1].split()
        text[key] = int(size[0])
        symbols[key] = {parts[3]: int(parts[1], 16) for parts in (
            line.split() for line in subprocess.run(
                ["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                check=True).stdout.splitlines()) if len(parts) == 4 and parts[3].startswith("utc_")}
    shared = set(symbols["kws"]) & set(symbols["speech"])
    assert any(s.startswith("utc_depthwise_conv2d_s8_") for s in shared)
    assert shared <= set(symbols["both"])
    shared_bytes = sum(symbols["speech"][s] for s in shared)
    assert text["both"] <= text["kws"] + text["speech"] - text["none"] - shared_bytes
