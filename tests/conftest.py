"""Shared test configuration: paths to the shared real models (when present)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
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

#: A TFLite Micro checkout or bare git repository (the mirror beside CI checkouts): its
#: public example models (micro_speech's audio preprocessors, keyword_scrambled, ...) are
#: read from it, never copied into this repository.
#: Default: the mirror beside the checkout, else this machine's shared mirror.
_TFLM_MIRRORS = [REPO.parent / ".mirror" / "tensorflow+tflite-micro" / "repo",
                 Path("/work/.mirror/tensorflow+tflite-micro/repo")]
TFLM_SOURCE = Path(os.environ.get("UTC_TFLM_SOURCE")
                   or next((p for p in _TFLM_MIRRORS if p.exists()), _TFLM_MIRRORS[0]))


def tflm_file(relative: str) -> bytes:
    """A file of TFLite Micro's repository, from a working tree or from HEAD of a bare
    git repository; skip visibly when neither has it."""
    if (TFLM_SOURCE / relative).is_file():
        return (TFLM_SOURCE / relative).read_bytes()
    if not TFLM_SOURCE.exists():
        pytest.skip(f"no TFLite Micro checkout at {TFLM_SOURCE} (set UTC_TFLM_SOURCE)")
    proc = subprocess.run(["git", "-C", str(TFLM_SOURCE), "show", f"HEAD:{relative}"],
                          capture_output=True)
    if proc.returncode != 0 or not proc.stdout:
        pytest.skip(f"{TFLM_SOURCE} has no {relative}")
    return proc.stdout


#: CMSIS-NN for tests, CI and benchmarks: $CMSIS_NN_PATH, else the pinned copy in
#: ../shared/third_party (never vendored). Set here, so every test (and every `utc` the
#: tests start) finds it the way a user's environment would.
CMSIS_NN = Path(os.environ.get("CMSIS_NN_PATH", REPO.parent / "shared" / "third_party" / "CMSIS-NN"))
os.environ.setdefault("CMSIS_NN_PATH", str(CMSIS_NN))


def cmsis_nn_root() -> Path:
    """The CMSIS-NN source tree; skip visibly when it is absent (it is beside CI)."""
    if not (CMSIS_NN / "Include" / "arm_nnfunctions.h").is_file():
        pytest.skip(f"{CMSIS_NN} not present (set CMSIS_NN_PATH to a CMSIS-NN checkout)")
    return CMSIS_NN


def require_tools(*tools: str, why: str = "Debian gcc-arm-none-eabi and qemu-system-arm") -> None:
    """Skip visibly when a cross tool is missing on a developer's machine; under CI
    (UTC_EXPECT_INSTALLED=1, where .ci/run installs them) a missing tool is a failure,
    so the Cortex-M checks can never silently drop out of CI."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed ({why})"
    if os.environ.get("UTC_EXPECT_INSTALLED") == "1":
        pytest.fail(f"{message}: CI installs them, so this must not be skipped")
    pytest.skip(message)


#: a developer's quick run (`-m "not slow"`) takes one case in SWEEP_SAMPLE of every test
#: function in a file marked `sweep` (pytestmark), and always its first case; CI
#: (`-m "slow or not slow"`) runs every case. The other cases are marked `slow` here, so
#: the two commands in README.md stay the whole story.
SWEEP_SAMPLE = 4


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    first_seen: set[tuple[str, str]] = set()
    for item in items:
        if item.get_closest_marker("sweep") is None or not hasattr(item, "callspec"):
            continue
        key = (item.nodeid.split("::")[0], getattr(item, "originalname", item.name))
        if key not in first_seen:
            first_seen.add(key)
            continue
        # a stable choice: the same cases on every machine and every run
        if zlib.crc32(item.nodeid.encode()) % SWEEP_SAMPLE:
            item.add_marker(pytest.mark.slow)
