r"""What a SPARQL request may do on this server, decided on the parsed query, not its text.

The endpoint is read-only: SPARQL Update is refused. It never reaches the network or the file
system on a client's behalf unless the server was started with ``allow_remote``: ``SERVICE``
(which rdflib and pyoxigraph both evaluate by calling the remote endpoint) and ``FROM`` /
``FROM NAMED`` with an IRI outside ``https://w3id.org/hrkg/`` (which rdflib would fetch or read
from disk) are refused. ``LOAD`` is an update, so it is always refused.

The guard reads the query with rdflib's parser while pyoxigraph runs it, and the two must see the
same query. They read ``\u``/``\U`` escapes differently (rdflib expands them everywhere, with 4 or 8
hex digits after either; Oxigraph only in strings and IRIs, 4 after ``\u``, 8 after ``\U``), so a
query holding a backslash before ``u`` or ``U`` cannot be decided and is refused (400): the
characters themselves are always allowed, as queries are UTF-8. SERVICE is looked for twice: by a
SPARQL lexer (query.sparql_keyword_ends) that skips only strings, IRIs and comments, before the
query is parsed (so refusing it costs no parse), and in rdflib's algebra; either finding refuses.
Last, the workers cannot open a network socket at all (sandbox.py), so a gap between parsers is
not a way out.

Results are capped at ``max_rows``: a SELECT without a smaller LIMIT gets ``LIMIT max_rows + 1``
so the engine stops early, and the caller truncates to ``max_rows`` and says so. A CONSTRUCT or
DESCRIBE keeps its own LIMIT (which counts solutions, not triples: one solution can make many
triples), and the caller truncates the graph to ``max_rows`` triples.

Nesting: rdflib's parser recurses a few dozen Python frames per level of ``{ }``, ``( )`` or
``[ ]``. A query is parsed in the caller's thread first; one that runs out of recursion there is
parsed again in a thread with a large stack and a raised recursion limit (starting that thread
took about 5 ms, more than most parses, so only deep queries pay for it). Oxigraph's parser
overflows its native stack (the worker crashes) between 2,000 and 3,000 levels, so a query nested
deeper than MAX_NESTING levels is refused with a 400 that says so.
"""
import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache

from rdflib import URIRef
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ..namespaces import BASE, PREFIXES
from ..query import sparql_keyword_ends

FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
         "DescribeQuery": "DESCRIBE"}
_UPDATE_NAMES = {"Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE", "Add": "ADD",
                 "Move": "MOVE", "Copy": "COPY", "InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
                 "DeleteWhere": "DELETE WHERE", "Modify": "DELETE/INSERT"}


class Refused(Exception):
    """The request cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status, message, suggestions=()):
        super().__init__(message)
        self.status, self.message, self.suggestions = status, message, list(suggestions)


@dataclass(frozen=True)
class CheckedQuery:
    form: str          # SELECT, ASK, CONSTRUCT or DESCRIBE
    text: str          # the text to run: the client's, or with a LIMIT added
    limit_added: bool  # True when the LIMIT max_rows + 1 was added by us


MAX_NESTING = 1000   # levels of { } ( ) [ ] and !; Oxigraph crashes past ~2,000 (measured)
_PARSE_STACK = 512 * 2**20     # bytes of (virtual) stack for the parsing thread
_PARSE_RECURSION = 200_000


def check_query(text, *, max_rows, allow_remote=False):
    """Parse ``text`` and return a CheckedQuery, or raise Refused (400 syntax, 403 forbidden)."""
    if text and len(text) > MAX_NESTING:   # shorter texts cannot nest that deep
        depth = nesting(text)
        if depth > MAX_NESTING:
            raise Refused(400, f"the query nests groups, parentheses or brackets {depth} levels deep; this "
                               f"endpoint accepts at most {MAX_NESTING}")
    try:
        return _check(text, max_rows, allow_remote, True)
    except (_NeedsDeepStack, RecursionError):
        return _deep(_check, text, max_rows, allow_remote, False)


class _NeedsDeepStack(Exception):
    """The parse ran out of recursion in the caller's thread (see Nesting above)."""


def _deep(function, *args):
    """``function(*args)`` in a thread with a large stack and a high recursion limit, for
    rdflib's recursive parser; exceptions pass through. The caller waits, so raising the
    (process-wide) recursion limit meanwhile affects no other running code."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    with _DEEP_LOCK:
        old_stack, old_limit = threading.stack_size(), sys.getrecursionlimit()
        try:
            threading.stack_size(_PARSE_STACK)
            sys.setrecursionlimit(max(old_limit, _PARSE_RECURSION))
            thread = threading.Thread(target=run, name="hrkg-guard", daemon=True)
            try:
                thread.start()
            except RuntimeError:   # no memory for that stack (an address-space limit): parse here
                thread = None
        finally:
            threading.stack_size(old_stack)
        try:
            if thread is None:
                sys.setrecursionlimit(old_limit)
                run()
            else:
                thread.join()
        finally:
            sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


_DEEP_LOCK = threading.Lock()


def nesting(text):
    """How deep ``{ }``, ``( )`` and ``[ ]`` nest in ``text``, outside strings, IRIs and comments;
    a run of ``!`` (each a level of the engine's recursive parser) counts as that many levels."""
    depth = deepest = 0
    for match in _NESTING_TOKENS.finditer(text):
        if match.group("open"):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group("close"):
            depth = max(depth - 1, 0)
        elif match.group("bang"):
            deepest = max(deepest, depth + match.group("bang").count("!"))
    return deepest


_NESTING_TOKENS = re.compile(
    r"#[^\n\r]*|'''(?:[^\\]|\\.)*?'''" + r'|"""(?:[^\\]|\\.)*?"""'
    + r"""|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*"|<[^<>"{}|^`\\\x00-\x20]*>|\\."""
    + r"|(?P<open>[{(\[])|(?P<close>[})\]])|(?P<bang>!(?:\s*!(?!=))*)")


@lru_cache(maxsize=512)
def _check(text, max_rows, allow_remote, shallow):
    """check_query's work; ``shallow``: in the caller's thread, where running out of recursion
    raises _NeedsDeepStack instead of refusing the query."""
    if not text or not text.strip():
        raise Refused(400, "the query is empty")
    escape = _ESCAPE.search(text)
    if escape:
        raise Refused(400, f"the query holds {escape.group(0)!r} at character {escape.start()}: \\u and \\U escapes "
                           "are read differently by SPARQL parsers, so this endpoint does not accept them; write "
                           "the character itself (queries are UTF-8)")
    lexical_services = [] if allow_remote else _lexical_services(text)
    if lexical_services:
        raise _service_refused(lexical_services[0])
    try:
        query = translateQuery(parseQuery(text), initNs=PREFIXES)
    except Exception as exc:
        if isinstance(exc, RecursionError) or "maximum recursion depth" in str(exc):
            if shallow:
                raise _NeedsDeepStack() from None
            raise Refused(400, "the query is too deeply nested or too long for this endpoint's SPARQL parser; "
                               "split it into smaller queries") from None
        update = _update_operations(text, shallow)
        if update:
            raise Refused(403, f"this endpoint is read-only: SPARQL Update ({', '.join(update)}) is not "
                               "allowed") from None
        raise Refused(400, f"SPARQL syntax error: {_short(exc)}") from None
    algebra = query.algebra
    form = FORMS.get(algebra.name)
    if form is None:  # pragma: no cover - the parser only yields the four forms
        raise Refused(400, f"unsupported query form {algebra.name}")
    if not allow_remote:
        for clause in algebra.get("datasetClause") or ():
            iri = clause.get("default") if "default" in clause else clause.get("named")
            keyword = "FROM" if "default" in clause else "FROM NAMED"
            if not str(iri).startswith(BASE):
                raise Refused(403, f"{keyword} <{iri}> is not allowed: this endpoint only queries its own "
                                   f"graphs (IRIs under {BASE}); it does not fetch data from the web or "
                                   "the file system")
        algebra_services = _services(algebra)
        if algebra_services:
            raise _service_refused(algebra_services[0])
    if form != "SELECT":   # ASK has one answer; a CONSTRUCT/DESCRIBE limit would count solutions
        return CheckedQuery(form, text, False)
    limited, added = _with_limit(text, algebra, max_rows + 1)
    return CheckedQuery(form, limited, added)


_ESCAPE = re.compile(r"\\[uU]")


def _short(exc):
    message = " ".join(str(exc).split())
    return message[:300] + ("..." if len(message) > 300 else "")


def _update_operations(text, shallow=False):
    """The update operations in ``text`` if it parses as SPARQL Update, else an empty list."""
    try:
        request = parseUpdate(text).request or []
    except RecursionError:
        if shallow:
            raise _NeedsDeepStack() from None
        return []
    except Exception:
        return []
    return [_UPDATE_NAMES.get(op.name, op.name) for op in request]


def _service_refused(service):
    return Refused(403, f"SERVICE {service} is not allowed: this endpoint does not call other "
                        "SPARQL services (a server started with --allow-remote does)")


_SERVICE_TARGET = re.compile(r"\s*(?:SILENT\s+)?(<[^<>\s]*>|[?$]\w+)", re.IGNORECASE)


def _lexical_services(text):
    """The endpoint of each SERVICE keyword the lexer finds in ``text`` as syntax: the IRI or
    variable written after it, or a description where something else follows (a comment)."""
    found = []
    for keyword, end in sparql_keyword_ends(text):
        if keyword == "SERVICE":
            target = _SERVICE_TARGET.match(text, end)
            found.append(target.group(1) if target else "(which the lexer finds in the text)")
    return found


def _services(node):
    """The endpoint of every SERVICE clause anywhere in the algebra (IRI or variable)."""
    found = []

    def walk(n):
        if isinstance(n, CompValue):
            if n.name == "ServiceGraphPattern":
                term = n.get("term")
                found.append(f"<{term}>" if isinstance(term, URIRef) else f"?{term}")
            for value in n.values():
                walk(value)
        elif isinstance(n, (list, tuple)):
            for value in n:
                walk(value)

    walk(node)
    return found


_LIMIT = re.compile(r"\bLIMIT\s+(\d+)", re.IGNORECASE)


def _with_limit(text, algebra, limit):
    """(text, added): the query with a LIMIT of at most ``limit``. The new text is parsed again and
    used only if the engine will see exactly that LIMIT at the top; otherwise the original text is
    returned and the caller still truncates (the timeout bounds the work)."""
    top = algebra.get("p") if "p" in algebra else None
    if top is None:   # DESCRIBE <iri> without a WHERE clause: nothing to limit
        return text, False
    current = top["length"] if top.name == "Slice" and "length" in top else None
    if current is not None and int(current) <= limit:
        return text, False
    if current is None:
        candidate = text.rstrip() + f"\nLIMIT {limit}\n"
    else:  # replace the last LIMIT n, which must be the top-level one
        code = re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0)), text)
        matches = [m for m in _LIMIT.finditer(code) if int(m.group(1)) == int(current)]
        if not matches:
            return text, False
        m = matches[-1]
        candidate = text[:m.start(1)] + str(limit) + text[m.end(1):]
    try:
        check = translateQuery(parseQuery(candidate), initNs=PREFIXES).algebra["p"]
    except Exception:
        return text, False
    if check.name == "Slice" and int(check.get("length") if "length" in check else -1) == limit:
        return candidate, True
    return text, False
