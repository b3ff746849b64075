"""SHACL validation, one module per job.

- ``shapes.py``: the bundled shapes (or given files) loaded, and compiled into the model the engine
  evaluates (_Shapes), refusing up front any shape it cannot evaluate;
- ``engine.py``: the compiled validator, each constraint as SPARQL over the pyoxigraph store
  (validate_store, validate_graph); ``sparql_text.py`` is the little SPARQL parsing it needs to
  join a focus-node pattern into the shapes' own queries;
- ``report_graph.py``: the engine's results written as a SHACL report graph, as pyshacl writes it;
- ``report.py``: that graph read into a ValidationReport (results, the warnings hrkg adds) and
  the report formats (text, json, ttl, junit);
- ``reference.py``: pySHACL, the reference the engine is tested against (``--engine pyshacl``).

Nothing is imported here, so importing one module loads only what it needs.
"""
