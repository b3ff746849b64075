"""The shapes: the bundled shapes (or given files) loaded into one graph, and compiled into the
model the engine evaluates (_Shapes: every shape with its path, severity, messages, targets and
SPARQL constraints), checked up front so a shape the engine cannot evaluate is refused by name
before any query runs."""
import functools
import hashlib
import re
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from ..errors import UnsupportedShapeError
from ..load import parse_file
from ..resources import bundle_files
from .sparql_text import _Query

# Constraint parameters the engine evaluates (sh:flags and the qualified counts belong to others).
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

ALLOWED_SEVERITIES = {SH.Warning, SH.Info}   # allow_warnings=True: these never make a shape fail
DEFAULT_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": "http://www.w3.org/2002/07/owl#"}


def load_shapes(paths=None):
    """The bundled shapes (or the given files) in one graph, a new copy on each call.

    The files are parsed once per content: a parse gives blank nodes new names, and _compiled
    knows a shapes graph by its triples, so shapes parsed again were compiled again (half a
    second, more than validating a small graph). A copy keeps the names."""
    files = [Path(p) for p in (paths or bundle_files("shapes", ".ttl"))]
    parsed = _parsed(tuple((str(f), hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else None)
                           for f in files))
    return _copy(parsed)


@functools.lru_cache(maxsize=4)
def _parsed(files):
    """The graph parsed from ``files``, ((path, sha-256 or None), ...); a missing or bad file
    raises LoadError naming it (and is not remembered)."""
    parsed = Graph()
    for path, _ in files:
        parse_file(path, parsed)
    return parsed


def _copy(graph):
    """A new graph with the triples (blank nodes keep their names) and prefixes of ``graph``."""
    copy = Graph(bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        copy.bind(prefix, namespace, override=True, replace=True)
    for t in graph:
        copy.add(t)
    return copy


def check_shapes(shapes_graph=None):
    """Raise UnsupportedShapeError if a shape uses something validate_store cannot evaluate."""
    _Shapes(shapes_graph if shapes_graph is not None else load_shapes())


def compile_shapes(shapes_graph=None):
    """The shapes (default the bundled ones) compiled for the engine. validate_store and
    validate_graph take them in place of the graph: a caller that validates many graphs compiles
    them once, where each call with a graph looks it up by its triples (15 ms for hrkg's shapes)."""
    return _compiled(shapes_graph if shapes_graph is not None else load_shapes())


_COMPILED = {}        # the shapes' triples -> _Shapes, the last few shapes graphs compiled


def _compiled(shapes_graph):
    """_Shapes for ``shapes_graph``, compiled once per content (compiling takes about half a
    second, more than validating a small graph). The cached entry reads its own copy of the
    graph, so a caller changing its graph afterwards never changes what was compiled."""
    triples, prefixes = frozenset(shapes_graph), tuple(shapes_graph.namespaces())
    key = (triples, prefixes)
    found = _COMPILED.get(key)
    if found is None:
        found = _Shapes(_copy(shapes_graph))
        if len(_COMPILED) >= 4:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = found
    return found


# ---- the shapes graph ---------------------------------------------------------------------------

class _Shape:
    """One shape: its path, severity, messages and parameters, read from the shapes graph."""

    def __init__(self, shapes, node):
        sg = shapes.graph
        self.shapes, self.node, self._values = shapes, node, {}
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
        """The parameter's values, read from the (compiled, never changed) shapes graph once."""
        if parameter not in self._values:
            self._values[parameter] = list(self.shapes.graph.objects(self.node, parameter))
        return list(self._values[parameter])

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
                "the compiled validator (hrkg/shacl/) evaluates only the SHACL Core components in shapes.SUPPORTED")
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
                    "(hrkg/shacl/) does not evaluate; add it there, or validate with pyshacl")

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


def _qname(node, graph=None):
    if node is None:
        return "?"
    if graph is not None:
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 - rdflib raises several kinds for odd IRIs
            return str(node)
    return "sh:" + str(node)[len(str(SH)):] if str(node).startswith(str(SH)) else str(node)
