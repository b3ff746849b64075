"""Step 5: write the graph (asserted, optionally with inferred triples) as RDF files."""
from rdflib import Dataset, Graph
from rdflib.compare import to_canonical_graph

from .errors import UsageError
from .namespaces import bind_prefixes

EXPORT_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml", "trig": "trig",
                  "nq": "nquads"}
JSONLD_CONTEXT_URL = "https://w3id.org/hrkg/context.jsonld"


def export(dataset, fmt, *, inferred_graph=None, include_inferred=False):
    """Serialize as ``fmt`` (ttl, nt, jsonld, xml, trig, nq) and return the text.

    Turtle and N-Triples are written sorted, so the same graph always gives the same bytes.
    TriG and N-Quads keep one named graph per source file.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if fmt in ("trig", "nq"):
        out = Dataset()
        bind_prefixes(out)
        for g in dataset.graphs():
            if len(g) == 0:
                continue
            target = out.graph(g.identifier)
            for t in g:
                target.add(t)
        if include_inferred and inferred_graph is not None:
            from .load import INFERRED_GRAPH
            target = out.graph(INFERRED_GRAPH)
            for t in inferred_graph:
                target.add(t)
        return out.serialize(format=EXPORT_FORMATS[fmt])
    flat = Graph()
    bind_prefixes(flat)
    for t in dataset.triples((None, None, None)):
        flat.add(t)
    if include_inferred and inferred_graph is not None:
        for t in inferred_graph:
            flat.add(t)
    if fmt in ("nt", "ttl"):
        flat = _canonical(flat)
    if fmt == "nt":
        lines = sorted(flat.serialize(format="nt").splitlines())
        return "\n".join(line for line in lines if line.strip()) + "\n"
    return flat.serialize(format=EXPORT_FORMATS[fmt])


def _canonical(graph):
    """The same graph with blank nodes relabelled canonically, so output is byte-stable."""
    out = Graph()
    bind_prefixes(out)
    for triple in to_canonical_graph(graph):
        out.add(triple)
    return out
