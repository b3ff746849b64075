"""What an import tells its user: per-file and overall counts, rejected rows, unresolved names
and warnings with their lines (``ImportReport.summary``, which the CLI prints), and progress lines
during a long import (``Progress``)."""
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .upr import response_concept   # the tally of UPR responses names the concept each maps to

PROGRESS_SECONDS = 2.0
MAX_LISTED = 50


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
    non_states_left_out: set = field(default_factory=set)   # their names, when not written (no --non-states)
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
            if f.non_states_left_out:
                one = len(f.non_states_left_out) == 1
                out.append(f"  {_and(sorted(f.non_states_left_out))}: {'a party' if one else 'parties'} the reference "
                           "data keeps apart from states (participants.ttl, bodies.ttl); --non-states writes "
                           f"{'its' if one else 'their'} actions too")
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


def _and(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
