"""Step 6 of the flow: serve the graph as linked data over HTTP.

``hrkg serve`` runs a Starlette app under uvicorn: a read-only SPARQL 1.1 Protocol endpoint
(``/sparql``), the stored queries (``/queries/NAME``), every ``https://w3id.org/hrkg/id/...``
IRI and the ontology resolved under the server (HTML for people, Turtle / JSON-LD / N-Triples /
RDF/XML by content negotiation), a VoID/DCAT description (``/void``) and the JSON-LD context
(``/context.jsonld``). Every query runs in a worker process that is killed at the time limit.
The parts are in hrkg/web/.
"""
import dataclasses

from .web.app import MAX_URL, create_app
from .web.handlers import Settings

__all__ = ["Settings", "create_app", "default_public_url", "serve"]


def default_public_url(host, port):
    """The base URL of absolute links when no --public-url is given: the bind address."""
    host = host or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"   # an IPv6 address
    return f"http://{host}:{port}"


def serve(factory, *, host="127.0.0.1", port=8000, settings=None, access_log=True, log_level="info"):
    """Load the graph with ``factory()`` (a callable returning a KnowledgeGraph) and serve it
    until interrupted. The factory runs first, so a missing store or a bad file is reported as
    the usual HrkgError before anything listens. Absolute links use ``settings.public_url``, by
    default the bind address (``http://HOST:PORT``), never a request's Host header."""
    import uvicorn
    settings = settings or Settings()
    if not settings.public_url:
        settings = dataclasses.replace(settings, public_url=default_public_url(host, port))
    kg = factory()
    app = create_app(lambda: kg, settings)
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level=log_level,
                timeout_graceful_shutdown=5, http=http_protocol())


def http_protocol():
    """uvicorn's httptools protocol, answering a request whose URL is longer than httptools reads
    (65,535 bytes) with 414 and a message instead of a bare "400 Invalid HTTP request"."""
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    message = (f"414 URI too long: the request URL is longer than {MAX_URL} bytes, the most this server "
               "reads; send a long SPARQL query in a POST body (Content-Type: application/sparql-query, "
               "or the form field 'query')\n").encode("ascii")

    class Protocol(HttpToolsProtocol):
        def on_url(self, url):
            super().on_url(url)
            if len(self.url) > MAX_URL:
                self._url_too_long = True

        def on_message_begin(self):
            super().on_message_begin()
            self._url_too_long = False

        def send_400_response(self, msg):
            if not getattr(self, "_url_too_long", False):
                return super().send_400_response(msg)
            status = STATUS_LINE.get(414) or b"HTTP/1.1 414 URI Too Long\r\n"
            content = [status]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content += [b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(message)).encode("ascii") + b"\r\n",
                        b"x-content-type-options: nosniff\r\n", b"connection: close\r\n", b"\r\n", message]
            self.transport.write(b"".join(content))
            self.transport.close()

    return Protocol
