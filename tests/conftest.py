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


def rows(kg, name, **params):
    """Stored-query rows as dicts of Python values."""
    return kg.query(name, params).as_dicts()


def by(rows_, key):
    return {r[key]: r for r in rows_}
