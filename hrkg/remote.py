"""Remote engines: the stored queries on any SPARQL 1.1 endpoint, and publishing the graph to one
through the SPARQL 1.1 Graph Store HTTP Protocol.

For users who outgrow one machine: Oxigraph server, Fuseki, Virtuoso, GraphDB. ``Endpoint`` is the
remote backend of ``KnowledgeGraph.remote(url)`` (graph.py): the graph lives on the endpoint,
nothing is read from or built in the local store. Parameters are checked as for a local query
(query.bind_parameters); codes resolve through the code index read from the endpoint itself, once
per KnowledgeGraph (codes.CodeIndex.from_select: two queries). Values reach the endpoint as RDF
terms in a ``VALUES`` block (query.inline_bindings, written by pyoxigraph), never as spliced text.
Results are parsed by pyoxigraph into a query.Result of pyoxigraph terms, as locally, so every
output format prints the same.

``publish`` PUTs one named graph per source file, named as locally (load.graph_name), plus the
inferred triples in ``https://w3id.org/hrkg/graph/inferred``, then what the stored queries read to
the default graph: remote engines do not run hrkg's OWL RL rules, and the stored queries rely on
them.
"""
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from .errors import QueryError, RemoteError, UsageError
from .load import DISCREPANCY_IRI, GRAPH_BASE, INFERRED_IRI
from .namespaces import PREFIX_IRIS
from .query import bind_parameters, inline_bindings, to_result

DEFAULT_TIMEOUT = 60.0
SELECT_ACCEPT = "application/sparql-results+json"
# SELECT and ASK answer with JSON results; CONSTRUCT and DESCRIBE with a graph
QUERY_ACCEPT = f"{SELECT_ACCEPT}, application/n-triples;q=0.9, text/turtle;q=0.8"


def _check_url(url, what):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what} {url!r} is not an http(s) URL, e.g. http://localhost:7878/query")
    return url


class Endpoint:
    """A SPARQL 1.1 Protocol query endpoint at ``url``, and the remote backend of KnowledgeGraph
    (the local one is graph.LocalBackend): ``run`` answers query text with parameter bindings,
    ``code_index`` reads the codes the endpoint's graph holds.

    Raises RemoteError (exit 3) when it cannot be reached, times out or fails, and QueryError
    (exit 2) when it rejects the query as bad (HTTP 400). Without ``client``, one httpx client is
    made on the first request and kept for the next ones until ``close()``.
    """

    def __init__(self, url, *, timeout=DEFAULT_TIMEOUT, client=None):
        self.url = _check_url(url, "SPARQL endpoint")
        self.timeout = timeout
        self._client, self._own_client = client, client is None

    def __repr__(self):
        return f"Endpoint({self.url!r})"

    def run(self, text, bindings=None, *, max_triples=None):
        """``text`` with ``bindings`` {"_name": term} in a VALUES block in every WHERE group (as
        locally: query.inline_bindings), sent with query()."""
        return self.query(inline_bindings(text, bindings), max_triples=max_triples)

    def code_index(self):
        """The codes and names of the graph on the endpoint (two SELECTs)."""
        from .codes import CodeIndex
        index = CodeIndex.from_select(lambda text: self.query(text).terms)
        if index.is_empty():
            raise RemoteError(f"SPARQL endpoint {self.url} holds no hrkg codes in its default graph (no state, "
                              f"instrument or group with an hrkg:code), so it cannot resolve codes such as "
                              f"state=VNM; publish the graph there with 'hrkg publish --endpoint {self.url}'")
        return index

    def query(self, text, *, max_triples=None):
        """Send the query (hrkg's prefixes predeclared, as locally) and return a Result of
        pyoxigraph terms (a CONSTRUCT's graph stops after ``max_triples`` + 1 triples)."""
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        response = _send(self._client, "POST", self.url, what="SPARQL endpoint", timeout=self.timeout,
                         data={"query": with_prefixes(text)}, headers={"Accept": QUERY_ACCEPT})
        if response.status_code == 400:
            raise QueryError(f"SPARQL endpoint {self.url} rejected the query: {_excerpt(response)}")
        _raise_for_status(response, "SPARQL endpoint", self.url)
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media in (SELECT_ACCEPT, "application/json"):
            return parse_json_results(response.content, self.url)
        graph_format = ox.RdfFormat.from_media_type(media) if media else None
        if graph_format is None:
            raise RemoteError(f"SPARQL endpoint {self.url} answered with {media or 'no content type'}, "
                              f"not SPARQL JSON results or RDF")
        try:
            return to_result(ox.parse(response.content, graph_format), max_triples=max_triples)
        except (SyntaxError, ValueError, OSError) as exc:
            raise RemoteError(f"SPARQL endpoint {self.url} sent an unreadable {media} graph: {exc}") from None

    def close(self):
        """Close the HTTP client this endpoint made (not one it was given)."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None


def parse_json_results(content, url="endpoint"):
    """W3C SPARQL 1.1 Query Results JSON as a Result of pyoxigraph terms (None where unbound)."""
    try:
        return to_result(ox.parse_query_results(content, ox.QueryResultsFormat.JSON))
    except (SyntaxError, ValueError, OSError) as exc:
        raise RemoteError(f"SPARQL endpoint {url} sent unreadable JSON results: {exc}") from None


def with_prefixes(text):
    """``text`` with a PREFIX declaration for each of hrkg's prefixes it uses but does not declare:
    local queries get them from the engine's predeclared prefixes, a remote engine only from the text."""
    declared = {m.lower() for m in re.findall(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*|)\s*:", text)}
    # on the query's first line, so the endpoint's error messages keep the user's line numbers
    head = "".join(f"PREFIX {p}: <{ns}> " for p, ns in PREFIX_IRIS.items()
                   if p.lower() not in declared and re.search(rf"(?<![\w.-]){p}:", text))
    return head + text


def query_stored(kg, endpoint, name, params=None, *, timeout=DEFAULT_TIMEOUT, client=None):
    """Stored query ``name`` of ``kg.catalog`` on ``endpoint``, its codes resolved through
    ``kg.codes`` (earlier versions' API; ``KnowledgeGraph.remote(endpoint).query(name, params)``
    resolves them on the endpoint and needs no local graph)."""
    stored = kg.catalog.get(name)
    bindings = bind_parameters(stored, dict(params or {}), kg.codes)
    return Endpoint(endpoint, timeout=timeout, client=client).run(stored.text, bindings)


def query_text(endpoint, text, *, timeout=DEFAULT_TIMEOUT, client=None):
    """Run any SPARQL query on ``endpoint`` (one request)."""
    sparql = Endpoint(endpoint, timeout=timeout, client=client)
    try:
        return sparql.query(text)
    finally:
        sparql.close()


# ---- publishing -------------------------------------------------------------------------------

@dataclass
class PublishSummary:
    graph_store: str
    graphs: int = 0
    triples: int = 0
    seconds: float = 0.0
    removed: list = field(default_factory=list)   # stale hrkg graphs deleted with replace=True
    default_triples: int = 0                      # put into the default graph
    default_seen: int | None = None               # what the server's default graph then holds

    @property
    def default_graph_problem(self):
        """Why queries on the server would not see the published graph as hrkg does, or None."""
        if self.default_seen is None or self.default_seen == self.default_triples:
            return None
        if self.default_seen > self.default_triples:
            return ("its default graph holds more triples than hrkg put there: it is probably the union of the "
                    "named graphs, where a fact stated by two files counts twice; serve the default graph "
                    "itself (Oxigraph: oxigraph serve without --union-default-graph; Fuseki: without "
                    "unionDefaultGraph)")
        return "its default graph does not show what hrkg put there, so 'hrkg query --endpoint' will miss it"


def default_graph_store(endpoint):
    """The Graph Store URL beside a query endpoint: ``.../query`` or ``.../sparql`` -> ``.../store``
    (Oxigraph server's layout). Raises UsageError when the URL has neither ending."""
    parts = urlsplit(_check_url(endpoint, "SPARQL endpoint"))
    path = parts.path.rstrip("/")
    if not path.endswith(("/query", "/sparql")):
        raise UsageError(f"cannot guess the Graph Store URL from {endpoint!r}; give --graph-store URL "
                         "(Oxigraph: http://HOST:7878/store, Fuseki: http://HOST:3030/DATASET/data)")
    return urlunsplit((parts.scheme, parts.netloc, path.rsplit("/", 1)[0] + "/store", "", ""))


def publish(kg, endpoint, *, graph_store=None, include_inferred=True, replace=False, progress=None,
            timeout=DEFAULT_TIMEOUT, client=None):
    """Upload ``kg`` with HTTP PUTs to ``{graph_store}``: each source file's triples to the named
    graph ``?graph=<its name>`` (and, with ``include_inferred``, the inferred triples to theirs),
    then what the stored queries read, each triple once, to the default graph (``?default``): the
    asserted triples with one value per single-valued fact, plus the inferred ones. The server's
    default graph must be that graph, not the union of the named graphs, in which a fact stated by
    two files would count twice.

    Without ``replace`` nothing is uploaded if any of those named graphs already exists on the
    server (UsageError naming them). With ``replace`` existing graphs are overwritten and the graphs
    under https://w3id.org/hrkg/graph/ that the server holds but this upload does not (a renamed or
    removed file; the inferred graph when it is left out) are deleted; other graphs are never
    touched. Returns a PublishSummary; RemoteError when the server cannot be reached or refuses.
    """
    store = _check_url(graph_store, "Graph Store") if graph_store else default_graph_store(endpoint)
    if client is None:  # one connection for every request
        with httpx.Client(timeout=timeout) as client:
            return publish(kg, endpoint, graph_store=store, include_inferred=include_inferred,
                           replace=replace, progress=progress, timeout=timeout, client=client)
    say = progress or (lambda message: None)
    sparql = Endpoint(endpoint, timeout=timeout, client=client)
    names = list(kg.manifest["graphs"]) + ([INFERRED_IRI] if include_inferred else [])
    if kg.manifest.get("discrepancies"):   # what the discrepancies query reads (build.reconcile)
        names.append(DISCREPANCY_IRI)
    summary = PublishSummary(graph_store=store)
    started = time.perf_counter()
    on_server = _graphs_on_server(sparql)
    if not replace:
        clash = sorted(name for name in names if name in on_server)
        if clash:
            more = f" and {len(clash) - 1} more" if len(clash) > 1 else ""
            raise UsageError(f"graph <{clash[0]}>{more} already on {endpoint}; "
                             "use --replace to overwrite them")
    uploads = [(name, ox.NamedNode(name)) for name in names] + [(None, ox.DefaultGraph())]
    for index, (name, graph) in enumerate(uploads, 1):
        body = _ntriples(kg.store, graph, include_inferred)
        size = body.count(b"\n")
        t0 = time.perf_counter()
        response = _send(client, "PUT", store, what="Graph Store", timeout=timeout, content=body,
                         params={"graph": name} if name is not None else {"default": ""},
                         headers={"Content-Type": "application/n-triples; charset=utf-8"})
        _raise_for_status(response, "Graph Store", store, hint=True)
        if name is None:
            summary.default_triples = size
        else:
            summary.graphs += 1
            summary.triples += size
        say(f"[{index}/{len(uploads)}] {_short(name) if name is not None else 'default graph'}: {size:,} triples "
            f"({time.perf_counter() - t0:.2f} s)")
    if replace:
        ours = set(names)
        for stale in sorted(g for g in on_server if g.startswith(GRAPH_BASE) and g not in ours):
            response = _send(client, "DELETE", store, what="Graph Store", timeout=timeout,
                             params={"graph": stale})
            if response.status_code != 404:
                _raise_for_status(response, "Graph Store", store)
            summary.removed.append(stale)
            say(f"removed stale graph {_short(stale)}")
    seen = sparql.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").terms
    summary.default_seen = int(seen[0][0].value) if seen else None
    summary.seconds = time.perf_counter() - started
    return summary


def _ntriples(store, graph, include_inferred):
    """N-Triples of one graph to upload. The local default graph holds the asserted and the derived
    triples (build._add_inferred); without ``include_inferred`` the server's default graph gets the
    asserted ones only (build.asserted_quads)."""
    if graph != ox.DefaultGraph() or include_inferred:
        return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
    from .build import asserted_quads
    return ox.serialize(asserted_quads(store), format=ox.RdfFormat.N_QUADS)


def _graphs_on_server(sparql):
    """IRIs of the named graphs the endpoint holds (``GRAPH ?g {}`` lists them without a scan)."""
    result = sparql.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
    return {row[0].value for row in result.terms if isinstance(row[0], ox.NamedNode)}


def _short(name):
    return name[len(GRAPH_BASE):] if name.startswith(GRAPH_BASE) else name


# ---- HTTP -------------------------------------------------------------------------------------

def _send(client, method, url, *, what, timeout, **kwargs):
    """One HTTP request; network failures become a RemoteError naming ``what`` and ``url``."""
    try:
        if client is not None:
            return client.request(method, url, timeout=timeout, **kwargs)
        with httpx.Client(timeout=timeout) as fresh:
            return fresh.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise RemoteError(f"{what} {url} did not answer within {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise RemoteError(f"cannot connect to {what} {url}: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise RemoteError(f"{what} {url} failed: {_reason(exc)}") from None


def _reason(exc):
    text = str(exc) or type(exc).__name__
    match = re.search(r"\] (.+)$", text)  # "[Errno 111] Connection refused" -> "Connection refused"
    return match.group(1) if match else text


def _raise_for_status(response, what, url, *, hint=False):
    if response.status_code < 400:
        return
    extra = " (is this the Graph Store URL? give it with --graph-store)" if hint and response.status_code in (404, 405) else ""
    raise RemoteError(f"{what} {url} answered {response.status_code} {response.reason_phrase}"
                      f"{extra}: {_excerpt(response)}")


def _excerpt(response, limit=300):
    text = " ".join(response.text.split())
    return text[:limit] + ("..." if len(text) > limit else "") if text else "(no message)"
