"""Full-text search over UPR recommendation texts, with graph filters (issue 14).

``build_index(store, path)`` reads the recommendations of a pyoxigraph store (hrkg:text, the
review's state and cycle, session, recommending state, response, themes) and the treaty asks the
build recorded on them (hrkg:asksFor, build.record_asks: the same links the follow-up queries
show), into one SQLite file: a table per fact and an FTS5 index of the
texts with Porter stemming ("ratify" finds "ratifying"). The file is written beside the store (a
part file per process) and renamed into place, so a failed build leaves the previous index.

``search(path_or_conn, query, filters)`` returns the matching recommendations, best first:

    search(path, "torture AND (ratify OR accede)", {"state": "VNM", "cycle": "I"})

Query syntax (``to_fts``): words (stemmed), "quoted phrases", word* (prefix), AND, OR, NOT (in
capitals) and parentheses; words side by side must all occur. Everything else in a word is text,
never FTS5 syntax (``title:x`` searches for "title x"). A query FTS5 cannot read is a SearchError
naming it. User text reaches SQLite only as bound parameters.

Filters (all optional, combined with AND; codes compared ignoring case): state, cycle,
recommending_state, response (supported / noted, or the published wording), theme, instrument,
ask (sign, join, withdraw-reservation, accept-procedure). The CLI resolves names and aliases to
codes first (``state=vietnam`` -> VNM, ``instrument=CCPR`` -> ICCPR).
"""
import os
import re
import sqlite3
from pathlib import Path

from .asks import INSTRUMENT_BASE

FILTERS = ("state", "cycle", "recommending_state", "response", "theme", "instrument", "ask", "session")
SCHEMA_VERSION = "3"   # 3: asks read from the store (build.record_asks), not detected again

_RECOMMENDATIONS = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
SELECT ?rec ?text ?state ?cycle ?session ?by ?byName ?response ?responseText WHERE {
  ?rec hrkg:review ?review ; hrkg:text ?text .
  OPTIONAL { ?review hrkg:state/hrkg:code ?state }
  OPTIONAL { ?review hrkg:cycle/hrkg:code ?cycle }
  OPTIONAL { ?review hrkg:session ?session }
  OPTIONAL { ?rec hrkg:recommendingState/hrkg:code ?by }
  OPTIONAL { ?rec hrkg:recommendingStateName ?byName }
  OPTIONAL { ?rec hrkg:response/hrkg:code ?response }
  OPTIONAL { ?rec hrkg:responseText ?responseText }
}"""
_ASKS = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
SELECT ?rec ?node ?instrument ?ask ?wording ?matched WHERE {
  ?rec hrkg:asksFor ?node . ?node hrkg:askedInstrument ?instrument ; hrkg:ask ?ask .
  OPTIONAL { ?node hrkg:wording ?wording }
  OPTIONAL { ?node hrkg:matched ?matched }
} ORDER BY ?rec ?node ?wording ?matched"""
_THEMES = """
PREFIX hrkg: <https://w3id.org/hrkg/ontology#>
SELECT ?rec ?theme WHERE { ?rec hrkg:review ?review ; hrkg:theme ?theme }"""

_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE recommendation(id INTEGER PRIMARY KEY, iri TEXT NOT NULL, state TEXT, cycle TEXT, session INTEGER,
  recommending_state TEXT, response TEXT, response_text TEXT, text TEXT NOT NULL, scope TEXT NOT NULL);
CREATE TABLE theme(rec INTEGER NOT NULL, theme TEXT NOT NULL COLLATE NOCASE);
CREATE TABLE ask(rec INTEGER NOT NULL, instrument TEXT NOT NULL, ask TEXT NOT NULL, wording TEXT, matched TEXT);
CREATE VIRTUAL TABLE recommendation_text USING fts5(text, scope, content='recommendation', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2');
"""
_INDEXES = """
CREATE INDEX recommendation_state ON recommendation(state COLLATE NOCASE, cycle COLLATE NOCASE);
CREATE INDEX recommendation_by ON recommendation(recommending_state COLLATE NOCASE);
CREATE INDEX theme_theme ON theme(theme, rec);
CREATE INDEX ask_instrument ON ask(instrument COLLATE NOCASE, rec);
CREATE INDEX ask_rec ON ask(rec);
"""


# State, cycle, recommending state and response are also words of the FTS5 "scope" column
# ("xstatexvnm"), so a text query scoped to one state intersects two posting lists instead of
# looking up every text match: 10x faster for common words.
SCOPED = ("state", "cycle", "recommending_state", "response")


def scope_token(key, value):
    """The word standing for ``key=value`` in the scope column (letters and digits only)."""
    return "x" + re.sub(r"[^0-9a-z]", "", key.lower()) + "x" + re.sub(r"[^0-9a-z]", "", str(value).lower())


class SearchError(ValueError):
    """A query or filter that cannot be searched; the message names it."""


def _value(term):
    return None if term is None else term.value


def build_index(store, path, *, progress=None):
    """Write the search index of ``store``'s recommendations to ``path`` (SQLite); returns counts
    {"recommendations", "themes", "asks"}. Written to ``path.part`` and renamed into place."""
    path = Path(path)
    # one part file per process: a server starting and a CLI search may build the same index at once
    part = path.with_name(f"{path.name}.part-{os.getpid()}")
    part.unlink(missing_ok=True)
    conn = sqlite3.connect(part)
    done = False
    try:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _DDL)
        ids, recs = {}, []
        for row in store.query(_RECOMMENDATIONS):
            iri = row["rec"].value
            if iri in ids:      # a second text or state for one recommendation: keep the first
                continue
            ids[iri] = len(ids) + 1
            by = _value(row["by"]) or _value(row["byName"])
            response = _value(row["response"])
            values = {"state": _value(row["state"]), "cycle": _value(row["cycle"]), "recommending_state": by,
                      "response": response.lower() if response else None}
            scope = " ".join(scope_token(k, v) for k, v in values.items() if v)
            recs.append((ids[iri], iri, values["state"], values["cycle"],
                         int(row["session"].value) if row["session"] is not None else None, by,
                         values["response"], _value(row["responseText"]), row["text"].value, scope))
            if progress and len(ids) % 50000 == 0:
                progress(f"search index: {len(ids):,} recommendations read")
        conn.executemany("INSERT INTO recommendation VALUES (?,?,?,?,?,?,?,?,?,?)", recs)
        themes = [(ids[row["rec"].value], row["theme"].value) for row in store.query(_THEMES)
                  if row["rec"].value in ids]
        conn.executemany("INSERT INTO theme VALUES (?,?)", themes)
        ask_rows, nodes = [], set()
        for row in store.query(_ASKS):
            if row["rec"].value in ids and row["node"] not in nodes:   # a second wording: the first
                nodes.add(row["node"])
                ask_rows.append((ids[row["rec"].value], row["instrument"].value[len(INSTRUMENT_BASE):],
                                 row["ask"].value, _value(row["wording"]), _value(row["matched"])))
        conn.executemany("INSERT INTO ask VALUES (?,?,?,?,?)", ask_rows)
        conn.execute("INSERT INTO recommendation_text(recommendation_text) VALUES ('rebuild')")
        conn.executescript(_INDEXES)
        conn.executemany("INSERT INTO meta VALUES (?,?)", [("schema", SCHEMA_VERSION), ("recommendations", str(len(recs)))])
        conn.execute("INSERT INTO recommendation_text(recommendation_text) VALUES ('optimize')")
        conn.commit()
        done = True
    finally:
        conn.close()
        if not done:
            part.unlink(missing_ok=True)
    os.replace(part, path)
    return {"recommendations": len(recs), "themes": len(themes), "asks": len(ask_rows)}


# --- query syntax --------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()"]+))')
OPERATORS = ("AND", "OR", "NOT")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _quote(text):
    return '"' + text.replace('"', '""') + '"'


def to_fts(query):
    """Translate a user query to FTS5 syntax: every word and phrase becomes an FTS5 string (so no
    character in it is FTS5 syntax), ``word*`` a prefix query; AND/OR/NOT and parentheses are
    kept. SearchError for an empty query, an unclosed quote or unbalanced parentheses."""
    out, depth, pos = [], 0, 0
    text = _CONTROL.sub(" ", query).strip()   # FTS5 reads a string only up to a NUL
    if not text:
        raise SearchError("empty search: give words to look for, e.g. 'torture AND ratify'")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group("phrase") is not None:
            phrase = m.group("phrase")
            if len(phrase) < 2 or not phrase.endswith('"'):
                raise SearchError(f"search {query!r}: a quote is left open")
            out.append(_quote(phrase[1:-1]))
        elif m.group("open"):
            depth += 1
            out.append("(")
        elif m.group("close"):
            depth -= 1
            if depth < 0:
                raise SearchError(f"search {query!r}: a ')' closes nothing")
            out.append(")")
        else:
            word = m.group("word")
            if word in OPERATORS:
                out.append(word)
            elif word.endswith("*") and word.strip("*"):
                out.append(_quote(word.rstrip("*")) + "*")
            elif word.strip("*"):
                out.append(_quote(word))
    if depth:
        raise SearchError(f"search {query!r}: a '(' is not closed")
    return " ".join(out)


# --- search --------------------------------------------------------------------------------------

def connect(path):
    """A read-only connection to the index at ``path`` (SearchError if there is none)."""
    path = Path(path)
    if not path.is_file():
        raise SearchError(f"{path}: no search index; build it with the store")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _select(query, filters):
    """(FROM clause, WHERE conditions, parameters, whether ranked by FTS) for a search; every
    value of the user's a bound parameter. SearchError for an unknown filter or an empty search."""
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise SearchError(f"unknown filter {unknown[0]!r} (filters: {', '.join(FILTERS)})")
    if not (query and query.strip()) and not filters:
        raise SearchError("empty search: give words to look for or a filter (state=VNM, instrument=CAT...)")
    where, params = [], []
    fts = to_fts(query) if query and query.strip() else None
    if fts:
        source = "recommendation_text f JOIN recommendation r ON r.id = f.rowid"
        scope = [scope_token(k, filters[k]) for k in SCOPED if k in filters
                 and (k != "response" or str(filters[k]).lower() in ("supported", "noted"))]
        where.append("recommendation_text MATCH ?")
        params.append(f"text : ({fts})" + "".join(f' AND scope : "{t}"' for t in scope))
    else:
        source = "recommendation r"
    for key in ("state", "cycle", "recommending_state"):
        if key in filters:
            where.append(f"r.{key} = ? COLLATE NOCASE")
            params.append(str(filters[key]))
    if "session" in filters:
        try:
            session = int(filters["session"])
        except (TypeError, ValueError):
            raise SearchError(f"session must be a whole number, got {filters['session']!r}") from None
        where.append("r.session = ?")
        params.append(session)
    if "response" in filters:
        where.append("(r.response = lower(?) OR r.response_text = ? COLLATE NOCASE)")
        params += [str(filters["response"])] * 2
    # IN (...) rather than a correlated EXISTS: SQLite reads the few matching ids from the index
    # once instead of probing it for every recommendation (instrument=CAT: 21 ms -> 1 ms at 14,000)
    if "theme" in filters:
        where.append("r.id IN (SELECT t.rec FROM theme t WHERE t.theme = ?)")
        params.append(str(filters["theme"]))
    if "instrument" in filters or "ask" in filters:
        cond = []
        if "instrument" in filters:
            cond.append("a.instrument = ? COLLATE NOCASE")
            params.append(str(filters["instrument"]))
        if "ask" in filters:
            cond.append("a.ask = ? COLLATE NOCASE")
            params.append(str(filters["ask"]))
        where.append(f"r.id IN (SELECT a.rec FROM ask a WHERE {' AND '.join(cond)})")
    return source, where, params, bool(fts)


def _run(conn, query, sql, params):
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if any(word in str(exc) for word in ("fts5", "syntax", "unterminated")):
            raise SearchError(f"cannot read the search {query!r}: {exc} (use words, \"phrases\", AND, OR, NOT, "
                              "parentheses)") from None
        raise


def search(path_or_conn, query, filters=None, *, limit=100, offset=0):
    """Recommendations matching ``query`` (user syntax, see ``to_fts``; None or "" for filters
    only) and ``filters`` (dict, keys in FILTERS), best match first, at most ``limit`` (None: all)
    after skipping ``offset``. Each row is a dict: recommendation, state, cycle, session,
    recommending_state, response, response_text, text, instruments (comma-separated "CODE:ask"),
    rank (FTS5 bm25; lower is better)."""
    source, where, params, ranked = _select(query, filters)
    conn = connect(path_or_conn) if isinstance(path_or_conn, (str, Path)) else path_or_conn
    rank = "f.rank" if ranked else "NULL"
    sql = (f"SELECT r.id, r.iri, r.state, r.cycle, r.session, r.recommending_state, r.response, r.response_text,"
           f" r.text, {rank} FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
           + (" ORDER BY f.rank, r.id" if ranked else " ORDER BY r.id"))
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        params = params + [-1 if limit is None else int(limit), int(offset)]
    found = _run(conn, query, sql, params)
    rows = []
    for rid, iri, state, cycle, session, by, response, response_text, text, score in found:
        links = conn.execute("SELECT instrument, ask FROM ask WHERE rec = ? ORDER BY rowid", (rid,)).fetchall()
        rows.append({"recommendation": iri, "state": state, "cycle": cycle, "session": session,
                     "recommending_state": by, "response": response, "response_text": response_text,
                     "text": text, "instruments": ", ".join(f"{i}:{a}" for i, a in links), "rank": score})
    return rows


def count(path_or_conn, query, filters=None):
    """How many recommendations ``search`` would return without a limit (counted by SQLite,
    without reading the rows)."""
    source, where, params, _ = _select(query, filters)
    conn = connect(path_or_conn) if isinstance(path_or_conn, (str, Path)) else path_or_conn
    sql = f"SELECT count(*) FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
    return _run(conn, query, sql, params)[0][0]


# --- the index beside a store ---------------------------------------------------------------------

INDEX_NAME = "search.sqlite"


def index_path(manifest):
    """Where the index of a built store lives (its build folder), or None for an in-memory graph."""
    folder = (manifest or {}).get("path")
    return Path(folder) / INDEX_NAME if folder else None


def index_info(path):
    """{"schema", "recommendations"} of a usable index at ``path``, or None when there is none or it
    was written by another version of this module (then it must be built again)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        conn = connect(path)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except (sqlite3.Error, SearchError):
        return None
    if meta.get("schema") != SCHEMA_VERSION:
        return None
    return {"schema": meta["schema"], "recommendations": int(meta.get("recommendations") or 0)}
