"""Full-text search over recommendation texts with graph filters (hrkg.search, issue 14), on real
first-cycle recommendations (tests/fixtures/asks/upr-excerpt.csv) plus the import fixtures."""
import sqlite3
from pathlib import Path

import pytest

from hrkg.search import SearchError, build_index, connect, search, to_fts

FIXTURES = Path(__file__).parent / "fixtures"


def test_sqlite_has_fts5_with_porter():
    sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter')")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from hrkg import KnowledgeGraph
    from hrkg.importers.run import import_files
    folder = tmp_path_factory.mktemp("search")
    import_files("upr", [FIXTURES / "asks" / "upr-excerpt.csv"], folder / "excerpt.nt")
    import_files("upr", [FIXTURES / "import" / "upr-latin1-cr.csv"], folder / "upr.nt")
    kg = KnowledgeGraph.open([folder / "excerpt.nt", folder / "upr.nt"], reason=False)   # no inference needed
    path = folder / "search.sqlite"
    counts = build_index(kg.store, path)
    assert counts["recommendations"] >= 19 and counts["asks"] >= 15
    assert not list(folder.glob("search.sqlite.part*"))   # the part file was renamed into place
    return path


def texts(rows):
    return [r["text"] for r in rows]


def test_boolean_query_with_state(index):
    rows = search(index, "CAT AND (ratify OR accede)", {"state": "VNM"})
    assert set(texts(rows)) == {"Accede to CAT in a timely manner.", "Consider acceding to CAT.",
                                "Consider ratifying CAT.", "Consider ratifying the Optional Protocol to CAT as soon as possible."}
    assert all(r["state"] == "VNM" and r["cycle"] == "I" for r in rows)


def test_stemming_and_phrases(index):
    # "ratify" finds "ratifying" (Porter); a phrase keeps its words together
    assert "Consider ratifying CAT." in texts(search(index, "ratify"))
    assert texts(search(index, '"optional protocol to cat"')) == [
        "Consider ratifying the Optional Protocol to CAT as soon as possible."]
    assert "Consider ratifying CAT." not in texts(search(index, "ratify NOT cat"))
    assert texts(search(index, "ratif* AND disabilities", {"state": "vnm"}))   # prefix; codes in any case


def test_filters(index):
    noted = search(index, "", {"state": "VNM", "response": "noted"})
    assert noted and all(r["response"] == "noted" for r in noted)
    assert {r["recommending_state"] for r in search(index, "CAT", {"recommending_state": "CHL"})} == {"CHL"}
    assert texts(search(index, "", {"theme": "indigenous peoples"})) == [
        "Favourably consider the ratification of ILO Convention No. 169 concerning Indigenous and Tribal Peoples "
        "in Independent Countries."]
    assert search(index, "torture", {"cycle": "III", "state": "VNM"})[0]["recommendation"].startswith(
        "https://w3id.org/hrkg/id/")


def test_response_as_published(index):
    """A response wording that is neither supported nor noted is matched on the published text."""
    assert texts(search(index, "information", {"state": "VNM", "response": "partially accepted"})) == [
        "Adopt a law on access to information"]
    assert search(index, "information", {"state": "VNM", "response": "supported"}) == []


def test_instrument_filter_uses_detected_asks(index):
    rows = search(index, "", {"instrument": "OPCAT"})
    assert {r["state"] for r in rows} == {"VNM", "KWT"}    # "Optional Protocol to CAT", "its Optional Protocol"
    assert "OPCAT:join" in rows[0]["instruments"]
    withdraw = search(index, "", {"instrument": "CAT", "ask": "withdraw-reservation"})
    assert texts(withdraw) == ["Withdraw reservations to CAT and accede to its Optional Protocol"]
    # "Sign and ratify the Rome Statute" names no UN instrument: found by text, linked to nothing
    (rome,) = search(index, '"rome statute"', {"state": "VNM", "response": "noted"})
    assert rome["instruments"] == ""


@pytest.mark.parametrize("query", ['"open quote', "(torture", "torture)", "NOT torture", "torture AND", "AND",
                                   "   "])
def test_bad_queries_are_clear_errors(index, query):
    with pytest.raises(SearchError, match="search|empty"):
        search(index, query)


@pytest.mark.parametrize("query", ["text:torture", "x'); DROP TABLE recommendation; --", "NEAR(a b)", "^torture",
                                   "col:*", "\"\"", "a+b-c", "*"])
def test_user_text_is_never_syntax(index, query):
    """Column filters, SQL and FTS5 operators other than AND/OR/NOT are searched as text."""
    try:
        search(index, query)
    except SearchError:
        pass
    assert connect(index).execute("SELECT count(*) FROM recommendation").fetchone()[0] >= 19


def test_to_fts():
    assert to_fts('torture AND (ratify OR accede)') == '"torture" AND ( "ratify" OR "accede" )'
    assert to_fts('"optional protocol" ratif*') == '"optional protocol" "ratif"*'
    assert to_fts('say "x""y"') == '"say" "x"'  + ' "y"'


def test_unknown_filter_and_missing_index(index, tmp_path):
    with pytest.raises(SearchError, match="unknown filter 'country'"):
        search(index, "torture", {"country": "VNM"})
    with pytest.raises(SearchError, match="no search index"):
        search(tmp_path / "none.sqlite", "torture")


def test_the_cli_searches_with_names_and_aliases(tmp_path, capsys, monkeypatch, bundle_without_ledger):
    """`hrkg search` resolves codes as every command does and answers from an index of the graph."""
    from hrkg.cli import main
    from hrkg.importers.run import import_files
    # bundle_without_ledger: the UN Treaty Collection ledger (41,900 of the bundle's 46,960 triples)
    # holds no recommendation, and nothing the search index or the state codes are read from:
    # checked, with the whole bundle and without the ledger the index of this --data graph is the
    # same (every row of its recommendation, ask, theme and meta tables), "vietnam" resolves to the
    # same code, and the three runs below print the same output, errors and exit codes. --data
    # runs never open the default store; its own cache folder all the same, so nothing this test
    # does with the bundle switched could touch the session's.
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "excerpt.nt"
    import_files("upr", [FIXTURES / "asks" / "upr-excerpt.csv"], data)
    assert main(["search", "CAT AND (ratify OR accede)", "state=vietnam", "--data", str(data), "--format", "csv",
                 "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "state,cycle,recommending_state,response,instruments,text,recommendation"
    assert any(",CAT:join,Consider ratifying CAT.," in line for line in lines) and len(lines) == 1 + 5
    assert main(["search", "torture", "state=VNMX", "--data", str(data), "-q"]) == 2
    assert "unknown state code 'VNMX'" in capsys.readouterr().err
    assert main(["search", "(cat", "--data", str(data), "-q"]) == 2
    assert "is not closed" in capsys.readouterr().err


def test_index_holds_the_asks_the_graph_records(tmp_path, excerpt_kg):
    """The index reads the asks the build recorded (hrkg:asksFor), so search instrument=X finds
    exactly the recommendations the follow-up queries show for X."""
    kg = excerpt_kg
    build_index(kg.store, tmp_path / "search.sqlite")
    recorded = {(row["recommendation"], row["instrument"]) for row in kg.query("recommendation-followup", {"as_of": "2030-01-01"}).as_dicts()}
    with sqlite3.connect(tmp_path / "search.sqlite") as conn:
        indexed = set(conn.execute("SELECT r.iri, a.instrument FROM ask a JOIN recommendation r ON r.id = a.rec"))
    assert indexed == {(str(rec), str(instrument)) for rec, instrument in recorded}
    assert len(indexed) >= 15 and ("https://w3id.org/hrkg/id/instrument/CAT" not in {i for _, i in indexed})   # codes, not IRIs


def test_cli_rebuilds_an_index_an_older_hrkg_wrote(tmp_path, excerpt_kg):
    """A search index with another schema (an older hrkg) is rebuilt, not read as if current."""
    from hrkg import KnowledgeGraph
    from hrkg.cli import _search_index
    # the shared graph with a manifest of its own (path None as opened, then set), so the shared
    # one is not changed
    kg = KnowledgeGraph(excerpt_kg.store, dict(excerpt_kg.manifest))
    kg.manifest["path"] = str(tmp_path)
    old = tmp_path / "search.sqlite"
    with sqlite3.connect(old) as conn:
        conn.executescript("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema', '1');")
    assert _search_index(kg) == old
    assert search(old, "CAT AND accede", {"state": "VNM"})   # rebuilt: the old file had no texts
