"""RDF terms between pyoxigraph (the engine) and rdflib (reports, exports, the library API), and
what a query result shows of a term, in one place.

A query answers with pyoxigraph terms; ``parts`` and ``n3`` give what the result formats print
(the value, language, datatype and Turtle form rdflib would print for the same term), so a query
process never imports rdflib (about 0.1 s of a 0.2 s start). Literals keep the lexical form the
engine hands back, except where rdflib would print another (a double ``1.5E0`` as ``1.5``): those
few are converted with rdflib, so every format prints what it printed when results were rdflib
terms. rdflib's warnings about ill-typed literals ("2013-02-30"^^xsd:date, which validation must be
able to report) are kept quiet.
"""
import re
import warnings

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"

# Datatypes whose lexical forms matching these patterns rdflib prints unchanged (checked against
# rdflib in tests/test_coldstart.py). The engine's canonical forms match them; anything else
# (doubles, dateTimes, "01"^^xsd:integer, other datatypes) is printed the way rdflib prints it.
_AS_IS = {XSD + name: re.compile(pattern) for name, pattern in {
    "integer": r"0|-?[1-9][0-9]*",
    "decimal": r"-?(?:0|[1-9][0-9]*)\.[0-9]+|0|-?[1-9][0-9]*",
    "boolean": r"true|false",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "gYear": r"[0-9]{4}",
    "gMonthDay": r"--[0-9]{2}-[0-9]{2}",
    "anyURI": r"[^\s<>\"{}|\\^`]*",
}.items()}

URIRef = BNode = Literal = None   # rdflib's term classes, once something asks for rdflib terms
_LOGGER = None                    # rdflib.term's logger (logging, too, loads only with rdflib)


def _rdflib():
    global URIRef, BNode, Literal, _LOGGER
    import logging
    from rdflib import BNode, Literal, URIRef
    _LOGGER = logging.getLogger("rdflib.term")


def quiet_literal(lexical, datatype=None, lang=None):
    """rdflib Literal without the warnings and logged tracebacks rdflib emits for ill-typed ones."""
    if Literal is None:
        _rdflib()
    logger = _LOGGER
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
    if URIRef is None:
        _rdflib()
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
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return term
    if URIRef is None:
        _rdflib()
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
    raise TypeError(f"unexpected RDF term {term!r}")


def _literal(term):
    """(value, language, datatype) of a pyoxigraph literal as rdflib shows it, or None when rdflib
    would show another lexical form (then ask rdflib)."""
    if term.language:
        return term.value, term.language, None
    datatype = term.datatype.value
    if datatype == XSD_STRING:
        return term.value, None, None
    pattern = _AS_IS.get(datatype)
    if pattern is not None and pattern.fullmatch(term.value):
        return term.value, None, datatype
    return None


def parts(term):
    """(kind, value, language, datatype) of a pyoxigraph or rdflib term as rdflib shows it: kind
    "uri", "bnode" or "literal"; value what ``str()`` of the rdflib term gives; language and
    datatype None when absent (datatype None for a plain or language-tagged string)."""
    if isinstance(term, ox.NamedNode):
        return "uri", term.value, None, None
    if isinstance(term, ox.BlankNode):
        return "bnode", term.value, None, None
    if isinstance(term, ox.Literal):
        shown = _literal(term)
        if shown is not None:
            return ("literal",) + shown
        term = to_rdflib(term)   # a form rdflib prints otherwise (1.5E0 as 1.5): ask rdflib
    if URIRef is None:
        _rdflib()
    if isinstance(term, URIRef):
        return "uri", str(term), None, None
    if isinstance(term, BNode):
        return "bnode", str(term), None, None
    if isinstance(term, Literal):
        return ("literal", str(term), term.language or None,
                None if term.language or term.datatype is None else str(term.datatype))
    raise TypeError(f"unexpected RDF term {term!r}")


def lexical(term):
    """What ``str()`` of the rdflib term gives: an IRI, a blank node's label, a literal's value."""
    if isinstance(term, (ox.NamedNode, ox.BlankNode)):
        return term.value
    return parts(term)[1]


def n3(term):
    """The term in Turtle syntax exactly as rdflib's ``n3()`` writes it (no prefixes)."""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"   # pyoxigraph checked the IRI: none of the characters rdflib refuses
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    shown = _literal(term) if isinstance(term, ox.Literal) else None
    if shown is None:
        return to_rdflib(term).n3()   # rdflib terms, and literals rdflib shows in another form
    value, language, datatype = shown
    encoded = _quote_encode(value)
    if language:
        return f"{encoded}@{language}"
    if datatype:
        return f"{encoded}^^<{datatype}>"
    return encoded


def _quote_encode(value):
    """rdflib's Literal._quote_encode: triple quotes for a value with a line break."""
    if "\n" in value:
        encoded = value.replace("\\", "\\\\")
        if '"""' in value:
            encoded = encoded.replace('"""', '\\"\\"\\"')
        if encoded[-1] == '"' and encoded[-2] != "\\":
            encoded = encoded[:-1] + "\\" + '"'
        return '"""%s"""' % encoded.replace("\r", "\\r")
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
