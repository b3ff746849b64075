"""OWL RL inference adds the answers the ontology promises, kept apart from asserted triples."""
import pytest
from rdflib import URIRef
from rdflib.namespace import OWL, RDF

from conftest import in_ledger_sample, is_ledger_graph
from hrkg.infer import infer, is_noise
from hrkg.load import INFERRED_GRAPH
from hrkg.namespaces import HRKG, INSTR, STATE

VNM_CAT_RATIFICATION = URIRef("https://w3id.org/hrkg/id/action/VNM-CAT-ratification")


# Reading the session graph's rdflib views triple by triple (oxrdflib) takes seconds at 84,000
# triples; these read each view once per module and hand the tests the same triples (read-only).

@pytest.fixture(scope="module")
def asserted_by_graph(kg):
    """[(graph IRI, list of its triples)] of kg.asserted_graphs(), in their order."""
    return [(g.identifier, list(g)) for g in kg.asserted_graphs()]


@pytest.fixture(scope="module")
def inferred_triples(kg):
    """set(kg.inferred): every triple of the inferred graph, as kg.inferred yields them."""
    return set(kg.inferred)


def test_property_chain_gives_has_consented_to(kg):
    assert (STATE.VNM, HRKG.hasConsentedTo, INSTR.CAT) in kg.inferred
    assert (STATE.VNM, HRKG.hasConsentedTo, INSTR.CAT) not in kg.asserted
    assert (STATE.VNM, HRKG.hasConsentedTo, INSTR.ICMW) not in kg.graph
    assert (STATE.VNM, HRKG.hasSigned, INSTR.CAT) in kg.inferred


def test_subclass_and_subproperty_inference(kg):
    assert (VNM_CAT_RATIFICATION, RDF.type, HRKG.ConsentToBeBound) in kg.inferred
    assert (VNM_CAT_RATIFICATION, RDF.type, HRKG.TreatyAction) in kg.inferred
    assert (VNM_CAT_RATIFICATION, HRKG.state, STATE.VNM) in kg.inferred
    assert (STATE.VNM, RDF.type, HRKG.State) in kg.inferred


def test_membership_chain_and_inverse(kg):
    assert (STATE.VNM, HRKG.memberOf, URIRef("https://w3id.org/hrkg/id/body/HRC")) in kg.inferred
    assert (INSTR.CAT, HRKG.consentedBy, STATE.VNM) in kg.inferred


def test_inferred_triples_live_in_their_own_graph_and_are_not_asserted(kg, asserted_by_graph, inferred_triples):
    assert len(kg.inferred) > 1000
    asserted = set()
    for _, triples in asserted_by_graph:
        asserted.update(triples)
    assert not asserted & inferred_triples
    assert not set(kg.asserted) & inferred_triples
    assert len(set(kg.graph)) == len(kg.asserted) + len(kg.inferred)   # what queries see: each once


def test_sparql_rule_inference_equals_owlrl_on_the_bundled_data(kg, asserted_by_graph, tmp_path):
    """The one build (OWL RL as SPARQL rules on the store) gives what owlrl, the reference, gives,
    on the bundled data with the UN Treaty Collection ledger sampled (conftest.in_ledger_sample:
    owlrl takes minutes on its 41,000 triples, all of a few shapes): both engines read the same
    input, built in by the same build as the bundle."""
    from rdflib import BNode, Graph
    from hrkg import KnowledgeGraph
    from hrkg.terms import to_ox, to_rdflib
    union, data = Graph(), Graph()
    for name, triples in asserted_by_graph:   # kg.asserted_graphs(), each read once a module
        ledger, ontology = is_ledger_graph(name), str(name).endswith("/ontology/hrkg.ttl")
        for t in triples:
            if not ledger or in_ledger_sample(t[0]):
                union.add(t)
                if not ontology:
                    data.add(t)
    assert any(is_ledger_graph(g.identifier) for g in kg.asserted_graphs()) and len(union) > 5000
    sample = tmp_path / "bundle-ledger-sampled.nt"
    data.serialize(sample, format="nt", encoding="utf-8")
    built = KnowledgeGraph.open([sample], include_bundle=False, include_ontology=True)
    assert len(built.asserted) == len(union)
    reference = {t for t in infer(union) if not any(isinstance(x, BNode) for x in t)}
    same = lambda triples: {tuple(to_rdflib(to_ox(x)) for x in t) for t in triples}  # one literal form
    assert same(built.inferred) == same(reference)
    assert len(reference) > 2000


def test_inferred_triples_have_no_noise(kg, inferred_triples):
    assert not [t for t in inferred_triples if is_noise(t)]   # every triple of kg.inferred
    assert not list(kg.inferred.triples((None, OWL.sameAs, None)))
    kg.inferred.serialize(format="turtle")  # everything kept can be written as Turtle


def test_owlrl_noise_is_filtered():
    from rdflib import Graph, Literal
    g = Graph()
    g.parse(data="""@prefix : <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        :a owl:sameAs :b . :a :p "x" .""", format="turtle")
    inferred = infer(g)
    assert (URIRef("http://example.org/b"), URIRef("http://example.org/p"), Literal("x")) in inferred
    assert not any(s == o for s, p, o in inferred.triples((None, OWL.sameAs, None)))
    assert not any(isinstance(s, Literal) for s, _, _ in inferred)


def test_never_noise_follows_is_noise():
    """The build's string test (infer.never_noise) never lets through a triple is_noise removes:
    owlrl's full closure of the ontology, noise included, and the noise of every rule of is_noise."""
    import owlrl
    from rdflib import Graph, Literal
    from rdflib.namespace import RDFS, XSD
    from hrkg.infer import never_noise
    from hrkg.load import default_files, graph_name, parse_file
    ontology = Graph()
    for path in default_files():
        if "/graph/ontology/" in str(graph_name(path)):
            parse_file(path, ontology)
    closure = Graph()
    for t in ontology:
        closure.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    x = URIRef("http://example.org/x")
    noise = [(x, OWL.sameAs, x), (x, RDF.type, OWL.Thing), (x, RDF.type, RDF.Property), (x, RDF.type, Literal("t")),
             (x, RDFS.subClassOf, RDFS.Resource), (x, RDFS.subPropertyOf, OWL.topObjectProperty),
             (XSD.date, OWL.disjointWith, XSD.string)]
    triples = [t for t in closure if isinstance(t[0], URIRef)] + noise
    assert all(is_noise(t) for t in noise)
    wrong = [t for t in triples
             if never_noise(str(t[1]), str(t[2]) if isinstance(t[2], URIRef) else None) and is_noise(t)]
    assert wrong == []
    # and it decides the instance triples the rules infer without rdflib: types and properties
    assert never_noise(str(RDF.type), str(HRKG.Ratification)) and never_noise(str(HRKG.hasConsentedTo))
    assert not never_noise(str(RDF.type), str(OWL.Thing)) and not never_noise(str(OWL.sameAs))


def test_export_without_inferred_stays_asserted_after_querying(bundle_without_ledger, tmp_path):
    """Regression: reading kg.graph (any query) put the inferred graph into the dataset that a
    plain export then wrote out."""
    from hrkg import KnowledgeGraph
    # A fresh graph of the bundle without the UN Treaty Collection ledger (conftest), built in
    # memory (no cache folder or default store involved): a tenth of the build and of each
    # export. The regression is in how the graph is exported after a query, whatever the data;
    # the triple checked is inferred from vnm.ttl's CAT ratification, which is there, and the
    # last assertion fails if it is not (the ledger would only state that ratification again).
    kg = KnowledgeGraph.open()
    kg.query("treaty-status", {"state": "VNM"})
    triple = "<https://w3id.org/hrkg/id/state/VNM> <https://w3id.org/hrkg/ontology#hasConsentedTo> <https://w3id.org/hrkg/id/instrument/CAT> ."
    assert triple not in kg.export("nt").splitlines()
    assert triple in kg.export("nt", include_inferred=True).splitlines()
    assert str(INFERRED_GRAPH) not in kg.export("trig")
