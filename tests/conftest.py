"""Shared test configuration: paths to the shared real models (when present)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import utc.dialects  # noqa: F401  (register ops)

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = Path(os.environ.get("UTC_SHARED_MODELS", REPO.parent / "shared" / "models"))


def shared_model(name: str) -> Path:
    """A model from ../shared/models; skip visibly when that folder is absent."""
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"{path} not present (the shared models folder is only beside CI checkouts)")
    return path
