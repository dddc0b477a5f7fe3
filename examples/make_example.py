"""Regenerate examples/sine_int8.tflite, utc's bundled example model.

It is built by utc's own test-only TFLite writer with seeded weights (see
tests/models_builtin.py), so the repository carries no third-party model files.
Run from the repository root: python -m examples.make_example
"""

from pathlib import Path

from tests.models_builtin import sine_model_int8

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "sine_int8.tflite"
    target.write_bytes(sine_model_int8())
    print(f"wrote {target}")
