"""KnowledgeGraph: the small facade that chains load -> infer -> validate / query / export."""
import hashlib
import os
from functools import cached_property
from pathlib import Path

from rdflib import BNode, Dataset, Graph

from . import __version__
from .codes import CodeIndex
from .export import export
from .infer import infer
from .load import INFERRED_GRAPH, default_files, load
from .query import QueryCatalog, bind_parameters, run_sparql
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
        return run_sparql(self.graph, stored.prepared, bindings)

    def sparql(self, text):
        return run_sparql(self.graph, text)

    def validate(self, shapes=None, *, include_inferred=False):
        """SHACL-validate the asserted triples (plus the inferred ones if asked).

        Asserted only by default: with OWL RL triples added, an rdfs:range makes any object an
        instance of the expected class, so sh:class constraints could no longer fail.
        """
        data = Graph()
        for g in self.asserted_graphs():
            for t in g:
                data.add(t)
        if include_inferred:
            for t in self.inferred:
                data.add(t)
        return validate(data, shapes, file_of=self.file_of())

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
        counts = run_sparql(self.graph, STATS_QUERY).as_dicts()[0]
        rows.update({k.replace("_", " "): int(v) for k, v in counts.items()})
        rows["stored queries"] = len(self.catalog.names())
        return rows


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
