"""Writing the RDF every importer produces: N-Triples or Turtle streamed one resource at a time
(``RDFWriter``), the IRIs it names, and the ``hrkg:ImportedFile`` record every written record cites
as its source (``write_imported_file``). Terms are plain strings (``IRI``, ``Lit``), not rdflib
terms: see IRI."""
import re

from ..namespaces import BASE, DCTERMS, HRKG, RDF, RDFS, SRC, XSD


class IRI(str):
    """An IRI for the writer: a plain str subclass, so building one per row costs nothing
    (rdflib's Namespace builds and validates a new URIRef on every attribute access)."""

    __slots__ = ()


class Vocabulary:
    """``H.text`` -> IRI of hrkg:text, computed once per name."""

    def __init__(self, namespace):
        self._namespace = str(namespace)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        value = IRI(self._namespace + name)
        setattr(self, name, value)
        return value


H, DCT, RDFV, RDFSV, XSDV = (Vocabulary(ns) for ns in (HRKG, DCTERMS, RDF, RDFS, XSD))

# Where the records the importers write live (the IRI patterns of data/*.ttl)
REVIEW = BASE + "id/upr-review/"
RECOMMENDATION = BASE + "id/recommendation/"
ACTION = BASE + "id/action/"
STATE = BASE + "id/state/"
INSTRUMENT = BASE + "id/instrument/"
CYCLE = BASE + "id/upr-cycle/"
GROUP = BASE + "id/group/"
PROCEDURE = BASE + "id/procedure/"


class Lit:
    """A typed or language-tagged literal for the writer (plain str and int need no wrapper)."""

    __slots__ = ("value", "datatype", "lang")

    def __init__(self, value, datatype=None, lang=None):
        self.value, self.datatype, self.lang = value, datatype, lang


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text):
    """A string as the body of an N-Triples / Turtle "..." literal."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group()) or f"\\u{ord(m.group()):04X}", text)


TURTLE_PREFIXES = {
    "hrkg": str(HRKG), "state": STATE, "instr": INSTRUMENT, "cycle": CYCLE, "rev": REVIEW,
    "rec": RECOMMENDATION, "act": ACTION, "src": str(SRC), "dct": str(DCTERMS), "rdfs": str(RDFS),
    "xsd": str(XSD), "proc": PROCEDURE,
}
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


class RDFWriter:
    """Writes one resource at a time as N-Triples or Turtle (prefixed names, one block per
    subject) and counts the triples. Objects: IRI, str (plain literal), int (xsd:integer), Lit."""

    def __init__(self, stream, fmt):
        self.stream, self.fmt, self.triples = stream, fmt, 0
        self._prefixes = sorted(TURTLE_PREFIXES.items(), key=lambda kv: -len(kv[1]))
        self._rendered = {}   # IRIs that repeat (predicates, states, reviews, sources) -> text
        if fmt == "ttl":
            stream.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in TURTLE_PREFIXES.items()) + "\n")

    def iri(self, value):
        if self.fmt == "ttl":
            for prefix, ns in self._prefixes:
                if value.startswith(ns) and _LOCAL.fullmatch(value, len(ns)):
                    return f"{prefix}:{value[len(ns):]}"
        return f"<{value}>"

    def _cached(self, value):
        text = self._rendered.get(value)
        if text is None:
            text = self._rendered[value] = "a" if value == RDFV.type and self.fmt == "ttl" else self.iri(value)
        return text

    def term(self, value):
        if isinstance(value, IRI):
            return self._cached(value)
        if isinstance(value, str):
            return f'"{escape(value)}"'
        if isinstance(value, bool):
            raise TypeError("booleans are not written")
        if isinstance(value, int):
            return str(value) if self.fmt == "ttl" else f'"{value}"^^<{XSDV.integer}>'
        body = f'"{escape(str(value.value))}"'
        if value.lang:
            return f"{body}@{value.lang}"
        return f"{body}^^{self._cached(value.datatype)}" if value.datatype else body

    def resource(self, subject, pairs):
        """Write ``subject`` with its (predicate IRI, object) pairs; an object may be a list or
        tuple of objects, and None (or an empty list) writes nothing."""
        cached, term = self._cached, self.term
        parts = []
        for p, o in pairs:
            if o is None:
                continue
            if isinstance(o, (list, tuple)):
                parts.extend((cached(p), term(x)) for x in o)
            else:
                parts.append((cached(p), term(o)))
        s = self.iri(subject)
        if self.fmt == "ttl":
            self.stream.write(s + " " + " ;\n    ".join(f"{p} {o}" for p, o in parts) + " .\n\n")
        else:
            self.stream.write("".join(f"{s} {p} {o} .\n" for p, o in parts))
        self.triples += len(parts)


def write_imported_file(writer, source, *, title, publisher, reflects, comment=None):
    """The hrkg:ImportedFile resource every record cites; returns its IRI (named by the SHA-256)."""
    iri = IRI(f"{SRC}sha256-{source.sha256}")
    writer.resource(iri, [
        (RDFV.type, H.ImportedFile),
        (DCT.title, Lit(title, lang="en")),
        (DCT.publisher, publisher),
        (H.fileName, source.path.name),
        (H.sha256, source.sha256),
        (H.reflects, reflects),
        (RDFSV.comment, Lit(comment, lang="en") if comment else None),
    ])
    return iri
