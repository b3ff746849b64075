"""Fast SHACL validation: hrkg's shapes compiled to SPARQL queries run on a pyoxigraph store.

pySHACL evaluates every constraint once per focus node, in Python over rdflib; at world scale
(200,000 recommendations) that takes many minutes. Here each constraint of each shape becomes one
SELECT query that finds all its violations across the data in one pass: the shape's targets are
joined in, counts use GROUP BY/HAVING or NOT EXISTS, sh:class tests the value's types against the
subclass closure, SPARQL-based constraints run once with their SHACL-AF target joined in instead of
once per focus node.

The results are those of ``hrkg.validate.validate`` (pyshacl with inference="none", advanced=True,
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
import re
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib import term as rdflib_term
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .errors import UnsupportedShapeError
from .load import INFERRED_GRAPH, file_of_graph
from .terms import quiet_literal as _quiet_literal
from .terms import to_ox as _to_ox
from .terms import to_rdflib as _to_rdflib
from .validate import LABEL_PROPERTIES, load_shapes, report_from_graph

# Constraint parameters evaluated here (sh:flags and the qualified counts belong to others).
SUPPORTED = {
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH.pattern, SH.flags, SH["in"],
    SH.hasValue, SH.languageIn, SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive,
    SH.lessThan, SH.lessThanOrEquals, SH["or"], SH.node, SH.property, SH.qualifiedValueShape,
    SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.sparql,
}
TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target}
# Properties of a shape that are not constraints.
DESCRIPTIVE = TARGETS | {SH.path, SH.message, SH.severity, SH.deactivated, SH.name, SH.description,
                         SH.order, SH.group, SH.defaultValue}
# Every SHACL Core / SHACL-AF parameter, so that shapes using only unsupported ones are found too.
OTHER_PARAMETERS = {SH["and"], SH["not"], SH.xone, SH.closed, SH.ignoredProperties, SH.equals,
                    SH.disjoint, SH.uniqueLang, SH.minLength, SH.maxLength, SH.expression, SH.rule,
                    SH.js, SH.jsFunctionName}
SHAPE_LISTS = (SH["or"], SH["and"], SH.xone)
NESTED_SHAPES = (SH.property, SH.node, SH.qualifiedValueShape, SH["not"])

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
ALLOWED_SEVERITIES = {SH.Warning, SH.Info}   # allow_warnings=True: these never make a shape fail
DEFAULT_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": "http://www.w3.org/2002/07/owl#"}
_SET_INLINE = 64     # membership tests up to this size are sameTerm chains, larger ones VALUES
_VALUES_JOIN = 5000  # failing values up to this many are joined back to focus nodes with VALUES
_DATASET = "\n#hrkg:exact-data-graphs\n"
_BOUND = "hrkg_bound_this_"           # placeholder for ?this projected by a subquery   # marks a query that must run on the list of data graphs


def validate_store(store, shapes_graph=None, *, data_graphs=None, file_of=None, _written=None):
    """Validate the named graphs ``data_graphs`` of a pyoxigraph ``store`` against the shapes.

    ``data_graphs``: graph names (str, rdflib URIRef or pyoxigraph NamedNode/DefaultGraph) whose
    union is the data graph; default every named graph except hrkg's inferred graph (validation
    sees asserted triples only, see KnowledgeGraph.validate), plus the default graph if it holds
    triples and the store has no inferred graph (in hrkg's layout it holds the derived triples too). ``shapes_graph``: an rdflib Graph, default the bundled shapes. ``file_of``: a mapping
    (``.get(iri)``) from focus IRI to its file for the report; by default looked up in the store.
    Returns a hrkg.validate.ValidationReport. Raises UnsupportedShapeError for a shape this module
    cannot evaluate.
    """
    shapes = _compiled(shapes_graph if shapes_graph is not None else load_shapes())
    graphs = _data_graphs(store, data_graphs)
    evaluator = _Evaluator(store, graphs, shapes, _written or {})
    raws = evaluator.run()
    report_graph = _report_graph(raws, shapes, evaluator)
    focus = {r.focus for r in _flatten(raws)}
    labels = evaluator.labels(focus)
    if file_of is None:
        file_of = evaluator.files(focus)
    return report_from_graph(report_graph, lambda node: labels.get(node), file_of=file_of)


_COMPILED = {}        # the shapes' triples -> _Shapes, the last few shapes graphs compiled


def _compiled(shapes_graph):
    """_Shapes for ``shapes_graph``, compiled once per content (compiling takes about half a
    second, more than validating a small graph). The cached entry reads its own copy of the
    graph, so a caller changing its graph afterwards never changes what was compiled."""
    triples, prefixes = frozenset(shapes_graph), tuple(shapes_graph.namespaces())
    key = (triples, prefixes)
    found = _COMPILED.get(key)
    if found is None:
        copy = Graph(bind_namespaces="none")
        for prefix, namespace in prefixes:
            copy.bind(prefix, namespace, override=True, replace=True)
        for t in shapes_graph:
            copy.add(t)
        found = _Shapes(copy)
        if len(_COMPILED) >= 4:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = found
    return found


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
    typed = sorted({o for o in graph.objects() if isinstance(o, Literal) and (
        o.datatype not in (None, XSD.string, RDF.langString) or (o.language and o.language != o.language.lower()))},
        key=lambda x: (str(x), str(x.datatype), str(x.language)))   # strings: Literal's own order is slow
    if not typed:
        return {}
    scratch, p = ox.Store(), ox.NamedNode("urn:hrkg:written")
    scratch.extend(ox.Quad(ox.NamedNode(f"urn:hrkg:literal:{i}"), p, _to_ox(lit, bnodes))
                   for i, lit in enumerate(typed))
    written, ambiguous = {}, set()
    for q in scratch.quads_for_pattern(None, p, None):
        original = typed[int(q.subject.value.rsplit(":", 1)[1])]
        stored = _to_rdflib(q.object)
        if (str(stored), stored.datatype, stored.language) == (str(original), original.datatype, original.language):
            continue
        if q.object in written and written[q.object] != original:
            ambiguous.add(q.object)
        written[q.object] = original
    for key in ambiguous:
        del written[key]
    return written


def check_shapes(shapes_graph=None):
    """Raise UnsupportedShapeError if a shape uses something validate_store cannot evaluate."""
    _Shapes(shapes_graph if shapes_graph is not None else load_shapes())


# ---- the shapes graph ---------------------------------------------------------------------------

class _Shape:
    """One shape: its path, severity, messages and parameters, read from the shapes graph."""

    def __init__(self, shapes, node):
        sg = shapes.graph
        self.shapes, self.node = shapes, node
        self.name = shapes.describe(node)
        paths = list(sg.objects(node, SH.path))
        if len(paths) > 1:
            raise UnsupportedShapeError(f"shape {self.name} has more than one sh:path")
        self.path = paths[0] if paths else None
        self.is_property = self.path is not None
        self.path_ast = shapes.path(self.path, self) if self.is_property else None
        self.path_text = _path_text(self.path_ast) if self.is_property else None
        self.severity = sg.value(node, SH.severity) or SH.Violation
        self.messages = sorted(set(sg.objects(node, SH.message)))
        flags = list(sg.objects(node, SH.deactivated))
        self.deactivated = bool(flags and isinstance(flags[0], Literal) and flags[0].value)

    def values(self, parameter):
        return list(self.shapes.graph.objects(self.node, parameter))

    def one(self, parameter):
        found = self.values(parameter)
        if len(found) > 1:
            raise UnsupportedShapeError(f"shape {self.name} has more than one {_qname(parameter)}")
        return found[0] if found else None

    def count(self, parameter):
        value = self.one(parameter)
        if value is None:
            return None
        if not (isinstance(value, Literal) and isinstance(value.value, int)) or value.value < 0:
            raise UnsupportedShapeError(f"shape {self.name}: {_qname(parameter)} must be an integer >= 0")
        return value.value

    def items(self, parameter):
        """The members of each RDF list that is a value of ``parameter``."""
        return [list(Collection(self.shapes.graph, lst)) for lst in self.values(parameter)]


class _Shapes:
    """Every shape of a shapes graph, checked up front for what this module supports."""

    def __init__(self, graph):
        self.graph = graph
        for component in graph.subjects(RDF.type, SH.ConstraintComponent):
            raise UnsupportedShapeError(
                f"the shapes declare the constraint component {self.describe(component)}; "
                "shacl_sparql.py evaluates only the SHACL Core components listed in its docstring")
        self.by_node = {}
        for node in sorted(self._shape_nodes(), key=str):
            self._check_parameters(node)
            self.by_node[node] = _Shape(self, node)
        self.top_level = [s for s in self.by_node.values() if any(self.graph.objects(s.node, t) for t in TARGETS)]
        for shape in self.top_level:
            self._check_use(shape, "report", ())
        self.sparql = {}   # sh:sparql node -> _SparqlConstraint, analysed once
        for shape in self.by_node.values():
            for node in shape.values(SH.sparql):
                self.sparql[node] = _SparqlConstraint(self, shape, node)
        self.targets = {s.node: self._targets(s) for s in self.top_level}

    def __getitem__(self, node):
        return self.by_node[node]

    def _shape_nodes(self):
        g = self.graph
        nodes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
        for p in SUPPORTED | OTHER_PARAMETERS | TARGETS | {SH.path}:
            nodes.update(g.subjects(p, None))
        for p in NESTED_SHAPES:
            nodes.update(o for o in g.objects(None, p) if not isinstance(o, Literal))
        for p in SHAPE_LISTS:
            for lst in g.objects(None, p):
                nodes.update(Collection(g, lst))
        return {n for n in nodes if not isinstance(n, Literal)}

    def _check_parameters(self, node):
        for p in set(self.graph.predicates(node, None)):
            if str(p).startswith(str(SH)) and p not in SUPPORTED and p not in DESCRIPTIVE:
                raise UnsupportedShapeError(
                    f"shape {self.describe(node)} uses {_qname(p)}, which the compiled validator "
                    "(hrkg/shacl_sparql.py) does not evaluate; add it there, or validate with pyshacl")

    def _check_use(self, shape, mode, seen):
        """Check what a shape needs where it is used: 'report' (its results are reported) or
        'conform' (only whether a value conforms, inside sh:or, sh:node, sh:qualifiedValueShape)."""
        if shape.node in seen:
            raise UnsupportedShapeError(f"shape {shape.name} refers to itself (recursive shapes are not supported)")
        seen = seen + (shape.node,)
        where = "inside sh:or, sh:node or sh:qualifiedValueShape"
        if shape.one(SH.datatype) == RDFS.Datatype:
            raise UnsupportedShapeError(f"shape {shape.name}: sh:datatype rdfs:Datatype is not supported")
        shape.one(SH.nodeKind), shape.one(SH.languageIn)
        for p in (SH.minCount, SH.maxCount, SH.lessThan, SH.lessThanOrEquals, SH.qualifiedValueShape):
            if shape.values(p) and not shape.is_property:
                raise UnsupportedShapeError(f"shape {shape.name}: {_qname(p)} needs a property shape (sh:path)")
        for p in (SH.minCount, SH.maxCount):
            n = shape.count(p)
            if mode == "conform" and n is not None and n > 1:
                raise UnsupportedShapeError(f"shape {shape.name}: {_qname(p)} {n} {where} is not supported (only 0 or 1)")
        for lst in shape.items(SH["in"]):
            if any(isinstance(i, BNode) for i in lst):
                raise UnsupportedShapeError(f"shape {shape.name}: sh:in lists a blank node")
        if any(isinstance(v, BNode) for v in shape.values(SH.hasValue)):
            raise UnsupportedShapeError(f"shape {shape.name}: sh:hasValue is a blank node")
        if shape.values(SH.qualifiedValueShape):
            if mode == "conform":
                raise UnsupportedShapeError(f"shape {shape.name}: sh:qualifiedValueShape {where} is not supported")
            if len(shape.values(SH.qualifiedValueShape)) > 1:
                raise UnsupportedShapeError(f"shape {shape.name} has more than one sh:qualifiedValueShape")
            disjoint = shape.one(SH.qualifiedValueShapesDisjoint)
            if disjoint is not None and getattr(disjoint, "value", None) is True:
                raise UnsupportedShapeError(f"shape {shape.name}: sh:qualifiedValueShapesDisjoint true is not supported")
            if shape.count(SH.qualifiedMinCount) is None and shape.count(SH.qualifiedMaxCount) is None:
                raise UnsupportedShapeError(f"shape {shape.name}: sh:qualifiedValueShape needs a qualified min or max count")
            self._check_use(self[shape.one(SH.qualifiedValueShape)], "conform", seen)
        if shape.values(SH.sparql) and mode == "conform":
            raise UnsupportedShapeError(f"shape {shape.name}: a SPARQL constraint {where} is not supported")
        for members in shape.items(SH["or"]):
            for m in members:
                self._check_use(self[m], "conform", seen)
        for n in shape.values(SH.node):
            nested = self[n]
            if mode == "report" and nested.is_property:
                raise UnsupportedShapeError(f"shape {shape.name}: sh:node {nested.name} is a property shape")
            self._check_use(nested, mode, seen)
        for p in shape.values(SH.property):
            child = self[p]
            if not child.is_property:
                raise UnsupportedShapeError(f"shape {shape.name}: sh:property {child.name} has no sh:path")
            if mode == "report" and shape.is_property:
                raise UnsupportedShapeError(
                    f"shape {shape.name}: sh:property inside a property shape is not supported")
            self._check_use(child, mode, seen)

    def _targets(self, shape):
        g, found = self.graph, []
        for c in shape.values(SH.targetClass):
            found.append(("class", c))
        rdfs_classes = {RDFS.Class, *g.subjects(RDFS.subClassOf, RDFS.Class)}
        if any(t in rdfs_classes for t in g.objects(shape.node, RDF.type)):
            found.append(("class", shape.node))        # implicit class target
        for n in shape.values(SH.targetNode):
            if isinstance(n, BNode):
                raise UnsupportedShapeError(f"shape {shape.name}: sh:targetNode is a blank node")
            found.append(("node", n))
        for p in shape.values(SH.targetSubjectsOf):
            found.append(("subjectsOf", p))
        for p in shape.values(SH.targetObjectsOf):
            found.append(("objectsOf", p))
        for t in shape.values(SH.target):
            selects = list(g.objects(t, SH.select))
            if not selects and (t, RDF.type, SH.SPARQLTarget) not in g:
                raise UnsupportedShapeError(
                    f"shape {shape.name}: sh:target {self.describe(t)} is not a SHACL-AF sh:SPARQLTarget")
            if len(selects) != 1:
                raise UnsupportedShapeError(f"shape {shape.name}: its sh:SPARQLTarget needs exactly one sh:select")
            query = _Query(str(selects[0]), self.prefixes(t), f"the SPARQL target of {shape.name}")
            if not query.projects("this"):
                raise UnsupportedShapeError(f"shape {shape.name}: its SPARQL target does not select ?this")
            found.append(("sparql", query))
        return found

    def prefixes(self, node):
        """Prefixes for a SPARQL query node: pyshacl's defaults plus the sh:declare of its sh:prefixes."""
        g, found = self.graph, dict(DEFAULT_PREFIXES)
        for holder in g.objects(node, SH.prefixes):
            declares = list(g.objects(holder, SH.declare))
            if not declares:   # pyshacl falls back to every ontology's declarations
                for onto in g.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")):
                    declares.extend(g.objects(onto, SH.declare))
            for d in declares:
                prefix, namespace = g.value(d, SH.prefix), g.value(d, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShapeError(f"{self.describe(holder)}: sh:declare needs sh:prefix and sh:namespace")
                found[str(prefix)] = str(namespace)
        return found

    def path(self, path, shape):
        """A SHACL path as a tree: ("iri", IRI), ("seq", [..]), ("alt", [..]), ("inv", p), or
        ("*" | "+" | "?", p)."""
        g = self.graph
        if isinstance(path, URIRef):
            return ("iri", path)
        if not isinstance(path, BNode):
            raise UnsupportedShapeError(f"shape {shape.name}: sh:path {path!r} is not a path")
        if (path, RDF.first, None) in g:
            return ("seq", [self.path(p, shape) for p in Collection(g, path)])
        for p, kind in ((SH.inversePath, "inv"), (SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                        (SH.zeroOrOnePath, "?")):
            inner = g.value(path, p)
            if inner is not None:
                return (kind, self.path(inner, shape))
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            return ("alt", [self.path(p, shape) for p in Collection(g, alternatives)])
        raise UnsupportedShapeError(f"shape {shape.name}: unknown kind of sh:path")

    def describe(self, node):
        """A readable name: hrkgsh:State-code, or where a blank node sits in a named shape."""
        g = self.graph
        if isinstance(node, URIRef):
            return _qname(node, g)
        seen, current = set(), node
        while isinstance(current, BNode) and current not in seen:
            seen.add(current)
            parents = list(g.subjects(None, current))
            if not parents:
                break
            current = parents[0]
        if isinstance(current, URIRef):
            return f"a blank-node shape inside {_qname(current, g)}"
        return f"blank node {node}"


class _SparqlConstraint:
    """A sh:sparql constraint: its query, messages, and how to run it for many focus nodes."""

    def __init__(self, shapes, shape, node):
        g = shapes.graph
        self.node, self.shape = node, shape
        selects = list(g.objects(node, SH.select))
        if len(selects) != 1 or not isinstance(selects[0], Literal):
            raise UnsupportedShapeError(f"shape {shape.name}: its sh:sparql constraint needs exactly one sh:select")
        flags = list(g.objects(node, SH.deactivated))
        self.deactivated = bool(flags and isinstance(flags[0], Literal) and flags[0].value)
        self.messages = sorted(set(g.objects(node, SH.message)))
        text = str(selects[0])
        where = f"the SPARQL constraint of {shape.name}"
        if re.search(r"[?$]shapesGraph\b", text):
            raise UnsupportedShapeError(f"{where} uses $shapesGraph, which pyshacl does not support either")
        if re.search(r"[?$]currentShape\b", text):
            if isinstance(shape.node, BNode):
                raise UnsupportedShapeError(f"{where} uses $currentShape on a blank-node shape")
            text = re.sub(r"[?$]currentShape\b", f"<{shape.node}>", text)
        if re.search(r"[?$]PATH\b", text):
            if not shape.is_property:
                raise UnsupportedShapeError(f"{where} uses $PATH but the shape has no sh:path")
            text = re.sub(r"([\s{}()])[?$]PATH\b", lambda m: m.group(1) + shape.path_text, text)
        self.query = _Query(text, shapes.prefixes(node), where)
        for keyword in ("MINUS", "VALUES", "SERVICE"):
            if self.query.has_keyword(keyword):
                raise UnsupportedShapeError(f"{where} uses {keyword}, which SHACL (and pyshacl) forbid there")


# ---- SPARQL text: just enough parsing to join a focus-node pattern into a query ---------------------

_TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>[A-Za-z_:][\w\-.:%]*)
  | (?P<punct>[{}()])
  | (?P<other>.)
''', re.X | re.S)
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


class _Query:
    """A SELECT query split into prologue, projection, WHERE group and solution modifiers, with the
    places where ?this occurs. ``joinable`` says whether running it once with the focus-node
    pattern joined into its WHERE group gives what pyshacl's pre-binding of $this gives: true when
    $this only occurs in the top-level group, in OPTIONAL and in (NOT) EXISTS groups, and nothing
    aggregates or slices the solutions."""

    def __init__(self, text, prefixes, where):
        self.text, self.where = text, where
        self.prefixes = dict(prefixes)
        toks = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)
                if m.lastgroup not in ("ws", "comment")]
        self.tokens = toks
        i = 0
        while i < len(toks) and toks[i][1].upper() in ("PREFIX", "BASE"):
            if toks[i][1].upper() == "BASE" or i + 2 >= len(toks):
                raise UnsupportedShapeError(f"{where}: BASE is not supported")
            self.prefixes[toks[i + 1][1].rstrip(":")] = toks[i + 2][1][1:-1]
            i += 3
        if i >= len(toks) or toks[i][1].upper() != "SELECT":
            raise UnsupportedShapeError(f"{where}: only SELECT queries are supported")
        self.select_at = i
        j, depth = i + 1, 0
        while j < len(toks) and not (depth == 0 and (toks[j][1].upper() == "WHERE" or toks[j][1] == "{")):
            depth += {"(": 1, ")": -1}.get(toks[j][1], 0)
            j += 1
        self.projection = toks[i + 1:j]
        if j < len(toks) and toks[j][1].upper() == "WHERE":
            j += 1
        if j >= len(toks) or toks[j][1] != "{":
            raise UnsupportedShapeError(f"{where}: cannot find the WHERE group")
        self.open_at = j
        self.this_contexts, stack, k = [], [], j
        while k < len(toks):
            kind, value = toks[k][0], toks[k][1]
            if value == "{":
                stack.append(self._group_kind(k, bool(stack)))
            elif value == "}":
                stack.pop()
                if not stack:
                    break
            elif kind == "var" and value[1:] == "this":
                self.this_contexts.append(tuple(stack))
            k += 1
        if stack:
            raise UnsupportedShapeError(f"{where}: unbalanced braces")
        self.close_at = k
        self.modifiers = toks[k + 1:]
        words = {t[1].upper() for t in self.projection if t[0] == "word"}
        aggregated = bool(words & _AGGREGATES) or any(
            t[1].upper() in ("GROUP", "HAVING", "LIMIT", "OFFSET") for t in self.modifiers)
        in_scope = all(set(ctx) <= {"top", "optional", "exists"} for ctx in self.this_contexts)
        self.joinable = in_scope and not aggregated

    def _group_kind(self, k, nested):
        if not nested:
            return "top"
        before = self.tokens[k - 1][1].upper() if k else ""
        after = self.tokens[k + 1][1].upper() if k + 1 < len(self.tokens) else ""
        if before == "OPTIONAL":
            return "optional"
        if before == "EXISTS":
            return "exists"
        if after == "SELECT":
            return "subquery"
        return before.lower() if before in ("MINUS", "UNION") else "group"

    def has_keyword(self, keyword):
        return any(t[0] == "word" and t[1].upper() == keyword for t in self.tokens)

    def projects(self, name):
        return self.projects_all() or any(t[0] == "var" and t[1][1:] == name for t in self.projection)

    def projects_all(self):
        return any(t[1] == "*" for t in self.projection)

    def _projection_text(self, drop_this):
        """The projection without DISTINCT/REDUCED (and without a bare ?this)."""
        parts, depth = [], 0
        for kind, value, _, _ in self.projection:
            if depth == 0 and value.upper() in ("DISTINCT", "REDUCED"):
                continue
            if depth == 0 and drop_this and kind == "var" and value[1:] == "this":
                continue
            depth += {"(": 1, ")": -1}.get(value, 0)
            parts.append(value)
        return " ".join(parts)

    def _span(self, a, b):
        """Source text from token a to just before token b."""
        start = self.tokens[a][2] if a < len(self.tokens) else len(self.text)
        end = self.tokens[b][2] if b < len(self.tokens) else len(self.text)
        return self.text[start:end]

    def joined(self, focus_text):
        """The query once for all focus nodes: the focus pattern (binding ?this) joined first into
        the WHERE group, ?this projected, duplicate rows removed as pyshacl removes them."""
        projection = "*" if self.projects_all() else "?this " + self._projection_text(drop_this=True)
        body = self._span(self.open_at + 1, self.close_at)
        tail = self._span(self.close_at + 1, len(self.tokens)) if self.modifiers else ""
        return f"SELECT DISTINCT {projection} WHERE {{\n{focus_text}\n{body}\n}}\n{tail}"

    def bound_to(self, term_text):
        """The query with ?this replaced by a constant everywhere (rdflib's pre-binding), projected
        as (constant AS ?this); a subquery projects it under a placeholder name (_BOUND...)."""
        out, last, depth, in_projection, selects = [], 0, 0, False, 0
        for index, (kind, value, start, end) in enumerate(self.tokens):
            if value.upper() == "SELECT" and kind == "word":
                in_projection, depth, selects = True, 0, selects + 1
            elif in_projection and depth == 0 and (value.upper() == "WHERE" or value == "{"):
                in_projection = False
            elif in_projection:
                depth += {"(": 1, ")": -1}.get(value, 0)
            if kind == "var" and value[1:] == "this":
                out.append(self.text[last:start])
                if in_projection and depth == 0:
                    name = "this" if index > self.select_at and selects == 1 else f"{_BOUND}{index}"
                    out.append(f"({term_text} AS ?{name})")
                else:
                    out.append(term_text)
                last = end
        out.append(self.text[last:])
        text = "".join(out)
        if not any(t[0] == "var" and t[1][1:] == "this" for t in self.projection):
            start = self.tokens[self.select_at][3]
            text = text[:start] + f" ({term_text} AS ?this)" + text[start:] if not self.projects_all() else text
        return text

    def projecting_this(self):
        """The query text with ?this in its projection (pyoxigraph substitutes only projected
        variables)."""
        if self.projects("this"):
            return self.text
        start = self.tokens[self.select_at][3]
        return self.text[:start] + " ?this" + self.text[start:] if not any(
            t[1].upper() in ("DISTINCT", "REDUCED") for t in self.projection[:1]) else \
            self.text[:self.projection[0][3]] + " ?this" + self.text[self.projection[0][3]:]

    def body_text(self):
        """The whole query without its prologue, for use as a subquery."""
        return self._span(self.select_at, len(self.tokens))


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
        self._subclasses, self._bad_typed, self._pattern_misses, self._failing = {}, {}, {}, {}
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

    def select(self, text, prefixes=None, where=None):
        mode = self.exact if _DATASET in text else self.fast
        try:
            solutions = self.store.query(text, prefixes=prefixes or None, **mode)
        except SyntaxError as exc:
            raise UnsupportedShapeError(f"{where or 'a generated query'} does not parse: {exc}\n{text}") from None
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names} for s in solutions]

    # -- focus nodes ------------------------------------------------------------------------------
    def run(self):
        raws = []
        for shape in self.shapes.top_level:
            if shape.deactivated:
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
        rows = self.select(f"SELECT DISTINCT ?this WHERE {{ {focus.text} }} LIMIT {_VALUES_JOIN + 1}", focus.prefixes)
        if not rows:
            return None
        if _DATASET in focus.text and len(rows) <= _VALUES_JOIN and \
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
        """``cls`` and its subclasses in the data graph, as SPARQL terms (pyshacl's targetClass)."""
        if cls not in self._subclasses:
            rows = self.select(f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {_n3(cls)} }} {_DATASET}")
            self._subclasses[cls] = sorted({str(r["c"]) for r in rows if not isinstance(r["c"], ox.BlankNode)}
                                           | {_n3(cls)})
        return self._subclasses[cls]

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
            values = self.select(f"SELECT DISTINCT ?value WHERE {{ {self.tp(self.fresh('s'), path, '?value')} }} "
                                 f"LIMIT {_VALUES_JOIN + 1}")
            if len(values) > _VALUES_JOIN or any(isinstance(r["value"], ox.BlankNode) for r in values):
                self._failing[key] = None          # too many (or unwritable) values: test them in place
            elif values:
                terms = " ".join(str(r["value"]) for r in values)
                self._failing[key] = [r["value"] for r in self.select(
                    f"SELECT ?value WHERE {{ VALUES ?value {{ {terms} }}\nFILTER(!({ok})) }}")]
            else:
                self._failing[key] = []
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
                str(r["cand"]) for r in rows if not matcher.search(_pattern_string(self.rdflib(r["cand"]))))
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


def _path_text(path):
    """A path tree (see _Shapes.path) as a SPARQL property path."""
    kind, arg = path
    if kind == "iri":
        return f"<{arg}>"
    if kind == "seq":
        return "(" + " / ".join(_path_text(p) for p in arg) + ")"
    if kind == "alt":
        return "(" + " | ".join(_path_text(p) for p in arg) + ")"
    inner = _path_text(arg)
    return f"(^{inner})" if kind == "inv" else f"({inner}{kind})"


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


# ---- the report ------------------------------------------------------------------------------------

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


# ---- small helpers ----------------------------------------------------------------------------------

def _data_graphs(store, data_graphs):
    if data_graphs is None:
        named = list(store.named_graphs())
        graphs = sorted((g for g in named if g.value != str(INFERRED_GRAPH)), key=lambda g: g.value)
        # a store hrkg built copies its inferred graph into the default one (build.merge_derived):
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
    literal = _quiet_literal(term.value, URIRef(datatype))
    if literal.ill_typed is True:
        return False
    expected = _PYTHON_TYPES.get(URIRef(datatype))
    return expected is None or isinstance(literal.value, expected)


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


def _qname(node, graph=None):
    if node is None:
        return "?"
    if graph is not None:
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 - rdflib raises several kinds for odd IRIs
            return str(node)
    return "sh:" + str(node)[len(str(SH)):] if str(node).startswith(str(SH)) else str(node)


def _chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]
