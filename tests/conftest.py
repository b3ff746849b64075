import gc
import os
import re
import shutil
import sys

import pytest

from hrkg import KnowledgeGraph

# Python's cycle collector runs after every 700 new objects by default, and at most one run in a
# hundred is a full one that walks every object the session fixtures hold (rdflib graphs of the
# whole bundle, reports): 9 to 11 s of each xdist worker's run. At 50,000 it runs under 300
# times, in 3 to 6 s; the tests are the same, and peak memory rose from 627 to 752 MB.
gc.set_threshold(50_000, 20, 20)


def _shared_temp(tmp_path_factory):
    """A folder of this test run that every xdist worker sees (the workers' base temp folders are
    in it); without xdist, the base temp folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def shared_build(tmp_path_factory):
    """shared_build(name, make_inputs, location): make ``location`` a store folder holding the
    bundled data plus the files ``make_inputs(folder)`` writes into ``folder`` and returns, as
    ``build(files, location)`` makes it. Built once per test run under ``name``, whichever xdist
    worker asks first (the others wait on a lock; a module's cases run on both workers), and
    copied: the build itself is never opened, so no test can change or hold it, and its inputs
    stay where it read them, so the copies are never out of date."""
    import fcntl
    from hrkg.store import build, current_build
    root = _shared_temp(tmp_path_factory) / "shared-builds"
    root.mkdir(exist_ok=True)

    def make(name, make_inputs, location):
        folder = root / name
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if current_build(folder / "store") is None:
                folder.mkdir(exist_ok=True)
                build(make_inputs(folder), folder / "store")
        shutil.copytree(folder / "store", location, symlinks=True)
        return location
    return make


@pytest.fixture(scope="session")
def copy_bundled_store(shared_build):
    """copy(location): make ``location`` a store folder with the bundled data built in, exactly
    what ``build(None, location)`` makes there (a build folder, the ``current`` link, the empty
    build lock), in a fraction of a second instead of a build's five or more."""
    return lambda location: shared_build("bundled", lambda folder: [], location)


def use_bundle(monkeypatch, folder):
    """Make ``folder`` (holding ontology/ and data/) the bundled ontology and data for this test,
    as another checkout or install of hrkg would be."""
    from hrkg import load, resources
    original = resources.bundle_dir
    moved = lambda kind: folder / kind if kind in ("ontology", "data") else original(kind)  # noqa: E731
    monkeypatch.setattr(resources, "bundle_dir", moved)
    monkeypatch.setattr(load, "bundle_dir", moved)


def python_with_bundle(folder, code):
    """Source for ``python -c`` that runs ``code`` with ``folder`` as the bundled ontology and data
    (use_bundle, in a child process)."""
    tests = os.path.dirname(os.path.abspath(__file__))
    return (f"import pathlib, sys; sys.path.insert(0, {tests!r}); import pytest; from conftest import use_bundle; "
            f"use_bundle(pytest.MonkeyPatch(), pathlib.Path({str(folder)!r}))\n{code}")


def hrkg_command(bundle=None):
    """The command line that runs hrkg as ``python -m hrkg`` does (hrkg/__main__.py); with
    ``bundle``, a folder holding ontology/ and data/, that folder as the bundled data
    (python_with_bundle)."""
    if bundle is None:
        return [sys.executable, "-m", "hrkg"]
    return [sys.executable, "-c", python_with_bundle(bundle, "from hrkg.cli import main; sys.exit(main())")]


def copy_bundle(folder):
    """Copy the bundled ontology/ and data/ into ``folder``; returns the UN Treaty Collection
    ledger file of the copy."""
    from hrkg.resources import bundle_dir
    for kind in ("ontology", "data"):
        shutil.copytree(bundle_dir(kind), folder / kind)
    ledger, = [f for f in (folder / "data").rglob("*.ttl")
               if is_ledger_graph("/graph/data/" + f.relative_to(folder / "data").as_posix())]
    return ledger


@pytest.fixture(scope="session")
def _bundle_without_ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle-without-ledger")
    copy_bundle(folder).unlink()
    return folder


@pytest.fixture
def bundle_without_ledger(monkeypatch, _bundle_without_ledger):
    """The bundled ontology and data without the UN Treaty Collection ledger (41,900 of its 46,960
    triples), as the bundle for this test: a build takes 0.3 s instead of 3-5. For tests of how
    the store is built, kept and swapped, where the size of the data is beside the point; the
    curated Viet Nam and ASEAN treaty files, the states and their names are all there."""
    use_bundle(monkeypatch, _bundle_without_ledger)
    return _bundle_without_ledger


@pytest.fixture
def bundle_with_ledger_sample(monkeypatch, _bundle_with_ledger_sample):
    """The bundled ontology and data with the UN Treaty Collection ledger cut to its sample (below),
    as the bundle for this test: 6,600 triples instead of 46,960, and every kind of record still
    there (Viet Nam's CAT ratification is stated by the ledger and by vnm.ttl, as in the bundle)."""
    use_bundle(monkeypatch, _bundle_with_ledger_sample)
    return _bundle_with_ledger_sample


@pytest.fixture(scope="session")
def _bundle_with_ledger_sample(tmp_path_factory):
    """A copy of the bundled ontology and data whose UN Treaty Collection ledger file (same name,
    so the same graph name) keeps only the ledger sample (in_ledger_sample) and the whole records
    of the first five resources whose literals hold each character an RDF syntax has to escape or
    encode: 1,570 of its 41,900 triples. For tests that read every triple of an export back."""
    import pyoxigraph as ox
    folder = tmp_path_factory.mktemp("bundle-with-ledger-sample")
    ledger = copy_bundle(folder)
    quads = list(ox.parse(path=str(ledger), format=ox.RdfFormat.TURTLE))
    keep = {q.subject for q in quads if in_ledger_sample(q.subject.value)}
    for char in '"\\\n\r\t<>&\'':
        holders = sorted({q.subject.value for q in quads if isinstance(q.object, ox.Literal) and char in q.object.value})
        keep |= {ox.NamedNode(iri) for iri in holders[:5]}
    non_ascii = sorted({q.subject.value for q in quads if isinstance(q.object, ox.Literal)
                        and any(ord(c) > 127 for c in q.object.value)})
    keep |= {ox.NamedNode(iri) for iri in non_ascii[:5]}
    ledger.write_bytes(ox.serialize([q for q in quads if q.subject in keep], format=ox.RdfFormat.N_TRIPLES))
    return folder


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory, copy_bundled_store):
    """hrkg's cache folder in a temporary folder, so tests never read a stale cache or store from
    $HOME. Its default store is there already (a copy of the bundled build): the CLI and library
    tests that use the default store would otherwise each worker build it on first use."""
    cache = tmp_path_factory.mktemp("hrkg-cache")
    copy_bundled_store(cache / "store")
    mp = pytest.MonkeyPatch()
    mp.setenv("HRKG_CACHE_DIR", str(cache))
    yield
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def _rdflib_translates_each_query_once():
    """pySHACL, the reference validator, hands rdflib the same SPARQL text on every validation
    (each SPARQL constraint and target), and rdflib parses it again each time: with pyparsing that
    was more than half of pySHACL's time on a small fixture. A translated query is reusable with
    other bindings (rdflib's prepareQuery exists for that), so each text is translated once per
    test process; evaluation is unchanged."""
    from rdflib.plugins.sparql import processor
    translate, parse = processor.translateQuery, processor.parseQuery
    cache = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in cache:
                cache[key] = translate(parse(strOrQuery), base, initNs)
            strOrQuery = cache[key]
        return processor.evalQuery(self.graph, strOrQuery, initBindings, base)

    mp = pytest.MonkeyPatch()
    mp.setattr(processor.SPARQLProcessor, "query", query)
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
def excerpt_kg(_cache_dir, tmp_path_factory):
    """The bundled data plus tests/fixtures/asks/upr-excerpt.csv imported, in memory without
    inference, as KnowledgeGraph.open([excerpt], reason=False) makes it; for tests that only read
    it (test_search.py, test_search_server.py)."""
    from pathlib import Path
    from hrkg.importers.run import import_files
    folder = tmp_path_factory.mktemp("excerpt")
    import_files("upr", [Path(__file__).parent / "fixtures" / "asks" / "upr-excerpt.csv"], folder / "excerpt.nt")
    return KnowledgeGraph.open([folder / "excerpt.nt"], reason=False)


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
    """A tests/fixtures/shapes file as a test parameter (test_shapes.py, test_shacl_sparql.py)."""
    return pytest.param(path, id=path.stem)


@pytest.fixture(scope="session")
def shape_fixture_pyshacl(ontology_graph, shapes_graph, tmp_path_factory):
    """fixture path -> pyshacl's ValidationReport on the ontology plus that file, computed once
    per test run (test_shapes.py and test_shacl_sparql.py both read it, on either xdist worker):
    the first worker to ask computes it under a lock and pickles it into the run's shared temp
    folder, the other reads it there."""
    import fcntl
    import pickle
    from rdflib import Graph
    from hrkg.load import parse_file
    from hrkg.shacl.reference import validate
    folder = _shared_temp(tmp_path_factory) / "pyshacl-reports"
    folder.mkdir(exist_ok=True)
    reports = {}

    def compute(fixture):
        data = Graph()
        for t in ontology_graph:
            data.add(t)
        parse_file(fixture, data)
        return validate(data, shapes_graph)

    def report(fixture):
        if fixture not in reports:
            path = folder / f"{fixture.stem}.pickle"
            with open(folder / f"{fixture.stem}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if path.exists():
                    reports[fixture] = pickle.loads(path.read_bytes())
                else:
                    reports[fixture] = compute(fixture)
                    path.write_bytes(pickle.dumps(reports[fixture]))
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
