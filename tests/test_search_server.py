"""Search of UPR recommendations on the server (/search; issue 14), through a really running
`hrkg serve` on a loopback port over a store built from real first-cycle recommendations
(tests/fixtures/asks/upr-excerpt.csv) and the import fixture with a third-cycle review of Viet Nam:
the index built at start beside the store and read by the workers, HTML, JSON and CSV by content
negotiation, the filters as query parameters, 400s naming the bad parameter, the stated limit."""
import csv
import io
from pathlib import Path

import pytest

from test_pages import browser, page, visit  # noqa: F401  (fixtures)
from test_serve import HTTP, start_server


FIXTURES = Path(__file__).parent / "fixtures"
VNM_CAT_I = {"Accede to CAT in a timely manner.", "Consider acceding to CAT.", "Consider ratifying CAT.",
             "Consider ratifying the Optional Protocol to CAT as soon as possible."}


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_build):
    from hrkg.importers.run import import_files

    def inputs(folder):
        import_files("upr", [FIXTURES / "asks" / "upr-excerpt.csv"], folder / "excerpt.nt")
        import_files("upr", [FIXTURES / "import" / "upr-latin1-cr.csv"], folder / "upr.nt")
        return [folder / "excerpt.nt", folder / "upr.nt"]
    folder = tmp_path_factory.mktemp("search-server")
    store = shared_build("search-server", inputs, folder / "store")
    with start_server(store, "--max-rows", "500") as (base, proc):
        yield base, store, folder


def get(url, accept="application/json", **params):
    return HTTP.get(url + "/search", params=params, headers={"Accept": accept}, timeout=30)


def texts(body):
    return [r["text"] for r in body["results"]]


def test_index_built_at_start_beside_the_store(served):
    url, store, folder = served
    index = HTTP.get(url + "/status").json()["search_index"]
    assert index["available"] and index["recommendations"] == 19 + 9
    path = Path(index["path"])
    assert path.name == "search.sqlite" and path.parent.resolve() == (store / "current").resolve()
    assert not list(path.parent.glob("search.sqlite.part*"))
    log = (folder / f"serve-{url.rsplit(':', 1)[1]}.log").read_text()   # start_server's log of the server
    assert "building the search index of the recommendations beside the store" in log
    assert "search index ready: 28 recommendations" in log


def test_json_boolean_query_with_state_name(url):
    r = get(url, q="CAT AND (ratify OR accede)", state="viet nam")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["filters"] == {"state": "VNM"} and body["total"] == 5 and body["limit"] == 100
    assert set(texts(body)) == VNM_CAT_I and texts(body).count("Accede to CAT in a timely manner.") == 2   # AUS, SWE
    chile = [x for x in body["results"] if x["text"] == "Consider ratifying CAT."]
    assert chile == [{
        "recommendation": chile[0]["recommendation"], "url": chile[0]["url"], "state": "VNM", "state_name": "Viet Nam",
        "cycle": "I", "session": 5, "recommending_state": "CHL", "recommending_state_name": "Chile",
        "response": "supported", "response_text": "Accepted", "text": "Consider ratifying CAT.",
        "instruments": [{"instrument": "CAT", "ask": "join", "url": "/id/instrument/CAT"}]}]
    assert chile[0]["url"] == chile[0]["recommendation"].replace("https://w3id.org/hrkg", "")
    # the link resolves: the recommendation's own page on this server
    page = HTTP.get(url + chile[0]["url"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Consider ratifying CAT." in page.text


def test_filters_as_query_parameters(url):
    third = get(url, q="torture", state="VNM", cycle="III").json()
    assert texts(third) == ["Ratify the Optional Protocol to the Convention against Torture"]
    (row,) = third["results"]
    # "Nrway" is not a state the importer could resolve: kept as written, shown without a link
    assert (row["response"], row["recommending_state"], row["recommending_state_name"]) == ("noted", "Nrway", None)
    opcat = get(url, instrument="OPCAT").json()   # "Optional Protocol to CAT", "its Optional Protocol"
    assert {r["state"] for r in opcat["results"]} == {"VNM", "KWT"} and opcat["total"] == 3
    assert texts(get(url, instrument="UNCAT", ask="withdraw-reservation").json()) == [
        "Withdraw reservations to CAT and accede to its Optional Protocol"]
    noted = get(url, q="ratify", state="VNM", response="noted", recommending_state="Chile").json()
    assert texts(noted) == ["Consider ratifying the Optional Protocol to CAT as soon as possible."]
    assert texts(get(url, theme="Indigenous peoples").json()) == [
        "Favourably consider the ratification of ILO Convention No. 169 concerning Indigenous and Tribal Peoples "
        "in Independent Countries."]
    assert {r["state"] for r in get(url, q="ICRMW", session="8").json()["results"]} == {"KEN"}
    # the response as published, when it is neither supported nor noted
    assert texts(get(url, q="information", response="Partially accepted").json()) == ["Adopt a law on access to information"]


def test_html_page_with_form_and_links(url):
    r = get(url, "text/html", q="CAT AND ratify", state="VNM")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    html = r.text
    assert '<form class="query search" method="get" action="/search"' in html
    assert 'value="CAT AND ratify"' in html                 # the form keeps what was asked
    assert "2 recommendations matching <q>CAT AND ratify</q>" in html
    row = html[html.index(">Consider ratifying CAT.</a>"):].split("</tr>")[0]
    assert '<a href="/id/state/VNM">Viet Nam</a>' in row and '<a href="/id/state/CHL">Chile</a>' in row
    assert '<td class="response supported">supported' in row and '<a href="/id/instrument/CAT">CAT</a>' in row
    assert "<td>I</td>" in row
    assert '/search?q=CAT+AND+ratify&amp;state=VNM&amp;format=json' in html   # the same search as JSON


def test_search_is_in_the_site_navigation(url):
    for path in ("/", "/queries", "/id/state/VNM"):
        assert '<a href="/search">Search recommendations</a>' in HTTP.get(url + path, headers={"Accept": "text/html"}).text
    # a person arriving at the form: no error, no results yet
    r = get(url, "text/html")
    assert r.status_code == 200 and 'name="q"' in r.text and "recommendations matching" not in r.text


def test_csv_and_format_parameter(url):
    r = get(url, "text/csv", q="ICRMW")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {(x["state"], x["recommending_state"], x["response"], x["instruments"]) for x in rows} == {
        ("CRI", "AZE", "noted", "ICMW:join"), ("KEN", "DZA", "supported", "ICMW:join")}
    assert get(url, "text/html", q="ICRMW", format="json").json()["total"] == 2
    r = get(url, "image/png", q="ICRMW")
    assert r.status_code == 406


def test_limit_is_stated_and_pages_follow(url):
    first = get(url, q="ratify OR accede OR ratification", limit="3")
    body = first.json()
    assert body["total"] > 6 and body["returned"] == 3 and body["limit"] == 3
    assert first.headers["x-search-total"] == str(body["total"]) and first.headers["x-search-limit"] == "3"
    second = HTTP.get(url + body["next"], headers={"Accept": "application/json"}).json()
    assert second["offset"] == 3 and second["returned"] == 3
    everything = get(url, q="ratify OR accede OR ratification", limit=str(body["total"])).json()
    assert texts(body) + texts(second) == texts(everything)[:6]
    html = get(url, "text/html", q="ratify OR accede OR ratification", limit="3").text
    assert f"Showing 1–3 of {body['total']}" in html and "at most 3 a page" in html and "next 3 →" in html
    # the limit is capped: never more than the server's row limit (--max-rows 500 here) nor 1,000
    assert get(url, q="ratify", limit="501").status_code == 400
    assert get(url, q="ratify").json()["max_limit"] == 500


@pytest.mark.parametrize("params,parameter,words", [
    ({"q": '"optional protocol'}, "q", "quote is left open"),
    ({"q": "(torture"}, "q", "'(' is not closed"),
    ({"q": "NOT torture"}, "q", "syntax error"),
    ({"q": "torture", "state": "Atlantis"}, "state", "unknown state code 'Atlantis'"),
    ({"q": "torture", "recommending_state": "VNM!!"}, "recommending_state", "unexpected character"),
    ({"q": "torture", "instrument": "XYZ-1"}, "instrument", "unknown instrument code"),
    ({"q": "torture", "cycle": "IX"}, "cycle", "unknown cycle code"),
    ({"q": "torture", "ask": "ratify"}, "ask", "sign, join, withdraw-reservation, accept-procedure"),
    ({"q": "torture", "session": "five"}, "session", "whole number"),
    ({"q": "torture", "limit": "0"}, "limit", "between 1 and 500"),
    ({"q": "torture", "offset": "-1"}, "offset", "between 0"),
    ({"q": "torture", "country": "VNM"}, "country", "not a search parameter"),
    ({}, "q", "give words to look for"),
])
def test_bad_parameters_are_400_naming_them(url, params, parameter, words):
    r = get(url, **params)
    assert r.status_code == 400
    body = r.json()
    assert body["parameter"] == parameter and f"parameter {parameter!r}" in body["error"] and words in body["error"]
    page = get(url, "text/html", **params)
    if params:   # the form again, with the error
        assert page.status_code == 400 and 'role="alert"' in page.text and words.replace("'", "&#39;") in page.text


def test_suggestions_and_a_parameter_given_twice(url):
    body = get(url, q="torture", state="Viet Namm").json()
    assert body["parameter"] == "state" and "VNM" in body["suggestions"]
    r = HTTP.get(url + "/search?q=torture&q=ratify", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["parameter"] == "q"


@pytest.mark.parametrize("q", ["'; DROP TABLE recommendation; --", "text:torture", "title:x OR 1=1", "torture\" OR \"",
                               "NEAR(torture ratify)", "scope : xstatexvnm", "*", "\\x00 \u0000"])
def test_user_text_is_only_ever_searched_as_text(url, q):
    r = get(url, q=q)
    assert r.status_code in (200, 400)
    if r.status_code == 400:
        assert r.json()["parameter"] == "q"
    # the index is intact and the scope column is not reachable from a query
    assert get(url, q="CAT AND (ratify OR accede)", state="VNM").json()["total"] == 5
    assert get(url, q="xstatexvnm").json()["total"] == 0


def test_html_escapes_what_was_asked(url):
    html = get(url, "text/html", q='<script>alert(1)</script> torture').text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; torture" in html


def test_in_memory_graph_gets_a_temporary_index(excerpt_kg):
    from hrkg.web.searching import prepare_index
    kg = excerpt_kg                      # prepare_index only reads it
    assert kg.manifest["path"] is None   # in memory, as opened
    index = prepare_index(kg)
    try:
        assert index.recommendations == 19 and index.path.is_file() and index.temporary in index.path.parents
    finally:
        index.close()
    assert not index.temporary.exists()


def test_search_page_in_chromium(page, url):
    visit(page, url, "/search?q=CAT+AND+(ratify+OR+accede)&state=VNM", shot="search-VNM-CAT")
    assert page.title() == "CAT AND (ratify OR accede) · Search recommendations · hrkg"
    assert page.locator("#results").inner_text().startswith("5 recommendations matching")
    row = page.locator("table.search tbody tr", has_text="Consider ratifying CAT.")
    assert [c.strip() for c in row.locator("td").all_inner_texts()][1:] == [
        "Viet Nam", "I", "Chile", "supported\nAccepted", "CAT join"]
    # the form is usable without JavaScript: change the state and search again
    page.fill("#s-state", "Kuwait")
    page.fill("#s-q", "")
    page.select_option("#s-ask", "withdraw-reservation")
    page.click("form.search button[type=submit]")
    assert page.locator("#results").inner_text().startswith("1 recommendation")
    assert "Withdraw reservations to CAT" in page.locator("table.search").inner_text()
    page.click("header.site nav >> text=Search recommendations")
    assert page.url == url + "/search" and page.locator("#results").count() == 0
    assert page.requested and all(u.startswith(url) for u in page.requested)
