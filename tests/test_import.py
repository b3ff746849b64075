"""Importers: UPR recommendation exports and UN Treaty Collection status tables, as real files
come (encodings, line endings, quoting, entities, header variants, state spellings), with a
line-numbered report, nothing written on error, provenance on every record, and output that
loads, validates and answers the stored queries.

The fixtures in tests/fixtures/import/ are described in its README.md.
"""
import hashlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from hrkg import HrkgError, LoadError, UsageError
from hrkg.cli import main
from hrkg.errors import ImportRowError
from hrkg.importers.reading import read_source
from hrkg.importers.reference import Reference, StateNames
from hrkg.importers.run import import_files
from hrkg.importers.untc import CONSENT_LEGEND, FORMS, action_legend, parse_untc_date
from hrkg.importers.upr import SESSION_CYCLES, cycle_of_session
from hrkg.importers.writing import IRI, RDFWriter
from hrkg.load import parse_file
from hrkg.namespaces import HRKG

try:
    import pyoxigraph
except ImportError:  # pragma: no cover - the store's engine; the writer test then uses rdflib only
    pyoxigraph = None

FIXTURES = Path(__file__).parent / "fixtures" / "import"
STATE = "https://w3id.org/hrkg/id/state/"
ACT = "https://w3id.org/hrkg/id/action/"
REV = "https://w3id.org/hrkg/id/upr-review/"


@pytest.fixture(scope="module")
def reference():
    return Reference.bundled()


def run_import(kind, names, out, **options):
    return import_files(kind, [FIXTURES / n for n in names], out, **options)


def recommendations(graph):
    """{row: recommendation IRI} of every recommendation in ``graph``."""
    return {int(graph.value(r, HRKG.row)): r for r in graph.subjects(RDF.type, HRKG.Recommendation)}


# ---- reading: encodings, line endings, quoting, entities ---------------------------------

def test_latin1_file_with_bare_cr_line_endings(tmp_path):
    out = tmp_path / "out.ttl"
    report = run_import("upr", ["upr-latin1-cr.csv"], out)
    f = report.files[0]
    assert (f.encoding, f.line_endings, f.delimiter) == ("cp1252", "CR", ",")
    assert (f.rows_read, f.records, f.rejected) == (9, 9, [])
    g = parse_file(out)
    recs = recommendations(g)
    # the quoted text of line 2 runs over two physical lines, so the next record starts on line 4
    assert sorted(recs) == [2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert str(g.value(recs[2], HRKG.text)) == ("Continue efforts to improve access to education in rural areas,\n"
                                                "in particular for girls")
    assert g.value(recs[2], HRKG.recommendingState) == URIRef(STATE + "CIV")      # Côte d'Ivoire, byte 0xF4
    assert g.value(recs[5], HRKG.recommendingState) == URIRef(STATE + "TTO")      # Trinidad & Tobago
    assert g.value(recs[6], HRKG.recommendingState) == URIRef(STATE + "TUR")      # Türkiye, byte 0xFC
    assert g.value(recs[10], HRKG.review) == URIRef(REV + "SWZ-I")                # Swaziland, session 12
    assert {str(t) for t in g.objects(recs[2], HRKG.theme)} == {"Rights of the Child", "Right to education"}
    assert g.value(recs[2], HRKG.actionCategory) == Literal(3)
    assert str(g.value(recs[2], HRKG.paragraph)) == "38.1"


def test_utf8_bom_crlf_semicolons_entities_and_a_cycle_column(tmp_path):
    out = tmp_path / "out.nt"
    report = run_import("upr", ["upr-utf8-bom.csv"], out)
    f = report.files[0]
    assert (f.encoding, f.line_endings, f.delimiter) == ("utf-8 with BOM", "CRLF", ";")
    assert f.columns == {"state": "SuR", "recommending_state": "Recommending", "text": "Recommendation",
                         "response": "Position", "cycle": "Cycle", "themes": "Themes", "paragraph": "Para"}
    g = parse_file(out)
    recs = recommendations(g)
    assert sorted(recs) == [2, 3, 5, 6]
    assert str(g.value(recs[2], HRKG.text)) == "Strengthen the National Committee on Children & adolescents"
    assert str(g.value(recs[3], HRKG.text)) == ("Ensure that the State\u2019s laws on cybersecurity respect freedom "
                                                "of expression\n(second paragraph of the recommendation)")
    assert str(g.value(recs[5], HRKG.text)) == "Continue the \u00e9ducation programmes for ethnic minorities"
    # 'III', 'Cycle 3', '3rd' and 'iii' are all cycle III; without a session column none is written
    assert {g.value(r, HRKG.review) for r in recs.values()} == {URIRef(REV + "VNM-III")}
    assert g.value(recs[6], HRKG.recommendingState) == URIRef(STATE + "VAT")


def test_cp1252_and_latin1_fallbacks_and_encoding_override(tmp_path):
    header = b"State under Review,Recommending State,Recommendation,Response,Session\n"
    smart = tmp_path / "smart.csv"      # 0x92 is a right single quote in Windows-1252
    smart.write_bytes(header + b"Viet Nam,Norway,Protect the State\x92s critics,Noted,32\n")
    assert read_source(smart).encoding == "cp1252"
    assert "State\u2019s critics" in read_source(smart).text
    odd = tmp_path / "odd.csv"          # 0x81 is undefined in Windows-1252: only Latin-1 reads it
    odd.write_bytes(header + b"Viet Nam,Norway,Text\x81,Noted,32\n")
    assert read_source(odd).encoding == "latin-1"
    assert read_source(odd, "latin-1").encoding == "latin-1"
    with pytest.raises(LoadError, match=r"smart.csv:2: not valid utf-8 \(byte 0x92\)"):
        read_source(smart, "utf-8")
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        read_source(smart, "klingon")


def test_mixed_line_endings_are_reported(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"a,b\r\nc,d\ne,f\rg,h\r\n")
    assert read_source(path).line_endings == "mixed (CRLF 2, LF 1, CR 1)"


# ---- header mapping -------------------------------------------------------------------------

def test_unknown_headers_name_the_field_the_headers_and_the_map_syntax(tmp_path):
    with pytest.raises(LoadError) as err:
        run_import("upr", ["upr-custom.tsv"], tmp_path / "out.ttl")
    message = str(err.value)
    assert "upr-custom.tsv:1: cannot find the 'state' column" in message
    assert "headers seen: 'Country reviewed', 'Recommended by', 'Rec. text', 'SuR answer', 'WG session'" in message
    assert "--map state=HEADER" in message
    assert not (tmp_path / "out.ttl").exists()


def test_map_names_the_columns(tmp_path):
    out = tmp_path / "out.ttl"
    report = run_import("upr", ["upr-custom.tsv"], out, field_map=[
        "state=Country reviewed", "text=rec. TEXT", "response=SuR answer", "session=WG session"])
    assert report.files[0].delimiter == "\t"
    assert report.files[0].columns["recommending_state"] == "Recommended by"   # a known variant
    g = parse_file(out)
    recs = recommendations(g)
    assert {g.value(r, HRKG.recommendingState) for r in recs.values()} == {
        URIRef(STATE + c) for c in ("USA", "RUS", "IRN")}
    assert g.value(recs[2], HRKG.review) == URIRef(REV + "VNM-IV")              # session 46
    assert (g.value(URIRef(REV + "VNM-IV"), HRKG.session)) == Literal(46)


def test_title_lines_above_the_header_are_skipped_and_said(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("UPR Info database export\nGenerated 2024-05-01\n\n"
                    "State under Review,Recommending State,Recommendation,Response,Session\n"
                    "Viet Nam,Norway,Text,Noted,32\n", encoding="utf-8")
    report = import_files("upr", [path], tmp_path / "out.nt")
    assert report.records == 1
    assert "the header row comes after other lines, which were skipped: line 4" in report.summary()
    assert sorted(recommendations(parse_file(tmp_path / "out.nt"))) == [5]


@pytest.mark.parametrize("pair, message", [
    ("colour=Response", "unknown field 'colour'; fields: state, recommending_state"),
    ("text", "must be written FIELD=HEADER"),
    ("text=Nope", "--map text=Nope: no column 'Nope'"),
])
def test_bad_map(tmp_path, pair, message):
    with pytest.raises((UsageError, LoadError), match=message):
        run_import("upr", ["upr-latin1-cr.csv"], tmp_path / "out.ttl", field_map=[pair])


# ---- state names ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [
    ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("VIET NAM", "VNM"),
    ("Cote d'Ivoire", "CIV"), ("Côte d'Ivoire", "CIV"), ("Côte d\u2019Ivoire", "CIV"),
    ("Bolivia (Plurinational State of)", "BOL"), ("DPR Korea", "PRK"),
    ("Democratic People's Republic of Korea", "PRK"), ("Korea (Republic of)", "KOR"),
    ("Swaziland", "SWZ"), ("Eswatini", "SWZ"), ("Macedonia FYR", "MKD"),
    ("The former Yugoslav Republic of Macedonia", "MKD"), ("Libyan Arab Jamahiriya", "LBY"),
    ("Trinidad & Tobago", "TTO"), ("Trinidad and Tobago", "TTO"), ("Saint Kitts & Nevis", "KNA"),
    ("St. Kitts and Nevis", "KNA"), ("Türkiye", "TUR"), ("Turkey", "TUR"), ("Czechia", "CZE"),
    ("Czech Republic", "CZE"), ("Holy See", "VAT"), ("State of Palestine", "PSE"),
    ("United Kingdom", "GBR"), ("UK", "GBR"), ("USA", "USA"), ("Russian Federation", "RUS"),
    ("Iran (Islamic Republic of)", "IRN"), ("Venezuela", "VEN"),
    ("Micronesia (Federated States of)", "FSM"), ("Lao PDR", "LAO"), ("Republic of Moldova", "MDA"),
    ("Moldova (Republic of)", "MDA"), ("Cabo Verde", "CPV"), ("Cape Verde", "CPV"),
    ("Congo (Democratic Republic of the)", "COD"), ("Congo", "COG"), ("Gambia (The)", "GMB"),
    ("the Bahamas", "BHS"), ("Netherlands (Kingdom of the)", "NLD"), ("Germany 4,5", "DEU"),
    ("Niger", "NER"), ("Nigeria", "NGA"), ("Dominica", "DMA"), ("Dominican Republic", "DOM"),
])
def test_real_state_spellings_resolve(reference, name, code):
    assert StateNames(reference.codes).resolve(name) == (code,)


def test_joint_recommendations_resolve_to_every_state_and_unknown_names_do_not(reference):
    names = StateNames(reference.codes)
    assert names.resolve("Norway; Sweden") == ("NOR", "SWE")
    for name in ("Atlantis", "Serbia and Montenegro", "European Union", "Cook Islands", "Norway; Atlantis"):
        assert names.resolve(name) is None


def test_unresolved_recommending_state_is_reported_with_its_line_and_kept(tmp_path):
    out = tmp_path / "out.ttl"
    report = run_import("upr", ["upr-latin1-cr.csv"], out)
    assert report.unresolved == [("upr-latin1-cr.csv", 7, "recommending state", "Nrway")]
    assert "recommending state 'Nrway' (did you mean NOR" in report.summary()
    assert "line 7" in report.summary()
    g = parse_file(out)
    rec = recommendations(g)[7]
    assert str(g.value(rec, HRKG.recommendingStateName)) == "Nrway"
    assert g.value(rec, HRKG.recommendingState) is None


def test_strict_makes_an_unresolved_name_fatal_and_leaves_the_output_alone(tmp_path):
    out = tmp_path / "out.ttl"
    out.write_text("previous content", encoding="utf-8")
    with pytest.raises(ImportRowError, match=r"1 state name did not resolve \(--strict\)") as err:
        run_import("upr", ["upr-latin1-cr.csv"], out, strict=True)
    assert err.value.exit_code == 2
    assert err.value.report.unresolved == [("upr-latin1-cr.csv", 7, "recommending state", "Nrway")]
    assert out.read_text(encoding="utf-8") == "previous content"
    assert os.listdir(tmp_path) == ["out.ttl"]   # no temporary file left behind


# ---- broken rows ----------------------------------------------------------------------------

BROKEN = [
    (4, "expected 6 fields, found 4"),
    (5, "action category '7' is not 1 to 5"),
    (6, "no text (column 'Recommendation' is empty)"),
    (7, "session 'abc' is not a session number"),
    (8, "state under review 'Atlantis' is not a known state"),
    (9, "cannot tell the UPR cycle: session 60 is outside the known cycles"),
]


def test_broken_rows_are_reported_by_line_and_nothing_is_written(tmp_path):
    out = tmp_path / "out.ttl"
    with pytest.raises(ImportRowError, match="nothing written .*6 rows rejected .*--partial") as err:
        run_import("upr", ["upr-broken.csv"], out)
    rejected = err.value.report.rejected
    assert [line for _, line, _ in rejected] == [line for line, _ in BROKEN]
    for (_, _, reason), (_, expected) in zip(rejected, BROKEN):
        assert reason.startswith(expected)
    assert not out.exists() and os.listdir(tmp_path) == []


def test_partial_writes_the_good_rows(tmp_path):
    out = tmp_path / "out.ttl"
    report = run_import("upr", ["upr-broken.csv"], out, partial=True)
    assert report.written and report.records == 2 and len(report.rejected) == 6
    assert sorted(recommendations(parse_file(out))) == [2, 10]   # row 2 spans lines 2-3


def test_a_quote_left_open_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text("State under Review,Recommending State,Recommendation,Response,Session\n"
                    "Viet Nam,Norway,Fine,Noted,32\n"
                    'Viet Nam,Norway,"Never closed,Noted,32\n'
                    "Viet Nam,Norway,Swallowed,Noted,32\n", encoding="utf-8")
    with pytest.raises(ImportRowError) as err:
        import_files("upr", [path], tmp_path / "out.ttl")
    [(_, line, reason)] = err.value.report.rejected
    assert line == 3 and "never closed (it runs to line 4, the end of the file)" in reason


def test_contradicting_cycle_and_session_is_rejected(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("SuR,Recommending State,Recommendation,Response,Session,Cycle\n"
                    "Viet Nam,Norway,Text,Noted,18,III\n", encoding="utf-8")
    with pytest.raises(ImportRowError) as err:
        import_files("upr", [path], tmp_path / "out.ttl")
    assert err.value.report.rejected == [("c.csv", 2, "cycle 'III' contradicts session 18 (a session of cycle II)")]


# ---- cycles ---------------------------------------------------------------------------------

def test_session_ranges_of_the_cycles():
    assert SESSION_CYCLES == ((1, 12, "I"), (13, 26, "II"), (27, 40, "III"), (41, 54, "IV"))
    assert [cycle_of_session(s) for s in (1, 12, 13, 26, 27, 40, 41, 54)] == [
        "I", "I", "II", "II", "III", "III", "IV", "IV"]
    assert cycle_of_session(55) is None and cycle_of_session(0) is None


def test_cycle_of_session_agrees_with_every_bundled_review():
    # Viet Nam: sessions 5, 18, 32, 46 in cycles I, II, III, IV (data/upr.ttl)
    g = Graph()
    parse_file(Path(__file__).resolve().parent.parent / "data" / "upr.ttl", g)
    reviews = list(g.subjects(RDF.type, HRKG.UPRReview))
    assert len(reviews) == 4
    for review in reviews:
        cycle = str(g.value(review, HRKG.cycle)).rsplit("/", 1)[-1]
        assert cycle_of_session(int(g.value(review, HRKG.session))) == cycle


# ---- provenance, formats, queries, validation -------------------------------------------------

def test_every_record_cites_the_file_by_sha256_with_its_line(tmp_path):
    out = tmp_path / "out.ttl"
    run_import("upr", ["upr-latin1-cr.csv"], out)
    g = parse_file(out)
    digest = hashlib.sha256((FIXTURES / "upr-latin1-cr.csv").read_bytes()).hexdigest()
    [source] = list(g.subjects(RDF.type, HRKG.ImportedFile))
    assert str(source) == f"https://w3id.org/hrkg/id/source/sha256-{digest}"
    assert g.value(source, HRKG.sha256) == Literal(digest)
    assert g.value(source, HRKG.fileName) == Literal("upr-latin1-cr.csv")
    assert g.value(source, HRKG.reflects) == URIRef("https://w3id.org/hrkg/id/source/ohchr-upr")
    for rec in g.subjects(RDF.type, HRKG.Recommendation):
        assert g.value(rec, DCTERMS.source) == source
        assert g.value(rec, HRKG.row).datatype == URIRef("http://www.w3.org/2001/XMLSchema#integer")


def test_ntriples_and_turtle_hold_the_same_triples(tmp_path):
    run_import("upr", ["upr-latin1-cr.csv", "upr-utf8-bom.csv"], tmp_path / "out.nt")
    run_import("upr", ["upr-latin1-cr.csv", "upr-utf8-bom.csv"], tmp_path / "out.ttl")
    nt, ttl = parse_file(tmp_path / "out.nt"), parse_file(tmp_path / "out.ttl")
    assert len(nt) == len(ttl) > 150 and set(nt) == set(ttl)


def test_same_recommendation_same_iri_whatever_the_encoding(tmp_path):
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes((FIXTURES / "upr-latin1-cr.csv").read_bytes().decode("latin-1")
                     .replace("\r", "\r\n").encode("utf-8"))
    run_import("upr", ["upr-latin1-cr.csv"], tmp_path / "a.nt")
    import_files("upr", [utf8], tmp_path / "b.nt")
    ids = [set(parse_file(tmp_path / n).subjects(RDF.type, HRKG.Recommendation)) for n in ("a.nt", "b.nt")]
    assert ids[0] == ids[1] and len(ids[0]) == 9


def test_an_exact_repeat_is_kept_as_a_second_recommendation(tmp_path):
    path = tmp_path / "r.csv"
    row = "Viet Nam,Norway,Same text,Noted,32\n"
    path.write_text("State under Review,Recommending State,Recommendation,Response,Session\n" + row + row,
                    encoding="utf-8")
    report = import_files("upr", [path], tmp_path / "out.nt")
    assert report.records == 2
    assert "repeats an earlier one" in report.summary() and "line 3" in report.summary()
    assert len(set(parse_file(tmp_path / "out.nt").subjects(RDF.type, HRKG.Recommendation))) == 2


# imported_kg (bundled data + these fixtures imported) is in conftest.py; test_queries uses it too.


def q(kg, name, **params):
    return kg.query(name, params).as_dicts()


def test_recommendations_query_over_imported_files(imported_kg):
    rows = q(imported_kg, "recommendations", state="VNM", cycle="III")
    assert len(rows) == 11
    first = rows[0]
    assert (first["cycle"], first["session"], first["paragraph"], first["recommending_state"]) == ("III", 32, "38.1", "CIV")
    assert (first["response"], first["response_text"], first["action_category"]) == ("supported", "Supported", 3)
    assert set(first["themes"].split(", ")) == {"Right to education", "Rights of the Child"}
    assert (first["file"], first["row"]) == ("upr-latin1-cr.csv", 2)
    assert [r["row"] for r in rows if r["file"] == "upr-utf8-bom.csv"] == [2, 3, 5, 6]


def test_recommendations_query_filters(imported_kg):
    noted = q(imported_kg, "recommendations", state="VNM", response="noted")
    assert sorted(r["paragraph"] for r in noted if r["cycle"] == "III") == ["38.11", "38.2", "38.5"]
    assert [(r["file"], r["row"]) for r in noted if r["cycle"] == "IV"] == [("upr-custom.tsv", 2)]
    assert [r["paragraph"] for r in q(imported_kg, "recommendations", state="VNM",
                                      response="Partially accepted")] == ["38.6"]
    by_uk = q(imported_kg, "recommendations", state="VNM", recommending_state="United Kingdom")
    assert [r["paragraph"] for r in by_uk] == ["38.11"]
    torture = q(imported_kg, "recommendations", state="VNM", theme="torture and other cid")
    assert [(r["recommending_state"], r["row"]) for r in torture] == [("Nrway", 7)]
    swaziland = q(imported_kg, "recommendations", state="SWZ")
    assert [(r["cycle"], r["session"], r["recommending_state"], r["response"]) for r in swaziland] == [
        ("I", 12, "CZE", "noted"), ("I", 12, "KNA", "supported")]
    assert q(imported_kg, "recommendations", state="VNM", cycle="I") == []


def test_imported_recommendations_join_the_bundled_reviews(imported_kg):
    reviews = {r["cycle"]: r for r in q(imported_kg, "upr-reviews", state="VNM")}
    # the bundled review keeps its reported totals and its session; no second review appears
    assert len(reviews) == 4
    assert (reviews["III"]["session"], reviews["III"]["recommendations"], reviews["III"]["supported"]) == (32, 291, 241)
    # a review only the import knows is counted from its recommendations
    swz = q(imported_kg, "upr-reviews", state="SWZ")
    assert [(r["cycle"], r["session"], r["recommendations"], r["supported"], r["noted"]) for r in swz] == [
        ("I", 12, 2, 1, 1)]


def test_imported_treaty_actions_join_the_bundled_ones(imported_kg):
    status = {r["instrument"]: r for r in q(imported_kg, "treaty-status", state="VNM")}
    assert str(status["CAT"]["signed"]) == "2013-11-07" and str(status["CAT"]["consented"]) == "2015-02-05"
    deu = {r["instrument"]: r for r in q(imported_kg, "treaty-status", state="DEU")}
    assert (str(deu["CAT"]["consented"]), deu["CAT"]["consent_type"]) == ("1990-10-01", "ratification")
    cze = {r["instrument"]: r for r in q(imported_kg, "treaty-status", state="Czech Republic")}
    assert (str(cze["CAT"]["consented"]), cze["CAT"]["consent_type"]) == ("1993-02-22", "succession")
    parties = {r["state"] for r in q(imported_kg, "parties", instrument="CAT", as_of="2015-12-31")}
    assert {"AFG", "BOL", "KHM", "CIV", "CZE", "DEU", "VAT", "PSE", "TUR", "GBR", "VNM"} <= parties


def test_imported_output_validates(imported_kg):
    report = imported_kg.validate()
    assert report.violations == []


# ---- UN Treaty Collection ------------------------------------------------------------------

def actions(graph):
    """{(state, kind): (class, date, marker)} of the treaty actions in ``graph``."""
    found = {}
    for s in graph.subjects(HRKG.instrument, None):
        state, _, kind = str(s)[len(ACT):].partition("-")
        kind = kind.rsplit("-", 1)[-1]
        marker = graph.value(s, HRKG.depositaryMarker)
        found[(state, kind)] = (graph.value(s, RDF.type), str(graph.value(s, HRKG.date)), marker and str(marker))
    return found


def test_untc_html_page_with_footnotes_and_markers(tmp_path):
    out = tmp_path / "cat.nt"
    report = run_import("untc", ["untc-cat.html"], out)
    f = report.files[0]
    assert f.instrument == "CAT"                        # from the page's address (mtdsg_no=IV-9)
    assert (f.rows_read, f.records, f.rejected, f.unresolved) == (11, 17, [], [])
    g = parse_file(out)
    found = actions(g)
    assert found[("VNM", "signature")] == (HRKG.Signature, "2013-11-07", None)
    assert found[("VNM", "ratification")] == (HRKG.Ratification, "2015-02-05", None)
    assert found[("DEU", "signature")] == (HRKG.Signature, "1986-10-13", None)   # 'Germany<sup>6,7</sup>'
    assert found[("CZE", "succession")] == (HRKG.Succession, "1993-02-22", None)  # '22 Feb 1993 d'
    assert found[("CIV", "accession")] == (HRKG.Accession, "1995-12-18", None)    # '18&nbsp;Dec&nbsp;1995&nbsp;a'
    assert found[("PSE", "accession")] == (HRKG.Accession, "2014-04-02", None)
    # the IRIs of data/treaties/vnm.ttl, so the import and the bundle describe the same events
    rat = URIRef(ACT + "VNM-CAT-ratification")
    assert (rat, HRKG.consentingState, URIRef(STATE + "VNM")) in g
    assert g.value(rat, HRKG.row) == Literal(32)
    assert g.value(URIRef(ACT + "DEU-CAT-ratification"), HRKG.row) == Literal(23)   # where its <tr> starts


def test_untc_csv_with_a_title_line_and_footnotes(tmp_path):
    out = tmp_path / "cat.ttl"
    report = run_import("untc", ["untc-cat.csv"], out)
    assert report.files[0].instrument == "CAT"          # from the title line above the table
    found = actions(parse_file(out))
    assert found[("DEU", "ratification")] == (HRKG.Ratification, "1990-10-01", None)   # '"Germany 6,7"'
    assert found[("CZE", "succession")] == (HRKG.Succession, "1993-02-22", None)       # '"Czechia 4,5"'
    assert found[("VAT", "accession")] == (HRKG.Accession, "2002-06-26", None)
    assert found[("VNM", "ratification")] == (HRKG.Ratification, "2015-02-05", None)
    assert len(found) == 9


def test_untc_participant_that_is_not_a_state_is_reported_and_strict_is_fatal(tmp_path):
    out = tmp_path / "crpd.nt"
    report = run_import("untc", ["untc-crpd.csv"], out, instrument="crpd")
    assert report.unresolved == [("untc-crpd.csv", 2, "participant", "European Union")]
    assert "participant 'European Union': line 2" in report.summary()
    assert actions(parse_file(out)) == {("VNM", "signature"): (HRKG.Signature, "2007-10-22", None),
                                        ("VNM", "ratification"): (HRKG.Ratification, "2015-02-05", None)}
    with pytest.raises(ImportRowError, match="did not resolve"):
        run_import("untc", ["untc-crpd.csv"], tmp_path / "strict.nt", instrument="CRPD", strict=True)
    assert not (tmp_path / "strict.nt").exists()


def test_untc_instrument_must_be_known_and_agree_with_the_page(tmp_path):
    with pytest.raises(UsageError, match="cannot tell which instrument .* give --instrument CODE, one of CAT, CEDAW"):
        run_import("untc", ["untc-crpd.csv"], tmp_path / "out.nt")
    with pytest.raises(UsageError, match="the page is the status of CAT, not of --instrument OPCAT"):
        run_import("untc", ["untc-cat.html"], tmp_path / "out.nt", instrument="OP-CAT")
    with pytest.raises(UsageError, match="C087 is not deposited with the UN Secretary-General"):
        run_import("untc", ["untc-cat.csv"], tmp_path / "out.nt", instrument="C087")


def test_untc_dates():
    assert parse_untc_date("24 Sep 1982 a") == ("1982-09-24", "a")
    assert parse_untc_date("6 Jun 2019 d") == ("2019-06-06", "d")
    assert parse_untc_date("12 Mar 2001 A") == ("2001-03-12", "A")
    assert parse_untc_date("3 September 1990 AA") == ("1990-09-03", "AA")
    assert parse_untc_date("5 Feb 2015") == ("2015-02-05", "")
    assert parse_untc_date("2015-02-05") == ("2015-02-05", "")
    for bad in ("31 Feb 1990", "7 Nox 2013", "Nov 2013", "yesterday"):
        with pytest.raises(Exception, match="date"):
            parse_untc_date(bad)


def test_untc_broken_dates_and_markers_are_rejected_by_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Participant,Signature,\"Ratification, Accession(a), Succession(d)\"\n"
                    "Viet Nam,7 Nov 2013,5 Feb 2015\n"
                    "Germany,31 Feb 1986,1 Oct 1990\n"
                    "Cambodia,,15 Oct 1992 x\n", encoding="utf-8")
    with pytest.raises(ImportRowError) as err:
        import_files("untc", [path], tmp_path / "out.nt", instrument="CAT")
    rejected = err.value.report.rejected
    assert [(line, reason.split(":")[0]) for _, line, reason in rejected] == [
        (3, "date '31 Feb 1986' is not a valid calendar date"),
        (4, "'Ratification, Accession(a), Succession(d)'")]
    assert "unknown marker 'x'" in rejected[1][2]


def test_acceptance_and_approval_are_consents_that_keep_their_marker():
    legend = action_legend("Ratification, Acceptance(A), Approval(AA), Accession(a), Succession(d)", CONSENT_LEGEND)
    assert legend == {"": "ratification", "A": "acceptance", "AA": "approval", "a": "accession",
                      "d": "succession", "c": "formal confirmation", "s": "definitive signature"}
    assert FORMS[legend["A"]] == (HRKG.ConsentToBeBound, "acceptance")
    assert FORMS[legend["AA"]] == (HRKG.ConsentToBeBound, "approval")
    assert FORMS[legend["a"]] == (HRKG.Accession, "accession")


def test_acceptance_is_written_as_consent_to_be_bound_with_the_marker(reference):
    from hrkg.importers.report import FileReport
    from hrkg.importers.untc import UNTCImporter
    stream = io.StringIO()
    importer = UNTCImporter(reference, RDFWriter(stream, "nt"), instrument="CRC")
    report = FileReport("t.csv", "0" * 64, 0, "utf-8", "LF")
    importer.write_action("NLD", "CRC", "1995-02-06", "A", "acceptance", 7, report, IRI("https://example.org/f"))
    g = Graph().parse(data=stream.getvalue(), format="nt")
    action = URIRef(ACT + "NLD-CRC-acceptance")
    assert g.value(action, RDF.type) == HRKG.ConsentToBeBound
    assert g.value(action, HRKG.depositaryMarker) == Literal("A")
    assert g.value(action, HRKG.consentingState) == URIRef(STATE + "NLD")


# ---- files and options ------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"", "file is empty"),
    (b"PK\x03\x04\x14\x00", "zip archive"),
    (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "HTML page"),
    (b"just one line\n", "cannot find the 'state' column"),
])
def test_files_that_are_not_exports(tmp_path, content, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        import_files("upr", [path], tmp_path / "out.nt")


def test_options_are_checked(tmp_path):
    with pytest.raises(UsageError, match="use a .nt .* or .ttl"):
        run_import("upr", ["upr-latin1-cr.csv"], tmp_path / "out.json")
    with pytest.raises(UsageError, match="unknown import kind 'ilo'"):
        run_import("ilo", ["upr-latin1-cr.csv"], tmp_path / "out.nt")
    with pytest.raises(LoadError, match="no such file"):
        import_files("upr", [tmp_path / "missing.csv"], tmp_path / "out.nt")


def test_progress_lines_for_long_imports(tmp_path, monkeypatch):
    import hrkg.importers.report
    monkeypatch.setattr(hrkg.importers.report, "PROGRESS_SECONDS", 0)
    path = tmp_path / "long.csv"
    path.write_text("State under Review,Recommending State,Recommendation,Response,Session\n"
                    + "".join(f"Viet Nam,Norway,Recommendation {i},Noted,32\n" for i in range(2500)), encoding="utf-8")
    progress = io.StringIO()
    report = import_files("upr", [path], tmp_path / "out.nt", progress=progress)
    assert report.records == 2500
    assert [line.split(" rows read")[0] for line in progress.getvalue().splitlines()] == [
        "long.csv: 1,000", "long.csv: 2,000"]


# ---- CLI ------------------------------------------------------------------------------------

def cli(argv, capsys):
    code = main(argv, out=io.StringIO())
    return code, capsys.readouterr().err


def test_cli_import_writes_and_summarises(tmp_path, capsys):
    out = tmp_path / "out.ttl"
    code, err = cli(["import", "upr", str(FIXTURES / "upr-latin1-cr.csv"), "-o", str(out)], capsys)
    assert code == 0 and out.exists()
    assert "encoding cp1252; line endings CR" in err
    assert "rows read 9; records 9; rows rejected 0" in err
    assert "'Rejected' 1 -> noted" in err and "'Partially accepted' 1 -> response text only" in err
    assert "recommending state 'Nrway' (did you mean NOR, RWA, NRU?): line 7" in err


def test_cli_broken_rows_exit_2_with_line_numbers(tmp_path, capsys):
    out = tmp_path / "out.ttl"
    code, err = cli(["import", "upr", str(FIXTURES / "upr-broken.csv"), "-o", str(out)], capsys)
    assert code == 2 and not out.exists()
    assert "upr-broken.csv:5: action category '7' is not 1 to 5" in err
    assert "hrkg: error: nothing written to" in err
    code, err = cli(["import", "upr", str(FIXTURES / "upr-broken.csv"), "-o", str(out), "--partial"], capsys)
    assert code == 0 and out.exists() and "rejected rows left out (--partial)" in err


def test_cli_strict_map_and_quiet(tmp_path, capsys):
    out = tmp_path / "out.nt"
    code, err = cli(["import", "upr", str(FIXTURES / "upr-latin1-cr.csv"), "-o", str(out), "--strict"], capsys)
    assert code == 2 and "did not resolve (--strict)" in err and not out.exists()
    code, err = cli(["import", "upr", str(FIXTURES / "upr-custom.tsv"), "-o", str(out), "-q",
                     "--map", "state=Country reviewed", "--map", "text=Rec. text", "--map", "response=SuR answer",
                     "--map", "session=WG session"], capsys)
    assert code == 0 and err == ""                        # nothing to look at: quiet
    code, err = cli(["import", "untc", str(FIXTURES / "untc-crpd.csv"), "-o", str(out), "-q",
                     "--instrument", "CRPD"], capsys)
    assert code == 0 and "participant 'European Union': line 2" in err   # quiet still says this


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    code, err = cli(["import", "upr", str(FIXTURES / "upr-custom.tsv"), "-o", str(tmp_path / "o.nt")], capsys)
    assert code == 2 and "--map state=HEADER" in err
    code, err = cli(["import", "upr", str(FIXTURES / "upr-latin1-cr.csv"), "-o", str(tmp_path / "o.nt"),
                     "--instrument", "CAT"], capsys)
    assert code == 2 and "--instrument is for 'hrkg import untc'" in err


# ---- fuzzing: any input gives a result or a clean error --------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UPR_HEADER = "State under Review,Recommending State,Recommendation,Response,Session,Action Category,Issues\n"
CSVISH = st.lists(st.sampled_from(list('ab,;"\r\n\t &#;12 3x') + ["Viet Nam", "Norway", "&amp;", "é", "\x00",
                                                                   "32", "99", "\u2028", "Atlantis"]),
                  max_size=120).map("".join)


def fuzz_import(kind, data, **options):
    """Import ``data``: the outcome is a written, parseable file or an HrkgError; never anything else."""
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "in.csv", Path(folder) / "out.nt"
        path.write_bytes(data)
        try:
            report = import_files(kind, [path], out, **options)
        except HrkgError:
            assert not out.exists()
            return
        assert report.written and out.exists()
        if report.records:
            parse_file(out)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    fuzz_import("upr", data)
    fuzz_import("untc", data, instrument="CAT")


@FUZZ
@given(CSVISH)
def test_fuzz_csv_like_upr_text(text):
    fuzz_import("upr", (UPR_HEADER + text).encode("utf-8"), partial=True)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["Viet Nam", "Germany 4,5", "Cook Islands", "", "x"]),
                          st.sampled_from(["", "7 Nov 2013", "31 Feb 2001", "1 Oct 1990 a", "5 Feb 2015 AA", "?"]),
                          st.sampled_from(["", "5 Feb 2015", "6 Jun 2019 d", "12 Mar 2001 A", "bad"])), max_size=6),
       st.booleans())
def test_fuzz_untc_tables(rows, as_html):
    if as_html:
        body = "".join(f"<tr><td>{p}</td><td>{s}</td><td>{c}" for p, s, c in rows)
        data = f"<html><table><tr><td>Participant<td>Signature<td>Ratification, Accession(a){body}</table>"
    else:
        data = "Participant,Signature,Ratification\n" + "".join(f'"{p}",{s},{c}\n' for p, s, c in rows)
    fuzz_import("untc", data.encode("utf-8"), instrument="CAT", partial=True)


@FUZZ
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_fuzz_literals_survive_the_writer(text):
    """Any text, control characters included, reads back unchanged with rdflib and with
    pyoxigraph (a strict parser, the store's) where it is installed."""
    for fmt, parser in (("nt", "nt"), ("ttl", "turtle")):
        stream = io.StringIO()
        RDFWriter(stream, fmt).resource(IRI("https://example.org/s"), [(IRI("https://example.org/p"), text)])
        g = Graph().parse(data=stream.getvalue(), format=parser)
        assert str(next(iter(g))[2]) == text
        if pyoxigraph is not None:
            oxformat = pyoxigraph.RdfFormat.N_TRIPLES if fmt == "nt" else pyoxigraph.RdfFormat.TURTLE
            [quad] = list(pyoxigraph.parse(stream.getvalue().encode("utf-8"), format=oxformat))
            assert quad.object.value == text
