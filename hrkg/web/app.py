"""The Starlette application: routes requests to the worker pool and turns replies into HTTP.

The server process parses requests, enforces the body-size limit and the time limit, and never
evaluates a query itself: every job runs in a worker (pool.py) that can be killed.
"""
import contextlib
import datetime as dt
import json
import re
import sys
from collections import OrderedDict
from functools import partial
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .handlers import DOWNLOAD_EXT, Settings, WorkerState, handle, warm
from .pool import PoolBusy, PoolTimeout, WorkerDied, WorkerPool
from .replies import Reply, content_security_policy, environment, error
from .results import jsonld_context
from .sandbox import deny_network
from .searching import prepare_index

_SAFE_PATH = re.compile(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*")
_QUERY_NAME = re.compile(r"[A-Za-z0-9_-]+")
MAX_URL = 65535   # the longest request target uvicorn's HTTP parser (httptools) reads; see serve.py
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


class TooLarge(Exception):
    pass


class ResponseCache:
    """Replies to GET requests, by URL, Accept header and day (stored queries default to today).

    The graph never changes while a server runs (the store is opened read-only), so a repeated
    request gets the same answer. Only successful replies are kept, at most ``size`` of them and
    ``max_bytes`` in all (bodies kept encoded, counted with their key and headers), least
    recently used first out; one reply larger than a quarter of ``max_bytes`` is not kept.
    ``size`` or ``max_bytes`` 0 disables it."""

    ENTRY_OVERHEAD = 600   # bytes of Python objects around each entry (Reply, key tuple, dict slot)

    def __init__(self, size, max_bytes=64 * 2**20):
        self.size = size if max_bytes else 0
        self.max_bytes, self.bytes, self.hits, self.misses = max_bytes, 0, 0, 0
        self._items = OrderedDict()

    def key(self, request):
        return (request.url.path, request.url.query, request.headers.get("accept", ""), dt.date.today())

    def get(self, key):
        entry = self._items.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key, reply):
        if not self.size or reply.status != 200:
            return
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        cost = self._cost(key, reply, body)
        if cost > self.max_bytes // 4:
            return
        if key in self._items:
            self.bytes -= self._items.pop(key)[1]
        self._items[key] = (Reply(reply.status, reply.media_type, body, reply.headers), cost)
        self.bytes += cost
        while len(self._items) > self.size or self.bytes > self.max_bytes:
            self.bytes -= self._items.popitem(last=False)[1][1]

    def _cost(self, key, reply, body):
        return (len(body) + sum(len(str(part)) for part in key) + len(reply.media_type)
                + sum(len(k) + len(v) for k, v in reply.headers.items()) + self.ENTRY_OVERHEAD)

    def __len__(self):
        return len(self._items)


def worker_setup(allow_remote):
    """Runs in each new worker: no fetching of FROM graphs, and (unless allowed) no network: the
    operating system refuses the worker any internet socket (sandbox.py), and an audit hook stops
    Python code where that filter is not available."""
    import rdflib.plugins.sparql
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = allow_remote
    if not allow_remote:
        if not deny_network():
            print("hrkg serve: this system cannot sandbox query workers (seccomp); only the query guard "
                  "keeps them off the network", file=sys.stderr)
        def no_network(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
                raise PermissionError(f"{event}: query workers may not use the network (see --allow-remote)")
        sys.addaudithook(no_network)


def create_app(factory, settings=None):
    """The ASGI app serving the graph ``factory()`` returns (a KnowledgeGraph or anything with
    its API: query, sparql, catalog, codes, export, stats). ``factory`` is called once at startup,
    in the server process; the workers forked from it share the loaded graph."""
    settings = settings or Settings()
    holder = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        state = WorkerState(factory(), settings)
        warm(state)
        environment()
        state.search = prepare_index(state.kg)    # built here if missing: never inside a request
        holder["search"] = state.search
        pool = WorkerPool(handle, state, size=settings.workers, setup=partial(worker_setup, settings.allow_remote))
        pool.start()
        holder["pool"], holder["downloads"] = pool, {}
        app.state.pool = pool
        try:
            yield
        finally:
            pool.close()
            state.search.close()

    cache = ResponseCache(settings.response_cache, settings.response_cache_bytes)

    async def run(request, job, *, cache_key=None):
        # never the Host header nor anything else of the request but Accept: replies are cached
        job = dict(job, accept=request.headers.get("accept"))
        key = cache.key(request) if request.method in ("GET", "HEAD") and cache.size else None
        if key and (reply := cache.get(key)) is not None:
            return to_response(reply)
        if cache_key and cache_key in holder["downloads"]:
            reply = holder["downloads"][cache_key]
        else:
            pool = holder["pool"]
            try:
                reply = await pool.run(job, timeout=settings.timeout)
            except PoolTimeout as exc:
                reply = error(503, f"the request ran longer than the server's limit of {exc.seconds:g} s and was "
                                   "stopped; simplify the query or add a LIMIT", job["accept"],
                              headers={"Retry-After": "5"})
            except PoolBusy:
                reply = error(503, "all query workers are busy; try again shortly", job["accept"],
                              headers={"Retry-After": "2"})
            except WorkerDied as exc:
                reply = error(500, f"the worker running this request died ({exc}); it has been replaced",
                              job["accept"])
            if reply is None:
                reply = error(500, "internal error; the server log has the details", job["accept"])
            if cache_key and reply.status == 200:
                holder["downloads"][cache_key] = reply
            elif key:
                cache.put(key, reply)
        return to_response(reply)

    async def home(request):
        return await run(request, {"kind": "home"})

    async def sparql(request):
        if len(request.url.query) > min(settings.max_body, MAX_URL):
            return to_response(error(414, f"the query string is longer than {min(settings.max_body, MAX_URL)} "
                                          "bytes; send the query in a POST body (as application/sparql-query "
                                          "or the form field 'query')", request.headers.get("accept")))
        params = parse_qs(request.url.query, keep_blank_values=True)
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            try:
                body = await read_body(request, settings.max_body)
            except TooLarge:
                return to_response(error(413, f"the request body is larger than this server's limit of "
                                              f"{settings.max_body} bytes", request.headers.get("accept")))
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return to_response(error(400, "the request body is not UTF-8", request.headers.get("accept")))
            if ctype == SPARQL_UPDATE:
                return refuse_update(request)
            if ctype == FORM:
                params = {**params, **parse_qs(text, keep_blank_values=True)} if text else params
            elif ctype == SPARQL_QUERY:
                if "query" in params:
                    return to_response(error(400, "give the query either in the body or as ?query=, not both",
                                             request.headers.get("accept")))
                params = {**params, "query": [text]}
            else:
                return to_response(error(415, f"POST a query as {SPARQL_QUERY} or as the form field 'query' "
                                              f"({FORM}); got {ctype or 'no content type'!r}",
                                         request.headers.get("accept")))
        if "update" in params:
            return refuse_update(request)
        for name in ("default-graph-uri", "named-graph-uri"):
            if name in params:
                return to_response(error(400, f"the protocol parameter {name!r} is not supported; name graphs with "
                                              "FROM / FROM NAMED in the query", request.headers.get("accept")))
        queries = params.get("query", [])
        fmt = (params.get("format") or [None])[-1]
        if len(queries) > 1:
            return to_response(error(400, "give exactly one 'query' parameter", request.headers.get("accept")))
        if not queries:
            return await run(request, {"kind": "service", "format": fmt})
        return await run(request, {"kind": "sparql", "query": queries[0], "format": fmt})

    def refuse_update(request):
        return to_response(error(403, "this endpoint is read-only: SPARQL Update is not allowed",
                                 request.headers.get("accept")))

    async def queries(request):
        return await run(request, {"kind": "queries", "format": request.query_params.get("format")})

    async def stored(request):
        name = request.path_params["name"]
        if not _QUERY_NAME.fullmatch(name):
            return to_response(error(404, f"no stored query is called {name!r}", request.headers.get("accept")))
        params, fmt = {}, None
        for key, value in request.query_params.multi_items():
            if key == "format":
                fmt = value
            elif key in params:
                return to_response(error(400, f"parameter {key!r} given twice", request.headers.get("accept")))
            else:
                params[key] = value
        return await run(request, {"kind": "stored", "name": name, "params": params, "format": fmt,
                                   "query_string": request.url.query})

    async def resource(request):
        path = request.path_params["path"]
        if not _SAFE_PATH.fullmatch(path):
            return to_response(error(404, f"no resource has the path /id/{path}", request.headers.get("accept")))
        return await run(request, {"kind": "resource", "path": path, "format": request.query_params.get("format"),
                                   "as_of": request.query_params.get("as_of")})

    async def ontology(request):
        return await run(request, {"kind": "ontology", "format": request.query_params.get("format")})

    async def void(request):
        return await run(request, {"kind": "void", "format": request.query_params.get("format")})

    async def context(request):
        doc = jsonld_context()
        if doc is None:
            return to_response(error(404, "this hrkg has no published JSON-LD context", request.headers.get("accept")))
        return Response(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", media_type="application/ld+json",
                        headers={"Access-Control-Allow-Origin": "*"})

    async def download(request):
        import os
        ext = request.path_params["ext"]
        fmt = {v: k for k, v in DOWNLOAD_EXT.items()}.get(ext)
        if fmt is None:
            return to_response(error(404, f"no download hrkg.{ext}; choose one of "
                                          + ", ".join(f"hrkg.{e}" for e in DOWNLOAD_EXT.values()),
                                     request.headers.get("accept")))
        for _ in range(2):
            response = await run(request, {"kind": "download", "format": fmt}, cache_key=fmt)
            path = response.headers.get("x-hrkg-download-file")
            if path is None:   # an error, or a dump the worker could not keep on disk
                return response
            if os.path.isfile(path):   # streamed from disk, never read whole into memory
                from starlette.responses import FileResponse
                return FileResponse(path, media_type=response.headers["content-type"],
                                    headers={"Content-Disposition": response.headers["content-disposition"]})
            holder["downloads"].pop(fmt, None)   # the cache folder was cleaned: export again
        return to_response(error(503, "the download could not be written; try again shortly",
                                 request.headers.get("accept"), headers={"Retry-After": "5"}))

    async def search(request):
        params, fmt = {}, None
        for key, value in request.query_params.multi_items():
            if key == "format":
                fmt = value
            elif key in params:
                return to_response(error(400, f"parameter {key!r} given twice", request.headers.get("accept"),
                                         fields={"parameter": key}))
            else:
                params[key] = value
        return await run(request, {"kind": "search", "params": params, "format": fmt})

    async def lookup(request):
        return await run(request, {"kind": "lookup", "q": request.query_params.get("q", "")})

    async def status(request):
        pool = holder["pool"]
        s = pool.stats
        return Response(json.dumps({"workers": pool.pids(), "jobs": s.jobs, "timeouts": s.timeouts,
                                    "crashes": s.crashes, "busy": s.busy, "cache_hits": cache.hits,
                                    "cache_misses": cache.misses, "cache_entries": len(cache),
                                    "cache_bytes": cache.bytes, "timeout_seconds": settings.timeout,
                                    "max_rows": settings.max_rows, "max_body": settings.max_body,
                                    "search_index": holder["search"].status()}) + "\n",
                        media_type="application/json")

    async def favicon(request):
        return Response(status_code=204)

    routes = [
        Route("/", home),
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/queries", queries),
        Route("/queries/{name}", stored),
        Route("/id/{path:path}", resource),
        Route("/ontology", ontology),
        Route("/void", void),
        Route("/.well-known/void", void),
        Route("/context.jsonld", context),
        Route("/download/hrkg.{ext}", download),
        Route("/lookup", lookup),
        Route("/search", search),
        Route("/status", status),
        Route("/favicon.ico", favicon),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(SecurityHeaders), Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                                           allow_headers=["Accept", "Content-Type"],
                                           expose_headers=["X-SPARQL-MaxRows"])],
                    exception_handlers={404: not_found, 405: not_allowed})
    return app


class SecurityHeaders:
    """ASGI middleware: every response gets X-Content-Type-Options: nosniff, and every HTML
    response a strict Content-Security-Policy (replies.content_security_policy) and
    Referrer-Policy."""

    def __init__(self, app):
        self.app = app
        self.csp = content_security_policy().encode("ascii")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"x-content-type-options", b"content-security-policy")]
                headers.append((b"x-content-type-options", b"nosniff"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.split(b";")[0].strip().lower() in (b"text/html", b"application/xhtml+xml", b"image/svg+xml"):
                    headers += [(b"content-security-policy", self.csp), (b"referrer-policy", b"same-origin")]
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def not_found(request, exc):
    return to_response(error(404, f"nothing here: {request.url.path}", request.headers.get("accept"),
                             links=["/", "/sparql", "/queries"]))


async def not_allowed(request, exc):
    return to_response(error(405, f"{request.method} is not allowed on {request.url.path}",
                             request.headers.get("accept"), headers={"Allow": "GET, HEAD, POST" if
                                                                     request.url.path == "/sparql" else "GET, HEAD"}))


async def read_body(request, limit):
    """The request body, or TooLarge as soon as it passes ``limit`` bytes (also when the client
    sends no Content-Length)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def to_response(reply: Reply):
    body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
    if reply.status in (301, 302, 303, 307, 308):
        return RedirectResponse(reply.headers["Location"], status_code=reply.status)
    return Response(body, status_code=reply.status, headers=reply.headers, media_type=reply.media_type)
