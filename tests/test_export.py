"""Exports: every format parses in an independent parser (Debian's rapper for the RDF syntaxes,
pyld for JSON-LD) and gives back exactly the graph hrkg holds; TriG and N-Quads keep one named
graph per source file; JSON-LD is compacted with the published context and reads like JSON."""
import functools
import io
import json
import os
import shutil
import subprocess
import sys

import pyoxigraph as ox
import pytest
from pyld import jsonld
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, XSD

from hrkg import cli
from hrkg.context import CONTEXT, CONTEXT_URL
from hrkg.errors import UsageError
from hrkg.export import EXPORT_FORMATS, export
from hrkg.load import INFERRED_GRAPH, default_files, graph_name
from hrkg.namespaces import HRKG
from hrkg.resources import bundle_dir
from hrkg.terms import to_rdflib

RAPPER_SYNTAX = {"ttl": "turtle", "nt": "ntriples", "xml": "rdfxml", "trig": "trig", "nq": "nquads"}
ID = "https://w3id.org/hrkg/id/"


@pytest.fixture(scope="session")
def rapper():
    if os.environ.get("HRKG_SKIP_RAPPER") == "1":
        pytest.skip("HRKG_SKIP_RAPPER=1: the checks with the independent parser rapper are skipped")
    found = shutil.which("rapper")
    if not found:
        pytest.fail("rapper is missing: apt-get install raptor2-utils (.ci/run does), "
                    "or set HRKG_SKIP_RAPPER=1 to skip the independent-parser checks")
    return found


def parse_with_rapper(rapper, path, fmt):
    """The file as rapper reads it: {graph name or None: set of rdflib triples}. rapper's N-Quads
    are read with pyoxigraph (a line-based format it reads in a second; rdflib's parser took most
    of each case's time) and its terms made rdflib terms by hrkg.terms.to_rdflib, the conversion
    the library's own rdflib views of the store use."""
    done = subprocess.run([rapper, "-q", "-i", RAPPER_SYNTAX[fmt], "-o", "nquads", str(path)],
                          capture_output=True, timeout=120)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and not stderr.strip(), f"rapper rejected {path}: {stderr[:2000]}"
    return triple_sets(ox.parse(done.stdout, format=ox.RdfFormat.N_QUADS))


def triple_sets(quads):
    """{graph name or None for the default graph: set of rdflib triples} of pyoxigraph quads.
    Each distinct term is converted once (pyoxigraph terms are hashable values: equal terms give
    equal rdflib terms), as the same IRIs and literals recur in thousands of quads."""
    out, term = {}, functools.cache(to_rdflib)
    for q in quads:
        key = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        out.setdefault(key, set()).add((term(q.subject), term(q.predicate), term(q.object)))
    return out


def rdflib_sizes(text, fmt):
    """{graph name or None: number of distinct triples} as rdflib reads ``text`` (the sizes of the
    graphs of an rdflib Dataset parsed from it, the default graph under None)."""
    dataset = Dataset()
    dataset.parse(data=text, format=fmt)
    out = {}
    for s, p, o, name in dataset.quads((None, None, None, None)):
        key = None if name is None or str(name).startswith("urn:x-rdflib:") else str(name)
        out.setdefault(key, set()).add((s, p, o))
    return {key: len(triples) for key, triples in out.items()}


def same_graph(expected, actual):
    """Equal as RDF graphs (blank nodes matched by structure); the first differences if not.

    Two graphs are isomorphic exactly when their triples without blank nodes are the same set and
    their triples with blank nodes are isomorphic; rdflib's isomorphic() on the whole of a 60,000
    triple graph took most of this module's time, so only the blank-node part goes through it."""
    if len(expected) == len(actual):
        (ground_e, blank_e), (ground_a, blank_a) = _split_blank(expected), _split_blank(actual)
        if ground_e == ground_a and len(blank_e) == len(blank_a) and isomorphic(blank_e, blank_a):
            return True
    plain = lambda g: {t for t in g if not any(isinstance(x, BNode) for x in t)}  # noqa: E731
    return {"missing": sorted(plain(expected) - plain(actual))[:5],
            "extra": sorted(plain(actual) - plain(expected))[:5],
            "sizes": (len(expected), len(actual))}


def _split_blank(triples):
    """(set of the triples without a blank node, Graph of those with one), in one pass."""
    ground, blank = set(), Graph()
    for t in triples:
        s, p, o = t
        if isinstance(s, BNode) or isinstance(p, BNode) or isinstance(o, BNode):
            blank.add(t)
        else:
            ground.add(t)
    return ground, blank


def expected_graphs(kg, inferred):
    graphs = {str(g.identifier): g for g in kg.asserted_graphs()}
    if inferred:
        graphs[str(INFERRED_GRAPH)] = kg.inferred
    return graphs


def union(graphs):
    out = Graph()
    for g in graphs.values():
        for t in g:
            out.add(t)
    return out


@pytest.fixture(scope="module")
def exports(kg):
    """Each format, asserted only and with the inferred triples, written once."""
    return {}


@pytest.fixture(scope="module")
def sampled(_bundle_with_ledger_sample):
    """(graph, its exports) of the bundle with its UN Treaty Collection ledger cut to a sample that
    keeps every kind of record and of character (conftest): the checks that read every triple of
    an export back in rapper, rdflib and pyld, where the ledger's 41,900 triples of a few shapes
    took most of the time and added no case the sample lacks."""
    from conftest import use_bundle
    from hrkg import KnowledgeGraph
    with pytest.MonkeyPatch.context() as mp:
        use_bundle(mp, _bundle_with_ledger_sample)
        return KnowledgeGraph.open(), {}


def expected_sets(kg, exports, inferred):
    """expected_graphs(kg, inferred) as {graph name: set of rdflib triples}, read once per module
    straight from the store those rdflib graphs are views of (read-only)."""
    key = ("sets", inferred)
    if key not in exports:
        names = list(expected_graphs(kg, inferred))
        exports[key] = {name: set() for name in names}
        for name in names:
            exports[key][name] = triple_sets(kg.store.quads_for_pattern(None, None, None, ox.NamedNode(name))).get(
                name, set())
    return exports[key]


def expected_union(kg, exports, inferred):
    """union(expected_graphs(kg, inferred)) as a set of rdflib triples, once per module (read-only)."""
    key = ("union", inferred)
    if key not in exports:
        exports[key] = set().union(*expected_sets(kg, exports, inferred).values())
    return exports[key]


def exported(kg, exports, fmt, inferred):
    key = (fmt, inferred)
    if key not in exports:
        exports[key] = kg.export(fmt, include_inferred=inferred)
    return exports[key]


# ---- the RDF syntaxes in rapper --------------------------------------------------------------

# with the inferred triples (a superset, same code); TriG also without, as its graphs differ
@pytest.mark.parametrize("fmt, inferred", [(f, True) for f in sorted(RAPPER_SYNTAX)] + [("trig", False)])
def test_export_parses_in_rapper_to_the_same_triples(sampled, rapper, tmp_path, fmt, inferred):
    kg, exports = sampled
    path = tmp_path / f"hrkg.{fmt}"
    path.write_text(exported(kg, exports, fmt, inferred), encoding="utf-8")
    expected = expected_sets(kg, exports, inferred)
    theirs = parse_with_rapper(rapper, path, fmt)
    ours = rdflib_sizes(path.read_text(encoding="utf-8"), EXPORT_FORMATS[fmt])  # rdflib reading it back
    if fmt in ("trig", "nq"):
        assert sorted(theirs) == sorted(expected)
        for name, graph in expected.items():
            assert same_graph(graph, theirs[name]) is True, name
        assert ours == {k: len(g) for k, g in theirs.items()}
    else:
        assert list(theirs) == [None]
        assert same_graph(expected_union(kg, exports, inferred), theirs[None]) is True
        assert ours[None] == len(theirs[None])


def quads_by_graph(text, fmt, only=None):
    """{graph name or None: set of (s, p, o) N-Triples texts} as pyoxigraph reads ``text`` (rdflib
    reads the same files back in test_export_parses_in_rapper_to_the_same_triples; here only
    which graph holds what matters, and pyoxigraph reads 60,000 quads in a second). With
    ``only`` (a set of graph names), the whole text is still read and every graph name is a key,
    but only the statements of those graphs are turned into text (the others' sets are empty)."""
    import pyoxigraph as ox
    out = {}
    for q in ox.parse(text.encode("utf-8"), format=fmt):
        key = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        statements = out.setdefault(key, set())
        if only is None or key in only:
            statements.add((str(q.subject), str(q.predicate), str(q.object)))
    return out


def test_trig_has_one_named_graph_per_source_file(kg, exports):
    import pyoxigraph as ox
    vnm_graph = "https://w3id.org/hrkg/graph/data/treaties/vnm.ttl"
    # only the graph names of this export are looked at: no statement needs to be made text
    names = set(quads_by_graph(exported(kg, exports, "trig", False), ox.RdfFormat.TRIG, only=set()))
    files = {str(graph_name(f)) for f in default_files()}
    assert names == files
    assert "https://w3id.org/hrkg/graph/data/treaties/vnm.ttl" in names
    assert "https://w3id.org/hrkg/graph/ontology/hrkg.ttl" in names
    vnm = quads_by_graph(exported(kg, exports, "trig", True), ox.RdfFormat.TRIG, only={vnm_graph})[vnm_graph]
    cat = f"<{ID}action/VNM-CAT-ratification>"
    assert {o for s, p, o in vnm if s == cat and p == f"<{HRKG.date}>"} == \
        {'"2015-02-05"^^<http://www.w3.org/2001/XMLSchema#date>'}
    # the inferred graph holds what OWL RL adds, not what a file says
    inferred = quads_by_graph(exported(kg, exports, "nq", True), ox.RdfFormat.N_QUADS,
                              only={str(INFERRED_GRAPH)})[str(INFERRED_GRAPH)]
    assert (f"<{ID}state/VNM>", f"<{HRKG.hasConsentedTo}>", f"<{ID}instrument/CAT>") in inferred
    assert not [t for t in inferred if t[0] == cat and t[1] == f"<{HRKG.date}>"]


def test_exports_are_byte_stable(kg, exports):
    for fmt in ("trig", "jsonld"):
        assert kg.export(fmt, include_inferred=True) == exported(kg, exports, fmt, True), fmt


EDGE_CASES = '''
@prefix hrkg: <https://w3id.org/hrkg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix dct:  <http://purl.org/dc/terms/> .
<https://example.org/a> a hrkg:State, <https://example.org/Class> ;
    skos:prefLabel "plain", "english"@en, "other english"@en, "tiếng Việt"@vi ;
    hrkg:date "2015"^^xsd:gYear, "2015-02-05"^^xsd:date ;
    dct:date "2020"^^xsd:gYear, "2020-01-02"^^xsd:date ;
    hrkg:ordinal 7, -3, 1.5, 2.0e0, true, "maybe"^^xsd:boolean ;
    hrkg:state "not an IRI", <https://example.org/b> ;
    hrkg:code <https://example.org/c>, "C"@en, "D", "E"^^<https://example.org/datatype> ;
    rdfs:label [ a hrkg:Thing ; hrkg:code "blank" ] ;
    hrkg:partner _:loop ;
    hrkg:members ( 1 "two" <https://example.org/three> ) ;
    hrkg:text """first line
@prefix no: <https://example.org/not-a-prefix#> .
    indented "quoted" line\\\\""" .
_:loop hrkg:code "loop" ; hrkg:partner <https://example.org/a> .
'''


def edge_dataset(*, rdfxml_safe=True):
    """Two files' worth of awkward RDF: terms no context term fits, blank nodes that look the same
    in both graphs, a multi-line literal with a line that looks like a directive, and an unbound
    namespace that differs between the graphs."""
    dataset = Dataset(default_union=True)
    for name, other in (("https://w3id.org/hrkg/graph/data/one.ttl", "http://a.example/"),
                        ("https://w3id.org/hrkg/graph/data/two.ttl", "http://b.example/")):
        graph = dataset.graph(URIRef(name))
        graph.parse(data=EDGE_CASES, format="turtle")
        # a namespace hrkg binds no prefix for: rdflib names it ns1 (or so) in each graph alike
        graph.add((URIRef(other + "s"), URIRef(other + "p"), Literal(other)))
    if not rdfxml_safe:
        dataset.graph(URIRef("https://w3id.org/hrkg/graph/data/two.ttl")).add(
            (URIRef("https://example.org/a"), URIRef("https://example.org/p/1"), Literal("x")))
    return dataset


@pytest.mark.parametrize("fmt", sorted(RAPPER_SYNTAX))
def test_awkward_rdf_survives_every_syntax(rapper, tmp_path, fmt):
    dataset = edge_dataset()
    path = tmp_path / f"edge.{fmt}"
    path.write_text(export(dataset, fmt), encoding="utf-8")
    theirs = parse_with_rapper(rapper, path, fmt)
    expected = {str(g.identifier): g for g in dataset.graphs() if len(g)}
    if fmt in ("trig", "nq"):
        assert sorted(theirs) == sorted(expected)
        for name, graph in expected.items():
            assert same_graph(graph, theirs[name]) is True, name
        blank = [{s for s, p, o in g if (p, o) == (HRKG.code, Literal("loop"))} for g in theirs.values()]
        assert blank[0] and blank[1] and not blank[0] & blank[1]  # one blank node per file
    else:
        assert same_graph(union(expected), theirs[None]) is True


def test_rdfxml_refuses_a_predicate_it_cannot_write_by_name():
    with pytest.raises(UsageError, match=r"RDF/XML cannot write the predicate <https://example.org/p/1>"):
        export(edge_dataset(rdfxml_safe=False), "xml")
    assert "https://example.org/p/1" in export(edge_dataset(rdfxml_safe=False), "nt")


# ---- JSON-LD: compacted with the published context ------------------------------------------

def context_loader(url, options=None):
    """pyld document loader: the published context from this package, nothing from the network."""
    if url != CONTEXT_URL:
        raise AssertionError(f"the JSON-LD export asked for {url}")
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def expand_with_pyld(text):
    """The default graph pyld's N-Quads give for ``text`` (a set of rdflib triples; pyoxigraph reads
    the N-Quads, as parse_with_rapper does)."""
    nquads = jsonld.to_rdf(json.loads(text), {"documentLoader": context_loader, "format": "application/n-quads"})
    return triple_sets(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS)).get(None, set())


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
def test_jsonld_expands_in_pyld_to_the_same_triples(sampled, inferred):
    kg, exports = sampled
    text = exported(kg, exports, "jsonld", inferred)
    assert json.loads(text)["@context"] == CONTEXT_URL
    assert same_graph(expected_union(kg, exports, inferred), expand_with_pyld(text)) is True


def test_jsonld_reads_like_plain_json(kg, exports):
    nodes = {n["id"]: n for n in json.loads(exported(kg, exports, "jsonld", False))["@graph"]}
    cat = nodes[ID + "action/VNM-CAT-ratification"]
    assert cat["date"] == "2015-02-05"
    assert cat["instrument"] == ID + "instrument/CAT"
    assert cat["consentingState"] == ID + "state/VNM"
    assert "Ratification" in cat["type"]
    assert ID + "source/untc-cat" in cat["source"]
    vnm = nodes[ID + "state/VNM"]
    assert vnm["prefLabel"] == {"en": "Viet Nam", "vi": "Việt Nam"}
    assert (vnm["code"], vnm["alpha2"], vnm["m49"], vnm["exactMatch"]) == ("VNM", "VN", "704", "wd:Q881")
    review = nodes[ID + "upr-review/VNM-I"]
    assert (review["session"], review["reviewDate"], review["cycle"]) == (5, "2009-05-08", ID + "upr-cycle/I")


def test_awkward_rdf_survives_jsonld():
    dataset = edge_dataset()
    text = export(dataset, "jsonld")
    expected = union({str(g.identifier): g for g in dataset.graphs()})
    assert same_graph(expected, expand_with_pyld(text)) is True
    node = next(n for n in json.loads(text)["@graph"] if n["id"] == "https://example.org/a")
    assert node["date"] == "2015-02-05" and node["hrkg:date"] == {"@value": "2015", "type": "xsd:gYear"}
    assert node["dct:date"] == "2020-01-02"
    assert node["http://purl.org/dc/terms/date"] == {"@value": "2020", "type": "xsd:gYear"}
    assert node["skos:prefLabel"] == "plain"
    assert node["prefLabel"] == {"en": ["english", "other english"], "vi": "tiếng Việt"}
    assert node["state"] == "https://example.org/b" and node["hrkg:state"] == "not an IRI"
    # rdflib's parser already made 2.0e0 "2.0" and the ill-formed "maybe" false; the rest is exact
    assert node["ordinal"] == [-3, 7, False, True, {"@value": "1.5", "type": "xsd:decimal"},
                               {"@value": "2.0", "type": "xsd:double"}]


def test_inline_context_makes_a_file_that_expands_offline(bundle_with_ledger_sample, tmp_path, monkeypatch):
    # The bundle with its UN Treaty Collection ledger cut to the sample (conftest), built by the
    # CLI into a cache folder of this test's own (never the session's default store, which would
    # go stale). What is checked does not depend on the 40,000 ledger triples left out: the
    # @context and the --context usage error do not depend on the data at all; the facts read back
    # are Viet Nam's CAT ratification, which vnm.ttl states and whose ledger record the sample
    # keeps whole; and whether rdflib reads the file offline depends on the context (the only
    # thing it would fetch) and on how each kind of record and literal is written, and the sample
    # keeps every kind of ledger record and every character an RDF syntax escapes or encodes. The
    # full ledger made this rdflib's JSON-LD parse of 47,000 triples, most of the test's time.
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "hrkg.jsonld"
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert cli.main(["export", "--format", "jsonld", "--context", "inline", "-o", str(target)], out=out) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["@context"] == CONTEXT["@context"]
    graph = Graph().parse(data=target.read_text(encoding="utf-8"), format="json-ld")  # rdflib, no network
    cat = URIRef(ID + "action/VNM-CAT-ratification")
    assert graph.value(cat, HRKG.date) == Literal("2015-02-05", datatype=XSD.date)
    assert (cat, HRKG.instrument, URIRef(ID + "instrument/CAT")) in graph
    assert cli.main(["export", "--format", "ttl", "--context", "inline"], out=out) == 2
    assert "--context applies to --format jsonld only" in err.getvalue()


def test_cli_export_from_the_store_equals_the_in_memory_export(kg, exports, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert cli.main(["export", "--format", "nq"], out=out) == 0  # the store hands back "x"^^xsd:string
    assert out.getvalue() == exported(kg, exports, "nq", False)


def test_context_covers_every_ontology_property_with_the_right_coercion():
    ontology = Graph().parse(bundle_dir("ontology") / "hrkg.ttl", format="turtle")
    terms = CONTEXT["@context"]
    hrkg_terms = {name: t for name, t in terms.items() if isinstance(t, dict) and t["@id"].startswith("hrkg:")}
    problems = []
    for prop in sorted(ontology.subjects(RDF.type, OWL.ObjectProperty)):
        name = str(prop)[len(str(HRKG)):]
        if str(prop).startswith(str(HRKG)) and terms.get(name) != {"@id": "hrkg:" + name, "@type": "@id"}:
            problems.append(f'add "{name}": {{"@id": "hrkg:{name}", "@type": "@id"}}')
    typed = {XSD.date, XSD.gYear, XSD.gMonthDay, XSD.anyURI}
    for prop in sorted(ontology.subjects(RDF.type, OWL.DatatypeProperty)):
        if not str(prop).startswith(str(HRKG)):
            continue
        name = str(prop)[len(str(HRKG)):]
        ranges = set(ontology.objects(prop, RDFS.range))
        want = {"@id": "hrkg:" + name, "@type": "xsd:" + str(next(iter(ranges))).split("#")[1]} \
            if ranges & typed else None
        if terms.get(name) != want and not (want is None and name not in terms):
            problems.append(f"{name}: want {want}, have {terms.get(name)}")
    declared = {str(s)[len(str(HRKG)):] for s in ontology.subjects() if str(s).startswith(str(HRKG))}
    problems += [f"{name} is not in the ontology" for name, t in hrkg_terms.items()
                 if t["@id"][len("hrkg:"):] not in declared]
    assert problems == [], "hrkg/context.py is out of step with the ontology"
    assert terms["@vocab"] == str(HRKG)


# ---- /download/ streams the dump from a file ------------------------------------------------------

def test_download_is_exported_once_to_a_file_and_streamed(kg, exports, tmp_path, monkeypatch):
    from starlette.testclient import TestClient
    from hrkg.web.app import create_app
    from hrkg.web.handlers import Settings, WorkerState, download
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path))
    reply = download(WorkerState(kg, Settings()), {"format": "nq"})
    path = reply.headers["X-Hrkg-Download-File"]
    assert reply.body == b"" and path.startswith(str(tmp_path))     # the worker sends a name, not the dump
    with open(path, encoding="utf-8") as fh:
        assert fh.read() == exported(kg, exports, "nq", False)
    with TestClient(create_app(lambda: kg, Settings(workers=1))) as client:
        with client.stream("GET", "/download/hrkg.nq") as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/n-quads"
            assert "x-hrkg-download-file" not in response.headers
            assert "hrkg.nq" in response.headers["content-disposition"]
            assert b"".join(response.iter_bytes()).decode("utf-8") == exported(kg, exports, "nq", False)
        assert client.get("/download/hrkg.csv").status_code == 404


def test_cli_export_streams_to_stdout_and_to_a_file(kg, exports, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    out = io.StringIO()
    assert cli.main(["export", "--format", "ttl"], out=out) == 0
    assert out.getvalue() == exported(kg, exports, "ttl", False)
    target = tmp_path / "hrkg.trig"
    assert cli.main(["export", "--format", "trig", "--inferred", "-o", str(target)], out=out) == 0
    assert target.read_text(encoding="utf-8") == exported(kg, exports, "trig", True)
    assert f"wrote {target} ({target.stat().st_size} bytes)" in sys.stderr.getvalue()
