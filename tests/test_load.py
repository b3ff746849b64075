"""Bad input files give a LoadError naming file, line and column, and nothing is loaded."""
import pytest

from hrkg import KnowledgeGraph, LoadError
from hrkg.load import parse_file


def test_malformed_turtle_names_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c .\nex:d ex:e \"unclosed .\n",
                   encoding="utf-8")
    with pytest.raises(LoadError) as err:
        parse_file(bad)
    assert err.value.path == bad
    assert err.value.line == 4
    assert err.value.column is not None
    assert str(err.value).startswith(f"{bad}:4:")


def test_empty_file_is_an_error(tmp_path):
    empty = tmp_path / "empty.ttl"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(LoadError, match="empty"):
        parse_file(empty)


def test_file_that_is_not_rdf(tmp_path):
    junk = tmp_path / "notes.ttl"
    junk.write_text("This is a shopping list, not Turtle.\n", encoding="utf-8")
    with pytest.raises(LoadError, match="notes.ttl:1"):
        parse_file(junk)


def test_not_utf8(tmp_path):
    latin = tmp_path / "latin.ttl"
    latin.write_bytes(b'@prefix ex: <http://example.org/> .\nex:a ex:b "Vi\xeat Nam" .\n')
    with pytest.raises(LoadError, match="latin.ttl:2: not UTF-8"):
        parse_file(latin)


def test_missing_file(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        parse_file(tmp_path / "nope.ttl")


def test_one_bad_file_loads_nothing(tmp_path):
    good = tmp_path / "a.ttl"
    good.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    bad = tmp_path / "b.ttl"
    bad.write_text("<http://example.org/a> <http://example.org/b> .\n")
    with pytest.raises(LoadError, match="b.ttl:1"):
        KnowledgeGraph.open([good, bad], include_bundle=False)


def test_extra_file_is_loaded_into_its_own_named_graph(tmp_path):
    extra = tmp_path / "extra.ttl"
    extra.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    kg = KnowledgeGraph.open([extra], reason=False)
    names = {str(g.identifier) for g in kg.asserted_graphs() if len(g)}
    assert extra.resolve().as_uri() in names
    assert "https://w3id.org/hrkg/graph/data/treaties/vnm.ttl" in names
