"""Full-text search of UPR recommendations on the server (``/search``; issue 14), over the SQLite
FTS5 index of hrkg.search.

The index is a file beside the store (``build-.../search.sqlite``, the CLI's too). The server
makes sure it exists *before* the workers fork (``prepare_index``, called at start-up): a store
built since the last start gets its index built then, with progress on standard error, never
inside a request. Where the build folder cannot be written (a read-only deployment) or the graph
is in memory (``--in-memory``, ``--data``), the index goes to a temporary folder removed at
shutdown. Each worker opens its own read-only SQLite connection on its first search (a connection
must not cross a fork); the seccomp filter of the workers leaves files alone.

Parameters: ``q`` (words, "phrases", word*, AND, OR, NOT, parentheses), the filters of
hrkg.search (state, cycle, recommending_state, response, theme, instrument, ask, session; codes
and names resolved as everywhere), ``limit`` (default 100, at most MAX_LIMIT) and ``offset``.
Every value reaches SQLite as a bound parameter. A bad value is a 400 naming the parameter.
"""
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from .. import search as search_mod
from ..asks import ASK_KINDS
from ..errors import UnknownCodeError
from .negotiation import choose
from .replies import Reply, error, local, page

SEARCH_OFFERS = [("text/html", "html"), ("application/json", "json"), ("text/csv", "csv")]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CODE_FILTERS = {"state": "state", "recommending_state": "state", "instrument": "instrument", "cycle": "cycle"}
PARAMETERS = ("q", *search_mod.FILTERS, "limit", "offset")
CSV_COLUMNS = ("state", "cycle", "recommending_state", "response", "instruments", "text", "recommendation")
RESPONSES = ("supported", "noted")


@dataclass
class SearchIndex:
    """The index the workers read: its path and size, or why there is none."""

    path: Path | None = None
    recommendations: int = 0
    problem: str | None = None
    temporary: Path | None = None    # a folder of our own, removed at shutdown

    def status(self):
        if self.path is None:
            return {"available": False, "problem": self.problem}
        return {"available": True, "path": str(self.path), "recommendations": self.recommendations}

    def close(self):
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)


def _say(message):
    print(f"hrkg serve: {message}", file=sys.stderr, flush=True)


def prepare_index(kg):
    """The search index of ``kg``, built now if the store has none (or one of an older schema).
    Runs in the server process before the workers fork; never raises (a failure is reported and
    the server answers /search with 503 saying why)."""
    store = getattr(kg, "store", None)
    if store is None:
        return SearchIndex(problem="this graph has no store to index")
    path = search_mod.index_path(getattr(kg, "manifest", None))
    if path is not None:
        info = search_mod.index_info(path)
        if info is not None:
            return SearchIndex(path, info["recommendations"])
    temporary = None
    try:
        target = path
        if target is None or not os.access(target.parent, os.W_OK):
            temporary = Path(tempfile.mkdtemp(prefix="hrkg-search-"))
            target = temporary / search_mod.INDEX_NAME
        where = "beside the store" if temporary is None else f"in {temporary} (for this run only)"
        _say(f"building the search index of the recommendations {where}; searches wait for it "
             "(about 2 minutes at world scale, 200,000 recommendations; once per store build)")
        start = time.monotonic()
        counts = search_mod.build_index(store, target, progress=_say)
        _say(f"search index ready: {counts['recommendations']:,} recommendations in "
             f"{time.monotonic() - start:.1f} s ({target})")
        return SearchIndex(target, counts["recommendations"], temporary=temporary)
    except Exception as exc:   # the server still serves everything else
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        _say(f"cannot build the search index ({type(exc).__name__}: {exc}); /search answers 503")
        return SearchIndex(problem=f"the search index could not be built when the server started ({exc}); "
                                   "see the server log, then restart it")


class BadParameter(Exception):
    def __init__(self, name, message, suggestions=()):
        super().__init__(f"parameter {name!r}: {message}")
        self.name, self.suggestions = name, list(suggestions)


def _number(name, value, low, high):
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadParameter(name, f"must be a whole number, got {value!r}") from None
    if not low <= n <= high:
        raise BadParameter(name, f"must be between {low} and {high:,}, got {n}")
    return n


def read_parameters(kg, params, max_limit):
    """(query text, filters with codes resolved, limit, offset) from the request's parameters, or
    BadParameter naming the first bad one."""
    for name in params:
        if name not in PARAMETERS:
            raise BadParameter(name, f"not a search parameter; give q (the words) and filters: "
                                     f"{', '.join(search_mod.FILTERS)} (and limit, offset)")
    query = (params.get("q") or "").strip()
    filters = {}
    for key in search_mod.FILTERS:
        value = (params.get(key) or "").strip()
        if not value:
            continue
        if key in CODE_FILTERS:
            kind = CODE_FILTERS[key]
            if kind not in kg.codes.kinds():
                raise BadParameter(key, f"the graph knows no {kind} codes, so {value!r} cannot be resolved")
            try:
                value = kg.codes.code_of(kind, kg.codes.resolve(kind, value))
            except UnknownCodeError as exc:
                raise BadParameter(key, str(exc), exc.suggestions) from None
        elif key == "ask":
            if value.lower() not in ASK_KINDS:
                raise BadParameter(key, f"{value!r} is not an ask; choose one of {', '.join(ASK_KINDS)}")
            value = value.lower()
        elif key == "session":
            value = _number(key, value, 1, 10_000)
        filters[key] = value
    limit = _number("limit", params["limit"], 1, max_limit) if params.get("limit") else min(DEFAULT_LIMIT, max_limit)
    offset = _number("offset", params["offset"], 0, 10_000_000) if params.get("offset") else 0
    if query:
        try:
            search_mod.to_fts(query)
        except search_mod.SearchError as exc:
            raise BadParameter("q", str(exc)) from None
    return query, filters, limit, offset


def _connection(state, index):
    """This worker's read-only connection to the index (opened on its first search)."""
    key = ("search-connection", os.getpid())
    conn = state.memo.get(key)
    if conn is None:
        conn = state.memo[key] = search_mod.connect(index.path)
    return conn


def state_names(state):
    """{state code: English name}, once per process (warmed before the workers fork)."""
    if "state_names" not in state.memo:
        from .pages import ALL_STATES, bound
        state.memo["state_names"] = {str(r["state"]): str(r["name"]) for r in bound(state.kg, ALL_STATES)}
    return state.memo["state_names"]


def _result(row, names):
    links = []
    for part in (row["instruments"] or "").split(", "):
        if part:
            instrument, _, ask = part.rpartition(":")
            links.append({"instrument": instrument, "ask": ask, "url": f"/id/instrument/{instrument}"})
    by = row["recommending_state"]
    return {"recommendation": row["recommendation"], "url": local(row["recommendation"]),
            "state": row["state"], "state_name": names.get(row["state"]),
            "cycle": row["cycle"], "session": row["session"],
            "recommending_state": by, "recommending_state_name": names.get(by),
            "response": row["response"], "response_text": row["response_text"],
            "text": row["text"], "instruments": links}


def search(state, job):
    """The /search reply: HTML (a form and the results), JSON or CSV."""
    settings, kg = state.settings, state.kg
    index = state.search or SearchIndex(problem="this server has no search index")
    params = job.get("params") or {}
    choice = choose(job.get("accept"), SEARCH_OFFERS, format=job.get("format"))
    max_limit = max(1, min(MAX_LIMIT, settings.max_rows))
    html = choice.format == "html"
    context = dict(params=params, results=None, message=None, suggestions=[], total=None, limit=None, offset=0,
                   max_limit=max_limit, default_limit=min(DEFAULT_LIMIT, max_limit), asks=ASK_KINDS,
                   responses=RESPONSES, choices=_choices(kg), filters={}, query="", next_url=None, prev_url=None,
                   formats=[], index=index.status())
    if index.path is None:
        if html:
            return page("search.html", dict(context, message=index.problem), status=503, headers={"Retry-After": "60"})
        return error(503, f"search is not available: {index.problem}", job.get("accept"), headers={"Retry-After": "60"})
    try:
        query, filters, limit, offset = read_parameters(kg, params, max_limit)
        if not query and not filters:
            if html:     # a person arriving at the form
                return page("search.html", context, headers={"Vary": "Accept"})
            raise BadParameter("q", "give words to look for (q=...) or a filter (state=VNM, instrument=CAT, ...)")
        conn = _connection(state, index)
        try:
            total = search_mod.count(conn, query, filters)
            rows = search_mod.search(conn, query, filters, limit=limit, offset=offset)
        except search_mod.SearchError as exc:
            raise BadParameter("q" if query else "state", str(exc)) from None
    except BadParameter as exc:
        if html:
            return page("search.html", dict(context, message=str(exc), suggestions=exc.suggestions), status=400,
                        headers={"Vary": "Accept"})
        return error(400, str(exc), job.get("accept"), suggestions=exc.suggestions, fields={"parameter": exc.name})
    names = state_names(state)
    results = [_result(r, names) for r in rows]
    base = {k: v for k, v in (("q", query), *filters.items()) if v not in (None, "")}
    if limit != context["default_limit"]:
        base["limit"] = limit

    def url(**extra):
        return "/search?" + urlencode({**base, **extra})

    next_url = url(offset=offset + limit) if offset + len(results) < total else None
    prev_url = (url(offset=max(0, offset - limit)) if offset - limit > 0 else url()) if offset else None
    headers = {"Vary": "Accept", "X-Search-Total": str(total), "X-Search-Limit": str(limit)}
    if choice.format == "json":
        import json
        body = {"q": query, "filters": filters, "total": total, "offset": offset, "limit": limit,
                "max_limit": max_limit, "returned": len(results), "next": next_url, "results": results}
        return Reply(200, "application/json", json.dumps(body, ensure_ascii=False, indent=1) + "\n", headers)
    if choice.format == "csv":
        import csv
        import io
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: "" if r[c] is None else str(r[c]) for c in CSV_COLUMNS})
        return Reply(200, "text/csv; charset=utf-8", out.getvalue(), headers)
    context.update(results=results, total=total, limit=limit, offset=offset, filters=filters, query=query,
                   next_url=next_url, prev_url=prev_url,
                   formats=[("JSON", url(offset=offset, format="json") if offset else url(format="json")),
                            ("CSV", url(offset=offset, format="csv") if offset else url(format="csv"))])
    return page("search.html", context, headers=headers)


def _choices(kg):
    """{filter: (the datalist it uses, codes)}: one list of state codes serves both state filters."""
    kinds = kg.codes.kinds()
    return {key: ("state" if kind == "state" else key, kg.codes.codes(kind))
            for key, kind in CODE_FILTERS.items() if kind in kinds}
