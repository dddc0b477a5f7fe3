"""`QnnAttrs`: the base of every bundle of compile-time constants the quantization math
returns.

Each `*_params` function returns a frozen dataclass whose fields are named exactly as the
attributes of the `qnn` op they become, in the op's attribute order, so `lower-to-qnn`
turns it into attributes with `.attrs()` and no renaming, and a misspelt field is an
`AttributeError` at the call site instead of a silently missing dict key.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class QnnAttrs:
    """A frozen bundle of `qnn` op attribute values (see the module docstring)."""

    def attrs(self) -> dict[str, Any]:
        """The fields as a `qnn` op attribute dictionary, in declaration order (the order
        the IR printer writes them in). Shallow: the values are the fields themselves."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
