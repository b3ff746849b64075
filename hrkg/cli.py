"""The hrkg command line: parses arguments, calls the library, maps errors to exit codes.

Exit codes: 0 success (or the data conforms), 1 the data does not conform (nothing else exits
1), 2 usage or input error (unknown query, parameter or code; unreadable, malformed or empty
input; a folder without RDF files), 3 store or output error (no usable store; an output file or
standard output that cannot be written, a full disk), 130 interrupted (Ctrl-C). A failure is one
line on standard error, "hrkg: error: ...", naming the file or parameter; never a traceback
(HRKG_DEBUG=1 shows one for an unexpected error, which exits 70: a bug in hrkg).
"""
import argparse
import codecs
import errno
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import HrkgError, LoadError, UsageError, WriteError
from .graph import KnowledgeGraph
from .load import FORMATS as RDF_FORMATS, expand_paths
from .query import FORMATS, QueryCatalog, format_result
from .progress import Progress

# kept in step with export.EXPORT_FORMATS and shacl.report.REPORT_FORMATS (tests/test_cli.py), which
# are not imported here: a query should not pay for the exporter and pySHACL
EXPORT_CHOICES = ("ttl", "nt", "jsonld", "xml", "trig", "nq")
REPORT_CHOICES = ("text", "json", "ttl", "junit")


def _params(pairs):
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"parameter {pair!r} must be written KEY=VALUE, e.g. state=VNM")
        key, value = pair.split("=", 1)
        if not key:
            raise UsageError(f"parameter {pair!r} has no name before '='")
        if key in values:
            raise UsageError(f"parameter {key!r} given twice")
        values[key] = value
    return values


def _shown(path):
    """A path as text that can be printed, even when its name is not UTF-8 (as \\xe9)."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def _check_name(path):
    try:
        os.fsencode(str(path)).decode("utf-8")
    except UnicodeDecodeError:
        raise LoadError("file name is not UTF-8; rename the file", path=_shown(path)) from None


def _check_inputs(paths):
    """Fail early and clearly (LoadError, exit 2) on input files the library would fail on with
    an OSError or a UnicodeError: missing, unreadable, a name that is not UTF-8, and a folder that
    holds no RDF file (it would silently add nothing)."""
    for path in map(Path, paths or ()):
        _check_name(path)
        if path.is_dir():
            try:
                os.scandir(path).close()
            except OSError as exc:
                raise LoadError(f"cannot read the folder: {exc.strerror}", path=path) from None
            files = expand_paths([path])
            if not files:
                raise LoadError(f"folder holds no RDF files ({', '.join(sorted(RDF_FORMATS))})", path=path)
        elif not path.exists():
            raise LoadError("no such file or folder", path=path)
        else:
            files = [path]
        for f in files:
            _check_name(f)
            try:
                with open(f, "rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise LoadError(f"cannot read: {exc.strerror or exc}", path=f) from None


def _decode_query(raw, where):
    """Query text from bytes: UTF-8 (a BOM is dropped), or UTF-16 with its BOM; anything else is a
    UsageError naming ``where``."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                         f"save the query as UTF-8") from None
    if "\0" in text:
        raise UsageError(f"{where}: a binary file, not a SPARQL query")
    return text


def _open(args, **kwargs):
    """The built store (built or refreshed first if needed); with --data, an ad-hoc in-memory
    graph of the bundled data plus those files, parsed and inferred for this run only."""
    if getattr(args, "data", None):
        _check_inputs(args.data)
        return KnowledgeGraph.open(args.data, **kwargs)
    return KnowledgeGraph.open_store(getattr(args, "store", None), rebuild=getattr(args, "rebuild", False),
                                     progress=Progress(quiet=getattr(args, "quiet", False)))


def cmd_build(args, out):
    from .store import build
    _check_inputs(args.paths)
    manifest = build(args.paths, args.store, force=args.force, progress=Progress(quiet=args.quiet))
    verb = "built" if manifest["built"] else "up to date"
    out.write(f"store {verb}: {manifest['path']}\n"
              f"  {len(manifest['inputs'])} input files, {manifest['asserted_triples']:,} asserted and "
              f"{manifest['inferred_triples']:,} inferred triples\n")
    if manifest["built"]:
        s = manifest["seconds"]
        out.write(f"  load {s['load']:.1f} s, inference {s['infer']:.1f} s, writing to disk {s['write']:.1f} s, "
                  f"total {s['total']:.1f} s\n")
    return 0


def cmd_queries(args, out):
    for q in QueryCatalog():
        out.write(f"{q.name}: {q.title}\n")
        for p in q.parameters:
            flags = "required" if p.required else (f"default {p.default}" if p.default else "optional")
            out.write(f"    {p.name} ({p.type}, {flags}): {p.description}\n")
        for example in q.examples:
            out.write(f"    example: hrkg query {q.name} {example}\n")
    return 0


def _remote(args):
    """With --endpoint, the graph on that SPARQL endpoint (never the local store); else None."""
    if not args.endpoint:
        return None
    local = [option for option, given in (("--data", args.data), ("--store", args.store), ("--rebuild", args.rebuild))
             if given]
    if local:
        raise UsageError(f"{' and '.join(local)} cannot be combined with --endpoint: the query runs on the "
                         f"endpoint's graph, not on a local one")
    return KnowledgeGraph.remote(args.endpoint, timeout=args.timeout)


def cmd_query(args, out):
    params = _params(args.params)
    with _remote(args) or _open(args) as kg:
        result = kg.query(args.name, params)
    out.write(format_result(result, args.format).rstrip("\n") + "\n")
    return 0


def cmd_sparql(args, out):
    if args.file:
        _check_name(args.file)
        try:
            raw = Path(args.file).read_bytes()
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot read: {exc.strerror}") from None
        text = _decode_query(raw, args.file)
    elif args.query == "-":
        text = _decode_query(sys.stdin.buffer.read(), "standard input")
    elif args.query:
        text = args.query
    else:
        raise UsageError("give a query text, '-' for standard input, or -f FILE")
    with _remote(args) or _open(args) as kg:
        result = kg.sparql(text)
    out.write(format_result(result, args.format).rstrip("\n") + "\n")
    return 0


SEARCH_COLUMNS = ("state", "cycle", "recommending_state", "response", "instruments", "text", "recommendation")
_CODE_FILTERS = {"state": "state", "recommending_state": "state", "instrument": "instrument", "cycle": "cycle"}


def _search_index(kg):
    """The search index beside the store (built on first use, or again when an older hrkg wrote
    it: search.index_info), renamed into place; for --data, a temporary one for this run."""
    from .search import INDEX_NAME, build_index, index_info, index_path
    path = index_path(kg.manifest)
    if path is not None:
        if index_info(path) is None:
            build_index(kg.store, path)
        return path
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="hrkg-search-")) / INDEX_NAME
    build_index(kg.store, path)
    return path


def cmd_search(args, out):
    import csv
    import json
    from .search import FILTERS, SearchError, search
    kg = _open(args)
    filters = _params(args.params)
    for key, value in filters.items():
        if key not in FILTERS:
            raise UsageError(f"unknown filter {key!r}; filters: {', '.join(FILTERS)}")
        if key in _CODE_FILTERS:      # names and aliases as everywhere: state=vietnam, instrument=CCPR
            kind = _CODE_FILTERS[key]
            filters[key] = kg.codes.code_of(kind, kg.codes.iri(kind, value))
    try:
        rows = search(_search_index(kg), args.query, filters, limit=args.limit)
    except SearchError as exc:
        raise UsageError(str(exc)) from None
    table = [{c: ("" if r[c] is None else str(r[c])) for c in SEARCH_COLUMNS} for r in rows]
    if args.format == "json":
        out.write(json.dumps(table, ensure_ascii=False, indent=1) + "\n")
    elif args.format in ("csv", "tsv"):
        w = csv.DictWriter(out, SEARCH_COLUMNS, delimiter="," if args.format == "csv" else "\t", lineterminator="\n")
        w.writeheader()
        w.writerows(table)
    else:
        for r in table:
            out.write(f"{r['state']} {r['cycle']} {r['recommending_state'] or '-'} [{r['response'] or '-'}]"
                      f"{' {' + r['instruments'] + '}' if r['instruments'] else ''}\n    {r['text']}\n")
        out.write(f"{len(table)} recommendation{'s' if len(table) != 1 else ''}"
                  f"{' (first ' + str(args.limit) + '; --limit N for more)' if len(table) == args.limit else ''}\n")
    return 0


def cmd_validate(args, out):
    _check_inputs(list(args.paths) + list(args.data or []) + list(args.shapes or []))
    if args.only and args.paths:
        # contributor files alone, checked with the ontology so classes and terms resolve
        kg = KnowledgeGraph.open(args.paths, include_bundle=False, include_ontology=True, reason=args.infer)
    elif args.paths or args.data:
        kg = KnowledgeGraph.open(list(args.paths) + list(args.data or []), reason=args.infer)
    else:
        kg = _open(args)      # the built store: the bundled data plus whatever 'hrkg build' was given
    from .shacl.report import REPORT_FORMATS
    from .shacl.shapes import load_shapes
    report = kg.validate(load_shapes(args.shapes or None), include_inferred=args.infer, engine=args.engine)
    out.write(REPORT_FORMATS[args.format](report, strict=args.strict).rstrip("\n") + "\n")
    return 0 if report.conforms(strict=args.strict) else 1


def cmd_export(args, out):
    if args.context and args.format != "jsonld":
        raise UsageError("--context applies to --format jsonld only")
    target = Path(args.output) if args.output else None
    if target is not None:   # before the export, which takes a while
        _check_name(target)
        if target.is_dir():
            raise UsageError(f"output {target} is a folder; give a file name")
        if not target.parent.is_dir():
            raise UsageError(f"output {target}: folder {target.parent} does not exist")
    from .export import TextSink, export_graph
    kg = _open(args)
    options = {"include_inferred": args.inferred, "jsonld_context": args.context or "url"}
    if target is None:   # streamed: a large store never sits in memory as one text
        export_graph(kg, args.format, TextSink(out), **options)
        return 0
    tmp, created = target.with_name(target.name + ".part"), False
    try:
        with open(tmp, "wb") as fh:
            created = True
            export_graph(kg, args.format, fh, **options)
            size = fh.tell()
        tmp.replace(target)
        created = False
    except OSError as exc:
        raise WriteError(f"{target}: cannot write: {_why(exc)}") from None
    finally:   # a failed or interrupted export leaves neither its .part file nor half a target
        if created:
            tmp.unlink(missing_ok=True)
    if not args.quiet:
        sys.stderr.write(f"wrote {target} ({size} bytes)\n")
    return 0


def cmd_import(args, out):
    from .importers.run import import_files  # imported here: other commands need not load it
    try:
        report = import_files(args.kind, args.files, args.output, field_map=args.field_map,
                              encoding=args.encoding, instrument=args.instrument, publisher=args.publisher,
                              strict=args.strict, partial=args.partial, non_states=args.non_states,
                              progress=None if args.quiet else sys.stderr)
    except HrkgError as exc:
        if getattr(exc, "report", None) is not None:
            sys.stderr.write(exc.report.summary() + "\n")
        raise
    except OSError as exc:   # its temporary file or the output (inputs raise LoadError)
        if exc.filename and Path(exc.filename).parent != Path(args.output).parent:
            raise
        raise WriteError(f"{args.output}: cannot write: {_why(exc)}") from None
    # --quiet still shows the summary when something needs a look
    if not args.quiet or report.rejected or report.unresolved or any(f.warnings for f in report.files):
        sys.stderr.write(report.summary() + "\n")
    return 0


def cmd_publish(args, out):
    from .remote import publish
    kg = _open(args)
    say = None if args.quiet else (lambda line: sys.stderr.write(line + "\n"))
    summary = publish(kg, args.endpoint, graph_store=args.graph_store, include_inferred=args.inferred,
                      replace=args.replace, progress=say, timeout=args.timeout)
    out.write(f"published {summary.graphs} graphs, {summary.triples:,} triples to {summary.graph_store} "
              f"and {summary.default_triples:,} to its default graph in {summary.seconds:.1f} s\n")
    for stale in summary.removed:
        out.write(f"  removed stale graph <{stale}>\n")
    if summary.default_graph_problem:
        sys.stderr.write(f"hrkg: warning: {args.endpoint}: {summary.default_graph_problem}\n")
    return 0


def cmd_stats(args, out):
    kg = _open(args)
    for key, value in kg.stats().items():
        out.write(f"{key:<22}{value}\n")
    return 0


def cmd_serve(args, out):
    from .serve import Settings, serve  # starlette and uvicorn load only when serving
    for name, value in (("--workers", args.workers), ("--timeout", args.timeout), ("--max-rows", args.max_rows),
                        ("--max-body", args.max_body), ("--port", args.port)):
        if value <= 0:
            raise UsageError(f"{name} must be positive, got {value}")
    settings = Settings(workers=args.workers, timeout=args.timeout, max_rows=args.max_rows, max_body=args.max_body,
                        allow_remote=args.allow_remote, public_url=args.public_url,
                        response_cache=max(args.response_cache, 0), response_cache_bytes=args.response_cache_bytes)
    if args.in_memory:
        _check_inputs(args.data)

        def factory():
            return KnowledgeGraph.open(args.data)
    else:
        def factory():
            return _open(args)
    serve(factory, host=args.host, port=args.port, settings=settings, access_log=not args.quiet)
    return 0


def build_parser():
    from .web import options as serve_options   # checked values; light, no server imports
    parser = argparse.ArgumentParser(
        prog="hrkg", description="Query, validate and export the human-rights knowledge graph.")
    parser.add_argument("--version", action="version", version=f"hrkg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def remote(p, text):
        p.add_argument("--endpoint", metavar="URL", help=text)
        p.add_argument("--timeout", type=serve_options.seconds, default=60.0, metavar="SECONDS",
                       help="with --endpoint: give up after this long (default: 60)")

    def quiet(p, text="no store progress lines on standard error"):
        p.add_argument("-q", "--quiet", action="store_true", help=text)

    def common(p):
        p.add_argument("--store", metavar="DIR", help="store location (default: $HRKG_STORE or the cache folder)")
        p.add_argument("--data", action="append", metavar="PATH",
                       help="query the bundled data plus this RDF file or folder in memory, bypassing the store (repeatable)")
        p.add_argument("--rebuild", action="store_true",
                       help="rebuild a store that is out of date with its added files first (by default it "
                            "answers as built, with a warning)")

    p = sub.add_parser("build", help="compile ontology, data, imported files and inference into the on-disk store")
    p.add_argument("paths", nargs="*", metavar="PATH", help="extra RDF files or folders (e.g. from 'hrkg import')")
    p.add_argument("--store", metavar="DIR", help="store location (default: $HRKG_STORE or the cache folder)")
    p.add_argument("--force", action="store_true", help="rebuild even if no input changed")
    quiet(p, "no progress lines on standard error")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("queries", help="list the stored queries and their parameters")
    quiet(p, "accepted for uniformity: this command prints nothing but the list")
    p.set_defaults(func=cmd_queries)

    p = sub.add_parser("query", help="run a stored query: hrkg query NAME KEY=VALUE ...")
    p.add_argument("name", help="stored query name (see 'hrkg queries')")
    p.add_argument("params", nargs="*", metavar="KEY=VALUE", help="parameters, e.g. state=VNM as_of=2015-01-01")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    remote(p, "run it on the graph published to this SPARQL 1.1 endpoint (see 'hrkg publish'), "
              "resolving codes there; the local store is not used")
    quiet(p)
    common(p)
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("search", help='full-text search of UPR recommendations: hrkg search "QUERY" KEY=VALUE ...')
    p.add_argument("query", help='words, "phrases", word*, AND, OR, NOT, parentheses; "" for filters only')
    p.add_argument("params", nargs="*", metavar="KEY=VALUE",
                   help="filters: state, cycle, recommending_state, response, theme, instrument, ask, session")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows, best first (default 100)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    quiet(p)
    common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("sparql", help="run a SPARQL SELECT, ASK, CONSTRUCT or DESCRIBE query given as text, '-' (stdin) or -f FILE")
    p.add_argument("query", nargs="?", help="the query text, or '-' to read standard input")
    p.add_argument("-f", "--file", help="read the query from FILE")
    p.add_argument("--format", choices=FORMATS, default="table")
    remote(p, "run it on this SPARQL 1.1 endpoint instead of locally (the local store is not used)")
    quiet(p)
    common(p)
    p.set_defaults(func=cmd_sparql)

    p = sub.add_parser("validate", help="validate the bundled graph (and extra files) against the SHACL shapes")
    p.add_argument("paths", nargs="*", metavar="PATH", help="extra RDF files or folders to validate with the bundled data")
    p.add_argument("--only", action="store_true", help="validate PATHs with the ontology but without the bundled data")
    p.add_argument("--format", choices=sorted(REPORT_CHOICES), default="text")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--infer", action="store_true", help="validate with OWL RL inferred triples added")
    p.add_argument("--shapes", action="append", metavar="FILE", help="shapes file(s) instead of the bundled ones")
    p.add_argument("--engine", choices=("compiled", "pyshacl"), default="compiled",
                   help="compiled: the shapes as SPARQL queries on Oxigraph (default, fast); "
                        "pyshacl: the reference validator (slow on large graphs)")
    quiet(p)
    common(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="write the graph as Turtle, N-Triples, JSON-LD, RDF/XML, TriG or N-Quads")
    p.add_argument("--format", choices=sorted(EXPORT_CHOICES), default="ttl")
    p.add_argument("--inferred", action="store_true", help="include the OWL RL inferred triples")
    p.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    p.add_argument("--context", choices=("url", "inline"),
                   help="jsonld: refer to the published context by URL (default) or embed it (a self-contained file)")
    quiet(p, "no store progress lines, and no 'wrote FILE' line")
    common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("publish", help="upload the graph to a SPARQL 1.1 server (Graph Store Protocol), one named graph per file")
    p.add_argument("--endpoint", required=True, metavar="URL", help="the server's SPARQL query endpoint, e.g. http://localhost:7878/query")
    p.add_argument("--graph-store", metavar="URL",
                   help="its Graph Store endpoint (default: .../store beside .../query, as Oxigraph server has it)")
    p.add_argument("--replace", action="store_true",
                   help="overwrite graphs already there and delete hrkg graphs that no longer exist locally")
    p.add_argument("--inferred", action=argparse.BooleanOptionalAction, default=True,
                   help="also upload the inferred triples, which the stored queries need (default: yes)")
    p.add_argument("--timeout", type=serve_options.seconds, default=60.0, metavar="SECONDS", help="per request (default: 60)")
    quiet(p, "no progress lines on standard error")
    common(p)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("import", help="import UPR recommendation exports (upr) or UN Treaty Collection status tables (untc) as RDF")
    p.add_argument("kind", choices=("upr", "untc"), help="upr: UPR recommendations (CSV/TSV); untc: a UNTC participant table (CSV or HTML)")
    p.add_argument("files", nargs="+", metavar="FILE", help="the exported files")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the RDF file to write: .nt (N-Triples) or .ttl (Turtle)")
    p.add_argument("--map", action="append", dest="field_map", metavar="FIELD=HEADER",
                   help="use column HEADER for FIELD (repeatable), e.g. --map text='Rec. text'")
    p.add_argument("--encoding", help="decode the files with this encoding instead of detecting UTF-8, cp1252 or Latin-1")
    p.add_argument("--instrument", metavar="CODE", help="untc: the instrument (CAT, ICCPR, ...); detected from an HTML page when left out")
    p.add_argument("--publisher", help="upr: who published the export (e.g. 'UPR Info')")
    p.add_argument("--strict", action="store_true", help="a state name that does not resolve is fatal (nothing is written)")
    p.add_argument("--partial", action="store_true", help="write the good rows even when some rows are rejected")
    p.add_argument("--non-states", action="store_true",
                   help="untc: also write Cook Islands (COK), Niue (NIU) and the European Union (group/EU), "
                        "as the reference data names them (participants.ttl, bodies.ttl)")
    quiet(p, "no progress lines; the summary only when something needs a look")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="counts of states, instruments, actions, reviews, sources, triples")
    quiet(p)
    common(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("serve", help="serve the graph as linked data: SPARQL endpoint, stored queries, resource pages")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=serve_options.port, default=8000, help="port, 1-65535 (default: 8000)")
    p.add_argument("--workers", type=int, default=2, help="query worker processes (default: 2)")
    p.add_argument("--timeout", type=serve_options.seconds, default=30.0, metavar="SECONDS",
                   help="stop (kill) a query after this long and answer 503; a finite number > 0 (default: 30)")
    p.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                   help="truncate results to N rows or triples, marked by the header X-SPARQL-MaxRows (default: 10000)")
    p.add_argument("--max-body", type=int, default=1_000_000, metavar="BYTES",
                   help="refuse larger request bodies with 413 (default: 1000000)")
    p.add_argument("--allow-remote", action="store_true",
                   help="let queries use SERVICE and FROM with outside IRIs (off: they are refused with 403)")
    p.add_argument("--public-url", metavar="URL", type=serve_options.public_url,
                   help="the server's public base URL, for the absolute links in /void and the service description "
                        "(default: http://HOST:PORT; never taken from a request's Host header)")
    p.add_argument("--response-cache", type=int, default=512, metavar="N",
                   help="keep the last N answers to GET requests in memory (the graph is read-only; 0: off)")
    p.add_argument("--response-cache-bytes", type=serve_options.size, default=64 * 2**20, metavar="BYTES",
                   help="... and at most this many bytes of them, e.g. 64M (default: 64M; 0: off)")
    p.add_argument("--in-memory", action="store_true",
                   help="parse and infer the bundled data (plus --data) in memory instead of opening the store")
    quiet(p, "no access log and no store progress lines")
    common(p)
    p.set_defaults(func=cmd_serve)
    return parser


_FULL = {errno.ENOSPC: "no space left on the device", errno.EFBIG: "file too large (a file-size limit)",
         errno.EDQUOT: "disk quota exceeded"}


_FULL_TEXTS = tuple(os.strerror(e) for e in _FULL)


def _why(exc):
    """An OSError's reason in words (a full disk said plainly)."""
    return _FULL.get(exc.errno) or exc.strerror or str(exc) or type(exc).__name__


class _Output:
    """The command's output stream: a failed write (a full disk, /dev/full) becomes WriteError
    (exit 3); BrokenPipeError passes through (the reader stopped, e.g. head)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(f"standard output: cannot write: {_why(exc)}") from None

    def flush(self):
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(f"standard output: cannot write: {_why(exc)}") from None


def _silence_stdout():
    """Point file descriptor 1 at /dev/null so the interpreter's last flush of what could not be
    written does not print a second error (the recipe in Python's signal documentation)."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _error(message, code):
    try:
        sys.stderr.write(f"hrkg: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass
    return code


def main(argv=None, out=None):
    """Run one command; returns its exit code (see the module's docstring). Every failure is one
    line on standard error, never a traceback."""
    to_stdout = out is None or out is sys.stdout
    out = _Output(out or sys.stdout)
    # rdflib logs a traceback for every ill-typed literal it reads (a date such as 2013-02-30);
    # hrkg reports those itself (validate names the file, the resource and the shape)
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        code = args.func(args, out)
        out.flush()
        return code
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except BrokenPipeError:  # e.g. piped into head
        if to_stdout:
            _silence_stdout()
        return 0
    except HrkgError as exc:
        code = exc.exit_code
        if isinstance(exc, LoadError) and any(words in str(exc) for words in _FULL_TEXTS):
            code = 3   # the store's bulk load says a full disk as "<input>: cannot load: IO error: ..."
        return _error(f"error: {exc}", code)
    except OSError as exc:   # the store, a cache or an output file the library could not write
        where = f"{_shown(exc.filename)}: " if exc.filename else ""
        return _error(f"error: {where}{_why(exc)}", 3)
    except UnicodeError as exc:   # a name from the file system that is not UTF-8
        if "surrogate" not in str(exc):
            return _unexpected(exc)
        return _error("error: a file name is not UTF-8 (rename it): "
                      f"{_shown(exc.object)[:300] if isinstance(exc.object, str) else exc}", 2)
    except Exception as exc:   # noqa: BLE001 -- a bug: one line, not a traceback
        return _unexpected(exc)


def _unexpected(exc):
    if os.environ.get("HRKG_DEBUG"):
        raise exc
    return _error(f"error: unexpected {type(exc).__name__}: {exc} (a bug in hrkg: please report it with "
                  f"the command; HRKG_DEBUG=1 shows the traceback)", 70)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
