"""The CLI: commands, output, and exit codes and messages on bad input."""
import io
import json
import os
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from hrkg.cli import build_parser, main

README = Path(__file__).resolve().parent.parent / "README.md"


def run(argv, capsys):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def test_query_table(capsys):
    code, out, _ = run(["query", "treaty-status", "state=VNM"], capsys)
    assert code == 0
    line = [l for l in out.splitlines() if l.startswith("CAT ")][0]
    assert "2013-11-07" in line and "2015-02-05" in line and line.split()[-2:] == ["party", "2026-02-03"]


def test_query_json(capsys):
    code, out, _ = run(["query", "upr-reviews", "state=vnm", "--format", "json"], capsys)
    assert code == 0
    bindings = json.loads(out)["results"]["bindings"]
    iii = [b for b in bindings if b["cycle"]["value"] == "III"][0]
    assert (iii["supported"]["value"], iii["recommendations"]["value"]) == ("241", "291")


@pytest.mark.parametrize("argv,message", [
    (["query", "treaty-status", "state=VMN"], "unknown state code 'VMN'; did you mean VNM"),
    (["query", "treaty-stat", "state=VNM"], "unknown query 'treaty-stat'"),
    (["query", "treaty-status", "stat=VNM"], "no parameter 'stat'"),
    (["query", "treaty-status", "state"], "must be written KEY=VALUE"),
    (["query", "treaty-status", "state=VNM", "as_of=2015-13-01"], "'as_of'"),
    (["query", "treaty-status"], "needs parameter 'state'"),
    (["sparql", "SELECT * WHERE { ?s ?p }"], "SPARQL error"),
    (["sparql", "-f", "/nonexistent/query.rq"], "cannot read"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert out == ""


def own_cache_folder(monkeypatch, tmp_path):
    """For a test given bundle_with_ledger_sample: hrkg's cache folder (and so the default store)
    this test's own, as the conftest asks of a test that changes the bundle; the commands below
    that use it build a graph in memory and never open the default store."""
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path / "cache"))


def test_malformed_data_file_exits_2_naming_the_line(tmp_path, capsys, monkeypatch, bundle_with_ledger_sample):
    """(The bundle with its ledger sampled (conftest): the error is in the contributor's file, which
    is read after the bundled ones; parsing the ledger's 41,900 triples first added nothing.)"""
    own_cache_folder(monkeypatch, tmp_path)
    bad = tmp_path / "contrib.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    code, _, err = run(["validate", str(bad)], capsys)
    assert code == 2
    assert re.search(r"contrib\.ttl:2(:\d+)?: turtle syntax error", err)


def test_validate_contributor_file_with_a_violation_exits_1(tmp_path, capsys, monkeypatch, bundle_with_ledger_sample):
    """(The bundle with its ledger sampled (conftest): the violation (TreatyAction-source: no
    dct:source) is about the contributed resource alone, and what is asserted (exit 1, does not
    conform, that resource among the violations) holds whatever else the bundle holds.)"""
    own_cache_folder(monkeypatch, tmp_path)
    contrib = tmp_path / "contrib.ttl"
    contrib.write_text("""@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/hrkg/id/action/VNM-ICMW-signature> a hrkg:Signature ;
    hrkg:signingState <https://w3id.org/hrkg/id/state/VNM> ;
    hrkg:instrument <https://w3id.org/hrkg/id/instrument/ICMW> ;
    hrkg:date "2020-01-01"^^xsd:date .
""")
    code, out, _ = run(["validate", str(contrib), "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    assert not report["conforms"]
    focus = {r["focus"] for r in report["results"] if r["severity"] == "Violation"}
    assert "https://w3id.org/hrkg/id/action/VNM-ICMW-signature" in focus


def test_an_impossible_date_is_reported_once_by_validate_not_as_a_traceback(tmp_path, _bundle_with_ledger_sample):
    """rdflib logs a traceback for a literal it cannot convert; the command reports it as a
    violation naming the resource and the value instead (a separate process: logging as a user
    sees it, without pytest's log capture). The process runs the command as 'python -m hrkg' does
    (hrkg/__main__.py: sys.exit(main())), on the bundle with its ledger sampled (conftest: the bad
    date is the contributed file's, the violation its resource's alone) and its own cache folder."""
    from conftest import hrkg_command
    contrib = tmp_path / "contrib.ttl"
    contrib.write_text("""@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/hrkg/id/action/VNM-CAT-signature-2> a hrkg:Signature ;
    hrkg:signingState <https://w3id.org/hrkg/id/state/VNM> ;
    hrkg:instrument <https://w3id.org/hrkg/id/instrument/CAT> ;
    hrkg:date "2013-02-30"^^xsd:date ;
    dct:source <https://w3id.org/hrkg/id/source/untc-cat> .
""")
    done = subprocess.run([*hrkg_command(_bundle_with_ledger_sample), "validate", str(contrib)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, HRKG_CACHE_DIR=str(tmp_path / "cache")))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Failed to convert" not in done.stderr, done.stderr
    assert "VNM-CAT-signature-2" in done.stdout and "2013-02-30" in done.stdout
    assert "TreatyAction-date" in done.stdout


@pytest.fixture(scope="module")
def exported_nt():
    """(exit code, output) of 'hrkg export --format nt', run once for the two tests below."""
    out = io.StringIO()
    code = main(["export", "--format", "nt"], out=out)
    return code, out.getvalue()


def test_export_turtle_is_deterministic_and_nt_sorted(exported_nt, capsys):
    code, first = exported_nt
    assert code == 0
    lines = first.splitlines()
    assert lines == sorted(lines)
    assert any("VNM-CAT-ratification" in l and "2015-02-05" in l for l in lines)
    _, second, _ = run(["export", "--format", "nt"], capsys)
    assert first == second


def test_export_inferred_adds_triples(exported_nt, capsys):
    _, plain = exported_nt
    _, inferred, _ = run(["export", "--format", "nt", "--inferred"], capsys)
    triple = ("<https://w3id.org/hrkg/id/state/VNM> <https://w3id.org/hrkg/ontology#hasConsentedTo> "
              "<https://w3id.org/hrkg/id/instrument/CAT> .")
    assert triple not in plain.splitlines()
    assert triple in inferred.splitlines()


def test_export_jsonld_parses(capsys):
    from rdflib import Graph
    _, text, _ = run(["export", "--format", "jsonld", "--context", "inline"], capsys)
    g = Graph().parse(data=text, format="json-ld")  # inline context: no network
    assert len(g) > 4000


def test_stats(capsys):
    code, out, _ = run(["stats"], capsys)
    assert code == 0
    assert re.search(r"^states\s+197$", out, re.M)   # 193 members, 2 observers, Cook Islands and Niue


def test_queries_lists_every_query_with_parameters(capsys):
    code, out, _ = run(["queries"], capsys)
    assert code == 0
    assert "treaty-status: Treaty status of a state" in out
    assert "    state (state, required)" in out


def test_every_cli_command_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"hrkg {name}" in readme, f"'hrkg {name}' is not documented in README.md"


def test_validate_only_checks_a_contributor_file_without_the_bundle(capsys):
    fixtures = Path(__file__).parent / "fixtures" / "shapes"
    code, out, _ = run(["validate", "--only", str(fixtures / "valid.ttl")], capsys)
    assert code == 0, out
    code, out, _ = run(["validate", "--only", str(fixtures / "Signature-notAfterConsent.ttl"),
                        "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    assert {r["shape"] for r in report["results"]} == {"https://w3id.org/hrkg/shapes#Signature-notAfterConsent"}
    assert all(r["defined_in"].endswith("Signature-notAfterConsent.ttl") for r in report["results"])


THREE_MISTAKES = Path(__file__).parent / "fixtures" / "validate" / "three-mistakes.ttl"
MISTAKES = {  # focus -> the shape it breaks
    "https://w3id.org/hrkg/id/action/VNM-CRPD-signature-2": "https://w3id.org/hrkg/shapes#TreatyAction-date",
    "https://w3id.org/hrkg/id/action/VNM-CAT-signature-late": "https://w3id.org/hrkg/shapes#Signature-notAfterConsent",
    "https://w3id.org/hrkg/id/action/VNM-CAT-declaration-2": "https://w3id.org/hrkg/shapes#TreatyAction-source",
}


def test_validate_text_report_groups_by_severity_with_file_path_and_message(capsys):
    code, out, _ = run(["validate", str(THREE_MISTAKES)], capsys)
    assert code == 1
    violations, warnings = out.split("Warnings (")
    assert violations.startswith("Violations (3):")
    for focus, shape in MISTAKES.items():
        block = violations.split(f"<{focus}>")[1].split("  - ")[0]
        assert re.search(r"file: +tests/fixtures/validate/three-mistakes\.ttl\n", block), block
        assert f"shape:   {shape}\n" in block
    assert "value:   2013-02-30" in violations and "path:    hrkg:date" in violations
    assert "after https://w3id.org/hrkg/id/action/VNM-CAT-ratification (2015-02-05)" in violations
    assert "file:    data/sources.ttl" in warnings          # bundled files by their path in the bundle
    # a focus node is named by its label, else its title, then its IRI
    assert "  - Eleventh Australia-Vietnam Human Rights Dialogue <https://w3id.org/hrkg/id/source/dfat-2014-08-01>\n" in warnings
    assert out.rstrip().endswith("does not conform: 3 violation(s), 9 warning(s)")


def test_validate_json_and_turtle_reports_hold_the_same_three_violations(capsys):
    code, out, _ = run(["validate", str(THREE_MISTAKES), "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["conforms"] is False and report["violations"] == 3
    assert {r["focus"]: r["shape"] for r in report["results"] if r["severity"] == "Violation"} == MISTAKES
    code, out, _ = run(["validate", str(THREE_MISTAKES), "--format", "ttl"], capsys)
    g = Graph().parse(data=out, format="turtle")
    assert code == 1 and (None, SH.conforms, Literal(False)) in g
    violations = set(g.subjects(SH.resultSeverity, SH.Violation))
    assert {str(g.value(r, SH.focusNode)): str(g.value(r, SH.sourceShape)) for r in violations} == MISTAKES


def test_validate_junit_has_a_failing_case_per_violation_under_its_file(capsys):
    code, out, _ = run(["validate", str(THREE_MISTAKES), "--format", "junit"], capsys)
    assert code == 1
    suite = ElementTree.fromstring(out.encode("utf-8")).find("testsuite")
    cases = suite.findall("testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    assert suite.get("tests") == str(len(cases)) == "12" and suite.get("failures") == "3"
    assert {c.get("classname") for c in failing} == {"tests/fixtures/validate/three-mistakes.ttl"}
    assert sorted(c.get("name") for c in failing) == sorted(
        f"{shape.rsplit('#', 1)[1]}: {focus}" for focus, shape in MISTAKES.items())
    date = next(c for c in failing if c.get("name").startswith("TreatyAction-date"))
    assert "value 2013-02-30" in date.find("failure").text
    # warnings pass unless --strict, then they fail too
    code, out, _ = run(["validate", str(THREE_MISTAKES), "--format", "junit", "--strict"], capsys)
    assert code == 1 and ElementTree.fromstring(out.encode("utf-8")).find("testsuite").get("failures") == "12"


def test_validate_exit_codes_warnings_fail_only_with_strict(capsys):
    """(Holds what test_validate_bundled_data_conforms checked: one validation of the bundle fewer.)"""
    code, out, _ = run(["validate"], capsys)
    assert code == 0, out                                   # the bundle: 0 violations, 9 warnings
    assert "conforms: 0 violation(s)" in out
    code, out, _ = run(["validate", "--strict"], capsys)
    assert code == 1 and out.rstrip().endswith("does not conform: 0 violation(s), 9 warning(s)")
    assert "  - Eleventh Australia-Vietnam Human Rights Dialogue <https://w3id.org/hrkg/id/source/dfat-2014-08-01>\n" in out
    code, out, err = run(["validate", "no/such/file.ttl"], capsys)
    assert code == 2 and out == "" and "no/such/file.ttl" in err
    code, out, _ = run(["validate", "--format", "junit"], capsys)
    assert code == 0 and ElementTree.fromstring(out.encode("utf-8")).find("testsuite").get("failures") == "0"


def test_the_ci_recipes_run_commands_that_exist_and_match_the_readme():
    """The GitHub Actions job and the pre-commit hooks call 'hrkg validate' with arguments the CLI
    accepts, and the README shows this repository's job as it is."""
    root = README.parent
    workflow = (root / ".github" / "workflows" / "validate.yml").read_text(encoding="utf-8")
    hooks = [(root / name).read_text(encoding="utf-8") for name in (".pre-commit-config.yaml", ".pre-commit-hooks.yaml")]
    commands = re.findall(r"(?:^\s+|entry: )(hrkg [^|>\n]*)", workflow + "\n".join(hooks), re.M)
    assert len(commands) == 4
    for command in commands:
        args = build_parser().parse_args(command.split()[1:])
        assert args.func.__name__ == "cmd_validate"
    job = workflow[workflow.index("name: validate"):]
    assert job in README.read_text(encoding="utf-8")
    assert re.search(r"^\"\$venv/bin/hrkg\" validate\b", (root / ".ci" / "run").read_text(encoding="utf-8"), re.M)


def test_the_cli_format_choices_match_the_library():
    """cli.py lists them itself so a query does not import the exporter and pySHACL."""
    from hrkg.cli import EXPORT_CHOICES, REPORT_CHOICES
    from hrkg.export import EXPORT_FORMATS
    from hrkg.shacl.report import REPORT_FORMATS
    assert set(EXPORT_CHOICES) == set(EXPORT_FORMATS) and set(REPORT_CHOICES) == set(REPORT_FORMATS)
