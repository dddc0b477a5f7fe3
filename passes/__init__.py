"""utc's passes, one module per pass (`fuse_activation.py` is `fuse-activation`).

Importing this package imports none of them: the driver declares `PASS_NAMES` to the
pass registry, which imports a pass's module the first time a pipeline names it (most
of a small model's compile time used to be importing every pass up front).
"""

#: Every builtin pass, by name; its module is the name with `_` for `-`.
PASS_NAMES = (
    "bufferize", "canonicalize", "concat-in-place", "fold-pad", "fold-zero-point",
    "fuse-activation", "inplace", "lower-to-qnn", "overlap-buffers", "patch-stages", "plan-memory",
    "reorder-for-memory", "scratch-in-holes", "select-kernels", "tensor-to-fused",
)


def module_of(name: str) -> str:
    """The module that registers builtin pass `name`."""
    return f"{__name__}.{name.replace('-', '_')}"


def run(module, pipeline: str, *, verify_each: bool = False):
    """Run a pipeline string ('canonicalize,tensor-to-fused,...', options as in
    `pass{key=value}`) on a module in place and return it: `utc opt` from Python. Passes
    registered by plugins and `utc.register_pass` are found by name like utc's own.
    Errors raise `utc.UtcError` with the text `utc opt` prints; with `verify_each`, the
    IR is verified after every pass (as `--verify-each`)."""
    import utc.dialects  # noqa: F401  (registers the ops)
    from utc.compiler.errors import CompileError
    from utc.compiler.ir import VerifyError
    from utc.compiler.pass_manager import Instrumentation, declare_pass, parse_pipeline, run_pipeline

    for name in PASS_NAMES:  # known by name, imported when the pipeline names them
        declare_pass(name, module_of(name))
    passes = parse_pipeline(pipeline)  # a name utc does not know loads the plugins
    try:
        return run_pipeline(module, passes, Instrumentation(verify_each=verify_each))
    except VerifyError as exc:  # IR the caller built or parsed: theirs to fix, as in `utc opt`
        raise CompileError(str(exc)) from None
