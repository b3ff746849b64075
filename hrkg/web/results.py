"""Writing query results and graphs in the formats the server offers.

SELECT and ASK results: SPARQL 1.1 Query Results JSON, XML, CSV and TSV (JSON, CSV and TSV from
hrkg.query, XML here). Graphs: Turtle, JSON-LD (compacted with the published context, embedded so
a response parses offline), N-Triples (sorted) and RDF/XML.
"""
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Graph, URIRef

from ..errors import HrkgError
from ..namespaces import bind_prefixes
from ..query import Result, to_csv, to_json, to_tsv
from .guard import Refused

SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"


def truncate(result, max_rows):
    """(result, truncated): at most ``max_rows`` rows or triples."""
    if result.graph is not None:
        if len(result.graph) <= max_rows:
            return result, False
        kept = Graph()
        for triple in sorted(result.graph)[:max_rows]:
            kept.add(triple)
        return Result([], [], graph=kept), True
    if len(result.rows) <= max_rows:
        return result, False
    return Result(result.vars, result.rows[:max_rows], result.boolean), True


def to_sparql_xml(result):
    """W3C SPARQL Query Results XML Format."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sparql xmlns="{SPARQL_RESULTS_NS}">', "<head>"]
    if result.boolean is not None:
        out += ["</head>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out += [f"  <variable name={quoteattr(v)}/>" for v in result.vars]
    out += ["</head>", "<results>"]
    for row in result.rows:
        out.append("  <result>")
        for var, term in zip(result.vars, row):
            if term is not None:
                out.append(f"    <binding name={quoteattr(var)}>{_xml_term(term)}</binding>")
        out.append("  </result>")
    out += ["</results>", "</sparql>"]
    return "\n".join(out) + "\n"


def _xml_term(term):
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    attrs = ""
    if term.language:
        attrs = f" xml:lang={quoteattr(term.language)}"
    elif term.datatype is not None:
        attrs = f" datatype={quoteattr(str(term.datatype))}"
    return f"<literal{attrs}>{escape(str(term))}</literal>"


def write_result(result, fmt):
    """A SELECT/ASK Result as text in ``fmt`` (json, xml, csv, tsv)."""
    if fmt == "xml":
        return to_sparql_xml(result)
    if fmt == "json":
        return to_json(result)
    if result.boolean is not None:
        raise Refused(406, "an ASK result can be written as SPARQL JSON or XML only")
    return {"csv": to_csv, "tsv": to_tsv}[fmt](result)


def write_graph(graph, fmt):
    """A Graph as text in ``fmt`` (ttl, jsonld, nt, rdfxml)."""
    bind_prefixes(graph)
    if fmt == "ttl":
        return graph.serialize(format="turtle")
    if fmt == "nt":
        lines = sorted(line for line in graph.serialize(format="nt").splitlines() if line.strip())
        return "\n".join(lines) + ("\n" if lines else "")
    if fmt == "jsonld":
        return to_jsonld(graph)
    if fmt == "rdfxml":
        try:
            from ..export import to_rdfxml
        except ImportError:  # pragma: no cover - older hrkg.export
            to_rdfxml = None
        try:
            return to_rdfxml(graph) if to_rdfxml else graph.serialize(format="xml")
        except (HrkgError, ValueError) as exc:
            raise Refused(406, f"RDF/XML cannot express this graph ({exc}); ask for text/turtle or "
                               "application/n-triples") from None
    raise ValueError(f"unknown graph format {fmt!r}")


def jsonld_context():
    """The published JSON-LD context document, or None if this hrkg has none."""
    try:
        from ..context import CONTEXT
    except ImportError:  # pragma: no cover - hrkg without a published context
        return None
    return CONTEXT


def to_jsonld(graph):
    """Compact JSON-LD with the context embedded, so the response parses without fetching it."""
    context = jsonld_context()
    if context is not None:
        try:
            from ..export import to_jsonld as compact
            return compact(graph, context=context)
        except (ImportError, TypeError):
            return graph.serialize(format="json-ld", context=context["@context"], auto_compact=True)
    return graph.serialize(format="json-ld")
