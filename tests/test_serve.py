"""The linked-data server, tested through a really running `hrkg serve` (uvicorn in a subprocess
on a free loopback port) with real HTTP clients (httpx, SPARQLWrapper) and parsers (rdflib,
ElementTree, csv): every format, content negotiation, the read-only and no-network guards, the
body-size, time and row limits, resource IRIs, stored queries and the HTML pages' facts."""
import contextlib
import csv
import io
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, VOID

ROOT = Path(__file__).resolve().parent.parent
HRKG = Namespace("https://w3id.org/hrkg/ontology#")
ID = "https://w3id.org/hrkg/id/"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")   # open namespaces: pytest probes closed ones noisily
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
VNM_CAT = URIRef(ID + "action/VNM-CAT-ratification")
CAT_DATE = Literal("2015-02-05", datatype=XSD.date)
CAT_QUERY = """SELECT ?date WHERE { ?a hrkg:consentingState state:VNM ; hrkg:instrument instr:CAT ;
                                      hrkg:date ?date }"""
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"   # ~10^12 solutions
TIMEOUT, MAX_ROWS, MAX_BODY = 3, 1000, 20_000
# One httpx client for every request of these tests (and of the modules that import it): each
# module-level httpx.get() builds a client and loads the CA certificates into a new SSL context,
# about 60 ms of CPU per request, more than most requests cost the server. Keep-alive is off, so
# every request still opens its own connection, exactly as httpx.get() did.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def start_server(store, *args, env=None, bundle=None):
    """`python -m hrkg serve` on a free port; yields (base URL, Popen). Fails with the server's
    own output if it does not come up. ``bundle``: a folder holding ontology/ and data/ that the
    server takes for the bundled data (conftest.python_with_bundle)."""
    port = free_port()
    log = open(Path(store).parent / f"serve-{port}.log", "w+")
    from conftest import hrkg_command
    proc = subprocess.Popen([*hrkg_command(bundle), "serve", "--port", str(port), "--store", str(store),
                             "-q", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, **(env or {})))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"hrkg serve exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:
                if HTTP.get(base + "/status", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("hrkg serve did not answer within 120 s")
            time.sleep(0.05)   # a try costs well under a millisecond with the shared client
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, copy_bundled_store):
    store = copy_bundled_store(tmp_path_factory.mktemp("serve") / "store")   # the bundled data, built
    with start_server(store, "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS),
                      "--max-body", str(MAX_BODY)) as (base, proc):
        yield base, proc


@pytest.fixture(scope="module")
def url(server):
    return server[0]


def get(url, path, accept=None, **params):
    headers = {"Accept": accept} if accept else {}
    return HTTP.get(url + path, params=params, headers=headers, timeout=30)


def sparql(url, query, accept=None, **extra):
    return get(url, "/sparql", accept, query=query, **extra)


# ---- SPARQL results in every format ----------------------------------------------------------

def test_select_as_sparql_json(url):
    r = sparql(url, CAT_QUERY, "application/sparql-results+json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/sparql-results+json"
    (binding,) = r.json()["results"]["bindings"]
    assert binding["date"] == {"type": "literal", "value": "2015-02-05", "datatype": str(XSD.date)}


def test_select_as_sparql_xml(url):
    r = sparql(url, CAT_QUERY, "application/sparql-results+xml")
    assert r.headers["content-type"] == "application/sparql-results+xml"
    literal = ET.fromstring(r.content).find(f"{SRX}results/{SRX}result/{SRX}binding/{SRX}literal")
    assert (literal.text, literal.get("datatype")) == ("2015-02-05", str(XSD.date))


def test_select_as_csv_and_tsv(url):
    r = sparql(url, CAT_QUERY, "text/csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == [["date"], ["2015-02-05"]]
    r = sparql(url, CAT_QUERY, "text/tab-separated-values")
    assert r.text.splitlines() == ["?date", f'"2015-02-05"^^<{XSD.date}>']


def test_sparqlwrapper_client_reads_json_and_xml(url):
    from SPARQLWrapper import JSON, XML, SPARQLWrapper
    client = SPARQLWrapper(url + "/sparql")
    client.setQuery("PREFIX hrkg: <https://w3id.org/hrkg/ontology#> PREFIX state: <https://w3id.org/hrkg/id/state/>\n"
                    "SELECT ?code WHERE { ?a hrkg:consentingState state:VNM ; hrkg:instrument ?i ; "
                    "hrkg:date \"2015-02-05\"^^<http://www.w3.org/2001/XMLSchema#date> . ?i hrkg:code ?code } "
                    "ORDER BY ?code")
    client.setReturnFormat(JSON)
    codes = [b["code"]["value"] for b in client.query().convert()["results"]["bindings"]]
    assert codes == ["CAT", "CRPD"]     # both ratified on 5 February 2015
    client.setMethod("POST")
    client.setReturnFormat(XML)
    doc = client.query().convert()
    assert [n.firstChild.data for n in doc.getElementsByTagName("literal")] == ["CAT", "CRPD"]


def test_ask_in_json_and_xml(url):
    yes = "ASK { ?a hrkg:consentingState state:VNM ; hrkg:instrument instr:CAT }"
    no = "ASK { ?a hrkg:consentingState state:VNM ; hrkg:instrument instr:OPCAT }"
    assert sparql(url, yes, "application/sparql-results+json").json()["boolean"] is True
    assert sparql(url, no, "application/sparql-results+json").json()["boolean"] is False
    assert ET.fromstring(sparql(url, yes, "application/sparql-results+xml").content).find(f"{SRX}boolean").text == "true"


@pytest.mark.parametrize("accept,rdf_format", [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml")])
def test_construct_in_every_rdf_format(url, accept, rdf_format):
    query = "CONSTRUCT { ?a hrkg:date ?d ; a hrkg:Ratification } WHERE { ?a hrkg:consentingState state:VNM ; a hrkg:Ratification ; hrkg:date ?d }"
    r = sparql(url, query, accept)
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
    graph = Graph().parse(data=r.text, format=rdf_format)
    assert (VNM_CAT, HRKG.date, CAT_DATE) in graph
    assert (VNM_CAT, RDF.type, HRKG.Ratification) in graph
    assert len(set(graph.subjects(RDF.type, HRKG.Ratification))) >= 15   # CAT, CRC, CRPD, ILO conventions...


def test_describe_and_post_forms(url):
    r = HTTP.post(url + "/sparql", content="DESCRIBE <https://w3id.org/hrkg/id/action/VNM-CAT-ratification>",
                  headers={"Content-Type": "application/sparql-query", "Accept": "text/turtle"})
    assert (VNM_CAT, HRKG.date, CAT_DATE) in Graph().parse(data=r.text, format="turtle")
    r = HTTP.post(url + "/sparql", data={"query": CAT_QUERY}, headers={"Accept": "text/csv"})
    assert r.text.splitlines()[1] == "2015-02-05"


def test_service_description_when_no_query(url):
    r = get(url, "/sparql", "text/turtle")
    graph = Graph().parse(data=r.text, format="turtle")
    endpoint = URIRef(url + "/sparql")
    assert (endpoint, RDF.type, SD.Service) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.resultFormat, URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in graph
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert "https://w3id.org/hrkg/graph/data/treaties/vnm.ttl" in names


# ---- content negotiation ---------------------------------------------------------------------

@pytest.mark.parametrize("accept,expected", [
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("text/*;q=0.9, text/csv;q=0", "text/tab-separated-values"),   # csv refused; tsv is our next text/*
    ("application/json", "application/json"),
    ("*/*", "application/sparql-results+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),   # a browser
])
def test_accept_header_q_values(url, accept, expected):
    r = sparql(url, CAT_QUERY, accept)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    assert "2015-02-05" in r.text
    assert "Accept" in r.headers["vary"]


def test_406_when_nothing_acceptable(url):
    r = sparql(url, CAT_QUERY, "image/png, text/csv;q=0")
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text    # says what it could send
    r = sparql(url, "ASK { ?s ?p ?o }", "text/csv")        # no CSV form of a boolean
    assert r.status_code == 406
    r = sparql(url, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "application/sparql-results+json")
    assert r.status_code == 406


def test_format_parameter_overrides_accept(url):
    r = sparql(url, CAT_QUERY, "application/sparql-results+json", format="csv")
    assert r.headers["content-type"].startswith("text/csv") and "2015-02-05" in r.text
    r = sparql(url, CAT_QUERY, None, format="ttl")
    assert r.status_code == 406 and "choose one of" in r.text


# ---- read-only, no network, no files ---------------------------------------------------------

INSERT = "INSERT DATA { <https://w3id.org/hrkg/id/state/VNM> <https://w3id.org/hrkg/ontology#code> \"HACKED\" }"
HACKED = "ASK { ?s hrkg:code \"HACKED\" }"


@pytest.mark.parametrize("how", ["form-update", "sparql-update-body", "update-as-query", "get-update"])
def test_updates_are_refused(url, how):
    if how == "form-update":
        r = HTTP.post(url + "/sparql", data={"update": INSERT})
    elif how == "sparql-update-body":
        r = HTTP.post(url + "/sparql", content=INSERT, headers={"Content-Type": "application/sparql-update"})
    elif how == "update-as-query":
        r = HTTP.post(url + "/sparql", data={"query": INSERT})
    else:
        r = HTTP.get(url + "/sparql", params={"update": INSERT})
    assert r.status_code == 403
    assert "read-only" in r.text
    assert sparql(url, HACKED, "application/sparql-results+json").json()["boolean"] is False


@pytest.fixture()
def listener():
    """A TCP listener on loopback that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    hits, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append(conn.recv(1000))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", hits
    stop.set()
    thread.join(2)
    sock.close()


@pytest.mark.parametrize("template,status,word", [
    ("SELECT * WHERE {{ SERVICE <{remote}/sparql> {{ ?s ?p ?o }} }}", 403, "SERVICE"),
    ("SELECT * WHERE {{ ?x a hrkg:State . SERVICE SILENT <{remote}/sparql> {{ ?x ?p ?o }} }}", 403, "SERVICE"),
    ("SELECT * FROM <{remote}/data.ttl> WHERE {{ ?s ?p ?o }}", 403, "FROM"),
    ("SELECT * FROM NAMED <{remote}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", 403, "FROM NAMED"),
    ("LOAD <{remote}/data.ttl>", 403, "read-only"),
])
def test_no_request_leaves_the_server(url, listener, template, status, word):
    remote, hits = listener
    r = sparql(url, template.format(remote=remote), "application/sparql-results+json")
    time.sleep(0.3)
    assert hits == []    # the server never connected to the outside address
    assert r.status_code == status and word in r.json()["error"]


def test_from_file_is_refused_and_nothing_is_read(url, tmp_path):
    secret = tmp_path / "secret.ttl"
    secret.write_text('<urn:x> <urn:y> "TOP-SECRET-VALUE" .\n')
    r = sparql(url, f"SELECT ?o FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}", "text/csv")
    assert r.status_code == 403
    assert "file" in r.text and "TOP-SECRET-VALUE" not in r.text


def test_own_named_graphs_may_be_named_in_from(url):
    q = ("SELECT (COUNT(*) AS ?n) FROM NAMED <https://w3id.org/hrkg/graph/data/upr.ttl> "
         "WHERE { GRAPH ?g { ?s a hrkg:UPRReview } }")
    r = sparql(url, q, "application/sparql-results+json")
    assert r.status_code == 200 and int(r.json()["results"]["bindings"][0]["n"]["value"]) == 4


# ---- limits: body size, time, rows -------------------------------------------------------------

def test_request_body_limit(url):
    big = "# " + "x" * MAX_BODY + "\n" + CAT_QUERY
    r = HTTP.post(url + "/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and str(MAX_BODY) in r.text

    def chunks():       # no Content-Length: the server must count as it reads
        for _ in range(MAX_BODY // 1000 + 5):
            yield b"#" + b"y" * 998 + b"\n"
    r = HTTP.post(url + "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    r = HTTP.get(url + "/sparql", params={"query": big})
    assert r.status_code == 414 and "POST" in r.text
    small = HTTP.post(url + "/sparql", content=CAT_QUERY, headers={"Content-Type": "application/sparql-query",
                                                                   "Accept": "text/csv"})
    assert small.status_code == 200 and "2015-02-05" in small.text


def children(pid):
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(p) for p in (task / "children").read_text().split()}
    return out


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_timeout_kills_the_worker(url, server_pid):
    """An endless query is answered 503 near the limit, the worker that ran it is gone (not just
    abandoned: no CPU is spent any more) and the server answers the next request."""
    before = children(server_pid)
    assert len(before) == 2
    burning, result = {}, {}

    start = {p: cpu_seconds(p) for p in before}

    answered = threading.Event()

    def watch():
        # CPU each worker spent since the request, last seen while it still existed: sampled over
        # the whole run rather than a short window, so a busy CI machine cannot starve the measure.
        # The run ends with the answer (the worker is killed before the 503 is sent); sampling
        # on past it until TIMEOUT + 2 s only waited, so it stops there, after a last sample.
        deadline = time.monotonic() + TIMEOUT + 2
        while time.monotonic() < deadline:
            last = answered.is_set()
            for p in before:
                try:
                    burning[p] = cpu_seconds(p) - start[p]
                except (FileNotFoundError, ProcessLookupError):
                    pass
            if last:
                break
            answered.wait(0.05)

    def run():
        t0 = time.monotonic()
        try:
            result["response"] = sparql(url, CROSS_JOIN, "application/sparql-results+json")
            result["seconds"] = time.monotonic() - t0
        finally:
            answered.set()

    threads = [threading.Thread(target=run), threading.Thread(target=watch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    r = result["response"]
    assert r.status_code == 503 and "stopped" in r.json()["error"]
    assert TIMEOUT <= result["seconds"] < TIMEOUT + 3
    busy = max(burning, key=burning.get)
    assert burning[busy] > 0.3          # the worker was computing...
    assert not Path(f"/proc/{busy}").exists()     # ...and is gone: killed and reaped
    after = children(server_pid)
    assert busy not in after and len(after) == 2   # replaced by a fresh worker
    cpu = {p: cpu_seconds(p) for p in after | {server_pid}}
    time.sleep(1.0)
    spent = sum(cpu_seconds(p) - cpu[p] for p in cpu)
    assert spent < 0.3, f"the server still burns CPU after the timeout ({spent:.2f} s in 1 s)"
    r = HTTP.post(url + "/sparql", data={"query": CAT_QUERY}, headers={"Accept": "text/csv"})  # POST: never cached
    assert r.status_code == 200 and "2015-02-05" in r.text


def test_timeout_kills_the_worker(server):
    url, proc = server
    check_timeout_kills_the_worker(url, proc.pid)


def _echo_or_sleep(state, job):
    if isinstance(job, float):
        time.sleep(job)
    return (state, job)


def test_closed_pool_workers_exit_on_their_own():
    """Closing the pool closes each worker's pipe and every worker, the one forked to replace a
    killed one too, sees end-of-file and exits with 0. A fork keeps copies of the server's ends of
    the pipes that exist when it is made; a worker that kept them never saw end-of-file, and
    closing the server waited two seconds before killing it."""
    import asyncio
    from hrkg.web.pool import PoolTimeout, WorkerPool

    async def scenario():
        pool = WorkerPool(_echo_or_sleep, "state", size=2)
        pool.start()
        assert await pool.run("job", timeout=10) == ("state", "job")
        with pytest.raises(PoolTimeout):       # the worker is killed and a new one forked
            await pool.run(30.0, timeout=0.2)
        workers = list(pool._workers)
        assert len(workers) == 2
        pool.close()
        return [w.process.exitcode for w in workers]

    assert asyncio.run(scenario()) == [0, 0]


def test_row_limit_truncates_and_says_so(url):
    r = sparql(url, "SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json")
    assert r.status_code == 200
    assert r.headers["x-sparql-maxrows"] == str(MAX_ROWS)
    assert len(r.json()["results"]["bindings"]) == MAX_ROWS
    r = sparql(url, CAT_QUERY, "application/sparql-results+json")
    assert "x-sparql-maxrows" not in r.headers      # not truncated, no header


def test_row_limit_stops_the_work_early(url):
    """The limit reaches the engine (LIMIT max_rows + 1), so a huge result is cut in time, not
    computed in full and then truncated."""
    t0 = time.monotonic()
    r = sparql(url, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } LIMIT 100000000", "text/csv")
    assert r.status_code == 200 and time.monotonic() - t0 < TIMEOUT
    assert len(list(csv.reader(io.StringIO(r.text)))) == MAX_ROWS + 1
    assert r.headers["x-sparql-maxrows"] == str(MAX_ROWS)


def test_bad_sparql_is_a_400_naming_the_problem(url):
    r = sparql(url, "SELECT * WHERE { ?s ?p }", "application/json")
    assert r.status_code == 400 and "syntax" in r.json()["error"]


# ---- resources and the ontology ----------------------------------------------------------------

@pytest.mark.parametrize("accept,rdf_format", [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"), ("*/*", "turtle")])
def test_resource_iri_resolves_by_content_negotiation(url, accept, rdf_format):
    r = get(url, "/id/action/VNM-CAT-ratification", accept)
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format=rdf_format)
    assert (VNM_CAT, HRKG.date, CAT_DATE) in graph
    assert (VNM_CAT, HRKG.consentingState, URIRef(ID + "state/VNM")) in graph
    assert (VNM_CAT, DCTERMS.source, URIRef(ID + "source/untc-cat")) in graph


def test_state_iri_describes_the_state(url):
    graph = Graph().parse(data=get(url, "/id/state/VNM", "text/turtle").text, format="turtle")
    vnm = URIRef(ID + "state/VNM")
    assert (vnm, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"), Literal("Viet Nam", lang="en")) in graph
    assert (vnm, HRKG.hasConsentedTo, URIRef(ID + "instrument/CAT")) in graph    # inferred triples too
    assert {s for s in graph.subjects()} == {vnm}                                 # only its own triples


def test_jsonld_uses_the_published_context(url):
    from hrkg.context import CONTEXT
    doc = get(url, "/id/action/VNM-CAT-ratification", "application/ld+json").json()
    assert doc["@context"] == CONTEXT["@context"]
    (node,) = [n for n in doc["@graph"] if n.get("id") == str(VNM_CAT)]
    assert node["date"] == "2015-02-05"
    assert get(url, "/context.jsonld").json() == CONTEXT


@pytest.mark.parametrize("path", ["/id/state/XXX", "/id/action/VNM-CAT-nothing", "/id/state/VNM/../../etc"])
@pytest.mark.parametrize("accept", ["text/turtle", "text/html", "application/ld+json"])
def test_unknown_iri_is_404(url, path, accept):
    r = get(url, path, accept)
    assert r.status_code == 404


def test_404_suggests_close_codes(url):
    r = get(url, "/id/state/VNMM", "application/json")
    assert r.status_code == 404 and "VNM" in r.json()["suggestions"]


def test_ontology_is_served_as_rdf_and_as_a_page(url):
    graph = Graph().parse(data=get(url, "/ontology", "text/turtle").text, format="turtle")
    assert (URIRef("https://w3id.org/hrkg/ontology"), RDF.type, OWL.Ontology) in graph
    assert (HRKG.Ratification, RDF.type, OWL.Class) in graph
    html = get(url, "/ontology", "text/html").text
    assert 'id="Ratification"' in html and "hrkg:consentingState" in html


def test_void_describes_the_dataset(url):
    graph = Graph().parse(data=get(url, "/.well-known/void", "text/turtle").text, format="turtle")
    dataset = URIRef("https://w3id.org/hrkg/dataset")
    assert (dataset, RDF.type, VOID.Dataset) in graph
    assert (dataset, VOID.sparqlEndpoint, URIRef(url + "/sparql")) in graph
    assert (dataset, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in graph
    triples = int(graph.value(dataset, VOID.triples))
    # what the endpoint's default graph holds, each triple once (the files' named graphs overlap)
    counted = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "application/json")
    assert triples == int(counted.json()["results"]["bindings"][0]["n"]["value"])
    in_files = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "application/json")
    assert int(in_files.json()["results"]["bindings"][0]["n"]["value"]) > triples
    states = [p for p in graph.objects(dataset, VOID.classPartition) if graph.value(p, VOID["class"]) == HRKG.State]
    assert int(graph.value(states[0], VOID.entities)) == 197   # with Cook Islands and Niue
    downloads = {str(d) for d in graph.objects(dataset, DCAT.distribution) if graph.value(d, DCAT.downloadURL)}
    assert url + "/download/hrkg.nt" in downloads
    dump = Graph().parse(data=HTTP.get(url + "/download/hrkg.nt", timeout=60).text, format="nt")
    assert (VNM_CAT, HRKG.date, CAT_DATE) in dump


# ---- stored queries ------------------------------------------------------------------------------

def test_stored_query_list(url):
    listing = get(url, "/queries", "application/json").json()["queries"]
    status = [q for q in listing if q["name"] == "treaty-status"][0]
    assert [(p["name"], p["required"]) for p in status["parameters"]] == [("state", True), ("as_of", False)]
    assert "treaty-status" in get(url, "/queries", "text/html").text


@pytest.mark.parametrize("accept", ["text/csv", "application/sparql-results+json", "application/sparql-results+xml",
                                    "text/tab-separated-values"])
def test_stored_query_in_every_format(url, accept):
    r = get(url, "/queries/treaty-status", accept, state="vietnam", as_of="2015-12-31")
    assert r.status_code == 200
    if accept == "text/csv":
        row = [r for r in csv.DictReader(io.StringIO(r.text)) if r["instrument"] == "CAT"][0]
        assert (row["signed"], row["consented"], row["status"]) == ("2013-11-07", "2015-02-05", "party")
    elif accept.endswith("json"):
        row = [b for b in r.json()["results"]["bindings"] if b["instrument"]["value"] == "CAT"][0]
        assert row["consented"]["value"] == "2015-02-05"
    else:
        assert "2015-02-05" in r.text and "2013-11-07" in r.text


def test_stored_query_as_of_changes_the_answer(url):
    r = get(url, "/queries/treaty-status", "application/json", state="VNM", as_of="2014-12-31")
    row = [b for b in r.json()["results"]["bindings"] if b["instrument"]["value"] == "CAT"][0]
    assert row["status"]["value"] == "signatory" and "consented" not in row


@pytest.mark.parametrize("params,status,words", [
    ({"state": "Vietnm"}, 400, ["unknown state code 'Vietnm'", "VNM"]),
    ({"sate": "VNM"}, 400, ["no parameter 'sate'", "did you mean state"]),
    ({"state": "VNM", "as_of": "2015-13-45"}, 400, ["'as_of'", "2015-13-45"]),
    ({}, 400, ["needs parameter 'state'"]),
    ({"state": 'VNM" } . ?s ?p ?o . FILTER("1'}, 400, ["unknown state code"]),   # injection: only ever a term
])
def test_stored_query_parameter_errors(url, params, status, words):
    r = get(url, "/queries/treaty-status", "application/json", **params)
    assert r.status_code == status
    for word in words:
        assert word in r.text


def test_unknown_stored_query_is_404_listing_the_names(url):
    r = get(url, "/queries/treaty-stat", "application/json")
    assert r.status_code == 404 and "treaty-status" in r.json()["error"]


def test_stored_query_html_has_a_form_and_the_table(url):
    form = get(url, "/queries/parties", "text/html")
    assert form.status_code == 200 and 'name="instrument"' in form.text and 'type="date"' in form.text
    page = get(url, "/queries/parties", "text/html", instrument="CAT", group="ASEAN").text
    assert "<table" in page and "VNM" in page and "2015-02-05" in page
    bad = get(url, "/queries/parties", "text/html", instrument="CATT")
    assert bad.status_code == 400 and "unknown instrument code" in bad.text and 'name="instrument"' in bad.text


# ---- the HTML pages: what a reader sees --------------------------------------------------------

def row_of(html, row_id):
    start = html.index(f'id="{row_id}"')
    return html[start:html.index("</tr>", start)]


def test_state_page_facts_and_sources(url):
    html = get(url, "/id/state/VNM", "text/html").text
    cat = row_of(html, "status-CAT")
    assert "2013-11-07" in cat and "2015-02-05" in cat and "ratification" in cat and "party" in cat
    assert 'href="/id/action/VNM-CAT-ratification"' in cat
    # the consent cell cites sources; the note resolves to the UN Treaty Collection record
    number = cat.split("2015-02-05", 1)[1].split('href="#src-', 1)[1].split('"', 1)[0]
    note = html[html.index(f'id="src-{number}"'):]
    note = note[:note.index("</li>")]
    assert "treaties.un.org" in note or "United Nations" in note
    assert "<svg" in html and "Treaty actions of Viet Nam" in html
    upr = row_of(html, "upr-III")
    assert "291" in upr and "241" in upr and "82.8%" in upr
    assert "ASEAN" in html and "1995-07-28" in html    # member of ASEAN since 28 July 1995


def test_instrument_page_lists_parties(url):
    html = get(url, "/id/instrument/CAT", "text/html").text
    assert "Convention against Torture" in html
    vnm = row_of(html, "party-VNM")
    assert "2015-02-05" in vnm and "2013-11-07" in vnm
    assert "Parties to CAT over time" in html


def test_group_page_ratification_matrix(url):
    html = get(url, "/id/group/ASEAN", "text/html").text
    vnm = row_of(html, "row-VNM")
    cell = vnm[vnm.index('data-instrument="CAT"'):]
    cell = cell[:cell.index("</td>")]
    assert 'datetime="2015-02-05"' in cell and "ratification 2015-02-05" in cell
    tha = row_of(html, "row-THA")
    assert 'datetime="2007-10-02"' in tha        # Thailand acceded to CAT on 2 October 2007
    assert html.count('<tr id="row-') == 11      # the eleven members today


def test_home_and_lookup(url):
    html = get(url, "/", "text/html").text
    assert 'href="/id/state/VNM"' in html and 'href="/sparql"' in html and 'href="/queries"' in html
    r = HTTP.get(url + "/lookup", params={"q": "Việt Nam"})
    assert r.status_code == 303 and r.headers["location"] == "/id/state/VNM"
    r = HTTP.get(url + "/lookup", params={"q": "Thailnd"}, headers={"Accept": "application/json"})
    assert r.status_code == 404 and "state/THA" in r.json()["suggestions"]


def test_pages_load_nothing_from_the_internet(url):
    for path in ("/", "/id/state/VNM", "/id/instrument/CAT", "/id/group/ASEAN", "/queries/treaty-status", "/sparql"):
        html = get(url, path, "text/html").text
        for tag in ("<script", "<link", "<img", "@import", "url("):
            assert tag not in html, f"{path} has {tag}"


# ---- the in-memory (rdflib) engine -----------------------------------------------------------------

def test_in_memory_engine_answers_and_times_out(tmp_path_factory, _bundle_with_ledger_sample):
    """`--in-memory` serves KnowledgeGraph.open() (rdflib): same answers, and a Python-level query
    that no thread could interrupt is still stopped at the limit.

    The server fills its store with the bundle whose UN Treaty Collection ledger is cut to its
    sample (conftest), which keeps every record of Viet Nam (the ledger's CAT ratification too):
    parsing and inferring at start-up takes a second instead of four. What is checked does not
    depend on the rest of the ledger: VNM's treaty-status rows are the same with the whole bundle
    (checked both ways when this was changed), and the cross join has ~10^12 solutions on either.
    Its own cache folder: nothing it might write there can touch the session's default store."""
    store = tmp_path_factory.mktemp("serve-in-memory") / "store"
    with start_server(store, "--in-memory", "--timeout", str(TIMEOUT), bundle=_bundle_with_ledger_sample,
                      env={"HRKG_CACHE_DIR": str(store.parent / "cache")}) as (url, proc):
        r = get(url, "/queries/treaty-status", "text/csv", state="VNM")
        row = [r for r in csv.DictReader(io.StringIO(r.text)) if r["instrument"] == "CAT"][0]
        assert row["consented"] == "2015-02-05"
        check_timeout_kills_the_worker(url, proc.pid)


def test_serve_rejects_bad_limits():
    done = subprocess.run([sys.executable, "-m", "hrkg", "serve", "--workers", "0"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "--workers must be positive" in done.stderr


def test_links_use_the_bind_address_not_the_host_header(url):
    """Without --public-url, absolute links use the bind address (http://HOST:PORT), whatever Host
    header a client sends, also in replies served from the response cache."""
    for host in ("attacker.example", "attacker.example:8443"):
        for path in ("/void", "/sparql"):
            r = HTTP.get(url + path, headers={"Host": host, "Accept": "text/turtle"}, timeout=30)
            assert r.status_code == 200 and "attacker" not in r.text
            assert f"<{url}/sparql>" in r.text
