"""utc's own flatbuffer reader (compiler/importers/flatbuffer.py, tflite_schema.py) reads
every field exactly as the flatc-generated `tflite` package does: on every shared model
and on a model per options table the test writer can write, every table reachable from
the root is compared accessor by accessor (scalars, strings, vectors element by element
and as numpy arrays, nested tables, unions through their type tag)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import tflite as tflite_package
from utc.compiler.importers import tflite_schema
from utc.compiler.importers.flatbuffer import accessor_name

from tests.conftest import SHARED_MODELS
from tests.models_builtin import sine_model_float, sine_model_int8
from tests.tflite_writer import OP_OPTIONS, OPTION_FIELDS, ModelBuilder


def _package_class(name: str) -> type | None:
    try:
        return getattr(importlib.import_module(f"tflite.{name}"), name)
    except ImportError:  # a table newer than the tflite package
        return None


def _fields(table: str) -> list[tuple[str, str]]:
    """(field, type) of a table's live (not deprecated) fields."""
    out = []
    for field in tflite_schema.TABLES[table].split():
        if not field.startswith("~"):
            name, _, rest = field.partition(":")
            out.append((name, rest.partition("=")[0]))
    return out


class Walk:
    """Compares two readings of one flatbuffer, counting what it compared."""

    def __init__(self) -> None:
        self.compared = 0
        self.tables: set[str] = set()

    def table(self, name: str, mine, theirs, where: str) -> None:
        assert (mine is None) == (theirs is None), where
        if mine is None:
            return
        self.tables.add(name)
        package = type(theirs)
        for field, ftype in _fields(name):
            acc = accessor_name(field)
            if not hasattr(package, acc):
                continue  # a field newer than the tflite package
            at = f"{where}.{acc}"
            if ftype in tflite_schema.UNIONS:
                tag = getattr(mine, acc + "Type")()
                assert tag == getattr(theirs, acc + "Type")(), at
                union_members = {v: k for k, v in vars(getattr(tflite_schema, ftype)).items()
                                 if not k.startswith("_")}
                member = union_members.get(tag, "NONE")
                mine_u, theirs_u = getattr(mine, acc)(), getattr(theirs, acc)()
                assert (mine_u is None) == (theirs_u is None), at
                if member != "NONE" and mine_u is not None and _package_class(member):
                    a = getattr(tflite_schema, member)()
                    a.Init(mine_u.Bytes, mine_u.Pos)
                    b = _package_class(member)()
                    b.Init(theirs_u.Bytes, theirs_u.Pos)
                    self.table(member, a, b, f"{at}<{member}>")
            elif ftype in tflite_schema.TABLES:
                self.table(ftype, getattr(mine, acc)(), getattr(theirs, acc)(), at)
            elif ftype.startswith("["):
                element = ftype[1:-1]
                n = getattr(mine, acc + "Length")()
                assert n == getattr(theirs, acc + "Length")(), at
                assert getattr(mine, acc + "IsNone")() == getattr(theirs, acc + "IsNone")(), at
                for j in range(n):
                    if element in tflite_schema.TABLES:
                        self.table(element, getattr(mine, acc)(j), getattr(theirs, acc)(j),
                                   f"{at}[{j}]")
                    else:
                        assert getattr(mine, acc)(j) == getattr(theirs, acc)(j), f"{at}[{j}]"
                if element not in tflite_schema.TABLES:
                    a, b = getattr(mine, acc + "AsNumpy")(), getattr(theirs, acc + "AsNumpy")()
                    if isinstance(b, np.ndarray):
                        assert a.dtype == b.dtype and np.array_equal(a, b), at
                        assert a.base is not None, f"{at}: a view of the file, not a copy"
                    else:
                        assert a == b, at
            else:
                a, b = getattr(mine, acc)(), getattr(theirs, acc)()
                if (name, acc) == ("OperatorCode", "BuiltinCode"):
                    # the package patches this accessor to fall back to the deprecated
                    # byte field; the importer reads max() of both either way
                    a = max(a, mine.DeprecatedBuiltinCode())
                assert type(a) is type(b) and a == b, (at, a, b)
            self.compared += 1


def _compare(data: bytes) -> Walk:
    walk = Walk()
    walk.table("Model", tflite_schema.Model.GetRootAsModel(data, 0),
               tflite_package.Model.GetRootAsModel(data, 0), "Model")
    return walk


@pytest.mark.parametrize("path", sorted(SHARED_MODELS.glob("*.tflite")), ids=lambda p: p.name)
def test_shared_models_read_alike(path) -> None:
    walk = _compare(path.read_bytes())
    assert {"Model", "SubGraph", "Tensor", "Operator", "OperatorCode", "Buffer"} <= walk.tables
    assert walk.compared > 100


def test_shared_models_exist() -> None:
    assert len(list(SHARED_MODELS.glob("*.tflite"))) >= 8, SHARED_MODELS


def test_writer_models_read_alike() -> None:
    for model in (sine_model_float(), sine_model_int8()):
        _compare(model)


def _sample(kind, i: int) -> object:
    """A value of an option kind that differs from the schema default (and, for the
    `i`-th field, from the other fields' values, so swapped slots show)."""
    if isinstance(kind, dict):
        return max(kind.values())
    return {"int": 3 + i, "float": 0.5 + i / 4, "bool": True, "ints": [2, -1, 4 + i],
            "str": f"var/x{i}"}[kind]


@pytest.mark.parametrize("op", sorted(OP_OPTIONS))
def test_every_writer_options_table_reads_alike(op: str) -> None:
    """One model per operator the writer gives an options table, every field set away
    from its default; per-axis quantization and a shape signature on the tensors."""
    table = OP_OPTIONS[op]
    b = ModelBuilder()
    x = b.add_tensor("x", [1, 4, 4, 3], "int8", scale=[0.5, 0.25, 0.125], zero_point=[0, 1, -2],
                     quantized_dimension=3, shape_signature=[-1, 4, 4, 3])
    w = b.add_tensor("w", [3, 2], "int8", data=np.arange(6).reshape(3, 2), scale=0.5, zero_point=0)
    y = b.add_tensor("y", [1, 4, 4, 3], "int8", scale=0.5, zero_point=-3)
    options = {key: _sample(kind, i) for i, (key, kind) in enumerate(OPTION_FIELDS[table].items())}
    b.add_operator(op, [x, w], [y], options, version=2)
    walk = _compare(b.build([x], [y]))
    fields = [f for f, _ in _fields(table) if hasattr(_package_class(table), accessor_name(f))]
    assert table in walk.tables or not fields


def test_every_options_table_has_the_package_accessors() -> None:
    """Every union member of BuiltinOptions and BuiltinOptions2, and every enum, that the
    tflite package has exists here with the same members and at least its accessors."""
    for union in ("BuiltinOptions", "BuiltinOptions2", "QuantizationDetails", "SparseIndexVector"):
        theirs = {k: v for k, v in vars(_package_class(union)).items() if not k.startswith("_")}
        mine = {k: v for k, v in vars(getattr(tflite_schema, union)).items() if not k.startswith("_")}
        assert theirs.items() <= mine.items(), union
        for member in theirs:
            if member == "NONE":
                continue
            package = _package_class(member)
            accessors = {m for m in vars(package) if m[0].isupper() and not m.startswith("GetRootAs")
                         and not m.endswith("BufferHasIdentifier")}
            assert accessors <= set(dir(getattr(tflite_schema, member))), member
    for enum in tflite_schema.ENUMS:
        theirs = _package_class(enum)
        if theirs is not None:
            expected = {k: v for k, v in vars(theirs).items() if not k.startswith("_")}
            mine = {k: v for k, v in vars(getattr(tflite_schema, enum)).items() if not k.startswith("_")}
            assert expected.items() <= mine.items(), enum


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchOptions"):
        tflite_schema.NoSuchOptions  # noqa: B018
