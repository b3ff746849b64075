"""The compiled engine's results as a SHACL validation report graph, shaped like pyshacl's (same
blank-node copies of shapes and data, same messages), so report.report_from_graph reads both alike."""
import re

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from .shapes import ALLOWED_SEVERITIES, _qname


def _report_graph(raws, shapes, evaluator):
    """The SHACL validation report graph, shaped like pyshacl's."""
    report = Graph(bind_namespaces="core")
    for prefix, namespace in shapes.graph.namespace_manager.namespaces():
        report.namespace_manager.bind(prefix, namespace)
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    conforms = not any(r.shape.severity not in ALLOWED_SEVERITIES for r in raws)
    report.add((root, SH.conforms, Literal(conforms)))
    copied, blanks = set(), set()
    for raw in raws:
        report.add((root, SH.result, _add_result(report, raw, shapes, evaluator, copied, blanks)))
    return report


def _add_result(report, raw, shapes, evaluator, copied, blanks):
    node = BNode()
    shape = raw.shape
    add = report.add
    add((node, RDF.type, SH.ValidationResult))
    add((node, SH.sourceConstraintComponent, raw.component))
    add((node, SH.sourceShape, _copy(shapes.graph, shape.node, report, copied)))
    add((node, SH.resultSeverity, shape.severity))
    add((node, SH.focusNode, _data_term(raw.focus, report, evaluator, blanks)))
    if raw.value is not None:
        add((node, SH.value, _data_term(raw.value, report, evaluator, blanks)))
    path = raw.path if raw.path is not None else shape.path
    if path is not None:
        term = _data_term(path, report, evaluator, blanks) if not isinstance(path, (URIRef, BNode)) else \
            _copy(shapes.graph, path, report, copied)
        add((node, SH.resultPath, term))
    if raw.constraint is not None:
        add((node, SH.sourceConstraint, _copy(shapes.graph, raw.constraint, report, copied)))
    for message in _messages(raw, shapes, evaluator):
        add((node, SH.resultMessage, message))
    for detail in raw.details:
        add((node, SH.detail, _add_result(report, detail, shapes, evaluator, copied, blanks)))
    return node


def _messages(raw, shapes, evaluator):
    """The result messages, as pyshacl's make_v_result writes them."""
    messages = list(raw.shape.messages)
    extra = shapes.sparql[raw.constraint].messages if raw.constraint is not None else []
    out = []
    if extra:
        out += [_format(m, raw, evaluator) for m in extra if m not in messages]
    elif not messages:
        return [Literal(_generic_message(raw, shapes))]
    return out + [_format(m, raw, evaluator) for m in messages]


def _format(message, raw, evaluator):
    if raw.bound is None:
        return message
    values = {}
    if isinstance(raw.bound, dict):
        values.update(raw.bound)
    else:
        t, p, v, rest = raw.bound
        values.update(rest)
        values.update({k: x for k, x in (("this", t), ("path", p), ("value", v)) if x is not None})
    text = str(message.value) if isinstance(message, Literal) else str(message)
    for name, value in values.items():
        text = re.sub("{{[?$]{}}}".format(name), str(evaluator.rdflib(value)), text)
    return Literal(text)


def _generic_message(raw, shapes):
    g = shapes.graph
    path = _qname(raw.shape.path, g) if isinstance(raw.shape.path, URIRef) else "its path"
    c = raw.component
    names = {SH.MinCountConstraintComponent: f"Less than {raw.shape.count(SH.minCount)} values on {path}",
             SH.MaxCountConstraintComponent: f"More than {raw.shape.count(SH.maxCount)} values on {path}",
             SH.ClassConstraintComponent: "Value does not have class " +
                                          ", ".join(_qname(x, g) for x in raw.shape.values(SH["class"])),
             SH.DatatypeConstraintComponent: f"Value is not Literal with datatype {_qname(raw.shape.one(SH.datatype), g)}",
             SH.NodeKindConstraintComponent: f"Value is not of Node Kind {_qname(raw.shape.one(SH.nodeKind), g)}",
             SH.HasValueConstraintComponent: f"Node {path} does not contain the required value",
             SH.PatternConstraintComponent: _pattern_message(raw.shape)}
    return names.get(c, f"Value does not conform to {_qname(c, g)}")


def _pattern_message(shape):
    patterns = [str(p) for p in shape.values(SH.pattern)]
    if len(patterns) == 1:
        return f"Value does not match pattern '{patterns[0]}'"
    return "Value does not match every pattern in ('{}')".format("', '".join(patterns))


def _copy(source, node, target, copied):
    """Copy a blank node of the shapes graph with everything below it (pyshacl keeps its id)."""
    if isinstance(node, BNode) and node not in copied:
        copied.add(node)
        for p, o in source.predicate_objects(node):
            target.add((node, p, o))
            _copy(source, o, target, copied)
    return node


def _data_term(term, report, evaluator, blanks):
    if isinstance(term, ox.BlankNode):
        evaluator.describe_blank(term, report, blanks)
    return evaluator.rdflib(term)


def _flatten(raws):
    for r in raws:
        yield r
        yield from _flatten(r.details)
