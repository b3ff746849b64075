"""The compiled SHACL validator (hrkg/shacl/engine.py) gives pyshacl's results.

Every shape fixture, a file of shapes using what hrkg's shapes do not use yet
(fixtures/shacl_sparql/), the bundled data and seeded mutations of it are validated both ways and
must give the same results: focus node, result path, value, source shape, constraint component,
severity, messages, and how many times each occurs. Blank nodes compare as equal.

Each case runs in an in-memory store (validate_graph) and in the layout of ``hrkg build``: the data
split over named graphs next to an "inferred" graph that holds poison, triples that would change the
results if validation ever read that graph.
"""
import contextlib
import random
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.graph import ReadOnlyGraphAggregate
from rdflib.namespace import RDF, SH, XSD

from hrkg.errors import HrkgError, UnsupportedShapeError
from hrkg.load import INFERRED_GRAPH, parse_file
from hrkg.shacl.engine import validate_graph, validate_store
from hrkg.shacl.reference import validate
from hrkg.shacl.shapes import _Shapes, check_shapes, compile_shapes

from conftest import in_ledger_sample, is_ledger_graph, shape_fixture_param
from hrkg.terms import to_ox

FIXTURES = Path(__file__).parent / "fixtures"
SHAPE_FIXTURES = sorted((FIXTURES / "shapes").glob("*.ttl"))
ONTOLOGY_GRAPH = "https://w3id.org/hrkg/graph/ontology/hrkg.ttl"
DATA_GRAPH = "https://w3id.org/hrkg/graph/data/under-test.ttl"
ID_XAA = "https://w3id.org/hrkg/id/state/XAA"
ONTOLOGY_IRI = "https://w3id.org/hrkg/ontology"


@pytest.fixture(scope="module")
def shapes(shapes_graph):
    return shapes_graph


@pytest.fixture(scope="module")
def ontology(ontology_graph):
    return ontology_graph


# ---- comparing reports ---------------------------------------------------------------------------

_scratch = ox.Store()


def stored_form(term):
    """A literal as pyoxigraph stores it: canonical lexical form, lower-case language tag."""
    if not isinstance(term, Literal) or (term.datatype in (None, XSD.string) and not term.language):
        return term
    _scratch.clear()
    lit = ox.Literal(str(term), language=term.language) if term.language else \
        ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    _scratch.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), lit))
    stored = next(iter(_scratch)).object
    if stored.language:
        return Literal(stored.value, lang=stored.language)
    return Literal(stored.value, datatype=URIRef(stored.datatype.value))


def result_keys(report_graph, *, as_stored=False):
    """Each result of a SHACL report graph as a comparable tuple, counted."""
    def norm(term):
        if term is None:
            return None
        if isinstance(term, BNode):
            return "_:"
        return (stored_form(term) if as_stored else term).n3()

    found = Counter()
    for r in report_graph.subjects(SH.resultSeverity, None):
        def v(p):
            return report_graph.value(r, p)
        messages = tuple(sorted(str(m) for m in report_graph.objects(r, SH.resultMessage)))
        found[(norm(v(SH.focusNode)), norm(v(SH.resultPath)), norm(v(SH.value)), norm(v(SH.sourceShape)),
               norm(v(SH.sourceConstraintComponent)), norm(v(SH.resultSeverity)), messages)] += 1
    return found


def assert_same(expected, got, what):
    missing, extra = expected - got, got - expected
    assert not missing and not extra, (f"{what}: pyshacl only {sorted(map(repr, missing.elements()))}; "
                                       f"compiled only {sorted(map(repr, extra.elements()))}")


class Poisoned(NamedTuple):
    """poisoned()'s store, the names of the graphs it was made of, and the predicates it poisoned
    with (poisoned_in_place's ``base``)."""
    store: ox.Store
    names: frozenset
    predicates: frozenset


def poisoned_store(graphs, shapes_graph):
    """A store laid out like hrkg build's: ``graphs`` (name -> rdflib Graph) as named graphs, plus
    the inferred graph filled with triples that would change the results if validation read them:
    every subject gets every targeted class and a bogus value for every predicate, every object
    every class that sh:class asks for."""
    store = ox.Store()
    _load(store, graphs, list(graphs))
    for template, where in _poison(graphs, shapes_graph, list(graphs), frozenset()):
        # in the store itself: a few hundred thousand quads, too many to make one by one in Python
        store.update(f"INSERT {{ GRAPH <{INFERRED_GRAPH}> {{ {template} }} }} WHERE {{ {where} }}")
    return store


@contextlib.contextmanager
def poisoned_in_place(base, graphs, shapes_graph):
    """poisoned_store(graphs, shapes_graph) made in ``base``'s own store and undone on exit.

    ``base``: poisoned(...) of some of ``graphs`` with the same shapes (every shape fixture is
    validated with the ontology). Only what the other graphs add is made: the graphs themselves,
    their nodes with every class and predicate, every node with their new predicates; a few
    hundred quads, where copying the base into a new store meant 30,000 for each fixture. On exit
    exactly those quads are removed again (test_a_poisoned_base_makes_the_same_store)."""
    store, new = base.store, [name for name in graphs if name not in base.names]
    added = set()
    try:
        _load(store, graphs, new)
        inferred = ox.NamedNode(INFERRED_GRAPH)
        for template, where in _poison(graphs, shapes_graph, new, base.predicates):
            for t in store.query(f"CONSTRUCT {{ {template} }} WHERE {{ {where} }}"):
                q = ox.Quad(t.subject, t.predicate, t.object, inferred)
                if q not in store:
                    added.add(q)
        store.extend(added)
        yield store
    finally:
        for q in added:
            store.remove(q)
        for name in new:
            store.remove_graph(ox.NamedNode(name))


def _load(store, graphs, names):
    for name in names:
        if len(graphs[name]):
            store.load(graphs[name].serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES,
                       to_graph=ox.NamedNode(name))


def _poison(graphs, shapes_graph, new, old_predicates):
    """(triple template, WHERE pattern) pairs of the poison the graphs ``new`` add to a store that
    holds ``graphs`` and the poison of the others, made with ``old_predicates``."""
    classes = set(shapes_graph.objects(None, SH.targetClass)) | set(shapes_graph.objects(None, SH["class"]))
    predicates = poisoning_predicates(graphs, shapes_graph)
    values = lambda terms: " ".join(sorted(t.n3() for t in terms if isinstance(t, URIRef)))  # noqa: E731

    def nodes(names):
        """The IRIs that are a subject or an object in the graphs ``names``."""
        graphs = " UNION ".join(f"{{ GRAPH <{name}> {{ {{ ?n ?x ?y }} UNION {{ ?y ?x ?n }} }} }}" for name in names)
        return f"{{ SELECT DISTINCT ?n WHERE {{ {graphs} FILTER(isIRI(?n)) }} }}"

    out = []
    if new:
        out.append(("?n a ?c", f"{nodes(new)} VALUES ?c {{ {values(classes)} }}"))
        out.append(('?n ?p "poison"', f"{nodes(new)} VALUES ?p {{ {values(predicates)} }}"))
    if old_predicates and predicates - old_predicates:
        out.append(('?n ?p "poison"', f"{nodes(graphs)} VALUES ?p {{ {values(predicates - old_predicates)} }}"))
    return out


def poisoning_predicates(graphs, shapes_graph):
    return frozenset({p for g in graphs.values() for p in g.predicates()} |
                     {p for p in shapes_graph.objects(None, SH.path) if isinstance(p, URIRef)})


def poisoned(graphs, shapes_graph):
    return Poisoned(poisoned_store(graphs, shapes_graph), frozenset(graphs),
                    poisoning_predicates(graphs, shapes_graph))


def check_both_ways(data_parts, shapes_graph, what, expected=None, base=None, compiled=None):
    """pyshacl over the union of ``data_parts`` (``expected``, when already computed on that
    union) == validate_graph == validate_store (poisoned; in ``base``'s store, as
    poisoned_in_place makes it, when given). ``compiled``: compile_shapes(shapes_graph), when
    the caller keeps it. Returns pyshacl's report and validate_graph's."""
    if expected is None:
        union = Graph()
        for part in data_parts.values():
            for t in part:
                union.add(t)
        expected = validate(union, shapes_graph)
    else:   # validate_graph reads the triples and objects of the parts as one graph, no copy needed
        union = ReadOnlyGraphAggregate(list(data_parts.values()))
    compiled = compiled or compile_shapes(shapes_graph)
    in_memory = validate_graph(union, compiled)
    assert_same(result_keys(expected.report_graph), result_keys(in_memory.report_graph),
                f"{what} (in-memory store)")
    with (poisoned_in_place(base, data_parts, shapes_graph) if base is not None
          else contextlib.nullcontext(poisoned_store(data_parts, shapes_graph))) as store:
        got = validate_store(store, compiled)          # default: every graph but the inferred one
    assert_same(result_keys(expected.report_graph, as_stored=True), result_keys(got.report_graph, as_stored=True),
                f"{what} (named graphs next to a poisoned inferred graph)")
    return expected, in_memory


# ---- every shape fixture ----------------------------------------------------------------------------

EXPECT = re.compile(r"^#\s*expect:\s*hrkgsh:(\S+)\s+(Violation|Warning)\s*$", re.M)


@pytest.fixture(scope="module")
def poisoned_ontology(ontology, shapes):
    """The ontology and its poison: every shape fixture's store, the fixture added in place."""
    return poisoned({ONTOLOGY_GRAPH: ontology}, shapes)


@pytest.fixture(scope="module")
def compiled_shapes(shapes):
    return compile_shapes(shapes)


@pytest.mark.parametrize("fixture", [shape_fixture_param(p) for p in SHAPE_FIXTURES])
def test_shape_fixture_same_as_pyshacl(fixture, ontology, shapes, shape_fixture_pyshacl, poisoned_ontology,
                                       compiled_shapes):
    """pyshacl's report on the ontology plus the fixture is computed once per test process
    (conftest.shape_fixture_pyshacl; test_shapes.py reads the same)."""
    data = parse_file(fixture)
    report, compiled = check_both_ways({ONTOLOGY_GRAPH: ontology, DATA_GRAPH: data}, shapes, fixture.name,
                                       expected=shape_fixture_pyshacl(fixture), base=poisoned_ontology,
                                       compiled=compiled_shapes)
    expected = {(f"https://w3id.org/hrkg/shapes#{s}", sev) for s, sev in EXPECT.findall(fixture.read_text("utf-8"))}
    assert expected <= {(r.shape, r.severity) for r in compiled.results}, fixture.name
    assert len(compiled.results) == len(report.results)


def test_a_poisoned_base_makes_the_same_store(ontology, shapes, poisoned_ontology):
    """The shape fixtures' stores are the ontology's poisoned store with the fixture added in place
    (poisoned_in_place): the same store as one poisoned whole, here for valid.ttl plus a predicate
    no shape or ontology triple names, and on exit the ontology's store exactly as before."""
    data = parse_file(FIXTURES / "shapes" / "valid.ttl")
    data.add((URIRef(ID_XAA), URIRef("urn:example:unknown"), Literal("x")))
    graphs = {ONTOLOGY_GRAPH: ontology, DATA_GRAPH: data}

    def quads(store):
        return Counter(tuple("_:" if isinstance(t, ox.BlankNode) else str(t) for t in q) for q in store)
    before = quads(poisoned_ontology.store)
    whole = quads(poisoned_store(graphs, shapes))
    with poisoned_in_place(poisoned_ontology, graphs, shapes) as store:
        assert quads(store) == whole
    assert quads(poisoned_ontology.store) == before
    assert set(poisoned_ontology.store.named_graphs()) == {ox.NamedNode(ONTOLOGY_GRAPH), ox.NamedNode(INFERRED_GRAPH)}
    assert whole[(f"<{ID_XAA}>", "<urn:example:unknown>", '"poison"', f"<{INFERRED_GRAPH}>")] == 1
    assert whole[(f"<{ONTOLOGY_IRI}>", "<urn:example:unknown>", '"poison"', f"<{INFERRED_GRAPH}>")] == 1


def test_values_are_reported_as_written():
    """pyoxigraph stores "7.0"^^xsd:decimal as "7"; validate_graph reports what the file says."""
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <urn:S> sh:targetSubjectsOf <urn:value> ; sh:property [ sh:path <urn:value> ; sh:datatype xsd:integer ] .
    """, format="turtle")
    data = Graph().parse(data='<urn:x> <urn:value> "7.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .', format="nt")
    [result] = validate_graph(data, shapes).results
    assert result.value == "7.0" and result.focus == "urn:x"
    assert result.constraint == "sh:DatatypeConstraintComponent"


# ---- what hrkg's shapes do not use yet ----------------------------------------------------------------

def test_other_shacl_features_same_as_pyshacl():
    shapes = Graph().parse(FIXTURES / "shacl_sparql" / "shapes.ttl")
    data = Graph().parse(FIXTURES / "shacl_sparql" / "data.ttl")
    report, got = check_both_ways({DATA_GRAPH: data}, shapes, "shacl_sparql/data.ttl")
    by_shape = Counter(r.shape.rsplit("/", 1)[-1] for r in got.results)
    # a few facts of data.ttl, so the comparison above is not between two empty reports
    assert by_shape["OneChild"] == 0 and by_shape["LongTags"] == 2 and by_shape["Thing-partner"] == 2
    assert {(r.focus, r.value) for r in got.results if r.shape.endswith("#Thing-start") or r.shape.endswith("Thing-start")} \
        == {("http://example.org/a", "2020-01-02"), ("http://example.org/b", "2020-13-01")}
    one_child = [r for r in got.results if r.message == "one child only"]
    assert [r.focus for r in one_child] == ["http://example.org/p"]
    details = [r for r in got.results if r.message == "a partner has a name"]
    assert [r.focus for r in details] == ["http://example.org/f1"]     # sh:node's nested result
    assert len(report.results) == len(got.results) == 26


# ---- the bundled data -------------------------------------------------------------------------------

def asserted_parts(kg):
    return {str(g.identifier): g for g in kg.asserted_graphs()}


def bundled_store(kg, changed=None, extra_inferred=()):
    """A store laid out like hrkg build's: a named graph per input file of ``kg`` (``changed``:
    name -> rdflib Graph to load instead of that file's triples) and kg's inferred graph plus
    ``extra_inferred``. The unchanged graphs are copied store to store, not through rdflib."""
    store = ox.Store()
    changed = changed or {}
    for name in list(kg.manifest["graphs"]) + [str(INFERRED_GRAPH)]:
        graph = ox.NamedNode(name)
        if name in changed:
            store.load(changed[name].serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        else:
            store.extend(list(kg.store.quads_for_pattern(None, None, None, graph)))
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    store.extend([ox.Quad(*(to_ox(x) for x in t), inferred) for t in extra_inferred])
    return store


def plain(results):
    return sorted((r.severity, r.focus, r.path, r.value, r.message, r.shape, r.constraint, r.defined_in)
                  for r in results)


def test_bundled_data_same_as_pyshacl(kg, shapes):
    expected = kg.validate()
    got = validate_store(bundled_store(kg), shapes)
    assert_same(result_keys(expected.report_graph), result_keys(got.report_graph), "bundled data")
    assert plain(got.results) == plain(expected.results)
    # the bundled data conforms; the news articles without a date are warnings
    assert got.violations == [] and got.conforms() and not got.conforms(strict=True)
    assert "https://w3id.org/hrkg/id/source/seed-003" in {r.focus for r in got.warnings}


def test_inferred_triples_never_hide_a_violation(kg, shapes):
    """Regression kept from test_shapes: seed 003 once 'reflected' a news article; under OWL RL the
    rdfs:range of hrkg:reflects makes it an AuthoritativeRecord, so reading the inferred graph
    would hide the sh:class violation."""
    parts = asserted_parts(kg)
    sources = next(g for name, g in parts.items() if name.endswith("/sources.ttl"))
    wrong = Graph()
    wrong += sources
    wrong.add((URIRef("https://w3id.org/hrkg/id/source/seed-003"), URIRef("https://w3id.org/hrkg/ontology#reflects"),
               URIRef("https://w3id.org/hrkg/id/source/vns-2025-06-19")))
    hidden = (URIRef("https://w3id.org/hrkg/id/source/vns-2025-06-19"), RDF.type,
              URIRef("https://w3id.org/hrkg/ontology#AuthoritativeRecord"))
    store = bundled_store(kg, {name: wrong for name in parts if name.endswith("/sources.ttl")}, [hidden])
    got = validate_store(store, shapes)
    [result] = got.violations
    assert result.shape.endswith("#Source-reflects") and result.focus.endswith("/seed-003")
    assert result.value == "src:vns-2025-06-19" and result.defined_in == "data/sources.ttl"
    # the same store read with the inferred graph hides it: the default data graphs matter
    everything = list(store.named_graphs())
    assert validate_store(store, shapes, data_graphs=everything).violations == []


def test_report_names_label_and_file(kg, shapes):
    """A wrong alpha-2 code on Viet Nam: the report gives its English name and its file."""
    parts = asserted_parts(kg)
    name = next(n for n in parts if n.endswith("/reference/states.ttl"))
    states = Graph()
    states += parts[name]
    states.add((URIRef("https://w3id.org/hrkg/id/state/VNM"), URIRef("https://w3id.org/hrkg/ontology#alpha2"),
                Literal("vn")))
    got = validate_store(bundled_store(kg, {name: states}), shapes)
    codes = [r for r in got.violations if r.shape.endswith("#State-alpha2")]
    assert {(r.constraint, r.value) for r in codes} == {("sh:PatternConstraintComponent", "vn"),
                                                        ("sh:MaxCountConstraintComponent", None)}
    assert {(r.focus_label, r.defined_in) for r in codes} == {("Viet Nam", "data/reference/states.ttl")}


def _dice(seed, triple):
    """A random generator for one triple, blind to blank node labels, so a seed damages the same
    triples on every run."""
    return random.Random(repr((seed,) + tuple("_:" if isinstance(t, BNode) else t.n3() for t in triple)))


def _other_value(rng, literal):
    """Another valid literal of the same datatype (None where there is no obvious one)."""
    if literal.datatype == XSD.date:
        return Literal(f"{rng.randint(1940, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", datatype=XSD.date)
    if literal.datatype in (XSD.integer, XSD.nonNegativeInteger):
        low = 0 if literal.datatype == XSD.nonNegativeInteger else -3
        return Literal(str(rng.randint(low, 300)), datatype=literal.datatype)
    if literal.datatype is None and not literal.language:
        return Literal(rng.choice(["x", "", "ICCPR"]))
    return None


def damaged_copy(kg, seed):
    """The bundled data with triples dropped and literals replaced by other valid values; of the
    UN Treaty Collection ledger (41,000 triples of a few shapes) only the sample of
    conftest.in_ledger_sample, as in test_mutations.py: pyshacl on the whole ledger takes a minute."""
    parts = {}
    for name, graph in asserted_parts(kg).items():
        damaged = Graph()
        ledger = is_ledger_graph(name)
        for s, p, o in graph:
            if ledger and not in_ledger_sample(s):
                continue
            rng = _dice(seed, (s, p, o))
            roll = rng.random()
            if roll < 0.03:
                continue
            if isinstance(o, Literal) and roll < 0.08:
                o = _other_value(rng, o) or o
            damaged.add((s, p, o))
        parts[name] = damaged
    return parts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_bundled_data_same_as_pyshacl(kg, shapes, seed):
    """Seeded damage to the bundled data (triples dropped, dates, counts and strings changed), with
    the inferred graph of the undamaged data still in the store."""
    parts = damaged_copy(kg, seed)
    union = Graph()
    for g in parts.values():
        union += g
    expected = validate(union, shapes)
    got = validate_store(bundled_store(kg, parts), shapes)
    assert len(expected.violations) > 10
    assert_same(result_keys(expected.report_graph, as_stored=True), result_keys(got.report_graph, as_stored=True),
                f"bundled data damaged with seed {seed}")


def test_ill_typed_values_reported_like_pyshacl(kg, shapes):
    """Literals of the wrong type: an impossible date, a date written as a plain string, a count
    written as a date. Both validators report each as a datatype violation (sh:datatype, sh:or of
    datatypes), and everything else that is not a comparison the same way.

    Only that part of the reports is compared. Where such a value is also compared with another
    (sh:lessThan, a SPARQL constraint's FILTER), SPARQL makes the comparison a type error and
    SHACL makes a sh:lessThan pair that is not "less than" a violation; Oxigraph follows both,
    rdflib's evaluator under pyshacl compares lexical forms (or raises TypeError for a date
    against an integer), so those results legitimately differ."""
    vnm_cat = URIRef("https://w3id.org/hrkg/id/action/VNM-CAT-ratification")
    review = URIRef("https://w3id.org/hrkg/id/upr-review/VNM-III")
    hrkg = "https://w3id.org/hrkg/ontology#"
    parts = {}
    for name, graph in asserted_parts(kg).items():
        copy = Graph()
        ledger = is_ledger_graph(name)      # the ledger sampled, as in damaged_copy
        for s, p, o in graph:
            if ledger and not in_ledger_sample(s):
                continue
            if s == vnm_cat and str(p) == hrkg + "date":
                o = Literal("2015-02-30", datatype=XSD.date)
            elif s == review and str(p) == hrkg + "recommendationCount":
                o = Literal("2019-01-22", datatype=XSD.date)
            copy.add((s, p, o))
        parts[name] = copy
    union = Graph()
    for g in parts.values():
        union += g
    expected = validate(union, shapes)
    got = validate_store(bundled_store(kg, parts), shapes)

    comparisons = {f"<{c}>" for c in (SH.SPARQLConstraintComponent, SH.LessThanConstraintComponent,
                                       SH.LessThanOrEqualsConstraintComponent)}

    def type_results(report):
        found = result_keys(report.report_graph, as_stored=True)
        return Counter({k: n for k, n in found.items() if k[4] not in comparisons})

    assert_same(type_results(expected), type_results(got), "ill-typed values")
    assert {(vnm_cat.n3(), f"<{SH.DatatypeConstraintComponent}>"), (review.n3(), f"<{SH.OrConstraintComponent}>")} \
        <= {(k[0], k[4]) for k in type_results(got)}


# ---- what the compiled validator cannot do is an error, never a silent pass -----------------------------

HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@pytest.mark.parametrize("shape, named", [
    ("ex:S sh:targetClass ex:C ; sh:property ex:S-name . ex:S-name sh:path ex:name ; sh:minLength 3 .",
     ("ex:S-name", "sh:minLength")),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true .", ("ex:S", "sh:closed")),
    ("ex:S sh:targetClass ex:C ; sh:and ( [ sh:datatype xsd:string ] ) .", ("ex:S", "sh:and")),
    ("ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:uniqueLang true ] .",
     ("inside ex:S", "sh:uniqueLang")),
    ("ex:S sh:targetClass ex:C ; sh:or ( [ sh:path ex:p ; sh:qualifiedValueShape [ sh:datatype xsd:string ] ;"
     " sh:qualifiedMinCount 1 ] ) .", ("inside ex:S", "sh:qualifiedValueShape")),
    ("ex:S sh:targetClass ex:C ; sh:target [ a ex:MyTargetType ] .", ("ex:S", "sh:SPARQLTarget")),
    ("ex:Len a sh:ConstraintComponent ; sh:parameter [ sh:path ex:len ] . ex:S sh:targetClass ex:C ; ex:len 3 .",
     ("ex:Len",)),
    ("ex:S sh:targetClass ex:C ; sh:sparql [ sh:select \"SELECT $this WHERE { $this ex:p ?o MINUS { ?o ex:q 1 } }\" ] .",
     ("ex:S", "MINUS")),
])
def test_unsupported_constraint_is_an_error_naming_the_shape(shape, named):
    shapes = Graph().parse(data=HEAD + shape, format="turtle")
    with pytest.raises(UnsupportedShapeError) as caught:
        validate_graph(Graph(), shapes)         # raised before any data is read
    for word in named:
        assert word in str(caught.value)
    assert isinstance(caught.value, HrkgError) and caught.value.exit_code == 2


def test_bundled_shapes_are_all_supported(shapes):
    check_shapes(shapes)
    check_shapes()


def test_bundled_sparql_constraints_run_once_for_all_focus_nodes(shapes):
    """Each SPARQL constraint of the bundled shapes is joined with its focus nodes into one query;
    one evaluated per focus node would be pyshacl's cost again at world scale."""
    compiled = _Shapes(shapes)
    assert len(compiled.sparql) >= 10
    slow = [c.shape.name for c in compiled.sparql.values() if not c.query.joinable]
    assert slow == []
