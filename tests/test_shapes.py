"""Every SHACL shape has a fixture that must fail it; the shipped data conforms.

Each file in tests/fixtures/shapes/ holds a tiny graph and, in its header, the shapes it must
violate: ``# expect: hrkgsh:ShapeName Violation``. It is validated together with the ontology.
"""
import re
from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import RDF, SH

from conftest import shape_fixture_param

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
SHAPES_NS = "https://w3id.org/hrkg/shapes#"
EXPECT = re.compile(r"^#\s*expect:\s*(\S+)\s+(Violation|Warning|Info)\s*$", re.M)


def expand(name):
    return name.replace("hrkgsh:", SHAPES_NS)


def expectations(path):
    return {(expand(shape), severity) for shape, severity in EXPECT.findall(path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def shapes(shapes_graph):
    return shapes_graph


def check(shape_fixture_pyshacl, fixture):
    """pyshacl's results on the ontology plus ``fixture`` (conftest.py: once per test process,
    shared with test_shacl_sparql.py, which checks the compiled validator gives the same)."""
    report = shape_fixture_pyshacl(fixture)
    return {(r.shape, r.severity) for r in report.results}


BROKEN = sorted(p for p in FIXTURES.glob("*.ttl") if p.name != "valid.ttl")


@pytest.mark.parametrize("fixture", [shape_fixture_param(p) for p in BROKEN])
def test_fixture_fails_exactly_its_shape(shape_fixture_pyshacl, fixture):
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' line"
    found = {(str(s), sev) for s, sev in check(shape_fixture_pyshacl, fixture)}
    assert expected <= found, f"{fixture.name}: expected {expected}, got {found}"
    unexpected_violations = {f for f in found if f[1] == "Violation"} - expected
    assert not unexpected_violations, f"{fixture.name} also violates {unexpected_violations}"


@pytest.mark.parametrize("fixture", [shape_fixture_param(FIXTURES / "valid.ttl")])
def test_valid_fixture_conforms(shape_fixture_pyshacl, fixture):
    assert check(shape_fixture_pyshacl, fixture) == set()


def constraint_shapes(shapes):
    """IRIs of every shape that carries a constraint (node shapes, property shapes, SPARQL)."""
    names = set()
    for s in set(shapes.subjects()):
        if not isinstance(s, URIRef) or not str(s).startswith(SHAPES_NS):
            continue
        if (s, RDF.type, SH.NodeShape) in shapes or (s, RDF.type, SH.PropertyShape) in shapes \
                or (s, SH.path, None) in shapes:
            names.add(str(s))
    return names


def test_every_shape_has_a_fixture_that_fails_it(shapes):
    covered = {shape for f in BROKEN for shape, _ in expectations(f)}
    # a node shape is covered when a fixture fails it or one of its property shapes
    missing = []
    for shape in sorted(constraint_shapes(shapes)):
        props = {str(o) for o in shapes.objects(URIRef(shape), SH.property)}
        sparql = list(shapes.objects(URIRef(shape), SH.sparql))
        own = not props or sparql or any((URIRef(shape), p, None) in shapes for p in
                                         (SH["in"], SH.pattern, SH.datatype, SH["class"], SH.minCount,
                                          SH.maxCount, SH["or"], SH.lessThan, SH.lessThanOrEquals))
        if shape not in covered and (own or not props & covered):
            missing.append(shape)
    assert not missing, f"shapes without a failing fixture: {missing}"


def test_shipped_data_has_no_violations(kg):
    report = kg.validate()
    assert report.violations == [], [(r.focus, r.shape, r.message) for r in report.violations[:5]]
    assert kg.validate(include_inferred=True).violations == []


def test_validation_sees_class_errors_that_inference_would_hide(tmp_path, bundle_without_ledger):
    """Regression: seed 003 once 'reflected' a news article; rdfs:range hid it under inference.
    (The bundle without the UN Treaty Collection ledger, conftest: seed 003, the article and the
    range are in data/sources.ttl and the ontology, and the graph is built in memory.)"""
    from hrkg import KnowledgeGraph
    wrong = tmp_path / "wrong.ttl"
    wrong.write_text("""@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
@prefix src: <https://w3id.org/hrkg/id/source/> .
src:seed-003 hrkg:reflects src:vns-2025-06-19 .
""")
    report = KnowledgeGraph.open([wrong]).validate()
    assert any(r.shape.endswith("#Source-reflects") and r.focus.endswith("/seed-003") for r in report.violations)
