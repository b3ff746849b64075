"""The linked-data server's parts (see hrkg/serve.py for the entry point).

app.py routes HTTP requests; pool.py runs every query in a killable worker process; handlers.py
is what a worker does per request; guard.py decides what a SPARQL query may do; negotiation.py
picks the response format; results.py writes it; pages.py and charts.py gather and draw the HTML
pages rendered from templates/.
"""
