"""hrkg: an open knowledge graph of which states are bound by which human-rights instruments since
when, and how states engage with UN and regional mechanisms and bodies."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hrkg")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+checkout"

from .errors import (HrkgError, LoadError, ParameterError, QueryError, UnknownCodeError,  # noqa: E402
                     UnknownQueryError, UsageError)
from .graph import KnowledgeGraph  # noqa: E402

__all__ = ["KnowledgeGraph", "HrkgError", "LoadError", "ParameterError", "QueryError",
           "UnknownCodeError", "UnknownQueryError", "UsageError", "__version__"]
