"""The emitter's templates: Jinja2 templates, rendered by a small compiler of the Jinja2
subset they use, with compiled templates cached on disk.

The .j2 files under codegen/templates are Jinja2 templates and stay the source of truth
(jinja2 renders them byte for byte the same; tests/unit/test_template_env.py checks that
on every template and every shared model's context). What a compile does not pay for is
jinja2 itself: importing it (lexer, parser, compiler, nodes, runtime) took ~20 ms of
every compile, a tenth of a small model's. Here a template becomes one Python function,
compiled once and cached.

The subset, with jinja2's meaning and the emitter's options (`keep_trailing_newline`,
`trim_blocks`, `lstrip_blocks`, strict about undefined names):
  - `{{ expression }}` (printed with `str`), `{# comment #}`, `{% for target in
    expression %}` (target a name or names; `loop.index0`, `index`, `first`, `last`,
    `length`, `revindex`, `revindex0`; an optional `{% else %}`), `{% if %}` /
    `{% elif %}` / `{% else %}`, and the `-` / `+` whitespace-control marks;
  - expressions: names, `a.b` (attribute, else item, as jinja2 looks it up), literals
    (strings, numbers, tuples, lists, `none`, `true`, `false`), `not` / `and` / `or`,
    comparisons and `in`, arithmetic, `~`, `x if c else y` (a missing `else` prints
    nothing), calls of `range`, `is [not] none`, and the filters `length`, `join`,
    `lower`, `upper`, `indent`.
Anything else is refused with the template's name and line when it is compiled, never
rendered differently.

The cache lives in the user's cache folder (`$XDG_CACHE_HOME/utc/templates`, else
`~/.cache/utc/templates`), never in the package, which may be read-only (a wheel
installed system-wide). An entry is the marshalled code of one template together with
the template's name and source, so it is used for exactly that template (its file name,
a CRC of both, only finds it); the folder name covers the rest (this compiler's own
source, the Python implementation and version, the options). The cache is best effort:
an unreadable, corrupt or unwritable entry or folder only means compiling the template
again. The rendered text is the same either way.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import types
import zlib
from collections.abc import Callable
from pathlib import Path

from utc.compiler.atomic import write_atomically
from utc.compiler.errors import CompileError

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: How every template is read and rendered (part of the cache key): jinja2's options.
OPTIONS = {"keep_trailing_newline": True, "trim_blocks": True, "lstrip_blocks": True}


class TemplateError(CompileError):
    """A template outside the supported subset, or a render that uses a name, attribute
    or filter the context does not have."""


def cache_dir() -> Path | None:
    """Where compiled templates are kept for this compiler, Python and set of options;
    None when there is no home or cache folder to use."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no HOME and no password entry
        return None
    try:  # this compiler's own source: a changed compiler never reuses old code
        own = Path(__file__).read_bytes()
    except OSError:
        return None
    # CRC-32 names (zlib is already loaded; hashlib would cost ~2 ms): a name collision
    # cannot give wrong code, since every entry holds the template source it was built
    # from and is used only for exactly that source
    key = zlib.crc32(repr((zlib.crc32(own), len(own), sys.implementation.cache_tag, sys.version,
                           sorted(OPTIONS.items()))).encode())
    return Path(base) / "utc" / "templates" / f"{key:08x}"


# ---- rendering helpers (the names the generated code uses) -------------------------------

class _Missing:
    """What `x if c` gives when `c` is false: jinja2 prints it as nothing."""

    def __str__(self) -> str:
        return ""


MISSING = _Missing()


class Loop:
    """The `loop` variable of a for loop (the attributes jinja2's has that do not look
    ahead lazily: the sequence is a list)."""

    __slots__ = ("index0", "length")

    def __init__(self, length: int):
        self.index0 = -1
        self.length = length

    @property
    def index(self) -> int:
        return self.index0 + 1

    @property
    def first(self) -> bool:
        return self.index0 == 0

    @property
    def last(self) -> bool:
        return self.index0 == self.length - 1

    @property
    def revindex(self) -> int:
        return self.length - self.index0

    @property
    def revindex0(self) -> int:
        return self.length - self.index0 - 1


def _attr(obj: object, name: str, where: str) -> object:
    """jinja2's `obj.name`: the attribute, else the item `name`."""
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]  # type: ignore[index]
    except (TypeError, LookupError, AttributeError):
        raise TemplateError(f"{where}: {type(obj).__name__} object has no attribute "
                            f"'{name}'") from None


def _indent(s: object, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    """jinja2's `indent` filter: every line after the first (and the first with
    `first`) prefixed by `width` spaces (or the string `width`), empty lines only with
    `blank`."""
    pad = width if isinstance(width, str) else " " * width
    lines = (str(s) + "\n").splitlines()
    if blank:
        text = ("\n" + pad).join(lines)
    else:
        text = lines[0]
        if len(lines) > 1:
            text += "\n" + "\n".join(pad + line if line else line for line in lines[1:])
    return pad + text if first else text


FILTERS: dict[str, Callable] = {
    "length": len,
    "join": lambda value, d="": str(d).join(map(str, value)),
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "indent": _indent,
}
GLOBALS: dict[str, object] = {"range": range}


# ---- the compiler ------------------------------------------------------------------------

#: One token of an expression (compiled on first use: a compile with cached templates
#: never needs it).
_TOKEN_PATTERN = r"""\s*(?:
    (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>//|\*\*|==|!=|<=|>=|[-+*/%~|.,()\[\]<>])
)"""
_COMPARE = {"==", "!=", "<", ">", "<=", ">="}
_LITERALS = {"none": "None", "None": "None", "true": "True", "True": "True",
             "false": "False", "False": "False"}


class _Expr:
    """A recursive-descent parser of one Jinja2 expression into Python source, with
    jinja2's precedence (filters and tests bind tighter than any operator)."""

    def __init__(self, text: str, scope: dict[str, str], fail: Callable[[str], TemplateError]):
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        token = re.compile(_TOKEN_PATTERN, re.X)  # re's own cache makes repeats cheap
        while pos < len(text):
            m = token.match(text, pos)
            if not m or m.end() == pos:
                raise fail(f"cannot read the expression at {text[pos:]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.pos = 0
        self.scope = scope
        self.fail = fail

    # token helpers
    def peek(self, value: str | None = None, kind: str | None = None, ahead: int = 0) -> bool:
        if self.pos + ahead >= len(self.tokens):
            return False
        k, v = self.tokens[self.pos + ahead]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            got = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "the end"
            raise self.fail(f"expected {value or kind}, got {got!r}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def done(self) -> bool:
        return self.pos == len(self.tokens)

    def whole(self) -> str:
        out = self.expression()
        if not self.done():
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        return out

    # grammar
    def expression(self) -> str:
        body = self.or_()
        if self.peek("if", "name"):
            self.take()
            cond = self.or_()
            other = "_missing"
            if self.peek("else", "name"):
                self.take()
                other = self.expression()
            return f"({body} if {cond} else {other})"
        return body

    def or_(self) -> str:
        out = self.and_()
        while self.peek("or", "name"):
            self.take()
            out = f"({out} or {self.and_()})"
        return out

    def and_(self) -> str:
        out = self.not_()
        while self.peek("and", "name"):
            self.take()
            out = f"({out} and {self.not_()})"
        return out

    def not_(self) -> str:
        if self.peek("not", "name"):
            self.take()
            return f"(not {self.not_()})"
        return self.compare()

    def compare(self) -> str:
        out = self.math1()
        while True:
            if self.peek(kind="op") and self.tokens[self.pos][1] in _COMPARE:
                op = self.take()
                out = f"({out} {op} {self.math1()})"
            elif self.peek("in", "name"):
                self.take()
                out = f"({out} in {self.math1()})"
            elif self.peek("not", "name") and self.peek("in", "name", 1):
                self.pos += 2
                out = f"({out} not in {self.math1()})"
            else:
                return out

    def math1(self) -> str:
        out = self.concat()
        while self.peek("+", "op") or self.peek("-", "op"):
            op = self.take()
            out = f"({out} {op} {self.concat()})"
        return out

    def concat(self) -> str:
        out = self.math2()
        while self.peek("~", "op"):
            self.take()
            out = f"(str({out}) + str({self.math2()}))"
        return out

    def math2(self) -> str:
        out = self.pow_()
        while any(self.peek(op, "op") for op in ("*", "/", "//", "%")):
            op = self.take()
            out = f"({out} {op} {self.pow_()})"
        return out

    def pow_(self) -> str:
        out = self.unary()
        while self.peek("**", "op"):
            self.take()
            out = f"({out} ** {self.unary()})"
        return out

    def unary(self, filters: bool = True) -> str:
        if self.peek("-", "op") or self.peek("+", "op"):
            op = self.take()
            out = f"({op}{self.unary(False)})"
        else:
            out = self.postfix(self.primary())
        return self.filters(out) if filters else out

    def primary(self) -> str:
        kind, value = self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")
        if kind == "string":
            self.pos += 1
            while self.peek(kind="string"):  # adjacent literals join, as in jinja2
                value = f"{value} {self.take()}"
            return f"({value})"
        if kind == "number":
            self.pos += 1
            return value
        if kind == "name":
            self.pos += 1
            if value in _LITERALS:
                return _LITERALS[value]
            if value in self.scope:
                return self.scope[value]
            return f"_lookup({value!r})"
        if value in ("(", "["):
            close = ")" if value == "(" else "]"
            self.pos += 1
            items, trailing = [], False
            while not self.peek(close, "op"):
                items.append(self.expression())
                trailing = self.peek(",", "op")
                if not trailing:
                    break
                self.take(",")
            self.take(close)
            if value == "(":
                if len(items) == 1 and not trailing:
                    return f"({items[0]})"
                return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
            return "[" + ", ".join(items) + "]"
        raise self.fail(f"unexpected {value or 'end of expression'!r}")

    def arguments(self) -> str:
        self.take("(")
        args = []
        while not self.peek(")", "op"):
            if self.peek(kind="name") and self.peek("=", "op", 1):
                raise self.fail("keyword arguments are not supported")
            args.append(self.expression())
            if not self.peek(",", "op"):
                break
            self.take(",")
        self.take(")")
        return ", ".join(args)

    def postfix(self, out: str) -> str:
        while True:
            if self.peek(".", "op"):
                self.take()
                name = self.take(kind="name")
                out = f"_attr({out}, {name!r}, _where)"
            elif self.peek("(", "op"):
                if out != "_lookup('range')":
                    raise self.fail("only range() can be called")
                out = f"range({self.arguments()})"
            elif self.peek("[", "op"):
                raise self.fail("subscripts are not supported")
            else:
                return out

    def filters(self, out: str) -> str:
        while True:
            if self.peek("|", "op"):
                self.take()
                name = self.take(kind="name")
                if name not in FILTERS:
                    raise self.fail(f"unknown filter '{name}'")
                args = self.arguments() if self.peek("(", "op") else ""
                out = f"_filters[{name!r}]({out}{', ' + args if args else ''})"
            elif self.peek("is", "name"):
                self.take()
                negate = self.peek("not", "name")
                if negate:
                    self.take()
                test = self.take(kind="name")
                if test not in ("none", "None"):
                    raise self.fail(f"unknown test '{test}'")
                out = f"({out} is {'not ' if negate else ''}None)"
            else:
                return out


class _Compiler:
    """Turns template source into the Python source of `render(_lookup)`."""

    def __init__(self, name: str, source: str):
        self.name = name
        # jinja2 reads \r\n and \r as \n; keep_trailing_newline keeps the last one
        self.source = source.replace("\r\n", "\n").replace("\r", "\n")
        self.lines = ["def render(_lookup, _attr, _filters, _missing, _Loop):",
                      f"    _where = {name!r}", "    _out = []", "    _w = _out.append"]
        self.depth = 1
        self.scopes: list[dict[str, str]] = [{}]
        self.blocks: list[str] = []
        self.line = 1
        self.counter = 0

    def fail(self, message: str) -> TemplateError:
        return TemplateError(f"template {self.name}, line {self.line}: {message}")

    def emit(self, code: str) -> None:
        self.lines.append("    " * self.depth + code)

    def expr(self, text: str) -> str:
        scope = {k: v for s in self.scopes for k, v in s.items()}
        return _Expr(text, scope, self.fail).whole()

    def compile(self) -> str:
        src = self.source
        pos, line_starting = 0, True
        opener = re.compile(r"\{([{%#])([-+]?)")
        while True:
            m = opener.search(src, pos)
            text = src[pos : m.start()] if m else src[pos:]
            if m:
                kind, sign = m.group(1), m.group(2)
                if kind == "{" and sign == "+":  # no such mark on variables: unary plus
                    sign = ""
                if sign == "-":
                    text = text.rstrip()
                elif sign != "+" and kind != "{" and OPTIONS["lstrip_blocks"]:
                    start = text.rfind("\n") + 1
                    if (start > 0 or line_starting) and text[start:] and text[start:].isspace():
                        text = text[:start]
            if text:
                self.emit(f"_w({text!r})")
            if not m:
                break
            self.line = 1 + src.count("\n", 0, m.start())
            closer = {"{": "}}", "%": "%}", "#": "#}"}[kind]
            start = m.start() + 2 + len(sign)
            end = self._find_close(src, start, closer)
            body = src[start:end]
            strip_after = body.endswith("-")
            keep_newline = body.endswith("+") and kind != "{"
            if strip_after or keep_newline:
                body = body[:-1]
            pos = end + 2
            consumed = src[m.start() : pos]
            if strip_after:
                rest = len(src) - len(src[pos:].lstrip())
                consumed += src[pos:rest]
                pos = rest
            elif kind != "{" and not keep_newline and OPTIONS["trim_blocks"] and src.startswith("\n", pos):
                consumed += "\n"
                pos += 1
            line_starting = consumed.endswith("\n")
            if kind == "{":
                self.emit(f"_w(str({self.expr(body)}))")
            elif kind == "%":
                self.statement(body.strip())
        if self.blocks:
            raise self.fail(f"{{% {self.blocks[-1]} %}} is not closed")
        self.emit("return ''.join(_out)")
        return "\n".join(self.lines) + "\n"

    def _find_close(self, src: str, pos: int, closer: str) -> int:
        quote = None
        i = pos
        while i < len(src):
            c = src[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = None
            elif closer != "#}" and c in "'\"":
                quote = c
            elif src.startswith(closer, i):
                return i
            i += 1
        raise self.fail(f"'{closer}' is missing")

    def statement(self, body: str) -> None:
        word, _, rest = body.partition(" ")
        rest = rest.strip()
        if word == "for":
            self.for_(rest)
        elif word == "if":
            self.emit(f"if {self.expr(rest)}:")
            self.depth += 1
            self.emit("pass")
            self.blocks.append("if")
        elif word == "elif":
            if not self.blocks or self.blocks[-1] != "if":
                raise self.fail("elif outside an if")
            self.depth -= 1
            self.emit(f"elif {self.expr(rest)}:")
            self.depth += 1
            self.emit("pass")
        elif word == "else" and not rest:
            if not self.blocks or self.blocks[-1] not in ("if", "for"):
                raise self.fail("else outside an if or for")
            self.depth -= 1
            if self.blocks[-1] == "for":
                loop = self.scopes.pop()["loop"]
                self.emit(f"if {loop}.length == 0:")
                self.blocks[-1] = "for-else"
                self.scopes.append({})
            else:
                self.emit("else:")
                self.blocks[-1] = "if-else"
            self.depth += 1
            self.emit("pass")
        elif word in ("endif", "endfor") and not rest:
            opened = self.blocks.pop() if self.blocks else None
            if opened is None or opened.split("-")[0] != word[3:]:
                raise self.fail(f"unexpected {word}")
            self.depth -= 1
            if opened.startswith("for"):
                self.scopes.pop()
        else:
            raise self.fail(f"unsupported statement {{% {word} %}}")

    def for_(self, rest: str) -> None:
        m = re.fullmatch(r"([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+(.+)", rest, re.S)
        if not m:
            raise self.fail(f"unsupported for loop {rest!r}")
        iterable = self.expr(m.group(2))
        if re.search(r"\s(if|recursive)\b", m.group(2)):
            raise self.fail("loop filters and recursive loops are not supported")
        self.counter += 1
        n = self.counter
        names = [t.strip() for t in m.group(1).split(",")]
        scope = {t: f"_v{n}_{t}" for t in names}
        scope["loop"] = f"_loop{n}"
        seq = f"_seq{n}"
        self.emit(f"{seq} = list({iterable})")
        self.emit(f"{scope['loop']} = _Loop(len({seq}))")
        target = ", ".join(scope[t] for t in names)
        self.emit(f"for {target} in {seq}:")
        self.depth += 1
        self.emit(f"{scope['loop']}.index0 += 1")
        self.scopes.append(scope)
        self.blocks.append("for")


def compile_template(name: str, source: str) -> object:
    """The code object of a template's module (defining `render`)."""
    return compile(_Compiler(name, source).compile(), f"<template {name}>", "exec")


class Template:
    """A compiled template: `render(**context)` gives its text."""

    def __init__(self, name: str, code: object):
        namespace: dict[str, object] = {}
        exec(code, namespace)  # noqa: S102 (our own generated code)
        self.name = name
        self._render = namespace["render"]

    def render(self, **context: object) -> str:
        def lookup(key: str) -> object:
            try:
                return context[key]
            except KeyError:
                if key in GLOBALS:
                    return GLOBALS[key]
                raise TemplateError(f"template {self.name}: '{key}' is undefined") from None

        return self._render(lookup, _attr, FILTERS, MISSING, Loop)


class Environment:
    """Templates from one folder, compiled on first use, the code cached in `cache`."""

    def __init__(self, templates: Path, cache: Path | None):
        self.templates = Path(templates)
        self.cache = cache
        self._loaded: dict[str, Template] = {}

    def get_template(self, name: str) -> Template:
        template = self._loaded.get(name)
        if template is None:
            source = (self.templates / name).read_text(encoding="utf-8")
            template = self._loaded[name] = Template(name, self._code(name, source))
        return template

    def _code(self, name: str, source: str) -> object:
        entry = None
        if self.cache is not None:
            key = zlib.crc32(f"{name}\0{source}".encode())
            entry = self.cache / f"{key:08x}-{len(source)}.cache"
            try:
                held, code = marshal.loads(entry.read_bytes())
                if held == (name, source) and isinstance(code, types.CodeType):
                    return code
            except (OSError, EOFError, ValueError, TypeError):
                pass  # absent, unreadable, corrupt or another template's: compile again
        code = compile_template(name, source)
        if entry is not None:
            _write_atomically(entry, marshal.dumps(((name, source), code)))
        return code


def _write_atomically(target: Path, data: bytes) -> None:
    """Store a cache entry atomically (concurrent compiles never read half an entry); any
    failure only means no cache this time."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, lambda f: f.write(data))
    except OSError:
        pass


def environment(templates: Path = TEMPLATES, cache: Path | None = None) -> Environment:
    """The environment the emitter renders with: templates from `templates`, compiled
    code cached in `cache` (default `cache_dir()`)."""
    return Environment(templates, cache if cache is not None else cache_dir())

