"""Inputs that overlap, as real inputs do: the graph answers each fact once, with one value, and
lists every fact two sources disagree on (issue "One engine, one answer").

Each asserted triple counts once however many files state it; a single-valued fact (a date, a
count, a session, the kind of an action) stated with two values keeps the value of the input that
comes first in build order, and the other is listed by the `discrepancies` query and warned about
by validation. Checked in memory and on the on-disk store, which share build.fill.
"""
import collections
import datetime as dt
import shutil
from pathlib import Path

import pytest

from hrkg import KnowledgeGraph
from hrkg.importers.run import import_files
from hrkg.resources import bundle_dir

FIXTURES = Path(__file__).parent / "fixtures"
RESTATED = FIXTURES / "overlap" / "restated.ttl"
PAGES = Path(__file__).resolve().parent.parent / "sources" / "untc" / "2026-02-03"   # the source of record
ID = "https://w3id.org/hrkg/id/"
HRKG = "https://w3id.org/hrkg/ontology#"


def every_example(kg):
    for q in kg.catalog:
        for example in q.examples:
            yield q.name, dict(pair.split("=", 1) for pair in example.split())


def rows(kg, name, params):
    return kg.query(name, params).as_dicts()


@pytest.fixture(scope="module")
def kg_rows(kg):
    """rows(kg, name, params) of the bundled graph (the session's, which no test changes), each
    query run once in this module rather than once per test that compares with it."""
    answers = {}

    def answer(name, params):
        key = (name, tuple(sorted(params.items())))
        if key not in answers:
            answers[key] = rows(kg, name, params)
        return answers[key]
    return answer


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    """The bundled data, plus every bundled data file again under another name."""
    again = tmp_path_factory.mktemp("again") / "data-again"
    shutil.copytree(bundle_dir("data"), again)
    return KnowledgeGraph.open([again])


@pytest.fixture(scope="module")
def restated(overlap_kg):
    return overlap_kg   # conftest.py: the bundled data plus tests/fixtures/overlap/restated.ttl


@pytest.fixture(scope="module")
def restated_store(tmp_path_factory, shared_build):
    location = shared_build("overlap-restated", lambda folder: [RESTATED],
                            tmp_path_factory.mktemp("overlap-store") / "store")
    return KnowledgeGraph.open_store(location, build_if_needed=False)


def test_every_bundled_file_loaded_twice_changes_no_answer(kg, kg_rows, twice):
    cases = list(every_example(kg))
    assert len(cases) >= 20
    for name, params in cases:
        assert rows(twice, name, params) == kg_rows(name, params), (name, params)
    assert twice.manifest["asserted_triples"] == kg.manifest["asserted_triples"]
    assert twice.manifest["inferred_triples"] == kg.manifest["inferred_triples"]
    assert rows(twice, "discrepancies", {}) == []
    assert len(twice.manifest["graphs"]) == 2 * len(kg.manifest["graphs"]) - 1   # the ontology once


def test_which_files_state_a_triple_stays_answerable(twice):
    files = [r[0] for r in twice.sparql(
        "SELECT ?g WHERE { GRAPH ?g { <https://w3id.org/hrkg/id/action/VNM-CAT-ratification> hrkg:date ?d } } "
        "ORDER BY ?g").rows]
    bundled = sorted(str(f) for f in files if str(f).startswith("https://"))
    added = sorted(str(f).rsplit("/", 3)[-2:] for f in files if str(f).startswith("file://"))
    assert bundled == ["https://w3id.org/hrkg/graph/data/treaties/untc-2026-02-03.ttl",
                       "https://w3id.org/hrkg/graph/data/treaties/vnm.ttl"]
    assert added == [["treaties", "untc-2026-02-03.ttl"], ["treaties", "vnm.ttl"]]


def test_validation_sees_each_triple_once(twice, kg):
    report = twice.validate()
    assert len(report.violations) == 0
    assert len(report.warnings) == len(kg.validate().warnings)


@pytest.mark.parametrize("graph", ["restated", "restated_store"])
def test_restated_facts_answer_once_with_the_first_inputs_value(graph, kg, kg_rows, request):
    g = request.getfixturevalue(graph)
    status = {r["instrument"]: r for r in rows(g, "treaty-status", {"state": "VNM"})}
    assert len(rows(g, "treaty-status", {"state": "VNM"})) == 18
    assert status["CAT"]["signed"] == dt.date(2013, 11, 7) and status["CAT"]["consented"] == dt.date(2015, 2, 5)
    khm = [r for r in rows(g, "parties", {"instrument": "CRC", "group": "ASEAN"}) if r["state"] == "KHM"]
    assert [r["consent_type"] for r in khm] == ["accession"]
    cycle_one = [r for r in rows(g, "upr-reviews", {"state": "VNM"}) if r["cycle"] == "I"]
    assert len(cycle_one) == 1 and cycle_one[0]["recommendations"] == 123 and cycle_one[0]["session"] == 5
    for name, params in every_example(kg):
        if name not in ("sources", "discrepancies"):   # sources: the restated nodes cite theirs too
            assert rows(g, name, params) == kg_rows(name, params), (name, params)


@pytest.mark.parametrize("graph", ["restated", "restated_store"])
def test_every_disagreement_is_listed_with_both_sources(graph, request):
    g = request.getfixturevalue(graph)
    found = {}
    for r in rows(g, "discrepancies", {}):
        fact = (r["subject"].rsplit("/", 2)[-2] + "/" + r["subject"].rsplit("/", 1)[-1], r["property"].rsplit("#", 1)[-1],
                str(r["value"]).rsplit("#", 1)[-1], str(r["other_value"]).rsplit("#", 1)[-1],
                r["other_source"].rsplit("/", 1)[-1])
        found.setdefault(fact, set()).add(r["source"].rsplit("/graph/", 1)[-1])
    # every file that states the value the graph answers with is named (the UN Treaty Collection
    # ledger and the curated file agree on Viet Nam's signature and Cambodia's accession)
    assert found == {
        ("action/VNM-CAT-signature", "date", "2013-11-07", "2013-11-08", "restated.ttl"):
            {"data/treaties/vnm.ttl", "data/treaties/untc-2026-02-03.ttl"},
        ("action/KHM-CRC-accession", "type", "Accession", "Ratification", "restated.ttl"):
            {"data/treaties/asean.ttl", "data/treaties/untc-2026-02-03.ttl"},
        ("upr-review/VNM-I", "recommendationCount", "123", "172", "restated.ttl"): {"data/upr.ttl"},
    }
    vnm = {r["subject"].rsplit("/", 1)[-1] for r in rows(g, "discrepancies", {"state": "VNM"})}
    assert vnm == {"VNM-CAT-signature", "VNM-I"}
    assert g.manifest["discrepancies"] == 3


def test_validation_warns_about_each_disagreement_and_names_the_files(restated):
    report = restated.validate()
    assert report.violations == []
    warned = [w for w in report.warnings if w.shape.endswith("#Discrepancy")]
    assert {w.focus.rsplit("/", 1)[-1] for w in warned} == {"VNM-CAT-signature", "KHM-CRC-accession", "VNM-I"}
    signature = next(w for w in warned if w.focus == ID + "action/VNM-CAT-signature")
    assert signature.path == "hrkg:date" and signature.value == "2013-11-08"
    assert "gives 2013-11-07" in signature.message
    assert "restated.ttl gives 2013-11-08" in signature.message
    assert signature.defined_in.endswith("restated.ttl")
    assert "Discrepancy" in report.report_graph.serialize(format="turtle")


def test_added_files_come_after_the_bundle_in_the_order_given(tmp_path, bundle_without_ledger):
    """Two added files disagree: the first given wins, whichever name sorts first."""
    # bundle_without_ledger: the UN Treaty Collection ledger states no UPR review and no
    # recommendationCount, so the recommendationCount discrepancies are the same without it (checked:
    # with the whole bundle and without the ledger, the rows below are identical, every column);
    # an in-memory graph, so the default store is not opened while the bundle is switched
    later = tmp_path / "a-later.ttl"
    later.write_text(RESTATED.read_text(encoding="utf-8").replace("172", "180"), encoding="utf-8")
    earlier = tmp_path / "z-earlier.ttl"
    earlier.write_text(RESTATED.read_text(encoding="utf-8").replace(
        'act:VNM-CAT-ratification a hrkg:Ratification', 'act:LAO-CAT-ratification-x a hrkg:Ratification'), encoding="utf-8")
    kg = KnowledgeGraph.open([earlier, later])
    counts = collections.Counter((r["other_value"], r["other_source"].rsplit("/", 1)[-1])
                                 for r in rows(kg, "discrepancies", {}) if r["property"].endswith("recommendationCount"))
    assert counts == {(172, "z-earlier.ttl"): 1, (180, "a-later.ttl"): 1}


def test_review_counts_materialised_by_the_build_count_each_recommendation_once(tmp_path, bundle_without_ledger):
    """A UPR export imported twice under two names: each review counts its recommendations once."""
    # bundle_without_ledger: the UN Treaty Collection ledger holds no UPR review and no
    # recommendation, so the counted rows and the number of recommendations are the same without it
    # (checked: identical rows, once and twice, and the same count with the whole bundle); in
    # memory, so the default store is not opened while the bundle is switched
    export = FIXTURES / "import" / "upr-latin1-cr.csv"
    first, second = tmp_path / "upr-one.nt", tmp_path / "upr-two.nt"
    import_files("upr", [export], first)
    import_files("upr", [export], second)
    once = KnowledgeGraph.open([first])
    twice = KnowledgeGraph.open([first, second])
    query = ("SELECT ?review ?n ?s ?o WHERE { ?review hrkg:recommendationsInGraph ?n ; hrkg:supportedInGraph ?s ; "
             "hrkg:notedInGraph ?o } ORDER BY ?review")
    counted = once.sparql(query).rows
    assert counted and twice.sparql(query).rows == counted
    assert sum(int(r[1]) for r in counted) == len(once.sparql("SELECT ?r WHERE { ?r a hrkg:Recommendation }").rows)


@pytest.fixture(scope="module")
def with_pages(tmp_path_factory):
    """Two real UN Treaty Collection status pages (3 Feb 2026), imported and built in."""
    out = tmp_path_factory.mktemp("pages") / "untc.nt"
    import_files("untc", [PAGES / "cat.html", PAGES / "crpd.html"], out)
    return KnowledgeGraph.open([out])


def test_real_untc_pages_built_in_answer_each_instrument_and_state_once(with_pages):
    status = rows(with_pages, "treaty-status", {"state": "VNM"})
    assert len(status) == 18 and len({r["instrument"] for r in status}) == 18
    cat = {r["instrument"]: r for r in status}["CAT"]
    assert cat["consented"] == dt.date(2015, 2, 5) and cat["signed"] == dt.date(2013, 11, 7)
    parties = rows(with_pages, "parties", {"instrument": "CAT", "as_of": "2026-02-03"})
    states = [r["state"] for r in parties]
    assert len(states) == len(set(states)) == 175      # the page: "Parties: 175"
    france = {r["instrument"]: r for r in rows(with_pages, "treaty-status", {"state": "FRA"})}["CAT"]
    assert france["consented"] == dt.date(1986, 2, 18) and france["status"] == "party"
    assert rows(with_pages, "discrepancies", {}) == []


# ---- literals the store keeps in canonical form (issue 15, item 9) -------------------------------

NON_CANONICAL = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/hrkg/id/x/a> skos:note "01"^^xsd:integer , "1.50"^^xsd:decimal , "1"^^xsd:boolean ;
    skos:prefLabel "Test"@EN-GB ;
    skos:notation "7"^^xsd:integer .
"""


@pytest.fixture(scope="module")
def bundle_literals(kg):
    """(the bundled files' literals the store rewrites, whether the bundle's N-Triples export
    holds '"1.50"'), read from the session's graph of the whole bundle. The two tests below open
    their file with the bundle less its UN Treaty Collection ledger (bundle_without_ledger: 0.3 s
    to fill and validate instead of 3-5 s each); the rewritten literals are found file by file
    (build.rewritten_literals reads the file and its own graph) and an N-Triples export is the
    union of its triples' lines, so these two facts of the whole bundle plus the tests' graph
    give exactly what the whole bundle plus the file gave (checked: the same warnings, every field,
    and the same export checks either way). Module-scoped: read before a test switches the
    bundle, as the session graph was opened before."""
    return kg.manifest["rewritten_literals"], '"1.50"' in kg.export("nt")


def test_literals_rewritten_to_canonical_form_are_warned_about_never_silent(tmp_path, bundle_literals,
                                                                           bundle_without_ledger):
    """Decision: the store keeps canonical forms ("01" -> "1", "1.50" -> "1.5", "1"^^xsd:boolean
    -> "true", language tags in lower case); validation names each literal a file writes
    otherwise, with the form it is stored and exported in."""
    rewritten_in_bundle, bundle_exports_150 = bundle_literals
    assert rewritten_in_bundle == [] and not bundle_exports_150   # the whole bundle: no warning, no "1.50"
    path = tmp_path / "written.ttl"
    path.write_text(NON_CANONICAL, encoding="utf-8")
    kg = KnowledgeGraph.open([path], reason=False)
    warned = {w.value: w for w in kg.validate().warnings if w.shape.endswith("#CanonicalLiteral")}
    assert set(warned) == {'"01"^^<http://www.w3.org/2001/XMLSchema#integer>',
                           '"1.50"^^<http://www.w3.org/2001/XMLSchema#decimal>',
                           '"1"^^<http://www.w3.org/2001/XMLSchema#boolean>', "@EN-GB (line 5)"}
    assert 'stored and exported as "1.5"' in warned['"1.50"^^<http://www.w3.org/2001/XMLSchema#decimal>'].message
    assert all(w.defined_in == str(path) or w.defined_in.endswith("written.ttl") for w in warned.values())
    exported = kg.export("nt")
    assert '"1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>' in exported and '"1.50"' not in exported
    assert '"Test"@en-gb' in exported


def test_canonical_literals_give_no_such_warning(tmp_path, bundle_literals, bundle_without_ledger):
    assert bundle_literals[0] == []   # the whole bundle's files: no literal rewritten (see bundle_literals)
    path = tmp_path / "canonical.ttl"
    path.write_text(NON_CANONICAL.replace('"01"', '"1"').replace('"1.50"', '"1.5"').replace('"1"^^xsd:boolean', '"true"^^xsd:boolean')
                    .replace("@EN-GB", "@en-gb"), encoding="utf-8")
    kg = KnowledgeGraph.open([path], reason=False)
    assert not [w for w in kg.validate().warnings if w.shape.endswith("#CanonicalLiteral")]
