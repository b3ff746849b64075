"""Step 4: stored SPARQL queries, parameter binding and result formats.

A stored query is a ``.rq`` file in ``queries/`` that runs as-is in any SPARQL tool. Its header
comments describe it::

    # title: Treaty status of a state
    # description: One row per UN human-rights instrument ...
    # param: state (state, required): the state, an ISO 3166-1 alpha-3 code or a name
    # param: as_of (date, default=today): status as of this date
    # example: state=VNM

Parameter ``name`` is the SPARQL variable ``?_name`` (grlc's convention), so inputs never clash with
result columns (parameter ``state`` binds ``?_state``; the column ``?state`` holds the code). Run
as-is, the variables stay unbound and the query answers for everything. Values are parsed and checked in Python
and bound as typed RDF terms (pyoxigraph terms, written into a ``VALUES`` block by pyoxigraph's own
escaping); they are never spliced into the query text. Adding a query needs no Python change.

Answering a stored query imports neither rdflib nor owlrl nor pySHACL (tests/test_coldstart.py):
results hold pyoxigraph terms, and rdflib terms only for callers that ask for ``Result.rows``.
"""
import datetime as dt
import io
import json
import re
from collections import namedtuple
from pathlib import Path

from .errors import ParameterError, QueryError, UnknownQueryError
from .namespaces import PREFIX_IRIS, bind_prefixes
from .resources import bundle_files

XSD = PREFIX_IRIS["xsd"]

CODE_TYPES = ("state", "instrument", "group", "body", "organization", "cycle", "mandate")
PARAM_TYPES = CODE_TYPES + ("date", "integer", "string")
_HEADER = re.compile(r"^#\s*(title|description|param|example):\s?(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM = re.compile(r"^(\w+)\s*\(([^)]*)\)\s*:\s*(.*)$")


# plain classes, not dataclasses: importing dataclasses (and inspect) costs a query process 9 ms
Parameter = namedtuple("Parameter", "name type required default description", defaults=(False, None, ""))


class StoredQuery:
    """One stored query: its file, header (title, description, parameters, examples) and text."""

    def __init__(self, name, path, title, description, parameters=None, examples=None, text=""):
        self.name, self.path, self.title, self.description = name, path, title, description
        self.parameters = [] if parameters is None else parameters
        self.examples = [] if examples is None else examples
        self.text = text
        self._prepared = None

    def __repr__(self):
        return f"StoredQuery(name={self.name!r}, path={str(self.path)!r})"

    def __eq__(self, other):
        if not isinstance(other, StoredQuery):
            return NotImplemented
        fields = ("name", "path", "title", "description", "parameters", "examples", "text")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = None

    @property
    def prepared(self):
        """The query parsed once with rdflib (lazily, so listing queries stays cheap)."""
        if self._prepared is None:
            from rdflib.plugins.sparql import prepareQuery   # rdflib's SPARQL parser: 0.1 s to import
            try:
                self._prepared = prepareQuery(self.text)
            except Exception as exc:
                raise QueryError(f"{self.path}: cannot parse stored query: {exc}") from None
        return self._prepared

    def parameter(self, name):
        for p in self.parameters:
            if p.name == name:
                return p
        return None


def parse_query_file(path):
    """Read a ``.rq`` file and its header into a StoredQuery; raise QueryError on a bad header."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    fields = {"title": "", "description": [], "param": [], "example": []}
    last = None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if match:
            key, value = match.groups()
            last = key
            if key == "title":
                fields["title"] = value.strip()
            else:
                fields[key].append(value.strip())
            continue
        cont = _CONTINUATION.match(line)
        if cont and last in ("description", "param"):
            fields[last][-1] = (fields[last][-1] + " " + cont.group(1)).strip()
    params = []
    for spec in fields["param"]:
        params.append(_parse_param(path, spec))
    if not fields["title"]:
        raise QueryError(f"{path}: stored query has no '# title:' header")
    return StoredQuery(name=path.stem, path=path, title=fields["title"],
                       description=" ".join(fields["description"]), parameters=params,
                       examples=fields["example"], text=text)


def _parse_param(path, spec):
    match = _PARAM.match(spec)
    if not match:
        raise QueryError(f"{path}: bad '# param:' line {spec!r} (want 'name (type[, required|default=...]): text')")
    name, options, description = match.groups()
    parts = [o.strip() for o in options.split(",") if o.strip()]
    if not parts or parts[0] not in PARAM_TYPES:
        raise QueryError(f"{path}: parameter {name!r} has unknown type {parts[:1]}; types: {', '.join(PARAM_TYPES)}")
    required, default = False, None
    for option in parts[1:]:
        if option == "required":
            required = True
        elif option.startswith("default="):
            default = option.split("=", 1)[1]
        else:
            raise QueryError(f"{path}: parameter {name!r} has unknown option {option!r}")
    return Parameter(name, parts[0], required, default, description)


class QueryCatalog:
    """The stored queries found in one or more folders, by name."""

    def __init__(self, folders=None):
        files = []
        if folders is None:
            files = bundle_files("queries", ".rq")
        else:
            for folder in folders:
                files.extend(sorted(Path(folder).glob("*.rq")))
        self._queries = {}
        for f in files:
            q = parse_query_file(f)
            self._queries[q.name] = q

    def names(self):
        return sorted(self._queries)

    def __iter__(self):
        return iter(self._queries[n] for n in self.names())

    def get(self, name):
        """The stored query ``name``; UnknownQueryError lists close and available names."""
        try:
            return self._queries[name]
        except KeyError:
            import difflib
            close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UnknownQueryError(
                f"unknown query {name!r}.{hint} Available: {', '.join(self.names())}") from None


def iso_date(name, value):
    """An ISO date string ("today" for today) as a datetime.date; ParameterError names the parameter."""
    if value == "today":
        return dt.date.today()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""):
        raise ParameterError(f"parameter {name!r}: {value!r} is not a date; expected YYYY-MM-DD, e.g. 2015-02-05")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"parameter {name!r}: {value!r} is not a valid calendar date") from None


def parse_date(name, value):
    """iso_date() as an rdflib xsd:date Literal."""
    from rdflib import Literal
    from rdflib.namespace import XSD as XSD_NS
    return Literal(iso_date(name, value), datatype=XSD_NS.date)


def bind_parameters(query, values, codes):
    """Check ``values`` (name -> string) against the query's parameters and return the bindings
    {"_name": pyoxigraph term}.

    Unknown names, missing required parameters and ill-typed values raise ParameterError;
    unknown codes raise UnknownCodeError. Defaults are applied here; optional parameters without a
    default stay unbound. ``codes``: a codes.CodeIndex, or a function that returns one, called
    only when a parameter is a code, after every other parameter is checked (a remote graph's
    index costs a round trip, which a misspelt name or a bad date never waits for).
    """
    bindings = {}
    known = [p.name for p in query.parameters]
    for name in values:
        if name not in known:
            import difflib
            close = difflib.get_close_matches(name, known, n=2, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            accepted = ", ".join(known) or "none"
            raise ParameterError(f"query {query.name!r} has no parameter {name!r}{hint} (parameters: {accepted})")
    given = []
    for param in query.parameters:
        raw = values.get(param.name, param.default)
        if raw is None or raw == "":
            if param.required:
                raise ParameterError(
                    f"query {query.name!r} needs parameter {param.name!r} ({param.type}): {param.description}")
            continue
        given.append((param, str(raw)))
    # codes last: every other mistake is found before the code index is read
    given.sort(key=lambda pair: pair[0].type in CODE_TYPES)
    for param, raw in given:
        if callable(codes) and param.type in CODE_TYPES:
            codes = codes()
        bindings["_" + param.name] = convert(param, raw, codes)
    return {name: bindings[name] for name in ("_" + p.name for p in query.parameters) if name in bindings}


def convert(param, raw, codes):
    """One parameter value as a pyoxigraph term of the parameter's type."""
    import pyoxigraph as ox
    if param.type == "date":
        return ox.Literal(iso_date(param.name, raw).isoformat(), datatype=ox.NamedNode(XSD + "date"))
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise ParameterError(f"parameter {param.name!r}: {raw!r} is not an integer")
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
    if param.type == "string":
        return ox.Literal(raw)
    return ox.NamedNode(codes.iri(param.type, raw))


class Result:
    """Rows of a SELECT (``vars`` and tuples of RDF terms or None), a boolean for ASK, or an
    rdflib Graph for CONSTRUCT and DESCRIBE.

    ``terms`` holds the rows as pyoxigraph gave them (from the store, or parsed from a remote
    endpoint's answer); the result formats read those. ``rows`` holds them as rdflib
    terms, converted (and rdflib imported) when first asked for."""

    def __init__(self, vars, rows, boolean=None, graph=None):
        self.vars = vars
        self.terms = rows
        self.boolean = boolean
        self.graph = graph
        self._rows = None

    @property
    def rows(self):
        if self._rows is None:
            from .terms import to_rdflib
            converted = {}      # terms repeat across rows (a source's title, a cycle); rdflib terms are immutable

            def term(t):
                found = converted.get(t)
                if found is None and t is not None:
                    found = converted[t] = to_rdflib(t)
                return found
            self._rows = [tuple(term(t) for t in row) for row in self.terms]
        return self._rows

    def __eq__(self, other):
        if not isinstance(other, Result):
            return NotImplemented
        return (self.vars, self.rows, self.boolean, self.graph) == (other.vars, other.rows, other.boolean, other.graph)

    def __repr__(self):
        return f"Result(vars={self.vars!r}, rows={self.terms!r}, boolean={self.boolean!r}, graph={self.graph!r})"

    def as_dicts(self):
        """Rows as dicts of Python values (str, int, float, datetime.date); unbound omitted."""
        return [{v: python_value(t) for v, t in zip(self.vars, row) if t is not None} for row in self.rows]


def python_value(term):
    from rdflib import Literal
    if isinstance(term, Literal):
        value = term.toPython()
        return value if not isinstance(value, Literal) else str(term)
    return str(term)


def run_sparql(graph, query, bindings=None):
    """Evaluate a query (text or prepared) on an rdflib graph and return a Result (``bindings``:
    {"_name": term}, pyoxigraph or rdflib terms)."""
    from .namespaces import PREFIXES
    from .terms import to_rdflib
    bindings = {name: to_rdflib(term) for name, term in (bindings or {}).items()}
    try:
        res = graph.query(query, initBindings=bindings, initNs=PREFIXES)
    except QueryError:
        raise
    except Exception as exc:
        raise QueryError(f"SPARQL error: {exc}") from None
    if res.type == "ASK":
        return Result([], [], bool(res.askAnswer))
    if res.type in ("CONSTRUCT", "DESCRIBE"):
        return Result([], [], graph=res.graph)
    variables = [str(v) for v in res.vars]
    return Result(variables, [tuple(row) for row in res])


# Lexical pieces of SPARQL that can hold braces or keywords without being syntax: comments,
# strings (long and short), IRIs and the backslash escapes of prefixed names (``ex:a\#b`` is a
# name, not a comment); then the keywords that matter here, and braces.
_LONG_STRING = "'''(?:[^\\\\]|\\\\.)*?'''" + '|"""(?:[^\\\\]|\\\\.)*?"""'
_TOKENS = re.compile(
    r"(?P<skip>#[^\n\r]*|" + _LONG_STRING +                      # comments, long strings
    r"""|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*\""""         # strings
    r"""|<[^<>"{}|^`\\\x00-\x20]*>|\\.)"""                        # IRIs, escapes in names
    r"|(?<![\w:?$])(?P<keyword>SELECT|ASK|WHERE|CONSTRUCT|DESCRIBE|SERVICE|FROM)(?![\w:])"
    r"|(?P<brace>\{)",
    re.IGNORECASE)


def sparql_keyword_ends(text):
    """(keyword in upper case, offset just after it) for each keyword of ``_TOKENS`` that stands
    in ``text`` as syntax, in order."""
    return [(m.group("keyword").upper(), m.end()) for m in _TOKENS.finditer(text) if m.group("keyword")]


def _where_groups(text):
    """Offsets just after the ``{`` that opens each WHERE group: after WHERE, or the first brace
    after SELECT/ASK (where the keyword WHERE is optional), never a CONSTRUCT template."""
    offsets, pending = [], False
    for match in _TOKENS.finditer(text):
        keyword = (match.group("keyword") or "").upper()
        if keyword in ("SELECT", "ASK", "WHERE"):
            pending = True
        elif keyword in ("CONSTRUCT", "DESCRIBE"):
            pending = False
        elif match.group("brace") and pending:
            offsets.append(match.end())
            pending = False
    return offsets


def inline_bindings(text, bindings):
    """The query with a VALUES block binding ``bindings`` at the start of every WHERE group (the
    top level and each sub-SELECT, so a parameter is bound wherever the query uses it).

    For engines that take query text (pyoxigraph substitutes only projected variables; a remote
    endpoint takes text). Each value is an RDF term written by the term itself: a pyoxigraph term
    in N-Triples by pyoxigraph (which checked the IRI when the term was made), an rdflib term by
    ``n3()``; either way a value can only ever match as a term, never add syntax.
    """
    if not bindings:
        return text
    names = sorted(bindings)
    for name in names:
        if not re.fullmatch(r"\w+", name):
            raise QueryError(f"invalid variable name {name!r}")
    offsets = _where_groups(text)
    if not offsets:
        raise QueryError("cannot bind parameters: the query has no WHERE { ... } group")
    values = (f" VALUES ({' '.join('?' + n for n in names)}) "
              f"{{ ({' '.join(_safe_n3(bindings[n]) for n in names)}) }} ")
    out, last = [], 0
    for end in offsets:
        out += [text[last:end], values]
        last = end
    return "".join(out) + text[last:]


def _safe_n3(term):
    import pyoxigraph as ox
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return str(term)     # N-Triples, escaped by pyoxigraph
    if isinstance(term, ox.BlankNode):
        raise QueryError("cannot bind a blank node")
    text = term.n3()
    from rdflib import URIRef
    if isinstance(term, URIRef) and re.search(r'[\s<>"{}|^`\\]', str(term)):
        raise QueryError(f"cannot use {str(term)!r} as an IRI")
    return text


def query_graphs():
    """What a query's default graph is on a store build.fill made: the store's default graph,
    which holds every asserted triple once (one value per single-valued fact) and every derived
    one (build._add_inferred writes it to both graphs), so no triple is seen twice and one graph
    answers fast."""
    import pyoxigraph as ox
    return [ox.DefaultGraph()]


def run_sparql_store(store, text, bindings=None, *, default_graph=None, max_triples=None):
    """Evaluate query text on a pyoxigraph Store, over the graphs build.fill lays out for queries
    (query_graphs()) or the ``default_graph`` list; ``bindings`` {"_name": term} are bound in every
    WHERE group (inline_bindings). ``max_triples``: a CONSTRUCT or DESCRIBE stops once it has one
    more distinct triple than that (the caller truncates and says so). SELECT rows hold pyoxigraph
    terms (Result.rows gives rdflib ones)."""
    # the store's default graph is query_graphs() (no option: one graph, the fast path); FROM /
    # FROM NAMED give the query's own dataset, as SPARQL defines (FROM <none> is empty)
    options = {"default_graph": default_graph} if default_graph else {}
    try:
        return to_result(store.query(inline_bindings(text, bindings), prefixes=_PREFIX_TEXT, **options),
                         max_triples=max_triples)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL error: syntax {exc}") from None
    except (OSError, ValueError, RuntimeError, TypeError) as exc:
        raise QueryError(f"SPARQL error: {exc}") from None


def to_result(answer, *, max_triples=None):
    """A Result from what pyoxigraph answers or parses: a QueryBoolean, QuerySolutions, or triples
    (QueryTriples, or the quads of ``pyoxigraph.parse``), which become an rdflib Graph of at most
    ``max_triples`` + 1 distinct triples."""
    import pyoxigraph as ox
    if isinstance(answer, ox.QueryBoolean):
        return Result([], [], bool(answer))
    if not isinstance(answer, ox.QuerySolutions):
        from rdflib import Graph
        from .terms import to_rdflib
        graph = Graph()
        for t in answer:
            graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
            if max_triples is not None and len(graph) > max_triples:
                break
        return Result([], [], graph=graph)
    variables = [v.value for v in answer.variables]
    width = range(len(variables))
    return Result(variables, [tuple(solution[i] for i in width) for solution in answer])


_PREFIX_TEXT = PREFIX_IRIS


# ---- result formats ------------------------------------------------------------------

FORMATS = ("table", "csv", "tsv", "json")


def _plain(term):
    from .terms import lexical
    if term is None:
        return ""
    return lexical(term)


def to_table(result):
    if result.boolean is not None:
        return "yes" if result.boolean else "no"
    cells = [[_plain(t) for t in row] for row in result.terms]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(result.vars)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(result.vars, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(lines)


def to_csv(result):
    """W3C SPARQL 1.1 Query Results CSV: plain values, CRLF line ends."""
    import csv
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(result.vars)
    for row in result.terms:
        writer.writerow([_plain(t) for t in row])
    return buf.getvalue()


def _tsv_term(term):
    from .terms import n3, parts
    if term is None:
        return ""
    kind, value, language, datatype = parts(term)
    if kind == "literal" and datatype == XSD + "integer":
        return value
    return n3(term)


def to_tsv(result):
    """W3C SPARQL 1.1 Query Results TSV: RDF terms in Turtle syntax."""
    lines = ["\t".join("?" + v for v in result.vars)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in result.terms]
    return "\n".join(lines) + "\n"


def term_json(term):
    """One term in SPARQL 1.1 Query Results JSON (a pyoxigraph or an rdflib term)."""
    from .terms import parts
    kind, value, language, datatype = parts(term)
    out = {"type": kind, "value": value}
    if language:
        out["xml:lang"] = language
    elif datatype is not None:
        out["datatype"] = datatype
    return out


def to_json(result):
    """W3C SPARQL 1.1 Query Results JSON."""
    if result.boolean is not None:
        return json.dumps({"head": {}, "boolean": result.boolean})
    bindings = [{v: term_json(t) for v, t in zip(result.vars, row) if t is not None}
                for row in result.terms]
    return json.dumps({"head": {"vars": result.vars}, "results": {"bindings": bindings}},
                      ensure_ascii=False, indent=1)


def format_result(result, fmt):
    if result.graph is not None:  # CONSTRUCT / DESCRIBE: Turtle, or JSON-LD when JSON is asked
        bind_prefixes(result.graph)
        return result.graph.serialize(format="json-ld" if fmt == "json" else "turtle")
    try:
        return {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json}[fmt](result)
    except KeyError:
        raise ParameterError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
