"""utc's passes, one module per pass (`fuse_activation.py` is `fuse-activation`).
Importing this package registers them all."""

from . import (
    bufferize,
    canonicalize,
    concat_in_place,
    fold_pad,
    fold_zero_point,
    fuse_activation,
    inplace,
    lower_to_qnn,
    overlap_buffers,
    plan_memory,
    reorder_for_memory,
    scratch_in_holes,
    select_kernels,
    tensor_to_fused,
)

__all__ = [
    "bufferize", "canonicalize", "concat_in_place", "fold_pad", "fold_zero_point",
    "fuse_activation", "inplace", "lower_to_qnn", "overlap_buffers", "plan_memory",
    "reorder_for_memory", "scratch_in_holes", "select_kernels", "tensor_to_fused",
]


def run(module, pipeline: str, *, verify_each: bool = False):
    """Run a pipeline string ('canonicalize,tensor-to-fused,...', options as in
    `pass{key=value}`) on a module in place and return it: `utc opt` from Python. Passes
    registered by plugins and `utc.register_pass` are found by name like utc's own.
    Errors raise `utc.UtcError` with the text `utc opt` prints; with `verify_each`, the
    IR is verified after every pass (as `--verify-each`)."""
    from utc.compiler.errors import CompileError
    from utc.compiler.ir import VerifyError
    from utc.compiler.pass_manager import (
        Instrumentation,
        load_entry_point_plugins,
        parse_pipeline,
        run_pipeline,
    )

    load_entry_point_plugins()
    passes = parse_pipeline(pipeline)
    try:
        return run_pipeline(module, passes, Instrumentation(verify_each=verify_each))
    except VerifyError as exc:  # IR the caller built or parsed: theirs to fix, as in `utc opt`
        raise CompileError(str(exc)) from None
