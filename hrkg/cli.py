"""The hrkg command line: parses arguments, calls the library, maps errors to exit codes.

Exit codes: 0 success (or the data conforms), 1 the data does not conform, 2 usage or input
error (unknown query, parameter or code; unreadable or malformed file), 3 store error.
"""
import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import HrkgError, UsageError
from .export import EXPORT_FORMATS
from .graph import KnowledgeGraph
from .load import load
from .query import FORMATS, QueryCatalog, format_result
from .resources import bundle_files
from .store import Progress, build
from .validate import REPORT_FORMATS, load_shapes


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


def _open(args, **kwargs):
    """The built store (built or refreshed first if needed); with --data, an ad-hoc in-memory
    graph of the bundled data plus those files, parsed and inferred for this run only."""
    if getattr(args, "data", None):
        return KnowledgeGraph.open(args.data, use_cache=not getattr(args, "no_cache", False), **kwargs)
    return KnowledgeGraph.open_store(getattr(args, "store", None),
                                     progress=Progress(quiet=getattr(args, "quiet", False)))


def cmd_build(args, out):
    manifest = build(args.paths, args.store, force=args.force, progress=Progress(quiet=args.quiet))
    verb = "built" if manifest["built"] else "up to date"
    out.write(f"store {verb}: {manifest['path']}\n"
              f"  {len(manifest['inputs'])} input files, {manifest['asserted_triples']:,} asserted and "
              f"{manifest['inferred_triples']:,} inferred triples\n")
    if manifest["built"]:
        s = manifest["seconds"]
        out.write(f"  load {s['load']:.1f} s, inference {s['infer']:.1f} s, total {s['total']:.1f} s\n")
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


def cmd_query(args, out):
    kg = _open(args)
    result = kg.query(args.name, _params(args.params))
    out.write(format_result(result, args.format).rstrip("\n") + "\n")
    return 0


def cmd_sparql(args, out):
    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot read: {exc.strerror}") from None
    elif args.query:
        text = sys.stdin.read() if args.query == "-" else args.query
    else:
        raise UsageError("give a query text, '-' for standard input, or -f FILE")
    kg = _open(args)
    out.write(format_result(kg.sparql(text), args.format).rstrip("\n") + "\n")
    return 0


def cmd_validate(args, out):
    if args.only and args.paths:
        # contributor files alone, checked with the ontology so classes and terms resolve
        dataset = load(bundle_files("ontology", ".ttl") + list(args.paths), include_bundle=False)
        kg = KnowledgeGraph(dataset, args.paths, reason=args.infer, use_cache=not args.no_cache)
    else:
        kg = KnowledgeGraph.open(args.paths or None, reason=args.infer, use_cache=not args.no_cache)
    report = kg.validate(load_shapes(args.shapes or None), include_inferred=args.infer)
    out.write(REPORT_FORMATS[args.format](report, strict=args.strict).rstrip("\n") + "\n")
    return 0 if report.conforms(strict=args.strict) else 1


def cmd_export(args, out):
    kg = _open(args)
    text = kg.export(args.format, include_inferred=args.inferred)
    if args.output:
        target = Path(args.output)
        tmp = target.with_name(target.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        sys.stderr.write(f"wrote {target} ({len(text.encode('utf-8'))} bytes)\n")
    else:
        out.write(text)
    return 0


def cmd_stats(args, out):
    kg = _open(args)
    for key, value in kg.stats().items():
        out.write(f"{key:<22}{value}\n")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="hrkg", description="Query, validate and export the human-rights knowledge graph.")
    parser.add_argument("--version", action="version", version=f"hrkg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p):
        p.add_argument("--store", metavar="DIR", help="store location (default: $HRKG_STORE or the cache folder)")
        p.add_argument("--data", action="append", metavar="PATH",
                       help="query the bundled data plus this RDF file or folder in memory, bypassing the store (repeatable)")
        p.add_argument("--no-cache", action="store_true", help="recompute inference instead of using the cache")

    p = sub.add_parser("build", help="compile ontology, data, imported files and inference into the on-disk store")
    p.add_argument("paths", nargs="*", metavar="PATH", help="extra RDF files or folders (e.g. from 'hrkg import')")
    p.add_argument("--store", metavar="DIR", help="store location (default: $HRKG_STORE or the cache folder)")
    p.add_argument("--force", action="store_true", help="rebuild even if no input changed")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on standard error")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("queries", help="list the stored queries and their parameters")
    p.set_defaults(func=cmd_queries)

    p = sub.add_parser("query", help="run a stored query: hrkg query NAME KEY=VALUE ...")
    p.add_argument("name", help="stored query name (see 'hrkg queries')")
    p.add_argument("params", nargs="*", metavar="KEY=VALUE", help="parameters, e.g. state=VNM as_of=2015-01-01")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    common(p)
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("sparql", help="run a SPARQL SELECT, ASK, CONSTRUCT or DESCRIBE query given as text, '-' (stdin) or -f FILE")
    p.add_argument("query", nargs="?", help="the query text, or '-' to read standard input")
    p.add_argument("-f", "--file", help="read the query from FILE")
    p.add_argument("--format", choices=FORMATS, default="table")
    common(p)
    p.set_defaults(func=cmd_sparql)

    p = sub.add_parser("validate", help="validate the bundled graph (and extra files) against the SHACL shapes")
    p.add_argument("paths", nargs="*", metavar="PATH", help="extra RDF files or folders to validate with the bundled data")
    p.add_argument("--only", action="store_true", help="validate PATHs with the ontology but without the bundled data")
    p.add_argument("--format", choices=sorted(REPORT_FORMATS), default="text")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--infer", action="store_true", help="validate with OWL RL inferred triples added")
    p.add_argument("--shapes", action="append", metavar="FILE", help="shapes file(s) instead of the bundled ones")
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="write the graph as Turtle, N-Triples, JSON-LD, RDF/XML, TriG or N-Quads")
    p.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="ttl")
    p.add_argument("--inferred", action="store_true", help="include the OWL RL inferred triples")
    p.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("stats", help="counts of states, instruments, actions, reviews, sources, triples")
    common(p)
    p.set_defaults(func=cmd_stats)
    return parser


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args, out)
    except HrkgError as exc:
        sys.stderr.write(f"hrkg: error: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
