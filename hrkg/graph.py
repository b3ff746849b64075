"""KnowledgeGraph: the small facade that chains load -> infer -> validate / query / export."""
import hashlib
import os
from functools import cached_property
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD

from . import __version__
from .codes import CodeIndex
from .export import export
from .infer import infer, statistics
from .namespaces import PREFIXES
from .load import INFERRED_GRAPH, default_files, load
from .query import QueryCatalog, bind_parameters, run_sparql_store
from .shacl_sparql import validate_graph, validate_store
from .validate import validate

try:
    import owlrl
    _OWLRL_VERSION = getattr(owlrl, "__version__", "?")
except ImportError:  # pragma: no cover
    _OWLRL_VERSION = "?"


def cache_dir():
    """Where inferred triples are cached: $HRKG_CACHE_DIR, else ~/.cache/hrkg."""
    root = os.environ.get("HRKG_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hrkg"
    return Path(root)


class KnowledgeGraph:
    """Asserted triples (one named graph per file), inferred triples apart, and the stored queries.

    >>> kg = KnowledgeGraph.open()                                 # doctest: +SKIP
    >>> kg.query("treaty-status", {"state": "VNM"}).as_dicts()[0]  # doctest: +SKIP
    """

    def __init__(self, dataset, files, *, reason=True, use_cache=True, queries=None):
        self.dataset = dataset
        self.files = [Path(f) for f in files]
        self.reason = reason
        self.use_cache = use_cache
        self.catalog = queries or QueryCatalog()

    @classmethod
    def open_store(cls, location=None, *, build_if_needed=True, progress=None, queries=None):
        """Open the built store at ``location`` (default store.default_location()).

        With ``build_if_needed`` a missing store is built from the bundled data, and a store whose
        inputs changed since it was built is rebuilt from the same inputs first (like make).
        Raises StoreError if there is no usable store and building is not allowed.
        """
        from . import store as store_mod
        location = Path(location or store_mod.default_location())
        current = store_mod.current_build(location)
        if build_if_needed:
            if current is None:
                (progress or (lambda m: None))(f"building the store at {location} (first run)")
                store_mod.build(None, location, progress=progress)
            else:
                manifest = store_mod.read_manifest(current)
                reason = store_mod.stale_reason(manifest)
                if reason:
                    (progress or (lambda m: None))(f"{reason}; rebuilding the store at {location}")
                    store_mod.build(store_mod.extra_inputs(manifest), location, force=True, progress=progress)
        store, manifest = store_mod.open_store(location)
        return StoredKnowledgeGraph(store, manifest, queries=queries)

    @classmethod
    def open(cls, paths=None, *, include_bundle=True, reason=True, use_cache=True, queries=None):
        """Load the bundled ontology and data plus ``paths``. Raises LoadError on a bad file."""
        dataset = load(paths, include_bundle=include_bundle)
        files = (list(default_files()) if include_bundle else []) + [Path(p) for p in paths or ()]
        return cls(dataset, files, reason=reason, use_cache=use_cache, queries=queries)

    # -- inference ---------------------------------------------------------------------
    def fingerprint(self):
        """SHA-256 over the input files' content and the tool versions; names the inference cache."""
        digest = hashlib.sha256(f"hrkg {__version__} owlrl {_OWLRL_VERSION}\n".encode())
        for f in self.files:
            for path in sorted(f.rglob("*")) if f.is_dir() else [f]:
                if path.is_file():
                    digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    @cached_property
    def inferred(self):
        """Triples OWL RL adds to the asserted ones (cached on disk by input fingerprint)."""
        if not self.reason:
            return Graph()
        cache = cache_dir() / f"inferred-{self.fingerprint()}.nt"
        if self.use_cache and cache.is_file():
            graph = Graph()
            graph.parse(cache, format="nt")
            return graph
        graph = infer(self.dataset)
        union = Graph()
        for t in self.dataset.triples((None, None, None)):
            union.add(t)
        union += graph
        graph += statistics(union, PREFIXES)
        # triples about blank nodes (OWL list cells) cannot be matched to the asserted ones again
        for t in [t for t in graph if any(isinstance(x, BNode) for x in t)]:
            graph.remove(t)
        if self.use_cache:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(graph.serialize(format="nt"), encoding="utf-8")
                os.replace(tmp, cache)
            except OSError:
                pass  # a read-only home is no reason to fail; we just infer again next time
        return graph

    @cached_property
    def graph(self):
        """Asserted + inferred, as one dataset (default graph = union) for querying."""
        if self.reason and len(self.inferred):
            named = self.dataset.graph(INFERRED_GRAPH)
            for t in self.inferred:
                named.add(t)
        return self.dataset

    @cached_property
    def codes(self):
        return CodeIndex(self.graph)

    # -- steps -------------------------------------------------------------------------
    def query(self, name, params=None):
        """Run stored query ``name`` with string parameters; returns a query.Result."""
        stored = self.catalog.get(name)
        bindings = bind_parameters(stored, dict(params or {}), self.codes)
        return run_sparql_store(self.engine, stored.text, bindings)

    def sparql(self, text):
        return run_sparql_store(self.engine, text)

    @cached_property
    def engine(self):
        """An in-memory Oxigraph store of the asserted and inferred triples, which answers the
        queries: one SPARQL engine for every path (rdflib's evaluator differs on sub-SELECTs
        nested in OPTIONAL and is 20-1000x slower; benchmarks/ compares the two)."""
        import pyoxigraph as ox
        from .store import to_ox
        store = ox.Store()
        for g in self.asserted_graphs() + ([self.inferred_named()] if self.reason else []):
            name = ox.NamedNode(str(g.identifier))
            store.extend([ox.Quad(to_ox(s), to_ox(p), to_ox(o), name) for s, p, o in g])
        return store

    def inferred_named(self):
        graph = Graph(identifier=INFERRED_GRAPH)
        graph += self.inferred
        return graph

    def validate(self, shapes=None, *, include_inferred=False, engine="compiled"):
        """SHACL-validate the asserted triples (plus the inferred ones if asked).

        Asserted only by default: with OWL RL triples added, an rdfs:range makes any object an
        instance of the expected class, so sh:class constraints could no longer fail.
        ``engine``: "compiled" (shacl_sparql.py: the shapes as a few SPARQL queries on Oxigraph,
        fast at world scale) or "pyshacl" (the reference it is tested against).
        """
        data = Graph()
        for g in self.asserted_graphs():
            for t in g:
                data.add(t)
        if include_inferred:
            for t in self.inferred:
                data.add(t)
        if engine == "pyshacl":
            return validate(data, shapes, file_of=self.file_of())
        return validate_graph(data, shapes, file_of=self.file_of())

    def asserted_graphs(self):
        """The non-empty named graphs of the input files; never the inferred graph, which
        ``graph`` adds to the same dataset."""
        return [g for g in self.dataset.graphs() if g.identifier != INFERRED_GRAPH and len(g)]

    def file_of(self):
        """Map each subject IRI to the file (named graph) that first asserts it."""
        where = {}
        for g in self.asserted_graphs():
            name = str(g.identifier)
            for s in set(g.subjects()):
                where.setdefault(str(s), name.rsplit("/graph/", 1)[-1])
        return where

    def export(self, fmt, *, include_inferred=False):
        asserted = Dataset(default_union=True)
        for g in self.asserted_graphs():
            target = asserted.graph(g.identifier)
            for t in g:
                target.add(t)
        return export(asserted, fmt, inferred_graph=self.inferred if include_inferred else None,
                      include_inferred=include_inferred)

    def stats(self):
        """Counts a user wants at a glance."""
        asserted = self.asserted_graphs()
        rows = {
            "files": len(asserted),
            "asserted triples": sum(len(g) for g in asserted),
            "inferred triples": len(self.inferred),
        }
        counts = self.sparql(STATS_QUERY).as_dicts()[0]
        rows.update({k.replace("_", " "): int(v) for k, v in counts.items()})
        rows["stored queries"] = len(self.catalog.names())
        return rows


class StoredKnowledgeGraph(KnowledgeGraph):
    """The same API over a built pyoxigraph store (see store.py): nothing is parsed or inferred
    when it opens; queries run in pyoxigraph, rdflib sees the store through oxrdflib."""

    def __init__(self, store, manifest, *, queries=None):
        from oxrdflib import OxigraphStore
        dataset = Dataset(store=OxigraphStore(store=store), default_union=True)
        super().__init__(dataset, [Path(i["path"]) for i in manifest["inputs"]], queries=queries)
        self.store = store
        self.manifest = manifest

    def _named(self, name):
        # not dataset.graph(name): oxrdflib would try to add the graph to the read-only store
        return Graph(store=self.dataset.store, identifier=URIRef(name))

    @cached_property
    def inferred(self):
        return self._named(INFERRED_GRAPH)

    @cached_property
    def graph(self):
        return self.dataset

    @property
    def engine(self):
        return self.store

    def asserted_graphs(self):
        return [self._named(name) for name in self.manifest["graphs"]]

    def validate(self, shapes=None, *, include_inferred=False, engine="compiled"):
        """As KnowledgeGraph.validate, reading the store's named graphs where they are (pyshacl
        reads them through oxrdflib, one triple pattern at a time: minutes at world scale)."""
        if engine == "pyshacl":
            data = Graph()
            for g in self.asserted_graphs() + ([self.inferred] if include_inferred else []):
                for s, p, o in g:
                    # oxrdflib gives "AG"^^xsd:string, which rdflib (so sh:in) tells from "AG"
                    if isinstance(o, Literal) and o.datatype == XSD.string:
                        o = Literal(str(o))
                    data.add((s, p, o))
            return validate(data, shapes, file_of=self.file_of())
        graphs = list(self.manifest["graphs"]) + ([str(INFERRED_GRAPH)] if include_inferred else [])
        return validate_store(self.store, shapes, data_graphs=graphs, file_of=self.file_of())

    def file_of(self):
        return _FileOfStore(self.store)

    def stats(self):
        rows = {"files": len(self.manifest["graphs"]),
                "asserted triples": self.manifest["asserted_triples"],
                "inferred triples": self.manifest["inferred_triples"]}
        counts = self.sparql(STATS_QUERY).as_dicts()[0]
        rows.update({k.replace("_", " "): int(v) for k, v in counts.items()})
        rows["stored queries"] = len(self.catalog.names())
        return rows


class _FileOfStore:
    """file_of() for a store: looks a subject's file up only when asked (a full map of millions
    of subjects would cost more than the validation report that needs a few)."""

    def __init__(self, store):
        self.store = store

    def get(self, iri, default=None):
        import pyoxigraph as ox
        if not iri or not iri.startswith(("http://", "https://", "urn:", "file:")):
            return default
        query = f"SELECT ?g ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }} LIMIT 1"
        for row in self.store.query(query, substitutions={ox.Variable("s"): ox.NamedNode(iri)}):
            return row["g"].value.rsplit("/graph/", 1)[-1]
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
