"""The `utc` command's start-up (compiler/console.py): the cache of dataclass code builds
the same classes as compiling afresh, survives between runs, shrugs off a corrupt file,
and neither it nor the one-BLAS-thread setting changes what a compile writes or what the
processes utc starts see."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from utc.compiler import console

from tests.conftest import REPO


def _make_classes() -> tuple[type, type]:
    """A frozen dataclass and a mutable one using the features utc's classes use."""

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        name: str
        shape: tuple[int, ...] = ()
        tags: list[str] = dataclasses.field(default_factory=list, compare=False)

    @dataclasses.dataclass
    class Mutable:
        count: int
        label: str = "x"

        def __post_init__(self) -> None:
            self.count += 1

    return Frozen, Mutable


def _behaviour(frozen: type, mutable: type) -> dict:
    a, b = frozen("a", (1, 2), ["t"]), frozen("a", (1, 2), ["other"])
    m = mutable(3)
    try:
        a.name = "b"  # type: ignore[misc]
        refused = False
    except dataclasses.FrozenInstanceError:
        refused = True
    return {"eq": a == b, "hash": hash(a) == hash(b), "repr": repr(a), "refused": refused,
            "post_init": m.count, "mutable_eq": m == mutable(3), "unhashable": mutable.__hash__,
            "signatures": [str(inspect.signature(c)) for c in (frozen, mutable)],
            "annotations": [c.__init__.__annotations__ for c in (frozen, mutable)],
            "fields": [[f.name for f in dataclasses.fields(c)] for c in (frozen, mutable)]}


def test_cached_code_builds_the_same_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _behaviour(*_make_classes())
    cache = console.CodeCache(tmp_path / "code.marshal")
    monkeypatch.setattr(dataclasses, "exec", cache.exec, raising=False)
    assert _behaviour(*_make_classes()) == expected  # compiled, then cached
    assert cache.added and len(cache.codes) >= 8
    cache.save()

    again = console.CodeCache(tmp_path / "code.marshal")
    assert again.codes.keys() == cache.codes.keys()

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(dataclasses, "exec", again.exec, raising=False)
    monkeypatch.setattr(console, "compile", no_compiling, raising=False)
    assert _behaviour(*_make_classes()) == expected  # every function from the cache
    assert not again.added


@pytest.mark.parametrize("content", [b"", b"garbage", b"\xfb\x00\x00"])
def test_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path, content: bytes,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "code.marshal"
    path.write_bytes(content)
    cache = console.CodeCache(path)
    assert cache.codes == {}
    monkeypatch.setattr(dataclasses, "exec", cache.exec, raising=False)
    _make_classes()
    cache.save()
    assert console.CodeCache(path).codes.keys() == cache.codes.keys() != set()
    assert [p.name for p in tmp_path.iterdir()] == ["code.marshal"]  # no temporary left


def test_unwritable_cache_only_costs_compiling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    cache = console.CodeCache(blocker / "code" / "code.marshal")
    monkeypatch.setattr(dataclasses, "exec", cache.exec, raising=False)
    _make_classes()
    cache.save()  # fails quietly
    assert blocker.is_file()


def _run_utc(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    code = ("import os, sys\nfrom utc.compiler import console\nsys.argv = ['utc', *sys.argv[1:]]\n"
            "status = console.main()\n"
            "print(json.dumps([status, os.environ.get('OPENBLAS_NUM_THREADS')]))")
    return subprocess.run([sys.executable, "-c", "import json\n" + code, *args], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)


def test_compile_through_the_console_is_unchanged(tmp_path: Path) -> None:
    """Twice with the code cache (filling it, then using it) and once without: the same
    files; the BLAS setting is gone from the environment afterwards, and a setting of
    the user's stays."""
    model = REPO / "examples" / "sine_int8.tflite"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "UTC_NO_CODE_CACHE")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    outputs = []
    for n, extra in enumerate(({}, {}, {"UTC_NO_CODE_CACHE": "1", "OPENBLAS_NUM_THREADS": "2"})):
        out = tmp_path / f"out{n}"
        proc = _run_utc(["compile", str(model), "-O2", "-o", str(out)], {**env, **extra})
        assert proc.returncode == 0, proc.stderr
        status, blas = json.loads(proc.stdout.strip().splitlines()[-1])
        assert status == 0 and blas == extra.get("OPENBLAS_NUM_THREADS")
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
        cached = list((tmp_path / "cache" / "utc" / "code").glob("*.marshal"))
        assert len(cached) == 1, n
    assert outputs[0] == outputs[1] == outputs[2]
