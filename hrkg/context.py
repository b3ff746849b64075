"""The published JSON-LD context: short keys for hrkg's terms, so the JSON-LD export reads like
plain JSON (``"date": "2015-02-05"``, ``"instrument": "https://w3id.org/hrkg/id/instrument/CAT"``)
and still expands to exactly the same triples.

``CONTEXT`` is the whole document served at ``CONTEXT_URL`` (``{"@context": {...}}``). It is a
contract with everyone who compacts or expands our JSON-LD: add terms, never change what an
existing one means. Rules it follows (checked in tests/test_export.py against the ontology):

- ``@vocab`` is the hrkg ontology, so classes (``"type": "Ratification"``) and every hrkg property
  without a definition below get their plain name; strings, integers and booleans need no more.
- every hrkg object property is ``@id``-typed: its values are plain IRI strings;
- every hrkg property whose range is a date, year, month-day or URI is typed, so its values are
  plain strings (``"date": "2015-02-05"`` means ``"2015-02-05"^^xsd:date``);
- labels, titles, definitions and comments are language maps: ``{"en": "Viet Nam", "vi": "Việt Nam"}``.

Resource IRIs stay absolute: a prefix ``state:`` would clash with the property ``state``, and the
absolute IRI is the one that resolves.
"""

CONTEXT_URL = "https://w3id.org/hrkg/context.jsonld"
MEDIA_TYPE = "application/ld+json"

_OBJECT_PROPERTIES = (
    "adoptedBy", "askedInstrument", "asksFor", "body", "concerns", "consent", "consentedBy", "consentingState", "cycle", "hasConsentedTo",
    "hasMember", "hasProtocol", "hasSigned", "implements", "instrument", "knownFor", "mandate", "measure",
    "memberOf", "membership", "monitoredBy", "monitors", "parentTreaty", "partOf", "partner",
    "priorityArea", "procedure", "proposedBy", "recommendingState", "reflects", "response", "review",
    "signature", "signingState", "state", "stateUnderReview", "statusOf", "withdraws",
)
_TYPED_PROPERTIES = {
    "xsd:date": ("actionAfterReviewDate", "actionBeforeReviewDate", "adoptionDate", "asOf", "date", "dueDate",
                 "endDate", "entryIntoForceDate", "firstActionDate", "fundamentalSince", "outcomeAdoptionDate",
                 "reviewDate", "reviewedOn", "startDate"),
    "xsd:gYear": ("dueYear", "endYear", "startYear", "year"),
    "xsd:gMonthDay": ("observedOn",),
    "xsd:anyURI": ("url",),
}
_LANGUAGE_MAPS = {
    "prefLabel": "skos:prefLabel", "altLabel": "skos:altLabel", "hiddenLabel": "skos:hiddenLabel",
    "definition": "skos:definition", "label": "rdfs:label", "comment": "rdfs:comment",
    "title": "dct:title", "description": "dct:description",
}
_LINKS = {
    "source": "dct:source", "member": "org:member", "organization": "org:organization",
    "exactMatch": "skos:exactMatch", "closeMatch": "skos:closeMatch", "inScheme": "skos:inScheme",
    "sameAs": "owl:sameAs", "seeAlso": "rdfs:seeAlso",
}


def _terms():
    terms = {
        "@vocab": "https://w3id.org/hrkg/ontology#",
        "id": "@id",
        "type": "@type",
        "hrkg": "https://w3id.org/hrkg/ontology#",
        "dct": "http://purl.org/dc/terms/",
        "org": "http://www.w3.org/ns/org#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "prov": "http://www.w3.org/ns/prov#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "schema": "https://schema.org/",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "vann": "http://purl.org/vocab/vann/",
        "wd": "http://www.wikidata.org/entity/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "publisher": "dct:publisher",
        "notation": "skos:notation",
        # compact-IRI keys, as "date" is hrkg:date; typed so their values are plain strings
        "dct:date": {"@id": "dct:date", "@type": "xsd:date"},
        "dct:created": {"@id": "dct:created", "@type": "xsd:date"},
    }
    for name in _OBJECT_PROPERTIES:
        terms[name] = {"@id": "hrkg:" + name, "@type": "@id"}
    for datatype, names in _TYPED_PROPERTIES.items():
        for name in names:
            terms[name] = {"@id": "hrkg:" + name, "@type": datatype}
    for name, iri in _LANGUAGE_MAPS.items():
        terms[name] = {"@id": iri, "@container": "@language"}
    for name, iri in _LINKS.items():
        terms[name] = {"@id": iri, "@type": "@id"}
    return terms


CONTEXT = {"@context": _terms()}
