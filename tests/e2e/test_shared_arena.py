"""Several models compiled together into one folder and one arena
(`utc compile A.tflite B.tflite --name app [--concurrent]`).

Exclusive (the default): every model keeps the plan it has alone (the same buffer offsets,
at byte 0 of the shared array), and the arena is the largest model's, not the sum.
Concurrent: the models get disjoint parts and the arena is the sum. Either way every model
stays bit-exact with TFLite Micro when the models are invoked interleaved in one program,
a stateful model keeps its state across the other model's runs (state is never in the
shared arena), and a Cortex-M object build holds one arena symbol of the shared size.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from utc.compiler.driver import compile_model, compile_models
from utc.dialects.func import main_function
from utc.passes.planning.verify_ir import verify_shared_arena

from tests.conftest import require_tools, shared_model
from tests.e2e.test_cli_errors import user_error, utc
from tests.e2e.test_state import accumulator
from tests.oracle import TflmRunner, random_inputs

KWS = ("mlperf_kws_dscnn_int8.tflite", "kws")
SPEECH = ("micro_speech_quantized.tflite", "speech")
VWW = ("mlperf_vww_mobilenet_int8.tflite", "vww")

#: Reads ROUNDS rounds of one sample per model from stdin (model order) and runs the
#: models interleaved A, B, A, B, ...; writes each run's outputs in the same order.
#: EXCLUSIVE uses NAME_invoke (copies in and out around each run); CONCURRENT fills every
#: model's input in place, runs all, then reads every output in place: only sound when
#: the models' bytes are disjoint.
MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
@DECLS@
  for (long r = 0; r < rounds; ++r) {
@BODY@
  }
  return 0;
}
"""


def _c_main(names: list[str], concurrent: bool) -> str:
    decls, body = [], []
    for n in names:
        up = n.upper()
        decls.append(f"  static unsigned char in_{n}[{up}_INPUT0_BYTES], out_{n}[{up}_OUTPUT0_BYTES];")
        body.append(f"    if (fread(in_{n}, 1, sizeof in_{n}, stdin) != sizeof in_{n}) return 3;")
    if concurrent:
        body += [f"    memcpy({n}_input(0), in_{n}, sizeof in_{n});" for n in names]
        body += [f"    if ({n}_run() != 0) return 4;" for n in names]
        body += [f"    fwrite({n}_output(0), 1, sizeof out_{n}, stdout);" for n in names]
    else:
        for n in names:
            body += [f"    {{ const void *i[1] = {{in_{n}}}; void *o[1] = {{out_{n}}};",
                     f"      if ({n}_invoke(i, o) != 0) return 4; }}"]
        body += [f"    fwrite(out_{n}, 1, sizeof out_{n}, stdout);" for n in names]
    return MAIN.replace("@DECLS@", "\n".join(decls)).replace("@BODY@", "\n".join(body))


def _arena(module) -> int:
    return int(main_function(module).arena_bytes)


def _compile_app(tmp_path: Path, models, concurrent: bool = False, target: str = "host",
                 folder: str = "app"):
    specs = [(m if isinstance(m, Path) else shared_model(m), n) for m, n in models]
    return compile_models(specs, tmp_path / folder, name="app", concurrent=concurrent,
                          target=target)


def _build(folder: Path, names: list[str], concurrent: bool, work: Path,
           flags: tuple[str, ...] = ()) -> Path:
    (work / "main.cpp").write_text(_c_main(names, concurrent))
    exe = work / "app_exe"
    subprocess.run(["g++", "-std=c++11", "-O1", "-Wall", "-Wextra", "-Werror", "-fno-exceptions",
                    "-fno-rtti", *flags, f"-I{folder}", *map(str, sorted(folder.glob("*.cpp"))),
                    str(work / "main.cpp"), "-o", str(exe)], check=True)
    return exe


def _buffer_macros(cpp: Path) -> list[str]:
    return re.findall(r"^#define buf_\w+ .*$", cpp.read_text(), re.M)


@pytest.mark.parametrize("pair", [(KWS, SPEECH), (VWW, KWS)], ids=["kws+speech", "vww+kws"])
def test_exclusive_arena_is_the_largest_concurrent_the_sum(pair, tmp_path: Path) -> None:
    alone = {}
    for file, name in pair:
        res = compile_model(shared_model(file), tmp_path / f"alone_{name}", name=name)
        alone[name] = _arena(res.module)
    app = _compile_app(tmp_path, pair)
    assert app.arena_bytes == max(alone.values())
    assert app.arena_bytes < sum(alone.values())
    assert app.offsets == (0, 0)
    header = (tmp_path / "app" / "app.h").read_text()
    assert f"#define APP_ARENA_BYTES {max(alone.values())}\n" in header
    for _, name in pair:
        # each model keeps its own plan: the same size and the same buffer offsets
        text = (tmp_path / "app" / f"{name}.h").read_text()
        assert f"#define {name.upper()}_ARENA_BYTES {alone[name]}\n" in text
        assert _buffer_macros(tmp_path / "app" / f"{name}.cpp") == \
            _buffer_macros(tmp_path / f"alone_{name}" / f"{name}.cpp")
    both = _compile_app(tmp_path, pair, concurrent=True, folder="both")
    sizes = list(alone.values())
    assert both.offsets == (0, -(-sizes[0] // 16) * 16)
    assert both.arena_bytes == both.offsets[1] + sizes[1]
    assert both.arena_bytes >= sum(sizes)
    assert f"#define APP_ARENA_BYTES {both.arena_bytes}\n" in (tmp_path / "both" / "app.h").read_text()


@pytest.mark.parametrize("pair, concurrent, sanitize", [
    ((KWS, SPEECH), False, False), ((KWS, SPEECH), True, False), ((VWW, KWS), False, False),
    ((KWS, SPEECH), True, True)],
    ids=["kws+speech-exclusive", "kws+speech-concurrent", "vww+kws-exclusive",
         "kws+speech-concurrent-asan-ubsan"])
def test_interleaved_runs_match_tflm(pair, concurrent: bool, sanitize: bool, tmp_path: Path) -> None:
    from tests.e2e.test_sanitizers import SANITIZE, SANITIZER_ENV

    _compile_app(tmp_path, pair, concurrent=concurrent)
    exe = _build(tmp_path / "app", [n for _, n in pair], concurrent, tmp_path,
                 tuple(SANITIZE) if sanitize else ())
    data = [shared_model(f).read_bytes() for f, _ in pair]
    runners = [TflmRunner(d) for d in data]
    rng = np.random.default_rng(5)
    rounds = 3
    samples = [[random_inputs(d, rng)[0] for d in data] for _ in range(rounds)]
    proc = subprocess.run([str(exe), str(rounds)], input=b"".join(
        x.tobytes() for s in samples for x in s), capture_output=True,
        env={**os.environ, **SANITIZER_ENV} if sanitize else None)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr.decode(errors="replace")[-3000:]
    pos = 0
    for s in samples:
        for runner, x in zip(runners, s):
            want = runner.run([x])[0]
            got = np.frombuffer(proc.stdout[pos:pos + want.nbytes], want.dtype)
            pos += want.nbytes
            np.testing.assert_array_equal(got.reshape(want.shape), want)
    assert pos == len(proc.stdout)


def test_state_survives_the_other_models_runs(tmp_path: Path) -> None:
    """A stateful model (an accumulator: state += x) and KWS in one exclusive arena,
    invoked acc, kws, acc, kws, ...: the accumulator's outputs are TFLite Micro's
    consecutive invocations (no reset), so KWS's runs, which overwrite the whole shared
    arena, never touched its state."""
    acc_model = accumulator("int8", shape=(1, 16))
    acc_path = tmp_path / "acc.tflite"
    acc_path.write_bytes(acc_model)
    app = _compile_app(tmp_path, [(acc_path, "acc"), KWS])
    assert app.arena_bytes == _arena(app.compilations[1].module)  # KWS's is the larger
    assert "#define ACC_STATE_BYTES" in (tmp_path / "app" / "acc.h").read_text()
    exe = _build(tmp_path / "app", ["acc", "kws"], False, tmp_path)
    kws_data = shared_model(KWS[0]).read_bytes()
    acc_runner, kws_runner = TflmRunner(acc_model), TflmRunner(kws_data)
    rng = np.random.default_rng(9)
    rounds = 5
    samples = [[random_inputs(acc_model, rng)[0], random_inputs(kws_data, rng)[0]]
               for _ in range(rounds)]
    proc = subprocess.run([str(exe), str(rounds)], input=b"".join(
        x.tobytes() for s in samples for x in s), capture_output=True, check=True)
    pos = 0
    for x_acc, x_kws in samples:
        for want in (acc_runner.invoke([x_acc])[0], kws_runner.run([x_kws])[0]):
            got = np.frombuffer(proc.stdout[pos:pos + want.nbytes], want.dtype)
            pos += want.nbytes
            np.testing.assert_array_equal(got.reshape(want.shape), want)
    assert pos == len(proc.stdout)


def test_cortex_m4_objects_hold_one_arena_of_the_largest_size(tmp_path: Path) -> None:
    require_tools("arm-none-eabi-g++", "arm-none-eabi-nm", why="Debian gcc-arm-none-eabi")
    from utc.runtime.targets import TARGETS

    app = _compile_app(tmp_path, (KWS, SPEECH), target="cortex-m4")
    folder = tmp_path / "app"
    flags = [*TARGETS["cortex-m4"].cpu_flags, "-Os", "-std=c++11", "-fno-exceptions",
             "-fno-rtti", f"-I{folder}"]
    arenas = []
    for src in sorted(folder.glob("*.cpp")):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["arm-none-eabi-g++", *flags, "-c", str(src), "-o", str(obj)], check=True)
        for line in subprocess.run(["arm-none-eabi-nm", "-S", "-C", str(obj)], capture_output=True,
                                   text=True, check=True).stdout.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in "bBdD" and "arena" in parts[3]:
                arenas.append((src.name, parts[3], int(parts[1], 16)))
    assert arenas == [("app.cpp", "app_arena", app.arena_bytes)]
    assert app.arena_bytes == max(_arena(c.module) for c in app.compilations)


def test_report_and_memory_map_show_every_model(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = utc("compile", str(shared_model(KWS[0])) + ":kws", str(shared_model(SPEECH[0])) + ":speech",
               "--name", "app", "-o", str(out), "--report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 models, shared arena 8576 B (largest, exclusive)" in proc.stdout.splitlines()[0]
    assert "== model kws" in proc.stdout and "== model speech" in proc.stdout
    assert re.search(r"kws +bytes \[0, 8576\) of app_arena", proc.stdout)
    svg = (out / "memory.svg").read_text()
    assert svg.count('<g class="model-band"') == 2
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg.encode())
    bands = root.findall("{http://www.w3.org/2000/svg}g")
    ys = [float(b.find("{http://www.w3.org/2000/svg}svg").get("y")) for b in bands]
    assert len(ys) == 2 and 0 < ys[0] < ys[1] < float(root.get("height"))
    assert "shared arena 8,576 B (exclusive, largest)" in svg


def test_file_stems_name_the_models(tmp_path: Path) -> None:
    a, b = tmp_path / "wake.tflite", tmp_path / "command.tflite"
    a.write_bytes(shared_model(KWS[0]).read_bytes())
    b.write_bytes(shared_model(SPEECH[0]).read_bytes())
    proc = utc("compile", str(a), str(b), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"app.h", "app.cpp", "wake.h", "wake.cpp", "command.h", "command_weights.cpp"} <= names


@pytest.mark.parametrize("args, pattern", [
    (["@K:a", "@S:a"], r"model name 'a' is given twice"),
    (["@K:app", "@S"], r"model name 'app' is also the --name of the app"),
    (["@K:x", "@S:x_weights"], r"writes x_weights\.h"),
    (["@K", "--concurrent"], r"--concurrent needs several models"),
    (["@K", "@S:s", "--memory-region", "dtcm:65536"], r"--memory-region cannot be combined"),
    (["@K:9x", "@S"], r"model name '9x' is not a C identifier"),
    (["@K", "@S:s", "--dump-ir-dir", "dumps"], r"--dump-ir-dir cannot be combined"),
    (["@K", "-O1", "@S:s"], r"several models are given together"),
    (["@K", "@S:s", "--pipeline", "canonicalize"], r"mlperf_kws_dscnn_int8: memory is not planned"),
])
def test_clashes_and_mixed_options_are_one_line_errors(args, pattern, tmp_path: Path) -> None:
    subst = {"@K": str(shared_model(KWS[0])), "@S": str(shared_model(SPEECH[0]))}
    argv = [a.replace("@K", subst["@K"]).replace("@S", subst["@S"]) for a in args]
    out = tmp_path / "out"
    user_error(utc("compile", *argv, "-o", str(out), cwd=tmp_path), pattern)
    assert not out.exists()


def test_checker_finds_shared_arena_faults(tmp_path: Path) -> None:
    app = _compile_app(tmp_path, (KWS, SPEECH), concurrent=True)
    modules = [c.module for c in app.compilations]
    assert verify_shared_arena(modules, list(app.offsets), app.arena_bytes, 16, True) == []
    # the exclusive layout is sound for exclusive models, never for concurrent ones
    assert verify_shared_arena(modules, [0, 0], app.arena_bytes, 16, False) == []
    overlap = verify_shared_arena(modules, [0, 0], app.arena_bytes, 16, True)
    assert overlap and all("concurrent models share bytes" in p for p in overlap)
    small = verify_shared_arena(modules, list(app.offsets), app.arena_bytes - 16, 16, True)
    assert any("ends past the shared arena" in p for p in small)
    assert any("not a multiple" in p for p in
               verify_shared_arena(modules, [0, app.offsets[1] + 8], app.arena_bytes + 8, 16, True))


def test_python_api_compiles_a_list_into_one_arena(tmp_path: Path) -> None:
    import utc

    kws = shared_model(KWS[0])
    speech_bytes = shared_model(SPEECH[0]).read_bytes()
    app = utc.compile([f"{kws}:kws", (speech_bytes, "speech")], name="app", kernels="reference")
    assert isinstance(app, utc.CompiledApp)
    assert [m.name for m in app.models] == ["kws", "speech"]
    assert app.arena_bytes == max(m.arena_bytes for m in app.models) and app.offsets == (0, 0)
    assert "2 models, shared arena" in app.report() and app.svg().count('class="model-band"') == 2
    files = {p.name for p in app.write(tmp_path / "out", report=True)}
    assert {"app.h", "app.cpp", "kws.h", "speech.h", "memory.svg"} <= files
    both = utc.compile([kws, (speech_bytes, "speech")], concurrent=True, kernels="reference")
    assert both.name == "app" and both.models[0].name == kws.stem
    assert both.arena_bytes >= sum(m.arena_bytes for m in both.models)
    with pytest.raises(utc.UtcError, match="given twice"):
        utc.compile([(speech_bytes, "s"), (speech_bytes, "s")])
    with pytest.raises(utc.UtcError, match="concurrent needs several models"):
        utc.compile(kws, concurrent=True)


def test_shared_arena_placement(tmp_path: Path) -> None:
    """--external-arena: the application defines app_arena (here full of garbage) and both
    models still match TFLite Micro; --arena-section: app_arena, and nothing else of the
    arena, lands in that section of the cross-compiled object."""
    from utc.codegen.emit_cpp import Placement

    pair = (KWS, SPEECH)
    specs = [(shared_model(f), n) for f, n in pair]
    compile_models(specs, tmp_path / "app", name="app", placement=Placement(external=True))
    assert "#define APP_EXTERNAL_ARENA 1" in (tmp_path / "app" / "app.h").read_text()
    main = _c_main([n for _, n in pair], False).replace(
        '#include "app.h"\n', '#include "app.h"\nalignas(APP_ARENA_ALIGN) uint8_t '
        'app_arena[APP_ARENA_BYTES];\n').replace(
        "  for (long r", "  memset(app_arena, 0x5a, sizeof app_arena);\n  for (long r")
    (tmp_path / "main.cpp").write_text(main)
    folder = tmp_path / "app"
    exe = tmp_path / "ext"
    subprocess.run(["g++", "-std=c++11", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{folder}",
                    *map(str, sorted(folder.glob("*.cpp"))), str(tmp_path / "main.cpp"), "-o",
                    str(exe)], check=True)
    data = [shared_model(f).read_bytes() for f, _ in pair]
    xs = [random_inputs(d, np.random.default_rng(3))[0] for d in data]
    out = subprocess.run([str(exe), "1"], input=b"".join(x.tobytes() for x in xs),
                         capture_output=True, check=True).stdout
    wants = [TflmRunner(d).run([x])[0] for d, x in zip(data, xs)]
    assert out == b"".join(w.tobytes() for w in wants)

    require_tools("arm-none-eabi-g++", "arm-none-eabi-objdump", why="Debian gcc-arm-none-eabi")
    from utc.runtime.targets import TARGETS

    compile_models(specs, tmp_path / "sec", name="app", target="cortex-m4",
                   placement=Placement(arena_section=".sram2"))
    obj = tmp_path / "app_sec.o"
    subprocess.run(["arm-none-eabi-g++", *TARGETS["cortex-m4"].cpu_flags, "-Os", "-std=c++11",
                    f"-I{tmp_path / 'sec'}", "-c", str(tmp_path / "sec" / "app.cpp"), "-o",
                    str(obj)], check=True)
    table = subprocess.run(["arm-none-eabi-objdump", "-t", str(obj)], capture_output=True,
                           text=True, check=True).stdout
    (line,) = [ln for ln in table.splitlines() if ln.endswith(" app_arena")]
    assert " .sram2\t" in line


def test_output_is_deterministic(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        _compile_app(tmp_path, (VWW, KWS, SPEECH), concurrent=True, folder=folder)
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert one == two and "app.h" in one


def test_json_report_has_the_shared_arena_and_every_model(tmp_path: Path) -> None:
    import json

    out = tmp_path / "out"
    proc = utc("compile", f"{shared_model(KWS[0])}:kws", f"{shared_model(SPEECH[0])}:speech",
               "--concurrent", "-o", str(out), "--report=json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert proc.stdout == (out / "report.json").read_text()
    parts = doc["app"]["parts"]
    assert doc["app"]["concurrent"] is True and [p["model"] for p in parts] == ["kws", "speech"]
    assert doc["app"]["arena_bytes"] == parts[1]["offset"] + parts[1]["arena_bytes"]
    assert [m["model"]["name"] for m in doc["models"]] == ["kws", "speech"]
    assert all(m["memory"]["arena_bytes"] == p["arena_bytes"] for m, p in zip(doc["models"], parts))


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_folder_builds_with_its_cmake_file(tmp_path: Path) -> None:
    """The folder's one CMakeLists.txt builds every model and the shared arena into one
    library (`libapp.a`) that a program links plainly and runs, both models matching
    TFLite Micro: the model code's kernel references are strong (UTC_LINK_CALLER), so
    the linker pulls the kernels' archive members in; were they weak (as the kernels'
    own definitions are), the calls would go to address 0."""
    pair = (KWS, SPEECH)
    _compile_app(tmp_path, pair, concurrent=False)
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(tmp_path / "app"), "-B", str(build)], check=True,
                   capture_output=True)
    proc = subprocess.run(["cmake", "--build", str(build), "-j", "2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (tmp_path / "main.cpp").write_text(_c_main([n for _, n in pair], False))
    exe = tmp_path / "linked"
    subprocess.run(["g++", "-std=c++11", f"-I{tmp_path / 'app'}", str(tmp_path / "main.cpp"),
                    str(build / "libapp.a"), "-o", str(exe)], check=True)
    data = [shared_model(f).read_bytes() for f, _ in pair]
    xs = [random_inputs(d, np.random.default_rng(4))[0] for d in data]
    out = subprocess.run([str(exe), "1"], input=b"".join(x.tobytes() for x in xs),
                         capture_output=True, check=True).stdout
    assert out == b"".join(TflmRunner(d).run([x])[0].tobytes() for d, x in zip(data, xs))
