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
    from hrkg.importer import import_files
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


def rows(kg, name, **params):
    """Stored-query rows as dicts of Python values."""
    return kg.query(name, params).as_dicts()


def by(rows_, key):
    return {r[key]: r for r in rows_}
