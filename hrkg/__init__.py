"""hrkg: an open knowledge graph of which states are bound by which human-rights instruments since
when, and how states engage with UN and regional mechanisms and bodies."""
import os
import re
import sys


def _version():
    """The installed version, as importlib.metadata gives it, read without importing it (with the
    email parser it reads metadata with, 25 ms of a 0.15 s query): from the first ``hrkg-VERSION.dist-info``
    folder's name or ``hrkg.egg-info/PKG-INFO`` on sys.path; anything else (two candidates in one
    folder) asks importlib.metadata. "0.0.0+checkout" when hrkg is not installed."""
    for entry in sys.path:
        try:
            names = [n for n in os.listdir(entry or ".") if n.lower().startswith("hrkg")]
        except OSError:
            continue
        dist_infos = [m for m in (re.fullmatch(r"hrkg-([^-]+)\.dist-info", n, re.IGNORECASE) for n in names) if m]
        egg_infos = [n for n in names if re.fullmatch(r"hrkg(-[^-]+)?\.egg-info", n, re.IGNORECASE)]
        if len(dist_infos) + len(egg_infos) > 1:
            break
        if dist_infos:
            return dist_infos[0].group(1)
        if egg_infos:
            try:
                with open(os.path.join(entry or ".", egg_infos[0], "PKG-INFO"), encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
            except OSError:
                pass
            break
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("hrkg")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0.0.0+checkout"


__version__ = _version()

from .errors import (HrkgError, LoadError, ParameterError, QueryError, UnknownCodeError,  # noqa: E402
                     UnknownQueryError, UsageError)
from .graph import KnowledgeGraph  # noqa: E402

__all__ = ["KnowledgeGraph", "HrkgError", "LoadError", "ParameterError", "QueryError",
           "UnknownCodeError", "UnknownQueryError", "UsageError", "__version__"]
