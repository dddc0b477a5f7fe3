"""A patch stage's calls as a loop over a compact schedule table (emit-cpp).

`patch-stages` (passes/patch_stages.py) runs the first layers of a network in row
steps: one kernel call per computed row per layer, plus the `utc_move`s of the band
buffers. The IR keeps every call (the plan checker verifies each one and the printed IR
shows them), but emitted one by one each call carries its own constant parameter struct
in flash: ResNet-8's stage of 734 calls cost 25 KB of code. The calls of one layer differ
only in a few integers (rows, padding, arena offsets of the rows they read and write);
the rest of the call, the weights, quantization and the kernel, is the same.

So the emitter renders each stage call with its arena buffers written as `base +
offset` (`Emitter.expr` in canonical mode), and splits the text into a skeleton and its
integer literals (`split_literals`). Calls with the same skeleton form a *group* (one
layer, or every move of the stage); the literal positions that differ among a group's
calls are its *columns*, the distinct column tuples its *variants* (in the steady state
of a stage most calls of a layer repeat one variant: the band buffers are at the same
place every step). Each (group, variant) pair is a *kind*; the stage becomes

    static const <narrow struct> group_g_variants[] = {...};   (one per group)
    static const uint8_t steps[] = {kind of call 0, kind of call 1, ...};
    for (i ...) { k = steps[i]; if (k < end_0) { group 0's call with v = variants[k] }
                  else if ... }

where a group's call is its skeleton with each column read from the variant (structs
that hold a column are filled on the stack instead of `static const`). Same kernels,
same arguments, so the results are those of the calls one by one; the order is the
IR's. A profiling build still brackets each call with `UTC_LAYER_BEGIN/END(step)`
(the step computed from the loop index). Deterministic: groups, variants and kinds
are numbered in the order of their first call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: A float literal (kept whole in the skeleton) or an integer literal (a possible column).
_LITERAL = re.compile(r"(?P<float>(?<![\w.])\d+\.\d*(?:[eE][-+]?\d+)?[fF]?"
                      r"|(?<![\w.])\d+[eE][-+]?\d+[fF]?)"
                      r"|(?P<int>(?<![\w.])-?\d+(?![\w.]))")
_HOLE = "\0"


def split_literals(code: str) -> tuple[str, list[int]]:
    """(skeleton, integers): `code` with every integer literal (not part of an identifier
    or a float) replaced by a NUL hole, and the literals in order."""
    values: list[int] = []

    def hole(m: re.Match) -> str:
        if m.group("int") is None:
            return m.group(0)
        values.append(int(m.group("int")))
        return _HOLE

    return _LITERAL.sub(hole, code), values


#: The narrowest C type holding each column, by range.
_TYPES = (("uint8_t", 0, 255), ("int8_t", -128, 127), ("uint16_t", 0, 65535),
          ("int16_t", -32768, 32767), ("int32_t", -2**31, 2**31 - 1))
_SIZE = {"uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2, "int32_t": 4}


def column_type(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    for name, a, b in _TYPES:
        if a <= lo and hi <= b:
            return name
    raise ValueError(f"a stage column does not fit in 32 bits: {lo}..{hi}")


@dataclass
class Group:
    """Calls with one skeleton: their literals, the varying positions and variants."""

    skeleton: str
    comments: list[str]  # `op -> kernel`, then each layer's `[TFLite op #N (name)]`
    literals: list[list[int]]
    columns: list[int] | None = None
    variants: list[tuple[int, ...]] | None = None

    def add_comment(self, comment: str) -> None:
        head, _, where = comment.partition("  ")
        if not self.comments:
            self.comments.append(head)
        if where and where not in self.comments:
            self.comments.append(where)

    @property
    def comment(self) -> str:
        return "  ".join(self.comments)

    def finish(self) -> None:
        first = self.literals[0]
        self.columns = [i for i in range(len(first)) if any(v[i] != first[i] for v in self.literals)]
        seen: dict[tuple[int, ...], int] = {}
        for v in self.literals:
            seen.setdefault(tuple(v[i] for i in self.columns), len(seen))
        self.variants = list(seen)

    def variant_of(self, literals: list[int]) -> int:
        return self.variants.index(tuple(literals[i] for i in self.columns))


def _unstatic(code: str) -> str:
    """Drop `static` from every declaration that reads a column (`v.`): its value is
    known only at run time."""
    out = []
    for stmt in re.split(r"(?<=;)", code):
        out.append(re.sub(r"\bstatic\s+", "", stmt) if "v.c" in stmt else stmt)
    return "".join(out)


@dataclass
class StagePlan:
    """The groups of a stage's calls (in order of their first call) and each call's kind."""

    groups: list[Group]
    base: list[int]  # the first kind of each group
    steps: list[int]  # the kind of each call, in run order

    @property
    def kinds(self) -> int:
        return self.base[-1] + len(self.groups[-1].variants) if self.groups else 0

    @property
    def step_type(self) -> str:
        return "uint8_t" if self.kinds <= 256 else "uint16_t"

    def column_types(self, g: Group) -> list[str]:
        return [column_type([v[c] for v in g.variants]) for c in range(len(g.columns))]

    def table_bytes(self) -> int:
        """Bytes of the tables in flash: every group's variants (structs padded to their
        largest field) and the steps."""
        total = len(self.steps) * _SIZE[self.step_type]
        for g in self.groups:
            if g.columns:
                types = self.column_types(g)
                align = max(_SIZE[t] for t in types)
                size = -(-sum(_SIZE[t] for t in types) // align) * align
                total += size * len(g.variants)
        return total


def plan_stage(codes: Sequence[str], comments: Sequence[str]) -> StagePlan:
    """Group a stage's calls (`codes`, canonical buffer expressions) by skeleton."""
    groups: list[Group] = []
    by_skeleton: dict[str, Group] = {}
    order: list[tuple[Group, list[int]]] = []
    for code, comment in zip(codes, comments):
        skeleton, values = split_literals(code)
        g = by_skeleton.get(skeleton)
        if g is None:
            g = by_skeleton[skeleton] = Group(skeleton, [], [])
            groups.append(g)
        g.literals.append(values)
        g.add_comment(comment)
        order.append((g, values))
    for g in groups:
        g.finish()
    base: list[int] = []
    kinds = 0
    for g in groups:
        base.append(kinds)
        kinds += len(g.variants)
    index = {id(g): gi for gi, g in enumerate(groups)}
    steps = [base[index[id(g)]] + g.variant_of(v) for g, v in order]
    return StagePlan(groups, base, steps)


def render_stage(prefix: str, first_step: int, codes: Sequence[str],
                 comments: Sequence[str], hooks: bool = True) -> str:
    """The C block that runs calls `first_step`.. of the stage (`codes`: each call's code
    with canonical buffer expressions, `comments`: what each call is) as a loop over a
    table. `prefix` names the tables. `hooks`: bracket each call with
    `UTC_LAYER_BEGIN/END` (a verify build's taps are in `codes` instead: its END macro
    names the step at compile time)."""
    plan = plan_stage(codes, comments)
    groups, base, steps = plan.groups, plan.base, plan.steps
    kinds, step_type = plan.kinds, plan.step_type
    n = len(codes)
    lines = [f"/* patch stage: steps {first_step}-{first_step + n - 1} ({n} calls in "
             f"{len(groups)} groups, {kinds} kinds; tables {plan.table_bytes()} B) run as a "
             "loop over a table: each entry the kind of call (a group, one layer's calls or "
             "the moves, and a variant of it) in run order; a group's variants hold the "
             "integers that differ among its calls (rows, padding, arena offsets). */",
             "{"]
    for gi, g in enumerate(groups):
        if not g.columns:
            continue
        types = plan.column_types(g)
        fields = sorted(range(len(types)), key=lambda c: (-_SIZE[types[c]], c))
        struct = f"{prefix}_g{gi}"
        lines.append(f"  /* group {gi}: {g.comment} */")
        lines.append(f"  struct {struct} {{ " + " ".join(f"{types[c]} c{c};" for c in fields)
                     + " };")
        rows = ", ".join("{" + ", ".join(str(var[c]) for c in fields) + "}" for var in g.variants)
        lines.append(f"  static const {struct} {struct}_v[{len(g.variants)}] = {{")
        lines += _wrap(rows, "      ")
        lines.append("  };")
    lines.append(f"  /* the kind of each call, {n} in run order */")
    lines.append(f"  static const {step_type} {prefix}_steps[{n}] = {{")
    lines += _wrap(", ".join(str(s) for s in steps), "      ")
    lines.append("  };")
    lines.append(f"  for (unsigned i = 0; i < {n}u; ++i) {{")
    lines.append(f"    const unsigned k = {prefix}_steps[i];")
    if hooks:
        lines.append(f"    UTC_LAYER_BEGIN({first_step} + (int)i);")
    for gi, g in enumerate(groups):
        end = base[gi] + len(g.variants)
        cond = f"k < {end}u" if gi < len(groups) - 1 else ""
        head = ("if" if gi == 0 else "} else if") + f" ({cond}) {{" if cond else "} else {"
        if len(groups) == 1:
            head = "{"
        lines.append(f"    {head}  /* {g.comment} */")
        body = g.skeleton
        if g.columns:
            lines.append(f"      const {prefix}_g{gi} &v = {prefix}_g{gi}_v[k - {base[gi]}u];")
        pieces = body.split(_HOLE)
        literal0 = g.literals[0]
        col = {c: j for j, c in enumerate(g.columns)}
        text = pieces[0]
        for i, piece in enumerate(pieces[1:]):
            text += (f"v.c{col[i]}" if i in col else str(literal0[i])) + piece
        text = _unstatic(text) if g.columns else text
        lines += ["      " + ln for ln in text.split("\n")]
    lines.append("    }")
    if hooks:
        lines.append(f"    UTC_LAYER_END({first_step} + (int)i);")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _wrap(items: str, indent: str, width: int = 100) -> list[str]:
    out, line = [], indent
    for piece in items.split(", "):
        piece = piece + ","
        if len(line) + len(piece) + 1 > width and line.strip():
            out.append(line.rstrip())
            line = indent
        line += piece + " "
    if line.strip():
        out.append(line.rstrip().rstrip(","))
    return out
