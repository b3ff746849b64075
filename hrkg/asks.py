"""What a UPR recommendation asks of treaties: the instruments it names and the ask for each.

``detect(text)`` reads one recommendation and returns one ``Link`` per (instrument, ask) it finds:

- the instrument, as the code of docs/data (``CAT``, ``OP-CRC-AC``, ``C087``), found by its full
  title, abbreviation or alias in any case (tables ``INSTRUMENTS`` and ``PROTOCOL_ABBREVIATIONS``),
  a protocol phrase resolved to its treaty (``protocol_codes``: "its Optional Protocol", "the two
  Optional Protocols to the ICCPR", "the Optional Protocol on the involvement of children in armed
  conflict") or an ILO convention by number or title (``ILO_NUMBER``, ``ILO_TITLES``);
- what is asked (table ``ASKS``): ``sign``, ``join`` (ratify, accede, become a party, complete the
  ratification, "consider ratifying"), ``withdraw-reservation`` or ``accept-procedure`` (recognise
  a committee's competence, accept individual complaints, make the article 14/22/31/77
  declaration); ``None`` when the text only names the instrument ("in accordance with article 19
  of the ICCPR");
- ``wording``: the words of the ask as written ("Consider ratifying", "Sign and ratify"), so a user
  can tell "ratify" from "consider ratifying"; ``matched``: the words that name the instrument.

An ask reaches the instruments that follow it up to the end of the sentence, a clause that is not
an ask (``BLOCKERS``: "ensure", "in accordance with", "as recommended by"...) or the next ask; so
"Sign and ratify CAT, ICCPR, CED and CRPD" gives eight links and "Withdraw reservations to CAT and
accede to its Optional Protocol" gives CAT withdraw-reservation and OPCAT join. Instruments that are
not named, or named ambiguously ("international instruments to which Viet Nam is not yet a party",
"the Optional Protocol" with nothing to anchor it, "the Optional Protocol to the CRC" without its
subject), and instruments outside the tables (the Rome Statute, the Refugee Convention, the Palermo
Protocol) are left unlinked. A committee ("the Committee against Torture", "its Committee") counts
only where its competence is asked to be accepted; elsewhere ("as recommended by the Committee on
the Elimination of Discrimination against Women") it names no treaty.

Pure Python; ``ask_triples(store)`` turns a pyoxigraph store's recommendations into RDF.
"""
import re
from dataclasses import dataclass

ASK_KINDS = ("sign", "join", "withdraw-reservation", "accept-procedure")

_I = re.IGNORECASE


def _p(pattern, flags=_I):
    return re.compile(pattern, flags)


# --- instruments ---------------------------------------------------------------------------------

# Optional "the", "United Nations"/"UN" and "International" before a title.
_PRE = r"(?:(?:the\s+)?(?:united\s+nations\s+|un\s+)?(?:international\s+)?)"
_THE = r"(?:the\s+)?"

INSTRUMENTS = {
    # code: ((full titles and their variants), (abbreviations and aliases)). Abbreviations match as
    # whole words in any case; titles allow the small variations found in real texts (a missing
    # "the", "Covenant of", "Convention on Persons with Disabilities").
    "ICERD": ((_PRE + r"convention\s+on\s+the\s+elimination\s+of\s+(?:all\s+forms\s+of\s+)?racial\s+discrimination",),
              (r"I?CERD",)),
    "ICESCR": ((_PRE + r"(?:covenant|convention)\s+on\s+economic(?:,\s*|\s+and\s+)social(?:,?\s+and\s+cultural)?\s+rights",),
               (r"I?CESCR",)),
    "ICCPR": ((_PRE + r"covenant\s+(?:on|of)\s+civil\s+and\s+political\s+rights?",), (r"I?CCPR",)),
    "CEDAW": ((_PRE + r"convention\s+on\s+(?:the\s+)?elimination\s+of\s+(?:all\s+forms\s+of\s+)?discrimination\s+against\s+women",),
              (r"CEDAW",)),
    "CAT": ((_PRE + r"convention\s+against\s+torture(?:\s+and\s+other\s+cruel,?\s+inhuman\s+(?:or|and|,)\s*degrading"
             r"\s+treatment(?:\s+or\s+punishment)?)?",), (r"UNCAT", r"CAT")),
    "CRC": ((_PRE + r"convention\s+on\s+the\s+rights?\s+of\s+(?:the\s+)?child(?:ren)?",), (r"UNCRC", r"CRC")),
    "ICMW": ((_PRE + r"convention\s+on\s+(?:the\s+)?protection\s+of\s+(?:the\s+)?rights\s+of\s+all\s+migrants?\s+workers"
              r"(?:\s+and\s+(?:members\s+of\s+)?their\s+famil(?:y|ies))?",
              _THE + r"migrant\s+workers[’']?\s+convention"), (r"I?CRMW", r"ICMW", r"CMW", r"MWC")),
    "CPED": ((_PRE + r"convention\s+(?:for|on)\s+the\s+protection\s+of\s+all\s+persons\s+(?:from|against)\s+enforced"
              r"\s+disappearances?", _PRE + r"convention\s+(?:on|against)\s+enforced\s+disappearances?"),
             (r"I?CPPED", r"CPED", r"CED")),
    "CRPD": ((_PRE + r"convention\s+on\s+(?:the\s+)?rights\s+of\s+(?:the\s+)?persons\s+with\s+disabilit(?:y|ies)",
              _PRE + r"convention\s+on\s+(?:the\s+)?persons\s+with\s+disabilit(?:y|ies)",
              _PRE + r"convention\s+on\s+the\s+rights\s+of\s+disabled\s+persons"), (r"UNCRPD", r"CRPD")),
}

PROTOCOL_ABBREVIATIONS = {
    # code: abbreviations of optional protocols as written in recommendations ("CAT-OP", "ICCPR-OP 2")
    "OPCAT": (r"OP[-\s]?CAT", r"CAT[-\s]?OP"),
    "OP-CEDAW": (r"OP[-\s]?CEDAW", r"CEDAW[-\s]?OP"),
    "OP-CRPD": (r"OP[-\s]?CRPD", r"CRPD[-\s]?OP"),
    "OP-ICESCR": (r"OP[-\s]?I?CESCR", r"I?CESCR[-\s]?OP"),
    "ICCPR-OP1": (r"I?CCPR[-\s]?OP[-\s]?1", r"OP[-\s]?1[-\s]?I?CCPR"),
    "ICCPR-OP2": (r"I?CCPR[-\s]?OP[-\s]?2(?:[-\s]?DP)?", r"OP[-\s]?2[-\s]?I?CCPR"),
    "OP-CRC-AC": (r"OP[-\s]?CRC[-\s]?AC", r"CRC[-\s]?OP[-\s]?AC", r"CRC[-\s]?OPAC", r"OPAC"),
    "OP-CRC-SC": (r"OP[-\s]?CRC[-\s]?SC", r"CRC[-\s]?OP[-\s]?SC", r"CRC[-\s]?OPSC", r"OPSC"),
    "OP-CRC-IC": (r"OP[-\s]?CRC[-\s]?IC", r"CRC[-\s]?OP[-\s]?IC", r"CRC[-\s]?OPIC", r"OPIC"),
}

PROTOCOLS = {
    # treaty: {which protocol: code}; "1"/"2" by ordinal, a subject for the CRC's three
    "ICCPR": {"1": "ICCPR-OP1", "2": "ICCPR-OP2"},
    "ICESCR": {"1": "OP-ICESCR"},
    "CEDAW": {"1": "OP-CEDAW"},
    "CAT": {"1": "OPCAT"},
    "CRPD": {"1": "OP-CRPD"},
    "CRC": {"AC": "OP-CRC-AC", "SC": "OP-CRC-SC", "IC": "OP-CRC-IC"},
}
# The CRC's third protocol was adopted on 2011-12-19: "its Optional Protocols" before that meant two.
ADOPTED = {"OP-CRC-IC": "2011-12-19"}

CRC_SUBJECTS = {
    # subject words after "Optional Protocol (to the CRC)" that say which of the CRC's protocols
    "AC": _p(r"(?:involvement\s+of\s+child(?:ren)?\s+in\s+armed\s+conflicts?|children\s+(?:and|in)\s+armed\s+conflicts?"
             r"|armed\s+conflicts?)"),
    "SC": _p(r"(?:sale\s+of\s+child(?:ren)?|child\s+prostitution|child\s+pornography)"),
    "IC": _p(r"(?:communications?\s+procedure)"),
}

PROTOCOL_PHRASE = _p(
    # "Optional Protocol(s)", "the two Optional Protocols", "Second Optional Protocol", "second protocol"
    r"(?:\b(?P<ord>first|1st|second|2nd|two|both)\s+)?(?P<opt>optional\s+)?\bprotocol(?P<pl>s)?\b")
ANAPHOR_BEFORE = _p(r"\b(?:its|their)\s+(?:(?:first|second|two|both)\s+)?$")      # "its Optional Protocol"
THERETO_AFTER = _p(r"^\s*(?:thereto|to\s+(?:it|them)\b|attached\s+thereto)")
TO_AFTER = _p(r"^\s*(?:to|of|on|under)\s+(?:the\s+)?$")                             # "Optional Protocol to the"
LIST_GAP = _p(r"^\s*(?:,|and|or|&|as\s+well\s+as)\s*(?:,|and|or)?\s*(?:the\s+)?$")   # between treaties in a list

ILO_NUMBER = _p(
    # "ILO Convention No. 87", "ILO Conventions No. 138 and 182", "Convention No. 111 of the ILO",
    # "ILO Convention 169", "C182": ILO conventions by number
    r"(?:\b(?:ILO|International\s+Labou?r\s+Organi[sz]ation(?:\s*\(ILO\))?)\s+(?:fundamental\s+)?conventions?\s*"
    r"(?:Nos?\.?|N°|numbers?)?\s*(?P<a>\d{1,3}(?:\s*(?:,|and|&|or)\s*(?:Nos?\.?\s*)?\d{1,3})*)\b)"
    r"|(?:\bconventions?\s+(?:Nos?\.|N°|numbers?)\s*(?P<b>\d{1,3}(?:\s*(?:,|and|&|or)\s*(?:Nos?\.?\s*)?\d{1,3})*)\b)")
ILO_CODE = re.compile(r"\bC\s?(\d{2,3})\b")       # "C182", "C 87": capital C only
ILO_TITLES = {
    # ILO conventions by title (the longest first, so "Abolition of Forced Labour" is not C029)
    "C105": r"abolition\s+of\s+forced\s+labou?r\s+convention",
    "C029": r"forced\s+labou?r\s+convention",
    "C087": r"freedom\s+of\s+association\s+and\s+protection\s+of\s+the\s+right\s+to\s+organi[sz]e\s+convention",
    "C098": r"right\s+to\s+organi[sz]e\s+and\s+collective\s+bargaining\s+convention",
    "C100": r"equal\s+remuneration\s+convention",
    "C111": r"discrimination\s+\(?employment\s+and\s+occupation\)?\s+convention",
    "C138": r"minimum\s+age\s+convention",
    "C182": r"worst\s+forms\s+of\s+child\s+labou?r\s+convention",
    "C169": r"indigenous\s+and\s+tribal\s+peoples\s+convention",
    "C189": r"domestic\s+workers\s+convention",
}

COMMITTEES = {
    # treaty bodies by name; they count only where their competence is to be accepted
    "CAT": r"committee\s+against\s+torture",
    "CPED": r"committee\s+on\s+enforced\s+disappearances?",
    "ICERD": r"(?:committee\s+on\s+the\s+elimination\s+of\s+(?:all\s+forms\s+of\s+)?racial\s+discrimination|CERD\s+committee)",
    "CEDAW": r"(?:committee\s+on\s+the\s+elimination\s+of\s+(?:all\s+forms\s+of\s+)?discrimination\s+against\s+women"
             r"|CEDAW\s+committee)",
    "ICCPR": r"human\s+rights\s+committee",
    "ICMW": r"committee\s+on\s+(?:the\s+protection\s+of\s+the\s+rights\s+of\s+all\s+)?migrant\s+workers",
    "CRPD": r"committee\s+on\s+the\s+rights\s+of\s+persons\s+with\s+disabilities",
    "ICESCR": r"committee\s+on\s+economic,?\s+social\s+and\s+cultural\s+rights",
    "CRC": r"committee\s+on\s+the\s+rights\s+of\s+the\s+child",
}
COMMITTEE_ANAPHOR = _p(r"\b(?:its|the\s+relevant|the\s+respective|the\s+corresponding|this|that)\s+(?:treaty\s+)?"
                       r"(?:monitoring\s+)?(?:committee|treaty\s+body|body)\b")

# --- asks ----------------------------------------------------------------------------------------

ASKS = (
    # (ask, pattern): the verbs and phrases of an ask. A softener before it ("consider",
    # "the possibility of") is kept in the wording.
    ("sign", _p(r"\bsign(?:s|ed|ing|ature)?\b(?!\s*(?:al|ator))")),
    ("join", _p(r"\b(?:ratif\w*|accede\w*|acceding|accession|adher\w*|adhesion"
                r"|becom\w*\s+(?:a\s+)?(?:state\s+)?part(?:y|ies)|join\w*|consent\s+to\s+be\s+bound)")),
    ("accept-procedure", _p(
        r"\b(?:(?:recogni[sz]\w*|accept\w*)\s+(?:the\s+)?competence"
        r"|(?:mak\w*|made|issu\w*|deposit\w*|put\w*\s+into\s+effect)\s+(?:the\s+)?(?:\w+\s+)?declarations?"
        r"(?:\s+(?:under|of|provided\s+for\s+(?:in|under)|pursuant\s+to)\s+articles?\s+\d+)?"
        r"|declarations?\s+(?:under|of|provided\s+for\s+(?:in|under)|pursuant\s+to)\s+articles?\s+(?:14|22|31|77)"
        r"|accept\w*\s+articles?\s+(?:14|22|31|77)"
        r"|(?:accept\w*|recogni[sz]\w*)\s+(?:the\s+)?individual\s+(?:complaints?|communications?|petitions?)"
        r"(?:\s+(?:procedures?|mechanisms?))?)")),
)
SOFTENER = _p(r"\b(?:favourabl[ey]\s+|positively\s+|seriously\s+)?(?:consider|envisage|study|examine|explore)\w*"
              r"(?:\s+the\s+(?:possibility|option|feasibility)\s+of)?(?:\s+(?:the|an?))?\s*$")
CONNECTOR = _p(r"^[\s,/-]*(?:(?:and|or)(?:[\s/-]*(?:and|or))?)?[\s,/-]*(?:to\s+)?(?:the\s+)?$")

RESERVATION = _p(r"\breservations?\b")
WITHDRAW_BEFORE = _p(r"\b(?:withdraw\w*|lift\w*|remov\w*|retract\w*|eliminat\w*)\b(?:(?!\b(?:ratif|accede|sign)\w*)[^.;]){0,80}$")
WITHDRAW_AFTER = _p(r"^[^.;]{0,250}?\bwith\s+a\s+view\s+to\s+(?:\w+\s+)?(?:withdraw\w*|lift\w*|remov\w*)")

BLOCKERS = _p(
    # words that start a clause that is not an ask: an instrument after them is only named
    r"\b(?:implement\w*|ensur\w*|complian\w*|compl(?:y|ies)|in\s+accordance\s+with|in\s+line\s+with|in\s+keeping\s+with"
    r"|consistent\s+with|obligations?|provisions?|standards?|principles?|norms?|spirit|harmoni[sz]\w*|incorporat\w*|(?<!with\s)respect\w*|establish\w*|recommended\s+by"
    r"|criminali[sz]\w*|define\w*|reflect\w*|bring\w*|align\w*|domesticat\w*|enshrin\w*|report\w*\s+to)\b")
NOUN_AFTER = _p(
    # "eventual ICRMW ratification": an ask written as a noun after the instrument
    r"\s*(?:[’']s\s+)?(?P<noun>(?P<join>ratification|accession)|(?P<sign>signature))\b")
SENTENCE_END = re.compile(r"(?<!\bNo)(?<!\bNos)(?<!\bart)[.;!?](?=\s|$)|\n")


# --- detection -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """One instrument a recommendation names, and what it asks of it (``ask`` None: only named)."""
    instrument: str
    ask: str = None
    wording: str = None   # the words of the ask as written, e.g. "Consider ratifying"
    matched: str = ""     # the words naming the instrument, e.g. "its Optional Protocol"
    start: int = 0        # where ``matched`` starts in the text


@dataclass
class _Mention:
    start: int
    end: int
    codes: tuple          # instruments it names
    kind: str             # "treaty", "protocol", "ilo", "committee"
    parent: str = None    # for a treaty: its code (to anchor a protocol phrase after it)


def _abbreviation(pattern):
    return rf"(?<![\w-]){pattern}(?![\w-])"


def _needle(pattern):
    """The first word a pattern requires, lower-cased ("convention", "crc"): a regex runs only on
    texts that contain it, which makes detection several times faster."""
    word = re.match(r"[A-Za-z]+", pattern.removeprefix(_THE).removeprefix("I?"))
    return word.group(0).lower() if word else ""      # "" is in every text: the regex always runs


def _compile_table():
    entries = []
    for code, (titles, abbreviations) in INSTRUMENTS.items():
        # titles are searched from their first word (fast) and extended back over _PRE in _mentions
        entries += [(code, "title", re.compile(rf"\b{pattern.removeprefix(_PRE)}\b", _I), _needle(pattern.removeprefix(_PRE)))
                    for pattern in titles]
        entries += [(code, "treaty", re.compile(_abbreviation(pattern), _I), _needle(pattern)) for pattern in abbreviations]
    for code, patterns in PROTOCOL_ABBREVIATIONS.items():
        for pattern in patterns:
            entries.append((code, "protocol", re.compile(_abbreviation(pattern), _I), _needle(pattern)))
    for code, pattern in ILO_TITLES.items():
        entries.append((code, "ilo", re.compile(rf"(?:\bILO\s+)?\b{pattern}", _I), _needle(pattern)))
    return entries


_TABLE = _compile_table()
_PRE_BEFORE = re.compile(r"(?<![\w-])" + _PRE + r"$", _I)
_COMMITTEES = [(code, re.compile(pattern, _I)) for code, pattern in COMMITTEES.items()]


def _non_overlapping(candidates):
    """The longest candidate at each place, dropping those that overlap a longer one taken before."""
    taken, out = [], []
    for m in sorted(candidates, key=lambda m: (-(m.end - m.start), m.start)):
        if all(m.end <= t.start or m.start >= t.end for t in taken):
            taken.append(m)
            out.append(m)
    return sorted(out, key=lambda m: m.start)


def _ilo_numbers(text):
    for m in ILO_NUMBER.finditer(text):
        numbers = re.findall(r"\d{1,3}", m.group("a") or m.group("b"))
        yield _Mention(m.start(), m.end(), tuple(f"C{int(n):03d}" for n in numbers), "ilo")
    for m in ILO_CODE.finditer(text):
        yield _Mention(m.start(), m.end(), (f"C{int(m.group(1)):03d}",), "ilo")


def _mentions(text):
    """Committees, treaties, protocol abbreviations and ILO conventions named in ``text``."""
    low = text.lower()
    candidates = [_Mention(m.start(), m.end(), (code,), "committee")
                  for code, rx in _COMMITTEES if "committee" in low for m in rx.finditer(text)]
    candidates += [_Mention(m.start(), m.end(), (), "committee") for m in COMMITTEE_ANAPHOR.finditer(text)]
    for code, kind, rx, needle in _TABLE:
        if needle not in low:
            continue
        for m in rx.finditer(text):
            start = m.start()
            if kind == "title":
                start = _PRE_BEFORE.search(text, 0, start).start()
            candidates.append(_Mention(start, m.end(), (code,), "treaty" if kind == "title" else kind,
                                       parent=code if kind in ("treaty", "title") else None))
    candidates += list(_ilo_numbers(text))
    return _non_overlapping(candidates)


def protocol_codes(parent, ordinal, plural, subjects, date=None):
    """The protocol codes a phrase names: ``parent`` its treaty, ``ordinal`` "first"/"second"/
    "two"/"both"/None, ``plural`` "Protocols", ``subjects`` the CRC subjects after it (AC, SC, IC).
    Ambiguous ("the Optional Protocol to the CRC" with no subject) gives ()."""
    protocols = PROTOCOLS.get(parent, {})
    if parent == "CRC":
        if subjects:
            return tuple(protocols[s] for s in subjects)
        if plural or ordinal in ("two", "both"):
            return tuple(c for c in protocols.values() if date is None or ADOPTED.get(c, "") <= date)
        return ()
    ordinal = {"1st": "first", "2nd": "second"}.get(ordinal, ordinal)
    if ordinal == "second":
        return (protocols["2"],) if "2" in protocols else ()
    if plural or ordinal in ("two", "both"):
        return tuple(protocols.values())
    return (protocols["1"],) if "1" in protocols else ()


def _crc_subjects(text, start):
    """CRC protocol subjects just after ``start`` ("on the involvement of children in armed conflict")."""
    window = re.match(r"^[^.;]{0,160}", text[start:]).group(0)
    window = re.split(r"\b(?:and\s+(?:to\s+)?(?!on\b)[a-z]+(?:e|ize|ise)\b|ratif|accede|sign)\b", window, 1)[0]
    found = [(rx.search(window), key) for key, rx in CRC_SUBJECTS.items()]
    return tuple(key for m, key in sorted((m.start(), k) for m, k in found if m))


def _protocol_mentions(text, mentions, date):
    """Resolve protocol phrases against the treaties named around them; returns the new mention
    list where each phrase replaces the treaties it anchors to."""
    out = list(mentions)
    for m in PROTOCOL_PHRASE.finditer(text):
        ordinal, plural = (m.group("ord") or "").lower() or None, bool(m.group("pl"))
        if not m.group("opt") and ordinal not in ("second", "2nd", "first", "1st"):
            continue          # "the 1967 Protocol thereto", "the Palermo Protocol": not a UN HR optional protocol
        if any(x.start <= m.start() < x.end for x in out if x.kind in ("protocol", "treaty")):
            continue          # inside a title or abbreviation already found
        before, after = text[:m.start()], text[m.end():]
        anchors, consumed, start, end = [], [], m.start(), m.end()
        following = [x for x in out if x.start >= m.end() and x.kind == "treaty"]
        if following and TO_AFTER.match(text[m.end():following[0].start]):
            anchors.append(following[0].parent)
            consumed.append(following[0])
            end = following[0].end
            if plural or ordinal in ("two", "both"):
                for nxt in following[1:]:
                    if not LIST_GAP.match(text[end:nxt.start]):
                        break
                    anchors.append(nxt.parent)
                    consumed.append(nxt)
                    end = nxt.end
        elif THERETO_AFTER.match(after) or ANAPHOR_BEFORE.search(before):
            anaphor = ANAPHOR_BEFORE.search(before)
            start = anaphor.start() if anaphor else m.start()     # "its Optional Protocol"
            previous = [x for x in out if x.end <= m.start() and x.kind == "treaty"]
            if previous:
                anchors.append(previous[-1].parent)
            if THERETO_AFTER.match(after):
                end = m.end() + THERETO_AFTER.match(after).end()
        subjects = _crc_subjects(text, end)
        if not anchors and subjects and re.match(r"^\s*(?:on|concerning|relating\s+to)\b", after):
            anchors = ["CRC"]
        codes = []
        for parent in anchors:
            codes += protocol_codes(parent, ordinal, plural, subjects if parent == "CRC" else (), date)
        for x in consumed:
            out.remove(x)
        if not codes:
            continue
        out.append(_Mention(start, end, tuple(dict.fromkeys(codes)), "protocol", parent=None))
        # drop an abbreviation echoing the phrase just after it: "... Punishment CAT", "(OPCAT)"
        for x in [x for x in out if x.start >= end]:
            if re.match(r"^[\s(\[,-]*$", text[end:x.start]) and (x.parent in anchors or set(x.codes) <= set(codes)):
                out.remove(x)
            break
    return sorted(out, key=lambda x: x.start)


def _asks(text):
    """Every ask in ``text``: (start, end, kind, wording start)."""
    found = [(m.start(), m.end(), kind) for kind, rx in ASKS for m in rx.finditer(text)]
    for m in RESERVATION.finditer(text):
        sentence_start = max([e.end() for e in SENTENCE_END.finditer(text, 0, m.start())] or [0])
        before = WITHDRAW_BEFORE.search(text[sentence_start:m.start()])
        if before:
            found.append((sentence_start + before.start(), m.end(), "withdraw-reservation"))
        elif WITHDRAW_AFTER.match(text[m.end():]):
            found.append((m.start(), m.end(), "withdraw-reservation"))
    found.sort()
    asks = []
    for start, end, kind in found:
        if asks and start < asks[-1][1]:          # "withdraw ... reservation" spanning a "sign" word
            continue
        soft = SOFTENER.search(text[:start])
        asks.append((start, end, kind, soft.start() if soft else start))
    return asks


# A text with none of these words or abbreviations names no instrument: detect() returns at once
# (most recommendations). Substrings of every title and abbreviation of the tables above.
PREFILTER_WORDS = ("opcat", "uncat", "convention", "covenant", "protocol", "committee", "ilo", "labour", "labor", "crc", "crpd",
                   "cerd", "cescr", "ccpr", "cedaw", "cmw", "crmw", "mwc", "cped", "pped", "opac", "opsc", "opic")
PREFILTER_SHORT = re.compile(r"(?<![\w])(?:cat|ced)(?![\w])", _I)


def may_name_instrument(text):
    """False when ``text`` cannot name an instrument (a fast test before the rules)."""
    low = text.lower()
    return (any(word in low for word in PREFILTER_WORDS) or PREFILTER_SHORT.search(text) is not None
            or ILO_CODE.search(text) is not None)


def detect(text, *, date=None):
    """The instruments ``text`` names and what it asks of each, as a list of ``Link`` (one per
    instrument and ask, in order of first mention; ``ask`` None for an instrument only named).
    ``date`` (ISO date of the review) leaves out protocols adopted after it from "its Optional
    Protocols"."""
    if not may_name_instrument(text):
        return []
    mentions = _protocol_mentions(text, _mentions(text), date)
    events = [(m.start, 1, m) for m in mentions]
    events += [(a[0], 0, a) for a in _asks(text)]
    events += [(b.start(), 0, "stop") for b in SENTENCE_END.finditer(text)]
    spans = [(a[0], a[1]) for a in _asks(text)]
    events += [(b.start(), 0, "stop") for b in BLOCKERS.finditer(text)
               if not any(s <= b.start() < e for s, e in spans)]   # "Remove or define its reservation"
    events.sort(key=lambda e: (e[0], e[1]))
    links, group, last_end, last_treaty = {}, [], 0, None
    last_stop = 0
    for position, _, event in events:
        if event == "stop":
            group, last_stop = [], position
            continue
        if isinstance(event, tuple):                 # an ask
            start, end, kind, soft = event
            if group and CONNECTOR.match(text[group[-1][1]:start]):
                group.append(event)
            elif group and start < group[-1][1]:
                continue
            else:
                group = [event]
            last_end = end
            continue
        m = event
        kinds = [a[2] for a in group]
        wording = text[group[0][3]:group[-1][1]] if group else None
        if m.kind == "committee":
            codes = m.codes or ((last_treaty,) if last_treaty else ())
            if "accept-procedure" not in kinds or not codes:
                continue
            kinds = ["accept-procedure"]
        else:
            codes = m.codes
            noun = NOUN_AFTER.match(text, m.end) if not kinds else None
            if noun:
                kinds = ["join" if noun.group("join") else "sign"]
                clause = max([e for e in (last_stop, last_end) if e <= m.start] or [0])
                wording = text[clause:noun.end("noun")].strip(" ,")
        if m.kind == "treaty":
            last_treaty = m.parent
        for code in codes:
            for kind in (kinds or [None]):
                key = (code, kind)
                if key not in links:
                    links[key] = Link(code, kind, wording if kind else None, text[m.start:m.end], m.start)
        last_end = m.end
    # an instrument named without an ask drops out where the same instrument is asked for
    asked = {code for code, kind in links if kind}
    return [link for link in links.values() if link.ask or link.instrument not in asked]


def asks(text, *, date=None):
    """Only the links with an ask (what the graph records)."""
    return [link for link in detect(text, date=date) if link.ask]


# --- RDF -----------------------------------------------------------------------------------------

HRKG = "https://w3id.org/hrkg/ontology#"
INSTRUMENT_BASE = "https://w3id.org/hrkg/id/instrument/"

_RECOMMENDATIONS = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
SELECT ?rec ?text ?date ?year WHERE {
  ?rec hrkg:review ?review ; hrkg:text ?text .
  OPTIONAL { ?review hrkg:reviewDate ?date }
  OPTIONAL { ?review hrkg:cycle/hrkg:endYear ?year }
}"""
_INSTRUMENTS = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?i WHERE { ?i hrkg:code ?code ; a ?class . ?class rdfs:subClassOf* hrkg:Instrument }"""


def ask_node(recommendation, link):
    """The IRI of one ask: the recommendation's IRI + ``/asks/CODE/ask`` (stable across builds)."""
    return f"{recommendation}/asks/{link.instrument}/{link.ask}"


def store_links(store):
    """(recommendation IRI, Link) for every ask in the recommendations of a pyoxigraph ``store``.
    The review's date (else 1 January of its cycle's last year) limits "its Optional Protocols"
    to the protocols adopted by then."""
    for row in store.query(_RECOMMENDATIONS):
        date = row["date"].value if row["date"] is not None else (
            f"{row['year'].value[:4]}-01-01" if row["year"] is not None else None)
        for link in asks(row["text"].value, date=date):
            yield row["rec"].value, link


def ask_triples(store, links=None):
    """The triples recording what each recommendation in ``store`` asks (pyoxigraph Triples):

        <rec> hrkg:asksFor <rec/asks/CAT/join> .
        <rec/asks/CAT/join> a hrkg:TreatyAsk ; hrkg:askedInstrument instr:CAT ; hrkg:ask "join" ;
            hrkg:wording "Consider ratifying" ; hrkg:matched "CAT" .

    Only instruments the store knows are linked (an ILO convention outside the bundled list, such
    as C169, is left out). ``links``: precomputed ``store_links(store)``."""
    import pyoxigraph as ox
    known = {row["i"].value for row in store.query(_INSTRUMENTS)}
    p = {name: ox.NamedNode(HRKG + name) for name in ("asksFor", "TreatyAsk", "askedInstrument", "ask", "wording", "matched")}
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for rec, link in (links if links is not None else store_links(store)):
        instrument = INSTRUMENT_BASE + link.instrument
        if instrument not in known:
            continue
        node = ox.NamedNode(ask_node(rec, link))
        yield ox.Triple(ox.NamedNode(rec), p["asksFor"], node)
        yield ox.Triple(node, rdf_type, p["TreatyAsk"])
        yield ox.Triple(node, p["askedInstrument"], ox.NamedNode(instrument))
        yield ox.Triple(node, p["ask"], ox.Literal(link.ask))
        if link.wording:
            yield ox.Triple(node, p["wording"], ox.Literal(link.wording))
        yield ox.Triple(node, p["matched"], ox.Literal(link.matched))


# --- follow-up: what the state did about each ask ------------------------------------------------
#
# The rules of recommendation-followup, followup-summary and followup-threads, applied once when
# hrkg builds the graph (build.record_followup), after inference, to every (recommendation,
# instrument) row. They record on the TreatyAsk the row shows (where a recommendation asks two
# things of one instrument, the further step: join, then accept-procedure, withdraw-reservation,
# sign) everything that does not depend on the queries' as_of:
#
#   hrkg:stateUnderReview  the state under review (the row's state);
#   hrkg:reviewedOn        the review's date: its hrkg:reviewDate, else the last day of its Working
#                          Group session (data/reference/upr-sessions.ttl); absent when unknown;
#   hrkg:actionAfterReview, hrkg:actionAfterReviewDate
#                          the first asked action after the review (whatever its date): its type
#                          ("ratification", "declaration CAT-22", "ratification of OP-CEDAW"...)
#                          and date. The asked actions: sign: a signature or a consent to be
#                          bound; join: a consent to be bound (ratification, accession,
#                          succession, acceptance, approval, formal confirmation);
#                          withdraw-reservation: a hrkg:ReservationWithdrawal; accept-procedure: a
#                          hrkg:ProcedureAcceptance, a hrkg:ProcedureOptOutWithdrawal, or the
#                          consent to an optional protocol that is a complaint procedure, for an
#                          ask of the protocol or of its treaty. An action on the review's day
#                          counts as before it;
#   hrkg:actionBeforeReview, hrkg:actionBeforeReviewDate
#                          the last asked action on or before the review, when it means nothing was
#                          left to do ("ratification before the review"): for sign, a signature or
#                          consent; for join, a consent not denounced (hrkg:Withdrawal) after it
#                          and by the review; for accept-procedure, an acceptance; never a
#                          reservation withdrawal (others may remain);
#   hrkg:firstActionDate   for a review whose date is not known: the first asked action's date
#                          (which cannot be placed before or after the review);
#   hrkg:completeRecord    true when the graph holds a complete record of the instrument: a UN
#                          Treaty Collection status page (hrkg:statusOf), or, for an ILO
#                          convention, the state's ILO record (hrkg:knownFor).
#
# The queries then apply what depends on as_of (FOLLOWUP_AS_OF_RULES in each query's header):
# a row is left out when its review is dated after as_of; `acted` is unbound when done before the
# review, true when the action after the review is dated on or before as_of, unbound when the
# review is undated and an asked action is dated on or before as_of, else false with a complete
# record and unbound without one.
FOLLOWUP = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
PREFIX dct:  <http://purl.org/dc/terms/>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>
SELECT ?node ?_state ?reviewed ?afterAction ?afterDate ?beforeAction ?beforeDate ?firstAction ?complete
WHERE {
  {
    SELECT ?recommendation ?_state ?_instrument ?ask ?reviewed ?isILO
           (MIN(?afterKey) AS ?after) (MAX(?beforeKey) AS ?before) (MAX(?denounceDate) AS ?lastDenounced)
           (MIN(?d) AS ?firstAction)
    WHERE {
      {
        # the recommendations' asks, the further step where one asks two things of an instrument
        SELECT ?recommendation ?review ?_state ?_instrument (MIN(?rank) AS ?askRank) WHERE {
          ?review hrkg:state ?_state .
          ?recommendation hrkg:review ?review ; hrkg:asksFor ?asked .
          ?asked hrkg:askedInstrument ?_instrument ; hrkg:ask ?kind .
          VALUES (?kind ?rank) { ("join" 1) ("accept-procedure" 2) ("withdraw-reservation" 3) ("sign" 4) }
        } GROUP BY ?recommendation ?review ?_state ?_instrument
      }
      VALUES (?ask ?askRank) { ("join" 1) ("accept-procedure" 2) ("withdraw-reservation" 3) ("sign" 4) }
      OPTIONAL { ?_instrument a hrkg:ILOConvention . BIND(true AS ?isILO) }
      {
        SELECT ?review ?_state ?reviewed WHERE {
          ?review a hrkg:UPRReview ; hrkg:state ?_state .
          OPTIONAL { ?review hrkg:reviewDate ?reviewDate }
          OPTIONAL { ?review hrkg:session ?number . ?session a hrkg:UPRSession ; hrkg:ordinal ?number ; hrkg:endDate ?sessionEnd }
          BIND(COALESCE(?reviewDate, ?sessionEnd) AS ?reviewed)
        }
      }
      OPTIONAL {
        # the actions that answer each ask: (state, instrument, ask, date, "type|event|suffix")
        { SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            ?ev hrkg:signingState ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?d .
            BIND("sign" AS ?ask) BIND(CONCAT("signature|", STR(?ev), "|") AS ?what) } }
        UNION
        { SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            ?ev hrkg:consentingState ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?d .
            VALUES ?ask { "sign" "join" }
            OPTIONAL {
              ?ev a ?class .
              VALUES (?class ?className) { (hrkg:Ratification "ratification") (hrkg:Accession "accession") (hrkg:Succession "succession") }
            }
            OPTIONAL {
              ?ev hrkg:depositaryMarker ?marker .
              VALUES (?marker ?markerName) { ("A" "acceptance") ("AA" "approval") ("c" "formal confirmation") }
            }
            BIND(CONCAT(COALESCE(?className, ?markerName, "consent to be bound"), "|", STR(?ev), "|") AS ?what) } }
        UNION
        { SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            ?ev a hrkg:ReservationWithdrawal ; hrkg:state ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?d .
            BIND("withdraw-reservation" AS ?ask) BIND(CONCAT("reservation withdrawal|", STR(?ev), "|") AS ?what) } }
        UNION
        { SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            ?ev a hrkg:ProcedureAcceptance ; hrkg:state ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?d ;
                hrkg:procedure/hrkg:code ?procedure .
            BIND("accept-procedure" AS ?ask) BIND(CONCAT("declaration ", ?procedure, "|", STR(?ev), "|") AS ?what) } }
        UNION
        { SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            ?ev a hrkg:ProcedureOptOutWithdrawal ; hrkg:state ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?d ;
                hrkg:procedure/hrkg:code ?procedure .
            BIND("accept-procedure" AS ?ask) BIND(CONCAT("opt-out withdrawal ", ?procedure, "|", STR(?ev), "|") AS ?what) } }
        UNION
        { # the consent to a protocol that is a complaint procedure, for an ask of the protocol or
          # of its treaty ("accept individual complaints under CEDAW")
          SELECT ?_state ?_instrument ?ask ?d ?what WHERE {
            { SELECT ?protocol ?protocolCode ?_instrument WHERE {
                ?p a hrkg:Procedure ; hrkg:acceptance "consent" ; hrkg:instrument ?protocol .
                ?protocol a hrkg:OptionalProtocol ; hrkg:code ?protocolCode ; hrkg:parentTreaty? ?_instrument .
              }
            }
            ?ev hrkg:consentingState ?_state ; hrkg:instrument ?protocol ; hrkg:date ?d .
            OPTIONAL {
              ?ev a ?class .
              VALUES (?class ?className) { (hrkg:Ratification "ratification") (hrkg:Accession "accession") (hrkg:Succession "succession") }
            }
            BIND("accept-procedure" AS ?ask)
            BIND(CONCAT(COALESCE(?className, "consent"), "|", STR(?ev), "|",
                        IF(?_instrument = ?protocol, "", CONCAT(" of ", ?protocolCode))) AS ?what) } }
      }
      OPTIONAL {
        # denunciations by the review: a consent before one is no longer in force
        { SELECT ?_state ?_instrument ?denounced WHERE {
            ?w a hrkg:Withdrawal ; hrkg:state ?_state ; hrkg:instrument ?_instrument ; hrkg:date ?denounced } }
        FILTER(?denounced <= ?reviewed)
      }
      BIND(IF(?d > ?reviewed, CONCAT(STR(?d), "|", ?what), ?unbound) AS ?afterKey)
      BIND(IF(?d <= ?reviewed, CONCAT(STR(?d), "|", ?what), ?unbound) AS ?beforeKey)
      BIND(?denounced AS ?denounceDate)
    }
    GROUP BY ?recommendation ?_state ?_instrument ?ask ?reviewed ?isILO
  }
  ?recommendation hrkg:asksFor ?node .
  ?node hrkg:askedInstrument ?_instrument ; hrkg:ask ?ask .
  # a complete record of the instrument (UN Treaty Collection page) or of the state's ILO ratifications
  OPTIONAL { SELECT ?_instrument (1 AS ?pageRecord) WHERE { ?page hrkg:statusOf ?_instrument } GROUP BY ?_instrument }
  OPTIONAL {
    SELECT ?_state (1 AS ?iloRecord) WHERE {
      ?record hrkg:knownFor ?_state . ?cited dct:source ?record ; hrkg:instrument ?convention .
      ?convention a hrkg:ILOConvention .
    } GROUP BY ?_state
  }
  BIND(BOUND(?pageRecord) || (BOUND(?isILO) && BOUND(?iloRecord)) AS ?complete)
  BIND(BOUND(?before) && ?ask != "withdraw-reservation"
       && (!BOUND(?lastDenounced) || STR(?lastDenounced) < SUBSTR(?before, 1, 10)) AS ?already)
  # "date|type|event|suffix" -> type + suffix, date
  BIND(STRAFTER(?after, "|") AS ?afterRest)
  BIND(CONCAT(STRBEFORE(?afterRest, "|"), STRAFTER(STRAFTER(?afterRest, "|"), "|")) AS ?afterAction)
  BIND(STRDT(SUBSTR(?after, 1, 10), xsd:date) AS ?afterDate)
  BIND(IF(?already, STRAFTER(?before, "|"), ?unbound) AS ?beforeRest)
  BIND(CONCAT(STRBEFORE(?beforeRest, "|"), STRAFTER(STRAFTER(?beforeRest, "|"), "|"), " before the review") AS ?beforeAction)
  BIND(IF(?already, STRDT(SUBSTR(?before, 1, 10), xsd:date), ?unbound) AS ?beforeDate)
}"""

FOLLOWUP_PROPERTIES = {"_state": "stateUnderReview", "reviewed": "reviewedOn", "afterAction": "actionAfterReview",
                       "afterDate": "actionAfterReviewDate", "beforeAction": "actionBeforeReview",
                       "beforeDate": "actionBeforeReviewDate", "firstAction": "firstActionDate",
                       "complete": "completeRecord"}


def followup_triples(store):
    """The follow-up facts of every (recommendation, instrument) row (FOLLOWUP above) as pyoxigraph
    Triples on the row's TreatyAsk, read from the store's default graph (build.record_followup: it
    holds the asserted and the derived triples)."""
    import pyoxigraph as ox
    p = {var: ox.NamedNode(HRKG + name) for var, name in FOLLOWUP_PROPERTIES.items()}
    for row in store.query(FOLLOWUP):
        node = row["node"]
        reviewed = row["reviewed"]
        for var, prop in p.items():
            value = row[var]
            if value is None or (var == "firstAction" and reviewed is not None):
                continue
            yield ox.Triple(node, prop, value)
