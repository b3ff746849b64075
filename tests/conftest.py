import re

import pytest

from hrkg import KnowledgeGraph


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory):
    """Inference cache in a temporary folder, so tests never read a stale cache from $HOME."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HRKG_CACHE_DIR", str(tmp_path_factory.mktemp("hrkg-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def kg(_cache_dir):
    return KnowledgeGraph.open()


@pytest.fixture(scope="session")
def imported_kg(_cache_dir, tmp_path_factory):
    """The bundled graph plus the UPR fixtures and the CAT page, as a user would query them."""
    from pathlib import Path
    from hrkg.importers.run import import_files
    fixtures = Path(__file__).parent / "fixtures" / "import"
    folder = tmp_path_factory.mktemp("imported")
    import_files("upr", [fixtures / "upr-latin1-cr.csv", fixtures / "upr-utf8-bom.csv"], folder / "upr.ttl")
    import_files("upr", [fixtures / "upr-custom.tsv"], folder / "upr-iv.nt", field_map=[
        "state=Country reviewed", "text=Rec. text", "response=SuR answer", "session=WG session"])
    import_files("untc", [fixtures / "untc-cat.html"], folder / "cat.nt")
    return KnowledgeGraph.open([folder / "upr.ttl", folder / "upr-iv.nt", folder / "cat.nt"])


@pytest.fixture(scope="session")
def overlap_kg(_cache_dir):
    """The bundled graph plus a file that restates some of its facts, three of them differently."""
    from pathlib import Path
    return KnowledgeGraph.open([Path(__file__).parent / "fixtures" / "overlap" / "restated.ttl"])


@pytest.fixture(scope="module")
def url(served):
    """The base URL of the server a page or search test module starts (its ``served`` fixture)."""
    return served[0]


def rows(kg, name, **params):
    """Stored-query rows as dicts of Python values."""
    return kg.query(name, params).as_dicts()


def by(rows_, key):
    return {r[key]: r for r in rows_}


# ---- SHACL: the shapes, the ontology, and pyshacl's report on each shape fixture, once a session ----

@pytest.fixture(scope="session")
def shapes_graph():
    """The bundled shapes (read-only: a test that changes shapes changes a copy)."""
    from hrkg.shacl.shapes import load_shapes
    return load_shapes()


@pytest.fixture(scope="session")
def ontology_graph():
    from rdflib import Graph
    from hrkg.load import parse_file
    from hrkg.resources import bundle_files
    g = Graph()
    for f in bundle_files("ontology", ".ttl"):
        parse_file(f, g)
    return g


def shape_fixture_param(path):
    """A tests/fixtures/shapes file as a test parameter. test_shapes.py and test_shacl_sparql.py
    both validate each file with pyshacl (the slow reference); the shared xdist group puts their
    cases for one file on one worker, so shape_fixture_pyshacl runs pyshacl on it once."""
    return pytest.param(path, id=path.stem, marks=pytest.mark.xdist_group(f"shape-fixture-{path.stem}"))


@pytest.fixture(scope="session")
def shape_fixture_pyshacl(ontology_graph, shapes_graph):
    """fixture path -> pyshacl's ValidationReport on the ontology plus that file, computed once."""
    from rdflib import Graph
    from hrkg.load import parse_file
    from hrkg.shacl.reference import validate
    reports = {}

    def report(fixture):
        if fixture not in reports:
            data = Graph()
            for t in ontology_graph:
                data.add(t)
            parse_file(fixture, data)
            reports[fixture] = validate(data, shapes_graph)
        return reports[fixture]
    return report


# ---- the UN Treaty Collection ledger, sampled ---------------------------------------------------

# The bundled ledger (data/treaties/untc-*.ttl: 41,000 of the bundle's 46,000 triples) makes
# pyshacl, owlrl and rdflib copies of the bundle take minutes; its records are all of a few shapes,
# so where a test compares with a reference or copies the graph per case, a sample stands for the
# rest: every page's file and snapshot records (sources), and the complete records of a few
# participants (Viet Nam, France, Belarus, Afghanistan, the EU, Cook Islands).
LEDGER = re.compile(r"/graph/data/treaties/untc-[0-9-]+\.ttl$")
LEDGER_SAMPLE = re.compile(r"/id/source/|/id/action/(?:VNM|FRA|BLR|AFG|EU|COK)-")


def is_ledger_graph(name):
    return LEDGER.search(str(name)) is not None


def in_ledger_sample(subject):
    return bool(LEDGER_SAMPLE.search(str(subject)))
