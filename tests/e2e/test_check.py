"""`utc check MODEL`: every problem that stops a model, each naming the operator type
first, exit 1; "ok: N operators, all supported" and exit 0 for a model that compiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from utc.compiler.importers.tflite_diagnose import diagnose

from tests.conftest import shared_model
from tests.e2e.test_cli_errors import user_error, utc
from tests.models_builtin import sine_model_int8
from tests.tflite_writer import ModelBuilder


def three_problems() -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_RNN (no utc kernel) with its variable state tensor (not a
    problem by itself: utc keeps variable tensors as state); an ADD on uint8 tensors
    (a dtype utc does not implement); a RELU whose input has a dynamic dimension. Between
    them a supported FULLY_CONNECTED, which check must not list."""
    b = ModelBuilder("three problems")
    rng = np.random.default_rng(3)
    x = b.add_tensor("x", [1, 8], "int8", scale=0.1, zero_point=0)
    wf = b.add_tensor("wf", [4, 8], "int8", data=rng.integers(-9, 9, (4, 8)), scale=0.05)
    wt = b.add_tensor("wt", [4, 3], "int8", data=rng.integers(-9, 9, (4, 3)), scale=0.05)
    state = b.add_tensor("rnn_state", [1, 4], "int8", scale=0.1, zero_point=0,
                         is_variable=True)
    y = b.add_tensor("y", [1, 4], "int8", scale=0.2, zero_point=0)
    b.add_operator("UNIDIRECTIONAL_SEQUENCE_RNN", [x, wf, wt, -1, state], [y])
    w = b.add_tensor("w", [4, 4], "int8", data=rng.integers(-9, 9, (4, 4)), scale=0.05)
    z = b.add_tensor("z", [1, 4], "int8", scale=0.3, zero_point=0)
    b.add_operator("FULLY_CONNECTED", [y, w, -1], [z])
    a = b.add_tensor("a", [1, 4], "uint8", scale=0.1, zero_point=128)
    c = b.add_tensor("c", [1, 4], "uint8", scale=0.1, zero_point=128)
    b.add_operator("ADD", [a, a], [c])
    f = b.add_tensor("f", [1, 3], "float32", shape_signature=[1, -1])
    g = b.add_tensor("g", [1, 3], "float32")
    b.add_operator("RELU", [f], [g])
    return b.build([x, a, f], [z, c, g])


def test_check_lists_every_problem_naming_the_operator_first(tmp_path: Path) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(three_problems())
    proc = utc("check", str(path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{path}: 3 problems stop this model (4 operators):"
    body = [line.strip() for line in lines[1:]]
    # in model order, each under the operator it stops
    assert body[0].startswith("UNIDIRECTIONAL_SEQUENCE_RNN #0: not supported")
    assert body[1].startswith("ADD #2: uint8 tensors are not supported (utc implements it for")
    assert body[2].startswith("RELU #3: tensor 'f' (#9) has dynamic dimensions [1, -1]")
    assert not any("FULLY_CONNECTED" in line for line in body)


def test_compile_refusal_names_the_operator_not_its_state_tensor(tmp_path: Path) -> None:
    """Before this, the variable state tensor was refused first, naming only a tensor."""
    path = tmp_path / "bad.tflite"
    path.write_bytes(three_problems())
    user_error(utc("compile", str(path), "-o", str(tmp_path / "out"), cwd=tmp_path),
               r"bad\.tflite: operator #0 UNIDIRECTIONAL_SEQUENCE_RNN is not supported")
    assert not (tmp_path / "out").exists()


def test_check_ok_on_a_supported_model(tmp_path: Path) -> None:
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    proc = utc("check", str(path), cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok: 3 operators, all supported\n", "")


@pytest.mark.parametrize("name", ["mlperf_kws_dscnn_int8.tflite", "mlperf_vww_mobilenet_int8.tflite",
                                  "micro_speech_quantized.tflite", "hello_world_float.tflite"])
def test_shared_models_have_no_problems(name: str) -> None:
    count, problems = diagnose(shared_model(name))
    assert count > 0 and problems == []


def test_check_reports_what_only_the_compile_finds(tmp_path: Path) -> None:
    """Nothing in the operator table's rules stops this model, but its arena is over the
    limit: check tries the compile and lists that."""
    path = tmp_path / "sine.tflite"
    path.write_bytes(sine_model_int8())
    proc = utc("check", str(path), "--max-arena-bytes", "8", cwd=tmp_path)
    assert proc.returncode == 1
    assert "1 problem stop" in proc.stdout and "--max-arena-bytes" in proc.stdout


def test_check_of_a_file_that_is_not_a_model_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.tflite"
    path.write_bytes(b"not a flatbuffer")
    user_error(utc("check", str(path), cwd=tmp_path), r"junk\.tflite: not a TFLite flatbuffer")


def test_check_knows_the_signal_library_custom_operators(tmp_path: Path) -> None:
    """CUSTOM operators are looked up in the signal-library table, as the importer does:
    a model of signal operators (and the int32 tail of TFLite Micro's audio preprocessor)
    is ok, and an unknown custom operator is refused with the importer's reason."""
    from tests.e2e.test_int32_ops import preprocessor_tail
    from tests.e2e.test_signal import audio_frontend

    frontend, _ = audio_frontend(np.random.default_rng(1))
    for name, model in (("frontend", frontend), ("tail", preprocessor_tail())):
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(model)
        proc = utc("check", str(path), cwd=tmp_path)
        assert proc.returncode == 0 and proc.stdout.startswith("ok: "), proc.stdout + proc.stderr
    b = ModelBuilder("vela")
    x = b.add_tensor("x", [4], "int8", scale=0.1, zero_point=0)
    y = b.add_tensor("y", [4], "int8", scale=0.1, zero_point=0)
    b.add_operator("CUSTOM", [x], [y], custom_code="ethos-u")
    path = tmp_path / "vela.tflite"
    path.write_bytes(b.build([x], [y]))
    proc = utc("check", str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "CUSTOM 'ethos-u' #0: an Ethos-U NPU command stream (from Arm's Vela)" in proc.stdout
