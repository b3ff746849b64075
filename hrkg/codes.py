"""Resolve the codes and names people type (VNM, vietnam, CCPR, hrc) to resource IRIs.

Matching is case- and accent-insensitive over each resource's hrkg:code, hrkg:alias, ISO alpha-2
and SKOS labels, and ignores the punctuation names are written with (Côte d'Ivoire, Guinea-Bissau,
Bolivia (Plurinational State of)); an unknown code, or one with characters no name is written with
(VNM!!, VNM#1), raises UnknownCodeError with the closest known codes.
"""
import difflib
import re
import unicodedata

from rdflib import URIRef

from .errors import UnknownCodeError
from .namespaces import HRKG, RDF, SKOS

KIND_CLASSES = {
    "state": (HRKG.State, HRKG.UNMemberState, HRKG.UNObserverState),
    "instrument": (HRKG.Instrument, HRKG.Treaty, HRKG.CoreTreaty, HRKG.OptionalProtocol,
                   HRKG.ILOConvention, HRKG.RegionalDeclaration),
    "group": (HRKG.Group, HRKG.UNRegionalGroup, HRKG.RegionalOrganization),
    "body": (HRKG.Body, HRKG.TreatyBody, HRKG.RegionalOrganization),
    "cycle": (HRKG.UPRCycle,),
    "mandate": (HRKG.SpecialProcedure,),
    "organization": (HRKG.Organization, HRKG.Body, HRKG.Group, HRKG.TreatyBody, HRKG.UNRegionalGroup,
                     HRKG.RegionalOrganization),
}
# besides letters, digits and spaces, the characters codes and names are written with
# ('Côte d’Ivoire', 'Congo, Dem. Rep.', 'Sao Tome & Principe', 'OP-ICESCR', 'Bolivia (...)')
NAME_PUNCTUATION = frozenset("'’‘`´-‐‑–—_.,()&/")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_KEY_PROPERTIES = (HRKG.code, HRKG.alias, HRKG.alpha2, SKOS.prefLabel, SKOS.altLabel,
                   SKOS.hiddenLabel)


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
    one's values in _KEY_PROPERTIES order (the first resource to claim a name keeps it; a code
    always wins over another resource's label). ``from_graph`` reads them from an rdflib graph,
    ``from_store`` from a pyoxigraph store in one query (a query need not load rdflib's graph API).
    """

    def __init__(self, entries):
        self._keys = {}     # kind -> {normalized key: iri}
        self._codes = {}    # kind -> {iri: code}
        self._spellings = {}   # kind -> {_spelling(name)} of the names with letters normalize() drops
        for kind in KIND_CLASSES:
            keys, codes, spellings = {}, {}, set()
            for iri, code, values in entries.get(kind, ()):
                codes[iri] = str(code)
                for value in values:
                    keys.setdefault(normalize(value), iri)
                    if _dropped(value)[1]:
                        spellings.add(_spelling(value))
                keys[normalize(code)] = iri
            self._keys[kind], self._codes[kind], self._spellings[kind] = keys, codes, spellings

    @classmethod
    def from_graph(cls, graph):
        entries = {}
        for kind, classes in KIND_CLASSES.items():
            members = {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}
            rows = []
            for iri in sorted(members):
                code = graph.value(iri, HRKG.code)
                if code is not None:
                    rows.append((iri, code, [v for prop in _KEY_PROPERTIES for v in graph.objects(iri, prop)]))
            entries[kind] = rows
        return cls(entries)

    @classmethod
    def from_store(cls, store, graphs=None):
        """From a pyoxigraph store (``graphs``: the default graph list to read, e.g. query_graphs())."""
        classes = " ".join(f'(<{c}> "{kind}")' for kind, cs in KIND_CLASSES.items() for c in cs)
        props = " ".join(f"(<{p}> {i})" for i, p in enumerate(_KEY_PROPERTIES))
        query = (f"SELECT DISTINCT ?kind ?s ?code ?i ?value WHERE {{ VALUES (?class ?kind) {{ {classes} }} "
                 f"?s a ?class ; <{HRKG.code}> ?code . FILTER(isIRI(?s)) "
                 f"OPTIONAL {{ VALUES (?p ?i) {{ {props} }} ?s ?p ?value }} }}")
        found = {}   # kind -> iri -> [code, {(i, value)}]
        for row in store.query(query, **({"default_graph": graphs} if graphs else {})):
            member = found.setdefault(row["kind"].value, {}).setdefault(row["s"].value, [None, set()])
            code = row["code"].value
            member[0] = code if member[0] is None or code < member[0] else member[0]
            if row["value"] is not None:
                member[1].add((int(row["i"].value), row["value"].value))
        return cls({kind: [(URIRef(iri), code, [v for _, v in sorted(values)])
                           for iri, (code, values) in sorted(members.items())]
                    for kind, members in found.items()})

    def kinds(self):
        return tuple(self._keys)

    def codes(self, kind):
        """Sorted codes of every resource of ``kind``."""
        return sorted(self._codes[kind].values())

    def code_of(self, kind, iri):
        return self._codes[kind].get(iri)

    def resolve(self, kind, value):
        """Return the IRI for ``value`` or raise UnknownCodeError with suggestions (also when
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
        key = normalize(value)
        keys = self._keys[kind]
        close = difflib.get_close_matches(key, list(keys), n=n * 3, cutoff=0.5)
        seen = []
        for match in close:
            code = self._codes[kind][keys[match]]
            if code not in seen:
                seen.append(code)
        return seen[:n]
