"""The compile report as JSON (`utc compile --report=json`, `CompiledModel.report_json()`).

The text report is for people; this is the same facts for programs: CI jobs that fail a
merge when the arena grows, notebooks that tabulate layers. The schema is documented in
docs/report-json.md and versioned by `schema_version`: a field's meaning never changes
within a version, new fields may be added, and removing or changing one bumps it.

Like the text report, everything is read from the planned module (plus the choices it was
compiled with), and the output is byte-identical for the same compilation: keys in a fixed
order, no timings, no absolute paths.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from utc.compiler.driver import Compilation, weight_bytes
from utc.compiler.driver.report import (
    arena_buffers,
    flash_bytes,
    layer_rows,
    patch_stage,
    peak,
)
from utc.compiler.version import installed_version
from utc.dialects import buf
from utc.dialects.func import main_function
from utc.runtime.kernels import KERNELS_BY_NAME

if TYPE_CHECKING:
    from utc.compiler.driver.footprint import Footprint

#: Bumped when a field is removed or changes meaning (docs/report-json.md).
SCHEMA_VERSION = 1


def _tensor(index: int, name: str | None, tensor_type) -> dict[str, Any]:
    """A model input or output: TFLite name, shape, storage dtype, bytes, quantization."""
    element = tensor_type.element
    entry: dict[str, Any] = {
        "index": index,
        "name": name,
        "shape": [int(d) for d in tensor_type.shape],
        "dtype": element.numpy_dtype.name,
        "bytes": int(tensor_type.byte_size),
    }
    scale = getattr(element, "scale", None)
    entry["quantization"] = (None if scale is None else
                             {"scale": float(scale), "zero_point": int(element.zero_point)})
    return entry


def _footprint(footprint: Footprint | None) -> dict[str, Any] | None:
    """The measured code and stack (`footprint.Footprint`), or None when not asked for."""
    if footprint is None:
        return None
    return {"code_bytes": footprint.code_bytes, "text_bytes": footprint.text_bytes,
            "rodata_bytes": footprint.rodata_bytes, "code_note": footprint.code_note,
            "stack_bytes": footprint.stack_bytes, "stack_note": footprint.stack_note}


def report_dict(comp: Compilation, footprint: Footprint | None = None) -> dict[str, Any]:
    """The report of a compilation as plain JSON-able data (docs/report-json.md);
    `footprint` (`footprint.Footprint`): the measured code and stack, when measured."""
    module = comp.module
    fn = main_function(module)
    rows = layer_rows(module)
    peak_step, peak_bytes = peak(module)
    tensors, constants = flash_bytes(module)
    in_names = list(fn.inputs or ())
    out_names = list(fn.outputs or ())
    inputs = [_tensor(i, in_names[i] if i < len(in_names) else None, v.type)
              for i, v in buf.model_inputs(fn.block.ops).items()]
    outputs = [_tensor(i, out_names[i] if i < len(out_names) else None, v.type)
               for i, v in enumerate(fn.return_op.operand_values)]

    def optional(value: int | None) -> int | None:
        return None if value is None else int(value)

    layers = []
    for r in rows:
        record = KERNELS_BY_NAME.get(r.kernel)
        layers.append({
            "step": r.step,
            "tflite_ops": [{"index": int(i), "tensor": name,
                            "type": comp.op_types[i] if 0 <= i < len(comp.op_types) else None}
                           for i, name in r.sources],
            "location": r.location,
            "op": r.op,
            "kernel": r.kernel,
            "library": record.library if record is not None else None,
            "kernel_note": r.kernel_note or None,
            "outputs": [{"shape": list(s), "dtype": d, "arena_offset": o}
                        for s, d, o in zip(r.output_shapes, r.output_dtypes, r.output_offsets)],
            "macs": r.macs,
            "weight_bytes": r.weight_bytes,
            "live_bytes": r.live_bytes,
            "scratch_bytes": r.scratch_bytes,
            "tile": None if r.tile is None else {"index": r.tile[0], "count": r.tile[1]},
        })
    stage = patch_stage(module)
    stage_json = None if stage is None else {
        "layers": stage.layers, "rows_per_tile": stage.rows, "tiles": stage.tiles,
        "first_step": stage.first, "last_step": stage.last,
        "macs": stage.macs, "untiled_macs": stage.untiled_macs,
        "recomputed_macs": stage.recomputed_macs,
        "moves": stage.moves, "moved_bytes": stage.moved_bytes,
        "stage_layers": [{"tflite_ops": [{"index": int(i), "tensor": name,
                                          "type": comp.op_types[i] if 0 <= i < len(comp.op_types)
                                          else None} for i, name in s.sources],
                          "op": s.op, "kernel": s.kernel, "macs": s.macs,
                          "untiled_macs": s.untiled_macs} for s in stage.stage_layers],
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "utc_version": installed_version(),
        "model": {"name": comp.name, "source": comp.source},
        "target": comp.target,
        "kernels": comp.kernels,
        "opt_level": comp.opt_level,
        "pipeline": comp.pipeline,
        "memory": {
            "arena_bytes": int(fn.arena_bytes),
            "lower_bound": optional(fn.lower_bound),
            "gap": optional(fn.gap),
            "copy_lower_bound": optional(fn.copy_lower_bound),
            "no_overlap_lower_bound": optional(fn.no_overlap_lower_bound),
            "plan_strategy": fn.plan_strategy,
            "alignment": optional(fn.plan_alignment),
            "regions": [{"name": r[0], "capacity": int(r[1]), "bytes": int(r[2]),
                         "section": r[3] or None} for r in fn.memory_regions or ()],
            "peak": {"step": peak_step, "live_bytes": peak_bytes},
        },
        "flash": {"weight_bytes": weight_bytes(module), "tensor_bytes": tensors,
                  "constant_bytes": constants},
        "footprint": _footprint(footprint),
        "total_macs": sum(r.macs for r in rows),
        "patch_stage": stage_json,
        "inputs": inputs,
        "outputs": outputs,
        "layers": layers,
        "buffers": [{"name": b.name, "kind": b.kind, "region": b.region, "offset": b.offset,
                     "size": b.size,
                     "first_step": b.first, "last_step": b.last,
                     "windows": [list(b.window(t)) for t in range(b.first, b.last + 1)]}
                    for b in arena_buffers(module)],
    }


def report_json(comp: Compilation, footprint: Footprint | None = None) -> str:
    """`report_dict` as JSON text: two-space indented, ASCII, one trailing newline."""
    return json.dumps(report_dict(comp, footprint), indent=2, ensure_ascii=True, allow_nan=False) + "\n"


def app_report_dict(app, footprints: Sequence[Footprint | None] = ()) -> dict[str, Any]:
    """The `--report=json` document of several models in one arena (`driver.AppResult`):
    the shared arena and each model's part of it, then each model's own document."""
    fps = list(footprints) or [None] * len(app.compilations)
    return {
        "schema_version": SCHEMA_VERSION,
        "utc_version": installed_version(),
        "app": {
            "name": app.name, "arena_bytes": int(app.arena_bytes),
            "alignment": int(app.alignment), "concurrent": bool(app.concurrent),
            "parts": [{"model": c.name, "offset": int(off),
                       "arena_bytes": int(main_function(c.module).arena_bytes)}
                      for c, off in zip(app.compilations, app.offsets)],
        },
        "models": [report_dict(c, fp) for c, fp in zip(app.compilations, fps)],
    }


def app_report_json(app, footprints: Sequence[Footprint | None] = ()) -> str:
    """`app_report_dict` as JSON text, formatted as `report_json`."""
    return json.dumps(app_report_dict(app, footprints), indent=2, ensure_ascii=True,
                      allow_nan=False) + "\n"
