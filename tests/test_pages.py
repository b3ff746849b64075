"""The pages a person would want (issue 13), at world scale: France's page, the CAT page with its
world map, the WEOG group page, loaded in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright, JavaScript off) from a running `hrkg serve` of the bundled data with the UN Treaty
Collection ledger; plus the page builders in-process: honest words where the graph holds no
record, sections left out when their stored query does not exist, the map's shapes.

Screenshots go to $HRKG_SCREENS (default /tmp/hrkg-screens). HRKG_SKIP_BROWSER=1 skips the
browser tests (not the in-process ones).
"""
import datetime as dt
import os
import time
from pathlib import Path

import pytest

from test_serve import HTTP, start_server


CHROMIUM = os.environ.get("HRKG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path(os.environ.get("HRKG_SCREENS", "/tmp/hrkg-screens"))
SKIP_BROWSER = os.environ.get("HRKG_SKIP_BROWSER") == "1"
PARTY_BLUE = "#2166ac"


@pytest.fixture(scope="module")
def served(tmp_path_factory, copy_bundled_store):
    store = copy_bundled_store(tmp_path_factory.mktemp("pages") / "store")   # the bundled data, built
    with start_server(store) as (base, _):
        yield base, store


@pytest.fixture(scope="module")
def kg(served):
    from hrkg.graph import KnowledgeGraph
    return KnowledgeGraph.open_store(served[1], build_if_needed=False)


@pytest.fixture(scope="module")
def browser():
    if SKIP_BROWSER:
        pytest.skip("HRKG_SKIP_BROWSER=1: browser tests skipped on request")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium, or set HRKG_SKIP_BROWSER=1")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, url):
    """A page with JavaScript off that records every URL it requests."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.requested = []
    tab.on("request", lambda request: tab.requested.append(request.url))
    yield tab
    context.close()


def visit(page, url, path, shot=None):
    response = page.goto(url + path)
    assert response.status == 200, path
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "style-src 'sha256-" in policy
    if shot:
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{shot}.png"), full_page=True)
        assert (SCREENS / f"{shot}.png").stat().st_size > 10_000
    return response


def cells(row):
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_france_page(page, url):
    visit(page, url, "/id/state/FRA", shot="state-FRA")
    assert page.title() == "France · hrkg"
    cat = cells(page.locator("#status-CAT"))
    assert cat[0] == "CAT" and cat[2].startswith("1985-02-04")
    assert cat[3].startswith("1986-02-18 ratification") and cat[4] == "party" and cat[5] == "2026-02-03"
    # ICMW: France is on no list of the complete record: not party, never "none"
    assert cells(page.locator("#status-ICMW"))[4] == "not party"
    assert "none" not in page.locator("table.status").inner_text().split()
    assert "8 of 9 core treaties" in page.locator("dl.facts").inner_text()
    # reservations: collapsed <details>, the text as published once opened (no JavaScript needed)
    reservation = page.locator("#reservations ~ details.statement", has_text="reservation, 1986-02-18").first
    text = reservation.locator("blockquote.text")
    assert not text.is_visible()
    reservation.locator("summary").click()
    assert text.is_visible() and "article 30" in text.inner_text()
    # complaint procedures: CAT art. 22 accepted by the declaration of 1988-06-23
    assert cells(page.locator("#procedure-CAT-22"))[3:5] == ["accepted", "1988-06-23"]
    assert page.locator("#procedure-ICMW-77 td.status").inner_text() == "not accepted"
    # asked for a date after the knowledge runs: a banner says so
    visit(page, url, "/id/state/FRA?as_of=2030-01-01")
    assert "runs only to 2026-02-03" in page.locator("p.banner").inner_text()
    visit(page, url, "/id/state/FRA?as_of=2026-02-03")
    assert page.locator("p.banner").count() == 0
    visit(page, url, "/id/state/FRA?as_of=1985-06-01")
    assert cells(page.locator("#status-CAT"))[4] == "signatory"
    assert page.requested and all(u.startswith(url) for u in page.requested)


def test_a_procedure_decided_by_a_statement_not_read_is_unknown_on_the_page(page, url):
    # cat.html: Cuba declares 'in accordance with article 28' that article 20 needs prior consent
    visit(page, url, "/id/state/CUB")
    row = cells(page.locator("#procedure-CAT-20"))
    assert row[3].startswith("unknown") and row[4] == ""
    assert "untc-cat-2026-02-03" in row[5]
    assert page.locator("#procedure-OP-CEDAW-8 td.status").inner_text() == "not accepted"   # signed only


def test_cat_page_and_its_world_map(page, url):
    visit(page, url, "/id/instrument/CAT", shot="instrument-CAT")
    world = page.locator("svg.map")
    assert world.count() == 1 and world.is_visible() and world.get_attribute("role") == "img"
    title_id = world.get_attribute("aria-labelledby").split()[0]
    assert page.locator(f"#{title_id}").text_content().startswith("CAT: status by state")
    countries = world.locator("path.country")
    n = countries.count()
    assert n > 150 and world.locator("path.country > title").count() == n   # one path, one title each
    france = world.locator('path.country[data-m49="250"]')
    assert france.count() == 1 and "party" in france.get_attribute("class").split()
    assert france.get_attribute("fill") == PARTY_BLUE
    assert france.locator("title").text_content() == "France: party since 1986-02-18 (ratification)"
    assert world.locator('a path.country[data-m49="250"]').count() == 1   # links France's page
    india = world.locator('path.country[data-m49="356"]')   # signed 1997, not party
    assert "signatory" in india.get_attribute("class").split()
    assert {"party", "signatory, not (yet) party", "not party"} <= set(world.locator("text").all_text_contents())
    assert "175 party," in world.locator("desc").text_content()
    # the parties over time, world-wide, and the table
    steps = page.locator("svg.chart").nth(1)
    assert "to 175 on" in steps.locator("desc").text_content()
    assert page.locator("#parties").inner_text() == "Parties (175)"
    assert page.requested and all(u.startswith(url) for u in page.requested)


def test_weog_group_page(page, url):
    visit(page, url, "/id/group/WEOG", shot="group-WEOG")
    names = [n.strip() for n in page.locator("table.matrix tbody td.stateName").all_inner_texts()]
    assert "France" in names and "Germany" in names and names == sorted(names)
    cell = page.locator("#row-FRA td[data-instrument=CAT]")
    assert cell.inner_text().strip() == "1986" and cell.locator("time").get_attribute("datetime") == "1986-02-18"
    assert page.locator("#row-totals td[data-instrument=CAT]").inner_text() == str(len(names))
    group_map = page.locator("svg.map")
    assert group_map.is_visible()
    assert "member" in group_map.locator('path.country[data-m49="276"]').get_attribute("class").split()
    assert page.requested and all(u.startswith(url) for u in page.requested)


def test_every_regional_group_has_a_page(url):
    for group in ("AG", "APG", "EEG", "GRULAC", "WEOG", "ASEAN"):
        started = time.monotonic()
        response = HTTP.get(f"{url}/id/group/{group}", headers={"Accept": "text/html"}, timeout=60)
        assert response.status_code == 200, group
        assert 'class="chart map"' in response.text and "table class=\"matrix\"" in response.text
        assert time.monotonic() - started < 10, group


# ---- in-process: the builders ------------------------------------------------------------------

def test_no_record_is_never_none():
    from hrkg.web import pages
    assert pages.status_words({"status": "none"}, complete=False) == ("unknown", "no record")
    assert pages.status_words({"status": "unknown"}, complete=True) == ("unknown", "no record")
    assert pages.status_words({"status": "none"}, complete=True) == ("none", "not party")
    assert pages.status_words({}, complete=True) == ("unknown", "no record")
    known = dt.date(2026, 2, 3)
    assert pages.banner(dt.date(2026, 2, 3), known) is None and pages.banner(dt.date(2026, 2, 4), known)
    assert pages.banner(dt.date(2030, 1, 1), None) is None


def test_pages_without_the_new_queries_leave_their_sections_out(kg, monkeypatch):
    from hrkg.web import pages
    from hrkg.web.replies import environment
    page = pages.state_page(kg, "https://w3id.org/hrkg/id/state/FRA")
    assert page["reservations"]["count"] > 5 and page["procedures"]
    monkeypatch.setattr(kg.catalog, "_queries", {k: v for k, v in kg.catalog._queries.items()
                                                 if k not in ("reservations", "complaint-procedures")})
    page = pages.state_page(kg, "https://w3id.org/hrkg/id/state/FRA")
    assert page["reservations"] is None and page["procedures"] is None
    html = environment().get_template("state.html").render(**page)
    assert 'id="reservations"' not in html and 'id="procedures"' not in html and 'id="status"' in html


def test_without_a_complete_record_the_map_and_matrix_say_no_record(kg, monkeypatch):
    from hrkg.web import pages
    monkeypatch.setitem(pages._per_graph, ("knowledge", id(kg)), {})
    page = pages.instrument_page(kg, "https://w3id.org/hrkg/id/instrument/ICMW")
    assert page["counts"]["no-record"] > 100 and not page["counts"].get("not-party")
    assert "no record in the graph" in str(page["map"]) and 'class="country not-party"' not in str(page["map"])
    group = pages.group_page(kg, "https://w3id.org/hrkg/id/group/WEOG")
    france = next(r for r in group["matrix"] if r["state"] == "FRA")
    assert france["cells"]["ICMW"]["status"] == "unknown" and group["any_unknown"]


def test_map_shapes_are_decoded_once_and_fast():
    from hrkg.web import charts
    started = time.monotonic()
    shapes = charts.map_shapes()
    assert charts.map_shapes() is shapes
    assert len(shapes) > 170 and all(s["d"].startswith("M") for s in shapes)
    assert {"250", "276", "704", "840"} <= charts.mapped_m49()
    started = time.monotonic()
    svg = str(charts.world_map({"250": ("party", "France: party")}, title="t", desc="d"))
    assert time.monotonic() - started < 0.1
    assert svg.count("<path d=") >= len(shapes) and "style=" not in svg


def test_topojson_arcs_are_delta_decoded():
    from hrkg.web import charts
    topology = {"transform": {"scale": [0.5, 2], "translate": [10, 20]},
                "arcs": [[[0, 0], [2, 0], [0, 1]], [[2, 1], [-2, -1]]],
                "objects": {"countries": {"type": "GeometryCollection", "geometries": [
                    {"type": "Polygon", "id": "001", "properties": {"name": "A"}, "arcs": [[0, 1]]},
                    {"type": "Polygon", "id": "002", "properties": {"name": "B"}, "arcs": [[~1, ~0]]}]}}}
    (a_id, a_name, [[a_ring]]), (_, _, [[b_ring]]) = charts.decode_topojson(topology)
    assert (a_id, a_name) == ("001", "A")
    assert a_ring == [(10, 20), (11, 20), (11, 22), (10, 20)]
    assert b_ring == [(10, 20), (11, 22), (11, 20), (10, 20)]
