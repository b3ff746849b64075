"""Step 5: write the graph (asserted, optionally with inferred triples) as RDF files.

Every format is written so the same graph always gives the same bytes: blank nodes are relabelled
canonically, N-Triples and N-Quads lines are sorted, TriG graphs come in IRI order and JSON-LD
nodes in ``@id`` order. TriG and N-Quads keep one named graph per source file (see load.py
graph_name), plus ``.../graph/inferred`` with ``include_inferred``.
"""
import json
import re

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import RDF, XSD

from .context import CONTEXT, CONTEXT_URL
from .errors import UsageError
from .load import INFERRED_GRAPH
from .namespaces import bind_prefixes

EXPORT_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml", "trig": "trig",
                  "nq": "nquads"}
JSONLD_CONTEXT_URL = CONTEXT_URL


def export(dataset, fmt, *, inferred_graph=None, include_inferred=False, jsonld_context="url"):
    """Serialize as ``fmt`` (ttl, nt, jsonld, xml, trig, nq) and return the text.

    ``dataset`` holds the asserted triples, one named graph per file. JSON-LD is compacted with
    the published context, referenced by its URL (``jsonld_context="url"``) or embedded
    (``"inline"``, a self-contained file). Raises UsageError for an unknown format, and for a
    graph RDF/XML cannot express (a predicate IRI that does not end in an XML name).
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if jsonld_context not in ("url", "inline"):
        raise UsageError(f"unknown JSON-LD context mode {jsonld_context!r}; choose url or inline")
    named = named_graphs(dataset, inferred_graph if include_inferred else None)
    if fmt == "trig":
        return to_trig(named)
    if fmt == "nq":
        return to_nquads(named)
    flat = Graph()
    for _, graph in named:
        for triple in graph:
            flat.add(triple)
    flat = canonical(flat)
    if fmt == "nt":
        return to_ntriples(flat)
    if fmt == "ttl":
        return bind_prefixes(flat).serialize(format="turtle")
    if fmt == "xml":
        return to_rdfxml(flat)
    return to_jsonld(flat, context=CONTEXT if jsonld_context == "inline" else CONTEXT_URL)


def named_graphs(dataset, inferred_graph=None):
    """[(graph IRI, Graph)] of the non-empty graphs in IRI order, the inferred one last; a
    non-empty default graph comes first, named None."""
    out = sorted(((None if g.identifier == DATASET_DEFAULT_GRAPH_ID else g.identifier, g)
                  for g in dataset.graphs() if len(g) and g.identifier != INFERRED_GRAPH),
                 key=lambda pair: (pair[0] is not None, str(pair[0])))
    if inferred_graph is not None and len(inferred_graph):
        out.append((INFERRED_GRAPH, inferred_graph))
    return out


def canonical(graph, *, label_prefix=""):
    """The same triples with blank nodes relabelled canonically (``label_prefix`` + hash), so the
    output is byte-stable; the prefix keeps blank nodes of different graphs apart in one file.
    ``"x"^^xsd:string`` (as a store may hand it back) is written ``"x"``: the same literal in RDF 1.1."""
    out = Graph()
    bind_prefixes(out)
    for triple in to_canonical_graph(graph):
        out.add(tuple(_plain(t, label_prefix) for t in triple))
    return out


def _plain(term, label_prefix):
    if isinstance(term, BNode) and label_prefix:
        return BNode(label_prefix + str(term))
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def to_ntriples(graph):
    lines = sorted(line for line in graph.serialize(format="nt").splitlines() if line.strip())
    return "\n".join(lines) + "\n" if lines else ""


def to_nquads(named):
    """N-Quads, sorted; each triple in the graph of the file it came from."""
    lines = []
    for index, (name, graph) in enumerate(named):
        suffix = f" <{name}> ." if name is not None else " ."
        for line in canonical(graph, label_prefix=f"g{index}").serialize(format="nt").splitlines():
            if line.strip():
                lines.append(line[: line.rstrip().rfind(".")].rstrip() + suffix)
    return "\n".join(sorted(lines)) + "\n" if lines else ""


def to_trig(named):
    """TriG: one ``<graph> { ... }`` block per source file, each written by the Turtle serializer so
    it reads like the Turtle export. A block's prefixes go before it, each only when not already
    declared the same way, so a prefix rdflib names differently per graph (``ns1:``) stays right."""
    declared, parts = {}, []
    for index, (name, graph) in enumerate(named):
        lines = canonical(graph, label_prefix=f"g{index}").serialize(format="turtle").splitlines()
        new = []
        while lines and (lines[0].startswith("@prefix") or not lines[0].strip()):
            match = re.fullmatch(r"@prefix ([\w.-]*): (<[^>]*>) \.", lines.pop(0).strip())
            if match and declared.get(match.group(1)) != match.group(2):
                declared[match.group(1)] = match.group(2)
                new.append(match.group(0))
        if new:
            parts.append("\n".join(sorted(new)) + "\n")
        # not indented: the lines of a """long literal""" would change
        parts.append(("{\n" if name is None else f"<{name}> {{\n") + "\n".join(lines).strip("\n") + "\n}\n")
    return "\n".join(parts)


def to_rdfxml(graph):
    """Plain (striped) RDF/XML: one rdf:Description per subject. rdflib's pretty-xml nests
    resources and types, which adds nothing a reader of RDF/XML needs and fails in more cases."""
    for p in sorted(set(graph.predicates())):
        if not re.search(r"[A-Za-z_][\w.-]*$", str(p)):
            raise UsageError(f"RDF/XML cannot write the predicate <{p}>: its IRI does not end in an XML "
                             "name; export as ttl, nt, jsonld or trig instead")
    try:
        return graph.serialize(format="xml")
    except ValueError as exc:
        raise UsageError(f"RDF/XML cannot write this graph: {exc}; export as ttl, nt, jsonld or trig instead") from None


# ---- JSON-LD ---------------------------------------------------------------------------------

def to_jsonld(graph, *, context=CONTEXT_URL):
    """Compacted, flattened JSON-LD: ``{"@context": ..., "@graph": [one node per subject]}``.

    ``context`` is the context URL (the default) or the context document itself. Values take the
    short form a term allows (``"date": "2015-02-05"``, ``"state": "<IRI>"``, ``"prefLabel":
    {"en": ...}``) only when it expands to exactly the same RDF term; anything else (a date of
    another type, a non-canonical number, a plain label) is written in full under a key that is
    not a typed term, so expansion always gives back the same triples.
    """
    compactor = _Compactor(CONTEXT["@context"])
    nodes = {}
    for s, p, o in graph:
        node = nodes.setdefault(s, {"id": compactor.node_id(s)})
        compactor.add(node, p, o)
    out = [_sorted_node(nodes[s]) for s in sorted(nodes, key=lambda s: (isinstance(s, BNode), str(s)))]
    doc = {"@context": context if isinstance(context, str) else context["@context"], "@graph": out}
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def embed_context(text):
    """A JSON-LD document with its context URL replaced by the context itself (self-contained)."""
    doc = json.loads(text)
    if doc.get("@context") == CONTEXT_URL:
        doc["@context"] = CONTEXT["@context"]
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


_CANONICAL_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Compactor:
    """Term selection for one context: which key and which value form each triple gets."""

    def __init__(self, context):
        self.vocab = context.get("@vocab")
        self.prefixes = {k: v for k, v in context.items()
                         if isinstance(v, str) and not k.startswith("@") and v.endswith(("/", "#"))}
        self.terms = {}   # name -> (IRI, type, container)
        for name, value in context.items():
            if name.startswith("@") or value in ("@id", "@type"):
                continue
            if isinstance(value, str):
                self.terms[name] = (self.expand(value), None, None)
            else:
                kind = value.get("@type")
                self.terms[name] = (self.expand(value["@id"]),
                                    kind if kind in (None, "@id") else self.expand(kind),
                                    value.get("@container"))
        self.by_iri = {}
        for name, (iri, kind, container) in sorted(self.terms.items()):
            self.by_iri.setdefault(iri, []).append((name, kind, container))

    def expand(self, value):
        prefix, _, rest = value.partition(":")
        if prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest
        return value

    def iri(self, iri, *, vocab):
        """Shortest string that expands back to ``iri``: a bare vocab name (only where keys and
        types are vocab-relative), a compact IRI, or the IRI itself."""
        iri = str(iri)
        if vocab and self.vocab and iri.startswith(self.vocab):
            local = iri[len(self.vocab):]
            if _SIMPLE_NAME.fullmatch(local) and local not in self.terms and local not in ("id", "type"):
                return local
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns):
                local = iri[len(ns):]
                if local and not local.startswith("//") and re.fullmatch(r"[\w.-]+", local):
                    return f"{prefix}:{local}"
        return iri

    def node_id(self, term):
        return "_:" + str(term) if isinstance(term, BNode) else self.iri(term, vocab=False)

    def add(self, node, p, o):
        if p == RDF.type and not isinstance(o, Literal):
            _append(node, "type", self.node_id(o) if isinstance(o, BNode) else self.iri(o, vocab=True))
            return
        for name, kind, container in self.by_iri.get(str(p), ()):
            if kind == "@id" and not isinstance(o, Literal):
                return _append(node, name, self.node_id(o))
            if isinstance(o, Literal) and kind is not None and kind != "@id" and not o.language \
                    and o.datatype is not None and str(o.datatype) == kind:
                return _append(node, name, str(o))
            if isinstance(o, Literal) and container == "@language" and o.language:
                languages = node.setdefault(name, {})
                if not isinstance(languages, dict):  # pragma: no cover - keys are unique per form
                    break
                return _append(languages, o.language, str(o))
            if kind is None and container is None:
                return _append(node, name, self.value(o))
        # no term fits: a key that is not a term, so the fully explicit value expands as written
        key = self.iri(p, vocab=True)
        if key in self.terms:
            key = str(p)
        _append(node, key, self.value(o))

    def value(self, o):
        """The explicit JSON-LD form of a term, native JSON only where that is lossless."""
        if not isinstance(o, Literal):
            return {"id": self.node_id(o)}
        if o.language:
            return {"@language": o.language, "@value": str(o)}
        if o.datatype is None:
            return str(o)
        if o.datatype == XSD.integer and _CANONICAL_INTEGER.fullmatch(str(o)):
            return int(str(o))
        if o.datatype == XSD.boolean and str(o) in ("true", "false"):
            return str(o) == "true"
        return {"@value": str(o), "type": self.iri(o.datatype, vocab=True)}


def _append(mapping, key, value):
    if key not in mapping:
        mapping[key] = value
    elif isinstance(mapping[key], list):
        mapping[key].append(value)
    else:
        mapping[key] = [mapping[key], value]


def _sorted_node(node):
    """Arrays in a stable order (they are sets in JSON-LD; lists are never arrays here)."""
    def order(values):
        return sorted(values, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    for key, value in node.items():
        if isinstance(value, list):
            node[key] = order(value)
        elif isinstance(value, dict) and "@value" not in value and "id" not in value:
            for lang, texts in value.items():
                if isinstance(texts, list):
                    value[lang] = order(texts)
    return node
