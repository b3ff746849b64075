"""pySHACL, the reference validator: what the compiled engine is tested against
(tests/test_shacl_sparql.py), and ``hrkg validate --engine pyshacl``."""
import pyshacl
from rdflib.namespace import SH

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
    _, report_graph, _ = pyshacl.validate(
        data_graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        abort_on_first=False, meta_shacl=False, inplace=no_rules)
    return report_from_graph(
        report_graph, lambda focus: label_in(data_graph, focus), file_of=file_of)


def label_in(graph, node):
    """The node's first label by LABEL_PROPERTIES, English preferred, or None."""
    for prop in LABEL_PROPERTIES:
        labels = sorted(graph.objects(node, prop), key=lambda l: (getattr(l, "language", None) != "en", str(l)))
        if labels:
            return labels[0]
    return None
