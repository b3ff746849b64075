"""Step 2: OWL RL inference with owlrl, keeping inferred triples apart and free of noise."""
from typing import NamedTuple

import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib import term as rdflib_term
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


# What is_noise looks at, as IRI strings, for never_noise below
_NOISE_PREDICATES = frozenset(str(p) for p in _REFLEXIVE | {RDF.type, OWL.disjointWith})
_TRIVIAL_TYPES = frozenset(str(o) for o in _TRIVIAL_OBJECTS)


def never_noise(predicate, type_iri=None):
    """True when is_noise is False for every triple whose subject is an IRI and whose predicate is
    the IRI ``predicate``; for rdf:type, ``type_iri`` is the object (None if not an IRI). A test on
    strings, for the build, which checks every triple its rules infer (kept next to is_noise, whose
    rules it must follow)."""
    if predicate not in _NOISE_PREDICATES:
        return True
    return predicate == str(RDF.type) and type_iri is not None and type_iri not in _TRIVIAL_TYPES \
        and not type_iri.startswith(str(RDF))


def infer(asserted):
    """Return a new Graph with only the triples OWL RL adds to ``asserted``, noise removed.

    ``asserted`` (a Graph or a union-default Dataset) is not modified.
    """
    work = Graph()
    for triple in asserted.triples((None, None, None)):
        work.add(triple)
    before = set(work)
    converters = dict(rdflib_term._toPythonMapping)
    try:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                               datatype_axioms=False).expand(work)
    finally:
        # owlrl swaps in its own lexical converters for good; its gMonthDay one rejects every
        # valid value ("--12-27") and logs a traceback each time rdflib reads one afterwards
        rdflib_term._toPythonMapping.clear()
        rdflib_term._toPythonMapping.update(converters)
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

_TRIVIAL_CLASSES = {OWL.Thing, RDFS.Resource}


class Rule(NamedTuple):
    """One instance rule: it adds ``subject predicate object`` (``subject`` a variable such as
    "?s", ``predicate`` an IRI, ``object`` a variable or an IRI, both in SPARQL syntax) for each
    solution of ``where``, which already leaves out what the graph holds."""
    name: str
    subject: str
    predicate: URIRef
    object: str
    where: str

    @property
    def template(self):
        return f"{self.subject} {self.predicate.n3()} {self.object}"

    @property
    def construct(self):
        return f"CONSTRUCT {{ {self.template} }} WHERE {{ {self.where} }}"


def schema_closure(ontology):
    """owlrl's entailments of the ontology alone (its schema closure), noise removed."""
    return infer(ontology)


def instance_rules(ontology, closure=None):
    """The OWL RL instance rules the ontology needs, as two ordered lists of Rule: property rules
    (subproperty, inverse, chain, transitive), to repeat until nothing new appears, and type rules
    (domain, range, then subclass), one pass of which suffices because the schema closure already
    holds every transitive superclass.

    One rule per schema axiom, with its terms bound, so each is an index lookup on the store.
    A property chain of other than two links raises ValueError rather than being skipped.
    """
    schema = Graph()
    for t in ontology:
        schema.add(t)
    for t in closure if closure is not None else schema_closure(ontology):
        schema.add(t)
    iri = lambda x: isinstance(x, URIRef)
    prop_rules, type_rules = [], []
    for sub, sup in sorted(schema.subject_objects(RDFS.subPropertyOf)):
        if iri(sub) and iri(sup) and sub != sup:
            prop_rules.append(Rule(f"subproperty {sub.n3()} {sup.n3()}", "?s", sup, "?o",
                                   f"?s {sub.n3()} ?o . FILTER NOT EXISTS {{ ?s {sup.n3()} ?o }}"))
    inverses = {(p, q) for p, q in schema.subject_objects(OWL.inverseOf) if iri(p) and iri(q)}
    for p, q in sorted(inverses | {(q, p) for p, q in inverses}):
        prop_rules.append(Rule(f"inverse {p.n3()} {q.n3()}", "?o", q, "?s",
                               f"?s {p.n3()} ?o . FILTER(!isLiteral(?o)) FILTER NOT EXISTS {{ ?o {q.n3()} ?s }}"))
    for prop, head in sorted(ontology.subject_objects(OWL.propertyChainAxiom)):
        chain = list(ontology.items(head))
        if len(chain) != 2:
            raise ValueError(f"property chain of {prop} has {len(chain)} links; only 2 are supported")
        prop_rules.append(Rule(f"chain {prop.n3()}", "?x", prop, "?z",
                               f"?x {chain[0].n3()} ?y . ?y {chain[1].n3()} ?z . "
                               f"FILTER NOT EXISTS {{ ?x {prop.n3()} ?z }}"))
    for prop in sorted(schema.subjects(RDF.type, OWL.TransitiveProperty)):
        prop_rules.append(Rule(f"transitive {prop.n3()}", "?x", prop, "?z",
                               f"?x {prop.n3()} ?y . ?y {prop.n3()} ?z . FILTER NOT EXISTS {{ ?x {prop.n3()} ?z }}"))
    for prop, cls in sorted(schema.subject_objects(RDFS.domain)):
        if iri(prop) and iri(cls) and cls not in _TRIVIAL_CLASSES:
            type_rules.append(Rule(f"domain {prop.n3()} {cls.n3()}", "?s", RDF.type, cls.n3(),
                                   f"{{ SELECT DISTINCT ?s WHERE {{ ?s {prop.n3()} ?o }} }} "
                                   f"FILTER NOT EXISTS {{ ?s a {cls.n3()} }}"))
    for prop, cls in sorted(schema.subject_objects(RDFS.range)):
        if iri(prop) and iri(cls) and cls not in _TRIVIAL_CLASSES and not str(cls).startswith(str(XSD)) \
                and cls != RDFS.Literal:
            type_rules.append(Rule(f"range {prop.n3()} {cls.n3()}", "?o", RDF.type, cls.n3(),
                                   f"{{ SELECT DISTINCT ?o WHERE {{ ?s {prop.n3()} ?o . FILTER(!isLiteral(?o)) }} }} "
                                   f"FILTER NOT EXISTS {{ ?o a {cls.n3()} }}"))
    pairs = set(schema.subject_objects(RDFS.subClassOf))
    pairs |= {(a, b) for a, b in schema.subject_objects(OWL.equivalentClass)}
    pairs |= {(b, a) for a, b in schema.subject_objects(OWL.equivalentClass)}
    for sub, sup in sorted(pairs):
        if iri(sub) and iri(sup) and sub != sup and sup not in _TRIVIAL_CLASSES:
            type_rules.append(Rule(f"subclass {sub.n3()} {sup.n3()}", "?x", RDF.type, sup.n3(),
                                   f"?x a {sub.n3()} . FILTER NOT EXISTS {{ ?x a {sup.n3()} }}"))
    return prop_rules, type_rules


# ---- materialised statistics ------------------------------------------------------------
# Aggregates a world-wide query would otherwise recompute on every call (200,000 recommendations
# counted per review), computed by build.fill after inference into the inferred graph. Each
# recommendation counts once (COUNT DISTINCT), however many files state it; tests/test_store.py
# shows they equal the raw aggregate.

STATISTICS = {
    "recommendations per review": """
CONSTRUCT { ?review hrkg:recommendationsInGraph ?n ; hrkg:supportedInGraph ?supported ;
                    hrkg:notedInGraph ?noted }
WHERE {
  { SELECT ?review (COUNT(DISTINCT ?r) AS ?n) (COUNT(DISTINCT ?s) AS ?supported) (COUNT(DISTINCT ?o) AS ?noted)
    WHERE { ?r a hrkg:Recommendation ; hrkg:review ?review .
            OPTIONAL { ?r hrkg:response hrkg:Supported . BIND(?r AS ?s) }
            OPTIONAL { ?r hrkg:response hrkg:Noted . BIND(?r AS ?o) } }
    GROUP BY ?review }
}""",
}


def statistics(graph, prefixes):
    """The STATISTICS triples of an rdflib graph (asserted + inferred) as a new Graph."""
    out = Graph()
    for query in STATISTICS.values():
        for triple in graph.query(query, initNs=prefixes):
            out.add(triple)
    return out
