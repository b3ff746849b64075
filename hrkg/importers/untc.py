"""The UN Treaty Collection status table (``hrkg import untc``): the participant table of an
instrument's "Status of Treaties" page, as CSV or as the HTML page a browser saves. Each
participant's signature and consent to be bound become records; from the HTML page also its
denunciations, statements, withdrawals and procedure declarations, read by the rules of
untc_page."""
import datetime as dt
import html
import re
from collections import Counter
from dataclasses import dataclass

from ..codes import normalize
from ..errors import LoadError, UsageError
from . import untc_page
from .reading import (RowError, check_width, clean, csv_records, first_line, looks_like_html, map_columns,
                      quoted_headers, sniff_delimiter)
from .reference import StateNames
from .writing import (ACTION, DCT, GROUP, H, INSTRUMENT, IRI, PROCEDURE, RDFSV, RDFV, STATE, XSDV, Lit,
                      write_imported_file)

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


class UNTCImporter:
    """UN Treaty Collection participant tables (CSV or the saved HTML page): one
    hrkg:Signature and one consent to be bound per participant, with the IRIs and properties of
    data/treaties/*.ttl (act:VNM-CAT-ratification).

    From the saved HTML status page it also reads (untc_page has the rules):

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
        parser = untc_page.PageParser()
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
                                f"Succession(d)'); headers seen: {quoted_headers(headers)}; name it with --map {name}=HEADER",
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

    def unresolved(self, report, line, column, name):
        """Report a participant name that did not resolve, with state codes to suggest; none for
        Cook Islands, Niue and the European Union, which are not misspelt states: the summary says
        that --non-states writes them."""
        other = untc_page.non_state(name)
        if other:
            report.non_states_left_out.add(other[2])
        report.unresolved.append((line, column, name, [] if other else self.names.suggest(name)))

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
            self.unresolved(report, line, "participant", name)
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
                self.unresolved(report, entry.line, SECTION_LABELS[entry.section], entry.participant)
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
