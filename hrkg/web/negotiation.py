"""HTTP content negotiation: which of the formats we can write does the client prefer?

``choose(accept, offers)`` implements RFC 9110 section 12.5.1: each offered media type gets the
quality of the most specific range in the Accept header that matches it (``text/turtle`` beats
``text/*`` beats ``*/*``); q=0 means "not acceptable"; ties go to the server's order. A
``format=`` query parameter (a short name or a media type) overrides the header.
"""
from dataclasses import dataclass

# `format=` takes our short names (json, xml, csv, tsv, html, ttl, jsonld, nt, rdfxml), these
# aliases, or a media type we offer
FORMAT_ALIASES = {"turtle": "ttl", "json-ld": "jsonld", "ntriples": "nt", "n-triples": "nt",
                  "rdf": "rdfxml", "rdf/xml": "rdfxml", "srj": "json", "srx": "xml"}

# offers: (media type the client may ask for, our format name). Order = our preference.
RESULT_OFFERS = [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("text/html", "html"),
    ("application/json", "json"), ("application/xml", "xml"), ("text/xml", "xml"),
]
BOOLEAN_OFFERS = [o for o in RESULT_OFFERS if o[1] in ("json", "xml", "html")]
GRAPH_OFFERS = [
    ("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdfxml"), ("text/html", "html"), ("application/x-turtle", "ttl"),
    ("application/json", "jsonld"), ("text/plain", "nt"), ("application/xml", "rdfxml"),
]
# a resource IRI: browsers (text/html first in their Accept) get HTML, clients that accept
# anything (*/*, curl's default) get Turtle
RESOURCE_OFFERS = GRAPH_OFFERS
PAGE_OFFERS = [("text/html", "html"), ("application/json", "plainjson")]


@dataclass(frozen=True)
class Choice:
    media_type: str   # what goes in Content-Type
    format: str       # our short name


class NotAcceptable(Exception):
    """No offered format is acceptable; ``available`` lists the media types we could send."""

    def __init__(self, message, available):
        super().__init__(message)
        self.available = available


def parse_accept(header):
    """[(type, subtype, params dict, q)] for an Accept header; malformed parts are skipped."""
    ranges = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0] or "/" not in pieces[0]:
            continue
        kind, _, sub = pieces[0].lower().partition("/")
        params, q = {}, 1.0
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
            elif key:
                params[key] = value
        ranges.append((kind.strip(), sub.strip(), params, q))
    return ranges


def quality(ranges, media_type):
    """Quality the client gives ``media_type``: that of the most specific matching range."""
    kind, _, sub = media_type.lower().partition("/")
    best, best_q = -1, 0.0
    for r_kind, r_sub, params, q in ranges:
        if r_kind == "*" and r_sub == "*":
            rank = 0
        elif r_kind == kind and r_sub == "*":
            rank = 1
        elif r_kind == kind and r_sub == sub:
            rank = 2 + (1 if params and "charset" not in params else 0)
        else:
            continue
        if rank > best:
            best, best_q = rank, q
    return best_q


def choose(accept, offers, *, format=None):
    """The Choice for this request, or raise NotAcceptable.

    ``format`` (from ``?format=``) wins over the header when given. No Accept header means
    anything is acceptable (RFC 9110), so the first offer is taken.
    """
    available = list(dict.fromkeys(m for m, _ in offers))
    if format:
        wanted = format.strip().lower()
        wanted = FORMAT_ALIASES.get(wanted, wanted)
        for media, name in offers:
            if wanted in (name, media):
                return Choice(media, name)
        names = list(dict.fromkeys(name for _, name in offers))
        raise NotAcceptable(f"format {format!r} is not available here; choose one of {', '.join(names)}",
                            available)
    if not accept or not accept.strip():
        media, name = offers[0]
        return Choice(media, name)
    ranges = parse_accept(accept)
    if not ranges:
        media, name = offers[0]
        return Choice(media, name)
    best, best_q = None, 0.0
    for media, name in offers:
        q = quality(ranges, media)
        if q > best_q:
            best, best_q = (media, name), q
    if best is None:
        raise NotAcceptable(f"none of the requested media types ({accept}) can be produced here; "
                            f"available: {', '.join(available)}", available)
    return Choice(*best)
