"""What a person sees: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright, never
a downloaded browser) loads the pages of a running `hrkg serve` with JavaScript switched off.

Set HRKG_SKIP_BROWSER=1 to skip these tests on a machine without Chromium; otherwise a missing
browser is a failure, not a silent pass (.ci/run installs it).
"""
import os
from pathlib import Path

import pytest

from test_serve import start_server


CHROMIUM = os.environ.get("HRKG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path(os.environ.get("HRKG_SCREENS", "/tmp/hrkg-screens"))

if os.environ.get("HRKG_SKIP_BROWSER") == "1":
    pytest.skip("HRKG_SKIP_BROWSER=1: browser tests skipped on request", allow_module_level=True)


@pytest.fixture(scope="module")
def url(tmp_path_factory, copy_bundled_store):
    store = copy_bundled_store(tmp_path_factory.mktemp("browser") / "store")   # the bundled data, built
    with start_server(store) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium), "
                    "or set HRKG_SKIP_BROWSER=1 to skip the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install '.[test]' (or HRKG_SKIP_BROWSER=1)")
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


def test_state_page_for_viet_nam(page, url):
    page.goto(url + "/id/state/VNM")
    assert page.title() == "Viet Nam · hrkg"
    assert page.locator("h1").inner_text().startswith("Viet Nam")
    cat = page.locator("#status-CAT")
    assert cat.is_visible()
    cells = [c.strip() for c in cat.locator("td").all_inner_texts()]
    assert cells[0] == "CAT"
    assert cells[2].startswith("2013-11-07") and cells[3].startswith("2015-02-05 ratification")
    assert cells[4] == "party"
    # the timeline chart: an SVG image with an accessible name, a mark per action
    chart = page.locator("svg[role=img]").first
    assert chart.is_visible() and chart.bounding_box()["width"] > 600
    labelled_by = chart.get_attribute("aria-labelledby").split()[0]
    assert page.locator(f"#{labelled_by}").text_content() == "Treaty actions of Viet Nam over time"
    assert chart.locator("circle.consent title", has_text="CAT ratification 2015-02-05").count() == 1
    assert chart.locator("circle.signature title", has_text="CAT signature 2013-11-07").count() == 1
    # UPR: the table and the chart say 241 of 291 supported in cycle III, 209 implemented
    upr = [c.strip() for c in page.locator("#upr-III td").all_inner_texts()]
    assert upr[3:7] == ["291", "241", "50", "82.8%"] and upr[7] == "209"
    upr_chart = page.locator("svg[role=img]").nth(1)
    assert "291 recommendations, 241 supported" in upr_chart.locator("desc").text_content()
    assert upr_chart.is_visible()
    # sources: the consent date cites a note that links the UN Treaty Collection
    notes = [a.get_attribute("href") for a in cat.locator("td").nth(3).locator("sup.cite a").all()]
    links = [a.get_attribute("href") for note in notes for a in page.locator(note).locator("a[rel=external]").all()]
    assert any(link.startswith("https://treaties.un.org/") for link in links)
    # nothing but this server was asked for anything
    assert page.requested and all(u.startswith(url) for u in page.requested)


def test_stored_query_form_works_without_javascript(page, url):
    page.goto(url + "/queries/treaty-status")
    page.fill("#p-state", "Việt Nam")
    page.fill("#p-as_of", "2014-12-31")
    page.click("form.query button[type=submit]")
    page.wait_for_load_state()
    assert "state=Vi%E1%BB%87t+Nam" in page.url or "state=Vi" in page.url
    row = [c.strip() for c in page.locator("table.results tr", has_text="CAT").first.locator("td").all_inner_texts()]
    header = [h.strip() for h in page.locator("table.results th").all_inner_texts()]
    assert row[0] == "CAT" and row[2] == "2013-11-07"
    assert row[header.index("status")] == "signatory"   # not yet bound in 2014


def test_group_matrix_shows_viet_nam_and_cat(page, url):
    page.goto(url + "/id/group/ASEAN")
    cell = page.locator("#row-VNM td[data-instrument=CAT]")
    assert cell.inner_text().strip() == "2015"
    assert cell.locator("time").get_attribute("datetime") == "2015-02-05"
    assert page.locator("table.matrix tbody tr").count() == 11


def test_screenshots_of_the_main_pages(page, url):
    SCREENS.mkdir(parents=True, exist_ok=True)
    shots = {"home": "/", "state-VNM": "/id/state/VNM", "instrument-CAT": "/id/instrument/CAT",
             "group-ASEAN": "/id/group/ASEAN", "query-form-parties": "/queries/parties?instrument=CAT&group=ASEAN"}
    for name, path in shots.items():
        response = page.goto(url + path)
        assert response.status == 200, path
        target = SCREENS / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
