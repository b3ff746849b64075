"""Remote engines: a real Oxigraph server (the ``oxigraph`` command of the test extra) receives the
graph through ``hrkg publish`` and, as ``KnowledgeGraph.remote`` / ``hrkg query --endpoint``, must
answer every stored query with the same rows as the local store, resolving codes on the server and
never opening, building or reading the local store."""
import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from hrkg import KnowledgeGraph, cli, remote
from hrkg.errors import RemoteError, UsageError
from hrkg.importers.run import import_files
from hrkg.load import GRAPH_BASE, INFERRED_GRAPH
from hrkg.query import FORMATS, QueryCatalog, bind_parameters, python_value, run_sparql

from conftest import use_bundle
from test_serve import HTTP


def _oxigraph_command():
    found = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail("the 'oxigraph' command is missing: pip install oxigraph (it is in hrkg's test extra)")
    return found


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_oxigraph(tmp_path_factory, *, union):
    """An Oxigraph server on a free loopback port, storing in a temp dir; waits until it answers."""
    port = _free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    log = open(location / "server.log", "w+")
    command = [_oxigraph_command(), "serve", "--location", str(location / "db"), "--bind", f"127.0.0.1:{port}"]
    if union:
        command.append("--union-default-graph")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if HTTP.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.seek(0)
            pytest.fail(f"oxigraph server did not start on {base}: {log.read()[-2000:]}")
        time.sleep(0.1)
    return process, base, log


@contextlib.contextmanager
def oxigraph(tmp_path_factory, *, union=False):
    """_start_oxigraph's base URL, the server stopped after."""
    process, base, log = _start_oxigraph(tmp_path_factory, union=union)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with oxigraph(tmp_path_factory) as base:
        yield base


FIXTURES = Path(__file__).parent / "fixtures"
FOLLOWUP_MAP = ["state=To", "recommending_state=From", "text=Text", "response=Response", "action=Action",
                "themes=Issue", "session=Session"]


@pytest.fixture(scope="module")
def rich(tmp_path_factory, _bundle_with_ledger_sample):
    """(local graph, its endpoint) for the stored queries that answer nothing on the bundled data:
    29 real UPR recommendations (tests/fixtures/followup, imported as test_followup.py does) for
    recommendations and the follow-up queries, and facts restated with other values
    (tests/fixtures/overlap) for discrepancies, over the bundle with a sampled ledger (conftest: Viet
    Nam's treaty actions, which the follow-up rows read, are all there); published in-process to a
    second server."""
    with oxigraph(tmp_path_factory) as base, pytest.MonkeyPatch.context() as mp:
        upr = tmp_path_factory.mktemp("rich") / "upr.nt"
        import_files("upr", [FIXTURES / "followup" / "upr-sessions-1-9-excerpt.csv"], upr, field_map=FOLLOWUP_MAP)
        use_bundle(mp, _bundle_with_ledger_sample)
        kg = KnowledgeGraph.open([upr, FIXTURES / "overlap" / "restated.ttl"])
        remote.publish(kg, f"{base}/query")
        yield kg, f"{base}/query"


def run(argv):
    """(exit code, stdout, stderr) of the hrkg CLI run in-process."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stderr
    sys.stderr = err
    try:
        code = cli.main(argv, out=out)
    finally:
        sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def local(published):
    """What 'hrkg query' answers from: the built store (the one 'hrkg publish' uploaded)."""
    return KnowledgeGraph.open_store(None)


@pytest.fixture(scope="module")
def published(server):
    code, out, err = run(["publish", "--endpoint", f"{server}/query"])
    assert code == 0, err
    return server, out, err


def _rows(result):
    """A result's rows as a multiset of tuples of Python values (None where unbound)."""
    return Counter(tuple(None if t is None else python_value(t) for t in row) for row in result.rows)


def _parameter_sets(stored):
    """Each example of a stored query, and its required parameters alone (no optional ones)."""
    sets = [dict(pair.split("=", 1) for pair in example.split()) for example in stored.examples]
    first = sets[0] if sets else {}
    required = {k: v for k, v in first.items() if stored.parameter(k).required}
    return sets + ([required] if required not in sets else [])


# ---- publish -------------------------------------------------------------------------------------

def test_publish_puts_one_named_graph_per_file_and_the_inferred_triples(local, published):
    server, out, err = published
    kg = local
    expected = {str(g.identifier): len(g) for g in kg.asserted_graphs()}
    expected[str(INFERRED_GRAPH)] = len(kg.inferred)
    counts = remote.query_text(f"{server}/query",
                               "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert {str(g): int(n) for g, n in counts.rows if str(g).startswith(GRAPH_BASE)} == expected
    assert f"{GRAPH_BASE}data/treaties/vnm.ttl" in expected
    total = sum(expected.values())
    # what the stored queries read, each triple once: the local default graph
    query_graph = int(next(kg.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))["n"].value)
    assert re.fullmatch(rf"published {len(expected)} graphs, {total:,} triples to {server}/store and "
                        rf"{query_graph:,} to its default graph in [0-9.]+ s\n", out)
    assert f"[{len(expected)}/{len(expected) + 1}] inferred: {len(kg.inferred):,} triples" in err
    assert f"[{len(expected) + 1}/{len(expected) + 1}] default graph: {query_graph:,} triples" in err
    count = remote.query_text(f"{server}/query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
    assert int(count) == query_graph < total      # files overlap: the default graph holds each triple once
    assert "warning" not in err


def test_publish_again_needs_replace_and_replace_removes_only_stale_hrkg_graphs(tmp_path_factory, tmp_path,
                                                                                bundle_with_ledger_sample):
    """On the bundle with a sampled ledger (conftest), its own store and its own server: --replace
    rewrites every graph, which took 17 s for the whole bundle."""
    store = ["--store", str(tmp_path / "store")]
    with oxigraph(tmp_path_factory) as server:
        code, out, err = run(["publish", "--endpoint", f"{server}/query", "-q", *store])
        assert code == 0 and out.startswith("published "), err
        code, out, err = run(["publish", "--endpoint", f"{server}/query", "-q", *store])
        assert code == 2 and out == ""
        assert "already on" in err and "use --replace" in err and "Traceback" not in err

        stale, foreign = GRAPH_BASE + "data/renamed-long-ago.ttl", "https://example.org/someone-else"
        for graph in (stale, foreign):
            response = httpx.put(f"{server}/store", params={"graph": graph}, timeout=10,
                                 content=b"<https://example.org/s> <https://example.org/p> \"o\" .\n",
                                 headers={"Content-Type": "application/n-triples"})
            assert response.status_code in (201, 204)
        code, out, err = run(["publish", "--endpoint", f"{server}/query", "--replace", "-q", *store])
        assert code == 0, err
        assert f"removed stale graph <{stale}>" in out
        assert err == ""
        assert HTTP.get(f"{server}/store", params={"graph": stale}, timeout=10).status_code == 404
        assert HTTP.get(f"{server}/store", params={"graph": foreign}, timeout=10).status_code == 200


def test_publish_warns_when_the_default_graph_is_the_union(tmp_path_factory, tmp_path, bundle_with_ledger_sample):
    """A server whose default graph is the union of the named graphs counts a fact stated by two
    files twice (the UN Treaty Collection ledger and vnm.ttl both state Viet Nam's CAT ratification;
    the sampled ledger keeps Viet Nam's records)."""
    with oxigraph(tmp_path_factory, union=True) as base:
        code, out, err = run(["publish", "--endpoint", f"{base}/query", "--no-inferred", "-q",
                              "--store", str(tmp_path / "store")])
        assert code == 0 and out.startswith("published ")
        assert "warning" in err and "union of the named graphs" in err and "without --union-default-graph" in err
        graphs = remote.query_text(f"{base}/query", "SELECT ?g WHERE { GRAPH ?g {} }").as_dicts()
        assert GRAPH_BASE + "data/treaties/vnm.ttl" in [r["g"] for r in graphs]
        assert str(INFERRED_GRAPH) not in [r["g"] for r in graphs]  # --no-inferred
        # which is why it warns: there a fact stated by two files is seen twice
        dates = remote.query_text(f"{base}/query", "SELECT ?d WHERE { <https://w3id.org/hrkg/id/action/VNM-CAT-"
                                  "ratification> <https://w3id.org/hrkg/ontology#date> ?d }").rows
        assert len(dates) > 1


def test_default_graph_store_sits_beside_the_query_endpoint():
    assert remote.default_graph_store("http://localhost:7878/query") == "http://localhost:7878/store"
    assert remote.default_graph_store("https://h.example/ds/sparql/") == "https://h.example/ds/store"
    with pytest.raises(UsageError, match="--graph-store"):
        remote.default_graph_store("http://localhost:7878/repositories/hrkg")


# ---- stored queries: same rows remotely as locally ----------------------------------------------

def _concatenated(stored):
    """The columns a stored query builds with GROUP_CONCAT, whose order SPARQL leaves to the engine
    (an in-memory store and a server's disk store list a recommendation's themes in different orders)."""
    return set(re.findall(r"GROUP_CONCAT\((?:[^()]|\([^()]*\))*\)\s+AS\s+\?(\w+)", stored.text, re.IGNORECASE))


def _comparable(result, concatenated):
    """_rows(), with the values of GROUP_CONCAT columns as sorted tuples of their items."""
    def value(var, term):
        v = None if term is None else python_value(term)
        return tuple(sorted(v.split(", "))) if var in concatenated and isinstance(v, str) else v
    return Counter(tuple(value(var, t) for var, t in zip(result.vars, row)) for row in result.rows)


def _compare(local_kg, endpoint, names):
    """{query: local rows compared} and the differences, for each example and required-only
    parameter set; the remote side is KnowledgeGraph.remote, codes resolved on the endpoint."""
    rows_compared, differences = {}, []
    with KnowledgeGraph.remote(endpoint) as there_kg:
        for name in names:
            stored = local_kg.catalog.get(name)
            for params in _parameter_sets(stored):
                here = _comparable(local_kg.query(name, params), _concatenated(stored))
                there = _comparable(there_kg.query(name, params), _concatenated(stored))
                rows_compared[name] = rows_compared.get(name, 0) + sum(here.values())
                if here != there:
                    differences.append((name, params, here - there, there - here))
    return rows_compared, differences


# the bundled data holds review totals only (individual recommendations, which the follow-up
# queries start from, come from imports), and it agrees with itself, so it has no discrepancies
EMPTY_ON_THE_BUNDLE = ["discrepancies", "followup-summary", "followup-threads", "recommendation-followup",
                       "recommendations"]


def test_every_stored_query_gives_the_same_rows_on_oxigraph_as_locally(local, published):
    """Locally is what 'hrkg query' answers: the built store. (tests/test_store.py checks the store
    against rdflib's initBindings, which is where the VALUES binding's semantics are pinned down.)"""
    server, _, _ = published
    rows_compared, differences = _compare(local, f"{server}/query", local.catalog.names())
    assert differences == []
    assert set(rows_compared) == set(local.catalog.names())
    assert sorted(name for name, n in rows_compared.items() if n == 0) == EMPTY_ON_THE_BUNDLE


def test_the_queries_empty_on_the_bundle_give_the_same_rows_on_data_where_they_answer(rich):
    """So the comparison above covers real answers of every stored query, not empty ones."""
    kg, endpoint = rich
    rows_compared, differences = _compare(kg, endpoint, EMPTY_ON_THE_BUNDLE)
    assert differences == []
    assert [name for name in EMPTY_ON_THE_BUNDLE if rows_compared[name] == 0] == []


def test_remote_results_keep_rdf_terms_for_every_output_format(published):
    server, _, _ = published
    argv = ["query", "treaty-status", "state=VNM", "as_of=2014-12-31"]
    for fmt in FORMATS:
        here = run(argv + ["--format", fmt])[:2]  # stderr may tell of a store rebuild
        there = run(argv + ["--format", fmt, "--endpoint", f"{server}/query"])[:2]
        assert there == here
    code, out, _ = run(argv + ["--format", "tsv", "--endpoint", f"{server}/query"])
    assert '"CAT"\t"Convention against Torture' in out
    assert '"2013-11-07"^^<http://www.w3.org/2001/XMLSchema#date>\t\t\t"signatory"' in out


def test_remote_query_answers_the_facts(local, published):
    server, _, _ = published
    kg = local
    there = KnowledgeGraph.remote(f"{server}/query")
    parties = there.query("parties", {"instrument": "CAT", "group": "ASEAN"})
    vnm = [r for r in parties.as_dicts() if r["state"] == "VNM"]
    assert [(r["consented"].isoformat(), r["consent_type"]) for r in vnm] == [("2015-02-05", "ratification")]
    before = there.query("treaty-status", {"state": "vietnam", "as_of": "2014-12-31"})
    assert {r["instrument"]: r["status"] for r in before.as_dicts()}["CAT"] == "signatory"
    # codes resolve through the published graph, read once: the same index as the local store's
    assert there.codes.codes("state") == kg.codes.codes("state") and there.codes is there.codes
    assert there.codes.iri("state", "Côte d’Ivoire") == kg.codes.iri("state", "Côte d’Ivoire")
    # earlier versions' API: codes resolved through a local graph
    old = remote.query_stored(kg, f"{server}/query", "treaty-status", {"state": "vietnam", "as_of": "2014-12-31"})
    assert _rows(old) == _rows(before)
    there.close()


def test_a_remote_graph_answers_query_and_sparql_only(published):
    server, _, _ = published
    there = KnowledgeGraph.remote(f"{server}/query")
    assert there.sparql("ASK { state:VNM hrkg:hasConsentedTo instr:CAT }").boolean is True
    for step in (there.validate, there.stats, lambda: there.export("ttl")):
        with pytest.raises(UsageError, match=rf"the graph on {server}/query is remote: it answers query and sparql"):
            step()


def test_an_empty_cache_stays_empty(published, tmp_path):
    """'hrkg query --endpoint' in a fresh process with an empty cache folder and no store: the answer
    comes from the endpoint (codes too), no store is built or opened, nothing is written, and no
    rdflib is imported."""
    server, _, _ = published
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HRKG_STORE", "XDG_CACHE_HOME")}
    env.update(HRKG_CACHE_DIR=str(cache), HOME=str(tmp_path / "home"))
    child = ("import json, sys\nfrom hrkg.cli import main\ncode = main(sys.argv[1:])\n"
             "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in ('rdflib', 'owlrl', "
             "'pyshacl'))]))")
    done = subprocess.run([sys.executable, "-c", child, "query", "treaty-status", "state=FRA", "--format", "csv",
                           "--endpoint", f"{server}/query"], env=env, capture_output=True, text=True, timeout=120)
    *lines, last = done.stdout.splitlines()
    assert json.loads(last) == [0, []], done.stderr
    assert done.stderr == ""
    assert "CAT,Convention against Torture and Other Cruel, Inhuman or Degrading Treatment or Punishment," \
           "1985-02-04,1986-02-18,ratification,party," in "\n".join(lines).replace('"', "")
    assert list(cache.iterdir()) == [] and not (tmp_path / "home").exists()


def test_parameters_are_checked_before_anything_is_sent_and_codes_on_the_endpoint(published):
    # port 9 (discard) is never contacted: a misspelt or missing parameter fails first
    code, _, err = run(["query", "parties", "instrumnet=CAT", "--endpoint", "http://127.0.0.1:9/query"])
    assert code == 2 and "did you mean instrument" in err
    code, _, err = run(["query", "treaty-status", "--endpoint", "http://127.0.0.1:9/query"])
    assert code == 2 and "needs parameter 'state'" in err
    code, _, err = run(["query", "treaty-status", "state=VNM", "as_of=2015-02-30", "--endpoint",
                        "http://127.0.0.1:9/query"])
    assert code == 2 and "not a valid calendar date" in err
    # a code needs the endpoint's graph: resolved there, with suggestions from its names
    server, _, _ = published
    code, _, err = run(["query", "parties", "instrument=NOPE", "--endpoint", f"{server}/query"])
    assert code == 2 and "unknown instrument code 'NOPE'" in err
    code, out, err = run(["query", "treaty-status", "state=Viet Nam", "--endpoint", f"{server}/query"])
    assert code == 0 and "2015-02-05" in out
    code, _, err = run(["query", "parties", "instrument=NOPE", "--endpoint", "http://127.0.0.1:9/query"])
    assert code == 3 and "cannot connect to SPARQL endpoint http://127.0.0.1:9/query" in err


def test_endpoint_and_local_options_do_not_mix(tmp_path):
    for extra in (["--data", str(tmp_path)], ["--store", str(tmp_path)], ["--rebuild"]):
        code, _, err = run(["query", "treaty-status", "state=VNM", "--endpoint", "http://127.0.0.1:9/query", *extra])
        assert code == 2 and f"{extra[0]} cannot be combined with --endpoint" in err
    assert list(tmp_path.iterdir()) == []


def test_an_endpoint_without_the_graph_says_so(tmp_path_factory):
    """A server that holds no hrkg data cannot resolve codes: the error names it and says how to
    publish, instead of calling every code unknown."""
    with oxigraph(tmp_path_factory) as base:
        code, out, err = run(["query", "treaty-status", "state=VNM", "--endpoint", f"{base}/query"])
        assert (code, out) == (3, "")
        assert err == (f"hrkg: error: SPARQL endpoint {base}/query holds no hrkg codes in its default graph (no "
                       f"state, instrument or group with an hrkg:code), so it cannot resolve codes such as "
                       f"state=VNM; publish the graph there with 'hrkg publish --endpoint {base}/query'\n")
        code, out, _ = run(["sparql", "--endpoint", f"{base}/query", "SELECT * WHERE { ?s a hrkg:State }"])
        assert (code, out) == (0, "s\n-\n(0 rows)\n")


INJECTIONS = [
    'VNM" } UNION { ?s ?p ?o } #',
    "VNM' } UNION { ?s ?p ?o } #",
    'VNM"^^<http://www.w3.org/2001/XMLSchema#string> . ?s ?p ?o . FILTER("1',
    'VNM\\" } ?s ?p ?o {',
    "VNM\n} UNION { ?s ?p ?o }",
    'VNM") } } SELECT * WHERE { ?s ?p ?o } #',
]


def test_a_string_parameter_is_a_literal_remotely_too(kg, published, tmp_path):
    server, _, _ = published
    (tmp_path / "by-code.rq").write_text(
        "# title: Resources with a code\n"
        "# param: code (string, required): the code, exactly\n"
        "# example: code=VNM\n"
        "PREFIX hrkg: <https://w3id.org/hrkg/ontology#>\n"
        "SELECT ?s WHERE { ?s hrkg:code ?_code }\n", encoding="utf-8")
    catalog = QueryCatalog([tmp_path])
    there = KnowledgeGraph.remote(f"{server}/query", queries=catalog)
    stored = catalog.get("by-code")

    def local(value):
        return _rows(run_sparql(kg.graph, stored.prepared, bind_parameters(stored, {"code": value}, kg.codes)))

    expected = Counter({("https://w3id.org/hrkg/id/state/VNM",): 1})
    assert local("VNM") == expected
    assert _rows(there.query("by-code", {"code": "VNM"})) == expected
    for attempt in INJECTIONS:
        assert local(attempt) == Counter(), attempt
        assert _rows(there.query("by-code", {"code": attempt})) == Counter(), attempt


# ---- sparql --endpoint ---------------------------------------------------------------------------

def test_sparql_endpoint_with_predeclared_prefixes_and_construct(published):
    server, _, _ = published
    code, out, _ = run(["sparql", "--endpoint", f"{server}/query", "--format", "csv",
                        "SELECT ?date WHERE { ?a hrkg:consentingState state:VNM ; hrkg:instrument instr:CAT ; hrkg:date ?date }"])
    assert code == 0 and out == "date\r\n2015-02-05\r\n"
    code, out, _ = run(["sparql", "--endpoint", f"{server}/query",
                        "CONSTRUCT { state:VNM hrkg:code ?c } WHERE { state:VNM hrkg:code ?c }"])
    assert code == 0 and 'state:VNM hrkg:code "VNM"' in out
    code, out, _ = run(["sparql", "--endpoint", f"{server}/query", "ASK { state:VNM hrkg:hasConsentedTo instr:CAT }"])
    assert (code, out) == (0, "yes\n")


def test_with_prefixes_keeps_declared_prefixes_and_line_numbers():
    text = "PREFIX hrkg: <urn:mine#>\nSELECT * WHERE { ?s hrkg:x state:VNM }"
    sent = remote.with_prefixes(text)
    assert sent.count("PREFIX hrkg:") == 1 and "PREFIX state: <https://w3id.org/hrkg/id/state/>" in sent
    assert sent.count("\n") == text.count("\n")
    assert "PREFIX instr:" not in sent


# ---- errors: a clear message naming the endpoint, the right exit code, never a traceback ---------

def test_unreachable_endpoint_is_a_clean_error():
    url = f"http://127.0.0.1:{_free_port()}/query"
    code, out, err = run(["query", "treaty-status", "state=VNM", "--endpoint", url])
    assert (code, out) == (3, "")
    assert err == f"hrkg: error: cannot connect to SPARQL endpoint {url}: Connection refused\n"
    code, _, err = run(["publish", "--endpoint", url, "-q"])
    assert code == 3 and f"cannot connect to SPARQL endpoint {url}" in err


def test_endpoint_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        started = time.monotonic()
        code, _, err = run(["query", "dialogues", "state=VNM", "--endpoint", url, "--timeout", "0.5"])
        assert time.monotonic() - started < 10
    assert code == 3
    assert err == f"hrkg: error: SPARQL endpoint {url} did not answer within 0.5 s\n"


def test_http_errors_and_bad_queries(published, tmp_path):
    server, _, _ = published
    code, _, err = run(["query", "dialogues", "state=VNM", "--endpoint", f"{server}/no-such-path"])
    assert code == 3 and f"SPARQL endpoint {server}/no-such-path answered 404" in err
    code, _, err = run(["sparql", "--endpoint", f"{server}/query", "SELEC ?x"])
    assert code == 2 and f"SPARQL endpoint {server}/query rejected the query: error at 1:" in err
    code, _, err = run(["query", "dialogues", "state=VNM", "--endpoint", "localhost:7878/query"])
    assert code == 2 and "is not an http(s) URL" in err
    one = tmp_path / "one.nt"
    one.write_text('<https://example.org/s> <https://example.org/p> "o" .\n', encoding="utf-8")
    small = KnowledgeGraph.open([one], include_bundle=False, reason=False)
    with pytest.raises(RemoteError, match=r"Graph Store .*/nowhere answered 404 Not Found \(is this the Graph Store URL"):
        remote.publish(small, f"{server}/query", graph_store=f"{server}/nowhere", replace=True)
