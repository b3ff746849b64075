"""KnowledgeGraph: the small facade over one backend that answers SPARQL, and the stored queries.

A backend has two methods: ``run(text, bindings=None, *, max_triples=None)`` answers query text
with parameter bindings as a query.Result, and ``code_index()`` gives the codes.CodeIndex of the
graph it holds. There are two:

- ``LocalBackend``: a pyoxigraph store filled by build.fill, in memory (``KnowledgeGraph.open``:
  the bundled data plus files given for one run, the library, the tests) or on disk
  (``KnowledgeGraph.open_store``: what ``hrkg build`` made). Queries, validation and exports read
  the same layout either way (see build.py): the default graph the queries see, one named graph
  per input file, the inferred graph apart.
- ``remote.Endpoint``: a SPARQL 1.1 endpoint the graph was published to
  (``KnowledgeGraph.remote(url)``); it answers ``query`` and ``sparql`` and never opens, builds or
  reads the local store. Validation, export and the rdflib views need the local store.

Either way parameters are checked by query.bind_parameters and codes resolve through the code
index of the graph that answers.
"""
import sys
from functools import cached_property
from pathlib import Path

from .errors import StoreError, UsageError
from .load import INFERRED_IRI as INFERRED, file_of_graph
from .progress import Progress
from .query import QueryCatalog, bind_parameters, query_graphs, run_sparql_store


class LocalBackend:
    """The local backend: a pyoxigraph store laid out by build.fill; ``codes_file``, the code
    index ``hrkg build`` wrote beside an on-disk store (read instead of the store's names when
    it is there; a store built before it was written has none)."""

    def __init__(self, store, codes_file=None):
        self.store = store
        self.codes_file = codes_file

    def run(self, text, bindings=None, *, max_triples=None):
        return run_sparql_store(self.store, text, bindings, max_triples=max_triples)

    def code_index(self):
        from .codes import CodeIndex
        if self.codes_file is not None and self.codes_file.is_file():
            import json
            return CodeIndex.from_tables(json.loads(self.codes_file.read_text(encoding="utf-8")))
        return CodeIndex.from_store(self.store, query_graphs())

    def close(self):
        pass


class KnowledgeGraph:
    """The graph in a pyoxigraph ``store`` described by ``manifest`` (build.fill's counts and the
    inputs), or on a remote ``backend`` (``KnowledgeGraph.remote``), with the stored queries.

    >>> kg = KnowledgeGraph.open()                                 # doctest: +SKIP
    >>> kg.query("treaty-status", {"state": "VNM"}).as_dicts()[0]  # doctest: +SKIP
    """

    def __init__(self, store=None, manifest=None, *, queries=None, backend=None):
        if (store is None) == (backend is None):
            raise TypeError("KnowledgeGraph needs a store or a backend")
        self._store = store
        self.manifest = manifest if manifest is not None else {}
        if backend is None:
            codes_file = None
            if self.manifest.get("path"):     # the build folder of an on-disk store
                from .store import CODES
                codes_file = Path(self.manifest["path"]) / CODES
            backend = LocalBackend(store, codes_file)
        self.backend = backend
        self.catalog = queries or QueryCatalog()

    @classmethod
    def remote(cls, url, *, timeout=60.0, client=None, queries=None):
        """The graph published on the SPARQL 1.1 endpoint ``url`` (see remote.publish): ``query``
        and ``sparql`` answer there, codes resolve through the endpoint's own graph (read once, on
        the first code parameter), and nothing local is opened or built. ``timeout`` in seconds per
        request; ``client``: an httpx.Client to share. UsageError for a URL that is not http(s);
        RemoteError (exit 3) when the endpoint is unreachable, times out or fails."""
        from .remote import Endpoint
        return cls(queries=queries, backend=Endpoint(url, timeout=timeout, client=client))

    def close(self):
        """Release what the backend holds open (a remote endpoint's HTTP connection)."""
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def store(self):
        """The pyoxigraph store (UsageError on a remote graph, which has none)."""
        if self._store is None:
            raise UsageError(f"the graph on {getattr(self.backend, 'url', self.backend)} is remote: it answers query and sparql; "
                             "validation, export, statistics and search need the local store")
        return self._store

    @classmethod
    def open(cls, paths=None, *, include_bundle=True, include_ontology=False, reason=True, queries=None,
             progress=None, use_cache=None):
        """The bundled ontology and data (or only the ontology with ``include_ontology``) plus
        ``paths``, built into an in-memory store. Raises LoadError on a bad file.
        ``use_cache`` is accepted for compatibility; building in memory takes about a second."""
        import pyoxigraph as ox
        from .build import fill
        from .load import default_files, expand_paths
        from .resources import bundle_files
        from .store import describe_inputs, store_key
        bundled = list(default_files()) if include_bundle else (
            list(bundle_files("ontology", ".ttl")) if include_ontology else [])
        files = bundled + expand_paths(paths or ())
        inputs = describe_inputs(files, bundled)
        store = ox.Store()
        manifest = fill(store, files, infer=reason, progress=progress)
        manifest.update(inputs=inputs, fingerprint=store_key(inputs) if reason else None, path=None)
        return cls(store, manifest, queries=queries)

    @classmethod
    def open_store(cls, location=None, *, build_if_needed=True, rebuild=False, progress=None, queries=None):
        """Open the built store at ``location`` (default store.default_location()).

        With ``build_if_needed``, a missing store is built from the bundled data, and a store built
        from other bundled data is rebuilt first when it has no added inputs (a few seconds). A
        store whose added inputs changed or went missing keeps answering, with a warning that says
        how to rebuild; ``rebuild`` rebuilds it with them instead. Raises StoreError if there is
        no usable store and building is not allowed or would need the added inputs.
        """
        from . import store as store_mod
        progress = progress or Progress(quiet=True)
        location = Path(location or store_mod.default_location())
        if location.is_dir():
            store_mod.remove_leftovers(location)
        current = store_mod.current_build(location)
        if current is None:
            if not build_if_needed:
                raise StoreError(f"{location}: no store built yet; run 'hrkg build'")
            progress(f"building the store at {location} (first run)")
            store_mod.build(None, location, progress=progress)
        elif build_if_needed or rebuild:
            cls._refresh(location, store_mod.read_manifest(current), rebuild, progress)
        store, manifest = store_mod.open_store(location)
        return cls(store, manifest, queries=queries)

    @staticmethod
    def _refresh(location, manifest, rebuild, progress):
        """Rebuild an out-of-date store when that is quick and safe, else warn (see open_store)."""
        from . import store as store_mod
        known = "inputs" in manifest and all("bundled" in i for i in manifest["inputs"])
        stale = store_mod.staleness(manifest) if known else {"format": True, "bundled": None, "extra": []}
        extra = store_mod.extra_inputs(manifest) if known else None
        reasons = (["it was built by another version of hrkg"] if stale["format"] else []) + \
            ([stale["bundled"]] if stale["bundled"] else []) + stale["extra"]
        if not reasons:
            return
        if extra == [] or (rebuild and extra is not None):
            progress(f"{'; '.join(reasons)}; rebuilding the store at {location}")
            store_mod.build(extra, location, force=True, progress=progress)
        elif stale["format"]:
            raise StoreError(f"{location}: {reasons[0]}; rebuild it with 'hrkg build' and the files it was built "
                             f"from{' (' + ' '.join(extra) + ')' if extra else ''}, or pass --rebuild")
        else:
            print(f"hrkg: warning: the store at {location} is out of date ({'; '.join(reasons)}); answering "
                  f"from it as built. Rebuild with: hrkg build {' '.join(extra)} (or pass --rebuild)", file=sys.stderr)

    # -- what is in it -------------------------------------------------------------------
    @property
    def files(self):
        return [Path(i["path"]) for i in self.manifest.get("inputs", [])]

    @property
    def engine(self):
        """The pyoxigraph store that answers every query."""
        return self.store

    @cached_property
    def graph(self):
        """The graph the queries see (asserted and inferred, each triple once: the store's default
        graph) as a read-only rdflib graph over the store: the library API and the reference
        validator read it through oxrdflib."""
        from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
        return self._named(DATASET_DEFAULT_GRAPH_ID)

    @cached_property
    def asserted(self):
        """What the input files assert, each triple once, one value per single-valued fact
        (build.reconcile): the default graph less the inferred one, copied into an in-memory
        rdflib Graph (the library API and the tests; a world-scale store is better read with
        build.asserted_quads)."""
        from rdflib import Graph
        from .build import asserted_quads
        from .terms import to_rdflib
        graph = Graph()
        for q in asserted_quads(self.store):
            graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        return graph

    @property
    def dataset(self):
        """The same Dataset as ``graph`` (the name earlier versions used)."""
        return self.graph

    @cached_property
    def _rdflib_store(self):
        return _rdflib_store(self.store)

    def _named(self, name):
        # a Graph on the store, not Dataset.graph(name), which would add the graph to a read-only store
        from rdflib import Graph, URIRef
        return Graph(store=self._rdflib_store, identifier=URIRef(name))

    @cached_property
    def inferred(self):
        """The triples OWL RL inference added (an rdflib Graph over the store's inferred graph)."""
        return self._named(INFERRED)

    def asserted_graphs(self):
        """One rdflib Graph per input file, in build order."""
        return [self._named(name) for name in self.manifest["graphs"]]

    @cached_property
    def codes(self):
        """The codes.CodeIndex of the graph (read from the backend on first use)."""
        return self.backend.code_index()

    # -- steps -------------------------------------------------------------------------
    def query(self, name, params=None):
        """Run stored query ``name`` with string parameters; returns a query.Result."""
        stored = self.catalog.get(name)
        bindings = bind_parameters(stored, dict(params or {}), lambda: self.codes)
        return self.backend.run(stored.text, bindings)

    def sparql(self, text, *, max_triples=None):
        """Any SPARQL query; a CONSTRUCT or DESCRIBE stops after ``max_triples`` + 1 triples."""
        return self.backend.run(text, max_triples=max_triples)

    def validate(self, shapes=None, *, include_inferred=False, engine="compiled"):
        """SHACL-validate what every input file asserts (plus the inferred triples if asked), and
        warn about every fact two inputs give different values for (the discrepancies query; see
        ValidationReport.add_discrepancies).

        Asserted only by default: with OWL RL triples added, an rdfs:range makes any object an
        instance of the expected class, so sh:class constraints could no longer fail.
        ``engine``: "compiled" (shacl/engine.py: the shapes as a few SPARQL queries on the store,
        fast at world scale) or "pyshacl" (the reference it is tested against).
        """
        import pyoxigraph as ox
        store = self.store   # UsageError on a remote graph
        # every file's claims: their union, which is the asserted set exactly when no fact had two
        # values; one graph validates two to three times faster than a list of them
        one_value_each = self.manifest.get("discrepancies", 1) == 0
        if include_inferred and one_value_each:   # the union plus the inferred: the default graph
            graphs = [ox.DefaultGraph()]
        else:
            graphs = [ox.NamedNode(name) for name in self.manifest["graphs"]]
            graphs += [ox.NamedNode(INFERRED)] if include_inferred else []
        if engine == "pyshacl":
            from rdflib import Graph
            from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
            from .shacl.reference import validate
            data = Graph()
            for g in graphs:
                for triple in self._named(DATASET_DEFAULT_GRAPH_ID if isinstance(g, ox.DefaultGraph) else g.value):
                    data.add(triple)
            report = validate(data, shapes, file_of=self.file_of())
        else:
            from .shacl.engine import validate_store
            if not include_inferred and one_value_each:
                # the union copied into the default graph of a store in memory: one graph, not a
                # list of one per file, which pyoxigraph merges per pattern; at world scale 32 s to
                # copy + 21 s to validate (peak 2.2 GB) against 127 s over the list
                store, graphs = _union_in_memory(store, graphs), [ox.DefaultGraph()]
            report = validate_store(store, shapes, data_graphs=graphs, file_of=self.file_of())
        conflicts = self.query("discrepancies")
        report.add_discrepancies([dict(zip(conflicts.vars, row)) for row in conflicts.rows])
        report.add_rewritten_literals(self.manifest.get("rewritten_literals", []))
        return report

    def file_of(self):
        return _FileOfStore(self.store)

    def export(self, fmt, *, include_inferred=False, jsonld_context="url"):
        """The graph as text in ``fmt`` (see export.py), one named graph per file in TriG/N-Quads."""
        import io
        from .export import export_graph
        self.store   # UsageError on a remote graph
        out = io.BytesIO()
        export_graph(self, fmt, out, include_inferred=include_inferred, jsonld_context=jsonld_context)
        return out.getvalue().decode("utf-8")

    def stats(self):
        """Counts a user wants at a glance."""
        self.store   # UsageError on a remote graph (its manifest is unknown)
        rows = {"files": len(self.manifest["graphs"]),
                "asserted triples": self.manifest["asserted_triples"],
                "inferred triples": self.manifest["inferred_triples"],
                "discrepancies": self.manifest.get("discrepancies", 0)}
        counts = self.sparql(STATS_QUERY).as_dicts()[0]
        rows.update({k.replace("_", " "): int(v) for k, v in counts.items()})
        rows["stored queries"] = len(self.catalog.names())
        return rows


# kept for callers of earlier versions: every KnowledgeGraph is a store now
StoredKnowledgeGraph = KnowledgeGraph


def _union_in_memory(store, graphs):
    """A store in memory whose default graph holds the triples of ``graphs`` of ``store``, each once
    (the same terms, blank nodes included)."""
    import pyoxigraph as ox
    union = ox.Store()
    for graph in graphs:
        union.extend([ox.Quad(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph)])
    return union


def _rdflib_store(store):
    """oxrdflib's view of a pyoxigraph store, giving "x" (not "x"^^xsd:string, which rdflib tells
    apart from it) for plain strings, as an rdflib parser would."""
    from oxrdflib import OxigraphStore
    from rdflib import Literal
    from rdflib.namespace import XSD

    class Store(OxigraphStore):
        def triples(self, pattern, context=None):
            for (s, p, o), graphs in super().triples(pattern, context):
                if isinstance(o, Literal) and o.datatype == XSD.string:
                    o = Literal(str(o))
                yield (s, p, o), graphs

    return Store(store=store)


class _FileOfStore:
    """file_of() for a store: looks a subject's file up only when asked (a full map of millions
    of subjects would cost more than the validation report that needs a few)."""

    def __init__(self, store):
        self.store = store

    def get(self, iri, default=None):
        import pyoxigraph as ox
        if not iri or not iri.startswith(("http://", "https://", "urn:", "file:")):
            return default
        query = f"SELECT ?g ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED}>) }} ORDER BY ?g LIMIT 1"
        for row in self.store.query(query, substitutions={ox.Variable("s"): ox.NamedNode(iri)}):
            return file_of_graph(row["g"].value)
        return default


STATS_QUERY = """
SELECT
  (COUNT(DISTINCT ?state) AS ?states)
  (COUNT(DISTINCT ?instrument) AS ?instruments)
  (COUNT(DISTINCT ?action) AS ?treaty_actions)
  (COUNT(DISTINCT ?review) AS ?upr_reviews)
  (COUNT(DISTINCT ?rec) AS ?upr_recommendations)
  (COUNT(DISTINCT ?source) AS ?sources)
WHERE {
  { ?state a hrkg:State } UNION { ?instrument a hrkg:Instrument } UNION
  { ?action a hrkg:TreatyAction } UNION { ?review a hrkg:UPRReview } UNION
  { ?rec a hrkg:Recommendation } UNION { ?source a hrkg:Source }
}
"""
