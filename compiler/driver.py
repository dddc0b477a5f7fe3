"""The compiler driver: named pipelines (-O0/-O1/-O2) and `compile_model`.

`compile_model` imports, runs the pipeline and emits C++ into a temporary folder that
only replaces the requested output folder once everything succeeded, so a failed
compile never leaves partial output behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from utc.compiler.ir import Module
from utc.compiler.pass_manager import (
    Instrumentation,
    load_builtin_passes,
    parse_pipeline,
    run_pipeline,
)

#: The named pipelines. Every level produces bit-identical outputs; higher levels use
#: less memory and flash. From -O1, PADs fold into convolutions (fold-pad), standalone
#: RELU/RELU6/RELU_N1_TO_1 into their producer (fuse-activation), alias-safe
#: kernels run in place (inplace) and concatenation inputs are produced straight into
#: their output (concat-in-place) and a convolution's or pooling's output overlaps the
#: input that dies there (overlap-buffers); -O2 also reorders independent ops for a lower
#: peak (reorder-for-memory, before fold-pad so the recorded copy bound sees the final order).
PIPELINES = {
    0: "tensor-to-fused,lower-to-qnn,select-kernels,bufferize,"
       "plan-memory{strategy=greedy-by-size}",
    1: "canonicalize,tensor-to-fused,fold-pad,fuse-activation,lower-to-qnn,select-kernels,"
       "bufferize,inplace,concat-in-place,overlap-buffers,plan-memory",
    2: "canonicalize,tensor-to-fused,reorder-for-memory,fold-pad,fuse-activation,lower-to-qnn,"
       "select-kernels,bufferize,inplace,concat-in-place,overlap-buffers,plan-memory",
}


def pipeline_for(opt_level: int, kernels: str = "reference") -> str:
    text = PIPELINES[opt_level]
    if kernels != "reference":
        text = text.replace("select-kernels", f"select-kernels{{backend={kernels}}}")
    return text


@dataclass
class CompileResult:
    module: Module
    files: list[Path]


def import_model(model_path: str | Path, name: str) -> Module:
    from utc.compiler.importers.tflite import import_tflite

    load_builtin_passes()
    return import_tflite(model_path, name)


def lower(module: Module, pipeline: str, inst: Instrumentation | None = None) -> Module:
    load_builtin_passes()
    passes = parse_pipeline(pipeline)
    return run_pipeline(module, passes, inst)


def compile_model(model_path: str | Path, out_dir: str | Path, name: str = "model",
                  opt_level: int = 2, pipeline: str | None = None,
                  kernels: str = "reference",
                  inst: Instrumentation | None = None) -> CompileResult:
    """Compile a .tflite file into a folder of C++ sources."""
    from utc.codegen.emit_cpp import emit_cpp

    load_builtin_passes()
    inst = inst or Instrumentation()
    text = pipeline or pipeline_for(opt_level, kernels)
    passes = parse_pipeline(text)  # reject a bad pipeline before any work
    module = import_model(model_path, name)
    if inst.verify_each:
        module.verify()
    inst.dump("import-tflite", module)
    if inst.print_after_all or "import-tflite" in inst.print_after:
        inst.show("After import-tflite", module)
    run_pipeline(module, passes, inst)
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".utc-", dir=parent))
    try:
        emit_cpp(module, staging, name, source=os.path.basename(str(model_path)))
        if out_dir.exists():
            for f in staging.iterdir():
                target = out_dir / f.name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(f, target)
            shutil.rmtree(staging)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(out_dir.iterdir())
    return CompileResult(module, files)
