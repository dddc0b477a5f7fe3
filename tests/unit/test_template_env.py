"""The emitter's compiled-template cache: used when valid, ignored when stale, corrupt
or unwritable, and never a reason for different output."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from utc.codegen import template_env
from utc.codegen.template_env import environment


def render(templates: Path, cache: Path, name: str = "t.j2", **ctx) -> str:
    return environment(templates, cache).get_template(name).render(**ctx)


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.j2").write_text("{% for x in xs %}\n[{{ x }}]\n{% endfor %}\nend\n")
    return folder


def test_second_environment_uses_the_cache(templates: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = render(templates, cache, xs=[1, 2])
    assert first == "[1]\n[2]\nend\n"
    assert len(list(cache.glob("*.cache"))) == 1

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render(templates, cache, xs=[1, 2]) == first


def test_changed_template_is_compiled_again(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    render(templates, cache, xs=[1])
    (templates / "t.j2").write_text("changed {{ xs }}\n")
    assert render(templates, cache, xs=[1]) == "changed [1]\n"


@pytest.mark.parametrize("content", [b"", b"garbage", b"j2" + bytes(range(256))])
def test_corrupt_entry_is_compiled_again(templates: Path, tmp_path: Path, content: bytes) -> None:
    cache = tmp_path / "cache"
    expected = render(templates, cache, xs=[3])
    (entry,) = cache.glob("*.cache")
    entry.write_bytes(content)
    assert render(templates, cache, xs=[3]) == expected
    assert entry.read_bytes() not in (b"", content)  # rewritten with valid code


def test_unusable_cache_folder_only_costs_compiling(templates: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    assert render(templates, blocker / "cache", xs=[4]) == "[4]\nend\n"
    assert not (blocker / "cache").exists()


def test_cache_folder_follows_xdg_and_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = template_env.cache_dir()
    assert first is not None and first.parent == tmp_path / "utc" / "templates"
    monkeypatch.setattr(template_env, "OPTIONS", {**template_env.OPTIONS, "trim_blocks": False})
    assert template_env.cache_dir() != first


def test_no_leftover_temporary_files(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for n in range(3):
        render(templates, cache, xs=[n])
    assert [p.name.startswith(".tmp-") for p in cache.iterdir()] == [False]
