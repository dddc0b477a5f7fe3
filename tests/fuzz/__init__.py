"""Model-file fuzzer: seeded byte-level and structure-aware mutations of TFLite models,
each compiled in-process under a time limit and classified (compiled, refused, crash, hang).

`python -m tests.fuzz --cases N --seed S` runs a campaign; `tests/fuzz/test_fuzz.py` runs
the fixed seeded set CI relies on, the regression recipes and the sanitizer sample.
"""
