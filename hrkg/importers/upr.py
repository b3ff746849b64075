"""The UPR recommendation export (``hrkg import upr``): a CSV or TSV file with one recommendation
per row, as the UPR Info database, OHCHR matrices and research data sets publish them. Each row
becomes an hrkg:Recommendation attached to the hrkg:UPRReview of (state under review, cycle)."""
import hashlib
import re
from collections import Counter
from functools import lru_cache

from ..codes import normalize
from ..errors import LoadError
from ..namespaces import SRC
from .reading import (RowError, check_width, clean, csv_records, first_line, looks_like_html, map_columns,
                      quoted_headers, sniff_delimiter)
from .reference import StateNames
from .writing import CYCLE, DCT, H, IRI, RDFV, RECOMMENDATION, REVIEW, STATE, write_imported_file

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
            raise LoadError(f"needs a 'session' or a 'cycle' column; headers seen: {quoted_headers(headers)}; "
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
