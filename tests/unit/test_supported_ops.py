"""SUPPORTED_OPS.md must match what the importer and kernel table really support."""

from pathlib import Path

from utc.compiler.driver.supported_ops import render


def test_supported_ops_md_is_current() -> None:
    committed = (Path(__file__).resolve().parents[2] / "SUPPORTED_OPS.md").read_text()
    assert committed == render(), ("SUPPORTED_OPS.md is stale: regenerate with "
                                   "`python -m utc.compiler.driver.supported_ops > SUPPORTED_OPS.md`")


def test_every_builtin_table_lists_the_schema_with_both_statuses() -> None:
    from utc.compiler.driver.tflm_builtins import TFLM_BUILTINS
    from utc.compiler.importers.tflite import BUILTIN_NAMES, OP_TABLE

    schema = {n for n in BUILTIN_NAMES.values() if n.isupper()}
    # the fact table and utc's operator table name real builtins only
    assert TFLM_BUILTINS <= schema and set(OP_TABLE) <= schema
    text = render()
    table = text[text.index("## Every TFLite builtin"):text.index("## Kernels")]
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and line.count("|") == 4][2:]  # after the header rows
    by_name = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:4]] for r in rows}
    assert set(by_name) == schema - {"CUSTOM"}
    assert by_name["CONV_2D"] == ["yes", "yes"]
    # RELU_N1_TO_1: utc has it, TFLite Micro does not (its tests use LiteRT as the oracle)
    assert by_name["RELU_N1_TO_1"] == ["yes", "no"]
    assert by_name["UNIDIRECTIONAL_SEQUENCE_LSTM"] == ["yes", "yes"]
    assert by_name["BROADCAST_ARGS"] == ["no", "yes"]
