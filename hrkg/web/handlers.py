"""The work done in a worker process for each kind of request: run the query or gather the
page, write it in the negotiated format, and answer a Reply (never raise)."""
import json
import sys
import traceback
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, VOID

from ..errors import (HrkgError, ParameterError, QueryError, StoreError, UnknownCodeError,
                      UnknownQueryError, UsageError)
from ..namespaces import BASE, ID
from . import charts, pages, searching
from .guard import Refused, check_query
from .negotiation import (BOOLEAN_OFFERS, GRAPH_OFFERS, PAGE_OFFERS, RESOURCE_OFFERS, RESULT_OFFERS,
                          NotAcceptable, choose)
from .replies import Reply, error, local, page
from .results import truncate, write_graph, write_result

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
DATASET = URIRef(BASE + "dataset")
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DOWNLOADS = {"ttl": ("text/turtle", "Turtle"), "nt": ("application/n-triples", "N-Triples"),
             "jsonld": ("application/ld+json", "JSON-LD"), "xml": ("application/rdf+xml", "RDF/XML"),
             "trig": ("application/trig", "TriG, one named graph per source file"),
             "nq": ("application/n-quads", "N-Quads, one named graph per source file")}
DOWNLOAD_EXT = {"ttl": "ttl", "nt": "nt", "jsonld": "jsonld", "xml": "rdf", "trig": "trig", "nq": "nq"}


@dataclass
class Settings:
    """Limits and switches of a server; see hrkg.serve.serve for their meaning."""

    workers: int = 2
    timeout: float = 30.0
    max_rows: int = 10_000
    max_body: int = 1_000_000
    allow_remote: bool = False
    # the base of absolute links (VoID, service description), e.g. https://hrkg.example.org; never
    # taken from a request's Host header (replies are cached). None: hrkg.serve sets the bind address
    public_url: str | None = None
    response_cache: int = 512                 # GET replies kept in the server process (0: none)
    response_cache_bytes: int = 64 * 2**20    # ... and at most this many bytes of them (0: none)


def public_base(settings):
    """The base URL of absolute links: the configured public URL, never anything of a request."""
    return (settings.public_url or "http://127.0.0.1:8000").rstrip("/")


@dataclass
class WorkerState:
    kg: object
    settings: Settings
    memo: dict = field(default_factory=dict)
    search: object = None     # searching.SearchIndex, prepared before the workers fork


def handle(state, job):
    """Answer one job; every error becomes a Reply with a clear message."""
    accept = job.get("accept")
    try:
        return HANDLERS[job["kind"]](state, job)
    except Refused as exc:
        return error(exc.status, exc.message, accept, suggestions=exc.suggestions)
    except NotAcceptable as exc:
        return error(406, str(exc), None)
    except UnknownQueryError as exc:
        return error(404, str(exc), accept)
    except UnknownCodeError as exc:
        return error(400, str(exc), accept, suggestions=exc.suggestions)
    except (ParameterError, QueryError, UsageError) as exc:
        return error(400, str(exc), accept)
    except StoreError as exc:
        return error(503, str(exc), accept)
    except HrkgError as exc:
        return error(400, str(exc), accept)
    except MemoryError:
        return error(503, "the query needed more memory than this server allows", accept)
    except Exception as exc:  # a bug: log it, tell the client without the traceback
        traceback.print_exc(file=sys.stderr)
        return error(500, f"internal error ({type(exc).__name__}); the server log has the details", accept)


def _limited(result, settings):
    result, truncated = truncate(result, settings.max_rows)
    headers = {"X-SPARQL-MaxRows": str(settings.max_rows)} if truncated else {}
    return result, truncated, headers


def _encode(choice, text, headers, status=200):
    media = choice.media_type
    if media.startswith("text/") or media in ("application/n-triples",):
        media += "; charset=utf-8"
    return Reply(status, media, text, dict(headers, Vary="Accept"))


# ---- /sparql ------------------------------------------------------------------------------------

def sparql(state, job):
    settings = state.settings
    checked = check_query(job["query"], max_rows=settings.max_rows, allow_remote=settings.allow_remote)
    offers = {"ASK": BOOLEAN_OFFERS, "SELECT": RESULT_OFFERS}.get(checked.form, GRAPH_OFFERS)
    choice = choose(job.get("accept"), offers, format=job.get("format"))
    result = state.kg.sparql(checked.text, max_triples=settings.max_rows)
    result, truncated, headers = _limited(result, settings)
    if choice.format == "html":
        return page("sparql.html", dict(query=job["query"], result=result, form=checked.form, truncated=truncated,
                                        unit="triples" if result.graph is not None else "rows",
                                        settings=settings, examples=EXAMPLES,
                                        graph_rows=sorted(result.graph) if result.graph is not None else None),
                    headers=dict(headers, Vary="Accept"))
    if result.graph is not None:
        return _encode(choice, write_graph(result.graph, choice.format), headers)
    return _encode(choice, write_result(result, choice.format), headers)


EXAMPLES = [
    ("Viet Nam's treaty actions",
     "SELECT ?date ?type ?instrument WHERE {\n  ?a hrkg:consentingState state:VNM ; hrkg:instrument ?i ;\n"
     "     hrkg:date ?date ; a ?type .\n  ?i hrkg:code ?instrument .\n  FILTER(?type IN (hrkg:Ratification, "
     "hrkg:Accession))\n} ORDER BY ?date"),
    ("Is Viet Nam party to CAT?", "ASK { ?c hrkg:consentingState state:VNM ; hrkg:instrument instr:CAT }"),
    ("Everything about ASEAN", "DESCRIBE group:ASEAN"),
]


def service_description(state, job):
    choice = choose(job.get("accept"), GRAPH_OFFERS, format=job.get("format"))
    settings = state.settings
    base = public_base(settings)
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    endpoint = URIRef(base + "/sparql")
    graph.add((endpoint, RDF.type, SD.Service))
    graph.add((endpoint, SD.endpoint, endpoint))
    graph.add((endpoint, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((endpoint, SD.feature, SD.UnionDefaultGraph))
    if settings.allow_remote:
        graph.add((endpoint, SD.feature, SD.BasicFederatedQuery))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "JSON-LD", "N-Triples", "RDF_XML"):
        graph.add((endpoint, SD.resultFormat, FORMATS_NS[name]))
    graph.add((endpoint, DCTERMS.description, Literal(
        f"Read-only SPARQL 1.1 endpoint of hrkg. SPARQL Update is refused (403); SERVICE and FROM with "
        f"IRIs outside {BASE} are {'allowed' if settings.allow_remote else 'refused (403)'}. A query is "
        f"stopped after {settings.timeout:g} s (503); results longer than {settings.max_rows} rows or "
        f"triples are truncated to that many and marked with the header X-SPARQL-MaxRows; request bodies "
        f"over {settings.max_body} bytes are refused (413).", lang="en")))
    dataset = BNode()
    graph.add((endpoint, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    counts = _graph_counts(state)
    stats = state.kg.manifest   # the default graph: each triple once, however many files state it
    graph.add((default, VOID.triples, Literal(stats["asserted_triples"] + stats["inferred_triples"])))
    for name, n in sorted(counts.items()):
        named, inner = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, inner))
        graph.add((inner, VOID.triples, Literal(n)))
    if choice.format == "html":
        return page("graph.html", dict(title="SPARQL service description", graph_rows=sorted(graph),
                                       intro="Send a query as ?query=..., a form field or an "
                                             "application/sparql-query body.",
                                       query_form=True, examples=EXAMPLES, settings=settings))
    return _encode(choice, write_graph(graph, choice.format), {})


def _graph_counts(state):
    if "graph_counts" not in state.memo:
        rows = state.kg.sparql("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g").rows
        state.memo["graph_counts"] = {str(g): int(n) for g, n in rows}
    return state.memo["graph_counts"]


# ---- stored queries -----------------------------------------------------------------------------

def queries(state, job):
    choice = choose(job.get("accept"), PAGE_OFFERS, format=job.get("format"))
    catalog = list(state.kg.catalog)
    if choice.format == "html":
        return page("queries.html", dict(queries=catalog))
    listing = [{"name": q.name, "title": q.title, "description": q.description, "url": f"/queries/{q.name}",
                "parameters": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                                "description": p.description} for p in q.parameters],
                "examples": q.examples} for q in catalog]
    return Reply(200, "application/json", json.dumps({"queries": listing}, ensure_ascii=False, indent=1) + "\n",
                 {"Vary": "Accept"})


def stored_query(state, job):
    kg, settings = state.kg, state.settings
    stored = kg.catalog.get(job["name"])
    choice = choose(job.get("accept"), RESULT_OFFERS, format=job.get("format"))
    params = job.get("params") or {}
    if choice.format != "html":
        result, truncated, headers = _limited(kg.query(stored.name, params), settings)
        return _encode(choice, write_result(result, choice.format), headers)
    context = dict(query=stored, params=params, result=None, message=None, suggestions=[], truncated=False,
                   choices=_choices(kg, stored), query_string=job.get("query_string", ""))
    if not params and any(p.required for p in stored.parameters):
        return page("query.html", context)   # a person arriving at the form
    try:
        result, truncated, headers = _limited(kg.query(stored.name, params), settings)
    except UnknownCodeError as exc:
        return page("query.html", dict(context, message=str(exc), suggestions=exc.suggestions), status=400)
    except (UsageError, QueryError) as exc:
        return page("query.html", dict(context, message=str(exc)), status=400)
    return page("query.html", dict(context, result=result, truncated=truncated), headers=dict(headers, Vary="Accept"))


def _choices(kg, stored):
    """Codes (with names) to offer in the form for each code-typed parameter."""
    out = {}
    kinds = {"state": "state", "instrument": "instrument", "group": "group", "body": "body",
             "organization": "organization", "cycle": "cycle", "mandate": "mandate"}
    for p in stored.parameters:
        kind = kinds.get(p.type)
        if kind and kind in kg.codes.kinds():
            out[p.name] = kg.codes.codes(kind)
    return out


# ---- resources, ontology, VoID ------------------------------------------------------------------

RICH_PAGES = {"state": ("state.html", pages.state_page), "instrument": ("instrument.html", pages.instrument_page),
              "group": ("group.html", pages.group_page)}


def resource(state, job):
    iri = str(ID) + job["path"]
    choice = choose(job.get("accept"), RESOURCE_OFFERS, format=job.get("format"))
    if choice.format == "html":
        kind = pages.kind_of(iri)
        template, builder = RICH_PAGES.get(kind, ("resource.html", pages.resource_page))
        data = (builder(state.kg, iri) if builder is pages.resource_page
                else builder(state.kg, iri, as_of=job.get("as_of")))
        if data is None and builder is not pages.resource_page:
            template, data = "resource.html", pages.resource_page(state.kg, iri)
        if data is None:
            return _not_found(state, iri, job)
        return page(template, data, headers={"Vary": "Accept"})
    graph = pages.describe_graph(state.kg, iri)
    if not len(graph):
        return _not_found(state, iri, job)
    graph, truncated = truncate_graph(graph, state.settings)
    return _encode(choice, write_graph(graph, choice.format),
                   {"X-SPARQL-MaxRows": str(state.settings.max_rows)} if truncated else {})


def truncate_graph(graph, settings):
    from ..query import Result
    result, truncated = truncate(Result([], [], graph=graph), settings.max_rows)
    return result.graph, truncated


def _not_found(state, iri, job):
    kind, code = pages.kind_of(iri), pages.code_of(iri)
    suggestions = []
    if kind in state.kg.codes.kinds():
        suggestions = state.kg.codes.suggest(kind, code)
    return error(404, f"the graph has nothing about <{iri}>", job.get("accept"), suggestions=suggestions,
                 links=[f"/id/{kind}/{s}" for s in suggestions])


def ontology(state, job):
    choice = choose(job.get("accept"), RESOURCE_OFFERS, format=job.get("format"))
    if choice.format == "html":
        return page("ontology.html", pages.ontology_page(state.kg), headers={"Vary": "Accept"})
    return _encode(choice, write_graph(pages.ontology_graph(state.kg), choice.format), {})


def void(state, job):
    choice = choose(job.get("accept"), GRAPH_OFFERS, format=job.get("format"))
    graph = void_graph(state, public_base(state.settings))
    if choice.format == "html":
        return page("graph.html", dict(title="Dataset description (VoID and DCAT)", graph_rows=sorted(graph),
                                       intro="The hrkg dataset: size, classes, licence, downloads and SPARQL "
                                             "endpoint.", query_form=False, examples=[], settings=state.settings))
    return _encode(choice, write_graph(graph, choice.format), {})


def void_graph(state, base):
    stats = state.memo.get("stats") or state.memo.setdefault("stats", state.kg.stats())
    if "classes" not in state.memo:
        rows = state.kg.sparql("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c").rows
        state.memo["classes"] = sorted((str(c), int(n)) for c, n in rows if isinstance(c, URIRef))
    if "properties" not in state.memo:
        rows = state.kg.sparql("SELECT (COUNT(DISTINCT ?p) AS ?n) (COUNT(DISTINCT ?s) AS ?s_n) WHERE { ?s ?p ?o }").rows
        state.memo["properties"] = (int(rows[0][0]), int(rows[0][1]))
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    g.add((DATASET, RDF.type, VOID.Dataset))
    g.add((DATASET, RDF.type, DCAT.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("hrkg: the human-rights knowledge graph", lang="en")))
    g.add((DATASET, DCTERMS.description, Literal(
        "Which states are bound by which human-rights instruments and since when, and how states engage "
        "with UN and regional mechanisms; every fact is a dated event that names its source.", lang="en")))
    g.add((DATASET, DCTERMS.license, LICENSE))
    g.add((DATASET, FOAF.homepage, URIRef(base + "/")))
    g.add((DATASET, VOID.sparqlEndpoint, URIRef(base + "/sparql")))
    g.add((DATASET, VOID.uriSpace, Literal(str(ID))))
    g.add((DATASET, VOID.vocabulary, URIRef(BASE + "ontology")))
    g.add((DATASET, VOID.exampleResource, ID["state/VNM"]))
    g.add((DATASET, VOID.exampleResource, ID["instrument/CAT"]))
    g.add((DATASET, VOID.exampleResource, ID["group/ASEAN"]))
    triples = stats["asserted triples"] + stats["inferred triples"]
    g.add((DATASET, VOID.triples, Literal(triples)))
    g.add((DATASET, VOID.classes, Literal(len(state.memo["classes"]))))
    g.add((DATASET, VOID.properties, Literal(state.memo["properties"][0])))
    g.add((DATASET, VOID.distinctSubjects, Literal(state.memo["properties"][1])))
    g.add((DATASET, DCTERMS.description, Literal(
        f"{stats['asserted triples']} asserted and {stats['inferred triples']} inferred (OWL 2 RL) triples; "
        "the downloads hold the asserted ones.", lang="en")))
    for cls, n in state.memo["classes"]:
        part = BNode()
        g.add((DATASET, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(n)))
    for fmt, (media, title) in DOWNLOADS.items():
        dist = URIRef(f"{base}/download/hrkg.{DOWNLOAD_EXT[fmt]}")
        g.add((DATASET, DCAT.distribution, dist))
        g.add((DATASET, VOID.dataDump, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.downloadURL, dist))
        g.add((dist, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/" + media)))
        g.add((dist, DCTERMS.title, Literal(title, lang="en")))
        g.add((dist, DCTERMS.license, LICENSE))
    service = URIRef(base + "/sparql")
    g.add((DATASET, DCAT.distribution, URIRef(base + "/sparql#distribution")))
    g.add((URIRef(base + "/sparql#distribution"), RDF.type, DCAT.Distribution))
    g.add((URIRef(base + "/sparql#distribution"), DCAT.accessService, service))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCAT.endpointURL, service))
    g.add((service, DCAT.servesDataset, DATASET))
    return g


def download(state, job):
    """The dump in ``job["format"]``, exported once into the cache folder (one file per graph
    fingerprint and format, streamed by hrkg.export) and named in the X-Hrkg-Download-File header,
    so the server process streams it from disk (app.py) and no pipe or memory holds all of it.
    Without a cache folder it can write, or a graph without a fingerprint, the reply holds it."""
    import os
    from ..export import export_graph
    from ..store import cache_dir
    fmt, kg = job["format"], state.kg
    media = DOWNLOADS[fmt][0]
    media += "; charset=utf-8" if media.startswith("text/") else ""
    headers = {"Content-Disposition": f'inline; filename="hrkg.{DOWNLOAD_EXT[fmt]}"'}
    manifest = getattr(kg, "manifest", None)
    key = manifest["fingerprint"] if manifest else getattr(kg, "fingerprint", lambda: None)()
    if key:
        path = cache_dir() / "downloads" / key[:20] / f"hrkg.{DOWNLOAD_EXT[fmt]}"
        tmp = path.with_name(f"{path.name}.part-{os.getpid()}")
        try:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as fh:
                    export_graph(kg, fmt, fh)
                os.replace(tmp, path)
            return Reply(200, media, b"", dict(headers, **{"X-Hrkg-Download-File": str(path)}))
        except OSError as exc:
            print(f"hrkg serve: cannot keep the {fmt} download in {path.parent} ({exc}); "
                  "sending it from memory", file=sys.stderr)
        finally:
            if tmp.exists():
                tmp.unlink()
    return Reply(200, media, kg.export(fmt), headers)


def home(state, job):
    if "home" not in state.memo:
        state.memo["home"] = pages.home_page(state.kg)
    return page("home.html", dict(state.memo["home"], settings=state.settings))


def lookup(state, job):
    """A code or name typed into the search form: 303 to its page, or 404 with suggestions."""
    text = (job.get("q") or "").strip()
    codes = state.kg.codes
    if not text:
        raise Refused(400, "type a state, instrument or group code or name (e.g. VNM, Viet Nam, CAT, ASEAN)")
    suggestions = []
    for kind in ("state", "instrument", "group", "body"):
        try:
            iri = codes.resolve(kind, text)
        except UsageError as exc:
            suggestions += [f"{kind}/{s}" for s in getattr(exc, "suggestions", [])]
            continue
        return Reply(303, "text/plain; charset=utf-8", "", {"Location": local(iri)})
    return error(404, f"no state, instrument, group or body is called {text!r}", job.get("accept"),
                 suggestions=suggestions[:6], links=[f"/id/{s}" for s in suggestions[:6]])


def warm(state):
    """Work done once before forking, so every worker starts with it done."""
    kg = state.kg
    kg.codes
    _graph_counts(state)
    state.memo["home"] = pages.home_page(kg)
    charts.map_shapes()      # the projected country shapes and the graph's M49 codes and knowledge,
    pages.m49_codes(kg)      # once, before the workers fork
    pages.knowledge(kg)
    void_graph(state, "http://localhost")
    searching.state_names(state)
    check_query("SELECT * WHERE { ?s ?p ?o } LIMIT 1", max_rows=state.settings.max_rows)


HANDLERS = {"sparql": sparql, "service": service_description, "queries": queries, "stored": stored_query,
            "resource": resource, "ontology": ontology, "void": void, "download": download, "home": home,
            "lookup": lookup, "search": searching.search}
