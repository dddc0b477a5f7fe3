"""`python -m tests.fuzz`: run a fuzz campaign and print its outcome table.

    python -m tests.fuzz --cases 3000 --seed 7 --jobs 2
    python -m tests.fuzz --seed 7 --case 1234          # re-run one case, show its traceback
    python -m tests.fuzz --cases 500 --sanitize 10     # also build 10 accepted mutants under
                                                       # ASan+UBSan and compare with TFLM
    python -m tests.fuzz --cases 3000 --save-crashes crashes/   # keep the problem mutants

Case `i` of seed `S` is the same mutant on every machine with the same seed models
(``--seeds builtin`` uses only the self-built ones, which never change); the table lists
each distinct problem site once with the first case that reached it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.fuzz.mutate import Mutant, make_mutant
from tests.fuzz.run import DEFAULT_TIME_LIMIT, Summary, run_cases
from tests.fuzz.sanitize import check_mutants, pick_sample
from tests.fuzz.seeds import load_seeds


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    p.add_argument("--first", type=int, default=0, help="index of the first case (default 0)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    p.add_argument("--seeds", choices=("builtin", "shared", "all"), default="all",
                   help="which seed models to mutate (default all: self-built + shared)")
    p.add_argument("--models", type=Path, default=None,
                   help="folder of .tflite seed models (default ../shared/models)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (0: in this process)")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                   help=f"seconds per compile before it counts as a hang ({DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--case", type=int, default=None,
                   help="re-run only this case in this process and print its traceback")
    p.add_argument("--sanitize", type=int, default=0, metavar="K",
                   help="build K accepted mutants under ASan+UBSan and compare with TFLM")
    p.add_argument("--save-crashes", type=Path, default=None, metavar="DIR",
                   help="write every problem mutant to DIR/case<N>.tflite with a .txt note")
    return p


def _rerun(mutant: Mutant) -> int:
    """Compile one case in this process, letting the exception (if any) escape, so its
    full traceback shows."""
    from utc.compiler.driver import compile_model

    print(f"case: {mutant.describe()}")
    with tempfile.TemporaryDirectory(prefix="utc-fuzz-case-") as tmp:
        model = Path(tmp) / "model.tflite"
        model.write_bytes(mutant.data)
        try:
            compile_model(model, Path(tmp) / "out")
        except Exception:  # noqa: BLE001 (shown to the developer, who asked for it)
            traceback.print_exc()
            return 1
    print("compiled (through the driver; run the case without --case for the CLI contract)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    seeds = load_seeds(args.seeds, args.models)
    if not seeds:
        print(f"no seed models ({args.seeds}): is {args.models or '../shared/models'} there?",
              file=sys.stderr)
        return 2

    def make(case: int) -> Mutant:
        return make_mutant(seeds, args.seed, case)

    if args.case is not None:
        return _rerun(make(args.case))

    def progress(done: int, total: int) -> None:
        if done % 250 == 0 or done == total:
            print(f"  {done}/{total} cases", file=sys.stderr, flush=True)

    start = time.perf_counter()
    cases = range(args.first, args.first + args.cases)
    results = run_cases(make, cases, jobs=args.jobs, limit=args.time_limit, progress=progress)
    summary = Summary(results, args.seed, time.perf_counter() - start)
    print(summary.table())
    print(f"\nre-run one case: python -m tests.fuzz --seed {args.seed} --seeds {args.seeds} "
          "--case N")

    if args.save_crashes and summary.problems:
        args.save_crashes.mkdir(parents=True, exist_ok=True)
        for r in summary.problems:
            (args.save_crashes / f"case{r.case}.tflite").write_bytes(make(r.case).data)
            (args.save_crashes / f"case{r.case}.txt").write_text(
                f"seed {args.seed} case {r.case}\n{r.label}\n{r.outcome}: {r.site}\n{r.detail}\n")
        print(f"wrote {len(summary.problems)} problem mutants to {args.save_crashes}")

    sanitizer_failures = 0
    if args.sanitize:
        chosen = pick_sample(results, args.sanitize)
        print(f"\nsanitizer sample: {len(chosen)} accepted mutants (ASan+UBSan, TFLM compare)")
        for r, check in zip(chosen, check_mutants([make(r.case) for r in chosen])):
            print(f"  case {r.case}: {check.status:<10} {check.oracle:<14} {r.label}")
            if check.detail:
                print(f"      {check.detail}")
            sanitizer_failures += not check.ok
    return 1 if summary.problems or sanitizer_failures else 0


if __name__ == "__main__":
    sys.exit(main())
