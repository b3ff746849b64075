"""Exceptions raised by the hrkg library, each with the CLI exit code it maps to.

0 success / conforms, 1 the data does not conform, 2 usage or input error (bad parameter,
unknown code or query, unreadable or malformed file), 3 store or output error (no usable store,
a file or standard output that cannot be written, a full disk). The CLI adds 130 for Ctrl-C.
"""


class HrkgError(Exception):
    """Base class of every error hrkg raises on purpose."""

    exit_code = 2


class UsageError(HrkgError):
    """A command, option or parameter is wrong (unknown name, ill-typed value)."""


class UnknownCodeError(UsageError):
    """A state, instrument, group or body code that the graph does not know."""

    def __init__(self, kind, value, suggestions=(), *, reason=None):
        self.kind, self.value, self.suggestions, self.reason = kind, value, list(suggestions), reason
        why = f" ({reason})" if reason else ""
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} code {value!r}{why}{hint}")


class UnknownQueryError(UsageError):
    """A stored query name that does not exist."""


class ParameterError(UsageError):
    """A stored-query parameter is missing, misspelt or of the wrong type."""


class LoadError(HrkgError):
    """An input file could not be read or parsed; the message names file, line and column."""

    def __init__(self, message, *, path=None, line=None, column=None):
        self.path, self.line, self.column = path, line, column
        where = str(path) if path else "input"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class QueryError(HrkgError):
    """A SPARQL query could not be parsed or evaluated."""


class UnsupportedShapeError(HrkgError):
    """A SHACL shape uses a constraint the compiled validator (shacl/engine.py) cannot evaluate;
    the message names the shape and the constraint, so a new kind of constraint never passes
    unnoticed."""


class ImportRowError(HrkgError):
    """An import wrote nothing: rows were rejected (without --partial) or, with --strict, state
    names did not resolve. ``report`` (an importers.report.ImportReport) lists them with their lines."""

    report = None


class StoreError(HrkgError):
    """The persistent store is missing, locked or unreadable."""

    exit_code = 3


class RemoteError(StoreError):
    """A remote SPARQL endpoint or Graph Store could not be reached, timed out or failed; the
    message names its URL."""


class WriteError(HrkgError):
    """An output (a file or standard output) could not be written: permission, a full disk, a
    file-size limit. The message names the output; nothing partial is left behind."""

    exit_code = 3
