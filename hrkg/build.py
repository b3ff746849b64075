"""Compile the inputs into one pyoxigraph store: the one build function behind every command.

``fill`` builds every store: in memory for ``--data``, the library and the tests, and, through
``fill_on_disk`` (in memory, then written out), the on-disk store of ``hrkg build`` (store.py), so
every command answers from the same kind of graph:

- one named graph per input file holds what that file states, so "which files state this" stays
  answerable (the ``sources`` and ``discrepancies`` queries, TriG/N-Quads exports, the file named
  in validation reports);
- the default graph is what the queries read (query.query_graphs()): every asserted triple once,
  however many files state it (a set, so overlapping inputs never repeat a row), with one value
  for each single-valued fact (``reconcile``), and every derived triple of the inferred graph;
- ``.../graph/inferred`` holds, apart, the triples inference adds (only those no input asserts)
  and the other facts the build derives rather than reads: the statistics (infer.STATISTICS),
  what each recommendation asks of treaties (``record_asks``: hrkg:asksFor, hrkg:TreatyAsk) and
  what followed each ask (``record_followup``: the rules of the follow-up queries, asks.FOLLOWUP,
  applied once after inference; the queries only compare the recorded dates with their as_of).
  So "asserted only" stays answerable: the files' named graphs (validation), or the default graph
  less the inferred one (``asserted_quads``: an export or upload without --inferred).

Why every derived triple is also written to the default graph, as it is derived
(``_add_inferred``): pyoxigraph answers a query over one graph 2-10 times faster than over a list
of graphs (it merges the list per triple pattern): at world scale ``parties instrument=CAT`` takes
226 ms over [default, inferred] and 21 ms over the default graph alone. The build's own rules
read the default graph alone too, which then holds what the two graphs hold together: a fill
of the bundled data took 1.5-1.7 s reading both graphs and 1.4 s this way (median of 5).

Why the treaty asks live in the inferred graph: they are computed from hrkg:text by the rules of
asks.py, not stated by any input file, so they must not appear as a file's named graph (which the
``sources`` query, validation reports and TriG exports read as "what this file says"); the
inferred graph is the one place every consumer already reads as derived (``hrkg publish
--inferred``, ``hrkg export --inferred``, ``hrkg validate --infer``). They are recorded in every
store, in memory or on disk, with or without ``infer`` (the follow-up queries need them either
way), before the OWL RL rules run so that the rules see them like any other triple.

Inference: owlrl closes the small ontology; the OWL RL instance rules it implies run as SPARQL on
the store, repeated until nothing new appears (infer.py). owlrl over the whole graph is the
reference the tests compare against, not a production path.
"""
import copy
import hashlib
import re
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph

from .errors import LoadError
from .infer import STATISTICS, Rule, instance_rules, is_noise, never_noise, schema_closure
from .load import DISCREPANCY_GRAPH, INFERRED_GRAPH, graph_name, parse_file, rdf_format
from .namespaces import PREFIXES
from .progress import Progress
from .terms import to_ox, to_rdflib

OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "n3": ox.RdfFormat.N3,
              "xml": ox.RdfFormat.RDF_XML, "json-ld": ox.RdfFormat.JSON_LD}
PREFIX_MAP = {k: str(v) for k, v in PREFIXES.items()}
DEFAULT = ox.DefaultGraph()
INFERRED = ox.NamedNode(str(INFERRED_GRAPH))
HRKG = "https://w3id.org/hrkg/ontology#"

# Single-valued facts: the properties the ontology declares owl:FunctionalProperty, and the kind
# of a treaty action (a deposit is a ratification or an accession, never both).
EXCLUSIVE_TYPES = tuple(HRKG + c for c in ("Signature", "Ratification", "Accession", "Succession", "Withdrawal"))
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


# The store keeps literals in canonical form ("01"^^xsd:integer is stored "1", "1.50"^^xsd:decimal
# "1.5", "1"^^xsd:boolean "true") and language tags in lower case; validation warns about each one
# a file writes otherwise, so nothing changes silently (see rewritten_literals).
REWRITE_EXAMPLES = 20   # per file, in the manifest; the count covers them all
_PLAIN = ("http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")
_UPPER_LANGUAGE = re.compile(rb"""["']@([A-Za-z]+(?:-[A-Za-z0-9]+)*)""")


def fill(store, files, *, infer=True, progress=None):
    """Load ``files`` (ontology first) into ``store``, reconcile, infer. Returns counts and timings.

    Raises LoadError naming the file (and line) for a missing, empty or malformed input; the
    caller discards the store then.
    """
    progress = progress or Progress(quiet=True)
    started = time.monotonic()
    graphs, order, rewritten = {}, [], []
    for i, path in enumerate(files, 1):
        t0 = time.monotonic()
        name = graph_name(path)
        if str(name) in graphs:
            raise LoadError("given twice", path=path)
        graphs[str(name)] = load_file(store, path, name)
        order.append(str(name))
        rewritten += rewritten_literals(store, path, name)
        progress(f"loaded {i}/{len(files)} {Path(path).name}: {graphs[str(name)]:,} triples "
                 f"({time.monotonic() - t0:.1f} s)")
    discrepancies = reconcile(store, order)
    asserted = count(store)
    load_seconds = time.monotonic() - started
    t0 = time.monotonic()
    asks = record_asks(store)
    asks_seconds = time.monotonic() - t0
    if asks:
        progress(f"treaty asks: {asks:,} in the recommendations' texts ({asks_seconds:.1f} s)")
    t0 = time.monotonic()
    if infer:
        materialise(store, files, progress)
    infer_seconds = time.monotonic() - t0
    t0 = time.monotonic()
    followups = record_followup(store) if asks else 0
    followup_seconds = time.monotonic() - t0
    if followups:
        progress(f"treaty asks followed up: {followups:,} rows ({followup_seconds:.1f} s)")
    inferred = count(store, INFERRED)
    return {"graphs": graphs, "asserted_triples": asserted, "inferred_triples": inferred,
            "treaty_asks": asks, "discrepancies": discrepancies, "rewritten_literals": rewritten,
            "seconds": {"load": round(load_seconds, 2), "asks": round(asks_seconds, 2),
                        "infer": round(infer_seconds, 2), "followup": round(followup_seconds, 2),
                        "total": round(time.monotonic() - started, 2)}}


def record_asks(store):
    """Record in the inferred graph what each recommendation's text asks of treaties (asks.py:
    ``<rec> hrkg:asksFor <rec/asks/CAT/join>``, a hrkg:TreatyAsk with its instrument, ask,
    wording and matched words), read from the reconciled default graph; returns how many asks.
    A triple some input already asserts is not repeated (an export with --inferred read back)."""
    from .asks import ask_triples, store_links
    links = list(store_links(store))
    if not links:
        return 0
    target = INFERRED
    triples = [(t.subject, t.predicate, t.object) for t in ask_triples(store, links)]
    _add_inferred(store, triples, target)
    return sum(1 for t in triples if t[1].value == HRKG + "asksFor")


def record_followup(store):
    """Record in the inferred graph, on the TreatyAsk each follow-up row shows, what the state did
    about it that does not depend on a date (asks.FOLLOWUP: the review's date, the first asked
    action after it, the action already taken before it, whether the graph holds a complete record
    of the instrument); returns how many rows. Runs after inference, so the rules read the triples
    the stored queries read (the default graph, which holds the derived triples too); the queries
    apply as_of to these facts (recommendation-followup, followup-summary, followup-threads), so
    the rules live here, once.
    A query reads them back with a few lookups per row instead of joining every action of the
    state and instrument (latencies before and after: README, Following up treaty recommendations)."""
    from .asks import FOLLOWUP_PROPERTIES, HRKG as ASKS_HRKG, followup_triples
    triples = [(t.subject, t.predicate, t.object) for t in followup_triples(store)]
    _add_inferred(store, triples, INFERRED)
    marker = ASKS_HRKG + FOLLOWUP_PROPERTIES["complete"]
    return sum(1 for t in triples if t[1].value == marker)


def load_file(store, path, graph):
    """Load one file into its named graph and into the default graph; returns its triple count.
    A syntax error becomes LoadError(file, line, column)."""
    path = Path(path)
    fmt = rdf_format(path)
    named = ox.NamedNode(str(graph))
    if fmt not in OX_FORMATS:   # TriG/N-Quads inputs: their triples, through rdflib
        bnodes = {}
        triples = [tuple(to_ox(t, bnodes) for t in triple) for triple in parse_file(path)]
        store.extend([ox.Quad(s, p, o, g) for s, p, o in triples for g in (named, DEFAULT)])
        return count(store, named)
    if path.stat().st_size == 0:
        raise LoadError("file is empty", path=path)
    _bulk_load(store, path, fmt, named)
    n = count(store, named)
    if n == 0:
        raise LoadError("file holds no triples", path=path)
    # the same triples, blank nodes included, copied inside the store: faster than a second parse
    # (120 ms against 190 ms for the bundled ledger), which would also name blank nodes anew
    store.update(f"ADD <{named.value}> TO DEFAULT")
    return n


def rewritten_literals(store, path, graph):
    """[{file, count, examples: [{subject, predicate, written, stored}]}] for the typed literals and
    language tags of ``path`` that the store keeps in another (canonical) form: one entry for the
    file, or none when it has no such literal.

    Found once per file path and content in a process: finding them parses the file again (a
    sixth of a fill of the bundled data), and the answer depends on nothing else, since the
    graph it compares with holds exactly what the file says."""
    path = Path(path)
    fmt = rdf_format(path)
    if fmt not in OX_FORMATS:
        return []
    key = (str(path.resolve()), str(graph), hashlib.sha256(path.read_bytes()).hexdigest())
    if key not in _REWRITTEN:
        if len(_REWRITTEN) >= 256:
            _REWRITTEN.pop(next(iter(_REWRITTEN)))
        _REWRITTEN[key] = _rewritten_literals(store, path, graph, fmt)
    return copy.deepcopy(_REWRITTEN[key])


_REWRITTEN = {}   # (path, graph name, SHA-256 of the content) -> rewritten_literals' answer


def _rewritten_literals(store, path, graph, fmt):
    named = ox.NamedNode(str(graph))
    examples, rewritten = [], 0
    for q in ox.parse(path=str(path), format=OX_FORMATS[fmt], base_iri=path.resolve().as_uri()):
        o = q.object
        if not isinstance(o, ox.Literal) or o.language or o.datatype.value in _PLAIN \
                or isinstance(q.subject, ox.BlankNode):
            continue
        # (a membership test would not do: the store compares values, "01" matches "1")
        if any(x.object == o for x in store.quads_for_pattern(q.subject, q.predicate, None, named)):
            continue
        rewritten += 1
        if len(examples) < REWRITE_EXAMPLES:
            scratch = ox.Store()
            scratch.add(ox.Quad(q.subject, q.predicate, o))
            examples.append({"subject": q.subject.value, "predicate": q.predicate.value, "written": str(o),
                             "stored": str(next(iter(scratch)).object)})
    if fmt in ("turtle", "nt", "n3"):   # the parser lowers language tags already: look at the text
        text = path.read_bytes()
        for m in _UPPER_LANGUAGE.finditer(text):
            tag = m.group(1).decode("ascii")
            if tag != tag.lower():
                rewritten += 1
                if len(examples) < REWRITE_EXAMPLES:
                    line = text.count(b"\n", 0, m.start()) + 1
                    examples.append({"subject": None, "predicate": None, "written": f"@{tag} (line {line})",
                                     "stored": f"@{tag.lower()}"})
    return [{"file": str(graph), "count": rewritten, "examples": examples}] if rewritten else []


def _bulk_load(store, path, fmt, graph):
    try:
        store.bulk_load(path=str(path), format=OX_FORMATS[fmt], to_graph=graph, base_iri=path.resolve().as_uri())
    except SyntaxError as exc:
        message = str(exc).split(" (", 1)[0]
        raise LoadError(f"{fmt} syntax error: {message}", path=path, line=exc.lineno, column=exc.offset) from None
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot load: {exc}", path=path) from None


def count(store, graph=None):
    """Triples in a named graph, or in the default graph."""
    pattern = f"GRAPH <{graph.value}> {{ ?s ?p ?o }}" if graph is not None else "?s ?p ?o"
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))["n"].value)


# ---- sources that disagree ----------------------------------------------------------------------

def reconcile(store, order):
    """Keep one value per single-valued fact in the default graph; returns how many facts had more.

    The rule: the value stated by the input that comes first in build order wins: the ontology,
    then the bundled data files in path order, then added files in the order given. The other
    values stay in their files' named graphs; each is recorded in the graph DISCREPANCY_GRAPH,
    which the ``discrepancies`` query and ``hrkg validate`` read (finding them again at query time
    would scan every single-valued fact: 11 s at world scale).
    """
    rank = {name: i for i, name in enumerate(order)}
    functional = [r["p"] for r in store.query(
        "SELECT ?p WHERE { ?p a <http://www.w3.org/2002/07/owl#FunctionalProperty> FILTER(isIRI(?p)) }")]
    conflicts = 0
    for prop in functional:
        for row in store.query(f"SELECT ?s WHERE {{ ?s <{prop.value}> ?v }} GROUP BY ?s HAVING (COUNT(?v) > 1)"):
            conflicts += _keep_first(store, rank, row["s"], prop, None)
    types = " ".join(f"<{t}>" for t in EXCLUSIVE_TYPES)
    for row in store.query(f"SELECT ?s WHERE {{ VALUES ?c {{ {types} }} ?s a ?c }} GROUP BY ?s HAVING (COUNT(?c) > 1)"):
        conflicts += _keep_first(store, rank, row["s"], ox.NamedNode(RDF_TYPE), EXCLUSIVE_TYPES)
    return conflicts


def _keep_first(store, rank, subject, prop, among):
    """Keep the first input's value of one fact in the default graph and record the others in
    DISCREPANCIES: one node per (file stating the kept value, value set aside, file stating it)."""
    graphs = {}   # value -> the input graphs stating it
    for q in store.quads_for_pattern(subject, prop, None, None):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in rank:
            if among is None or q.object.value in among:
                graphs.setdefault(q.object, set()).add(q.graph_name)
    if len(graphs) < 2:
        return 0
    first = lambda value: min(rank[g.value] for g in graphs[value])  # noqa: E731
    keep = min(graphs, key=lambda value: (first(value), str(value)))
    record = ox.NamedNode(str(DISCREPANCY_GRAPH))
    term = lambda name: ox.NamedNode(HRKG + name)  # noqa: E731
    for value in graphs:
        if value == keep:
            continue
        store.remove(ox.Quad(subject, prop, value, DEFAULT))
        for source in sorted(graphs[keep], key=str):
            for other in sorted(graphs[value], key=str):
                node = ox.BlankNode()
                store.extend([ox.Quad(node, term(p), o, record) for p, o in (
                    ("discrepancyOf", subject), ("property", prop), ("value", keep), ("source", source),
                    ("otherValue", value), ("otherSource", other))])
    return 1


# ---- inference ----------------------------------------------------------------------------------

def materialise(store, files, progress):
    """Add the OWL RL entailments to the inferred graph; returns how many it holds."""
    target = INFERRED
    ontology_files = [Path(path) for path in files if "/graph/ontology/" in str(graph_name(path))]
    schema, property_rules, type_rules = _schema_and_rules(
        tuple((str(path), path.read_bytes()) for path in ontology_files))
    _add_inferred(store, schema, target)
    progress(f"inference: {len(schema):,} schema triples from owlrl")
    total, round_no = len(schema), 0

    def apply(rules, label):
        """Run ``rules`` in order, each seeing what the previous ones added; returns how many
        triples they added."""
        t0, before = time.monotonic(), count(store, target)
        for rule in rules:
            _apply_rule(store, rule, target)
        added = count(store, target) - before
        if added:
            progress(f"inference {label}: +{added:,} ({time.monotonic() - t0:.1f} s)")
        return added

    while True:   # property rules feed each other (inverse of a chain of an inverse...)
        round_no += 1
        added = apply(property_rules, f"round {round_no}")
        total += added
        if not added:
            break
    total += apply(type_rules, "types")   # types feed no property rule, so one pass
    total += apply(list(STATISTICS.values()), "statistics")
    progress(f"inference: {total:,} triples ({round_no} round(s) of property rules, then types)")
    return count(store, target)


def _apply_rule(store, rule, target):
    """Add what ``rule`` (an infer.Rule, or a CONSTRUCT query) derives to ``target`` and to the
    default graph, noise left out. A rule whose every triple is_noise would keep, but for blank
    nodes, runs as one SPARQL update inside the store (the inferred triples never become Python
    objects: a fill of the bundled data infers in 0.75 s instead of 1.2 s); any other runs as a
    CONSTRUCT whose triples _is_noise checks one by one."""
    if isinstance(rule, Rule):
        variable_object = rule.object.startswith("?")
        if never_noise(str(rule.predicate), None if variable_object else rule.object[1:-1]):
            keep = f"isIRI({rule.subject})" + (f" && !isBlank({rule.object})" if variable_object else "")
            store.update(f"INSERT {{ GRAPH <{target.value}> {{ {rule.template} }} {rule.template} }} "
                         f"WHERE {{ {rule.where} FILTER({keep}) }}", prefixes=PREFIX_MAP)
            return
        rule = rule.construct
    _add_inferred(store, [(t.subject, t.predicate, t.object) for t in store.query(rule, prefixes=PREFIX_MAP)
                          if not _is_noise(t)], target)


_SCHEMAS = {}     # ((graph name, content), ...) of the ontology files -> _schema_and_rules's answer


def _schema_and_rules(ontology_files):
    """(schema triples as pyoxigraph terms, property rules, type rules) of the ontology files given
    as ((path, content), ...): owlrl's closure of the ontology takes about a second, and a process
    that builds several graphs (the server's --data, the tests) builds them on the same ontology.
    Known by the files' graph names and contents, not their paths, so the same ontology in another
    folder (another install, a copy) is not closed again; an ontology whose relative IRIs resolve
    against its path (file: IRIs) is known by its paths too."""
    by_name = tuple((str(graph_name(path)), content) for path, content in ontology_files)
    by_path = (by_name, tuple(str(path) for path, _ in ontology_files))
    found = _SCHEMAS.get(by_name) or _SCHEMAS.get(by_path)
    if found is None:
        ontology = Graph()
        for path, _ in ontology_files:
            parse_file(path, ontology)
        closure = schema_closure(ontology)
        schema = tuple(tuple(to_ox(x) for x in t) for t in closure if not any(isinstance(x, BNode) for x in t))
        property_rules, type_rules = instance_rules(ontology, closure)
        found = schema, tuple(property_rules), tuple(type_rules)   # shared by every build of the process
        if len(_SCHEMAS) >= 4:
            _SCHEMAS.pop(next(iter(_SCHEMAS)))
        relative = any(str(x).startswith("file:") for t in ontology for x in t)
        _SCHEMAS[by_path if relative else by_name] = found
    return found


def fill_on_disk(files, location, scratch, *, codes_file=None, progress=None):
    """``fill`` for an on-disk store at ``location`` (``hrkg build``): build in memory, then write
    the result through the N-Quads file ``scratch`` (removed after) with pyoxigraph's bulk loader,
    and the graph's codes.CodeIndex tables to ``codes_file`` (JSON) when given.
    Returns fill's counts, with the seconds spent writing.

    Why build in memory: the build's rules read the store hundreds of times, and a store in memory
    answers them about three times faster than RocksDB on disk; the bulk loader then writes the
    result in one pass. The synthetic world (2.9 million triples) took 262 s built on disk and
    126 s this way, at a higher peak memory (README, Benchmarks). The in-memory store is released
    before the bulk loader takes its own memory (clearing it would keep its tables' capacity), so
    the peak is the larger of the two, not their sum."""
    progress = progress or Progress(quiet=True)
    store = ox.Store()
    counts = fill(store, files, progress=progress)
    t0 = time.monotonic()
    if codes_file is not None:
        import json
        from .codes import CodeIndex
        from .query import query_graphs
        tables = CodeIndex.from_store(store, query_graphs()).tables()
        Path(codes_file).write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    store.dump(output=str(scratch), format=ox.RdfFormat.N_QUADS)
    del store
    try:
        disk = ox.Store(str(location))
        disk.bulk_load(path=str(scratch), format=ox.RdfFormat.N_QUADS)
        disk.flush()
        disk.optimize()
        del disk
    finally:
        Path(scratch).unlink(missing_ok=True)
    seconds = counts["seconds"]
    seconds["write"] = round(time.monotonic() - t0, 2)
    seconds["total"] = round(seconds["total"] + seconds["write"], 2)
    progress(f"written to disk ({seconds['write']:.1f} s)")
    return counts


def asserted_quads(store):
    """The default graph's triples that no rule derived (pyoxigraph Quads in the default graph):
    what the inputs assert, each once, one value per single-valued fact."""
    for q in store.quads_for_pattern(None, None, None, DEFAULT):
        if ox.Quad(q.subject, q.predicate, q.object, INFERRED) not in store:
            yield q


def _add_inferred(store, triples, target):
    """Add to ``target`` (the inferred graph) and to the default graph the triples no input
    asserts and no rule has added yet (see the module docstring for why both)."""
    new = [(s, p, o) for s, p, o in triples if ox.Quad(s, p, o) not in store]
    store.extend([ox.Quad(s, p, o, g) for s, p, o in new for g in (target, DEFAULT)])


def _is_noise(triple):
    """infer.is_noise for a pyoxigraph triple, plus blank nodes (a rule's blank node is a new one
    each time); converts to rdflib only for the few triples the fast tests cannot decide."""
    s, p, o = triple.subject, triple.predicate, triple.object
    if isinstance(s, ox.BlankNode) or isinstance(o, ox.BlankNode):
        return True
    if isinstance(s, ox.NamedNode) and never_noise(p.value, o.value if isinstance(o, ox.NamedNode) else None):
        return False
    return is_noise((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
