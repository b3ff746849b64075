"""The one place that binds every prefix hrkg uses."""
from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, ORG

BASE = "https://w3id.org/hrkg/"
HRKG = Namespace(BASE + "ontology#")
SH_HRKG = Namespace(BASE + "shapes#")
ID = Namespace(BASE + "id/")
STATE = Namespace(BASE + "id/state/")
INSTR = Namespace(BASE + "id/instrument/")
GROUP = Namespace(BASE + "id/group/")
BODY = Namespace(BASE + "id/body/")
CYCLE = Namespace(BASE + "id/upr-cycle/")
SRC = Namespace(BASE + "id/source/")
WD = Namespace("http://www.wikidata.org/entity/")
SCHEMA = Namespace("https://schema.org/")

PREFIXES = {
    "hrkg": HRKG,
    "hrkgsh": SH_HRKG,
    "state": STATE,
    "instr": INSTR,
    "group": GROUP,
    "body": BODY,
    "cycle": CYCLE,
    "src": SRC,
    "id": ID,
    "org": ORG,
    "dct": DCTERMS,
    "skos": SKOS,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "wd": WD,
    "schema": SCHEMA,
}


def bind_prefixes(graph):
    """Bind hrkg's prefixes on a graph (for readable Turtle output)."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
