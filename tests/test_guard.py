"""The server's no-network guarantee, checked against the engine itself.

The guard (hrkg/web/guard.py) reads a query with rdflib's parser; pyoxigraph runs it. A gap between
the two parsers was a way out (issue 15: a SERVICE hidden from rdflib by a \\u escape that the two
read differently, after which Oxigraph POSTed to a loopback port). These tests
- run the guard and the engine on the same texts, hand-made and generated, with a loopback
  listener as the witness: whatever the guard lets through never makes the engine connect;
- show the worker sandbox (hrkg/web/sandbox.py) stops the engine's own HTTP client even when a
  query with SERVICE reaches it.
"""
import os
import socket
import threading
import time

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from hrkg.query import sparql_keyword_ends
from hrkg.web.app import worker_setup
from hrkg.web.guard import Refused, _services, check_query
from hrkg.web.sandbox import deny_network


@pytest.fixture(scope="module")
def listener():
    """A loopback TCP listener that records each connection and closes it at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(50)
    sock.settimeout(0.1)
    hits, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join(2)
    sock.close()


def guard_allows(text):
    try:
        check_query(text, max_rows=100)
        return True
    except Refused:
        return False


def engine_connects(text, hits):
    """Run ``text`` on an empty Oxigraph store (no sandbox) and say whether it reached the listener."""
    before = len(hits)
    try:
        result = ox.Store().query(text)
        if not isinstance(result, ox.QueryBoolean):
            list(result)
    except (SyntaxError, OSError, ValueError, RuntimeError):
        pass
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline and len(hits) == before:
        time.sleep(0.005)
    return len(hits) > before


# The attack, found again with tests/test_guard.py's generator: rdflib expands "\u00000022"
# (8 hex digits after \u) to two quotes, so for rdflib a string opens around the SERVICE clause;
# Oxigraph reads "\u0000" then "0022" inside one string, so for it SERVICE is code.
BYPASSES = [
    'SELECT * WHERE {{ BIND(CONCAT("\\u00000022,") AS ?a) SERVICE <{remote}> {{ ?s ?p ?o }} BIND(CONCAT(",\\u00000022") AS ?b) }}',
    'SELECT * WHERE {{ BIND("\\u00000022+" AS ?a) SERVICE <{remote}> {{ ?s ?p ?o }} BIND("+\\u00000022" AS ?b) }}',
]
SMUGGLED = BYPASSES + [
    'SELECT * WHERE {{ BIND("\\U00000022" AS ?x) SERVICE <{remote}> {{ ?s ?p ?o }} }}',
    'SELECT * WHERE {{ \\u0053ERVICE <{remote}> {{ ?s ?p ?o }} }}',
    'SELECT * WHERE {{ BIND("a\\u005C" AS ?x) SERVICE <{remote}> {{ ?s ?p ?o }} }}',
]


@pytest.mark.parametrize("template", BYPASSES)
def test_the_bypasses_are_real(template, listener):
    """rdflib's algebra holds no SERVICE, yet the engine connects: what the old guard let through."""
    remote, hits = listener
    text = template.format(remote=remote)
    assert _services(translateQuery(parseQuery(text)).algebra) == []
    assert engine_connects(text, hits)


@pytest.mark.parametrize("template", SMUGGLED)
def test_escapes_that_parsers_read_differently_are_refused(template, listener):
    remote, hits = listener
    with pytest.raises(Refused) as refused:
        check_query(template.format(remote=remote), max_rows=100)
    assert refused.value.status == 400 and "\\u" in refused.value.message


def keywords(text):
    return [keyword for keyword, _ in sparql_keyword_ends(text)]


def test_the_lexer_finds_service_where_a_prefixed_name_escape_looks_like_a_comment(listener):
    """`ex:a\\#b` is a prefixed name, not a comment: a SERVICE after it on the same line is syntax."""
    remote, _ = listener
    text = f"PREFIX ex: <urn:ex:>\nSELECT * WHERE {{ ?s ex:a\\#b ?o . SERVICE <{remote}> {{ ?s ?p ?o }} }}"
    assert keywords(text) == ["SELECT", "WHERE", "SERVICE"]
    assert keywords('SELECT * WHERE { ?s ?p "SERVICE" . ?s ?p \'\'\'\nSERVICE\'\'\' } # SERVICE') == ["SELECT", "WHERE"]
    assert not guard_allows(text)


def test_the_characters_themselves_are_accepted():
    checked = check_query('SELECT * WHERE { ?s ?p "Côte d’Ivoire — \U0001F600" }', max_rows=100)
    assert checked.form == "SELECT"


def test_a_service_is_refused_before_parsing_and_named(monkeypatch):
    """The lexer's SERVICE refuses the query before rdflib parses it (the parse is most of the
    guard's time), naming the endpoint written after the keyword; a broken query is refused for
    its SERVICE too."""
    from hrkg.web import guard

    def no_parse(text):
        raise AssertionError("parsed")
    monkeypatch.setattr(guard, "parseQuery", no_parse)
    for text, named in [("SELECT * WHERE { SERVICE <http://127.0.0.1:9/a> { ?s ?p ?o } }", "<http://127.0.0.1:9/a>"),
                        ("ASK { ?x ?y ?z . service silent ?where { ?s ?p ?o } }", "?where"),
                        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/b> { ?s ?p", "<http://127.0.0.1:9/b>"),
                        ("SELECT * WHERE { SERVICE # a comment\n <http://127.0.0.1:9/c> {} }",
                         "(which the lexer finds in the text)")]:
        with pytest.raises(Refused) as refused:
            check_query(text, max_rows=100)
        assert refused.value.status == 403 and f"SERVICE {named} is not allowed" in refused.value.message


def test_service_in_a_string_or_comment_is_not_a_service():
    text = 'SELECT * WHERE { ?s ?p "civil SERVICE" } # SERVICE <http://127.0.0.1:1/>'
    assert check_query(text, max_rows=100).form == "SELECT"


# Differential test: texts built from the pieces that make parsers disagree (quotes of every kind,
# escapes, comments, IRIs, prefixed-name escapes), around SERVICE clauses aimed at the listener.
PIECES = ['"', "'", '"""', "'''", "\\", "\\u0022", "\\u00000022", "\\U00000022", "\\u0027", "\\n", "#",
          "\n", "\r", " ", "<", ">", "{", "}", "(", ")", ".", ";", ",", "?s ?p ?o", "?x", "BIND(", " AS ?v)",
          "ex:a\\#", "ex:b", "SERVICE <{remote}> { ?s ?p ?o }", "SERVICE SILENT <{remote}> { ?a ?b ?c }",
          "service <{remote}> {}", "sErViCe", "OPTIONAL {", "FILTER(", "1", "\"x\"", "'y'", "<urn:a>",
          "SELECT * WHERE {", "ASK {", "FROM <{remote}>", "VALUES ?x { 1 }", "UNION", "GRAPH ?g {"]
TEXTS = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join)
# ... and texts shaped like the attack: a literal on each side of a SERVICE clause, each literal
# made of quotes, escapes and punctuation, inside the places a literal can stand.
CONTENT = st.lists(st.sampled_from(["\\u00000022", "\\u0022", "\\U00000022", "\\u00000027", "\\u0027", '"', "'",
                                    "\\", "\\\\", "+", ",", "=", " ", "#", "x", "0", "\n", "\\n"]),
                   max_size=5).map("".join)
LITERAL = st.tuples(st.sampled_from(['"', "'", '"""', "'''"]), CONTENT).map(lambda qc: qc[0] + qc[1] + qc[0])
PLACES = ["BIND({} AS ?a{})", "BIND(CONCAT({}) AS ?a{})", "FILTER({} != \"\"){}", "VALUES ?a{1} {{ {0} }}",
          "FILTER(STR(?o) = {}){}", "?s ?p {} .{}"]
SIDE = st.tuples(st.sampled_from(PLACES), LITERAL, st.integers(0, 9)).map(lambda t: t[0].format(t[1], t[2]))
SHAPED = st.tuples(SIDE, SIDE).map(lambda lr: "SELECT * WHERE { " + lr[0] + " SERVICE <{remote}> { ?s ?p ?o } "
                                   + lr[1] + " }")
EXAMPLES = 1500


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=TEXTS, prefix=st.sampled_from(["PREFIX ex: <urn:ex:>\nSELECT * WHERE { ", "ASK { ", ""]),
       suffix=st.sampled_from([" }", "", " } LIMIT 1"]))
def test_whatever_the_guard_allows_never_reaches_the_network(listener, body, prefix, suffix):
    remote, hits = listener
    text = (prefix + body + suffix).replace("{remote}", remote)
    if guard_allows(text):
        assert not engine_connects(text, hits), text


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(shaped=SHAPED)
def test_no_literal_hides_a_service_from_the_guard(listener, shaped):
    remote, hits = listener
    text = shaped.replace("{remote}", remote)
    if guard_allows(text):
        assert not engine_connects(text, hits), text


def test_the_differential_test_sees_a_connection_when_the_guard_is_bypassed(listener):
    """The witness works: the engine does connect for a SERVICE the guard would refuse."""
    remote, hits = listener
    text = f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}"
    assert not guard_allows(text)
    assert engine_connects(text, hits)


# ---- the sandbox: the engine cannot connect even when a SERVICE query reaches it --------------

def _in_child(setup, text):
    """Fork; run ``setup()`` then the query on an empty store; return what the engine said."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            setup()
            try:
                list(ox.Store().query(text))
                outcome = "answered"
            except OSError as exc:
                outcome = f"error: {exc}"
            except Exception as exc:   # noqa: BLE001 - reported to the parent
                outcome = f"error: {exc}"
            os.write(write, outcome.encode()[:500])
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as fh:
        return fh.read()


@pytest.mark.skipif(not os.uname().sysname == "Linux", reason="seccomp is Linux only")
def test_the_worker_sandbox_stops_the_engines_http_client(listener):
    remote, hits = listener
    text = f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}"
    before = len(hits)
    outcome = _in_child(lambda: worker_setup(False), text)
    time.sleep(0.2)
    assert len(hits) == before, "the sandboxed engine reached the listener"
    assert "Permission denied" in outcome
    # without the sandbox the same query does reach it (the test can fail)
    _in_child(lambda: None, text)
    deadline = time.monotonic() + 2
    while len(hits) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(hits) > before


@pytest.mark.skipif(not os.uname().sysname == "Linux", reason="seccomp is Linux only")
def test_the_sandbox_keeps_pipes_and_unix_sockets():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = deny_network()
        a, b = socket.socketpair()
        a.send(b"ok")
        try:
            socket.socket(socket.AF_INET6)
            inet = "open"
        except OSError:
            inet = "denied"
        os.write(write, f"{ok} {b.recv(2).decode()} {inet}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as fh:
        assert fh.read() == "True ok denied"
