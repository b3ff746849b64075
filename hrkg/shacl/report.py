"""The validation report: its results (ValidationReport, read from a SHACL report graph by
report_from_graph), the warnings hrkg adds outside the shapes (discrepancies, rewritten literals),
and the report formats contributors need (text, json, ttl, junit)."""
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from ..load import file_of_graph
from ..namespaces import DCTERMS, RDFS, SKOS, bind_prefixes

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass
class ValidationResult:
    severity: str          # Violation | Warning | Info
    focus: str
    focus_label: str | None
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str
    defined_in: str | None = None


@dataclass
class ValidationReport:
    results: list
    report_graph: Graph

    @property
    def violations(self):
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self):
        return [r for r in self.results if r.severity == "Warning"]

    def conforms(self, *, strict=False):
        """No violations (and, with ``strict``, no warnings either)."""
        bad = self.violations + (self.warnings if strict else [])
        return not bad

    def add_discrepancies(self, rows):
        """Report the facts two inputs disagree on (rows of the ``discrepancies`` query) as warnings.

        Validation reads every input's claims, so a fact with two values also breaks its shape's
        sh:maxCount; that violation says the same as the warning (the graph answers with one value),
        so it is replaced by it. Every other result stays: an ill-typed value set aside is still a
        violation."""
        explained = {(str(r["subject"]), str(r["property"])) for r in rows}
        for node in list(self.report_graph.subjects(RDF.type, SH.ValidationResult)):
            focus, path = self.report_graph.value(node, SH.focusNode), self.report_graph.value(node, SH.resultPath)
            if (str(focus), str(path)) in explained and \
                    self.report_graph.value(node, SH.sourceConstraintComponent) == SH.MaxCountConstraintComponent:
                self.report_graph.remove((None, SH.result, node))
                self.report_graph.remove((node, None, None))
        self.results = [r for r in self.results if not (
            r.constraint == "sh:MaxCountConstraintComponent" and (r.focus, _iri(r.path)) in explained)]
        for report in self.report_graph.subjects(RDF.type, SH.ValidationReport):
            self.report_graph.set((report, SH.conforms, Literal(not self.violations)))
        self.add_warnings([(_discrepancy_result(row), str(row["property"]), row["other_value"]) for row in rows])

    def add_rewritten_literals(self, files):
        """Warn about the literals the store keeps in another form than their file writes them
        (build.rewritten_literals): nothing changes silently."""
        warnings = []
        for entry in files:
            shown = shown_file(file_of_graph(entry["file"]))
            for ex in entry["examples"]:
                stored = f"stored and exported as {ex['stored']}" if ex["stored"] else "stored in canonical form"
                result = ValidationResult(
                    severity="Warning", focus=ex["subject"] or entry["file"], focus_label=None,
                    path=_curie(ex["predicate"]) if ex["predicate"] else None, value=ex["written"],
                    message=f"{ex['written']} is not written in canonical form; it is {stored}, the same value "
                            "(write it that way to keep exports identical to the file)",
                    shape=CANONICAL_SHAPE, constraint="canonical literal", defined_in=shown)
                warnings.append((result, ex["predicate"], Literal(ex["written"])))
            if entry["count"] > len(entry["examples"]):
                more = entry["count"] - len(entry["examples"])
                warnings.append((ValidationResult(
                    severity="Warning", focus=entry["file"], focus_label=None, path=None, value=None,
                    message=f"... and {more:,} more literals in this file not written in canonical form",
                    shape=CANONICAL_SHAPE, constraint="canonical literal", defined_in=shown), None, None))
        self.add_warnings(warnings)

    def add_warnings(self, warnings):
        """Add (ValidationResult, path IRI or None, value term or None) found outside the shapes,
        in the report graph too."""
        for warning, path, value in warnings:
            node = BNode()
            for p, o in ((RDF.type, SH.ValidationResult), (SH.resultSeverity, SH.Warning),
                         (SH.focusNode, URIRef(warning.focus)), (SH.resultPath, URIRef(path) if path else None),
                         (SH.value, value), (SH.resultMessage, Literal(warning.message)),
                         (SH.sourceShape, URIRef(warning.shape))):
                if o is not None:
                    self.report_graph.add((node, p, o))
            for report in self.report_graph.subjects(RDF.type, SH.ValidationReport):
                self.report_graph.add((report, SH.result, node))
                self.report_graph.set((report, SH.conforms, Literal(not self.violations)))
            self.results.append(warning)
        self.results.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.focus, r.shape or "", r.message))


DISCREPANCY_SHAPE = "https://w3id.org/hrkg/shapes#Discrepancy"
CANONICAL_SHAPE = "https://w3id.org/hrkg/shapes#CanonicalLiteral"


def _discrepancy_result(row):
    source, other = shown_file(file_of_graph(row["source"])), shown_file(file_of_graph(row["other_source"]))
    return ValidationResult(
        severity="Warning", focus=str(row["subject"]), focus_label=None, path=_curie(str(row["property"])),
        value=_shown(row["other_value"]),
        message=f"Sources disagree: {source} gives {_shown(row['value'])}, {other} gives {_shown(row['other_value'])}; the graph "
                "answers with the first (the input that comes first in build order wins). Correct the file that is wrong.",
        shape=DISCREPANCY_SHAPE, constraint="discrepancy", defined_in=other)


def _shown(term):
    return _curie(str(term)) if isinstance(term, URIRef) else str(term)


def _iri(curie):
    probe = Graph()
    bind_prefixes(probe)
    try:
        return str(probe.namespace_manager.expand_curie(curie)) if curie and ":" in curie else curie
    except ValueError:
        return curie


def _curie(iri):
    probe = Graph()
    bind_prefixes(probe)
    try:
        return probe.namespace_manager.normalizeUri(URIRef(iri))
    except Exception:
        return iri


# What names a focus node in a report, best first: sources have only a title.
LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)


def report_from_graph(report_graph, label_of, *, file_of=None):
    """A ValidationReport from a SHACL validation report graph (pyshacl's, or report_graph.py's).

    ``label_of(focus)`` gives a focus node's label or None; ``file_of`` as for validate().
    """
    bind_prefixes(report_graph)
    results = []
    for node in report_graph.subjects(SH.resultSeverity, None):
        focus = report_graph.value(node, SH.focusNode)
        severity = str(report_graph.value(node, SH.resultSeverity)).rsplit("#", 1)[-1]
        path = report_graph.value(node, SH.resultPath)
        value = report_graph.value(node, SH.value)
        messages = [str(m) for m in report_graph.objects(node, SH.resultMessage)]
        label = label_of(focus) if focus is not None else None
        results.append(ValidationResult(
            severity=severity, focus=str(focus), focus_label=str(label) if label else None,
            path=_short(report_graph, path), value=_short(report_graph, value),
            message="; ".join(messages) or "constraint not met",
            shape=str(report_graph.value(node, SH.sourceShape)),
            constraint=_short(report_graph, report_graph.value(node, SH.sourceConstraintComponent)),
            defined_in=shown_file((file_of or {}).get(str(focus)))))
    results.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.focus, r.shape or "", r.message))
    return ValidationReport(results, report_graph)


def _short(graph, term):
    if term is None:
        return None
    try:
        return graph.namespace_manager.normalizeUri(term) if not hasattr(term, "language") else str(term)
    except Exception:
        return str(term)


def shown_file(name):
    """A contributor's file (its graph is named by a file: URI) as a path relative to the working
    folder where it lies below it, as the user typed it; bundled files are already relative."""
    if not name or not name.startswith("file:"):
        return name
    path = Path(url2pathname(urlparse(name).path))
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


# ---- output formats --------------------------------------------------------------------

def as_text(report, *, strict=False):
    lines = []
    for severity in ("Violation", "Warning", "Info"):
        group = [r for r in report.results if r.severity == severity]
        if not group:
            continue
        lines.append(f"{severity}s ({len(group)}):")
        for r in group:
            who = f"{r.focus_label} <{r.focus}>" if r.focus_label else f"<{r.focus}>"
            lines.append(f"  - {who}")
            if r.defined_in:
                lines.append(f"      file:    {r.defined_in}")
            if r.path:
                lines.append(f"      path:    {r.path}")
            if r.value:
                lines.append(f"      value:   {r.value}")
            lines.append(f"      message: {r.message}")
            lines.append(f"      shape:   {r.shape}")
    verdict = "conforms" if report.conforms(strict=strict) else "does not conform"
    lines.append(f"{verdict}: {len(report.violations)} violation(s), {len(report.warnings)} warning(s)")
    return "\n".join(lines)


def as_json(report, *, strict=False):
    return json.dumps({
        "conforms": report.conforms(strict=strict),
        "violations": len(report.violations),
        "warnings": len(report.warnings),
        "results": [r.__dict__ for r in report.results],
    }, indent=1, ensure_ascii=False)


def as_turtle(report, **_):
    return report.report_graph.serialize(format="turtle")


def as_junit(report, *, strict=False):
    """JUnit XML for CI systems: one test case per result, named by shape and resource and
    grouped (classname) by the file that defines the resource, so a CI page lists each mistake
    under its file. Violations are failures; warnings are passing cases with the message as
    output, failures only with ``strict``. Conforming data is one passing case."""
    failing = lambda r: r.severity == "Violation" or (strict and r.severity == "Warning")
    cases = []
    for r in report.results:
        shape = r.shape.rsplit("#", 1)[-1]
        where = f"{r.focus}" + (f" path {r.path}" if r.path else "") + (f" value {r.value}" if r.value else "")
        head = (f'  <testcase classname={quoteattr(r.defined_in or "hrkg")} '
                f'name={quoteattr(f"{shape}: {r.focus_label or r.focus}")}>')
        if failing(r):
            body = (f"<failure type={quoteattr(r.severity)} message={quoteattr(r.message)}>"
                    f"{escape(f'{where} (shape {r.shape})')}</failure>")
        else:
            body = f"<system-out>{escape(f'{r.severity}: {r.message} {where} (shape {r.shape})')}</system-out>"
        cases.append(head + body + "</testcase>")
    if not report.results:
        cases.append('  <testcase classname="hrkg" name="all shapes conform"/>')
    failures = sum(1 for r in report.results if failing(r))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="hrkg validate" tests="{len(cases)}" failures="{failures}" errors="0">\n'
            f'<testsuite name="hrkg validate" tests="{len(cases)}" failures="{failures}" errors="0" skipped="0">\n'
            + "\n".join(cases) + "\n</testsuite>\n</testsuites>\n")


REPORT_FORMATS = {"text": as_text, "json": as_json, "ttl": as_turtle, "junit": as_junit}
