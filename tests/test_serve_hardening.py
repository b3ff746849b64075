"""Server hardening (issue 15, server items), tested through a really running `hrkg serve`: the
public base URL comes from configuration, never from the Host header (5); CONSTRUCT/DESCRIBE
limits count triples and say so (6); FROM / FROM NAMED are honoured (7); the response cache is
bounded in bytes (10); only http(s) IRIs become links and HTML pages carry a strict
Content-Security-Policy (12); deeply nested queries, long GET URLs and bad options (14)."""
import base64
import hashlib
import re
import socket
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

from test_serve import HTTP, ROOT, SD, start_server


PUBLIC = "https://hrkg.example.org"
MAX_ROWS, CACHE_BYTES = 50, 300_000
EVIL = "https://w3id.org/hrkg/id/test/evil"
HOSTILE = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
<{EVIL}> rdfs:label "evil test resource" ;
    rdfs:seeAlso <javascript:alert(1)>, <JaVaScRiPt:alert(2)>, <data:text/html,x>, <https://example.org/fine> ;
    hrkg:url "javascript:alert(3)" .
<javascript:alert(4)> rdfs:seeAlso <{EVIL}> .
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory, shared_build, _bundle_with_ledger_sample):
    """One server for the module: a store built with a hostile data file, small limits, a public
    URL and a small response cache.

    The store holds the bundle whose UN Treaty Collection ledger is cut to its sample (conftest;
    the server takes that folder for its bundled data, so it finds its store up to date): built in
    a second or two instead of five or more. Nothing checked here is about the ledger's records:
    limits, dataset clauses, the cache, links and pages; every count and size the tests assert
    holds on either store (each test was run both ways when this was changed). Its own cache
    folder, so the session's default store is never opened with the other bundle."""
    from conftest import use_bundle

    def inputs(folder):
        (folder / "hostile.ttl").write_text(HOSTILE, encoding="utf-8")
        return [folder / "hostile.ttl"]
    folder = tmp_path_factory.mktemp("hardening")
    with pytest.MonkeyPatch.context() as mp:
        use_bundle(mp, _bundle_with_ledger_sample)
        store = shared_build("hardening-ledger-sample", inputs, folder / "store")
    with start_server(store, "--timeout", "20", "--max-rows", str(MAX_ROWS), "--public-url", PUBLIC + "/",
                      "--response-cache-bytes", str(CACHE_BYTES), bundle=_bundle_with_ledger_sample,
                      env={"HRKG_CACHE_DIR": str(folder / "cache")}) as (base, proc):
        yield base


def sparql(url, query, accept, **headers):
    return HTTP.get(url + "/sparql", params={"query": query}, headers={"Accept": accept, **headers}, timeout=60)


def count(url, query):
    r = sparql(url, query, "application/sparql-results+json")
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# ---- 5: absolute links from --public-url, never from the Host header ------------------------------

@pytest.mark.parametrize("path", ["/void", "/sparql"])
@pytest.mark.parametrize("accept", ["text/turtle", "text/html", "application/n-triples"])
def test_forged_host_header_never_reaches_links(url, path, accept):
    for host in ("evil.example", "evil.example", "127.0.0.1"):   # twice: the second is served from the cache
        r = HTTP.get(url + path, headers={"Host": host, "Accept": accept}, timeout=60)
        assert r.status_code == 200
        assert "evil.example" not in r.text
        assert PUBLIC + "/sparql" in r.text
    if accept == "text/turtle":
        graph = Graph().parse(data=r.text, format="turtle")
        if path == "/void":
            assert graph.value(URIRef("https://w3id.org/hrkg/dataset"), VOID.sparqlEndpoint) == URIRef(PUBLIC + "/sparql")
        else:
            assert (URIRef(PUBLIC + "/sparql"), SD.endpoint, URIRef(PUBLIC + "/sparql")) in graph


def test_bad_public_url_is_a_usage_error():
    for bad in ("javascript:alert(1)", "hrkg.example.org", "https://x.org/?a=1"):
        done = subprocess.run([sys.executable, "-m", "hrkg", "serve", "--public-url", bad], capture_output=True,
                              text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 2 and "--public-url" in done.stderr and "Traceback" not in done.stderr


# ---- 6: CONSTRUCT / DESCRIBE limits count triples ---------------------------------------------------

def test_construct_limit_counts_triples_not_solutions(url):
    """Each triple comes from 60 solutions: a LIMIT on solutions would return one or two triples
    and no header; the answer is the first MAX_ROWS triples, flagged."""
    values = " ".join(str(i) for i in range(60))
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o . VALUES ?k {{ {values} }} }}"
    r = sparql(url, query, "application/n-triples")
    assert r.status_code == 200
    assert len(Graph().parse(data=r.text, format="nt")) == MAX_ROWS
    assert r.headers["x-sparql-maxrows"] == str(MAX_ROWS)
    html = sparql(url, query, "text/html")
    assert f"the first {MAX_ROWS} triples only" in html.text and html.headers["x-sparql-maxrows"] == str(MAX_ROWS)


def test_describe_limit_counts_triples(url):
    query = "DESCRIBE ?s WHERE { ?s a hrkg:UNMemberState }"
    r = sparql(url, query, "text/turtle")
    assert r.status_code == 200 and r.headers["x-sparql-maxrows"] == str(MAX_ROWS)
    assert len(Graph().parse(data=r.text, format="turtle")) == MAX_ROWS


def test_small_construct_is_whole_and_unflagged(url):
    query = "CONSTRUCT { ?i a hrkg:CoreTreaty } WHERE { ?i a hrkg:CoreTreaty . VALUES ?k { 1 2 3 4 5 6 7 8 9 10 } }"
    r = sparql(url, query, "application/n-triples")
    assert r.status_code == 200 and "x-sparql-maxrows" not in r.headers
    expected = count(url, "SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a hrkg:CoreTreaty }")
    assert len(Graph().parse(data=r.text, format="nt")) == expected == 9


# ---- 7: FROM / FROM NAMED -------------------------------------------------------------------------

def graphs(url):
    """{graph name: triples} of the bundled graphs (a FROM may name those: IRIs under hrkg's base)."""
    r = sparql(url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
               "application/sparql-results+json")
    return {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]
            if b["g"]["value"].startswith("https://w3id.org/hrkg/")}


def test_from_names_the_default_graph(url):
    sizes = graphs(url)
    name, size = min(sizes.items(), key=lambda item: item[1])
    everything = count(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert size < everything
    assert count(url, f"SELECT (COUNT(*) AS ?n) FROM <{name}> WHERE {{ ?s ?p ?o }}") == size
    assert count(url, "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/hrkg/graph/no-such-graph> "
                      "WHERE { ?s ?p ?o }") == 0


def test_from_named_limits_the_named_graphs(url):
    sizes = graphs(url)
    name = sorted(sizes)[0]
    r = sparql(url, f"SELECT DISTINCT ?g FROM NAMED <{name}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
               "application/sparql-results+json")
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [name]
    # FROM NAMED without FROM: the default graph is empty (SPARQL 1.1, 13.2)
    assert count(url, f"SELECT (COUNT(*) AS ?n) FROM NAMED <{name}> WHERE {{ ?s ?p ?o }}") == 0


def test_no_dataset_clause_queries_everything(url):
    assert count(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") >= max(graphs(url).values())
    # a FROM inside a string, IRI or comment is not a dataset clause
    assert count(url, 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?o != "FROM <x:y>") } # FROM <x:z>') > 0


# ---- 10: the response cache is bounded in bytes --------------------------------------------------

def test_response_cache_is_bounded_in_bytes(url):
    # answers of a few kB, each for a different URL: together more than twice the limit (709 kB on
    # the module's store, 804 kB with the whole ledger: the same first rows of a deterministic order)
    total = 0
    for i in range(100):
        r = sparql(url, f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} OFFSET {i} LIMIT 50", "text/tab-separated-values")
        assert r.status_code == 200
        total += len(r.content)
    assert total > 2 * CACHE_BYTES
    status = HTTP.get(url + "/status", timeout=30).json()
    assert 0 < status["cache_bytes"] <= CACHE_BYTES
    assert 0 < status["cache_entries"] < 100
    before = status["cache_hits"]
    sparql(url, "SELECT ?s ?p ?o WHERE { ?s ?p ?o } OFFSET 99 LIMIT 50", "text/tab-separated-values")
    assert HTTP.get(url + "/status", timeout=30).json()["cache_hits"] == before + 1   # the newest is kept


# ---- 12: only http(s) links; Content-Security-Policy ---------------------------------------------

class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.styles, self.scripts, self.style_attrs = [], [], 0, 0
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        self.scripts += tag == "script"
        self.style_attrs += "style" in attrs
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def safe(href):
    return href.startswith(("/", "#", "?", "http://", "https://")) and not href.startswith("//")


def check_page(r):
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    for directive in ("default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    assert r.headers["x-content-type-options"] == "nosniff"
    page = Links()
    page.feed(r.text)
    assert page.scripts == 0 and page.style_attrs == 0   # nothing the policy would block
    for css in page.styles:   # the inline stylesheet is the one the policy allows by hash
        digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    bad = [h for h in page.hrefs if not safe(h)]
    assert not bad, bad
    return page


def test_javascript_iris_are_not_links_in_results(url):
    query = ('SELECT ?x ?url WHERE { VALUES (?x ?url) { (<javascript:alert(1)> "javascript:alert(2)") '
             '(<https://example.org/ok> "https://example.org/ok2") } }')
    page = check_page(sparql(url, query, "text/html"))
    assert "https://example.org/ok" in page.hrefs and "https://example.org/ok2" in page.hrefs
    page = check_page(sparql(url, "CONSTRUCT { <javascript:alert(1)> <javascript:p> <data:text/html,x> } WHERE {}",
                             "text/html"))
    assert not any("javascript" in h.lower() for h in page.hrefs)


def test_hostile_iris_in_the_data_are_not_links(url):
    r = HTTP.get(url + "/id/test/evil", headers={"Accept": "text/html"}, timeout=60)
    page = check_page(r)
    assert "javascript:alert(1)" in r.text and "javascript:alert(4)" in r.text   # shown as text
    assert "https://example.org/fine" in page.hrefs


@pytest.mark.parametrize("path", ["/", "/id/state/VNM", "/id/group/ASEAN", "/id/instrument/CAT", "/ontology",
                                  "/queries", "/queries/treaty-status?state=VNM", "/sparql", "/void"])
def test_every_page_has_a_strict_policy(url, path):
    check_page(HTTP.get(url + path, headers={"Accept": "text/html"}, timeout=60))


def test_error_pages_and_other_replies_are_protected(url):
    r = HTTP.get(url + "/nothing-here", headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 404 and "default-src 'none'" in r.headers["content-security-policy"]
    for path in ("/status", "/context.jsonld", "/sparql?query=ASK%7B%7D"):
        assert HTTP.get(url + path, timeout=30).headers["x-content-type-options"] == "nosniff"


# ---- 14: nesting, long URLs, options ----------------------------------------------------------------

def nested(n):
    return "SELECT (COUNT(*) AS ?n) WHERE " + "{ " * n + "?s a hrkg:CoreTreaty " + "} " * n


def test_deeply_nested_and_long_queries_are_answered(url):
    assert count(url, nested(60)) == 9
    assert count(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 60 + "}" * 60
                 + " FILTER(?s = instr:CAT) }") > 0
    patterns = " ".join(f"OPTIONAL {{ ?s hrkg:code ?c{i} }}" for i in range(120))
    assert count(url, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a hrkg:CoreTreaty {patterns} }}") == 9
    assert count(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s a hrkg:CoreTreaty . "
                 + " ".join(f"?s hrkg:code ?c{i} ." for i in range(110)) + " }") == 9


def test_too_deep_nesting_is_a_clear_400_not_a_crash(url):
    before = HTTP.get(url + "/status", timeout=30).json()["crashes"]
    for query in (nested(3000), "ASK { FILTER(" + "!" * 60000 + "true) }"):
        r = HTTP.post(url + "/sparql", content=query.encode(), timeout=60,
                      headers={"Content-Type": "application/sparql-query", "Accept": "text/plain"})
        assert r.status_code == 400 and "levels deep" in r.text and "Traceback" not in r.text
    assert HTTP.get(url + "/status", timeout=30).json()["crashes"] == before


def raw_get(url, target):
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/sparql-results+json\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


@pytest.mark.parametrize("length", [70_000, 300_000, 2_000_000])
def test_long_get_is_414_with_a_message(url, length):
    status, body = raw_get(url, "/sparql?query=ASK%7B%7D%23" + "x" * length)
    assert status == 414
    assert "POST" in body and "65535" in body


def test_get_under_the_parser_limit_still_works(url):
    status, body = raw_get(url, "/sparql?query=ASK%7B%7D%23" + "x" * 60_000)
    assert status == 200 and "true" in body


@pytest.mark.parametrize("args, words", [
    (["--port", "70000"], "--port"), (["--port", "0"], "--port"), (["--timeout", "nan"], "--timeout"),
    (["--timeout", "inf"], "--timeout"), (["--timeout", "-1"], "--timeout"),
    (["--response-cache-bytes", "lots"], "--response-cache-bytes")])
def test_bad_serve_options_are_usage_errors(args, words):
    done = subprocess.run([sys.executable, "-m", "hrkg", "serve", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert re.search(r"error: argument --[a-z-]+: ", done.stderr)
