"""The fuzzer's checks in the suite (issue 8).

* The mutators do what they claim (a patch lands on the field it names, a case is
  reproducible from its recipe), and every seed compiles: otherwise a green fuzz run
  would mean nothing.
* A fixed seeded set of cases (3,000 on the self-built seeds everywhere, 800 more on
  ../shared/models where present; slow, CI runs them) and a 300-case smoke set: zero
  crashes, zero hangs, zero invalid memory plans, nothing left behind. A failure prints
  the outcome table with every distinct crash site and a reproducer for each
  (`python -m tests.fuzz --seed S --seeds builtin --case N`).
* Every problem ever found (`tests/fuzz/regressions.py`) replayed: refused cleanly, or
  compiled; and the ones that compile are built under ASan+UBSan and compared with TFLite
  Micro (slow), as is a deterministic sample of the accepted mutants of the fixed set.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tflite

from tests.conftest import SHARED_MODELS
from tests.fuzz.mutate import (
    BitFlip,
    NotApplicable,
    Patch,
    Truncate,
    apply_mutations,
    make_mutant,
    read_field,
)
from tests.fuzz.regressions import REGRESSIONS, Regression
from tests.fuzz.run import CaseResult, Summary, run_cases
from tests.fuzz.sanitize import SanitizerCheck, check_mutants, pick_sample
from tests.fuzz.seeds import builtin_seeds, shared_seeds

CI_SEED = 20261208
CI_BUILTIN_CASES = 3000
CI_SHARED_CASES = 800
SMOKE_CASES = 300
SANITIZER_SAMPLE = 16
JOBS = 2


def _run(seeds: dict[str, bytes], seed: int, count: int) -> Summary:
    results = run_cases(lambda case: make_mutant(seeds, seed, case), range(count), jobs=JOBS)
    return Summary(results, seed)


def _assert_no_problems(summary: Summary, what: str) -> None:
    if summary.problems:
        pytest.fail(f"{what}: {len(summary.problems)} problem cases\n{summary.table()}\n"
                    f"re-run one: python -m tests.fuzz --seed {summary.seed} --seeds builtin "
                    "--case N (--seeds shared for the shared-model set)", pytrace=False)


# ---- the mutators ----------------------------------------------------------------------

def test_patches_land_on_the_named_field() -> None:
    """Each kind of path the fuzzer patches changes exactly what the tflite reader then
    reads there (a walker bug would silently turn structure-aware fuzzing into noise)."""
    seed = builtin_seeds()["mini_cnn_int8"]
    cases = [
        ("tensors[3].shape[1]", 0, lambda g, m: g.Tensors(3).Shape(1)),
        ("tensors[1].quantization.scale[2]", math.inf,
         lambda g, m: g.Tensors(1).Quantization().Scale(2)),
        ("tensors[1].quantization.zero_point[0]", 1000,
         lambda g, m: g.Tensors(1).Quantization().ZeroPoint(0)),
        ("tensors[1].quantization.scale.length", 2,
         lambda g, m: g.Tensors(1).Quantization().ScaleLength()),
        ("tensors[4].quantization.quantized_dimension", 0,  # depthwise filter: 3 -> 0
         lambda g, m: g.Tensors(4).Quantization().QuantizedDimension()),
        ("tensors[0].type", 3, lambda g, m: g.Tensors(0).Type()),
        ("tensors[2].buffer", 0, lambda g, m: g.Tensors(2).Buffer()),
        ("operators[1].inputs[0]", 6, lambda g, m: g.Operators(1).Inputs(0)),
        ("operators[0].outputs.length", 0, lambda g, m: g.Operators(0).OutputsLength()),
        ("operators[4].opcode_index", 9, lambda g, m: g.Operators(4).OpcodeIndex()),
        ("operators[5].builtin_options_type", 10,
         lambda g, m: g.Operators(5).BuiltinOptionsType()),
        ("inputs[0]", 13, lambda g, m: g.Inputs(0)),
        ("operator_codes[1].version", 100, lambda g, m: m.OperatorCodes(1).Version()),
        ("buffers[2].data.length", 3, lambda g, m: m.Buffers(2).DataLength()),
    ]
    for path, value, read in cases:
        data = Patch(path, value).apply(bytearray(seed))
        model = tflite.Model.GetRootAs(bytes(data), 0)
        assert read(model.Subgraphs(0), model) == value, path
        assert read_field(data, path) == value, path
        changed = np.flatnonzero(np.frombuffer(bytes(data), np.uint8)
                                 != np.frombuffer(seed, np.uint8))
        assert 0 < len(changed) <= 8, f"{path}: {len(changed)} bytes changed"

    # options fields resolve through the union tag to the right table
    data = Patch("operators[0].builtin_options.stride_w", 0).apply(bytearray(seed))
    options = tflite.Conv2DOptions()
    op = tflite.Model.GetRootAs(bytes(data), 0).Subgraphs(0).Operators(0)
    table = op.BuiltinOptions()
    options.Init(table.Bytes, table.Pos)
    assert (options.StrideW(), options.StrideH()) == (0, 2)
    # seeds carry their defaults (SAME padding = 0, quantized_dimension 0) so they patch
    assert read_field(seed, "operators[0].builtin_options.padding") == 0
    assert read_field(seed, "tensors[1].quantization.quantized_dimension") == 0


def test_patch_refuses_what_is_not_there() -> None:
    """A recipe that no longer matches its seed raises instead of patching elsewhere."""
    seed = builtin_seeds()["conv_int8"]
    for path in ("tensors[9].shape[0]", "tensors[0].shape[4]",
                 "operators[0].builtin_options.filter_width",  # Conv2DOptions has none
                 "operators[0].builtin_options.no_such_field"):
        with pytest.raises(NotApplicable):
            Patch(path, 1).apply(bytearray(seed))
    with pytest.raises(NotApplicable):
        apply_mutations(seed, [Truncate(100), BitFlip(500, 0)])
    swapped = Patch("operators[0].builtin_options_type", 0).apply(bytearray(seed))
    with pytest.raises(NotApplicable):  # no table behind a NONE tag
        Patch("operators[0].builtin_options.stride_w", 1).apply(swapped)


def test_cases_are_reproducible_from_their_recipe() -> None:
    """Case (seed, i) is the same bytes every time, and re-applying its recorded
    mutations to its seed model gives those bytes (what regression recipes rely on)."""
    seeds = builtin_seeds()
    kinds, unchanged = set(), 0
    for case in range(300):
        a, b = make_mutant(seeds, CI_SEED, case), make_mutant(seeds, CI_SEED, case)
        assert a == b
        assert apply_mutations(seeds[a.seed_model], a.mutations) == a.data, a.describe()
        kinds.update(type(m).__name__ for m in a.mutations)
        unchanged += a.data == seeds[a.seed_model]
    assert kinds >= {"Patch", "BitFlip", "SetByte", "SetInt32", "Truncate", "DuplicateChunk",
                     "RemoveChunk"}, kinds
    assert unchanged <= 3, f"{unchanged} of 300 mutants are their seed unchanged"
    assert make_mutant(seeds, CI_SEED, 0) != make_mutant(seeds, CI_SEED + 1, 0)


def test_every_seed_compiles() -> None:
    """Mutating a seed the compiler already refuses would test only that refusal."""
    from tests.fuzz.mutate import Mutant

    seeds = builtin_seeds()
    names = sorted(seeds)
    results = run_cases(lambda i: Mutant(names[i], (), seeds[names[i]]), range(len(names)),
                        jobs=JOBS)
    bad = [(names[r.case], r.outcome, r.site, r.detail) for r in results
           if r.outcome != "compiled"]
    assert not bad, bad


# ---- campaigns -------------------------------------------------------------------------

def test_fuzz_smoke() -> None:
    """A quick seeded set for the developer loop (the CI set below is 10x larger)."""
    summary = _run(builtin_seeds(), CI_SEED + 1, SMOKE_CASES)
    _assert_no_problems(summary, f"smoke set (seed {CI_SEED + 1}, {SMOKE_CASES} cases)")


@pytest.fixture(scope="module")
def ci_set() -> Summary:
    return _run(builtin_seeds(), CI_SEED, CI_BUILTIN_CASES)


@pytest.mark.slow
def test_fuzz_ci_set(ci_set: Summary) -> None:
    """The fixed set: every case compiles or is refused cleanly, within the time limit,
    with a valid memory plan and nothing left behind."""
    _assert_no_problems(ci_set, f"CI set (seed {CI_SEED}, {CI_BUILTIN_CASES} cases)")
    counts = ci_set.counts
    # The set must keep exercising both sides: if nearly everything were refused (say,
    # a seed broke) or accepted (the mutators stopped biting), it would prove little.
    assert counts["compiled"] >= CI_BUILTIN_CASES // 20, counts
    assert counts["refused"] >= CI_BUILTIN_CASES // 2, counts


@pytest.mark.slow
def test_fuzz_ci_set_shared_models() -> None:
    """The same on mutants of the real models in ../shared/models."""
    seeds = shared_seeds()
    if not seeds:
        pytest.skip(f"{SHARED_MODELS} not present (the shared models folder is only beside "
                    "CI checkouts)")
    summary = _run(seeds, CI_SEED, CI_SHARED_CASES)
    _assert_no_problems(summary, f"shared-model set (seed {CI_SEED}, {CI_SHARED_CASES} cases)")


def _sanitizer_table(checks: list[tuple[str, SanitizerCheck]]) -> str:
    return "\n".join(f"  {name}: {c.status} ({c.oracle}) {c.detail}\n      {c.label}"
                     for name, c in checks if not c.ok)


@pytest.mark.slow
def test_sanitizer_sample(ci_set: Summary) -> None:
    """Accepted mutants of the CI set, built under ASan+UBSan and run on seeded inputs:
    no report, and the outputs of TFLite Micro wherever it accepts the same model."""
    seeds = builtin_seeds()
    chosen = pick_sample(ci_set.results, SANITIZER_SAMPLE)
    assert len(chosen) == SANITIZER_SAMPLE, f"only {len(chosen)} accepted mutants"
    checks = check_mutants([make_mutant(seeds, CI_SEED, r.case) for r in chosen], jobs=JOBS)
    failed = [(f"case {r.case}", c) for r, c in zip(chosen, checks) if not c.ok]
    if failed:
        pytest.fail("accepted mutants that are unsafe or wrong:\n" + _sanitizer_table(failed),
                    pytrace=False)
    assert any(c.oracle == "tflm-match" for c in checks), [c.oracle for c in checks]


# ---- regressions -----------------------------------------------------------------------

def _available(regression: Regression) -> bool:
    return not regression.seed_model.startswith("shared:") or \
        regression.seed_model in shared_seeds()


@pytest.fixture(scope="module")
def regression_results() -> dict[str, CaseResult]:
    """Every available regression, compiled once (in worker processes)."""
    seeds = {**builtin_seeds(), **shared_seeds()}
    todo = [r for r in REGRESSIONS if _available(r)]
    results = run_cases(lambda i: todo[i].mutant(seeds), range(len(todo)), jobs=JOBS)
    return {todo[r.case].name: r for r in results}


def test_regression_names_are_unique() -> None:
    names = [r.name for r in REGRESSIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("regression", REGRESSIONS, ids=[r.name for r in REGRESSIONS])
def test_regression(regression: Regression, regression_results: dict[str, CaseResult]) -> None:
    """A problem found by fuzzing stays fixed: a clean refusal (one `utc: error:` line,
    exit status 2, nothing left behind) or, unless the model is invalid, a compile."""
    if not _available(regression):
        pytest.skip(f"its seed model {regression.seed_model[7:]} is not in {SHARED_MODELS} (the "
                    "shared models folder is only beside CI checkouts)")
    r = regression_results[regression.name]
    allowed = ("refused",) if regression.must_refuse else ("refused", "compiled")
    if r.outcome not in allowed or r.leftovers:
        pytest.fail(f"{regression.name}: {r.outcome} {r.site}\n  {r.detail}\n"
                    f"  leftovers: {r.leftovers}\n  recipe: {regression.describe()}\n"
                    f"  found: {regression.found} (on {regression.found_on})", pytrace=False)


@pytest.mark.slow
def test_regressions_that_compile_are_safe(regression_results: dict[str, CaseResult]) -> None:
    """The regressions the compiler accepts, under ASan+UBSan and against TFLite Micro."""
    seeds = {**builtin_seeds(), **shared_seeds()}
    compiled = [r for r in REGRESSIONS if _available(r)
                and regression_results[r.name].outcome == "compiled"]
    checks = check_mutants([r.mutant(seeds) for r in compiled], jobs=JOBS)
    failed = [(r.name, c) for r, c in zip(compiled, checks) if not c.ok]
    if failed:
        pytest.fail("regressions accepted but unsafe or wrong:\n" + _sanitizer_table(failed),
                    pytrace=False)
