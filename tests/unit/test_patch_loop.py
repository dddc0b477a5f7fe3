"""codegen/patch_loop.py: a patch stage's calls as a loop over a schedule table."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from utc.codegen.patch_loop import column_type, render_stage, split_literals


def test_split_literals_takes_integers_not_identifiers_or_floats() -> None:
    skeleton, values = split_literals(
        "f(((int8_t *)(arena + 4288)), w_conv2d0, /*in_h=*/3, /*zp=*/-128, 1.5e-05f, 2.0f, "
        "1e5, x-1, in1_shape[6], 0x10)")
    assert values == [4288, 3, -128, 1, 6]
    assert "w_conv2d0" in skeleton and "1.5e-05f" in skeleton and "2.0f" in skeleton
    assert "1e5" in skeleton and "0x10" in skeleton and skeleton.count("\0") == 5


@pytest.mark.parametrize("values, ctype", [([0, 255], "uint8_t"), ([-128, 5], "int8_t"),
                                           ([0, 14528], "uint16_t"), ([-1, 300], "int16_t"),
                                           ([-128, 1623821475], "int32_t")])
def test_column_type_is_the_narrowest(values: list[int], ctype: str) -> None:
    assert column_type(values) == ctype


def test_column_type_refuses_64_bits() -> None:
    with pytest.raises(ValueError):
        column_type([0, 2**40])


def _calls() -> tuple[list[str], list[str]]:
    """A stage of two layers and a move: layer a over rows 0..3 (a streaming input
    pointer, padding at the ends), layer b twice at one place, moves of two sizes."""
    codes, comments = [], []
    for r in range(4):
        top, bottom = (1 if r == 0 else 0), (1 if r == 3 else 0)
        codes.append("{\n  static const int32_t shape[2] = { 1, 8 };\n"
                     f"  conv(((int8_t *)(arena + {100 + 8 * r})), shape, /*pad_top=*/{top}, "
                     f"/*pad_bottom=*/{bottom}, w_a, &out[0]);\n}}")
        comments.append("qnn.conv2d -> conv  [TFLite op #0 (a)]")
        codes.append(f"move(((int8_t *)(arena + 16)), ((int8_t *)(arena + 0)), /*bytes=*/{8 + r % 2});")
        comments.append("state.copy -> move  [TFLite op #0 (a)]")
        codes.append("conv(((int8_t *)(arena + 0)), w_b, /*pad_top=*/0, /*pad_bottom=*/0, &out[1]);")
        comments.append("qnn.conv2d -> conv  [TFLite op #1 (b)]")
    return codes, comments


def test_render_stage_groups_layers_and_dedupes_variants() -> None:
    codes, comments = _calls()
    text = render_stage("stage3", 3, codes, comments)
    assert text == render_stage("stage3", 3, codes, comments)  # deterministic
    assert "(12 calls in 3 groups, 7 kinds; tables 26 B)" in text
    # layer a: 4 variants of (pointer offset, pad_top, pad_bottom); the shape table stays
    # static (no column in it), the call reads its columns from the variant
    assert "static const stage3_g0 stage3_g0_v[4] = {" in text
    assert "static const int32_t shape[2] = { 1, 8 };" in text
    assert "conv(((int8_t *)(arena + v.c0)), shape, /*pad_top=*/v.c1, /*pad_bottom=*/v.c2" in text
    # layer b never changes: no table, its call as it was
    assert "stage3_g2_v" not in text
    assert "conv(((int8_t *)(arena + 0)), w_b, /*pad_top=*/0, /*pad_bottom=*/0, &out[1]);" in text
    # kinds: a 0..3, move 4..5, b 6, in run order
    assert "static const uint8_t stage3_steps[12] = {" in text
    assert "0, 4, 6, 1, 5, 6, 2, 4, 6, 3, 5, 6" in text
    assert "UTC_LAYER_BEGIN(3 + (int)i);" in text
    assert "UTC_LAYER_BEGIN" not in render_stage("s", 3, codes, comments, hooks=False)


@pytest.mark.parametrize("compiler", ["g++", "arm-none-eabi-g++"])
def test_rendered_stage_runs_the_calls_in_order(compiler: str, tmp_path: Path) -> None:
    """The loop makes the same calls as the calls one by one: a C++ file logs each call
    both ways (host: runs and compares; arm-none-eabi: compiles with -Wall -Wextra
    -Werror)."""
    if shutil.which(compiler) is None:
        pytest.fail(f"{compiler} is not installed (.ci/run installs it)")
    codes, comments = _calls()
    prelude = r"""
#include <stdint.h>
#include <stdio.h>
#define UTC_LAYER_BEGIN(step) ((void)(step))
#define UTC_LAYER_END(step) ((void)(step))
static uint8_t arena[256];
static const int8_t w_a[1] = {1}, w_b[1] = {2};
static int out[2];
static void conv(const int8_t *x, const int32_t *shape, int pt, int pb, const int8_t *w, int *o) {
  printf("conv %d %d %d %d %d %d\n", (int)(x - (const int8_t *)arena), (int)shape[1], pt, pb,
         (int)w[0], (int)(o - out));
}
static void conv(const int8_t *x, const int8_t *w, int pt, int pb, int *o) {
  printf("conv %d %d %d %d %d\n", (int)(x - (const int8_t *)arena), pt, pb, (int)w[0],
         (int)(o - out));
}
static void move(int8_t *src, int8_t *dst, int n) {
  printf("move %d %d %d\n", (int)(src - (int8_t *)arena), (int)(dst - (int8_t *)arena), n);
}
"""
    src = tmp_path / "stage.cpp"
    src.write_text(prelude + "static void one_by_one() {\n" + "\n".join(codes) + "\n}\n"
                   "static void looped() {\n" + render_stage("st", 0, codes, comments)
                   + "\n}\nint main() { one_by_one(); printf(\"--\\n\"); looped(); return 0; }\n")
    exe = tmp_path / "stage"
    flags = ["-mcpu=cortex-m4", "-mthumb", "-c"] if compiler.startswith("arm") else []
    subprocess.run([compiler, *flags, "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror",
                    str(src), "-o", str(exe)], check=True)
    if flags:
        return
    first, second = subprocess.run([str(exe)], check=True, capture_output=True,
                                   text=True).stdout.split("--\n")
    assert first == second and first.count("\n") == 12
