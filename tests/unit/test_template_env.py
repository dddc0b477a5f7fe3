"""The emitter's templates: utc's compiler of the Jinja2 subset renders every template
exactly as jinja2 does (on every shared model's context and on snippets of every
construct and whitespace rule), refuses what it does not implement, and its compiled-
template cache is used when valid, ignored when stale, corrupt or unwritable, and never a
reason for different output."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from utc.codegen import template_env
from utc.codegen.template_env import TemplateError, environment

from tests.conftest import SHARED_MODELS


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

    monkeypatch.setattr(template_env, "compile_template", no_compiling)
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
    assert [p.name.startswith(".") for p in cache.iterdir()] == [False]


def _jinja2(source: str, **ctx) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, **template_env.OPTIONS)
    return env.from_string(source).render(**ctx)


def _mine(tmp_path: Path, source: str, **ctx) -> str:
    folder = tmp_path / "snippets"
    folder.mkdir(exist_ok=True)
    (folder / "s.j2").write_text(source)
    return environment(folder, tmp_path / "cache").get_template("s.j2").render(**ctx)


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


SNIPPETS = {
    "text": ("plain text, no tags\nsecond line", {}),
    "trailing-newline": ("a {{ x }}\n\n", {"x": 1}),
    "trim-and-lstrip": ("x\n  {% if a %}\n  yes\n  {% else %}\n  no\n  {% endif %}\nend\n",
                        {"a": True}),
    "lstrip-not-for-variables": ("  {{ a }}\n    {% if a %}[{{ a }}]{% endif %}  \n", {"a": 0}),
    "lstrip-mid-line": ("x  {% if a %}y{% endif %}\n", {"a": 1}),
    "lstrip-after-a-trimmed-tag": ("  {% if a %}\n    {% if a %}x{% endif %}\n  {% endif %}\n"
                                   "{{ a }}  {% if a %}y{% endif %}\n", {"a": 1}),
    "minus-marks": ("a  \n  {%- if a -%}  \n b \n  {%- endif %}\n{{- a -}}\n  c", {"a": 5}),
    "plus-marks": ("a\n  {%+ if a +%}\nb\n{% endif +%}\nc\n", {"a": 1}),
    "comment": ("a\n  {# a comment #}\nb {# inline #} c\n", {}),
    "for-loop": ("{% for x in xs %}\n{{ loop.index0 }}/{{ loop.index }}/{{ loop.length }}:{{ x }}"
                 "{{ ', ' if not loop.last }}{{ '<' if loop.first else '' }}\n{% endfor %}\n",
                 {"xs": ["a", "b", "c"]}),
    "for-else": ("{% for x in xs %}{{ x }}{% else %}empty{% endfor %}\n", {"xs": []}),
    "nested-loops": ("{% for k, items in (('IN', a), ('OUT', b)) %}\n{% for t in items %}\n"
                     "{{ k | lower }}{{ loop.index0 }}={{ t.v }} {{ t.shape | join(', ') }}\n"
                     "{% endfor %}\n{{ loop.revindex }}{{ loop.revindex0 }}\n{% endfor %}\n",
                     {"a": [{"v": 1, "shape": (1, 2)}], "b": [Obj(v=2, shape=[3]), Obj(v=3, shape=[])]}),
    "elif": ("{% for x in xs %}{% if x == 1 %}one{% elif x > 2 and x != 5 %}big{% elif not x %}zero"
             "{% else %}other{% endif %};{% endfor %}\n", {"xs": [0, 1, 2, 3, 5]}),
    "filters": ("{{ s | upper }} {{ s | lower }} {{ xs | length }} {{ xs | join }} "
                "{{ xs | join('-') }}\n  {{ code | indent(2) }}\n{{ code | indent }}|\n", {
                    "s": "MiXed", "xs": [1, 2.5, None], "code": "a;\n\nb;\n c;\n"}),
    "tests-and-literals": ("{{ x is none }} {{ x is not none }} {{ none }} {{ true }} {{ false }} "
                           "{{ (1, 'a') }} {{ [1, 2] }} {{ 7 // 2 }} {{ 7 % 4 }} {{ 2 ** 3 }} "
                           "{{ -x2 }} {{+x2 }} {{ 'a' ~ 1 ~ x }} {{ 'b' in 'abc' }} {{ 3 not in [1] }}\n",
                           {"x": None, "x2": 4}),
    "range": ("{% for i in range(n) %}{{ i }},{% endfor %}{% for i in range(1, n) %}{{ i }}"
              "{% endfor %}\n", {"n": 3}),
    "attribute-then-item": ("{{ d.count }} {{ o.count }} {{ d.name }}\n",
                            {"d": {"count": 4, "name": "n"}, "o": Obj(count=5)}),
    "floats-and-none": ("{{ f }} {{ n }} {{ big }}\n", {"f": 0.1 + 0.2, "n": None, "big": 2**70}),
    "crlf": ("a\r\n{% if x %}\r\nb\r\n{% endif %}\r\n", {"x": 1}),
}


@pytest.mark.parametrize("case", sorted(SNIPPETS))
def test_snippets_render_as_jinja2(case: str, tmp_path: Path) -> None:
    source, ctx = SNIPPETS[case]
    assert _mine(tmp_path, source, **ctx) == _jinja2(source, **ctx)


@pytest.mark.parametrize("source, message", [
    ("{% set x = 1 %}", r"line 1: unsupported statement \{% set %\}"),
    ("a\n{{ x | title }}", r"line 2: unknown filter 'title'"),
    ("{{ xs[0] }}", "subscripts are not supported"),
    ("{{ f(1) }}", r"only range\(\) can be called"),
    ("{% if x %}", r"\{% if %\} is not closed"),
    ("{% endfor %}", "unexpected endfor"),
    ("{{ x is defined }}", "unknown test 'defined'"),
    ("{% for x in xs if x %}{% endfor %}", "loop filters"),
    ("{{ x ", "'}}' is missing"),
])
def test_outside_the_subset_is_refused(source: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=message):
        _mine(tmp_path, source, x=1, xs=[1])


def test_undefined_names_and_attributes_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        _mine(tmp_path, "{{ nope }}")
    with pytest.raises(TemplateError, match="has no attribute 'b'"):
        _mine(tmp_path, "{{ a.b }}", a={})


def test_shipped_templates_render_as_jinja2_on_every_shared_model(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every template the emitter renders, with the context it renders it with, for every
    shared model (host and Cortex-M targets) and the bundled example: jinja2 gives the
    same text."""
    from utc.compiler.driver.cli import main

    from tests.conftest import REPO

    renders: list[tuple[str, dict]] = []
    original = template_env.Template.render

    def recording(self, **ctx):
        renders.append((self.name, ctx))
        return original(self, **ctx)

    monkeypatch.setattr(template_env.Template, "render", recording)
    models = [REPO / "examples" / "sine_int8.tflite", *sorted(SHARED_MODELS.glob("*.tflite"))]
    for n, model in enumerate(models):
        for target in ("host", "cortex-m4"):
            assert main(["compile", str(model), "-O2", "-o", str(tmp_path / f"{n}-{target}"),
                         "--target", target]) == 0
    # several models in one arena: the app's templates and the models' shared branches
    pair = [str(m) for m in models[:2]]
    for n, extra in enumerate((["--concurrent", "--arena-section", ".sram2"], ["--external-arena"])):
        assert main(["compile", f"{pair[0]}:first", f"{pair[1]}:second", "-o",
                     str(tmp_path / f"app-{n}"), *extra]) == 0
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_env.TEMPLATES)),
                             undefined=jinja2.StrictUndefined, **template_env.OPTIONS)
    assert {name for name, _ in renders} >= {"model.h.j2", "model.cpp.j2", "weights.h.j2",
                                              "weights.cpp.j2", "CMakeLists.txt.j2",
                                              "arm-none-eabi.cmake.j2", "app.h.j2",
                                              "app.cpp.j2"}
    for name, ctx in renders:
        assert original(environment().get_template(name), **ctx) == \
            env.get_template(name).render(**ctx), name


def test_entry_of_another_template_is_never_used(templates: Path, tmp_path: Path) -> None:
    """An entry holds its template's name and source: under another template's file name
    (a CRC collision) it is compiled over, not used."""
    cache = tmp_path / "cache"
    render(templates, cache, xs=[1])
    (entry,) = cache.glob("*.cache")
    (templates / "u.j2").write_text("other {{ xs }}\n")
    render(templates, cache, "u.j2", xs=[2])
    (other,) = set(cache.glob("*.cache")) - {entry}
    other.write_bytes(entry.read_bytes())
    assert environment(templates, cache).get_template("u.j2").render(xs=[2]) == "other [2]\n"
