"""Where the bundled ontology, data, shapes and queries live.

They ship inside the wheel as ``hrkg/_bundle/<kind>/``; in a source checkout (editable install or
running from the repo) they are read from the repository's top-level folders instead.
"""
from pathlib import Path

KINDS = ("ontology", "data", "shapes", "queries")
_PACKAGE = Path(__file__).resolve().parent


def bundle_dir(kind):
    """Return the folder holding the bundled files of ``kind`` (one of KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown bundle kind {kind!r}")
    # the package folder itself first: importlib.resources gives the same folder for an installed
    # package and costs a query process 10 ms to import; it is asked only when neither is there
    packaged = _PACKAGE / "_bundle" / kind
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent / kind
    if checkout.is_dir():
        return checkout
    from importlib import resources
    packaged = resources.files("hrkg") / "_bundle" / kind
    if packaged.is_dir():
        return Path(str(packaged))
    raise FileNotFoundError(f"bundled {kind}/ not found in the package or the checkout")


def bundle_files(kind, suffix):
    """Sorted list of bundled files of ``kind`` ending in ``suffix``, recursively."""
    return sorted(p for p in bundle_dir(kind).rglob(f"*{suffix}") if p.is_file())
