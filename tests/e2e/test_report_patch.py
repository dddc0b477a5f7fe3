"""The report of a patched model (`--memory=min`, pass `patch-stages`): the text report's
stage headline, tile column and per-layer summary, the JSON `patch_stage` object and
`layers[].tile`, and memory.svg's labelled band. The untiled MACs are checked against the
same model compiled without tiling (its layers' own MACs), not against numbers written
here."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.test_patch_stages import chain_a, chain_b, patched
from tests.e2e.test_report_cli import utc

LAYERS, ROWS = 3, 2


def _compile(tmp_path: Path, *args: str, chain=chain_a) -> tuple[str, Path]:
    model = tmp_path / "chain.tflite"
    if not model.is_file():
        model.write_bytes(chain())
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    proc = utc("compile", str(model), "-o", str(out), *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, out


@pytest.mark.parametrize("chain, layers, rows, skipped", [
    # SAME, strides 1 and 2, max pooling; the 2x2 VALID pooling reads 10 of 11 rows
    (chain_a, LAYERS, ROWS, ()), (chain_a, 4, 1, (0, 1, 2)),
    # VALID 5x5 stride 2, dilated depthwise, avg pooling
    (chain_b, 2, 1, ()), (chain_b, 4, 2, (2,)),
])
def test_report_json_patch_stage_against_the_untiled_model(chain, layers: int, rows: int,
                                                           skipped: tuple[int, ...],
                                                           tmp_path: Path) -> None:
    """`untiled_macs`: each computed row once; the untiled model's own layer MACs, less
    the rows the stage skips (`skipped` layers: trailing rows no later layer reads)."""
    text, _ = _compile(tmp_path, "--pipeline", patched(layers, rows), "--report=json", chain=chain)
    doc = json.loads(text)
    plain = json.loads(_compile(tmp_path, "-O2", "--report=json")[0])
    assert plain["patch_stage"] is None
    assert all(layer["tile"] is None for layer in plain["layers"])
    stage = doc["patch_stage"]
    tiles = stage["tiles"]
    assert (stage["layers"], stage["rows_per_tile"]) == (layers, rows)
    tiled = [layer for layer in doc["layers"] if layer["tile"] is not None]
    # every step call carries its step; steps run in order, each one at least one call
    indices = [t["tile"]["index"] for t in tiled]
    assert indices == sorted(indices) and set(indices) == set(range(tiles))
    assert {t["tile"]["count"] for t in tiled} == {tiles}
    assert (stage["first_step"], stage["last_step"]) == (tiled[0]["step"], tiled[-1]["step"])
    moves = [t for t in tiled if t["kernel"] == "utc_move"]
    assert stage["moves"] == len(moves) > 0
    assert stage["moved_bytes"] == sum(int(np.prod(t["outputs"][0]["shape"])) for t in moves)
    calls = [t for t in tiled if t["kernel"] != "utc_move"]
    # per stage layer (first appearance order): MACs summed over its steps, each row
    # computed once (row caching), so untiled = MACs = that layer in the -O2 model
    order: list = []
    for t in calls:
        if t["tflite_ops"] not in order:
            order.append(t["tflite_ops"])
    assert len(order) == layers == len(stage["stage_layers"])
    for i, layer in enumerate(stage["stage_layers"]):
        assert layer["tflite_ops"] == order[i] == plain["layers"][i]["tflite_ops"]
        assert layer["macs"] == sum(t["macs"] for t in calls if t["tflite_ops"] == order[i])
        assert layer["untiled_macs"] == layer["macs"]
        whole = plain["layers"][i]["macs"]
        if i in skipped:  # the untiled layer computes trailing rows no later layer reads
            assert 0 < layer["macs"] < whole
        else:
            assert layer["macs"] == whole
    assert stage["macs"] == sum(t["macs"] for t in calls) == stage["untiled_macs"]
    assert stage["recomputed_macs"] == 0
    # the rest of the model is unchanged: only the stage's skipped rows differ
    skipped_macs = sum(plain["layers"][i]["macs"] - stage["stage_layers"][i]["macs"]
                       for i in range(layers))
    assert plain["total_macs"] - doc["total_macs"] == skipped_macs


def test_text_report_and_svg_show_the_stage(tmp_path: Path) -> None:
    text, out = _compile(tmp_path, "--pipeline", patched(LAYERS, ROWS), "--report")
    doc = json.loads(_compile(tmp_path, "--pipeline", patched(LAYERS, ROWS),
                              "--report=json")[0])
    stage = doc["patch_stage"]
    tiles, macs, untiled = stage["tiles"], stage["macs"], stage["untiled_macs"]
    pct = f"{100.0 * (macs - untiled) / untiled:+.1f}%"
    assert (f"patch stage: steps {stage['first_step']}-{stage['last_step']} run the first "
            f"{LAYERS} layers tile by tile, {tiles} tiles of {ROWS} output rows of the last; "
            f"{macs:,} MACs vs {untiled:,} untiled ({pct} recomputed halo rows); "
            f"{stage['moves']:,} moves of kept rows, {stage['moved_bytes']:,} B") in text
    # the stage's code: one loop over a table whose size the headline states, as the
    # generated model.cpp's comment on the loop does
    m = re.search(r"; code: one loop over a ([\d,]+) B schedule table \(([\d,]+) calls, "
                  r"(\d+) call sites\)", text)
    assert m, text[:2000]
    cpp = next(t for t in (f.read_text() for f in sorted(out.glob("*.cpp"))) if "run as a loop" in t)
    assert f"tables {m.group(1).replace(',', '')} B) run as a loop" in cpp
    assert f"({m.group(2).replace(',', '')} calls in {m.group(3)} groups" in cpp
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("step"))
    assert header.split()[:4] == ["step", "operator", "tile", "kernel"]
    marks = [m.group(1) for m in (re.search(r"  (\d+/\d+)  utc_", line) for line in lines) if m]
    tiled = [layer for layer in doc["layers"] if layer["tile"] is not None]
    assert marks == [f"{t['tile']['index'] + 1}/{tiles}" for t in tiled]
    summary = lines.index(f"patch stage ({tiles} tiles x {LAYERS} layers, steps "
                          f"{stage['first_step']}-{stage['last_step']}):")
    total = lines[summary + 2 + LAYERS].split()
    assert total[0] == "total" and total[1:] == [f"{macs:,}", f"{untiled:,}", "+0.0%"]
    # memory.svg: a band over the stage's steps with a label, a tick between tiles
    root = ET.parse(out / "memory.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    bands = [e for e in root.iter(f"{ns}rect") if e.get("class") == "patch-stage"]
    assert len(bands) == 1 and "recomputed" in bands[0].find(f"{ns}title").text
    labels = [e.text for e in root.iter(f"{ns}text") if e.get("class") == "patch-stage"]
    assert labels == [f"patch stage: {LAYERS} layers x {tiles} tiles of {ROWS} rows"]
    ticks = [e for e in root.iter(f"{ns}line") if e.get("class") == "tile"]
    assert len(ticks) == tiles - 1


def test_unpatched_report_has_no_stage(tmp_path: Path) -> None:
    text, out = _compile(tmp_path, "-O2", "--report")
    assert "patch stage" not in text
    header = next(line for line in text.splitlines() if line.startswith("step"))
    assert "tile" not in header.split()
    assert 'class="patch-stage"' not in (out / "memory.svg").read_text()
