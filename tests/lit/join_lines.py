"""`join_lines < FILE`: print FILE with every wrapped statement on one line.

A code line (not a comment line) that ends in `,` or `(` is joined with the next one
(leading spaces dropped, one space after a comma), so a lit test can check a generated
kernel call's whole argument list with one CHECK line, whatever width the emitter wraps
calls at.
"""

import sys

joined: list[str] = []
pending = ""
for line in sys.stdin.read().splitlines():
    text = pending + (line.lstrip() if pending else line)
    comment = text.lstrip().startswith(("/*", "*", "//"))
    if not comment and text.rstrip().endswith((",", "(")):
        pending = text.rstrip() + ("" if text.rstrip().endswith("(") else " ")
        continue
    joined.append(text)
    pending = ""
if pending:
    joined.append(pending.rstrip())
sys.stdout.write("\n".join(joined) + "\n")
