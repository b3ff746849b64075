"""RDF terms between pyoxigraph (the engine) and rdflib (results, reports, the library API).

Literals keep the lexical form the engine hands back; rdflib's warnings about ill-typed literals
("2013-02-30"^^xsd:date, which validation must be able to report) are kept quiet.
"""
import logging
import warnings

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def quiet_literal(lexical, datatype=None, lang=None):
    """rdflib Literal without the warnings and logged tracebacks rdflib emits for ill-typed ones."""
    logger = logging.getLogger("rdflib.term")
    was, logger.disabled = logger.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Literal(lexical, datatype=datatype, lang=lang)
    finally:
        logger.disabled = was


def to_rdflib(term):
    """The rdflib term for a pyoxigraph term (None stays None; rdflib terms pass through)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return Literal(term.value)
        return quiet_literal(term.value, URIRef(datatype))
    if isinstance(term, (URIRef, BNode, Literal)):
        return term
    raise TypeError(f"unexpected RDF term {term!r}")


def to_ox(term, bnodes=None):
    """The pyoxigraph term for an rdflib term. ``bnodes`` (a dict) keeps one pyoxigraph blank node
    per rdflib blank node, also for rdflib labels pyoxigraph does not accept."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        if bnodes is None:
            return ox.BlankNode(str(term))
        if term not in bnodes:
            try:
                bnodes[term] = ox.BlankNode(str(term))
            except ValueError:
                bnodes[term] = ox.BlankNode()
        return bnodes[term]
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return term
    raise TypeError(f"unexpected RDF term {term!r}")
