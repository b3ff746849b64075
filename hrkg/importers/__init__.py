"""``hrkg import``: spreadsheet exports and saved pages to RDF, one module per job.

- ``run``: ``import_files``, the entry point; ``IMPORTERS`` maps a format name to its importer.
- ``upr``: UPR recommendation exports (CSV or TSV).
- ``untc``: UN Treaty Collection status tables (CSV, or the HTML page a browser saves); the page's
  text is read by ``untc_page`` (parser and rules, no RDF).
- shared by the importers: ``reading`` (decoding, CSV records, header mapping, RowError),
  ``reference`` (bundled codes and state names), ``writing`` (N-Triples/Turtle, the cited
  imported file), ``report`` (what the user is told).

Nothing is imported here, so ``untc_page`` loads without rdflib."""
