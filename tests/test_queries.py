"""Stored queries: self-describing files, bound parameters, clear errors, W3C result formats."""
import collections
import csv
import io
import json

import pytest
from rdflib.plugins.sparql import prepareQuery

from hrkg import ParameterError, UnknownCodeError, UnknownQueryError
from hrkg.query import QueryCatalog, format_result, parse_query_file

CONTRACT = {
    "treaty-status": ["instrument", "title", "signed", "consented", "consent_type", "status", "known_as_of"],
    "parties": ["state", "name", "consented", "consent_type"],
    "core-treaty-count": ["state", "name", "core", "protocols"],
    "signed-not-ratified": ["state", "instrument", "signed", "years_pending"],
    "upr-reviews": ["cycle", "session", "review_date", "recommendations", "supported", "noted",
                    "support_rate", "implemented", "partially_implemented", "under_consideration",
                    "basis", "recorded", "recorded_supported", "recorded_noted"],
    "discrepancies": ["subject", "property", "value", "source", "other_value", "other_source"],
    "memberships": ["state", "body", "term_start", "term_end"],
    "ilo-ratifications": ["convention", "title", "fundamental", "ratified", "status"],
    "complaint-procedures": ["procedure", "instrument", "kind", "committee", "status", "accepted", "source"],
    "reservations": ["state", "instrument", "type", "date", "date_basis", "withdrawn", "withdrawals", "text",
                     "statement"],
    "country-visits": ["mandate", "start", "end"],
    "dialogues": ["partner", "name"],
    "obligations": ["obligation", "due", "body"],
    "sources": ["subject", "source", "title", "publisher", "date", "url"],
    "source-summary": ["source", "title", "publisher", "date", "url", "facts"],
    "recommendation-followup": ["recommendation", "cycle", "recommending_state", "text", "instrument", "ask",
                                "response", "acted", "action", "action_date"],
}


@pytest.mark.parametrize("query", list(QueryCatalog()), ids=lambda q: q.name)
def test_every_stored_query_is_self_describing_and_parses_as_is(query):
    assert query.title and query.description and query.examples
    prepareQuery(query.text)  # runnable as-is in any SPARQL tool: plain SPARQL 1.1
    for p in query.parameters:
        assert f"?_{p.name}" in query.text, f"{query.name}: parameter {p.name} is not used"


# queries over imported exports (the bundled data holds only per-review totals) and over inputs
# that disagree with the bundled data (the bundled data agrees with itself)
NEEDS_OTHER_DATA = {"recommendations": "imported_kg", "discrepancies": "overlap_kg",
                    "recommendation-followup": "imported_kg", "followup-summary": "imported_kg",
                    "followup-threads": "imported_kg"}


@pytest.mark.parametrize("query", list(QueryCatalog()), ids=lambda q: q.name)
def test_every_example_runs_on_the_bundled_data(kg, request, query):
    if query.name in NEEDS_OTHER_DATA:
        kg = request.getfixturevalue(NEEDS_OTHER_DATA[query.name])
    for example in query.examples:
        params = dict(pair.split("=", 1) for pair in example.split())
        result = kg.query(query.name, params)
        assert result.rows, f"{query.name} {example} returned nothing"
        expected = CONTRACT.get(query.name)
        if expected:
            assert result.vars[:len(expected)] == expected


def test_public_contract_names_exist():
    assert set(CONTRACT) <= set(QueryCatalog().names())


def test_source_summary_counts_the_facts_that_cite_each_source(kg):
    """The world-wide view of sources equals a count over the graph's own dct:source triples."""
    from rdflib import DCTERMS
    raw = collections.Counter(str(o) for s, o in set(kg.graph.subject_objects(DCTERMS.source)))
    rows = kg.query("source-summary").as_dicts()
    assert {r["source"]: r["facts"] for r in rows} == {s: n for s, n in raw.items() if s in {r["source"] for r in rows}}
    assert len(rows) >= 50 and [r["facts"] for r in rows] == sorted((r["facts"] for r in rows), reverse=True)
    ohchr = kg.query("source-summary", {"publisher": "ohchr"}).as_dicts()
    assert {r["publisher"] for r in ohchr} == {"OHCHR"}
    assert "https://w3id.org/hrkg/id/source/ohchr-country-visits" in {r["source"] for r in ohchr}


def test_sources_needs_a_state(kg):
    with pytest.raises(ParameterError, match="state"):
        kg.query("sources", {})


def test_misspelt_parameter_is_an_error_with_a_suggestion(kg):
    with pytest.raises(ParameterError, match="no parameter 'stat'; did you mean state"):
        kg.query("treaty-status", {"stat": "VNM"})


def test_missing_required_parameter(kg):
    with pytest.raises(ParameterError, match="needs parameter 'state' \\(state\\)"):
        kg.query("treaty-status", {})


def test_ill_typed_date(kg):
    with pytest.raises(ParameterError, match="'as_of'.*not a date"):
        kg.query("treaty-status", {"state": "VNM", "as_of": "5 Feb 2015"})
    with pytest.raises(ParameterError, match="not a valid calendar date"):
        kg.query("treaty-status", {"state": "VNM", "as_of": "2015-02-30"})


def test_unknown_code_suggests_close_ones(kg):
    with pytest.raises(UnknownCodeError) as err:
        kg.query("treaty-status", {"state": "VMN"})
    assert "VNM" in err.value.suggestions
    with pytest.raises(UnknownCodeError, match="unknown instrument code 'CATT'; did you mean CAT"):
        kg.query("parties", {"instrument": "CATT"})


def test_unknown_query_lists_available(kg):
    with pytest.raises(UnknownQueryError, match="Did you mean treaty-status.*Available: .*upr-reviews"):
        kg.query("treaty-stat", {})


@pytest.mark.parametrize("spelling", ["VNM", "vnm", "VN", "Viet Nam", "vietnam", "Việt Nam"])
def test_state_codes_and_names_case_insensitive(kg, spelling):
    assert kg.codes.resolve("state", spelling).endswith("/state/VNM")


@pytest.mark.parametrize("alias,code", [("CCPR", "ICCPR"), ("icrmw", "ICMW"), ("CMW", "ICMW"),
                                        ("CED", "CPED"), ("cerd", "ICERD"), ("CESCR", "ICESCR"),
                                        ("opcat", "OPCAT"), ("c087", "C087")])
def test_instrument_aliases(kg, alias, code):
    assert kg.codes.resolve("instrument", alias).endswith("/instrument/" + code)


def test_injection_attempt_is_bound_as_a_term_and_matches_nothing(kg):
    evil = 'VNM" } UNION { ?s ?p ?o } #'
    with pytest.raises(UnknownCodeError):
        kg.query("treaty-status", {"state": evil})
    # a string parameter is bound as a literal, never spliced
    from hrkg.query import StoredQuery, Parameter, run_sparql, bind_parameters
    q = StoredQuery(name="t", path=None, title="t", description="", text=(
        "SELECT ?s WHERE { ?s <https://w3id.org/hrkg/ontology#code> ?_code }"),
        parameters=[Parameter("code", "string")])
    bindings = bind_parameters(q, {"code": evil}, kg.codes)
    assert run_sparql(kg.graph, q.prepared, bindings).rows == []
    bindings = bind_parameters(q, {"code": "VNM"}, kg.codes)
    assert len(run_sparql(kg.graph, q.prepared, bindings).rows) == 1


def test_json_is_w3c_sparql_results(kg):
    doc = json.loads(format_result(kg.query("treaty-status", {"state": "VNM"}), "json"))
    assert doc["head"]["vars"] == CONTRACT["treaty-status"]
    cat = [b for b in doc["results"]["bindings"] if b["instrument"]["value"] == "CAT"][0]
    assert cat["consented"] == {"type": "literal", "value": "2015-02-05",
                                "datatype": "http://www.w3.org/2001/XMLSchema#date"}
    assert cat["instrument"] == {"type": "literal", "value": "CAT"}
    icmw = [b for b in doc["results"]["bindings"] if b["instrument"]["value"] == "ICMW"][0]
    assert "signed" not in icmw  # unknown stays unbound


def test_csv_and_tsv(kg):
    result = kg.query("treaty-status", {"state": "VNM"})
    table = list(csv.DictReader(io.StringIO(format_result(result, "csv"))))
    assert {r["instrument"]: r["consented"] for r in table}["CAT"] == "2015-02-05"
    tsv = format_result(result, "tsv").splitlines()
    assert tsv[0].split("\t")[0] == "?instrument"
    assert any('"2015-02-05"^^<http://www.w3.org/2001/XMLSchema#date>' in line for line in tsv)


def test_bad_header_is_reported(tmp_path):
    f = tmp_path / "bad.rq"
    f.write_text("# title: x\n# param: state (country, required): oops\nSELECT * WHERE { ?s ?p ?o }\n")
    from hrkg import QueryError
    with pytest.raises(QueryError, match="unknown type"):
        parse_query_file(f)


def test_adding_a_query_needs_no_python(tmp_path, kg):
    (tmp_path / "count-states.rq").write_text(
        "# title: Count states\n# description: How many states.\n# example:\n"
        "SELECT (COUNT(?s) AS ?n) WHERE { ?s a <https://w3id.org/hrkg/ontology#State> }\n")
    catalog = QueryCatalog([tmp_path])
    q = catalog.get("count-states")
    from hrkg.query import run_sparql
    # 193 members, 2 observers and the two states that are not UN members (Cook Islands, Niue)
    assert run_sparql(kg.graph, q.prepared).as_dicts() == [{"n": 197}]
