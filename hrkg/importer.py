"""Import step: spreadsheet exports (UPR recommendations, UN Treaty Collection status tables) to RDF.

``import_files("upr" | "untc", paths, output)`` reads each file as it comes (UTF-8 with or without
BOM, Windows-1252 or Latin-1; CRLF, LF or bare CR line endings; quoted multi-line fields; HTML
entities; comma, semicolon or tab), maps its columns, resolves state names to ISO 3166-1 alpha-3
codes, and streams N-Triples or Turtle (by the output's extension) to a temporary file that
replaces the output only when the import succeeds.

Every record cites an ``hrkg:ImportedFile`` (file name and SHA-256) with ``dct:source`` and says on
which physical line of that file it starts with ``hrkg:row``.

What happens to a row:

- broken (wrong number of fields, unparseable date, session or cycle, missing required value,
  action category outside 1-5, state under review that is not a known state): rejected with its
  line number. Nothing is written unless ``partial=True``, which writes the good rows.
- UPR recommending state that does not resolve: the recommendation is kept with the name as
  published in ``hrkg:recommendingStateName`` and no ``hrkg:recommendingState``; reported as an
  unresolved name. A state under review must resolve: without it the row cannot be placed.
- UNTC participant that does not resolve (Cook Islands, Niue, the European Union are parties to
  some treaties but not states in hrkg's reference data): its actions are not written; reported as
  an unresolved name with its line.
- ``strict=True`` makes any unresolved name fatal: nothing is written.

Rejections and fatal unresolved names raise ImportRowError (exit code 2) carrying the report.
"""
import codecs
import csv
import datetime as dt
import hashlib
import html
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef

from .codes import CodeIndex, normalize
from .errors import ImportRowError, LoadError, UnknownCodeError, UsageError
from .importers import untc_page
from .importers.untc_page import PageParser
from .load import parse_file
from .namespaces import BASE, DCTERMS, HRKG, RDF, RDFS, SRC, XSD
from .resources import bundle_dir


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

KINDS = ("upr", "untc")
OUTPUT_FORMATS = {".nt": "nt", ".ttl": "ttl"}

REVIEW = BASE + "id/upr-review/"
RECOMMENDATION = BASE + "id/recommendation/"
ACTION = BASE + "id/action/"
STATE = BASE + "id/state/"
INSTRUMENT = BASE + "id/instrument/"
CYCLE = BASE + "id/upr-cycle/"
GROUP = BASE + "id/group/"
PROCEDURE = BASE + "id/procedure/"

# UPR Working Group sessions of each cycle (14 sessions per cycle from cycle II on, HRC decision
# 17/119). OHCHR press releases: the 13th session (21 May - 4 June 2012) began the second cycle;
# the 40th (24 January - 3 February 2022) "marking end of third UPR cycle" (19 January 2022); the
# 41st (7-18 November 2022) "will mark the commencement of the fourth cycle" (Nov. 2022 to Feb.
# 2027). Outside these ranges the cycle is left unknown, never guessed.
SESSION_CYCLES = ((1, 12, "I"), (13, 26, "II"), (27, 40, "III"), (41, 54, "IV"))
ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "first": "I", "second": "II",
         "third": "III", "fourth": "IV", "fifth": "V", "i": "I", "ii": "II", "iii": "III", "iv": "IV",
         "v": "V"}

# Responses mapped to hrkg:Supported / hrkg:Noted. Under HRC resolution 5/1, annex, para. 32,
# recommendations that do not enjoy the State's support "will be noted": so "rejected" and "not
# accepted" (cycle I wording) are noted. Anything else (partially accepted, pending, no clear
# position, ...) keeps only its published text in hrkg:responseText.
RESPONSES = {
    "supported": H.Supported, "accepted": H.Supported, "support": H.Supported, "accept": H.Supported,
    "supports": H.Supported, "accepts": H.Supported,
    "noted": H.Noted, "rejected": H.Noted, "not accepted": H.Noted, "not supported": H.Noted,
    "takes note": H.Noted, "noted rejected": H.Noted,
}

# Header names seen in UPR exports (UPR Info database, OHCHR matrices, research datasets), compared
# after normalize(); the first variant present wins. (required, variants)
UPR_FIELDS = {
    "state": (True, ("state under review", "sur", "country under review", "reviewed state",
                     "state reviewed", "under review", "state", "country")),
    "recommending_state": (True, ("recommending state", "recommending states", "recommending state s",
                                  "recommending", "recommending country", "state making recommendation",
                                  "smr", "recommended by", "recommending delegation")),
    "text": (True, ("recommendation", "recommendation text", "recommendations", "text of recommendation",
                    "full recommendation", "text")),
    "response": (True, ("response", "position", "sur response", "response of sur", "state response",
                        "response to recommendation", "position of the state under review",
                        "state position", "status")),
    "session": (False, ("session", "upr session", "wg session", "working group session", "session number",
                        "session no", "upr session number")),
    "cycle": (False, ("cycle", "upr cycle", "review cycle", "cycle number")),
    "action": (False, ("action category", "action", "category", "action level", "action type")),
    "themes": (False, ("issues", "issue", "themes", "theme", "topics", "topic", "thematic issues",
                       "issues themes")),
    "paragraph": (False, ("paragraph", "paragraph number", "para", "para no", "paragraph no",
                          "recommendation number", "recommendation no", "rec no", "number", "no")),
}
# UNTC columns are found by how their header starts ('Participant', 'Signature', 'Ratification,
# Acceptance(A), ...'): these are the names --map takes.
UNTC_FIELDS = ("participant", "signature", "consent")

# Forms of action in a UN Treaty Collection table: (class, IRI kind). Acceptance, approval, formal
# confirmation and definitive signature have no class of their own in the ontology: they are
# recorded as hrkg:ConsentToBeBound with the depositary's marker in hrkg:depositaryMarker.
FORMS = {
    "signature": (H.Signature, "signature"),
    "succession to signature": (H.Signature, "signature"),
    "ratification": (H.Ratification, "ratification"),
    "accession": (H.Accession, "accession"),
    "succession": (H.Succession, "succession"),
    "acceptance": (H.ConsentToBeBound, "acceptance"),
    "approval": (H.ConsentToBeBound, "approval"),
    "formal confirmation": (H.ConsentToBeBound, "formal-confirmation"),
    "definitive signature": (H.ConsentToBeBound, "definitive-signature"),
}
PLAIN_FORMS = ("signature", "ratification", "accession", "succession")  # a class of their own: no marker kept
SIGNATURE_LEGEND = {"": "signature", "d": "succession to signature", "s": "definitive signature"}
CONSENT_LEGEND = {"": "ratification", "a": "accession", "d": "succession", "A": "acceptance",
                  "AA": "approval", "c": "formal confirmation", "s": "definitive signature"}
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december", "sept")

PROGRESS_SECONDS = 2.0
MAX_LISTED = 50


class RowError(Exception):
    """A row is broken; the message says why (the caller adds file and line)."""


# =====================================================================================
# Reference data: the bundled states, cycles, instruments and sources the importers look up
# =====================================================================================

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


# =====================================================================================
# Reading: bytes -> text (encoding, line endings), CSV records and HTML tables with line numbers
# =====================================================================================

@dataclass
class SourceText:
    path: Path
    sha256: str
    size: int
    text: str            # line endings normalized to \n
    encoding: str
    line_endings: str


def read_source(path, encoding=None):
    """Read ``path`` and decode it: UTF-8 (BOM or not), else Windows-1252, else Latin-1, unless
    ``encoding`` is given. Raises LoadError for a missing, empty, binary or undecodable file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LoadError("no such file", path=path) from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}", path=path) from None
    if not raw.strip():
        raise LoadError("file is empty", path=path)
    if raw.startswith(b"PK\x03\x04"):
        raise LoadError("this is a zip archive (an Excel .xlsx workbook?); save the sheet as CSV", path=path)
    text, used = decode(raw, encoding, path)
    crlf = text.count("\r\n")
    cr, lf = text.count("\r") - crlf, text.count("\n") - crlf
    kinds = [(n, name) for n, name in ((crlf, "CRLF"), (lf, "LF"), (cr, "CR")) if n]
    if not kinds:
        endings = "none (one line)"
    elif len(kinds) == 1:
        endings = kinds[0][1]
    else:
        endings = "mixed (" + ", ".join(f"{name} {n}" for n, name in kinds) + ")"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(path, hashlib.sha256(raw).hexdigest(), len(raw), text, used, endings)


def decode(raw, encoding, path):
    """(text, name of the encoding used)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)") from None
        try:
            return raw.decode(encoding), encoding
        except LookupError:  # a codec that is not a text encoding (base64, rot13)
            raise UsageError(f"{encoding!r} is not a text encoding (try utf-8, cp1252 or latin-1)") from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise LoadError(f"not valid {encoding} (byte 0x{raw[exc.start]:02x}); "
                            "leave out --encoding to detect it", path=path, line=line) from None
    try:
        text = raw.decode("utf-8-sig")
        return text, "utf-8 with BOM" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def sniff_delimiter(line):
    """The most frequent of comma, semicolon and tab outside quotes in the header line."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def first_line(text):
    """The first non-blank line of ``text`` (the header of a CSV file)."""
    return next((ln for ln in text.split("\n", 50) if ln.strip()), "")


def csv_records(text, delimiter, path):
    """Yield (line, fields, last line) for each CSV record; ``line`` is the physical line it
    starts on. Blank lines are skipped. A quote left open at the end of the file yields fields
    None, so the caller can reject the record with its line. LoadError if a field exceeds the
    csv module's limit (131,072 characters), which only an unbalanced quote produces."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    reader = csv.reader((ln + "\n" for ln in lines), delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LoadError(f"cannot read the record starting here ({exc}): is a quote left open?",
                            path=path, line=start) from None
        end = reader.line_num
        if end == len(lines) and fields and fields[-1].endswith("\n") \
                and "".join(lines[start - 1:end]).count('"') % 2:
            yield start, None, end
            return
        if any(f.strip() for f in fields):
            yield start, fields, end
        start = end + 1


# The HTML reader (tables with footnote numbers, and the parts of a UN Treaty Collection status
# page) lives in hrkg.importers.untc_page; TableParser is its old name here.
TableParser = PageParser


def looks_like_html(text):
    head = text.lstrip()[:2000].lower()
    return head.startswith("<") and ("<table" in text.lower() or "<html" in head or "<!doctype html" in head)


# =====================================================================================
# Header mapping
# =====================================================================================

def parse_field_map(pairs, fields):
    """``["text=Recommendation (EN)", ...]`` as {field: header}; UsageError on a bad pair."""
    mapping = {}
    for pair in pairs or ():
        field_name, sep, header = pair.partition("=")
        field_name = field_name.strip()
        if not sep or not field_name or not header.strip():
            raise UsageError(f"--map {pair!r} must be written FIELD=HEADER, e.g. --map text=Recommendation")
        if field_name not in fields:
            raise UsageError(f"--map {pair!r}: unknown field {field_name!r}; fields: {', '.join(fields)}")
        mapping[field_name] = header.strip()
    return mapping


def map_columns(headers, fields, explicit, path, line):
    """{field: column index} for the header row. Explicit --map headers first (exact, then
    case-insensitive), then each field's known variants. LoadError names a required field that is
    missing, the headers seen and the --map syntax."""
    keys = [normalize(h) for h in headers]
    columns, taken = {}, set()
    for name, header in explicit.items():
        index = next((i for i, h in enumerate(headers) if h.strip() == header), None)
        if index is None:
            index = next((i for i, k in enumerate(keys) if k == normalize(header)), None)
        if index is None:
            raise LoadError(f"--map {name}={header}: no column {header!r}; headers seen: {_quoted(headers)}",
                            path=path, line=line)
        columns[name] = index
        taken.add(index)
    for name, (_required, variants) in fields.items():
        if name in columns:
            continue
        for variant in variants:
            index = next((i for i, k in enumerate(keys) if k == variant and i not in taken), None)
            if index is not None:
                columns[name] = index
                taken.add(index)
                break
    for name, (required, variants) in fields.items():
        if required and name not in columns:
            raise LoadError(
                f"cannot find the {name!r} column (known headers: {', '.join(repr(v) for v in variants[:5])}, ...); "
                f"headers seen: {_quoted(headers)}; name it with --map {name}=HEADER", path=path, line=line)
    return columns


def _quoted(headers):
    return ", ".join(repr(h) for h in headers) or "(none)"


# =====================================================================================
# Names and values
# =====================================================================================

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


def cycle_of_session(session):
    """UPR cycle code of a Working Group session number, or None outside the known cycles."""
    for first, last, code in SESSION_CYCLES:
        if first <= session <= last:
            return code
    return None


@lru_cache(maxsize=4096)
def parse_session(value):
    match = re.fullmatch(r"(?:(?:upr|wg|working group)\s*)?(?:session\s*)?(?:no\.?\s*)?(\d{1,3})"
                         r"(?:st|nd|rd|th)?(?:\.0+)?(?:\s*session)?", value.strip(), re.I)
    if not match or int(match.group(1)) == 0:
        raise RowError(f"session {value!r} is not a session number")
    return int(match.group(1))


@lru_cache(maxsize=256)
def parse_cycle(value, known=("I", "II", "III", "IV", "V")):
    key = re.sub(r"\b(?:upr|cycle)\b|(?<=\d)(?:st|nd|rd|th)\b", "", value.strip().lower()).strip(" .")
    code = ROMAN.get(key)
    if code is None or code not in known:
        raise RowError(f"cycle {value!r} is not a UPR cycle (I to V, or 1 to 5)")
    return code


@lru_cache(maxsize=256)
def parse_action_category(value):
    match = re.fullmatch(r"(?:(?:action\s*)?(?:category|cat\.?)\s*)?(\d+)(?:\.0+)?(?:\s*[-:(].*)?", value.strip(),
                         re.I | re.S)
    if not match or not 1 <= int(match.group(1)) <= 5:
        raise RowError(f"action category {value!r} is not 1 to 5")
    return int(match.group(1))


@lru_cache(maxsize=1024)
def split_themes(value):
    return tuple(dict.fromkeys(t.strip() for t in re.split(r"[,;]", value) if t.strip()))


@lru_cache(maxsize=1024)
def response_concept(value):
    """hrkg:Supported / hrkg:Noted when the published response is unambiguous, else None."""
    return RESPONSES.get(normalize(value))


_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\s*(?:\(\s*)?([A-Za-z]{1,2})?(?:\s*\))?"
                   r"(?:\s*[\d,\s]*)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\s*(?:\(\s*)?([A-Za-z]{1,2})?(?:\s*\))?")


def parse_untc_date(value):
    """'24 Sep 1982 a' -> ('1982-09-24', 'a'); the marker is '' when absent. RowError otherwise."""
    text = " ".join(value.split())
    match = _DATE.fullmatch(text)
    if match:
        day, month_name, year, marker = match.groups()
        month_key = month_name.lower()
        if month_key[:3] not in MONTHS or not any(m.startswith(month_key) for m in MONTH_NAMES):
            raise RowError(f"date {value!r}: unknown month {month_name!r}")
        month = MONTHS[month_key[:3]]
    else:
        match = _ISO_DATE.fullmatch(text)
        if not match:
            raise RowError(f"date {value!r} is not a date like '24 Sep 1982' (or 1982-09-24), "
                           "optionally followed by a marker (a, d, A, AA, c)")
        year, month, day, marker = match.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise RowError(f"date {value!r} is not a valid calendar date") from None
    return date.isoformat(), marker or ""


def clean(value):
    """Cell text: HTML entities decoded, non-breaking spaces as spaces, outer whitespace off."""
    if "&" in value:
        value = html.unescape(value)
    return value.replace("\xa0", " ").strip()


# =====================================================================================
# RDF writing: streamed N-Triples or Turtle
# =====================================================================================

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


# =====================================================================================
# Report
# =====================================================================================

@dataclass
class FileReport:
    """What happened to one input file."""

    name: str
    sha256: str
    size: int
    encoding: str
    line_endings: str
    delimiter: str = ""
    columns: dict = field(default_factory=dict)      # field -> header
    instrument: str = ""
    rows_read: int = 0
    records: int = 0
    rejected: list = field(default_factory=list)     # (line, reason)
    unresolved: list = field(default_factory=list)   # (line, column, name, suggestions)
    warnings: dict = field(default_factory=dict)     # key -> (message, [lines])
    responses: Counter = field(default_factory=Counter)
    # UN Treaty Collection pages
    parties_stated: int = None                       # the status line's 'Parties : N'
    signatories_stated: int = None
    consents: set = field(default_factory=set)       # participants with a consent not in brackets
    non_states: list = field(default_factory=list)   # (line, name, IRI) of Cook Islands, Niue, the EU
    statements: Counter = field(default_factory=Counter)         # class -> records
    procedures: list = field(default_factory=list)   # (code, status, participant, date, date basis)
    footnote_events: Counter = field(default_factory=Counter)    # kind -> records
    problems: list = field(default_factory=list)     # (line, what could not be read); not fatal

    def reject(self, line, reason):
        self.rejected.append((line, reason))

    def warn(self, key, line, message):
        """Record a warning; warnings with the same key are listed once, with all their lines."""
        self.warnings.setdefault(key, (message, []))[1].append(line)


@dataclass
class ImportReport:
    """The outcome of an import: per-file reports, and what was written where."""

    kind: str
    output: Path
    files: list = field(default_factory=list)
    written: bool = False
    triples: int = 0
    seconds: float = 0.0

    @property
    def rows_read(self):
        return sum(f.rows_read for f in self.files)

    @property
    def records(self):
        return sum(f.records for f in self.files)

    @property
    def rejected(self):
        """(file name, line, reason) of every rejected row."""
        return [(f.name, line, reason) for f in self.files for line, reason in f.rejected]

    @property
    def unresolved(self):
        """(file name, line, column, name) of every name that did not resolve to a state."""
        return [(f.name, line, column, name) for f in self.files for line, column, name, _ in f.unresolved]

    def summary(self):
        """The end-of-import summary for people (the CLI writes it to stderr)."""
        out = []
        for f in self.files:
            out.append(f"{f.name}: sha256 {f.sha256}, {f.size:,} bytes; encoding {f.encoding}; "
                       f"line endings {f.line_endings}" + (f"; delimiter {f.delimiter!r}" if f.delimiter else ""))
            if f.instrument:
                out.append(f"  instrument: {f.instrument}")
            if f.columns:
                out.append("  columns: " + ", ".join(f"{k} <- {v!r}" for k, v in f.columns.items()))
            out.append(f"  rows read {f.rows_read:,}; records {f.records:,}; rows rejected {len(f.rejected):,}")
            _listed(out, "rejected rows", [f"{f.name}:{line}: {reason}" for line, reason in f.rejected])
            kept = (" (recommendations kept with hrkg:recommendingStateName)" if self.kind == "upr"
                    else " (their actions are not written)")
            _listed(out, "unresolved names" + kept, _group_unresolved(f))
            if f.parties_stated is not None:
                same = "as" if f.parties_stated == len(f.consents) else "DIFFERS from"
                out.append(f"  parties: {len(f.consents):,} participants with a consent not in brackets, {same} the "
                           f"status line's 'Parties: {f.parties_stated}'")
            if f.non_states:
                out.append("  participants that are not in the state reference data, written with their own IRIs: "
                           + "; ".join(f"{name} <{iri}> (line {line})" for line, name, iri in f.non_states))
            if f.footnote_events:
                out.append("  from footnotes: " + ", ".join(f"{n:,} {k}" for k, n in sorted(f.footnote_events.items())))
            if f.statements:
                out.append("  statements: " + ", ".join(f"{n:,} {k}" for k, n in sorted(f.statements.items())))
            if f.procedures:
                kinds = Counter((code, status) for code, status, *_ in f.procedures)
                out.append("  procedures: " + ", ".join(f"{code} {status} {n:,}" for (code, status), n in sorted(kinds.items())))
            _listed(out, "not read (listed, nothing guessed)", [f"{f.name}:{line}: {why}" for line, why in f.problems])
            if f.responses:
                out.append("  responses: " + "; ".join(
                    f"{raw or '(empty)'!r} {n:,} -> {_response_label(raw)}" for raw, n in f.responses.most_common()))
            _listed(out, "warnings", [f"{f.name}: {message}: {_lines(lines)}" for message, lines in f.warnings.values()])
        if self.written:
            rate = f" ({self.rows_read / self.seconds:,.0f} rows/s)" if self.seconds > 0 else ""
            note = "; rejected rows left out (--partial)" if self.rejected else ""
            out.append(f"wrote {self.output}: {self.records:,} records, {self.triples:,} triples from "
                       f"{self.rows_read:,} rows in {self.seconds:.1f} s{rate}{note}")
        else:
            out.append(f"nothing written to {self.output}")
        return "\n".join(out)


def _listed(out, title, items):
    if not items:
        return
    out.append(f"  {title}: {len(items):,}")
    out.extend(f"    {item}" for item in items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        out.append(f"    ... and {len(items) - MAX_LISTED:,} more")


def _lines(lines):
    shown = ", ".join(str(n) for n in lines[:10])
    more = f" and {len(lines) - 10:,} more" if len(lines) > 10 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _group_unresolved(report):
    groups = {}
    for line, column, name, suggestions in report.unresolved:
        groups.setdefault((column, name), ([], suggestions))[0].append(line)
    items = []
    for (column, name), (lines, suggestions) in groups.items():
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        items.append(f"{column} {name!r}{hint}: {_lines(lines)}")
    return items


def _response_label(raw):
    concept = response_concept(raw) if raw else None
    return concept.rsplit("#", 1)[-1].lower() if concept else "response text only"


# =====================================================================================
# The importers
# =====================================================================================

class Progress:
    """Writes 'N rows read' to ``stream`` every PROGRESS_SECONDS (no stream: silent)."""

    def __init__(self, stream, name):
        self.stream, self.name = stream, name
        self.start = self.last = time.monotonic()

    def tick(self, rows):
        if self.stream is None or rows % 1000:
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            self.stream.write(f"{self.name}: {rows:,} rows read ({rows / (now - self.start):,.0f} rows/s)\n")
            self.stream.flush()


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


def check_width(fields, width, line, end):
    """RowError unless the record has the header's number of fields (empty extra fields, as a
    trailing delimiter leaves, are fine)."""
    if fields is None:
        raise RowError(f"a quoted field opened here is never closed (it runs to line {end}, the end of the file)")
    if len(fields) < width or (len(fields) > width and any(f.strip() for f in fields[width:])):
        span = f" (the record spans lines {line}-{end}: check for an unbalanced quote)" if end - line > 1 else ""
        raise RowError(f"expected {width} fields, found {len(fields)}{span}")


class UPRImporter:
    """UPR recommendation exports: one hrkg:Recommendation per row, attached to the UPRReview of
    (state under review, cycle) with the IRI pattern of data/upr.ttl (rev:VNM-III)."""

    fields = UPR_FIELDS

    def __init__(self, reference, writer, *, publisher=None):
        self.ref, self.writer, self.publisher = reference, writer, publisher
        self.names = StateNames(reference.codes)
        self.known_cycles = tuple(sorted(reference.cycles))
        self.reviews = {}     # review IRI -> [state, cycle, session or None, {file IRIs}]
        self.ids = Counter()  # recommendation IRIs written so far, to number exact repeats

    def run(self, source, report, explicit, progress):
        if looks_like_html(source.text):
            raise LoadError("this is an HTML page; 'hrkg import upr' reads CSV or TSV exports", path=source.path)
        report.delimiter = sniff_delimiter(first_line(source.text))
        records = csv_records(source.text, report.delimiter, source.path)
        header_line, headers, columns = self.header(records, explicit, source, report)
        if "session" not in columns and "cycle" not in columns:
            raise LoadError(f"needs a 'session' or a 'cycle' column; headers seen: {_quoted(headers)}; "
                            "name one with --map session=HEADER or --map cycle=HEADER", path=source.path,
                            line=header_line)
        report.columns = {name: headers[i] for name, i in columns.items()}
        file_iri = write_imported_file(
            self.writer, source, title=f"UPR recommendations: {source.path.name}",
            publisher=self.publisher or "unknown", reflects=IRI(f"{SRC}ohchr-upr"),
            comment=None if self.publisher else "Publisher not given at import (hrkg import upr --publisher).")
        width = len(headers)
        for line, fields, end in records:
            report.rows_read += 1
            progress.tick(report.rows_read)
            try:
                check_width(fields, width, line, end)
                self.row(line, fields, columns, report, file_iri)
            except RowError as exc:
                report.reject(line, str(exc))

    def header(self, records, explicit, source, report, tries=10):
        """(line, headers, columns) of the header row: the first of the first ``tries`` records
        whose columns map (an export may start with a title line). Else the first record's
        LoadError, which names the missing column and the headers seen."""
        first_error = None
        for line, fields, _ in records:
            if fields is None:
                break
            headers = [clean(h) for h in fields]
            try:
                columns = map_columns(headers, self.fields, explicit, source.path, line)
            except LoadError as exc:
                first_error = first_error or exc
                tries -= 1
                if tries:
                    continue
                break
            if first_error:
                report.warn(("preamble",), line, "the header row comes after other lines, which were skipped")
            return line, headers, columns
        raise first_error or LoadError("no header row", path=source.path)

    def row(self, line, fields, columns, report, file_iri):
        cell = {name: clean(fields[i]) for name, i in columns.items()}
        for name in ("state", "recommending_state", "text"):
            if not cell[name]:
                raise RowError(f"no {name.replace('_', ' ')} (column {report.columns[name]!r} is empty)")
        state = self.state_under_review(cell["state"])
        session = parse_session(cell["session"]) if cell.get("session") else None
        cycle = self.cycle(cell.get("cycle"), session)
        action = parse_action_category(cell["action"]) if cell.get("action") else None
        themes = split_themes(cell["themes"]) if cell.get("themes") else ()
        response = cell["response"]
        report.responses[response] += 1
        review = self.review(state, cycle, session, file_iri, line, report)
        recommending = self.names.resolve(cell["recommending_state"])
        if recommending is None:
            report.unresolved.append((line, "recommending state", cell["recommending_state"],
                                      self.names.suggest(cell["recommending_state"])))
        iri = self.recommendation_iri(state, cycle, recommending, cell, line, report)
        self.writer.resource(iri, [
            (RDFV.type, H.Recommendation),
            (H.review, review),
            (H.recommendingState, [IRI(STATE + c) for c in recommending] if recommending else None),
            (H.recommendingStateName, None if recommending else cell["recommending_state"]),
            (H.text, cell["text"]),
            (H.responseText, response or None),
            (H.response, response_concept(response) if response else None),
            (H.actionCategory, action),
            (H.theme, themes),
            (H.paragraph, cell.get("paragraph") or None),
            (DCT.source, file_iri),
            (H.row, line),
        ])
        report.records += 1

    def state_under_review(self, name):
        codes = self.names.resolve(name)
        if codes is None or len(codes) != 1:
            suggestions = self.names.suggest(name)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            what = "names several states" if codes else "is not a known state"
            raise RowError(f"state under review {name!r} {what}{hint}")
        return codes[0]

    def cycle(self, text, session):
        """The cycle code from the cycle column, else from the session; RowError if neither
        says, or if they disagree."""
        cycle = parse_cycle(text, self.known_cycles) if text else None
        from_session = cycle_of_session(session) if session else None
        if cycle and from_session and cycle != from_session:
            raise RowError(f"cycle {text!r} contradicts session {session} (a session of cycle {from_session})")
        if cycle or from_session:
            return cycle or from_session
        if session:
            raise RowError(f"cannot tell the UPR cycle: session {session} is outside the known cycles "
                           "(sessions 1-54); give a cycle column")
        raise RowError("no session and no cycle")

    def recommendation_iri(self, state, cycle, recommending, cell, line, report):
        """rec:<STATE>-<CYCLE>-<16 hex digits of a SHA-256 over what identifies the
        recommendation>: the same recommendation gets the same IRI in every import, whatever the
        file's encoding or line wrapping. An exact repeat within one import is numbered (-2)."""
        who = "+".join(recommending) if recommending else normalize(cell["recommending_state"])
        key = "|".join((state, cycle, who, cell.get("paragraph", ""), " ".join(cell["text"].split())))
        iri = f"{RECOMMENDATION}{state}-{cycle}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        self.ids[iri] += 1
        if self.ids[iri] > 1:
            report.warn(("repeat",), line, "row repeats an earlier one (same review, recommending state, paragraph "
                                           "and text); kept as a numbered second recommendation")
            iri += f"-{self.ids[iri]}"
        return IRI(iri)

    def review(self, state, cycle, session, file_iri, line, report):
        """The IRI of the UPRReview of (state, cycle), noting its session and the citing file."""
        iri = IRI(f"{REVIEW}{state}-{cycle}")
        known = self.reviews.get(iri)
        if known is None:
            bundled = self.ref.review_sessions.get(iri)
            if session and bundled and bundled != session:
                report.warn(("session", iri, session), line,
                            f"session {session} differs from session {bundled} of the bundled review {state}-{cycle}, "
                            f"which keeps session {bundled}")
            known = self.reviews[iri] = [state, cycle, bundled or session, {file_iri}]
        else:
            known[3].add(file_iri)
            if session and known[2] and session != known[2]:
                report.warn(("session", iri, session), line,
                            f"session {session} differs from session {known[2]} of the first rows for "
                            f"{state} cycle {cycle}; the review keeps session {known[2]}")
            elif session and not known[2]:
                known[2] = session
        return iri

    def finish(self):
        """Write the reviews the recommendations attach to (restating a bundled review's state,
        cycle and session changes nothing; the imported file is added to its sources)."""
        for iri, (state, cycle, session, sources) in sorted(self.reviews.items()):
            self.writer.resource(iri, [
                (RDFV.type, H.UPRReview),
                (H.state, IRI(STATE + state)),
                (H.cycle, IRI(CYCLE + cycle)),
                (H.session, session),
                (DCT.source, sorted(sources)),
            ])


class UNTCImporter:
    """UN Treaty Collection participant tables (CSV or the saved HTML page): one
    hrkg:Signature and one consent to be bound per participant, with the IRIs and properties of
    data/treaties/*.ttl (act:VNM-CAT-ratification).

    From the saved HTML status page it also reads (hrkg.importers.untc_page has the rules):

    - bracketed participations (``[30 Sep 1992 a]``): the action, and the denunciation (and any
      re-accession) its footnote states, as hrkg:Withdrawal (and hrkg:Accession) dated as
      published; a bracketed row whose footnotes give no readable date is rejected with its line;
    - the declarations, reservations and objections after the table: one record per statement,
      its text as published (paragraphs on separate lines), classified by heading or wording;
    - withdrawals of reservations and declarations stated in footnotes;
    - declarations recognising a committee's competence and inquiry opt-outs, with the procedure
      codes of DATA.md; what cannot be read is listed in the report with its line.

    ``non_states=True`` writes the actions of Cook Islands (state:COK), Niue (state:NIU) and the
    European Union (group:EU, a regional integration organization in the reference data), which the state reference data does not hold (untc_page.NON_STATES);
    otherwise they are reported as unresolved names, as before."""

    fields = UNTC_FIELDS

    def __init__(self, reference, writer, *, instrument=None, non_states=False):
        self.ref, self.writer = reference, writer
        self.names = StateNames(reference.codes)
        self.instrument = self._instrument_code(instrument) if instrument else None
        self.non_states = non_states
        self.ids = Counter()

    def _instrument_code(self, value):
        code = self.ref.codes.code_of("instrument", self.ref.codes.resolve("instrument", value))
        if code not in self.ref.untc_records:
            raise UsageError(f"instrument {code} is not deposited with the UN Secretary-General; "
                             f"the UN Treaty Collection importer takes: {', '.join(sorted(self.ref.untc_records))}")
        return code

    def run(self, source, report, explicit, progress):
        page = None
        if looks_like_html(source.text):
            rows, found, page = self._html_rows(source)
        else:
            rows, found = self._csv_rows(source, report)
        instrument = report.instrument = self._choose_instrument(found, source)
        header_line, headers = self._header(rows, source)
        columns = self._columns(headers, explicit, source, header_line)
        report.columns = {name: headers[i] for name, i in columns.items()}
        legends = {name: action_legend(headers[i], SIGNATURE_LEGEND if name == "signature" else CONSENT_LEGEND)
                   for name, i in columns.items() if name != "participant"}
        record, _ = self.ref.untc_records[instrument]
        file_iri = write_imported_file(
            self.writer, source, title=f"UN Treaty Collection status of {instrument}: {source.path.name}",
            publisher="United Nations Treaty Collection", reflects=IRI(record))
        width = len(headers)
        self.page = page
        self.path = source.path
        self.seen = {}          # participant code -> Participant, from the table
        if page is not None:
            counts = page.counts()
            report.parties_stated = counts.get("parties")
            report.signatories_stated = counts.get("signatories")
        for row in rows:
            line, fields, end = row[:3]
            refs = row[3] if len(row) > 3 else None
            report.rows_read += 1
            progress.tick(report.rows_read)
            try:
                check_width(fields, width, line, end)
                self.row(line, [clean(f) for f in fields], columns, legends, instrument, report, file_iri, refs)
            except RowError as exc:
                report.reject(line, str(exc))
        if page is not None:
            self.page_records(page, instrument, report, file_iri)
            if report.parties_stated is not None and report.parties_stated != len(report.consents):
                report.warn(("parties",), page.status_line,
                            f"the page's status line says Parties: {report.parties_stated}, the table has "
                            f"{len(report.consents)} participants with a consent not in brackets")

    def _csv_rows(self, source, report):
        report.delimiter = sniff_delimiter(first_line(source.text))
        rows = list(csv_records(source.text, report.delimiter, source.path))
        preamble = " ".join(" ".join(f) for _, f, _ in rows[:10] if f and not normalize(f[0]).startswith("participant"))
        return rows, self._titles_in(preamble)

    def _html_rows(self, source):
        """Rows (line, cells, line, footnote numbers per cell) of the table whose header starts
        with 'Participant', the instruments the page names (by the mtdsg_no of its form's
        address, else by the titles in its headings) and the page's other parts (untc_page.StatusPage)."""
        parser = PageParser()
        try:
            parser.feed(source.text)
            parser.close()
        except (AssertionError, ValueError) as exc:  # html.parser's last resort on mangled markup
            raise LoadError(f"cannot parse this HTML page: {exc}", path=source.path) from None
        table = next((t for t in parser.result_with_refs()
                      if any(cells and normalize(cells[0]).startswith("participant") for _, cells, _ in t[:5])), None)
        if table is None:
            raise LoadError("no table with a 'Participant' column in this HTML page", path=source.path)
        found = set()
        for action in parser.form_actions:
            found |= self._mtdsg_in(action)
        if not found:
            for title in parser.titles:
                found |= self._titles_in(title)
        rows = [(line, cells, line, refs) for line, cells, refs in table if any(cells)]
        return rows, found, parser.page()

    def _mtdsg_in(self, text):
        numbers = set(re.findall(r"mtdsg_no=([A-Za-z0-9-]+)", html.unescape(text)))
        return {code for code, (_, mtdsg) in self.ref.untc_records.items() if mtdsg in numbers}

    def _titles_in(self, text):
        """Instruments whose full English title appears in ``text``; where one title contains
        another (the CAT title is part of OPCAT's) only the longer one counts."""
        key = normalize(text)
        found = {title: code for title, code in self.ref.titles.items() if title and title in key}
        return {code for title, code in found.items() if not any(title != other and title in other for other in found)}

    def _choose_instrument(self, found, source):
        if self.instrument:
            if len(found) == 1 and self.instrument not in found:
                raise UsageError(f"{source.path}: the page is the status of {next(iter(found))}, "
                                 f"not of --instrument {self.instrument}")
            return self.instrument
        if len(found) == 1:
            return next(iter(found))
        seen = f" (it names {', '.join(sorted(found))})" if found else ""
        raise UsageError(f"{source.path}: cannot tell which instrument this table is for{seen}; "
                         f"give --instrument CODE, one of {', '.join(sorted(self.ref.untc_records))}")

    @staticmethod
    def _header(rows, source):
        """(line, headers) of the first row starting with 'Participant'; removes it, and what
        precedes it (a page title), from ``rows``."""
        for index, row in enumerate(rows[:50]):
            line, cells = row[0], row[1]
            if cells and normalize(cells[0]).startswith("participant"):
                del rows[: index + 1]
                return line, [clean(c) for c in cells]
        raise LoadError("no header row starting with 'Participant' in the first 50 rows", path=source.path)

    @staticmethod
    def _columns(headers, explicit, source, line):
        keys = [normalize(h) for h in headers]
        columns = {}
        for i, key in enumerate(keys):
            if key.startswith("participant"):
                columns.setdefault("participant", i)
            elif key.startswith("signature"):
                columns.setdefault("signature", i)
            elif re.search(r"\b(ratification|accession|acceptance|approval|succession|confirmation|"
                           r"definitive signature)\b", key):
                columns.setdefault("consent", i)
        columns.update(map_columns(headers, {}, explicit, source.path, line))
        for name in ("participant", "consent"):
            if name not in columns:
                raise LoadError(f"cannot find the {name!r} column (e.g. 'Ratification, Accession(a), "
                                f"Succession(d)'); headers seen: {_quoted(headers)}; name it with --map {name}=HEADER",
                                path=source.path, line=line)
        return columns

    # ---- participants ------------------------------------------------------------------

    def participant(self, name):
        """(code, IRI) of a participant name, or None: a state of the reference data, else (with
        non_states) Cook Islands, Niue or the European Union."""
        codes = self.names.resolve(name)
        if codes is not None and len(codes) == 1:
            return codes[0], IRI(STATE + codes[0])
        if self.non_states:
            other = untc_page.non_state(name)
            if other:
                kind, code, _ = other
                return code, IRI((STATE if kind == "state" else GROUP) + code)
        return None

    def row(self, line, cells, columns, legends, instrument, report, file_iri, refs=None):
        name = cells[columns["participant"]]
        if not name:
            raise RowError("no participant name")
        actions, bracketed = [], False
        for column in ("signature", "consent"):
            text = cells[columns[column]] if column in columns else ""
            inner = re.fullmatch(r"\[\s*(.*?)\s*\]", text)
            if inner:
                text, bracketed = inner.group(1), True
            if text:
                date, marker = parse_untc_date(text)
                form = legends[column].get(marker)
                if form is None:
                    legend = ", ".join(f"{m or '(none)'} {f}" for m, f in legends[column].items())
                    raise RowError(f"{report.columns[column]!r}: unknown marker {marker!r} in {text!r} (legend: {legend})")
                actions.append((date, marker, form, column))
        events = self._denunciations(name, refs, actions, instrument) if bracketed else []
        consent = next((a for a in actions if a[3] == "consent"), None)
        if consent and not bracketed:
            report.consents.add(normalize(re.sub(r"[\d,*\s]+$", "", name)))
        who = self.participant(name)
        if who is None:
            report.unresolved.append((line, "participant", name, self.names.suggest(name)))
            return
        code, agent = who
        if untc_page.non_state(name) and not (self.names.resolve(name) or ()):
            report.non_states.append((line, name, str(agent)))
        signature = next((a[0] for a in actions if a[3] == "signature"), None)
        self.seen[code] = Participant(code, agent, name, line, signature, consent[0] if consent else None,
                                      tuple(r for cell in (refs or ()) for r in cell), bracketed)
        for date, marker, form, _ in actions:
            self.write_action(code, instrument, date, marker, form, line, report, file_iri, agent=agent)
        for event in events:
            self.write_footnote_event(code, agent, instrument, event, report, file_iri)

    def _denunciations(self, name, refs, actions, instrument):
        """The denunciations (and re-accessions) that explain a bracketed row, from its footnotes."""
        numbers = [r for cell in (refs or ()) for r in cell]
        if refs is None or self.page is None:
            raise RowError(f"{name}: a participation in brackets (denounced or withdrawn) is explained in the page's "
                           "footnotes, which a CSV table does not have; import the saved HTML page")
        notes = [self.page.footnotes[n] for n in numbers if n in self.page.footnotes]
        if not notes:
            raise RowError(f"{name}: a participation in brackets (denounced or withdrawn) with no footnote on the page "
                           f"(markers: {', '.join(numbers) or 'none'})")
        try:
            events = untc_page.denunciations(notes, name)
        except untc_page.FootnoteProblem as exc:
            raise RowError(str(exc)) from None
        denounced = [e for e in events if e.kind == "denunciation"]
        where = ", ".join(f"{n.number} (line {n.line})" for n in notes)
        if not denounced:
            raise RowError(f"{name}: a participation in brackets (denounced or withdrawn), but footnote {where} states "
                           f"no dated denunciation by {name}")
        if len(denounced) != len(events) - len(denounced) + 1:
            raise RowError(f"{name}: footnote {where} states {len(denounced)} denunciations and "
                           f"{len(events) - len(denounced)} re-accessions; cannot tell which participation each ends")
        consent = next((a[0] for a in actions if a[3] == "consent"), None)
        if consent and denounced[0].date < consent:
            raise RowError(f"{name}: the denunciation in footnote {where} ({denounced[0].date}) is dated before "
                           f"the consent in the table ({consent})")
        return events

    def write_footnote_event(self, code, agent, instrument, event, report, file_iri):
        if event.kind == "re-accession":
            self.write_action(code, instrument, event.date, "", "accession", event.line, report, file_iri, agent=agent,
                              comment=f"Re-accession stated in footnote {event.footnote} of the page: {event.text}",
                              quiet=True)
            report.footnote_events["re-accession"] += 1
            return
        if event.effective and event.notified:
            when = f"notified on {event.notified} with effect from {event.effective}"
        elif event.effective:
            when = f"with effect from {event.effective}"
        else:
            when = f"notified on {event.notified}; the footnote gives no date of effect, so hrkg:date is the date of notification"
        self.write_record(f"{code}-{instrument}-withdrawal", [
            (RDFV.type, H.Withdrawal),
            (H.state, agent),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.date, Lit(event.date, XSDV.date)),
            (H.dateBasis, "effective" if event.effective else "notification"),
            (H.text, event.text),
            (RDFSV.comment, Lit(f"Denunciation {when} (footnote {event.footnote} of the page; the participation is in "
                                "brackets in the table).", lang="en")),
        ], event.line, report, file_iri)
        report.footnote_events["denunciation"] += 1

    def write_action(self, state, instrument, date, marker, form, line, report, file_iri, agent=None, comment=None,
                     quiet=False):
        cls, kind = FORMS[form]
        iri = f"{ACTION}{state}-{instrument}-{kind}"
        self.ids[iri] += 1
        if self.ids[iri] > 1:
            if not quiet:
                report.warn(("repeat", iri), line,
                            f"a second {kind} of {instrument} by {state}: written as {kind}-{self.ids[iri]}")
            iri += f"-{self.ids[iri]}"
        kept_marker = None if form in PLAIN_FORMS else marker
        if comment is None and kept_marker:
            comment = f"{form.capitalize()} ({marker}) in the UN Treaty Collection's table."
        self.writer.resource(IRI(iri), [
            (RDFV.type, cls),
            (H.signingState if cls == H.Signature else H.consentingState, agent or IRI(STATE + state)),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.date, Lit(date, XSDV.date)),
            (H.depositaryMarker, kept_marker),
            (RDFSV.comment, Lit(comment, lang="en") if comment else None),
            (DCT.source, file_iri),
            (H.row, line),
        ])
        report.records += 1

    def write_record(self, name, pairs, line, report, file_iri):
        """A record act:<name> (numbered -2, -3 when the name repeats) citing the file and line."""
        iri = ACTION + name
        self.ids[iri] += 1
        if self.ids[iri] > 1:
            iri += f"-{self.ids[iri]}"
        self.writer.resource(IRI(iri), list(pairs) + [(DCT.source, file_iri), (H.row, line)])
        report.records += 1
        return IRI(iri)

    # ---- the page after the table ------------------------------------------------------

    def page_records(self, page, instrument, report, file_iri):
        """Statements, objections, competence declarations and opt-outs from the sections after
        the table; withdrawals of statements from the footnotes."""
        refs = {code: list(p.refs) for code, p in self.seen.items()}
        names = {code: p.name for code, p in self.seen.items()}
        for entry in page.entries:
            if entry.section == "dgNotifications" or not entry.participant:
                continue
            who = self.participant(entry.participant)
            if who is None:
                report.unresolved.append((entry.line, SECTION_LABELS[entry.section], entry.participant,
                                          self.names.suggest(entry.participant)))
                continue
            code, agent = who
            refs.setdefault(code, []).extend(r for r in entry.refs if r not in refs[code])
            names.setdefault(code, entry.participant)
            known = self.seen.get(code)
            if entry.section in ("dgDec", "dgObj"):
                for statement in untc_page.statements(entry):
                    self.write_statement(code, agent, instrument, entry, statement, known, report, file_iri)
            if entry.section in ("dgDec", "dgDecUnderArticle"):
                findings, problems = untc_page.procedures(instrument, entry)
                for finding in findings:
                    self.write_procedure(code, agent, instrument, finding, known, report, file_iri)
                for problem in problems:
                    report.problems.append((problem.line, problem.reason))
                    for procedure in problem.codes:
                        self.write_unclear_procedure(code, agent, instrument, procedure, problem, known, report, file_iri)
        opt_out = untc_page.PROCEDURES.get(instrument, {}).get("opt_out")
        for code in sorted(refs):
            agent = self.seen[code].agent if code in self.seen else self.participant(names[code])[1]
            for number in dict.fromkeys(refs[code]):
                note = page.footnotes.get(number)
                if note is None:
                    continue
                try:
                    found = untc_page.statement_withdrawals(note, names[code])
                except untc_page.FootnoteProblem as exc:
                    report.problems.append((note.line, str(exc)))
                    continue
                for event in found:
                    self.write_statement_withdrawal(code, agent, instrument, event, opt_out, report, file_iri)

    def write_statement(self, code, agent, instrument, entry, statement, known, report, file_iri):
        objection = entry.section == "dgObj"
        cls, why = ("Objection", "its section") if objection else untc_page.classify(statement)
        dated = statement_date(statement, known)
        label = {"Reservation": "reservation", "InterpretiveDeclaration": "declaration",
                 "ReservationOrDeclaration": "reservation-or-declaration", "Objection": "objection"}[cls]
        if dated is None:
            report.problems.append((statement.line, f"{entry.participant}: a {label.replace('-', ' ')} with no date on "
                                                    "the page and no action in the table to date it by; not written"))
            return
        date, basis, how = dated
        heading = f" {statement.heading!r}" if statement.heading else ""
        classified = {"heading": f"Classified by its heading{heading}.",
                      "wording": "Classified by its wording (it calls itself a reservation).",
                      "heading names both": f"Its heading{heading} names both a reservation and a declaration.",
                      "neither heading nor wording says": "Neither its heading nor its wording says whether it is a "
                                                          "reservation or a declaration.",
                      "its section": "In the page's section 'Objections'."}[why]
        self.write_record(f"{code}-{instrument}-{label}", [
            (RDFV.type, getattr(H, cls)),
            (H.state, agent),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.date, Lit(date, XSDV.date)),
            (H.dateBasis, basis),
            (H.text, statement.text),
            (RDFSV.comment, Lit(f"{classified} {how}", lang="en")),
        ], statement.line, report, file_iri)
        report.statements[cls] += 1

    def write_procedure(self, code, agent, instrument, finding, known, report, file_iri):
        dated = statement_date(finding.statement, known)
        if dated is None:
            report.problems.append((finding.statement.line, f"{finding.code} for {code}: no date on the page and no "
                                                            "consent in the table to date it by; not written"))
            return
        date, basis, how = dated
        opted_out = finding.status == "opted-out"
        what = (f"Opt-out of the inquiry procedure {finding.code}" if opted_out else
                f"Declaration recognising the committee's competence under {finding.code} ({finding.kind})")
        self.write_record(f"{code}-{finding.code}-{'opt-out' if opted_out else 'acceptance'}", [
            (RDFV.type, H.ProcedureOptOut if opted_out else H.ProcedureAcceptance),
            (H.state, agent),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.procedure, IRI(PROCEDURE + finding.code)),
            (H.date, Lit(date, XSDV.date)),
            (H.dateBasis, basis),
            (H.text, finding.statement.text),
            (RDFSV.comment, Lit(f"{what}. {how}", lang="en")),
        ], finding.statement.line, report, file_iri)
        report.procedures.append((finding.code, finding.status, code, date, basis))

    def write_unclear_procedure(self, code, agent, instrument, procedure, problem, known, report, file_iri):
        """A statement the rules could not read that may decide ``procedure`` for the state: kept
        as data (hrkg:UnclearProcedureStatement), so complaint-procedures answers 'unknown' for it
        rather than 'not-accepted' or 'accepted'."""
        dated = statement_date(problem.statement, known)
        pairs = [
            (RDFV.type, H.UnclearProcedureStatement),
            (H.state, agent),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.procedure, IRI(PROCEDURE + procedure)),
            (H.text, problem.statement.text),
            (RDFSV.comment, Lit(f"Not read by the importer's rules: {problem.why}; the status of "
                                f"{procedure} for this state is unknown until a person reads it.", lang="en")),
        ]
        if dated is not None:
            pairs[4:4] = [(H.date, Lit(dated[0], XSDV.date)), (H.dateBasis, dated[1])]
        self.write_record(f"{code}-{procedure}-unclear", pairs, problem.line, report, file_iri)
        report.procedures.append((procedure, "unknown (not read)", code, dated[0] if dated else "", ""))

    def write_statement_withdrawal(self, code, agent, instrument, event, opt_out, report, file_iri):
        partial = " (in part)" if event.partial else ""
        self.write_record(f"{code}-{instrument}-{event.statement}-withdrawal", [
            (RDFV.type, H.ReservationWithdrawal),
            (H.state, agent),
            (H.instrument, IRI(INSTRUMENT + instrument)),
            (H.date, Lit(event.date, XSDV.date)),
            (H.dateBasis, "notification"),
            (H.text, event.chunk),
            (RDFSV.comment, Lit(f"Withdrawal{partial} of a {event.statement}, notified on {event.date} "
                                f"(footnote {event.footnote} of the page).", lang="en")),
        ], event.line, report, file_iri)
        report.footnote_events[f"{event.statement} withdrawal"] += 1
        if opt_out and not event.partial and untc_page.articles_in(event.chunk) & set(opt_out[:2]):
            code_ = opt_out[2]
            self.write_record(f"{code}-{code_}-opt-out-withdrawal", [
                (RDFV.type, H.ProcedureOptOutWithdrawal),
                (H.state, agent),
                (H.instrument, IRI(INSTRUMENT + instrument)),
                (H.procedure, IRI(PROCEDURE + code_)),
                (H.date, Lit(event.date, XSDV.date)),
                (H.dateBasis, "notification"),
                (H.text, event.chunk),
                (RDFSV.comment, Lit(f"Withdrawal of the opt-out of {code_}: the withdrawn {event.statement} names "
                                    f"article {' or '.join(str(a) for a in sorted(set(opt_out[:2])))} "
                                    f"(footnote {event.footnote} of the page).", lang="en")),
            ], event.line, report, file_iri)
            report.procedures.append((code_, "opt-out withdrawn", code, event.date, "notification"))

    def finish(self):
        pass


@dataclass
class Participant:
    """A participant as the table gives it: the dates that date its statements."""
    code: str
    agent: str
    name: str
    line: int
    signature: str
    consent: str
    refs: tuple
    bracketed: bool


SECTION_LABELS = {"dgDec": "declarations and reservations", "dgDecUnderArticle": "competence declarations",
                  "dgObj": "objections"}


def statement_date(statement, known):
    """(date, basis, sentence for the comment) of a statement: the date printed above it; else
    the signature's when its heading says it was made on signature; else the consent's (the
    page: 'unless otherwise indicated, made upon ratification, accession or succession'); else
    the signature's. None when the page gives none of these."""
    if statement.date:
        return statement.date, "page", f"Dated on the page ({statement.date})."
    if known is None:
        return None
    if re.search(r"\bsignature\b", statement.heading, re.I) and known.signature:
        return known.signature, "signature", (f"Made upon signature (its heading says so): dated by the signature "
                                              f"of {known.signature}.")
    if known.consent:
        return known.consent, "consent", ("No date on the page: made upon ratification, accession or succession "
                                          f"(the page's rule), so dated by the consent of {known.consent}.")
    if known.signature:
        return known.signature, "signature", ("No date on the page and no consent in the table: made upon "
                                              f"signature, so dated by the signature of {known.signature}.")
    return None


def action_legend(header, default):
    """Marker -> form of action, from a UNTC header such as 'Ratification, Acceptance(A),
    Approval(AA), Accession(a), Succession(d)', on top of ``default``."""
    legend = dict(default)
    for words, marker in re.findall(r"([A-Za-z][A-Za-z ]*?)\s*\(\s*([A-Za-z]{1,2})\s*\)", header):
        form = " ".join(words.lower().split())
        if form in FORMS:
            legend[marker] = form
    return legend


IMPORTERS = {"upr": UPRImporter, "untc": UNTCImporter}


def import_files(kind, paths, output, *, field_map=None, encoding=None, instrument=None, publisher=None,
                 strict=False, partial=False, progress=None, reference=None, non_states=False):
    """Import ``paths`` (all of one ``kind``, 'upr' or 'untc') into the RDF file ``output``.

    ``output``'s extension picks the format: ``.nt`` (N-Triples) or ``.ttl`` (Turtle).
    ``field_map``: ['FIELD=HEADER', ...] for columns the importer does not recognise.
    ``encoding``: decode with this instead of detecting UTF-8 / cp1252 / Latin-1.
    ``instrument``: the UNTC instrument code (detected from an HTML page's title when left out).
    ``publisher``: who published a UPR export (dct:publisher of the imported file).
    ``non_states``: untc: write the actions of Cook Islands (state:COK), Niue (state:NIU) and the
    European Union (<https://w3id.org/hrkg/id/group/EU>) instead of reporting them unresolved.
    ``partial``: write the good rows even when some are rejected. ``strict``: unresolved names
    are fatal. ``progress``: a text stream for progress lines (None: silent).

    Returns an ImportReport. Raises UsageError (bad option), LoadError (unreadable file, missing
    column) or ImportRowError (rows rejected without ``partial``, or unresolved names with
    ``strict``; its ``report`` says which); in those cases ``output`` is left untouched.
    """
    if kind not in IMPORTERS:
        raise UsageError(f"unknown import kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not paths:
        raise UsageError("give at least one file to import")
    output = Path(output)
    fmt = OUTPUT_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise UsageError(f"output {output}: use a .nt (N-Triples) or .ttl (Turtle) file name")
    if kind == "upr" and instrument:
        raise UsageError("--instrument is for 'hrkg import untc'")
    if kind == "upr" and non_states:
        raise UsageError("non_states is for 'hrkg import untc'")
    if kind == "untc" and publisher:
        raise UsageError("--publisher is for 'hrkg import upr' (UN Treaty Collection files are published by the UN)")
    importer_cls = IMPORTERS[kind]
    explicit = parse_field_map(field_map, importer_cls.fields)
    reference = reference or Reference.bundled()
    report = ImportReport(kind, output)
    started = time.monotonic()
    if not output.parent.is_dir():
        raise UsageError(f"output {output}: folder {output.parent} does not exist")
    handle, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
            writer = RDFWriter(stream, fmt)
            options = {"instrument": instrument, "non_states": non_states} if kind == "untc" else {"publisher": publisher}
            importer = importer_cls(reference, writer, **options)
            for path in paths:
                source = read_source(path, encoding)
                file_report = FileReport(source.path.name, source.sha256, source.size, source.encoding,
                                         source.line_endings)
                report.files.append(file_report)
                importer.run(source, file_report, explicit, Progress(progress, source.path.name))
            importer.finish()
        report.triples = writer.triples
        report.seconds = time.monotonic() - started
        problems = fatal_problems(report, partial=partial, strict=strict)
        if problems:
            error = ImportRowError(f"nothing written to {output}: " + "; ".join(problems))
            error.report = report
            raise error
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp creates it private; give it a normal file's mode
        os.replace(tmp, output)
        report.written = True
        return report
    finally:
        if tmp.exists():
            tmp.unlink()


def fatal_problems(report, *, partial, strict):
    """Why nothing may be written: rejected rows (unless partial), unresolved names (if strict)."""
    problems = []
    rejected, unresolved = len(report.rejected), len(report.unresolved)
    if rejected and not partial:
        problems.append(f"{rejected:,} row{'s' if rejected > 1 else ''} rejected (use --partial to write the good rows)")
    if unresolved and strict:
        problems.append(f"{unresolved:,} state name{'s' if unresolved > 1 else ''} did not resolve (--strict)")
    return problems


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
