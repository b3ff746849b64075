"""Resolve the codes and names people type (VNM, vietnam, CCPR, hrc) to resource IRIs.

Matching is case- and accent-insensitive over each resource's hrkg:code, hrkg:alias, ISO alpha-2
and SKOS labels, and ignores the punctuation names are written with (Côte d'Ivoire, Guinea-Bissau,
Bolivia (Plurinational State of)); an unknown code, or one with characters no name is written with
(VNM!!, VNM#1), raises UnknownCodeError with the closest known codes.
"""
import re
import unicodedata

from .errors import UnknownCodeError
from .namespaces import PREFIX_IRIS

# IRIs as strings: a query resolves codes without importing rdflib. KIND_CLASSES and
# _KEY_PROPERTIES, the same as rdflib URIRefs, are made on first use (__getattr__ below).
_H, _SKOS = PREFIX_IRIS["hrkg"], PREFIX_IRIS["skos"]
_RDF_TYPE = PREFIX_IRIS["rdf"] + "type"
KIND_CLASS_IRIS = {kind: tuple(_H + name for name in names) for kind, names in {
    "state": ("State", "UNMemberState", "UNObserverState"),
    "instrument": ("Instrument", "Treaty", "CoreTreaty", "OptionalProtocol", "ILOConvention", "RegionalDeclaration"),
    "group": ("Group", "UNRegionalGroup", "RegionalOrganization"),
    "body": ("Body", "TreatyBody", "RegionalOrganization"),
    "cycle": ("UPRCycle",),
    "mandate": ("SpecialProcedure",),
    "organization": ("Organization", "Body", "Group", "TreatyBody", "UNRegionalGroup", "RegionalOrganization"),
}.items()}
# besides letters, digits and spaces, the characters codes and names are written with
# ('Côte d’Ivoire', 'Congo, Dem. Rep.', 'Sao Tome & Principe', 'OP-ICESCR', 'Bolivia (...)')
NAME_PUNCTUATION = frozenset("'’‘`´-‐‑–—_.,()&/")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
KEY_PROPERTY_IRIS = (_H + "code", _H + "alias", _H + "alpha2", _SKOS + "prefLabel", _SKOS + "altLabel",
                     _SKOS + "hiddenLabel")


def __getattr__(name):
    if name == "KIND_CLASSES":
        from rdflib import URIRef
        return {kind: tuple(map(URIRef, iris)) for kind, iris in KIND_CLASS_IRIS.items()}
    if name == "_KEY_PROPERTIES":
        from rdflib import URIRef
        return tuple(map(URIRef, KEY_PROPERTY_IRIS))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def normalize(text):
    """Fold case, accents, apostrophes, '&' and punctuation so spellings of one name compare equal."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[’‘`´']", "", text)
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return " ".join(text.split())


def _dropped(text):
    """(stray, foreign): the characters of ``text`` that normalize() drops although they are not
    how names are punctuated, each once. ``stray``: neither letters nor digits ('!' in 'VNM!!',
    '#', '?', quotes); accents, spaces, invisible format characters (a zero-width space, a soft
    hyphen) and NAME_PUNCTUATION are not stray. ``foreign``: letters and digits that do not fold
    to a-z or 0-9 ('Đ' in 'Đông Nam Á', '越南')."""
    stray, foreign = [], []
    for c in unicodedata.normalize("NFKD", str(text)):
        if (c.isspace() or c in NAME_PUNCTUATION or unicodedata.combining(c)
                or unicodedata.category(c) == "Cf" or all(f in _ALNUM for f in c.casefold())):
            continue
        (foreign if c.isalnum() else stray).append(c)
    return "".join(dict.fromkeys(stray)), "".join(dict.fromkeys(foreign))


def stray_characters(text):
    """The characters of ``text`` no code or name is written with ('!' in 'VNM!!'), each once:
    normalize() drops them like a name's punctuation, so unchecked 'VNM!!' would resolve to VNM."""
    return _dropped(text)[0]


def _spelling(text):
    """normalize(), but keeping the letters it drops ('Đ'): tells 'Đông Nam Á', a label, from
    'VNM越南', a code with stray letters, which normalize() makes 'ong nam a' and 'vnm'."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[’‘`´']", "", text)
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())


class CodeIndex:
    """Lookup tables from normalized codes, aliases and names to IRIs, one per kind.

    ``entries``: {kind: [(iri, code, [code, alias, name, ...]), ...]}, members in IRI order, each
    one's values in KEY_PROPERTY_IRIS order (the first resource to claim a name keeps it; a code
    always wins over another resource's label). ``from_graph`` reads them from an rdflib graph,
    ``from_store`` from a pyoxigraph store and ``from_select`` from any SPARQL engine, such as a
    remote endpoint (a query need not load rdflib's graph API).
    """

    def __init__(self, entries):
        self._keys = {}     # kind -> {normalized key: iri}
        self._codes = {}    # kind -> {iri: code}
        self._spellings = {}   # kind -> {_spelling(name)} of the names with letters normalize() drops
        for kind in KIND_CLASS_IRIS:
            keys, codes, spellings = {}, {}, set()
            for iri, code, values in entries.get(kind, ()):
                iri = str(iri)     # IRIs are kept as strings; resolve() gives a URIRef, iri() the string
                codes[iri] = str(code)
                for value in values:
                    keys.setdefault(normalize(value), iri)
                    if not value.isascii() and _dropped(value)[1]:   # ASCII letters all fold to a-z
                        spellings.add(_spelling(value))
                keys[normalize(code)] = iri
            self._keys[kind], self._codes[kind], self._spellings[kind] = keys, codes, spellings

    @classmethod
    def from_graph(cls, graph):
        """From an rdflib graph."""
        from rdflib import URIRef
        rdf_type, code_property = URIRef(_RDF_TYPE), URIRef(_H + "code")
        properties = [URIRef(p) for p in KEY_PROPERTY_IRIS]
        entries = {}
        for kind, classes in KIND_CLASS_IRIS.items():
            members = {s for c in classes for s in graph.subjects(rdf_type, URIRef(c)) if isinstance(s, URIRef)}
            rows = []
            for iri in sorted(members):
                code = graph.value(iri, code_property)
                if code is not None:
                    rows.append((iri, code, [v for prop in properties for v in graph.objects(iri, prop)]))
            entries[kind] = rows
        return cls(entries)

    @classmethod
    def from_store(cls, store, graphs=None):
        """From a pyoxigraph store (``graphs``: the default graph list to read, e.g. query_graphs())."""
        options = {"default_graph": graphs} if graphs else {}
        return cls.from_select(lambda text: store.query(text, **options))

    @classmethod
    def from_select(cls, select):
        """From any SPARQL engine: ``select(text)`` runs a SELECT and returns its rows, each a
        sequence of pyoxigraph terms in the order of the SELECT's variables (a store's solutions, a
        remote endpoint's parsed results). Two flat queries joined here (one query joining them
        took 4 times as long on a store)."""
        kinds_of = {}
        for kind, classes in KIND_CLASS_IRIS.items():
            for c in classes:
                kinds_of.setdefault(c, []).append(kind)
        found = {}   # kind -> iri -> code (the least, should a resource have two)
        members = (f"SELECT ?class ?s ?code WHERE {{ VALUES ?class {{ {' '.join(f'<{c}>' for c in kinds_of)} }} "
                   f"?s a ?class ; <{_H}code> ?code . FILTER(isIRI(?s)) }}")
        for row in select(members):
            cls_, iri, code = row[0].value, row[1].value, row[2].value
            for kind in kinds_of[cls_]:
                known = found.setdefault(kind, {})
                if iri not in known or code < known[iri]:
                    known[iri] = code
        index = {p: i for i, p in enumerate(KEY_PROPERTY_IRIS)}
        values = {}   # iri -> {(property index, value)}
        names = f"SELECT ?s ?p ?value WHERE {{ VALUES ?p {{ {' '.join(f'<{p}>' for p in index)} }} ?s ?p ?value }}"
        for row in select(names):
            values.setdefault(row[0].value, set()).add((index[row[1].value], row[2].value))
        return cls({kind: [(iri, code, [v for _, v in sorted(values.get(iri, ()))])
                           for iri, code in sorted(known.items())]
                    for kind, known in found.items()})

    def tables(self):
        """The lookup tables as JSON-ready data (``hrkg build`` writes them beside the store, so a
        query resolves codes without reading and normalizing every name: 60-70 ms of a cold
        ``hrkg query``); ``from_tables`` reads them back."""
        return {"keys": self._keys, "codes": self._codes,
                "spellings": {kind: sorted(names) for kind, names in self._spellings.items()}}

    @classmethod
    def from_tables(cls, tables):
        index = cls({})
        index._keys, index._codes = tables["keys"], tables["codes"]
        index._spellings = {kind: set(names) for kind, names in tables["spellings"].items()}
        return index

    def is_empty(self):
        """True when no resource of any kind has a code (a graph without hrkg's data)."""
        return not any(self._codes.values())

    def kinds(self):
        return tuple(self._keys)

    def codes(self, kind):
        """Sorted codes of every resource of ``kind``."""
        return sorted(self._codes[kind].values())

    def code_of(self, kind, iri):
        """The code of the resource ``iri`` (a string or a URIRef), or None."""
        return self._codes[kind].get(None if iri is None else str(iri))

    def resolve(self, kind, value):
        """iri() as an rdflib URIRef."""
        from rdflib import URIRef
        return URIRef(self.iri(kind, value))

    def iri(self, kind, value):
        """The IRI (a string) for ``value``, or UnknownCodeError with suggestions (also when
        ``value`` holds stray characters, even if the rest of it is a known code)."""
        if kind not in self._keys:
            raise ValueError(f"unknown code kind {kind!r}")
        stray, foreign = _dropped(value)
        if not stray and foreign and _spelling(value) not in self._spellings[kind]:
            stray = foreign   # letters normalize() would drop, and no name is spelled with them
        if stray:
            raise UnknownCodeError(kind, value, self.suggest(kind, value),
                                   reason=f"unexpected character{'s' if len(stray) > 1 else ''} {stray!r}")
        key = normalize(value)
        iri = self._keys[kind].get(key)
        if iri is None:
            raise UnknownCodeError(kind, value, self.suggest(kind, value))
        return iri

    def suggest(self, kind, value, n=3):
        """Codes of the resources whose code or name is closest to ``value``."""
        import difflib   # only when a code is wrong
        key = normalize(value)
        keys = self._keys[kind]
        close = difflib.get_close_matches(key, list(keys), n=n * 3, cutoff=0.5)
        seen = []
        for match in close:
            code = self._codes[kind][keys[match]]
            if code not in seen:
                seen.append(code)
        return seen[:n]
