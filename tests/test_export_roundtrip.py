"""Exports always read back: arbitrary literals (every line and paragraph separator, controls,
astral characters, language tags, datatypes) exported in every format parse back, in rdflib and in
pyoxigraph, to the same graph; RDF/XML refuses, with a clear error, what XML 1.0 cannot carry."""
import io
import json
import shutil
import subprocess

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import _TripleCanonicalizer
from rdflib.namespace import XSD

from hrkg.errors import UsageError
from hrkg.export import EXPORT_FORMATS, _XML_FORBIDDEN, export, to_ntriples
from hrkg.export import _terms

to_rdflib = _terms()[1]
EXAMPLES = 150   # reported in the README; about 5 s
QUAD_FORMATS = ("nq", "trig")
OX_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
              "xml": ox.RdfFormat.RDF_XML, "trig": ox.RdfFormat.TRIG, "nq": ox.RdfFormat.N_QUADS}
# what str.splitlines() breaks on, and what N-Triples, Turtle, XML and JSON must escape
SEPARATORS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
AWKWARD = SEPARATORS + ["\t", "\x00", "\x01", "\x7f", "\x9f", '"', "'", "\\", '"""', "'''", "\\u0041",
                        "<", ">", "&", "]]>", " .", "@prefix x: <y> .", "\ufeff", "\ufffe", "\uffff",
                        "\U0001F600", "\U0010FFFF", "\u0301", "\u200b"]
GRAPHS = ["https://w3id.org/hrkg/graph/data/one.ttl", "https://w3id.org/hrkg/graph/data/two.ttl"]
PREDICATES = [URIRef("https://w3id.org/hrkg/ontology#text"), URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
              URIRef("https://w3id.org/hrkg/ontology#date"), URIRef("http://purl.org/dc/terms/description"),
              URIRef("https://example.org/vocab/p_\u00e9")]
LANGUAGES = ["en", "vi", "fr-ch", "zh-hant-tw", "x-private"]   # lower case: pyoxigraph writes tags so
DATATYPES = [None, XSD.string, URIRef("https://example.org/datatype"), URIRef("urn:x-dt:\u00e9")]

text = st.lists(st.one_of(st.sampled_from(AWKWARD), st.characters(exclude_categories=("Cs",)),
                          st.text(st.characters(exclude_categories=("Cs",)), max_size=5)),
                max_size=8).map("".join)


@st.composite
def literals(draw):
    value = draw(text)
    kind = draw(st.sampled_from(["plain", "lang", "typed"]))
    if kind == "lang":
        return Literal(value, lang=draw(st.sampled_from(LANGUAGES)))
    if kind == "typed":
        datatype = draw(st.sampled_from(DATATYPES))
        return Literal(value) if datatype in (None, XSD.string) else Literal(value, datatype=datatype)
    return Literal(value)


@st.composite
def datasets(draw):
    """One or two named graphs of a few triples: IRIs (some non-ASCII), blank nodes, literals."""
    dataset = Dataset(default_union=True)
    for name in draw(st.lists(st.sampled_from(GRAPHS), min_size=1, max_size=2, unique=True)):
        graph = dataset.graph(URIRef(name))
        blanks = [BNode() for _ in range(2)]
        subjects = st.sampled_from([URIRef("https://w3id.org/hrkg/id/state/VNM"),
                                    URIRef("https://example.org/s/\u00e9\U0001F600"), *blanks])
        objects = st.one_of(literals(), literals(), subjects)
        for _ in range(draw(st.integers(1, 6))):
            graph.add((draw(subjects), draw(st.sampled_from(PREDICATES)), draw(objects)))
    return dataset


def expected(dataset, fmt):
    """{graph name or None: Graph} the export must read back as."""
    named = {str(g.identifier): g for g in dataset.graphs() if len(g)}
    if fmt in QUAD_FORMATS:
        return named
    union = Graph()
    for g in named.values():
        union += g
    return {None: union}


def digest(graph):
    """rdflib's canonical hash of ``graph``, blank nodes matched by structure: what
    rdflib.compare.isomorphic(a, b) computes for each graph and compares (it returns
    ``digest(a) == digest(b)``), so a digest computed once serves every comparison."""
    return _TripleCanonicalizer(graph).to_hash()


class Expectation:
    """What one example's export in each format must read back as (expected), with the digest of
    each graph computed once: every format of a kind and both readers compare with the same
    graphs, and rdflib's isomorphic() hashed them again for each comparison."""

    def __init__(self, dataset):
        self.dataset, self.graphs, self.digests = dataset, {}, {}

    def __call__(self, fmt):
        kind = fmt in QUAD_FORMATS
        if kind not in self.graphs:
            self.graphs[kind] = expected(self.dataset, fmt)
            self.digests[kind] = {name: digest(graph) for name, graph in self.graphs[kind].items()}
        return self.graphs[kind], self.digests[kind]


def read_rdflib(text, fmt):
    data = Dataset()
    data.parse(data=text, format=EXPORT_FORMATS[fmt])
    return _by_graph((s, p, o, g) for s, p, o, g in data.quads((None, None, None, None)))


def read_pyoxigraph(text, fmt):
    quads = ox.parse(text.encode("utf-8"), OX_FORMATS[fmt])
    return _by_graph((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object),
                      None if isinstance(q.graph_name, ox.DefaultGraph) else to_rdflib(q.graph_name))
                     for q in quads)


def _by_graph(quads):
    out = {}
    for s, p, o, g in quads:
        name = None if g is None or str(g).startswith("urn:x-rdflib:") else str(g)
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))    # the same literal in RDF 1.1; rdflib tells them apart
        out.setdefault(name, Graph()).add((s, p, o))
    return out


def assert_same(want, got, label, want_digests=None):
    """``got`` is ``want``: the same graph names, each graph isomorphic to the one wanted
    (``want_digests``: digest() of each graph of ``want``, if known already)."""
    assert sorted(got) == sorted(want), label
    for name, graph in want.items():
        want_digest = digest(graph) if want_digests is None else want_digests[name]
        assert len(got[name]) == len(graph) and digest(got[name]) == want_digest, \
            f"{label}: graph {name} differs:\n{sorted(graph)}\n{sorted(got[name])}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_every_export_reads_back_in_rdflib_and_pyoxigraph(dataset):
    unwritable = [(s, p) for s, p, o in dataset.triples((None, None, None))
                  if isinstance(o, Literal) and _XML_FORBIDDEN.search(str(o))]
    expectation = Expectation(dataset)
    for fmt in EXPORT_FORMATS:
        if fmt == "xml" and unwritable:
            with pytest.raises(UsageError, match="XML 1.0 cannot carry") as refused:
                export(dataset, fmt)
            assert any(f"{s.n3() if isinstance(s, URIRef) else '_:'}" in str(refused.value)
                       and f"<{p}>" in str(refused.value) for s, p in unwritable), str(refused.value)
            continue
        text = export(dataset, fmt, jsonld_context="inline")
        if fmt in ("nt", "nq"):
            lines = text.split("\n")
            assert lines[-1] == "" and lines[:-1] == sorted(lines[:-1])
            assert all(line.endswith(" .") for line in lines[:-1]), "a statement was split"
        want, want_digests = expectation(fmt)
        assert_same(want, read_rdflib(text, fmt), f"{fmt} in rdflib", want_digests)
        assert_same(want, read_pyoxigraph(text, fmt), f"{fmt} in pyoxigraph", want_digests)


SEPARATED = "one\u2028two\u2029three\x85four\vfive\fsix\x1cseven\x1deight\x1enine\rten\neleven"


XML_SEPARATORS = [sep for sep in SEPARATORS if not _XML_FORBIDDEN.search(sep)]


def separated_dataset(separators=SEPARATORS, text=SEPARATED):
    dataset = Dataset(default_union=True)
    graph = dataset.graph(URIRef(GRAPHS[0]))
    for i, sep in enumerate(separators):
        graph.add((URIRef(f"https://example.org/s{i}"), PREDICATES[0], Literal(f"a{sep}b")))
    graph.add((URIRef("https://example.org/all"), PREDICATES[1], Literal(text, lang="en")))
    return dataset


@pytest.mark.parametrize("fmt", ["nt", "nq"])
def test_line_based_exports_keep_one_statement_per_line(fmt):
    text = export(separated_dataset(), fmt)
    lines = text.split("\n")[:-1]
    assert len(lines) == len(SEPARATORS) + 1 and lines == sorted(lines)
    # nothing a line-oriented reader (str.splitlines, sort, grep) would split on is written raw
    # except the three that N-Triples allows raw and only \n ends a line for its parsers
    assert all(c not in text for c in "\r\v\f\x1c\x1d\x1e")
    assert "one\u2028two\u2029three\x85four\\u000Bfive\\fsix\\u001Cseven" in text


def test_hrkg_build_reads_its_own_export(tmp_path):
    """The importer's Latin-1 fallback makes byte 0x85 U+0085, so such literals do reach a store."""
    from hrkg import store as store_mod
    for fmt in ("nt", "ttl"):   # not nq, trig: load.py reads only the default graph of those
        exported = tmp_path / f"export.{fmt}"
        exported.write_text(export(separated_dataset(), fmt), encoding="utf-8")
        manifest = store_mod.build([exported], tmp_path / f"store-{fmt}", include_bundle=False)
        store, _ = store_mod.open_store(tmp_path / f"store-{fmt}")
        values = {q.object.value for q in store.quads_for_pattern(None, None, None, None)
                  if isinstance(q.object, ox.Literal)}
        del store
        assert manifest["asserted_triples"] == len(SEPARATORS) + 1, fmt
        assert SEPARATED in values and {f"a{sep}b" for sep in SEPARATORS} <= values, fmt


@pytest.mark.parametrize("fmt", ["nt", "nq", "ttl", "trig", "xml"])
def test_rapper_reads_separators_and_controls(tmp_path, fmt):
    rapper = shutil.which("rapper")
    if rapper is None:
        pytest.skip("rapper (raptor2-utils) is not installed")
    syntax = {"ttl": "turtle", "nt": "ntriples", "xml": "rdfxml", "trig": "trig", "nq": "nquads"}[fmt]
    separators, text = (XML_SEPARATORS, _XML_FORBIDDEN.sub("", SEPARATED)) if fmt == "xml" else (SEPARATORS, SEPARATED)
    path = tmp_path / f"export.{fmt}"
    path.write_text(export(separated_dataset(separators, text), fmt), encoding="utf-8")
    done = subprocess.run([rapper, "-q", "-i", syntax, "-o", "ntriples", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    graph = Graph().parse(data=done.stdout, format="nt")
    assert set(graph.objects(None, PREDICATES[0])) == {Literal(f"a{sep}b") for sep in separators}
    assert Literal(text, lang="en") in set(graph.objects(None, PREDICATES[1]))


def test_rdfxml_refuses_a_control_character_naming_subject_and_predicate():
    dataset = separated_dataset()
    with pytest.raises(UsageError) as refused:
        export(dataset, "xml")
    message = str(refused.value)
    assert "RDF/XML cannot write the literal of <https://example.org/" in message
    assert f"<{PREDICATES[0]}>" in message or f"<{PREDICATES[1]}>" in message
    assert message.startswith("RDF/XML cannot write the literal of <https://example.org/all> "
                              "<http://www.w3.org/2004/02/skos/core#prefLabel>: it holds the character U+000B")
    assert "export as ttl, nt, jsonld, trig or nq instead" in message
    # what XML 1.0 can carry survives, CR included (a raw CR would read back as LF)
    graph = Graph()
    graph.add((URIRef("https://example.org/s"), PREDICATES[0], Literal("a\rb\u2028c\x85d\U0001F600\x7f")))
    text = export_graph_xml(graph)
    assert "&#13;" in text
    assert Graph().parse(data=text, format="xml").value(URIRef("https://example.org/s"), PREDICATES[0]) \
        == Literal("a\rb\u2028c\x85d\U0001F600\x7f")


def export_graph_xml(graph):
    dataset = Dataset(default_union=True)
    dataset.graph(URIRef(GRAPHS[0])).__iadd__(graph)
    return export(dataset, "xml")


def test_to_ntriples_of_a_graph_is_one_statement_per_line():
    graph = separated_dataset().graph(URIRef(GRAPHS[0]))
    text = to_ntriples(graph)
    assert len(text.split("\n")) == len(SEPARATORS) + 2
    assert len(Graph().parse(data=text, format="nt")) == len(SEPARATORS) + 1


def test_jsonld_stream_is_laid_out_like_json_dumps():
    text = export(separated_dataset(), "jsonld")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    empty = export(Dataset(), "jsonld")
    assert empty == json.dumps(json.loads(empty), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(empty)["@graph"] == []


def test_export_graph_streams_to_a_binary_file(kg):
    from hrkg.export import export_graph
    out = io.BytesIO()
    export_graph(kg, "nt", out)
    assert out.getvalue().decode("utf-8") == kg.export("nt")
