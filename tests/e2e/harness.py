"""Compile → build with the host compiler → run, for end-to-end comparisons.

The main() used here is the test suite's own C file (not utc's runner): it proves that
the generated header works from C and that `NAME_invoke` is all a firmware needs.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from utc.codegen import cmsis_nn_lib
from utc.codegen.host_build import uses_cmsis_nn
from utc.compiler.driver import compile_model
from utc.compiler.ir import Module
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.passes.planning.verify_ir import assert_memory_plan

C_MAIN = r"""
/* Test harness written in C: streams samples from stdin through NAME_invoke. */
#include <stdio.h>
#include <stdlib.h>
#include "@NAME@.h"

int main(int argc, char **argv) {
  long samples = argc > 1 ? atol(argv[1]) : 1;
  static unsigned char in[@NIN@][@INMAX@];
  static unsigned char out[@NOUT@][@OUTMAX@];
  static const long in_bytes[@NIN@] = { @INBYTES@ };
  static const long out_bytes[@NOUT@] = { @OUTBYTES@ };
  const void *inputs[@NIN@];
  void *outputs[@NOUT@];
  int i;
  for (i = 0; i < @NIN@; ++i) inputs[i] = in[i];
  for (i = 0; i < @NOUT@; ++i) outputs[i] = out[i];
  for (long s = 0; s < samples; ++s) {@RESET@
    for (i = 0; i < @NIN@; ++i)
      if (fread(in[i], 1, (size_t)in_bytes[i], stdin) != (size_t)in_bytes[i]) return 3;
    if (@NAME@_invoke(inputs, outputs) != 0) return 4;
    for (i = 0; i < @NOUT@; ++i) fwrite(out[i], 1, (size_t)out_bytes[i], stdout);
  }
  return 0;
}
"""


@dataclass
class Compiled:
    module: Module
    exe: Path
    inputs: list[tuple[tuple[int, ...], np.dtype]]
    outputs: list[tuple[tuple[int, ...], np.dtype]]

    def run(self, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        payload = b"".join(np.ascontiguousarray(x, dtype=d).tobytes()
                           for sample in samples for x, (_, d) in zip(sample, self.inputs))
        proc = subprocess.run([str(self.exe), str(len(samples))], input=payload,
                              capture_output=True, check=True)
        sizes = [int(np.prod(s)) * np.dtype(d).itemsize for s, d in self.outputs]
        results, pos = [], 0
        for _ in samples:
            sample = []
            for (shape, dtype), size in zip(self.outputs, sizes):
                sample.append(np.frombuffer(proc.stdout[pos:pos + size], dtype=dtype).reshape(shape))
                pos += size
            results.append(sample)
        assert pos == len(proc.stdout)
        return results


def io_of(module: Module):
    fn = main_function(module)
    ins = [v.type for v in buf.model_inputs(fn.block.ops).values()]
    spec = lambda t: (tuple(t.shape), t.element.numpy_dtype)  # noqa: E731
    return [spec(t) for t in ins], [spec(v.type) for v in fn.return_op.operand_values]


def compile_and_build(model: Path, work: Path, name: str = "m", opt_level: int = 2,
                      pipeline: str | None = None, kernels: str = "reference",
                      reset_before: int | None = None) -> Compiled:
    """Compile for the host with `kernels` ("cmsis-nn": CMSIS-NN's portable C path, linked
    from CMSIS_NN_PATH) and build with a C test main. The main runs samples one after
    the other through NAME_invoke (a stateful model keeps its state between them); with
    `reset_before`, it calls NAME_reset() before that sample."""
    out = work / "out"
    result = compile_model(model, out, name=name, opt_level=opt_level, pipeline=pipeline,
                           kernels=kernels)
    assert_memory_plan(result.module)  # the IR-level plan checker runs in every e2e test
    ins, outs = io_of(result.module)
    main_c = work / "main.c"
    nbytes = lambda specs: [int(np.prod(s)) * np.dtype(d).itemsize for s, d in specs]  # noqa: E731
    text = (C_MAIN.replace("@NAME@", name).replace("@NIN@", str(len(ins)))
            .replace("@NOUT@", str(len(outs)))
            .replace("@INMAX@", str(max(nbytes(ins)))).replace("@OUTMAX@", str(max(nbytes(outs))))
            .replace("@INBYTES@", ", ".join(map(str, nbytes(ins))))
            .replace("@OUTBYTES@", ", ".join(map(str, nbytes(outs))))
            .replace("@RESET@", "" if reset_before is None
                     else f"\n    if (s == {reset_before}) {name}_reset();"))
    main_c.write_text(text)
    objs = []
    includes, libraries = [f"-I{out}"], []
    if uses_cmsis_nn(out):
        root = cmsis_nn_lib.cmsis_nn_root()
        includes.append(f"-I{root / 'Include'}")
        libraries.append(str(cmsis_nn_lib.build_library(*cmsis_nn_lib.host_tools(), ["-O2"], root)))
    for src in sorted(out.glob("*.cpp")):
        obj = work / (src.stem + ".o")
        subprocess.run(["g++", "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-exceptions",
                        "-fno-rtti", *includes, "-c", str(src), "-o", str(obj)], check=True)
        objs.append(obj)
    main_o = work / "main.o"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{out}", "-c",
                    str(main_c), "-o", str(main_o)], check=True)
    exe = work / "model_test"
    subprocess.run(["g++", str(main_o), *map(str, objs), *libraries, "-o", str(exe)], check=True)
    return Compiled(result.module, exe, ins, outs)
