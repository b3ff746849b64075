"""The state page's "Recommendations to join treaties and what followed" (issue 14), from the stored
query recommendation-followup over a store built from real first-cycle recommendations
(tests/fixtures/asks/upr-excerpt.csv), Viet Nam's third cycle (tests/fixtures/import/upr-latin1-cr.csv)
and tests/fixtures/web-followup/upr-followup.csv (the second-cycle wording issue 14 quotes, Bhutan,
DPR Korea): per instrument and ask, the cycles that asked with the responses, and what followed;
"none yet" only where a complete record says so, "unknown" where the graph has none; an honest line
for a state without recommendations. Built in-process, served by `hrkg serve`, seen in Chromium."""
import datetime as dt
from pathlib import Path

import pytest

from test_pages import SCREENS, browser, page, visit  # noqa: F401  (fixtures)
from test_serve import HTTP, start_server


FIXTURES = Path(__file__).parent / "fixtures"
STATE = "https://w3id.org/hrkg/id/state/"
KNOWN = dt.date(2026, 2, 3)    # the UN Treaty Collection pages of the bundled ledger


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_build):
    from hrkg.importers.run import import_files

    def inputs(folder):
        files = [folder / "excerpt.nt", folder / "vnm-iii.nt", folder / "followup.nt"]
        import_files("upr", [FIXTURES / "asks" / "upr-excerpt.csv"], files[0])
        import_files("upr", [FIXTURES / "import" / "upr-latin1-cr.csv"], files[1])
        import_files("upr", [FIXTURES / "web-followup" / "upr-followup.csv"], files[2])
        return files
    store = shared_build("followup-pages", inputs, tmp_path_factory.mktemp("followup-pages") / "store")
    with start_server(store) as (base, _):
        yield base, store


@pytest.fixture(scope="module")
def kg(served):
    from hrkg.graph import KnowledgeGraph
    return KnowledgeGraph.open_store(served[1], build_if_needed=False)


def followup(kg, code, as_of=None):
    from hrkg.web import pages
    date = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    return pages.treaty_followup(kg, code, date, as_of)


def groups(section):
    return {(g["instrument"], g["ask"]): g for g in section["groups"]}


def cycles(group):
    return [(c["cycle"], c["count"], dict(c["responses"])) for c in group["cycles"]]


def test_viet_nam_cat_asked_in_two_cycles_then_ratified(kg):
    section = followup(kg, "VNM")
    by = groups(section)
    cat = by[("CAT", "join")]
    # cycle I: four real recommendations (AUS, SWE, DZA, CHL), all supported; cycle II: "Ratify CAT" (supported),
    # "Ratify CAT and its Optional Protocol" (noted), "Ratify CRPD, CAT, CPED and ICRMW" (supported)
    assert cycles(cat) == [("I", 4, {"supported": 4}), ("II", 3, {"supported": 2, "noted": 1})]
    assert cat["states"] == 7 and cat["count"] == 7
    assert cat["followed"] == {"kind": "acted", "action": "ratification", "date": dt.date(2015, 2, 5), "asked_after": 0}
    crpd = by[("CRPD", "join")]
    assert cycles(crpd) == [("I", 2, {"supported": 2}), ("II", 1, {"supported": 1})]
    assert crpd["followed"]["date"] == dt.date(2015, 2, 5)
    # OPCAT: noted in every cycle that asked; the complete record shows no deposit: none yet
    opcat = by[("OPCAT", "join")]
    assert cycles(opcat) == [("I", 1, {"noted": 1}), ("II", 1, {"noted": 1}), ("III", 1, {"noted": 1})]
    assert opcat["followed"] == {"kind": "none", "known": KNOWN}
    assert by[("ICCPR-OP2", "join")]["followed"]["kind"] == "none"
    assert by[("CPED", "join")]["followed"]["kind"] == "none" and len(by[("CPED", "join")]["cycles"]) == 2
    # the ILO Forced Labour Convention was ratified in 2007, before the 2009 review asked
    assert by[("C029", "join")]["followed"] == {"kind": "before", "action": "ratification", "date": dt.date(2007, 3, 5)}
    # UN instruments first, then ILO conventions
    assert [g["instrument"] for g in section["groups"]] == ["CAT", "CPED", "CRPD", "ICCPR-OP2", "ICMW", "OPCAT", "C029"]
    # "Continue to accede to international human rights instruments": names none, linked to none
    assert all(g["instrument"] for g in section["groups"])
    # 14 + 7 + 4 texts to Viet Nam in the three fixtures; 10 + 1 + 4 of them name a treaty and ask
    assert section["recommendations"] == 25 and section["asking"] == 15


def test_as_of_before_the_deposit(kg):
    section = followup(kg, "VNM", "2014-12-31")
    by = groups(section)
    # the total counts what the rows count: the 7 third-cycle texts (reviewed 2019) are after as_of
    # (the session-18 texts have no dated session, so they stay, as they do in the rows)
    assert section["recommendations"] == 25 - 7
    assert by[("CAT", "join")]["followed"] == {"kind": "none", "known": dt.date(2014, 12, 31)}
    assert [c["cycle"] for c in by[("OPCAT", "join")]["cycles"]] == ["I", "II"]   # cycle III was 2019


def test_unknown_where_the_graph_has_no_status_record(kg):
    # Bhutan is no ILO member: the graph has no record of its ILO conventions
    bhutan = groups(followup(kg, "BTN"))
    assert set(bhutan) == {("C138", "join"), ("C182", "join")}
    assert all(g["followed"] == {"kind": "unknown", "has_record": False} for g in bhutan.values())
    korea = groups(followup(kg, "PRK"))
    assert korea[("C182", "join")]["followed"]["kind"] == "unknown"
    assert korea[("CAT", "join")]["followed"] == {"kind": "none", "known": KNOWN}
    assert korea[("OPCAT", "join")]["followed"]["kind"] == "none"
    # DPR Korea ratified CRPD in 2016, after its 2009 review
    assert korea[("CRPD", "join")]["followed"] == {"kind": "acted", "action": "ratification",
                                                    "date": dt.date(2016, 12, 6), "asked_after": 0}
    assert dict(korea[("CRPD", "join")]["cycles"][0]["responses"]) == {"noted": 1}


def test_honest_lines_without_treaty_recommendations(kg):
    swaziland = followup(kg, "SWZ")     # two recommendations, neither names a treaty
    assert swaziland == {"groups": [], "recommendations": 2, "asking": 0}
    assert followup(kg, "FRA") == {"groups": [], "recommendations": 0, "asking": 0}


def test_without_the_stored_query_the_section_is_left_out(kg, monkeypatch):
    from hrkg.web import pages
    from hrkg.web.replies import environment
    monkeypatch.setattr(kg.catalog, "_queries", {k: v for k, v in kg.catalog._queries.items()
                                                 if k != "recommendation-followup"})
    data = pages.state_page(kg, STATE + "VNM")
    assert data["followup"] is None
    html = environment().get_template("state.html").render(**data)
    assert 'id="followup"' not in html and 'id="upr"' in html


def test_served_page_section(url):
    html = HTTP.get(url + "/id/state/VNM", headers={"Accept": "text/html"}, timeout=60).text
    assert '<h2 id="followup">Recommendations to join treaties and what followed</h2>' in html
    cat = html[html.index('id="followup-CAT-join"'):].split("</tr>")[0]
    assert "<b>I</b>: 4 (4 supported)<br><b>II</b>: 3 (2 supported, 1 noted)" in cat
    assert "ratification 2015-02-05" in cat and "/search?state=VNM&amp;instrument=CAT&amp;ask=join" in cat
    opcat = html[html.index('id="followup-OPCAT-join"'):].split("</tr>")[0]
    assert "none yet" in opcat and "(as of 2026-02-03)" in opcat
    bhutan = HTTP.get(url + "/id/state/BTN", headers={"Accept": "text/html"}, timeout=60).text
    assert "unknown <small" in bhutan and "the graph has no status record for C182" in bhutan
    assert "none yet" not in bhutan[bhutan.index('<table class="followup">'):].split("</table>")[0]
    france = HTTP.get(url + "/id/state/FRA", headers={"Accept": "text/html"}, timeout=60).text
    assert "The graph holds no texts of UPR recommendations to France" in france
    swaziland = HTTP.get(url + "/id/state/SWZ", headers={"Accept": "text/html"}, timeout=60).text
    assert "None of the 2 UPR recommendations to" in swaziland


def test_viet_nam_page_in_chromium(page, url):
    visit(page, url, "/id/state/VNM#followup", shot="state-VNM-followup")
    section = page.locator("table.followup")
    assert section.is_visible()
    row = page.locator("#followup-CAT-join")
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[0] == "CAT" and cells[1] == "join" and cells[3] == "ratification 2015-02-05"
    # the recommendations, collapsed, open without JavaScript
    texts = row.locator("details ul")
    assert not texts.is_visible()
    row.locator("summary").click()
    assert texts.is_visible() and "Accede to CAT in a timely manner." in texts.inner_text()
    assert page.locator("#followup-OPCAT-join td.status").inner_text().startswith("none yet")
    section.screenshot(path=str(SCREENS / "state-VNM-followup-table.png"))
    assert page.requested and all(u.startswith(url) for u in page.requested)
