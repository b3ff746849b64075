"""A query process imports only what answering needs (issue 12): ``hrkg query`` on a built store
never imports rdflib, owlrl, pySHACL or oxrdflib, in any output format; and what it prints from
pyoxigraph terms is what rdflib printed for the same terms. Timings are in benchmarks/coldstart.py,
not here."""
import json
import os
import subprocess
import sys

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrkg import terms
from hrkg.query import FORMATS, Result, format_result, inline_bindings, run_sparql_store

HEAVY = ("rdflib", "owlrl", "pyshacl", "oxrdflib")
XSD = "http://www.w3.org/2001/XMLSchema#"

# Run in a fresh interpreter: a meta-path finder records the first import of each heavy package
# with the stack that asked for it, then the CLI answers every stored query's examples in every
# format, from the store in $HRKG_STORE.
CHILD = r"""
import io, json, sys, traceback
HEAVY = %r
imported = {}

class Witness:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in HEAVY and top not in imported:
            imported[top] = "".join(f for f in traceback.format_stack()[:-1] if "<frozen" not in f)
        return None

sys.meta_path.insert(0, Witness())
from hrkg.cli import main
from hrkg.query import QueryCatalog
runs, failures = 0, []
cases = [("treaty-status", "state=VNM")] + [(q.name, e) for q in QueryCatalog() for e in q.examples]
for name, example in cases:
    for fmt in %r:
        out, err = io.StringIO(), io.StringIO()
        sys.stderr = err
        code = main(["query", name, *example.split(), "--format", fmt], out=out)
        sys.stderr = sys.__stderr__
        runs += 1
        if code != 0 or not out.getvalue().strip():
            failures.append([name, example, fmt, code, err.getvalue()])
print(json.dumps({"runs": runs, "failures": failures, "imported": imported,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)}))
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory, copy_bundled_store):
    return copy_bundled_store(tmp_path_factory.mktemp("coldstart") / "store")   # = build(None, location)


def test_hrkg_query_imports_no_rdflib_owlrl_or_pyshacl(store):
    env = dict(os.environ, HRKG_STORE=str(store))
    child = subprocess.run([sys.executable, "-c", CHILD % (HEAVY, FORMATS)], env=env, capture_output=True,
                           text=True, timeout=600)
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.splitlines()[-1])
    assert report["failures"] == []
    assert report["runs"] >= 4 * 14
    assert report["imported"] == {}, "\n\n".join(f"{name} imported by:\n{stack}"
                                                 for name, stack in report["imported"].items())
    assert report["loaded"] == []


def test_a_query_result_holds_pyoxigraph_terms_and_gives_rdflib_ones_on_request(store):
    from hrkg import KnowledgeGraph
    from rdflib import Literal, URIRef
    kg = KnowledgeGraph.open_store(store, build_if_needed=False)
    result = kg.query("treaty-status", {"state": "VNM"})
    assert all(t is None or isinstance(t, (ox.NamedNode, ox.BlankNode, ox.Literal)) for row in result.terms for t in row)
    assert all(t is None or isinstance(t, (URIRef, Literal)) for row in result.rows for t in row)
    assert {r["instrument"]: str(r.get("consented")) for r in result.as_dicts()}["CAT"] == "2015-02-05"
    # the formats print the same from either kind of term
    rdflib_result = Result(result.vars, result.rows)
    for fmt in FORMATS:
        assert format_result(result, fmt) == format_result(rdflib_result, fmt)


def test_parameters_reach_sparql_only_as_terms_written_by_pyoxigraph(store):
    from hrkg import KnowledgeGraph
    kg = KnowledgeGraph.open_store(store, build_if_needed=False)
    query = "SELECT ?s WHERE { ?s skos:prefLabel ?_name }"
    honest = run_sparql_store(kg.store, query, {"_name": ox.Literal("Viet Nam", language="en")})
    assert [t[0].value for t in honest.terms] == ["https://w3id.org/hrkg/id/state/VNM"]
    crafted = ox.Literal('Viet Nam"@en } UNION { ?s ?p ?o } #\n\\')
    assert run_sparql_store(kg.store, query, {"_name": crafted}).terms == []
    assert str(crafted) in inline_bindings(query, {"_name": crafted})   # pyoxigraph's own escaping
    with pytest.raises(ValueError):
        ox.NamedNode("https://w3id.org/hrkg/id/state/VNM> } UNION { ?s ?p ?o")


def _as_rdflib(term):
    return terms.to_rdflib(term)


def _same_as_rdflib(term):
    rdf = _as_rdflib(term)
    assert terms.lexical(term) == str(rdf)
    assert terms.n3(term) == rdf.n3()
    kind, value, language, datatype = terms.parts(term)
    assert value == str(rdf)
    if isinstance(term, ox.Literal):
        assert language == (rdf.language or None)
        assert datatype == (None if rdf.language or rdf.datatype is None else str(rdf.datatype))


@pytest.mark.parametrize("term", [
    ox.NamedNode("https://w3id.org/hrkg/id/state/VNM"), ox.BlankNode("b1"),
    ox.Literal("Viet Nam"), ox.Literal("Việt Nam", language="vi"), ox.Literal("Viet Nam", language="en-US"),
    ox.Literal('a "quoted" \\ back\r\nslash'), ox.Literal('ends with a quote\n"'), ox.Literal('"""\n'),
    *(ox.Literal(v, datatype=ox.NamedNode(XSD + d)) for d, v in [
        ("integer", "42"), ("integer", "-7"), ("integer", "007"), ("integer", "+5"), ("decimal", "1.5"),
        ("decimal", "1.50"), ("decimal", "2"), ("double", "1.5E0"), ("double", "INF"), ("double", "NaN"),
        ("float", "1e1"), ("boolean", "true"), ("boolean", "1"), ("date", "2015-02-05"), ("date", "2013-02-30"),
        ("date", "2015-02-05Z"), ("dateTime", "2015-02-05T10:00:00Z"), ("gYear", "2015"), ("gYear", "0999"),
        ("gMonthDay", "--02-29"), ("anyURI", "https://treaties.un.org/"), ("nonNegativeInteger", "05"),
        ("string", "typed"), ("token", " a  b ")]),
    ox.Literal("x", datatype=ox.NamedNode("https://example.org/own-type")),
])
def test_terms_print_as_rdflib_prints_them(term):
    _same_as_rdflib(term)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(terms._AS_IS)).flatmap(
    lambda d: st.tuples(st.just(d), st.from_regex(terms._AS_IS[d], fullmatch=True))))
def test_forms_printed_as_they_are_are_forms_rdflib_keeps(case):
    """The lexical forms terms.py prints without asking rdflib are ones rdflib prints unchanged."""
    datatype, value = case
    _same_as_rdflib(ox.Literal(value, datatype=ox.NamedNode(datatype)))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_strings_print_as_rdflib_prints_them(text):
    _same_as_rdflib(ox.Literal(text))


def test_names_made_lazily_are_the_ones_they_always_were():
    from rdflib import Namespace, URIRef
    from rdflib.namespace import XSD as RDFLIB_XSD
    from hrkg import codes, load, namespaces
    assert {p: str(ns) for p, ns in namespaces.PREFIXES.items()} == namespaces.PREFIX_IRIS
    assert namespaces.HRKG == Namespace("https://w3id.org/hrkg/ontology#") and namespaces.XSD is RDFLIB_XSD
    assert load.INFERRED_GRAPH == URIRef(load.INFERRED_IRI) and load.DISCREPANCY_GRAPH == URIRef(load.DISCREPANCY_IRI)
    assert codes.KIND_CLASSES["state"][0] == namespaces.HRKG.State
    assert codes._KEY_PROPERTIES[0] == namespaces.HRKG.code
