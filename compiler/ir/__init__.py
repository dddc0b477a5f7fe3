"""utc's IR core: types, attributes, values/operations/blocks/regions/modules, the
textual printer and parser, and the verifier. Standard library and numpy only (plus
lark inside the parser)."""

from .attributes import ResourceRef, SymbolRef
from .core import (
    OP_REGISTRY,
    Block,
    BlockArgument,
    Location,
    Module,
    Operation,
    OpResult,
    Region,
    Resource,
    Value,
    VerifyError,
)
from .fields import Ints, attr, operand, result
from .printer import print_module, print_op
from .types import (
    F32,
    I8,
    I16,
    I32,
    I64,
    MemRefType,
    PerAxisQuantizedType,
    QuantizedType,
    ScalarType,
    TensorType,
    is_quantized,
)

__all__ = [
    "F32", "I8", "I16", "I32", "I64", "Ints", "OP_REGISTRY", "Block", "BlockArgument", "Location",
    "MemRefType", "Module", "OpResult", "Operation", "PerAxisQuantizedType", "QuantizedType",
    "Region", "Resource", "ResourceRef", "ScalarType", "SymbolRef", "TensorType", "Value",
    "VerifyError", "attr", "is_quantized", "operand", "print_module", "print_op", "result",
]
