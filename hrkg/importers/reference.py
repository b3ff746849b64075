"""What the importers look up in the bundled data: state, cycle and instrument codes, the UN
Treaty Collection record of each instrument, the sessions of the bundled UPR reviews
(``Reference``), and state names as real files spell them (``StateNames``)."""
import re
from functools import lru_cache

from rdflib import Graph, URIRef

from ..codes import CodeIndex, normalize
from ..errors import UnknownCodeError
from ..load import parse_file
from ..namespaces import DCTERMS, HRKG, SRC
from ..resources import bundle_dir
from .writing import INSTRUMENT


class Reference:
    """State and cycle codes (a CodeIndex), instrument titles, the UN Treaty Collection record of
    each instrument and the sessions of the bundled UPR reviews."""

    FILES = ("reference/states.ttl", "reference/instruments.ttl", "reference/bodies.ttl",
             "sources.ttl", "upr.ttl")

    def __init__(self, graph):
        self.codes = CodeIndex.from_graph(graph)
        self.untc_records = {}   # instrument code -> (source IRI, mtdsg_no)
        self.titles = {}         # normalized English title -> instrument code
        for code in self.codes.codes("instrument"):
            iri = URIRef(INSTRUMENT + code)
            source = SRC["untc-" + code.lower()]
            url = graph.value(source, HRKG.url)
            if url is not None:
                match = re.search(r"mtdsg_no=([A-Za-z0-9-]+)", str(url))
                self.untc_records[code] = (source, match.group(1) if match else None)
                for title in graph.objects(iri, DCTERMS.title):
                    self.titles[normalize(title)] = code
        self.review_sessions = {str(s): int(o) for s, o in graph.subject_objects(HRKG.session)}
        self.cycles = set(self.codes.codes("cycle"))

    @classmethod
    @lru_cache(maxsize=1)
    def bundled(cls):
        graph = Graph()
        for name in cls.FILES:
            parse_file(bundle_dir("data") / name, graph)
        return cls(graph)


class StateNames:
    """State names as real files spell them -> ISO alpha-3 codes, through the CodeIndex.

    The CodeIndex already folds case, accents, apostrophes, punctuation and '&'/'and'. This adds
    the rewrites real files need: footnote markers ('Germany 4,5'), a leading or trailing 'the',
    'St.' for 'Saint', and inverted names ('Korea (Republic of)', 'Moldova, Republic of'). No
    fuzzy matching: a name that still does not resolve is reported, with suggestions."""

    def __init__(self, codes):
        self.codes = codes
        self._cache = {}

    def resolve(self, name):
        """Tuple of codes for ``name`` (several for 'Norway; Sweden'), or None."""
        if name not in self._cache:
            codes = self._one(name)
            if codes is None:
                parts = [p for p in re.split(r"\s*[;/]\s*|\s*,\s*", name) if p.strip()]
                if len(parts) > 1:
                    found = [self._one(p) for p in parts]
                    if all(found):
                        codes = tuple(dict.fromkeys(c for f in found for c in f))
            self._cache[name] = codes
        return self._cache[name]

    def suggest(self, name):
        return self.codes.suggest("state", name)

    def _one(self, name):
        for variant in name_variants(name):
            try:
                return (self.codes.code_of("state", self.codes.resolve("state", variant)),)
            except UnknownCodeError:
                continue
        return None


def name_variants(name):
    """Systematic rewrites of a state name, most literal first."""
    name = " ".join(name.split())
    seen = []

    def add(value):
        value = value.strip(" ,")
        if value and value not in seen:
            seen.append(value)

    add(name)
    add(re.sub(r"(?<=[^\d\s,])[\s\d,*]+$", "", name))          # footnote markers
    for base in list(seen):
        add(re.sub(r"^the\s+", "", base, flags=re.I))
        add(re.sub(r"\s*(?:,\s*the|\(\s*the\s*\))$", "", base, flags=re.I))
        add(re.sub(r"\bSt\.?(?=\s)", "Saint", base))
        inverted = re.fullmatch(r"(.+?)\s*\((.+)\)", base) or re.fullmatch(r"(.+?)\s*,\s*(.+)", base)
        if inverted:
            add(f"{inverted.group(2)} {inverted.group(1)}")
    return seen
