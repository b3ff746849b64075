"""Step 5: write the graph (asserted, optionally with inferred triples) as RDF files.

Every format is written so the same graph always gives the same bytes: blank nodes are relabelled
canonically, N-Triples and N-Quads statements are sorted, Turtle, TriG, RDF/XML and JSON-LD are
written from the statements in that order (TriG graph by graph, in IRI order). TriG and N-Quads
keep one named graph per source file (see load.py graph_name), plus ``.../graph/inferred`` with
``include_inferred``.

Exports stream: the statements are serialized by pyoxigraph (canonical N-Triples: every control
character escaped, so a statement is exactly one line and ``\\n`` is the only line separator in the
file), sorted as whole statements, and written in blocks. A built store is read quad by quad
without going through rdflib, so a million triples export in seconds and a few hundred MB.
"""
import io
import itertools
import json
import re

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal
from rdflib.compare import to_canonical_graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import RDF, XSD

from .context import CONTEXT, CONTEXT_URL
from .errors import UsageError
from .load import INFERRED_GRAPH
from .namespaces import PREFIXES, bind_prefixes

EXPORT_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml", "trig": "trig",
                  "nq": "nquads"}
JSONLD_CONTEXT_URL = CONTEXT_URL
_PREFIX_MAP = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
_BLOCK = 20_000   # statements per write
_BATCH = 100_000  # statements pyoxigraph serializes at once
# characters XML 1.0 cannot carry at all (not even as &#...;): C0 controls but tab, LF, CR; U+FFFE/F
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_NAME_END = re.compile(r"[A-Za-z_][\w.-]*$")


def export(dataset, fmt, *, inferred_graph=None, include_inferred=False, jsonld_context="url"):
    """Serialize as ``fmt`` (ttl, nt, jsonld, xml, trig, nq) and return the text.

    ``dataset`` holds the asserted triples, one named graph per file. JSON-LD is compacted with
    the published context, referenced by its URL (``jsonld_context="url"``) or embedded
    (``"inline"``, a self-contained file). Raises UsageError for an unknown format, and for a
    graph RDF/XML cannot express (a predicate IRI that does not end in an XML name, a literal
    with a character XML 1.0 forbids).
    """
    source = _DatasetSource(named_graphs(dataset, inferred_graph if include_inferred else None))
    out = io.BytesIO()
    write(source, fmt, out, jsonld_context=jsonld_context)
    return out.getvalue().decode("utf-8")


def export_graph(kg, fmt, out, *, include_inferred=False, jsonld_context="url"):
    """Write the export of a KnowledgeGraph (or StoredKnowledgeGraph) to the binary file ``out``.

    A built store is read straight from pyoxigraph, never copied into rdflib; the bytes are the
    same as ``kg.export(fmt)``. Raises UsageError as ``export`` does, before anything is written.
    """
    if getattr(kg, "manifest", None) is not None and getattr(kg, "store", None) is not None:
        source = _StoreSource(kg.store, kg.manifest, include_inferred)
    else:
        named = sorted(((g.identifier, g) for g in kg.asserted_graphs() if len(g)), key=lambda p: str(p[0]))
        if include_inferred and len(kg.inferred):
            named.append((INFERRED_GRAPH, kg.inferred))
        source = _DatasetSource(named)
    write(source, fmt, out, jsonld_context=jsonld_context)
    if isinstance(out, TextSink):
        out.flush()


def write(source, fmt, out, *, jsonld_context="url"):
    """Write ``source`` (a _DatasetSource or _StoreSource) as ``fmt`` to the binary file ``out``."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if jsonld_context not in ("url", "inline"):
        raise UsageError(f"unknown JSON-LD context mode {jsonld_context!r}; choose url or inline")
    if fmt == "nq":
        return _write_blocks(out, _sorted_unique(_nquads(source)))
    if fmt == "trig":
        return ox.serialize(_triples(_trig_quads(source), quads=True), _Writer(out), ox.RdfFormat.TRIG,
                            prefixes=_PREFIX_MAP)
    lines = _sorted_unique(_flat_lines(source, rdfxml=fmt == "xml"))
    if fmt == "nt":
        return _write_blocks(out, lines)
    if fmt == "ttl":
        return ox.serialize(_triples(_blocks(lines)), _Writer(out), ox.RdfFormat.TURTLE, prefixes=_PREFIX_MAP)
    if fmt == "xml":
        # XML turns a raw CR into LF when it reads it back: write it as a character reference
        # (pyoxigraph lays the file out with LF and tab only, so every CR is a literal's)
        ox.serialize(_triples(_blocks(lines)), _Writer(out, cr=True), ox.RdfFormat.RDF_XML, prefixes=_PREFIX_MAP)
        return out.write(b"\n")
    context = CONTEXT if jsonld_context == "inline" else CONTEXT_URL
    return _write_jsonld(_triples(_blocks(lines)), out, context)


# ---- where the triples come from ----------------------------------------------------------------

def _terms():
    """(to_ox, to_rdflib): the term converters (hrkg.terms; hrkg.store in earlier versions)."""
    try:
        from .terms import to_ox, to_rdflib
    except ImportError:
        from .terms import to_ox, to_rdflib
    return to_ox, to_rdflib


def named_graphs(dataset, inferred_graph=None):
    """[(graph IRI, Graph)] of the non-empty graphs in IRI order, the inferred one last; a
    non-empty default graph comes first, named None."""
    out = sorted(((None if g.identifier == DATASET_DEFAULT_GRAPH_ID else g.identifier, g)
                  for g in dataset.graphs() if len(g) and g.identifier != INFERRED_GRAPH),
                 key=lambda pair: (pair[0] is not None, str(pair[0])))
    if inferred_graph is not None and len(inferred_graph):
        out.append((INFERRED_GRAPH, inferred_graph))
    return out


class _DatasetSource:
    """rdflib graphs: [(name or None, Graph)] in export order."""

    def __init__(self, named):
        self.named = named

    def graphs(self):
        to_ox, _ = _terms()
        for name, graph in self.named:
            def triples(graph=graph):
                for s, p, o in graph:
                    try:
                        yield ox.Triple(to_ox(s), to_ox(p), to_ox(o))
                    except (TypeError, ValueError) as exc:
                        raise UsageError(f"cannot export the triple {s.n3()} {p.n3()} {o.n3()}: {exc}") from None
            yield (None if name is None else str(name)), triples


class _StoreSource:
    """A built store's named graphs (manifest order is input order; export order is IRI order)."""

    def __init__(self, store, manifest, include_inferred):
        self.store = store
        self.names = sorted(name for name, count in manifest["graphs"].items() if count)
        if include_inferred and manifest.get("inferred_triples"):
            self.names.append(str(INFERRED_GRAPH))

    def graphs(self):
        for name in self.names:
            def triples(name=name):
                for quad in self.store.quads_for_pattern(None, None, None, ox.NamedNode(name)):
                    yield quad.triple
            yield name, triples


# ---- statements ----------------------------------------------------------------------------------

def _statements(triples, label_prefix, suffix=None):
    """Canonical N-Triples lines (bytes, no line break) of ``triples``; blank nodes relabelled
    canonically (``label_prefix`` + hash); ``suffix(line)`` makes an N-Quads line of each. Only the few triples with a blank node go through
    rdflib's canonicalisation; the rest are serialized by pyoxigraph as they stream past."""
    blank = []

    def plain():
        for t in triples:
            if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
                blank.append(t)
            else:
                yield t
    stream, lines = plain(), []
    while True:   # in batches: never the whole graph's text at once
        data = ox.serialize(itertools.islice(stream, _BATCH), format=ox.RdfFormat.N_TRIPLES)
        if not data:
            break
        batch = data.split(b"\n")
        batch.pop()   # after the last line break
        lines += map(suffix, batch) if suffix else batch
    if blank:
        batch = _canonical_blank(blank, label_prefix)
        lines += map(suffix, batch) if suffix else batch
    return lines


def _canonical_blank(triples, label_prefix):
    to_ox, to_rdflib = _terms()
    graph = Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    relabelled = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in canonical(graph, label_prefix=label_prefix)]
    return ox.serialize(relabelled, format=ox.RdfFormat.N_TRIPLES).split(b"\n")[:-1]


def _flat_lines(source, *, rdfxml=False):
    """Every graph's statements as N-Triples lines (the union: duplicates removed later)."""
    check = _RdfXmlCheck() if rdfxml else None
    lines, blank = [], []
    for _, triples in source.graphs():
        lines += _statements(_split_blank(triples(), blank, check), "")
    if blank:
        lines += _canonical_blank(blank, "")
    if check is not None:
        check.raise_if_needed()
    return lines


def _split_blank(triples, blank, check=None):
    """Triples without blank nodes; those with one go to ``blank`` (canonicalised over the union)."""
    for t in triples:
        if check is not None:
            check(t)
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            blank.append(t)
        else:
            yield t


def _nquads(source):
    """N-Quads lines: each statement in the graph of the file it came from; blank nodes are
    labelled per graph (``g<index>`` + hash), so those of different files stay apart."""
    lines = []
    for index, (name, triples) in enumerate(source.graphs()):
        lines += _statements(triples(), f"g{index}", _quad_suffix(name))
    return lines


def _quad_suffix(name):
    """line -> the same statement in graph ``name`` (a canonical N-Triples line ends in ' .')."""
    end = b" ." if name is None else b" <" + name.encode("utf-8") + b"> ."
    return lambda line: line[:-2] + end


def _trig_quads(source):
    """N-Quads blocks, graph after graph, each graph's statements sorted."""
    for index, (name, triples) in enumerate(source.graphs()):
        yield from _blocks(_sorted_unique(_statements(triples(), f"g{index}", _quad_suffix(name))))


def _sorted_unique(lines):
    """Whole statements in byte (= code point) order, each once."""
    lines.sort()
    return [line for line, _ in itertools.groupby(lines)]


def _blocks(lines):
    for start in range(0, len(lines), _BLOCK):
        yield b"\n".join(lines[start:start + _BLOCK]) + b"\n"


def _write_blocks(out, lines):
    for block in _blocks(lines):
        out.write(block)


class _BlockReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte blocks (for pyoxigraph's parser)."""

    def __init__(self, blocks):
        self._blocks = iter(blocks)
        self._view, self._pos = memoryview(b""), 0

    def readable(self):
        return True

    def readinto(self, buffer):
        while self._pos >= len(self._view):
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._view, self._pos = memoryview(block), 0
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos:self._pos + n]
        self._pos += n
        return n


def _triples(blocks, *, quads=False):
    """Parse N-Triples (or N-Quads) blocks back into pyoxigraph terms, in order."""
    stream = io.BufferedReader(_BlockReader(blocks), buffer_size=1 << 20)
    parsed = ox.parse(stream, ox.RdfFormat.N_QUADS if quads else ox.RdfFormat.N_TRIPLES)
    return parsed if quads else (quad.triple for quad in parsed)


class _Writer:
    """What pyoxigraph writes to: ``out``, with every CR written as ``&#13;`` when ``cr``."""

    def __init__(self, out, cr=False):
        self.out, self.cr = out, cr

    def write(self, data):
        data = bytes(data)
        self.out.write(data.replace(b"\r", b"&#13;") if self.cr else data)
        return len(data)

    def flush(self):
        pass


class _RdfXmlCheck:
    """What RDF/XML cannot carry: a predicate IRI that does not end in an XML name (it becomes
    the element name), a literal with a character XML 1.0 forbids even as a reference."""

    def __init__(self):
        self.predicates = set()
        self.literal = None

    def __call__(self, t):
        self.predicates.add(t.predicate.value)
        o = t.object
        if isinstance(o, ox.Literal):
            found = _XML_FORBIDDEN.search(o.value)
            if found:   # the first in statement order names the same one every time
                offender = (str(t.subject), str(t.predicate), found.group())
                self.literal = min(self.literal or offender, offender)

    def raise_if_needed(self):
        for p in sorted(self.predicates):
            if not _XML_NAME_END.search(p):
                raise UsageError(f"RDF/XML cannot write the predicate <{p}>: its IRI does not end in an XML "
                                 "name; export as ttl, nt, jsonld, trig or nq instead")
        if self.literal is not None:
            s, p, char = self.literal
            raise UsageError(f"RDF/XML cannot write the literal of {s} {p}: it holds the character "
                             f"U+{ord(char):04X}, which XML 1.0 cannot carry; export as ttl, nt, "
                             "jsonld, trig or nq instead")


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
    """Sorted canonical N-Triples of an rdflib Graph (one statement per line, whatever its literals hold)."""
    return _text(_DatasetSource([(None, graph)]), "nt")


def to_rdfxml(graph):
    """Plain (striped) RDF/XML of an rdflib Graph: one rdf:Description per subject. Raises
    UsageError for what RDF/XML cannot carry (see _RdfXmlCheck)."""
    return _text(_DatasetSource([(None, graph)]), "xml")


def _text(source, fmt, **kwargs):
    out = io.BytesIO()
    write(source, fmt, out, **kwargs)
    return out.getvalue().decode("utf-8")


# ---- JSON-LD ---------------------------------------------------------------------------------

def to_jsonld(graph, *, context=CONTEXT_URL):
    """Compacted, flattened JSON-LD: ``{"@context": ..., "@graph": [one node per subject]}``.

    ``context`` is the context URL (the default) or the context document itself. Values take the
    short form a term allows (``"date": "2015-02-05"``, ``"state": "<IRI>"``, ``"prefLabel":
    {"en": ...}``) only when it expands to exactly the same RDF term; anything else (a date of
    another type, a non-canonical number, a plain label) is written in full under a key that is
    not a typed term, so expansion always gives back the same triples.
    """
    lines = _sorted_unique(_flat_lines(_DatasetSource([(None, graph)])))
    out = io.BytesIO()
    _write_jsonld(_triples(_blocks(lines)), out, context)
    return out.getvalue().decode("utf-8")


def _write_jsonld(triples, out, context):
    """Stream the nodes, one subject at a time (the triples come grouped by subject), laid out
    exactly as ``json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)`` would."""
    _, to_rdflib = _terms()
    compactor = _Compactor(CONTEXT["@context"])
    ctx = context if isinstance(context, str) else context["@context"]
    head = json.dumps(ctx, indent=1, sort_keys=True, ensure_ascii=False).replace("\n", "\n ")
    out.write(f'{{\n "@context": {head},\n "@graph": ['.encode("utf-8"))
    first = True
    for subject, group in itertools.groupby(triples, key=lambda t: t.subject):
        s = to_rdflib(subject)
        node = {"id": compactor.node_id(s)}
        for t in group:
            compactor.add(node, to_rdflib(t.predicate), to_rdflib(t.object))
        # JSON escapes every control character in a string, so LF only ever separates lines here
        text = json.dumps(_sorted_node(node), indent=1, sort_keys=True, ensure_ascii=False).replace("\n", "\n  ")
        out.write((("\n  " if first else ",\n  ") + text).encode("utf-8"))
        first = False
    out.write(b"]\n}\n" if first else b"\n ]\n}\n")


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


class TextSink:
    """A binary file over a text stream (``sys.stdout``): bytes are decoded incrementally, so a
    character pyoxigraph writes in two pieces is still whole."""

    def __init__(self, out):
        import codecs
        self.out, self._decoder = out, codecs.getincrementaldecoder("utf-8")()

    def write(self, data):
        self.out.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self):
        self.out.write(self._decoder.decode(b"", final=True))
