"""Print the schema facts of compiler/importers/tflite_schema.py from TFLite's schema.fbs.

utc reads .tflite files with its own small flatbuffer reader, which needs, for every
table, its fields in slot order (name, type, default) and, for every enum and union, its
members' values. Those are facts of the schema, `tensorflow/compiler/mlir/lite/schema/
schema.fbs` (the TFLite Micro repository carries the same file); this script extracts them
from the .fbs text so the data module is never typed by hand:

    git -C TFLITE_MICRO show HEAD:tensorflow/compiler/mlir/lite/schema/schema.fbs > schema.fbs
    python tools/gen_tflite_schema.py schema.fbs > facts.py

and the printed `ENUMS`, `UNIONS` and `TABLES` replace those of tflite_schema.py. It
parses the subset of the flatbuffers IDL the schema uses: `enum`, `union`, `table`,
fields `name:type = default (attributes);`, and `//` comments. Structs do not occur in the
schema and are refused.
"""

from __future__ import annotations

import re
import sys

_BLOCK = re.compile(r"\b(enum|union|table|struct)\s+(\w+)\s*(?::\s*(\w+))?\s*(\([^)]*\))?\s*\{(.*?)\}",
                    re.S)
_FIELD = re.compile(r"^(\w+)\s*:\s*(\[?\s*\w+\s*\]?)\s*(?:=\s*([^(;]+?))?\s*(\([^)]*\))?\s*$")


def parse(text: str) -> tuple[dict, dict, dict]:
    """(enums: name -> (underlying type, [(member, value)]), unions: name -> [(member,
    value)], tables: name -> [(field, type, default or None, deprecated)]) in schema order."""
    text = re.sub(r"//[^\n]*", "", text)
    enums: dict[str, tuple[str, list[tuple[str, int]]]] = {}
    unions: dict[str, list[tuple[str, int]]] = {}
    tables: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    for kind, name, base, _attrs, body in _BLOCK.findall(text):
        if kind == "struct":
            raise SystemExit(f"struct {name}: structs are not supported by this generator")
        if kind in ("enum", "union"):
            members, value = [], -1 if kind == "enum" else 0
            for item in (i.strip() for i in body.split(",")):
                if not item:
                    continue
                item = re.sub(r"\([^)]*\)", "", item).strip()
                member, _, explicit = (p.strip() for p in item.partition("="))
                value = int(explicit, 0) if explicit else value + 1
                members.append((member, value))
            if kind == "enum":
                enums[name] = (base, members)
            else:
                unions[name] = [("NONE", 0), *members]
            continue
        fields = []
        for item in (i.strip() for i in body.split(";")):
            if not item:
                continue
            m = _FIELD.match(" ".join(item.split()))
            if not m:
                raise SystemExit(f"table {name}: cannot parse field {item!r}")
            field, ftype, default, attrs = m.groups()
            fields.append((field, ftype.replace(" ", ""), default.strip() if default else None,
                           "deprecated" in (attrs or "")))
        tables[name] = fields
    return enums, unions, tables


def entry(key: str, words: list[str], before: str = "", after: str = "") -> str:
    """`    "key": before"w1 w2 ..."after,` wrapped into implicitly joined strings of lines
    at most 110 characters long."""
    head = f'    "{key}": {before}'
    lines, line = [], ""
    for word in words:
        if line and len(head) + len(line) + len(word) + 4 > 104:
            lines.append(line + " ")
            line = ""
        line += (" " if line else "") + word
    lines.append(line)
    if len(lines) == 1:
        return f'{head}"{lines[0]}"{after},'
    indent = " " * len(head)
    body = f"\n{indent}".join(f'"{text}"' for text in lines)
    return f"{head}({body}){after},"


def main() -> None:
    text = open(sys.argv[1], encoding="utf-8").read()
    enums, unions, tables = parse(text)
    print("ENUMS: dict[str, tuple[str, str]] = {")
    for name, (base, members) in enums.items():
        print(entry(name, [f"{m}={v}" for m, v in members], f'("{base}", ', ")"))
    print("}")
    print("UNIONS: dict[str, str] = {")
    for name, members in unions.items():
        print(entry(name, [f"{m}={v}" for m, v in members]))
    print("}")
    print("TABLES: dict[str, str] = {")
    for name, fields in tables.items():
        print(entry(name, [("~" if dep else "") + f"{f}:{t}" + (f"={d}" if d is not None else "")
                           for f, t, d, dep in fields]))
    print("}")


if __name__ == "__main__":
    main()
