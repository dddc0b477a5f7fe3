"""utc's reference kernels (C++) and the header generated code includes.

The files in this folder are package data: codegen copies the ones a model uses into the
output folder, so generated code never depends on an installed utc.
"""

from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent
