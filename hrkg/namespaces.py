"""The one place that binds every prefix hrkg uses.

``PREFIX_IRIS`` (prefix -> namespace IRI as a string) and ``BASE`` are plain strings, so a query
process reads them without importing rdflib (about 0.1 s). The rdflib namespaces (``HRKG``,
``STATE``, ``RDF``, ``PREFIXES``...) are made on first use (a module ``__getattr__``), from the same
IRIs: ``from hrkg.namespaces import HRKG`` works as it always did.
"""

BASE = "https://w3id.org/hrkg/"

PREFIX_IRIS = {
    "hrkg": BASE + "ontology#",
    "hrkgsh": BASE + "shapes#",
    "state": BASE + "id/state/",
    "instr": BASE + "id/instrument/",
    "group": BASE + "id/group/",
    "body": BASE + "id/body/",
    "cycle": BASE + "id/upr-cycle/",
    "src": BASE + "id/source/",
    "id": BASE + "id/",
    "org": "http://www.w3.org/ns/org#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "wd": "http://www.wikidata.org/entity/",
    "schema": "https://schema.org/",
}

# rdflib namespaces by the name this module gives them: hrkg's own by their prefix, the W3C ones
# as rdflib.namespace defines them
_OWN = {"HRKG": "hrkg", "SH_HRKG": "hrkgsh", "ID": "id", "STATE": "state", "INSTR": "instr", "GROUP": "group",
        "BODY": "body", "CYCLE": "cycle", "SRC": "src", "WD": "wd", "SCHEMA": "schema"}
_RDFLIB = ("DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SKOS", "XSD", "ORG")
_BY_PREFIX = {"org": "ORG", "dct": "DCTERMS", "skos": "SKOS", "owl": "OWL", "prov": "PROV", "rdf": "RDF",
              "rdfs": "RDFS", "xsd": "XSD"}


def __getattr__(name):
    """The rdflib namespaces and ``PREFIXES``, made when first asked for."""
    if name not in _OWN and name not in _RDFLIB and name != "PREFIXES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import rdflib.namespace
    made = {attr: rdflib.Namespace(PREFIX_IRIS[prefix]) for attr, prefix in _OWN.items()}
    made.update({attr: getattr(rdflib.namespace, attr) for attr in _RDFLIB})
    by_prefix = {prefix: attr for attr, prefix in _OWN.items()} | _BY_PREFIX
    made["PREFIXES"] = {prefix: made[by_prefix[prefix]] for prefix in PREFIX_IRIS}
    globals().update(made)
    return made[name]


def bind_prefixes(graph):
    """Bind hrkg's prefixes on a graph (for readable Turtle output)."""
    prefixes = globals().get("PREFIXES") or __getattr__("PREFIXES")
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
