"""Step 2: OWL RL inference with owlrl, keeping inferred triples apart and free of noise."""
import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

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
