"""Fast SHACL validation: hrkg's shapes compiled to SPARQL queries run on a pyoxigraph store.

pySHACL evaluates every constraint once per focus node, in Python over rdflib; at world scale
(200,000 recommendations) that takes many minutes. Here each constraint of each shape becomes one
SELECT query that finds all its violations across the data in one pass: the shape's targets are
joined in, counts use GROUP BY/HAVING or NOT EXISTS, sh:class tests the value's types against the
subclass closure, SPARQL-based constraints run once with their SHACL-AF target joined in instead of
once per focus node.

The results are those of ``hrkg.shacl.reference.validate`` (pyshacl with inference="none", advanced=True,
allow_warnings=True): same focus nodes, result paths, values, source shapes, constraint
components, severities and messages, as tests/test_shacl_sparql.py shows for every shape fixture
and the bundled data. Two value checks are pyshacl's Python semantics, not SPARQL's, and run in
Python on the distinct values a query returns: sh:datatype's ill-typed literals (rdflib decides
what is ill-typed) and sh:pattern (Python's re).

A shape that uses a constraint this module does not evaluate raises UnsupportedShapeError naming the
shape, before any query runs: a new kind of constraint in shapes/ never passes unnoticed.

Known difference, from the store rather than this module: pyoxigraph keeps literals in canonical
form ("+5"^^xsd:integer is stored as "5", "1"^^xsd:boolean as "true") and stores the derived
integer types (xsd:nonNegativeInteger, xsd:int, ...) as xsd:integer, so such a value is reported
in its canonical form and sh:datatype xsd:nonNegativeInteger cannot be told from xsd:integer.
"""
import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib import term as rdflib_term
from rdflib.namespace import RDF, RDFS, SH, XSD

from ..errors import UnsupportedShapeError
from ..load import INFERRED_GRAPH, file_of_graph
from ..terms import quiet_literal as _quiet_literal
from ..terms import to_ox as _to_ox
from ..terms import to_rdflib as _to_rdflib
from .report import LABEL_PROPERTIES, report_from_graph
from .report_graph import _flatten, _report_graph
from .shapes import ALLOWED_SEVERITIES, _path_text, _qname, _Shape, _Shapes, compile_shapes
from .sparql_text import _BOUND

VALUE_COMPONENTS = {  # parameter -> constraint component, for checks made on each value node
    SH["class"]: SH.ClassConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent, SH.pattern: SH.PatternConstraintComponent,
    SH["in"]: SH.InConstraintComponent, SH.languageIn: SH.LanguageInConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent, SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent, SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH["or"]: SH.OrConstraintComponent, SH.node: SH.NodeConstraintComponent,
}
RANGE_OPERATORS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
NODE_KINDS = {SH.IRI: "isIRI({v})", SH.Literal: "isLiteral({v})", SH.BlankNode: "isBlank({v})",
              SH.BlankNodeOrIRI: "!isLiteral({v})", SH.BlankNodeOrLiteral: "!isIRI({v})",
              SH.IRIOrLiteral: "!isBlank({v})"}
_SET_INLINE = 64     # membership tests up to this size are sameTerm chains, larger ones VALUES
_VALUES_JOIN = 5000  # failing values up to this many are joined back to focus nodes with VALUES
_DATASET = "\n#hrkg:exact-data-graphs\n"   # marks a query that must run on the list of data graphs


def validate_store(store, shapes_graph=None, *, data_graphs=None, file_of=None, only_shapes=None, _written=None):
    """Validate the named graphs ``data_graphs`` of a pyoxigraph ``store`` against the shapes.

    ``data_graphs``: graph names (str, rdflib URIRef or pyoxigraph NamedNode/DefaultGraph) whose
    union is the data graph; default every named graph except hrkg's inferred graph (validation
    sees asserted triples only, see KnowledgeGraph.validate), plus the default graph if it holds
    triples and the store has no inferred graph (in hrkg's layout it holds the derived triples
    too). ``shapes_graph``: an rdflib Graph, default the bundled shapes, or what
    shapes.compile_shapes returns. ``file_of``: a mapping
    (``.get(iri)``) from focus IRI to its file for the report; by default looked up in the store.
    ``only_shapes``: the shapes with targets (rdflib terms of the shapes graph) to evaluate, with
    the shapes they use; default all. Returns a hrkg.shacl.report.ValidationReport. Raises
    UnsupportedShapeError for a shape this module cannot evaluate.
    """
    shapes = shapes_graph if isinstance(shapes_graph, _Shapes) else compile_shapes(shapes_graph)
    graphs = _data_graphs(store, data_graphs)
    evaluator = _Evaluator(store, graphs, shapes, _written or {})
    raws = evaluator.run(None if only_shapes is None else set(only_shapes))
    report_graph = _report_graph(raws, shapes, evaluator)
    focus = {r.focus for r in _flatten(raws)}
    labels = evaluator.labels(focus)
    if file_of is None:
        file_of = evaluator.files(focus)
    return report_from_graph(report_graph, lambda node: labels.get(node), file_of=file_of)


def validate_graph(graph, shapes_graph=None, *, file_of=None):
    """Validate an rdflib graph: load it into an in-memory pyoxigraph store and validate that.

    Values are reported as the graph writes them ("7.0"^^xsd:decimal), not in the canonical
    form the store keeps ("7").
    """
    store = ox.Store()
    name = ox.NamedNode("urn:hrkg:validate:data")
    bnodes = {}
    store.extend(ox.Quad(_to_ox(s, bnodes), _to_ox(p, bnodes), _to_ox(o, bnodes), name)
                 for s, p, o in graph.triples((None, None, None)))
    return validate_store(store, shapes_graph, data_graphs=[name], file_of=file_of,
                          _written=_written_forms(graph, bnodes))


def _written_forms(graph, bnodes):
    """Stored (canonical) literal -> the literal as written, where pyoxigraph changed it (typed
    literals in canonical form, language tags in lower case) and only one written form maps to
    the stored one."""
    typed = {o for o in graph.objects() if isinstance(o, Literal) and (
        o.datatype not in (None, XSD.string, RDF.langString) or (o.language and o.language != o.language.lower()))}
    new = [lit for lit in typed if _written_key(lit) not in _STORED]
    if new:
        if len(_STORED) + len(new) > _STORED_MAX:
            _STORED.clear()
            new = list(typed)
        scratch, p = ox.Store(), ox.NamedNode("urn:hrkg:written")
        scratch.extend(ox.Quad(ox.NamedNode(f"urn:hrkg:literal:{i}"), p, _to_ox(lit, bnodes))
                       for i, lit in enumerate(new))
        for q in scratch.quads_for_pattern(None, p, None):
            original = new[int(q.subject.value.rsplit(":", 1)[1])]
            stored = _to_rdflib(q.object)
            _STORED[_written_key(original)] = None if _written_key(stored) == _written_key(original) else q.object
    written, ambiguous = {}, set()
    for original in typed:
        stored = _STORED[_written_key(original)]
        if stored is None:
            continue
        if stored in written and written[stored] != original:
            ambiguous.add(stored)
        written[stored] = original
    for key in ambiguous:
        del written[key]
    return written


# literal as written -> the form pyoxigraph stores it in (None: the same), learnt through a store:
# validations of graphs that share most literals (the tests' broken copies) look each up once
_STORED, _STORED_MAX = {}, 200_000


def _written_key(literal):
    """The literal exactly as written: rdflib's == and hash may equate two lexical forms."""
    return str(literal), literal.datatype, literal.language


# ---- running the constraints ---------------------------------------------------------------------

@dataclass
class _Raw:
    """One validation result before it becomes triples of the report graph."""
    shape: _Shape
    component: URIRef
    focus: object                   # pyoxigraph term
    value: object = None            # pyoxigraph term or None
    path: object = None             # rdflib path node (shapes graph) or pyoxigraph term from ?path
    constraint: object = None       # the sh:sparql node, for sh:sourceConstraint
    bound: object = None            # SPARQL message variables: dict, or (this, path, value, rest)
    details: list = field(default_factory=list)


@dataclass
class _Pattern:
    """A SPARQL group binding ?this (or ?cand), with the prefixes its text uses."""
    text: str
    prefixes: dict = field(default_factory=dict)


class _Evaluator:
    """Runs the shapes' queries on the union of the data graphs.

    pyoxigraph evaluates a query whose default graph is a list of graphs about 1.2 s slower per
    graph for 200,000 lookups (it merges the graphs per pattern), so where the data graphs are all
    named graphs but a few (hrkg's inferred graph), the generated queries match each triple in
    ``GRAPH ?g`` and exclude those graphs, which runs at the speed of one graph. Patterns that
    cannot be written that way (paths with * + ?, and the shapes' own SPARQL) are marked with
    _DATASET and run on the exact list of data graphs.
    """

    def __init__(self, store, graphs, shapes, written):
        self.store, self.graphs, self.shapes = store, graphs, shapes
        self.written = written     # stored literal -> literal as written (validate_graph only)
        self._ids = count(1)
        self._closure, self._bad_typed, self._pattern_misses, self._failing = None, {}, {}, {}
        named = set(store.named_graphs())
        data = set(graphs)
        self.exact = {"default_graph": graphs}
        self.graph_test = None
        if len(graphs) == 1 or ox.DefaultGraph() in data:
            self.fast = self.exact
        elif data == named:
            self.fast = self.exact = {"use_default_graph_as_union": True}
        else:
            self.fast = {"use_default_graph_as_union": True}
            others = sorted(named - data, key=str)
            self.graph_test = (f"NOT IN ({', '.join(map(str, others))})" if len(others) <= len(data)
                               else f"IN ({', '.join(map(str, sorted(data, key=str)))})")

    def tp(self, subject, path, obj):
        """Triple pattern(s) for ``subject path obj`` on the data graphs only."""
        if isinstance(path, URIRef):
            path = ("iri", path)
        if self.graph_test is None:
            return f"{subject} {_path_text(path)} {obj} ."
        kind, arg = path
        if kind == "iri":
            g = self.fresh("g")
            return f"GRAPH {g} {{ {subject} <{arg}> {obj} }} FILTER({g} {self.graph_test})"
        if kind == "inv":
            return self.tp(obj, arg, subject)
        if kind == "seq":
            nodes = [subject] + [self.fresh("step") for _ in arg[1:]] + [obj]
            return " ".join(self.tp(nodes[i], step, nodes[i + 1]) for i, step in enumerate(arg))
        if kind == "alt":
            return "{ " + " } UNION { ".join(self.tp(subject, step, obj) for step in arg) + " }"
        return f"{subject} {_path_text(path)} {obj} . {_DATASET}"

    def fresh(self, stem):
        return f"?{stem}_{next(self._ids)}"

    def rdflib(self, term):
        """An rdflib term for a stored one, the literal as written where that is known."""
        return self.written.get(term) or _to_rdflib(term)

    def pattern_string(self, term):
        written = self.written.get(term)
        return _pattern_string(written) if written is not None else _stored_pattern_string(term)

    def select(self, text, prefixes=None, where=None):
        mode = self.exact if _DATASET in text else self.fast
        try:
            solutions = self.store.query(text, prefixes=prefixes or None, **mode)
        except SyntaxError as exc:
            raise UnsupportedShapeError(f"{where or 'a generated query'} does not parse: {exc}\n{text}") from None
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names} for s in solutions]

    # -- focus nodes ------------------------------------------------------------------------------
    def run(self, only=None):
        raws = []
        for shape in self.shapes.top_level:
            if shape.deactivated or (only is not None and shape.node not in only):
                continue
            focus = self.materialise(self.focus_pattern(shape))
            if focus is not None:
                raws.extend(self.evaluate(shape, focus))
        return raws

    def materialise(self, focus):
        """None when the shape has no focus node; the focus nodes of a SPARQL target as a VALUES
        block when there are few, so its query runs once and each constraint starts from them
        (pyoxigraph would otherwise evaluate a constraint's whole body before joining)."""
        if focus is None:
            return None
        listed = _DATASET in focus.text     # only these may become a VALUES block; others need one row
        rows = self.select(f"SELECT DISTINCT ?this WHERE {{ {focus.text} }} LIMIT {_VALUES_JOIN + 1 if listed else 1}",
                           focus.prefixes)
        if not rows:
            return None
        if listed and len(rows) <= _VALUES_JOIN and \
                not any(isinstance(r["this"], ox.BlankNode) for r in rows):
            return _Pattern(f"VALUES ?this {{ {' '.join(str(r['this']) for r in rows)} }}")
        return focus

    def focus_pattern(self, shape):
        parts, prefixes = [], {}
        for kind, arg in self.shapes.targets[shape.node]:
            if kind == "class":
                var = self.fresh("class")
                parts.append(f"VALUES {var} {{ {' '.join(self.subclasses(arg))} }} {self.tp('?this', RDF.type, var)}")
            elif kind == "node":
                parts.append(f"VALUES ?this {{ {_n3(arg)} }}")
            elif kind == "subjectsOf":
                parts.append(self.tp("?this", arg, self.fresh("o")))
            elif kind == "objectsOf":
                parts.append(self.tp(self.fresh("s"), arg, "?this"))
            else:
                parts.append(f"{{ SELECT DISTINCT ?this WHERE {{ {{ {arg.body_text()} }} }} }} {_DATASET}")
                prefixes = _merge_prefixes(prefixes, arg.prefixes, shape)
        if not parts:
            return None
        text = parts[0] if len(parts) == 1 else " UNION ".join(f"{{ {p} }}" for p in parts)
        return _Pattern(text, prefixes)

    def subclasses(self, cls):
        """``cls`` and its subclasses in the data graph, as SPARQL terms (pyshacl's targetClass).
        The whole rdfs:subClassOf closure is read in one query, on first use: a shapes graph
        names a few dozen classes, and a query for each was a sixth of a small graph's validation."""
        if self._closure is None:
            self._closure = {}
            for r in self.select(f"SELECT DISTINCT ?c ?super WHERE {{ ?c <{RDFS.subClassOf}>+ ?super }} {_DATASET}"):
                if not isinstance(r["c"], ox.BlankNode):
                    self._closure.setdefault(str(r["super"]), set()).add(str(r["c"]))
        return sorted(self._closure.get(_n3(cls), set()) | {_n3(cls)})

    # -- one shape, all its focus nodes -------------------------------------------------------------
    def evaluate(self, shape, focus):
        """Every result of ``shape`` (and its property shapes) for the focus nodes of ``focus``."""
        if shape.deactivated:
            return []
        out = []
        if shape.is_property:
            candidates = _Pattern(self.tp(self.fresh("s"), shape.path_ast, "?cand"))
            var = "?value"
        else:
            var = "?this"
            candidates = _Pattern(f"{{ SELECT (?this AS ?cand) WHERE {{ {focus.text} }} }}", focus.prefixes)
        for parameter, argument in _value_tests(shape):
            if parameter == SH.node:
                out.extend(self.node_results(shape, focus, argument))
                continue
            ok = self.ok(parameter, argument, var, candidates, shape)
            if shape.is_property:
                key = (shape.path_text, parameter, tuple(argument) if isinstance(argument, list) else argument,
                       str(shape.one(SH.flags)) if parameter == SH.pattern else None)
                rows = self.failing_values(shape, focus, ok, key)
            else:
                rows = self.select(f"SELECT DISTINCT ?this WHERE {{\n{focus.text}\nFILTER(!({ok}))\n}}", focus.prefixes)
            for row in rows:
                out.append(_Raw(shape, VALUE_COMPONENTS[parameter], row["this"],
                                row["value"] if shape.is_property else row["this"]))
        if shape.is_property:
            out.extend(self.count_results(shape, focus))
            out.extend(self.pair_results(shape, focus))
            out.extend(self.qualified_results(shape, focus))
        out.extend(self.has_value_results(shape, focus))
        for node in shape.values(SH.sparql):
            out.extend(self.sparql_results(shape, focus, self.shapes.sparql[node]))
        for child in shape.values(SH.property):
            out.extend(self.evaluate(self.shapes[child], focus))
        return out

    def failing_values(self, shape, focus, ok, key):
        """(?this, ?value) rows of a property shape's focus nodes whose value fails ``ok``.

        Values repeat (200,000 recommendations cite a few hundred reviews), so the test runs once
        per distinct value of the path over all subjects (cached by ``key``: shapes of many classes
        test dct:source the same way), and only failing values are joined back to focus nodes.
        """
        path = shape.path_ast
        if key not in self._failing:
            failing = self.select(f"SELECT ?value WHERE {{ {{ SELECT DISTINCT ?value WHERE {{ "
                                  f"{self.tp(self.fresh('s'), path, '?value')} }} }}\nFILTER(!({ok})) }} "
                                  f"LIMIT {_VALUES_JOIN + 1}")
            if len(failing) > _VALUES_JOIN or any(isinstance(r["value"], ox.BlankNode) for r in failing):
                self._failing[key] = None          # too many (or unwritable) values: test them in place
            else:
                self._failing[key] = [r["value"] for r in failing]
        failing = self._failing[key]
        if failing == []:
            return []
        if failing is None:
            query = (f"SELECT DISTINCT ?this ?value WHERE {{\n{focus.text}\n{self.tp('?this', path, '?value')}\n"
                     f"FILTER(!({ok}))\n}}")
        else:
            query = (f"SELECT DISTINCT ?this ?value WHERE {{\nVALUES ?value {{ {' '.join(map(str, failing))} }}\n"
                     f"{self.tp('?this', path, '?value')}\n{focus.text}\n}}")
        return self.select(query, focus.prefixes)

    def count_results(self, shape, focus):
        out = []
        low, high = shape.count(SH.minCount), shape.count(SH.maxCount)
        v = self.fresh("v")
        if low == 1:    # MINUS: pyoxigraph anti-joins it in one pass, NOT EXISTS probes per node
            query = (f"SELECT DISTINCT ?this WHERE {{\n{focus.text}\n"
                     f"MINUS {{ {self.tp('?this', shape.path_ast, v)} }}\n}}")
        elif low:
            query = (f"SELECT ?this WHERE {{\n{focus.text}\nOPTIONAL {{ {self.tp('?this', shape.path_ast, v)} }}\n}}\n"
                     f"GROUP BY ?this HAVING (COUNT(DISTINCT {v}) < {low})")
        if low:
            out.extend(_Raw(shape, SH.MinCountConstraintComponent, r["this"]) for r in self.select(query, focus.prefixes))
        if high is not None:   # count over the path first: only nodes over the limit meet the focus pattern
            query = (f"SELECT DISTINCT ?this WHERE {{\n{{ SELECT ?this WHERE {{ {self.tp('?this', shape.path_ast, v)} }}\n"
                     f"GROUP BY ?this HAVING (COUNT(DISTINCT {v}) > {high}) }}\n{focus.text}\n}}")
            out.extend(_Raw(shape, SH.MaxCountConstraintComponent, r["this"]) for r in self.select(query, focus.prefixes))
        return out

    def pair_results(self, shape, focus):
        """sh:lessThan(OrEquals): one result per value and other value that are not in order."""
        out = []
        for parameter, op, component in ((SH.lessThan, "<", SH.LessThanConstraintComponent),
                                         (SH.lessThanOrEquals, "<=", SH.LessThanOrEqualsConstraintComponent)):
            for other in shape.values(parameter):
                other_path = self.shapes.path(other, shape)
                query = (f"SELECT DISTINCT ?this ?value ?other WHERE {{\n{focus.text}\n"
                         f"{self.tp('?this', shape.path_ast, '?value')}\n{self.tp('?this', other_path, '?other')}\n"
                         f"FILTER(!COALESCE(?value {op} ?other, false))\n}}")
                out.extend(_Raw(shape, component, r["this"], r["value"]) for r in self.select(query, focus.prefixes))
        return out

    def qualified_results(self, shape, focus):
        qualified = shape.one(SH.qualifiedValueShape)
        if qualified is None:
            return []
        low, high = shape.count(SH.qualifiedMinCount), shape.count(SH.qualifiedMaxCount)
        candidates = _Pattern(self.tp(self.fresh("s"), shape.path_ast, "?cand"))
        conforms = self.conforms(self.shapes[qualified], "?value", candidates)
        tests = ([f"COUNT(DISTINCT ?value) < {low}"] if low is not None else []) + \
                ([f"COUNT(DISTINCT ?value) > {high}"] if high is not None else [])
        query = (f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{\n{focus.text}\n"
                 f"OPTIONAL {{ {self.tp('?this', shape.path_ast, '?value')} FILTER({conforms}) }}\n}}\n"
                 f"GROUP BY ?this HAVING ({' || '.join(tests)})")
        out = []
        for row in self.select(query, focus.prefixes):
            n = int(row["n"].value)
            if high is not None and n > high:
                out.append(_Raw(shape, SH.QualifiedMaxCountConstraintComponent, row["this"]))
            if low is not None and n < low:
                out.append(_Raw(shape, SH.QualifiedMinCountConstraintComponent, row["this"]))
        return out

    def has_value_results(self, shape, focus):
        out = []
        for value in shape.values(SH.hasValue):
            if shape.is_property:
                test = f"FILTER NOT EXISTS {{ {self.tp('?this', shape.path_ast, _n3(value))} }}"
            else:
                test = f"FILTER(!sameTerm(?this, {_n3(value)}))"
            query = f"SELECT DISTINCT ?this WHERE {{\n{focus.text}\n{test}\n}}"
            out.extend(_Raw(shape, SH.HasValueConstraintComponent, r["this"]) for r in self.select(query, focus.prefixes))
        return out

    def node_results(self, shape, focus, node):
        """sh:node: the nested shape is validated on each value node; a value with any result
        fails, and its results become the sh:detail of the NodeConstraintComponent result."""
        nested = self.shapes[node]
        if shape.is_property:
            f = self.fresh("f")
            values = _Pattern(f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT DISTINCT (?this AS {f}) WHERE {{ "
                              f"{focus.text} }} }} {self.tp(f, shape.path_ast, '?this')} }} }}", focus.prefixes)
        else:
            values = focus
        details = {}
        for raw in self.evaluate(nested, values):
            details.setdefault(raw.focus, []).append(raw)
        if not details:
            return []
        if shape.is_property:
            rows = self.select(f"SELECT DISTINCT ?this ?value WHERE {{\n{focus.text}\n"
                               f"{self.tp('?this', shape.path_ast, '?value')}\n}}", focus.prefixes)
            pairs = [(r["this"], r["value"]) for r in rows if r["value"] in details]
        else:
            pairs = [(f, f) for f in details]
        return [_Raw(shape, SH.NodeConstraintComponent, f, v, details=details[v]) for f, v in pairs]

    def sparql_results(self, shape, focus, constraint):
        if constraint.deactivated:
            return []
        query = constraint.query
        prefixes = _merge_prefixes(focus.prefixes, query.prefixes, shape)
        if query.joinable:
            rows = self.select(query.joined(focus.text) + _DATASET, prefixes, constraint.query.where)
        else:   # $this inside a subquery or union: bind it for one focus node at a time
            rows = []
            for f in self.select(f"SELECT DISTINCT ?this WHERE {{ {focus.text} }}", focus.prefixes):
                term = f["this"]
                if isinstance(term, ox.BlankNode):   # a blank node cannot be written in a query
                    text = query.projecting_this()
                    solutions = self.store.query(text, prefixes=prefixes, substitutions={ox.Variable("this"): term},
                                                 **self.exact)
                    names = [v.value for v in solutions.variables]
                    found = [{n: s[n] for n in names} for s in solutions]
                else:
                    found = self.select(query.bound_to(str(term)) + _DATASET, prefixes, constraint.query.where)
                rows.extend(dict({k: v for k, v in r.items() if not k.startswith(_BOUND)}, this=term) for r in found)
        projected_this = query.projects("this")
        out, failed = [], set()
        for row in rows:
            f = row["this"]
            rest = {k: v for k, v in row.items() if v is not None}
            if not projected_this:
                rest.pop("this", None)
            result_value = None if shape.is_property else f
            if rest.pop("failure", None) is not None:
                if f not in failed:
                    failed.add(f)
                    out.append(_Raw(shape, SH.SPARQLConstraintComponent, f, result_value,
                                    constraint=constraint.node, bound=rest))
                continue
            p, v, t = rest.pop("path", None), rest.pop("value", None), rest.pop("this", None)
            if p is None and v is None and t is None:
                continue       # pyshacl ignores such a row
            v = result_value if v is None else v
            out.append(_Raw(shape, SH.SPARQLConstraintComponent, t or f, v, path=p,
                            constraint=constraint.node, bound=(t, p, v, rest)))
        return out

    # -- tests on one value node ----------------------------------------------------------------------
    def ok(self, parameter, argument, var, candidates, shape):
        """A SPARQL expression, never an error, true when the value in ``var`` passes."""
        if parameter == SH["class"]:
            t = self.fresh("type")
            return f"EXISTS {{ {self.tp(var, RDF.type, t)} VALUES {t} {{ {' '.join(self.subclasses(argument))} }} }}"
        if parameter == SH.datatype:
            if argument == RDFS.Literal:
                return f"isLiteral({var})"
            test = f"isLiteral({var}) && DATATYPE({var}) = <{argument}>"
            bad = self.ill_typed(candidates, argument)
            return f"{test} && !({_member(var, bad)})" if bad else test
        if parameter == SH.nodeKind:
            if argument not in NODE_KINDS:
                raise UnsupportedShapeError(f"shape {shape.name}: unknown sh:nodeKind {argument}")
            return NODE_KINDS[argument].format(v=var)
        if parameter == SH.pattern:
            misses = self.pattern_misses(candidates, argument, shape)
            return f"!isBlank({var}) && !({_member(var, misses)})" if misses else f"!isBlank({var})"
        if parameter == SH["in"]:
            return _member(var, [_n3(i) for i in argument])
        if parameter == SH.languageIn:
            wanted = sorted({str(i).lower() for i in argument})
            if "*" in wanted:
                return f'(isLiteral({var}) && LANG({var}) != "")'
            tags = ", ".join(_n3(Literal(w)) for w in wanted)
            return (f'(isLiteral({var}) && LANG({var}) != "" && (LCASE(LANG({var})) IN ({tags}) || '
                    f'LCASE(STRBEFORE(CONCAT(LANG({var}), "-"), "-")) IN ({tags})))')
        if parameter in RANGE_OPERATORS:
            return f"COALESCE({var} {RANGE_OPERATORS[parameter]} {_n3(argument)}, false)"
        if parameter == SH["or"]:
            return "(" + " || ".join(self.conforms(self.shapes[m], var, candidates) for m in argument) + ")" \
                if argument else "false"
        if parameter == SH.node:
            return self.conforms(self.shapes[argument], var, candidates)
        raise UnsupportedShapeError(f"shape {shape.name}: {_qname(parameter)} is not supported")  # pragma: no cover

    def conforms(self, shape, var, candidates):
        """A SPARQL expression true when the node in ``var`` conforms to ``shape`` (pyshacl's
        conformance check inside sh:or, sh:node and sh:qualifiedValueShape)."""
        if shape.deactivated or shape.severity in ALLOWED_SEVERITIES:
            return "true"       # pyshacl with allow_warnings: such a shape always conforms
        parts = []
        if shape.is_property:
            path = shape.path_ast
            own = _Pattern(self.tp(self.fresh("s"), path, "?cand"))
            for parameter, argument in _value_tests(shape):
                v = self.fresh("v")
                parts.append(f"NOT EXISTS {{ {self.tp(var, path, v)} FILTER(!({self.ok(parameter, argument, v, own, shape)})) }}")
            low, high = shape.count(SH.minCount), shape.count(SH.maxCount)
            if low:
                parts.append(f"EXISTS {{ {self.tp(var, path, self.fresh('v'))} }}")
            if high == 0:
                parts.append(f"NOT EXISTS {{ {self.tp(var, path, self.fresh('v'))} }}")
            elif high == 1:
                a, b = self.fresh("v"), self.fresh("v")
                parts.append(f"NOT EXISTS {{ {self.tp(var, path, a)} {self.tp(var, path, b)} FILTER(!sameTerm({a}, {b})) }}")
            for value in shape.values(SH.hasValue):
                parts.append(f"EXISTS {{ {self.tp(var, path, _n3(value))} }}")
            for parameter, op in ((SH.lessThan, "<"), (SH.lessThanOrEquals, "<=")):
                for other in shape.values(parameter):
                    v, o = self.fresh("v"), self.fresh("o")
                    parts.append(f"NOT EXISTS {{ {self.tp(var, path, v)} {self.tp(var, self.shapes.path(other, shape), o)} "
                                 f"FILTER(!COALESCE({v} {op} {o}, false)) }}")
            for child in shape.values(SH.property):
                v = self.fresh("v")
                inner = self.conforms(self.shapes[child], v, own)
                parts.append(f"NOT EXISTS {{ {self.tp(var, path, v)} FILTER(!({inner})) }}")
        else:
            for parameter, argument in _value_tests(shape):
                parts.append(self.ok(parameter, argument, var, candidates, shape))
            for value in shape.values(SH.hasValue):
                parts.append(f"sameTerm({var}, {_n3(value)})")
            for child in shape.values(SH.property):
                parts.append(self.conforms(self.shapes[child], var, candidates))
        return "(" + " && ".join(f"({p})" for p in parts) + ")" if parts else "true"

    def ill_typed(self, candidates, datatype):
        """Literals of ``datatype`` among the candidates that pyshacl (rdflib) finds ill-typed."""
        if not _can_be_ill_typed(datatype):
            return []
        key = (candidates.text, datatype)
        if key not in self._bad_typed:
            rows = self.select(f"SELECT DISTINCT ?cand WHERE {{ {candidates.text} "
                               f"FILTER(isLiteral(?cand) && DATATYPE(?cand) = <{datatype}>) }}", candidates.prefixes)
            self._bad_typed[key] = sorted(str(r["cand"]) for r in rows if not _well_typed(r["cand"], datatype))
        return self._bad_typed[key]

    def pattern_misses(self, candidates, pattern, shape):
        """Candidates (not blank nodes) that pyshacl's sh:pattern test (Python's re) rejects."""
        flags = shape.one(SH.flags)
        key = (candidates.text, str(pattern), str(flags))
        if key not in self._pattern_misses:
            re_flags = 0
            if flags is not None:
                text = str(flags).lower()
                re_flags |= re.I if "i" in text else 0
                re_flags |= re.M if "m" in text else 0
            try:
                matcher = re.compile(str(pattern), re_flags)
            except re.error as exc:
                raise UnsupportedShapeError(f"shape {shape.name}: sh:pattern {str(pattern)!r} is not a valid regex: {exc}") from None
            rows = self.select(f"SELECT DISTINCT ?cand WHERE {{ {candidates.text} FILTER(!isBlank(?cand)) }}",
                               candidates.prefixes)
            self._pattern_misses[key] = sorted(
                str(r["cand"]) for r in rows if not matcher.search(self.pattern_string(r["cand"])))
        return self._pattern_misses[key]

    # -- what the report shows about focus nodes ---------------------------------------------------------
    def labels(self, focus_nodes):
        """skos:prefLabel, else rdfs:label, else dct:title (English first) of each focus IRI, as rdflib Literals."""
        found = {}
        iris = sorted(str(f) for f in focus_nodes if isinstance(f, ox.NamedNode))
        for chunk in _chunks(iris, 500):
            rows = self.select(f"SELECT ?f ?p ?l WHERE {{ VALUES ?f {{ {' '.join(chunk)} }} "
                               f"VALUES ?p {{ {' '.join(f'<{p}>' for p in LABEL_PROPERTIES)} }} ?f ?p ?l }} {_DATASET}")
            for r in rows:
                key = (LABEL_PROPERTIES.index(URIRef(r["p"].value)), getattr(r["l"], "language", None) != "en",
                       str(r["l"]))
                node = URIRef(r["f"].value)
                if node not in found or key < found[node][0]:
                    found[node] = (key, _to_rdflib(r["l"]))
        return {node: label for node, (_, label) in found.items()}

    def files(self, focus_nodes):
        """Focus IRI -> the file (data graph, in data-graph order) that first asserts it."""
        order = {str(g): i for i, g in enumerate(self.graphs) if isinstance(g, ox.NamedNode)}
        found = {}
        iris = sorted(str(f) for f in focus_nodes if isinstance(f, ox.NamedNode))
        for chunk in _chunks(iris, 500):
            rows = self.store.query(f"SELECT DISTINCT ?f ?g WHERE {{ VALUES ?f {{ {' '.join(chunk)} }} "
                                    "GRAPH ?g { ?f ?p ?o } }")
            for r in rows:
                g, f = str(r["g"]), r["f"].value
                if g in order and (f not in found or order[g] < found[f][0]):
                    found[f] = (order[g], file_of_graph(r["g"].value))
        return {f: name for f, (_, name) in found.items()}

    def describe_blank(self, node, graph, done):
        """Copy a data blank node's triples into the report graph (pyshacl does the same)."""
        if node in done:
            return
        done.add(node)
        rows = self.store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", substitutions={ox.Variable("s"): node},
                                **self.exact)
        for r in rows:
            graph.add((_to_rdflib(node), _to_rdflib(r["p"]), _to_rdflib(r["o"])))
            if isinstance(r["o"], ox.BlankNode):
                self.describe_blank(r["o"], graph, done)


def _value_tests(shape):
    """(parameter, argument) for each check made on every value node of ``shape``."""
    tests = [(SH["class"], c) for c in shape.values(SH["class"])]
    for parameter in (SH.datatype, SH.nodeKind):
        value = shape.one(parameter)
        if value is not None:
            tests.append((parameter, value))
    tests += [(SH.pattern, p) for p in shape.values(SH.pattern)]
    tests += [(SH["in"], items) for items in shape.items(SH["in"])]
    tests += [(SH.languageIn, items) for items in shape.items(SH.languageIn)]
    for parameter in RANGE_OPERATORS:
        tests += [(parameter, v) for v in shape.values(parameter)]
    tests += [(SH["or"], members) for members in shape.items(SH["or"])]
    tests += [(SH.node, n) for n in shape.values(SH.node)]
    return tests


# ---- small helpers ----------------------------------------------------------------------------------

def _data_graphs(store, data_graphs):
    if data_graphs is None:
        named = list(store.named_graphs())
        graphs = sorted((g for g in named if g.value != str(INFERRED_GRAPH)), key=lambda g: g.value)
        # a store hrkg built holds its inferred graph in the default one too (build._add_inferred):
        # its files are in the named graphs; another store's default graph is data
        hrkg_layout = ox.NamedNode(str(INFERRED_GRAPH)) in named
        if not hrkg_layout and next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
            graphs.append(ox.DefaultGraph())
    else:
        graphs = [g if isinstance(g, (ox.NamedNode, ox.DefaultGraph)) else ox.NamedNode(str(g)) for g in data_graphs]
    return graphs or [ox.NamedNode("urn:hrkg:validate:no-data")]


def _merge_prefixes(a, b, shape):
    merged = dict(a)
    for k, v in b.items():
        if merged.get(k, v) != v:
            raise UnsupportedShapeError(f"shape {shape.name}: prefix {k}: means {merged[k]} in its target "
                                        f"and {v} in its constraint")
        merged[k] = v
    return merged


def _member(var, terms):
    """SPARQL test: the term in ``var`` is one of ``terms`` (SPARQL texts), compared as terms."""
    if not terms:
        return "false"
    if len(terms) <= _SET_INLINE:
        return "(" + " || ".join(f"sameTerm({var}, {t})" for t in terms) + ")"
    return f"EXISTS {{ VALUES {var} {{ {' '.join(terms)} }} }}"


def _can_be_ill_typed(datatype):
    """Whether rdflib can find a literal of this datatype ill-typed (it parses or checks it)."""
    mapping = rdflib_term._toPythonMapping
    return datatype in mapping and (mapping[datatype] is not None
                                    or datatype in rdflib_term._check_well_formed_types)


_PYTHON_TYPES = {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.float: float,
                 XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: dt.date, XSD.time: dt.time,
                 XSD.dateTime: dt.datetime}


def _well_typed(term, datatype):
    """pyshacl's sh:datatype test for a literal whose datatype is ``datatype``."""
    return _well_typed_lexical(term.value, str(datatype))


# The two value tests made in Python depend on the value alone, and the same values come back in
# every validation of a store (and in each of the mutation test's hundreds); rdflib's parsing of a
# literal is most of their cost, so their answers are kept, a bounded number.

@functools.lru_cache(maxsize=1 << 16)
def _well_typed_lexical(lexical, datatype):
    literal = _quiet_literal(lexical, URIRef(datatype))
    if literal.ill_typed is True:
        return False
    expected = _PYTHON_TYPES.get(URIRef(datatype))
    return expected is None or isinstance(literal.value, expected)


@functools.lru_cache(maxsize=1 << 16)
def _stored_pattern_string(term):
    return _pattern_string(_to_rdflib(term))


def _pattern_string(term):
    """The string pyshacl matches sh:pattern against."""
    if isinstance(term, Literal) and term.value is not None and term.datatype in (None, RDF.langString, XSD.string):
        return str(term.value)
    return str(term)


def _n3(term):
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UnsupportedShapeError(f"cannot use {term!r} in a query")


def _chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]
