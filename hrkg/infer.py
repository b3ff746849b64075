"""Step 2: OWL RL inference with owlrl, keeping inferred triples apart and free of noise."""
import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

# Classes and properties whose every instance or use owlrl asserts; they carry no information.
_TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Class, OWL.Class,
                    RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                    RDFS.Datatype, RDFS.Literal}
_REFLEXIVE = {OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass,
              OWL.equivalentProperty}


def is_noise(triple):
    """True for the triples owlrl adds that say nothing and that Turtle often cannot write."""
    s, p, o = triple
    if isinstance(s, Literal) or isinstance(p, Literal):
        return True
    if p in _REFLEXIVE and s == o:
        return True
    if p == RDF.type and (o in _TRIVIAL_OBJECTS or isinstance(o, Literal)):
        return True
    if p in (RDFS.subClassOf, OWL.equivalentClass) and o in (OWL.Thing, RDFS.Resource):
        return True
    if p == RDFS.subPropertyOf and o in (OWL.topObjectProperty, OWL.topDataProperty):
        return True
    if isinstance(o, URIRef) and str(o).startswith(str(RDF)) and p == RDF.type and o not in (RDF.List, RDF.Statement):
        return True
    if isinstance(s, BNode) and p == RDF.type and o == RDF.List:
        return True
    if p == OWL.disjointWith and str(s).startswith(str(XSD)) and str(o).startswith(str(XSD)):
        return True  # owlrl's axioms about XSD datatypes, added whenever data uses them
    return False


def infer(asserted):
    """Return a new Graph with only the triples OWL RL adds to ``asserted``, noise removed.

    ``asserted`` (a Graph or a union-default Dataset) is not modified.
    """
    work = Graph()
    for triple in asserted.triples((None, None, None)):
        work.add(triple)
    before = set(work)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    inferred = Graph()
    for triple in work:
        if triple not in before and not is_noise(triple):
            inferred.add(triple)
    return inferred


# ---- inference at scale: the same entailments as SPARQL rules on a store -----------------
#
# owlrl over millions of triples does not finish in useful time. The ontology is small, so owlrl
# closes the schema (subclass and subproperty hierarchies, inverse pairs) and the instance-level
# OWL RL rules the ontology actually uses run as SPARQL CONSTRUCT queries on the store, repeated
# until nothing new appears. tests/test_inference.py shows both give the same triples on the
# bundled data.

_TYPE_RULES = {
    "subclass": """CONSTRUCT { ?x a ?sup } WHERE {
        ?sub rdfs:subClassOf ?sup . FILTER(?sub != ?sup && isIRI(?sup))
        ?x a ?sub . FILTER NOT EXISTS { ?x a ?sup } }""",
    "equivalent class": """CONSTRUCT { ?x a ?b } WHERE {
        { ?a owl:equivalentClass ?b } UNION { ?b owl:equivalentClass ?a } FILTER(?a != ?b && isIRI(?b))
        ?x a ?a . FILTER NOT EXISTS { ?x a ?b } }""",
    "domain": """CONSTRUCT { ?s a ?c } WHERE {
        ?p rdfs:domain ?c . FILTER(isIRI(?c))
        ?s ?p ?o . FILTER NOT EXISTS { ?s a ?c } }""",
    "range": """CONSTRUCT { ?o a ?c } WHERE {
        ?p rdfs:range ?c . FILTER(isIRI(?c))
        ?s ?p ?o . FILTER(!isLiteral(?o)) FILTER NOT EXISTS { ?o a ?c } }""",
}
_PROPERTY_RULES = {
    "subproperty": """CONSTRUCT { ?s ?sup ?o } WHERE {
        ?sub rdfs:subPropertyOf ?sup . FILTER(?sub != ?sup && isIRI(?sup))
        ?s ?sub ?o . FILTER NOT EXISTS { ?s ?sup ?o } }""",
    "inverse": """CONSTRUCT { ?o ?q ?s } WHERE {
        { ?p owl:inverseOf ?q } UNION { ?q owl:inverseOf ?p }
        ?s ?p ?o . FILTER(!isLiteral(?o)) FILTER NOT EXISTS { ?o ?q ?s } }""",
    "transitive": """CONSTRUCT { ?x ?p ?z } WHERE {
        ?p a owl:TransitiveProperty . ?x ?p ?y . ?y ?p ?z . FILTER NOT EXISTS { ?x ?p ?z } }""",
}
_CHAIN_RULE = """CONSTRUCT {{ ?x <{p}> ?z }} WHERE {{
        ?x <{first}> ?y . ?y <{second}> ?z . FILTER NOT EXISTS {{ ?x <{p}> ?z }} }}"""


def schema_closure(ontology):
    """owlrl's entailments of the ontology alone (its schema closure), noise removed."""
    return infer(ontology)


def instance_rules(ontology):
    """Name -> SPARQL CONSTRUCT rule for each OWL RL instance rule the ontology needs.

    Property chains become one rule each (only chains of two properties are supported; a longer
    one raises ValueError rather than being skipped).
    """
    rules = dict(_PROPERTY_RULES)
    for prop, head in ontology.subject_objects(OWL.propertyChainAxiom):
        chain = list(ontology.items(head))
        if len(chain) != 2:
            raise ValueError(f"property chain of {prop} has {len(chain)} links; only 2 are supported")
        rules[f"chain {prop}"] = _CHAIN_RULE.format(p=prop, first=chain[0], second=chain[1])
    rules.update(_TYPE_RULES)
    return rules
