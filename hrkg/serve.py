"""Step 6 of the flow: serve the graph as linked data over HTTP.

``hrkg serve`` runs a Starlette app under uvicorn: a read-only SPARQL 1.1 Protocol endpoint
(``/sparql``), the stored queries (``/queries/NAME``), every ``https://w3id.org/hrkg/id/...``
IRI and the ontology resolved under the server (HTML for people, Turtle / JSON-LD / N-Triples /
RDF/XML by content negotiation), a VoID/DCAT description (``/void``) and the JSON-LD context
(``/context.jsonld``). Every query runs in a worker process that is killed at the time limit.
The parts are in hrkg/web/.
"""
from .web.app import create_app
from .web.handlers import Settings

__all__ = ["Settings", "create_app", "serve"]


def serve(factory, *, host="127.0.0.1", port=8000, settings=None, access_log=True, log_level="info"):
    """Load the graph with ``factory()`` (a callable returning a KnowledgeGraph) and serve it
    until interrupted. The factory runs first, so a missing store or a bad file is reported as
    the usual HrkgError before anything listens."""
    import uvicorn
    kg = factory()
    app = create_app(lambda: kg, settings or Settings())
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level=log_level,
                timeout_graceful_shutdown=5)
