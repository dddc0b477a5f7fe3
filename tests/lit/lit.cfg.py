"""lit configuration: textual-IR tests checked with filecheck, in four folders.

roundtrip/ (printer and parser), dialects/ (verifier diagnostics), passes/ (one file per
pass) and codegen/ (`utc translate --emit=cpp`). lit finds the folders on its own; the
substitutions below are absolute paths, so they resolve from any of them.
"""

import os
import shlex
import sys

import lit.formats

config.name = "utc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".utc"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["Inputs"]
python = shlex.quote(sys.executable)
config.substitutions.append(("%utc", f"{python} -m utc.compiler.driver.cli"))
config.substitutions.append(("%filecheck", f"{python} -m filecheck"))
config.substitutions.append(("%not", f"{python} {os.path.join(os.path.dirname(__file__), 'not.py')}"))
config.substitutions.append(("%join", f"{python} {os.path.join(os.path.dirname(__file__), 'join_lines.py')}"))
config.environment["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
