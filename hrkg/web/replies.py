"""Replies shared by the server process and its workers: the Reply value, HTML templates, and
error bodies in the format the client reads (HTML for browsers, JSON for JSON clients, else text)."""
import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from rdflib import BNode, Literal, URIRef

from .. import __version__
from ..namespaces import BASE, XSD
from .negotiation import NotAcceptable, choose

HTML = "text/html; charset=utf-8"
ERROR_OFFERS = [("text/plain", "text"), ("text/html", "html"), ("application/json", "json"),
                ("application/sparql-results+json", "json"), ("application/ld+json", "json")]
STATUS_TEXT = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
               406: "Not acceptable", 413: "Request too large", 414: "URI too long",
               415: "Unsupported media type", 500: "Server error", 503: "Service unavailable"}


@dataclass
class Reply:
    """What a handler answers; picklable, so workers can send it to the server process."""

    status: int
    media_type: str
    body: bytes | str
    headers: dict = field(default_factory=dict)


def local(iri, root=""):
    """The server path where an hrkg IRI resolves (``/id/state/VNM``); other IRIs unchanged."""
    iri = str(iri)
    if iri.startswith(BASE + "id/"):
        return root + "/id/" + iri[len(BASE + "id/"):]
    if iri.startswith(BASE + "ontology"):
        return root + "/ontology" + iri[len(BASE + "ontology"):]
    return iri


_WEB_LINK = re.compile(r"https?://[^\x00-\x20\x7f<>\"\\\\^`{|}]+\Z", re.IGNORECASE)


def href(iri):
    """Where a link to ``iri`` may point in a page: its server path (hrkg IRIs), the IRI itself if
    it is an http(s) IRI, else None. Data can hold any IRI (``javascript:``, ``data:``, ``file:``):
    only http(s) ones become links; the rest are shown as text."""
    if iri is None:
        return None
    path = local(iri)
    if path.startswith("/") and not path.startswith("//") and not _UNSAFE_PATH.search(path):
        return path
    return path if _WEB_LINK.match(path) else None


_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\\\]")


def link(iri, text=None, **attrs):
    """``<a href>`` to ``iri`` showing ``text`` (escaped; default the IRI), or just the text when
    the IRI is not one a page may link to (see ``href``)."""
    text = str(iri) if text is None else text
    target = href(iri)
    if target is None:
        return Markup('<span class="iri">%s</span>') % text
    extra = Markup("").join(Markup(' %s="%s"') % (name.rstrip("_"), value) for name, value in attrs.items())
    return Markup('<a href="%s"%s>%s</a>') % (target, extra, text)


def short(iri):
    """A compact name for an IRI in tables: a prefixed name where hrkg binds one."""
    from ..namespaces import PREFIXES
    iri = str(iri)
    best = None
    for prefix, ns in PREFIXES.items():
        ns = str(ns)
        if iri.startswith(ns) and len(iri) > len(ns) and (best is None or len(ns) > len(best[1])):
            best = (prefix, ns)
    return f"{best[0]}:{iri[len(best[1]):]}" if best else iri


def show_date(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def term_kind(term):
    if isinstance(term, URIRef):
        return "iri"
    if isinstance(term, BNode):
        return "bnode"
    if isinstance(term, Literal):
        return "literal"
    return "none"


def literal_note(term):
    """'en', 'xsd:date', ... shown small next to a literal."""
    if not isinstance(term, Literal):
        return ""
    if term.language:
        return "" if term.language == "en" else "@" + term.language
    if term.datatype is not None and term.datatype not in _PLAIN_TYPES:
        return short(term.datatype)
    return ""


# datatypes a reader recognises from the value itself; others are named next to the value
_PLAIN_TYPES = {XSD.string, XSD.date, XSD.integer, XSD.decimal, XSD.boolean, XSD.gYear, XSD.double}


def example_query(example):
    """A stored query's example (``state=VNM as_of=2014-12-31``) as a URL query string."""
    import shlex
    from urllib.parse import urlencode
    pairs = [tuple(part.split("=", 1)) for part in shlex.split(example) if "=" in part]
    return urlencode(pairs)


def make_environment():
    env = Environment(loader=PackageLoader("hrkg.web", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(local=local, short=short, href=href, link=link, show_date=show_date, term_kind=term_kind,
                       literal_note=literal_note, version=__version__, BASE=BASE,
                       example_query=example_query)
    return env


_ENV = None


def environment():
    global _ENV
    if _ENV is None:
        _ENV = make_environment()
        for name in _ENV.list_templates():   # compile once, before the workers fork
            _ENV.get_template(name)
    return _ENV


def content_security_policy():
    """The Content-Security-Policy of every HTML page: nothing runs (the pages have no script),
    nothing loads from elsewhere; the one inline stylesheet of base.html is allowed by its hash;
    charts are inline SVG; forms post only to this server; no page may be framed."""
    global _CSP
    if _CSP is None:
        source = environment().loader.get_source(environment(), "base.html")[0]
        styles = re.findall(r"<style>(.*?)</style>", source, re.DOTALL)
        hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
                          for css in styles)
        _CSP = ("default-src 'none'; " + (f"style-src {hashes}; " if hashes else "")
                + "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return _CSP


_CSP = None


def page(template, context, *, status=200, headers=None):
    """An HTML reply rendered from ``template`` with the dict ``context``."""
    body = environment().get_template(template).render(**context)
    return Reply(status, HTML, body, dict(headers or {}))


def error(status, message, accept=None, *, suggestions=(), headers=None, links=(), fields=None):
    """An error reply in the client's preferred form; the message always names what was wrong.
    ``fields`` are added to a JSON body (e.g. {"parameter": "state"})."""
    try:
        kind = choose(accept, ERROR_OFFERS).format
    except NotAcceptable:
        kind = "text"
    headers = dict(headers or {})
    if kind == "html":
        return page("error.html", dict(status=status, title=STATUS_TEXT.get(status, "Error"), message=message,
                                       suggestions=list(suggestions), links=list(links)),
                    status=status, headers=headers)
    if kind == "json":
        body = {"error": message, "status": status, **(fields or {})}
        if suggestions:
            body["suggestions"] = list(suggestions)
        return Reply(status, "application/json", json.dumps(body, ensure_ascii=False) + "\n", headers)
    text = f"{status} {STATUS_TEXT.get(status, 'Error')}: {message}\n"
    if suggestions:
        text += f"suggestions: {', '.join(suggestions)}\n"
    return Reply(status, "text/plain; charset=utf-8", text, headers)
