"""The UN Treaty Collection "Status of Treaties" page (treaties.un.org, chapter IV), as a browser
saves it: what it says, read without guessing.

``PageParser`` reads the page in one pass: every table as rows of cell text with the footnote
numbers of each cell (text in ``<sup>``), the page's headings and form address, the "Status" line
(``Signatories : 35. Parties : 116.``), the footnotes (``dgNotesAll``) and the entries of the
sections after the participant grid: declarations and reservations (``dgDec``), declarations
under an article recognising a committee's competence (``dgDecUnderArticle``), objections
(``dgObj``) and notifications (``dgNotifications``). Each entry keeps the participant's name, its
footnote numbers and the text as blocks: headings (``Reservation:``), dates printed to the right
(``22 November 2006``: the statement below was made on that date, not on ratification) and
paragraphs, each with the line it starts on.

The rules below turn that text into facts only where the wording is unambiguous:

- ``denunciations``: a bracketed participation (``[30 Sep 1992 a]``) is explained in a footnote:
  "On 8 November 2022, the Government of Belarus notified the Secretary-General of its denunciation
  of the Optional Protocol with effect from 8 February 2023". The dates are read as published.
- ``statement_withdrawals``: "On <date>, the Government of X notified the Secretary-General of its
  decision to withdraw the reservation ...".
- ``statements``: an entry split into statements at each heading and dated block, each classified
  reservation / declaration by its heading, else by its wording, else left generic.
- ``procedures``: declarations that recognise a committee's competence (ICERD art. 14, CAT art.
  21/22, ICCPR art. 41, CPED art. 31/32, ICMW art. 76/77, OP-ICESCR art. 10/11, OP-CRC-IC art. 12)
  and opt-outs of an inquiry procedure (CAT art. 28, OP-CEDAW art. 10, OP-CRPD art. 8, OP-CRC-IC
  art. 13(7)), with the codes of docs DATA.md.

Nothing here writes RDF (hrkg.importers.untc does) or knows the reference data: callers resolve names.
"""
import datetime as dt
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# =====================================================================================
# Participants that are not in the state reference data (DATA.md, "Participants that are not
# UN member states"): name as the UNTC spells it (normalized) -> (IRI kind, code, label).
# =====================================================================================

NON_STATES = {
    "cook islands": ("state", "COK", "Cook Islands"),
    "niue": ("state", "NIU", "Niue"),
    "european union": ("group", "EU", "European Union"),   # group:EU of data/reference/bodies.ttl
}


def non_state(name):
    """(kind, code, label) when ``name`` (footnote markers allowed) is one of NON_STATES."""
    key = " ".join(re.sub(r"[\d,*\s]+$", "", name.replace("\xa0", " ")).lower().split())
    key = re.sub(r"^the\s+", "", key)
    return NON_STATES.get(key)


# =====================================================================================
# Dates as the page writes them in running text: '23 October 1997', '14  February 2006'
# =====================================================================================

MONTHS = {name: i for i, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), 1) for name in names}
DATE_WORDS = r"(\d{1,2})\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?,?\s+(\d{4})"
_LONG_DATE = re.compile(DATE_WORDS, re.I)


def long_date(text):
    """ISO date of the first 'D Month YYYY' in ``text``, or None (also for '31 February')."""
    match = _LONG_DATE.search(text)
    return _iso(match) if match else None


def _iso(match):
    return _iso_of(*match.groups()[:3])


def _iso_of(day, month, year):
    try:
        return dt.date(int(year), MONTHS[month.lower()], int(day)).isoformat()
    except ValueError:
        return None


def date_only(text):
    """ISO date when ``text`` is nothing but a date ('22 November 2006'), else None."""
    text = " ".join(text.replace("\xa0", " ").split()).strip(" .:")
    match = _LONG_DATE.fullmatch(text)
    return _iso(match) if match else None


# =====================================================================================
# The page
# =====================================================================================

@dataclass
class Block:
    kind: str      # 'heading' | 'date' | 'para'
    text: str
    line: int


@dataclass
class Entry:
    """One participant's entry in a section after the grid."""
    section: str   # dgDec | dgDecUnderArticle | dgObj | dgNotifications
    index: int
    participant: str = ""
    line: int = 0
    refs: list = field(default_factory=list)
    blocks: list = field(default_factory=list)


@dataclass
class Footnote:
    number: str
    text: str      # paragraphs joined by '\n'
    line: int


SECTIONS = ("dgDec", "dgDecUnderArticle", "dgObj", "dgNotifications", "dgNotesAll")
_FIELD_ID = re.compile(r"_(dgDecUnderArticle|dgDec|dgObj|dgNotifications|dgNotesAll)_ctl(\d+)_div(Participant|Text|NotesAll)$")
_TITLE_ID = re.compile(r"_(divMainDecArt|divDecArt|divMainDecTilte|divMainObjTitle)$")


class _Capture:
    """Text of one element, as blocks split at <br> and <p>."""

    def __init__(self, key, line):
        self.key, self.line = key, line
        self.blocks, self.refs = [], []
        self._buf, self._buf_line = [], None
        self.mode = "para"
        self.anchor = None

    def data(self, text, line):
        if self.mode == "skip":
            return
        if self._buf_line is None and text.strip(" \t\n\xa0"):
            self._buf_line = line
        self._buf.append(text)

    def flush(self):
        text = " ".join("".join(self._buf).replace("\xa0", " ").split())
        if text:
            self.blocks.append(Block(self.mode if self.mode in ("heading", "date") else "para", text,
                                     self._buf_line or self.line))
        self._buf, self._buf_line = [], None


class PageParser(HTMLParser):
    """Every HTML table as rows of (line, [cell text]) with the footnote numbers of each cell;
    text inside <sup> (footnote markers), <script> and <style> is left out of the text. Also
    keeps the text of <title>, <h1>-<h6> and elements whose id or class mentions 'title', the
    action of each <form>, and (UN Treaty Collection pages) the status line, the footnotes and
    the entries of the sections after the participant grid."""

    SKIP = {"sup", "script", "style"}
    HEADINGS = {"title", "h1", "h2", "h3", "h4", "h5", "h6"}
    VOID = {"br", "img", "hr", "input", "meta", "link", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = []      # each: list of (line, cells); a cell is [text parts, refs]
        self._open = []       # stack of open tables: [rows, current row or None, current cell or None]
        self._skip = 0
        self._sup = 0
        self._stack = []      # open elements: (tag, is_title, extra)
        self.titles = []
        self._title_depth = 0
        self._title_text = []
        self.form_actions = []
        self._captures = []   # open captures (innermost last)
        self.fields = []      # finished captures: (key, _Capture)

    # ---- elements ----------------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        capture = self._captures[-1] if self._captures else None
        if tag in self.VOID:
            if tag == "br":
                self._text(" ")
                if capture:
                    capture.flush()
            return
        if tag == "form" and attrs.get("action"):
            self.form_actions.append(attrs["action"])
        ident = attrs.get("id") or ""
        is_title = tag in self.HEADINGS or "title" in ident.lower() or "title" in (attrs.get("class") or "").lower()
        extra = None
        if tag == "div" and ident:
            match = _FIELD_ID.search(ident)
            key = None
            if match:
                key = (match.group(1), int(match.group(2)), match.group(3))
            elif ident.endswith("rptStatus_ctl00_tcText"):
                key = ("status",)
            else:
                title = _TITLE_ID.search(ident)
                if title:
                    key = ("title", title.group(1))
            if key:
                extra = ("capture", _Capture(key, self.getpos()[0]))
                self._captures.append(extra[1])
        elif capture is not None and tag == "p":
            if self._open_paragraph():      # <p> closes an open <p>, and the <i> left open in it
                self.handle_endtag("p")
            capture.flush()
            cls = (attrs.get("class") or "").lower()
            align = (attrs.get("align") or "").lower()
            extra = ("p", capture.mode)
            capture.mode = "skip" if "invisible" in cls else "date" if align == "right" else \
                "heading" if align == "left" else "para"
        elif capture is not None and tag == "a" and attrs.get("name") is not None and capture.anchor is None:
            capture.anchor = attrs["name"].strip()
            extra = ("anchor", capture.mode)
            capture.mode = "skip"
        self._stack.append((tag, is_title, extra))
        if is_title:
            self._title_depth += 1
        if tag in self.SKIP:
            self._skip += 1
            if tag == "sup":
                self._sup += 1
        elif tag == "table":
            self._open.append([[], None, None])
            self.tables.append(self._open[-1][0])
        elif tag == "tr" and self._open:
            self._open[-1][1] = (self.getpos()[0], [])
            self._open[-1][0].append(self._open[-1][1])
        elif tag in ("td", "th") and self._open:
            table = self._open[-1]
            if table[1] is None:  # a cell outside any <tr>
                table[1] = (self.getpos()[0], [])
                table[0].append(table[1])
            table[2] = [[], []]
            table[1][1].append(table[2])

    def _open_paragraph(self):
        """Whether a <p> is open inside the innermost block (div, td): as in a browser, a new <p>
        closes it together with inline elements left open in it ('<p><i>Upon signature:<br><p>')."""
        for tag, _, _ in reversed(self._stack):
            if tag == "p":
                return True
            if tag in ("div", "td", "th", "tr", "table", "li", "body"):
                return False
        return False

    def handle_endtag(self, tag):
        if tag in self.VOID:
            if tag == "br" and self._captures:    # '</br>' as some pages write it
                self._captures[-1].flush()
            return
        # close up to the matching open element (browsers forgive missing end tags; so do we)
        if not any(t == tag for t, _, _ in self._stack):
            return
        while self._stack:
            open_tag, is_title, extra = self._stack.pop()
            self._close(open_tag, is_title, extra)
            if open_tag == tag:
                break

    def _close(self, tag, is_title, extra):
        if is_title:
            self._title_depth -= 1
            if self._title_depth == 0:
                self.titles.append(" ".join("".join(self._title_text).split()))
                self._title_text = []
        if extra:
            if extra[0] == "capture":
                capture = extra[1]
                capture.flush()
                if capture in self._captures:
                    self._captures.remove(capture)
                self.fields.append((capture.key, capture))
            elif self._captures:
                capture = self._captures[-1]
                if extra[0] == "p":
                    capture.flush()
                capture.mode = extra[1]
        if tag in self.SKIP:
            self._skip -= 1
            if tag == "sup":
                self._sup -= 1
        elif tag == "table" and self._open:
            self._open.pop()
        elif tag in ("td", "th") and self._open:
            self._open[-1][2] = None
        elif tag == "tr" and self._open:
            self._open[-1][1] = None
            self._open[-1][2] = None

    # ---- text --------------------------------------------------------------------------

    def handle_data(self, data):
        if not self._skip:
            self._text(data)
        elif self._sup and self._skip == self._sup:
            refs = [r for r in re.split(r"[\s,]+", data) if r]
            if self._open and self._open[-1][2] is not None:
                self._open[-1][2][1].extend(refs)
            if self._captures:
                self._captures[-1].refs.extend(refs)

    def _text(self, data):
        if self._title_depth:
            self._title_text.append(data)
        if self._open and self._open[-1][2] is not None:
            self._open[-1][2][0].append(data)
        if self._captures:
            self._captures[-1].data(data, self.getpos()[0])

    # ---- results -----------------------------------------------------------------------

    def result(self):
        """Tables as lists of (line, [cell text with whitespace collapsed])."""
        return [[(line, [" ".join("".join(cell[0]).split()) for cell in cells]) for line, cells in table]
                for table in self.tables]

    def result_with_refs(self):
        """Tables as lists of (line, [cell text], [footnote numbers of each cell])."""
        return [[(line, [" ".join("".join(cell[0]).split()) for cell in cells], [tuple(cell[1]) for cell in cells])
                 for line, cells in table] for table in self.tables]

    def page(self):
        """The UN Treaty Collection parts of the page: a StatusPage."""
        page = StatusPage()
        entries = {}
        for key, capture in self.fields:
            if key[0] == "status":
                page.status = " ".join(b.text for b in capture.blocks)
                page.status_line = capture.line
            elif key[0] == "title":
                page.titles[key[1]] = " ".join(b.text for b in capture.blocks)
            elif key[0] == "dgNotesAll":
                number = capture.anchor or (capture.blocks[0].text.split()[0] if capture.blocks else "")
                page.footnotes[number] = Footnote(number, "\n".join(b.text for b in capture.blocks), capture.line)
            else:
                section, index, part = key
                entry = entries.get((section, index))
                if entry is None:
                    entry = entries[(section, index)] = Entry(section, index)
                    page.entries.append(entry)
                if part == "Participant":
                    entry.participant = " ".join(b.text for b in capture.blocks)
                    entry.line = capture.line
                    entry.refs.extend(capture.refs)
                else:
                    entry.blocks.extend(capture.blocks)
                    entry.refs.extend(r for r in capture.refs if r not in entry.refs)
                    entry.line = entry.line or capture.line
        return page


@dataclass
class StatusPage:
    status: str = ""
    status_line: int = 0
    titles: dict = field(default_factory=dict)
    footnotes: dict = field(default_factory=dict)    # number -> Footnote
    entries: list = field(default_factory=list)      # Entry, in page order

    def counts(self):
        """{'signatories': n, 'parties': n} from the status line ('Signatories : 35. Parties : 116.')."""
        return {name.lower(): int(n) for name, n in re.findall(r"(Signatories|Parties)\s*:\s*(\d+)", self.status)}


# =====================================================================================
# Footnotes: denunciations, re-accessions, withdrawals of reservations and declarations
# =====================================================================================

_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=(?:On|The|In|By|Subsequently|Upon)\b)")
# 'On 5 March 2001, the Government of ...'; also 'In a communication received on 7 September 1990,
# the Government of ...' (Chile and Hungary withdrawing their CAT art. 20 opt-outs)
_ON_DATE = re.compile(r"^\s*(?:In a (?:communication|notification) received\s+)?On\s+" + DATE_WORDS + r",?\s+(.*)$",
                      re.I | re.S)
_EFFECT = re.compile(r"(?:with effect (?:from|as of|on)|effective (?:from|as of|on)?|taking effect on|took effect on)\s+"
                     + DATE_WORDS, re.I)
_NOTIFIED = re.compile(r"\b(?:notified|informed|notification)\b", re.I)
_DENOUNCE = re.compile(r"\b(?:denounc\w*|denunciation|withdraw(?:s|n|al)?\s+from\s+the\s+(?:Convention|Covenant|"
                       r"Protocol|Optional Protocol))\b", re.I)
_GOVERNMENT = re.compile(r"^(?:the\s+)?Government\s+of\s+(?:the\s+)?(.+?)\s+(?:notified|informed|re-?acceded)\b(.*)$", re.I | re.S)
_WITHDRAW = re.compile(r"\bwithdr[ae]w\w*\b|\bwithdrawal\b", re.I)
_REACCEDE = re.compile(r"\bre-?acce(?:ded|ssion)\b", re.I)


def sentences(text):
    """Footnote text split into sentences at '. On', '. The', ... (never inside 'C.N.400.2022')."""
    out = []
    for para in text.split("\n"):
        out.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
    return out


def names_match(participant, text):
    """Does ``text`` (a sentence) name ``participant`` (as the page spells it, footnote markers
    and a parenthesised part allowed)?"""
    key = " ".join(re.sub(r"\([^)]*\)|[\d,*]+$", " ", participant).split()).lower()
    if not key:
        return False
    text = " ".join(text.split()).lower()
    # 'Viet Nam' is also spelt 'Vietnam' (crc_op_sc.html, footnote 12): compare without spaces too
    return key in text or re.search(r"\b" + re.escape(key.replace(" ", "")) + r"\b", text) is not None


@dataclass
class FootnoteEvent:
    kind: str           # 'denunciation' | 're-accession' | 'withdrawal-of-statement'
    date: str           # the date the event takes effect as published (effective, else notified)
    notified: str       # the date of notification ('On <date>, ...') or ''
    effective: str      # 'with effect from <date>' or ''
    text: str           # the sentence as published
    footnote: str
    line: int
    statement: str = ""  # withdrawal-of-statement: 'reservation' | 'declaration'
    partial: bool = False
    chunk: str = ""     # withdrawal-of-statement: the sentence and what follows up to the next 'On <date>'


class FootnoteProblem(Exception):
    """A footnote says something the rules cannot read (the message says what)."""


def denunciations(footnotes, participant):
    """The denunciations and re-accessions of ``participant`` that ``footnotes`` (Footnote
    objects) state, sorted by date. FootnoteProblem if a sentence that speaks of a denunciation
    by the participant has no date that can be read."""
    events = []
    for note in footnotes:
        for sentence in sentences(note.text):
            denounce, reaccede = _DENOUNCE.search(sentence), _REACCEDE.search(sentence)
            if not (denounce or reaccede) or not names_match(participant, sentence):
                continue
            on = _ON_DATE.match(sentence)
            notified = _iso_of(*on.groups()[:3]) if on else None
            subject = _GOVERNMENT.match(on.group(4)) if on else None
            own = subject is not None and names_match(participant, subject.group(1))
            effect = _EFFECT.search(sentence)
            effective = _iso(effect) if effect else None
            if denounce and _NOTIFIED.search(sentence) and own:
                if not (notified or effective):
                    raise FootnoteProblem(f"footnote {note.number} (line {note.line}) speaks of a denunciation by "
                                          f"{participant} but gives no date that can be read: {sentence[:160]!r}")
                events.append(FootnoteEvent("denunciation", effective or notified, notified or "", effective or "",
                                            sentence, note.number, note.line))
            elif reaccede and not denounce and own and re.search(r"\bre-?acceded\b", subject.group(0)):
                events.append(FootnoteEvent("re-accession", notified, notified, "", sentence, note.number, note.line))
    unique = {(e.kind, e.date, e.notified, e.effective): e for e in events}
    return sorted(unique.values(), key=lambda e: (e.date, e.kind != "denunciation"))


def statement_withdrawals(footnote, participant):
    """Withdrawals of reservations or declarations by ``participant`` stated in ``footnote``:
    'On <date>, the Government of <participant> notified the Secretary-General of its decision to
    withdraw the reservation ...'. Objections, and sentences that name another government, are
    left alone."""
    found = []
    parts = sentences(footnote.text)
    for i, sentence in enumerate(parts):
        on = _ON_DATE.match(sentence)
        if not on:
            continue
        gov = _GOVERNMENT.match(on.group(4))
        if not gov or not (names_match(participant, gov.group(1)) or names_match(gov.group(1), participant)):
            continue
        chunk = [sentence]
        for later in parts[i + 1:]:
            if _ON_DATE.match(later):
                break
            chunk.append(later)
        head = re.split(r":", gov.group(2), maxsplit=1)[0]
        if not _WITHDRAW.search(head):
            if not re.search(r"\bthe following\b", head, re.I) or len(chunk) < 2:
                continue
            head = re.split(r":", chunk[1], maxsplit=1)[0]     # '... notified the following: ... withdraws the reservation'
            if not _WITHDRAW.search(head):
                continue
        if re.search(r"\bobjection", head, re.I) or _DENOUNCE.search(head):
            continue
        kind = "reservation" if re.search(r"\breservations?\b", head, re.I) else \
            "declaration" if re.search(r"\bdeclarations?\b", head, re.I) else ""
        if not kind:
            continue
        date = _iso_of(*on.groups()[:3])
        if date is None:
            raise FootnoteProblem(f"footnote {footnote.number} (line {footnote.line}): the date of a withdrawal by "
                                  f"{participant} is not a calendar date: {sentence[:120]!r}")
        found.append(FootnoteEvent("withdrawal-of-statement", date, date, "", sentence, footnote.number, footnote.line,
                                   statement=kind,
                                   partial=bool(re.search(r"\bpartial|\bto the extent\b|\binsofar\b", " ".join(chunk[:2]), re.I)),
                                   chunk=" ".join(chunk)))
    return found


# =====================================================================================
# Entries: statements (reservations, declarations, objections) and committee competence
# =====================================================================================

@dataclass
class Statement:
    heading: str
    date: str           # printed on the page above the statement ('' when made upon consent)
    paragraphs: list
    line: int

    @property
    def text(self):
        return "\n".join(([self.heading] if self.heading else []) + self.paragraphs)


def statements(entry):
    """An entry split into statements: a new statement at each date printed on the page and at
    each heading that follows text; a date stays in force until the next one."""
    out, current, date = [], None, ""
    for block in entry.blocks:
        if block.kind == "date" and date_only(block.text):
            date = date_only(block.text)
            current = None
            continue
        if block.kind == "heading":
            if current is not None and not current.paragraphs:
                current.heading = f"{current.heading} {block.text}".strip()
            else:
                current = Statement(block.text, date, [], block.line)
                out.append(current)
            continue
        if current is None:
            current = Statement("", date, [], block.line)
            out.append(current)
        current.paragraphs.append(block.text)
    return [s for s in out if s.paragraphs or s.heading]


RESERVATION, DECLARATION, GENERIC = "Reservation", "InterpretiveDeclaration", "ReservationOrDeclaration"


def classify(statement):
    """(class name, why): by the heading when it says reservation or declaration (not both),
    else by the wording when it calls itself a reservation and nothing else, else generic."""
    heading = statement.heading.lower()
    res, dec = "reserv" in heading, bool(re.search(r"declar|understand|interpret", heading))
    if res != dec:
        return (RESERVATION if res else DECLARATION), "heading"
    if res and dec:
        return GENERIC, "heading names both"
    text = " ".join(statement.paragraphs).lower()
    wres = bool(re.search(r"\breservations?\b", text))
    wdec = bool(re.search(r"\bdeclar\w*|\binterpret\w*|\bunderstand\w*", text))
    if wres and not wdec:
        return RESERVATION, "wording"
    return GENERIC, "neither heading nor wording says"


# Competence declarations and opt-outs per instrument: the articles of a 'dgDecUnderArticle'
# section, the articles read in the declarations section, and the inquiry opt-out
# (inquiry article, opt-out article, code).
PROCEDURES = {
    "ICERD": {"section": {14: ("ICERD-14", "individual")}},
    "CAT": {"section": {21: ("CAT-21", "inter-state"), 22: ("CAT-22", "individual")},
            "opt_out": (20, 28, "CAT-20")},
    "CPED": {"section": {31: ("CPED-31", "individual"), 32: ("CPED-32", "inter-state")}},
    "ICCPR": {"section": {41: ("ICCPR-41", "inter-state")}},
    "OP-ICESCR": {"section": {10: ("OP-ICESCR-10", "inter-state"), 11: ("OP-ICESCR-11", "inquiry")}},
    "ICMW": {"declarations": {76: ("ICMW-76", "inter-state"), 77: ("ICMW-77", "individual")}},
    "OP-CRC-IC": {"declarations": {12: ("OP-CRC-IC-12", "inter-state")}, "opt_out": (13, 13, "OP-CRC-IC-13")},
    "OP-CEDAW": {"opt_out": (8, 10, "OP-CEDAW-8")},
    "OP-CRPD": {"opt_out": (6, 8, "OP-CRPD-6")},
}
KIND_WORDS = {
    "individual": re.compile(r"\bindividuals?\b|\bpersons?\b|\bvictims?\b|\bindividual communications\b", re.I),
    "inter-state": re.compile(r"\bState Party claim|\banother State\b|\bfrom a State Party\b|\binter-?\s?State\b|"
                              r"\bState Party which claims\b|\bby which a (?:State )?Party claim", re.I),
    "inquiry": re.compile(r"\binquir", re.I),
}
_ARTICLES = re.compile(r"\barticles?\s+\[?((?:\d+|[IVXL]+\b)(?:\s*(?:\(\s*\d+\s*\)|,?\s*paragraph\s+\d+))?"
                       r"(?:\s*(?:,|and|or|&)\s*(?:\d+|[IVXL]+\b)(?:\s*\(\s*\d+\s*\))?)*)", re.I)
# refusals: 'does not recognize', 'without recognizing' (Tajikistan, OP-CEDAW), and a recognition
# put off to 'a later time' (Türkiye, ICMW arts. 76 and 77), which accepts nothing yet
_NEGATIVE = re.compile(r"\b(?:not|no longer|neither)\b[^.;]{0,60}?\b(?:recogni[sz]\w*|accept\w*|undertake\w*|"
                       r"bound)\b|\bwithout\s+(?:recogni[sz]|accept)\w*|"
                       r"\bwill\s+(?:recogni[sz]|accept)\w*\b[^.;]{0,200}?\b(?:at a later (?:time|date|stage)|"
                       r"in the future|later)\b", re.I)
_POSITIVE = re.compile(r"\b(?:recogni[sz]\w*|accept\w*)\b[^.;]{0,200}?\bcompetence\b|\bcompetence\b[^.;]{0,120}?"
                       r"\b(?:recogni[sz]\w*|accept\w*)\b|\brecogni[sz]\w*\b[^.;]{0,80}\bas (?:fully )?binding\b|"
                       r"\b(?:declares?|declaration)\s+(?:under|pursuant to|in accordance with)\s+article", re.I)
# ICERD art. 14(2): a state may name a national body to receive petitions first; naming it is
# not the art. 14(1) recognition of the Committee's competence (Argentina, Republic of Moldova 2014)
_NATIONAL_BODY = re.compile(r"\bparagraphs?\s+2\b[^.;]*\bdesignat\w*|\bdesignat\w*\b[^.;]*\b(?:body|institute)\b", re.I)
ROMAN = {"XIV": 14, "XXI": 21, "XXII": 22, "XX": 20, "XXVIII": 28, "XLI": 41}


def articles_in(text):
    """Article numbers a text names ('article 22, paragraph 1', 'articles 21 and 22', 'article XXII')."""
    found = set()
    for match in _ARTICLES.finditer(text):
        chunk = re.sub(r"\(\s*\d+\s*\)|paragraph\s+\d+", " ", match.group(1))
        for token in re.findall(r"\d+|[IVXL]+\b", chunk):
            number = int(token) if token.isdigit() else ROMAN.get(token)
            if number:
                found.add(number)
    return found


_SPLIT = re.compile(r"(?<=[.;])\s+(?=[\"“'\[(]?[A-Z0-9])|\s+(?=\b(?:[a-z]|\d{1,2})\)\s)")


@dataclass
class ProcedureFinding:
    code: str
    kind: str           # individual | inquiry | inter-state
    status: str         # accepted | opted-out
    statement: Statement
    date: str           # printed on the page ('' when made upon consent)


@dataclass
class ProcedureProblem:
    line: int
    reason: str
    codes: tuple = ()       # the procedures the statement may decide (their status is unknown)
    statement: Statement = None
    why: str = "it neither clearly recognises nor refuses the committee's competence"


def _codes(accept_rules, opt_out, articles):
    """Procedure codes for article numbers: the accepting rules of the section, and the opt-out
    (``opt_out``: inquiry article, opt-out article, code; None in a competence section)."""
    codes = [accept_rules[a][0] for a in sorted(articles) if accept_rules and a in accept_rules]
    if opt_out and articles & set(opt_out[:2]):
        codes.append(opt_out[2])
    return tuple(codes)


def procedures(instrument, entry):
    """(findings, problems) for one entry of a competence section or of the declarations
    section. The rules, each with a test in tests/test_import_untc_pages.py:

    - a sentence that recognises a committee's competence accepts the procedures of the articles
      it names (or its heading names), else the one its wording tells (individuals / a State
      Party / inquiries); where the recognising sentence names no such article but the rest of
      the statement does ('... established under article 17: (a) ... article 21; (b) ... article
      22'), and nothing in it refuses, the statement's articles;
    - a sentence that refuses ('does not recognize', 'without recognizing', 'will recognize ...
      at a later time') is read: for an opt-out procedure (CAT art. 20/28, OP-CEDAW art. 8/10...)
      it is the opt-out; for an opt-in procedure it accepts nothing;
    - a statement naming only the inquiry article of an opt-out procedure without refusing it
      (Indonesia on CAT art. 20, Chile on OP-CEDAW arts. 8 and 9) is not an opt-out; one naming
      the opt-out article without clearly refusing (Cuba, CAT art. 28) is unclear;
    - the designation of a national body under ICERD art. 14(2) is not a recognition;
    - anything else in a competence section, or naming a relevant article, is a problem with its
      line and the procedures it may decide, never guessed: their status is unknown.
    """
    rules = PROCEDURES.get(instrument)
    if not rules:
        return [], []
    findings, problems, designations = [], [], []
    under_article = entry.section == "dgDecUnderArticle"
    accept_rules = rules.get("section") if under_article else rules.get("declarations")
    opt_out = rules.get("opt_out") if not under_article else None
    for statement in statements(entry):
        found, refused = {}, False
        text = " ".join(statement.paragraphs)
        heading_articles = articles_in(statement.heading)
        statement_articles = articles_in(text) | heading_articles
        recognising = False
        for sentence in (s for p in statement.paragraphs for s in _SPLIT.split(p)):
            named = articles_in(sentence) | heading_articles
            negative, positive = _NEGATIVE.search(sentence), _POSITIVE.search(sentence)
            if opt_out and named & set(opt_out[:2]) and negative:
                found[opt_out[2]] = ProcedureFinding(opt_out[2], "inquiry", "opted-out", statement, statement.date)
                continue
            if negative:
                refused = refused or bool(named & set(accept_rules or ()) or positive)
                continue
            if not accept_rules or not positive:
                continue
            recognising = True
            articles = named & set(accept_rules)
            if not articles and len(accept_rules) == 1 and under_article:
                articles = set(accept_rules)
            if not articles:
                articles = {a for a, (_, kind) in accept_rules.items() if KIND_WORDS[kind].search(sentence)}
                if len(articles) > 1:
                    articles = set()
            for article in articles:
                code, kind = accept_rules[article]
                found.setdefault(code, ProcedureFinding(code, kind, "accepted", statement, statement.date))
        if recognising and not refused and not any(f.status == "accepted" for f in found.values()):
            for article in sorted(statement_articles & set(accept_rules)):
                code, kind = accept_rules[article]
                found.setdefault(code, ProcedureFinding(code, kind, "accepted", statement, statement.date))
        findings.extend(found.values())
        if found or refused:
            continue
        if instrument == "ICERD" and _NATIONAL_BODY.search(text) and not recognising:
            designations.append(statement)
            continue
        relevant = set(accept_rules or ())
        if opt_out:
            relevant |= {opt_out[1]}     # the inquiry article alone, unrefused, is no opt-out
        named = statement_articles & relevant
        if under_article or named:
            if under_article and not named and len(accept_rules) == 1:
                named = set(accept_rules)      # the section of a single article (ICERD art. 14)
            codes = _codes(accept_rules, opt_out, named)
            what = "a declaration in the competence section" if under_article else \
                f"a statement naming article {', '.join(str(a) for a in sorted(named))}"
            problems.append(ProcedureProblem(statement.line, f"{entry.participant}: {what} that neither clearly "
                                                             f"recognises nor refuses a committee's competence: "
                                                             f"{_short(text)!r}", codes, statement))
    accepted = {f.code for f in findings if f.status == "accepted"}
    for statement in designations:
        code = accept_rules[14][0]
        if code not in accepted:
            why = ("competence section holds only the designation of a national body under article 14(2), "
                   "not a recognition under article 14(1)")
            problems.append(ProcedureProblem(statement.line, f"{entry.participant}: the {why}: "
                                                             f"{_short(' '.join(statement.paragraphs))!r}",
                                             (code,), statement, f"the page's {why}"))
    return findings, problems


def _short(text, n=140):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def unescape(text):
    return html.unescape(text) if "&" in text else text
