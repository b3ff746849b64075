"""Step 1 of the flow: which files make the graph, what each file's named graph is called, and
reading one RDF file with rdflib (for the ontology, shapes and formats the store cannot bulk-load),
with errors that name the file, line and column. build.py loads the files into the store.
"""
import re
from pathlib import Path

from .errors import LoadError
from .namespaces import BASE
from .resources import bundle_dir, bundle_files

GRAPH_BASE = BASE + "graph/"
INFERRED_IRI = GRAPH_BASE + "inferred"
DISCREPANCY_IRI = GRAPH_BASE + "discrepancies"   # build.reconcile: values set aside
# INFERRED_GRAPH and DISCREPANCY_GRAPH, the same IRIs as rdflib URIRefs, are made on first use
# (__getattr__ below), so a query process that only needs the strings never imports rdflib
_URIREFS = {"INFERRED_GRAPH": INFERRED_IRI, "DISCREPANCY_GRAPH": DISCREPANCY_IRI}


def __getattr__(name):
    if name not in _URIREFS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rdflib import URIRef
    globals().update({key: URIRef(iri) for key, iri in _URIREFS.items()})
    return globals()[name]

FORMATS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".n3": "n3",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
    ".trig": "trig",
    ".nq": "nquads",
}


def rdf_format(path):
    """The rdflib parser name for a file, from its extension (Turtle when unknown)."""
    return FORMATS.get(Path(path).suffix.lower(), "turtle")


def graph_iri(path):
    """Named-graph IRI (a string) for a file: bundled files by their path in the bundle, others by
    file name."""
    path = Path(path).resolve()
    for kind in ("ontology", "data"):
        try:
            return GRAPH_BASE + kind + "/" + path.relative_to(bundle_dir(kind)).as_posix()
        except (ValueError, FileNotFoundError):
            continue
    return path.as_uri()


def graph_name(path):
    """graph_iri() as an rdflib URIRef."""
    from rdflib import URIRef
    return URIRef(graph_iri(path))


def file_of_graph(name):
    """The file a named graph holds: its path in the bundle (``data/upr.ttl``), or its file: IRI."""
    return str(name).rsplit("/graph/", 1)[-1]


def _syntax_position(error):
    """(line, column) of an rdflib Turtle syntax error, both 1-based."""
    line = getattr(error, "lines", None)
    text, index = getattr(error, "_str", None), getattr(error, "_i", None)
    column = None
    if isinstance(text, (str, bytes)) and isinstance(index, int):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        column = index - (text.rfind("\n", 0, index) + 1) + 1
    return (line + 1 if isinstance(line, int) else None), column


def parse_file(path, graph=None):
    """Parse one RDF file into ``graph`` (a new Graph if None) and return it.

    Raises LoadError naming the file (and line and column for syntax errors) when the file is
    missing, empty, not UTF-8 or not RDF; nothing is added to ``graph`` in that case.
    """
    path = Path(path)
    if not path.is_file():
        raise LoadError("no such file", path=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise LoadError("file is empty", path=path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoadError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", path=path, line=line) from None
    from rdflib import Graph   # rdflib: only for the files parsed with it
    from rdflib.plugins.parsers.notation3 import BadSyntax
    scratch = Graph()
    try:
        scratch.parse(data=raw, format=rdf_format(path), publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        line, column = _syntax_position(exc)
        why = re.sub(r"\s+", " ", str(getattr(exc, "_why", "")) or "bad syntax").strip()
        raise LoadError(f"{rdf_format(path)} syntax error: {why}", path=path, line=line, column=column) from None
    except Exception as exc:  # rdflib raises many types for non-RDF input (SAX, JSON, ValueError)
        message = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
        line = _line_from_message(message)
        raise LoadError(f"not valid {rdf_format(path)}: {message[:300]}", path=path, line=line) from None
    if len(scratch) == 0:
        raise LoadError("file holds no triples", path=path)
    if graph is None:
        return scratch
    for triple in scratch:
        graph.add(triple)
    return graph


def _line_from_message(message):
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def default_files():
    """The bundled ontology and data files, ontology first."""
    return bundle_files("ontology", ".ttl") + bundle_files("data", ".ttl")


def expand_paths(paths):
    """Files for ``paths``: files as given, folders read recursively for RDF files, sorted."""
    files = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in FORMATS and f.is_file()))
        else:
            files.append(p)
    return files
