"""pySHACL, the reference validator: what the compiled engine is tested against
(tests/test_shacl_sparql.py), and ``hrkg validate --engine pyshacl``."""
import functools

import pyshacl
from rdflib import Graph
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery

from .report import LABEL_PROPERTIES, report_from_graph
from .shapes import load_shapes


def validate(data_graph, shapes=None, *, file_of=None):
    """Validate ``data_graph`` (ontology + data, optionally + inferred) and return a report.

    ``file_of`` maps a focus-node IRI to the file that defines it, for messages.
    """
    shapes = shapes if shapes is not None else load_shapes()
    # advanced=True makes pyshacl copy the data graph first, for SHACL rules to write into; with
    # no rules and no inference nothing is written, and the copy was a seventh of its time
    no_rules = (None, SH.rule, None) not in shapes
    data = _PreparedQueries.over(data_graph) if no_rules else data_graph
    _, report_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        abort_on_first=False, meta_shacl=False, inplace=no_rules)
    return report_from_graph(
        report_graph, lambda focus: label_in(data_graph, focus), file_of=file_of)


class _PreparedQueries(Graph):
    """A plain rdflib graph read through a view (the same store, no copy) whose SPARQL queries are
    parsed once per text and prefixes. pySHACL runs each SPARQL constraint and target as the same
    text for every shape and focus node ($this is bound, not written in), and rdflib parses the
    text again on each call: 58% of pySHACL's time on a shape fixture. A parsed query
    (rdflib's prepareQuery) is evaluated as the text would be."""

    @classmethod
    def over(cls, graph):
        if type(graph) is not Graph:    # a Dataset, a graph of another kind: as it is
            return graph
        return cls(store=graph.store, identifier=graph.identifier, namespace_manager=graph.namespace_manager)

    def query(self, query_object, processor="sparql", result="sparql", initNs=None, initBindings=None,  # noqa: N803
              use_store_provided=True, **kwargs):
        if isinstance(query_object, str) and processor == "sparql":
            namespaces = initNs or dict(self.namespaces())
            query_object = _prepared(query_object, tuple(sorted((k, str(v)) for k, v in namespaces.items())))
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


@functools.lru_cache(maxsize=512)
def _prepared(text, namespaces):
    return prepareQuery(text, initNs=dict(namespaces))


def label_in(graph, node):
    """The node's first label by LABEL_PROPERTIES, English preferred, or None."""
    for prop in LABEL_PROPERTIES:
        labels = sorted(graph.objects(node, prop), key=lambda l: (getattr(l, "language", None) != "en", str(l)))
        if labels:
            return labels[0]
    return None
