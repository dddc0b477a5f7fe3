"""User-facing errors. Each carries one line that names the problem and where it is;
the CLI prints it as `utc: error: ...` and exits with status 2, without a traceback."""


class UtcError(Exception):
    """Base class of every error utc reports to users."""


class ImportError_(UtcError):
    """The TFLite file cannot be imported (corrupt, unsupported op, dtype, shape...)."""


class PipelineError(UtcError):
    """A pipeline string names an unknown pass or a bad option."""


class CompileError(UtcError):
    """A pass or the code generator cannot handle the IR it was given."""
