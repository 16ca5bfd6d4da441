"""The Elasticsearch backend against the embedded one, on the real crawl of the
fixture mini-internet: same stories, same canonical copies, same export lines,
same search results for every query of the table, through the real CLI."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from crawler.fixtures.queries import QUERY_TABLE, SUBSTRING_EDGES
from conftest import crawl_into, es_index_url, run_newsmon
from index import open_index, parse_query

pytestmark = pytest.mark.elasticsearch


@pytest.fixture(scope="module")
def es_crawl(fixture_sites, elasticsearch_node, tmp_path_factory):
    """The same fixture sites crawled into Elasticsearch through ``newsmon crawl``; small
    batches, so the crawl flushes many times and dedup reads across flushes."""
    directory = tmp_path_factory.mktemp("es-crawl")
    return crawl_into(fixture_sites, directory, index_url=es_index_url(elasticsearch_node, "crawl-"),
                      NEWSMON_ES_SPOOL_DIR=str(directory / "spool"), NEWSMON_ES_BATCH_DOCS="4")


def stories_by_urls(lines: list[dict]) -> dict[frozenset, list[str]]:
    """story (as the set of its URLs) -> canonical URLs; story ids depend on crawl order."""
    members, canonical = defaultdict(set), defaultdict(list)
    for line in lines:
        members[line["story_id"]].add(line["url"])
        if line["canonical"]:
            canonical[line["story_id"]].append(line["url"])
    return {frozenset(urls): sorted(canonical[sid]) for sid, urls in members.items()}


def comparable(lines: list[dict]) -> list[dict]:
    """Export lines with story_id replaced by the story's sorted URLs."""
    members = defaultdict(list)
    for line in lines:
        members[line["story_id"]].append(line["url"])
    return [{**line, "story_id": sorted(members[line["story_id"]])} for line in lines]


def comparable_story(story: dict) -> dict:
    return {**story, "story_id": sorted(c["url"] for c in story["copies"])}


def test_es_crawl_indexes_the_same_stories_and_canonical_copies(crawl, es_crawl):
    assert es_crawl.summary["totals"]["articles_indexed"] == crawl.summary["totals"]["articles_indexed"]
    assert stories_by_urls(es_crawl.export) == stories_by_urls(crawl.export)
    assert all(len(canon) == 1 for canon in stories_by_urls(es_crawl.export).values())


def test_es_export_lines_equal_sqlite_export_lines(crawl, es_crawl):
    assert len(es_crawl.export) == len(crawl.export) > 30
    assert comparable(es_crawl.export) == comparable(crawl.export)      # same lines, same order


def test_es_crawl_left_nothing_spooled_and_quarantined_the_spam(crawl, es_crawl):
    assert "spooled" not in es_crawl.proc.stderr
    assert es_crawl.summary["totals"].get("spam_quarantined", 0) == crawl.summary["totals"]["spam_quarantined"]
    with open_index(es_crawl.index_url) as es, open_index(crawl.index_url) as sqlite:
        assert {q.url for q in es.quarantined()} == {q.url for q in sqlite.quarantined()}


@pytest.fixture(scope="module")
def both_indexes(crawl, es_crawl):
    with open_index(crawl.index_url) as sqlite, open_index(es_crawl.index_url) as es:
        yield sqlite, es


@pytest.mark.parametrize("text, filters", QUERY_TABLE, ids=[f"{q} {f}" for q, f in QUERY_TABLE])
def test_both_crawls_give_the_same_search_results(both_indexes, text, filters):
    sqlite, es = both_indexes
    query = parse_query(text)
    expected = [comparable_story(s) for s in sqlite.search(query, **filters)]
    assert [comparable_story(s) for s in es.search(query, **filters)] == expected


def test_the_query_table_is_not_trivial(both_indexes):
    sqlite, _ = both_indexes
    found = [len(sqlite.search(parse_query(q), **f)) for q, f in QUERY_TABLE]
    assert len(QUERY_TABLE) >= 30
    assert sum(1 for n in found if n) >= 30, found
    assert sum(1 for n in found if n > 1) >= 15, found


@pytest.fixture(scope="module")
def es_copy_of_sqlite(crawl, elasticsearch_node, tmp_path_factory):
    """The SQLite crawl's records, byte for byte, written into a fresh Elasticsearch
    index: same story ids too, so the search results must be equal to the letter."""
    import os
    os.environ.setdefault("NEWSMON_ES_SPOOL_DIR", str(tmp_path_factory.mktemp("copy-spool")))
    with open_index(crawl.index_url) as sqlite, open_index(es_index_url(elasticsearch_node, "copy-")) as es:
        for line in sqlite.export():
            es.upsert_article(sqlite.get_article(line["id"]))
        es.flush()
        yield sqlite, es


def test_identical_records_give_identical_results_for_every_query(es_copy_of_sqlite):
    sqlite, es = es_copy_of_sqlite
    assert list(es.export()) == list(sqlite.export())
    disagreements = []
    for text, filters in QUERY_TABLE:
        want, got = sqlite.search(parse_query(text), **filters), es.search(parse_query(text), **filters)
        if got != want:
            disagreements.append((text, filters, [s["url"] for s in want], [s["url"] for s in got]))
    assert not disagreements, disagreements


def exact_story_keys(index, text: str) -> set[tuple[str, ...]]:
    """The stories a perfect substring search finds: any copy's title or body contains it."""
    query, stories = parse_query(text), defaultdict(list)
    for line in index.export():
        record = index.get_article(line["id"])
        stories[record.story_id].append((record.url, query.matches(record.match_text)))
    return {tuple(sorted(url for url, _ in copies)) for copies in stories.values() if any(m for _, m in copies)}


def found_story_keys(index, text: str) -> set[tuple[str, ...]]:
    return {tuple(sorted(c["url"] for c in s["copies"])) for s in index.search(parse_query(text), limit=1000)}


@pytest.mark.parametrize("text, filters", SUBSTRING_EDGES, ids=[q for q, _ in SUBSTRING_EDGES])
def test_elasticsearch_finds_substrings_inside_latin_and_number_tokens(es_copy_of_sqlite, text, filters):
    _, es = es_copy_of_sqlite
    assert found_story_keys(es, text) == exact_story_keys(es, text) != set()


@pytest.mark.parametrize("text, filters", SUBSTRING_EDGES, ids=[q for q, _ in SUBSTRING_EDGES])
def test_sqlite_finds_substrings_inside_latin_and_number_tokens(es_copy_of_sqlite, text, filters):
    sqlite, _ = es_copy_of_sqlite
    assert found_story_keys(sqlite, text) == exact_story_keys(sqlite, text) != set()


def test_cli_search_and_export_against_elasticsearch(crawl, es_crawl):
    query = '"激光产业园" OR 傳感'
    es = run_newsmon("search", query, "--json", "--index", es_crawl.index_url)
    assert es.returncode == 0, es.stderr
    sqlite = run_newsmon("search", query, "--json", "--index", crawl.index_url)
    assert [comparable_story(s) for s in json.loads(es.stdout)] == [
        comparable_story(s) for s in json.loads(sqlite.stdout)]
    text = run_newsmon("search", "激光產業園", "--site", "laser-industry", "--index", es_crawl.index_url)
    assert text.returncode == 0 and "首发" in text.stdout, text.stderr
    exported = run_newsmon("export", "--index", es_crawl.index_url)
    assert exported.returncode == 0
    assert [json.loads(line)["url"] for line in exported.stdout.splitlines()] == [l["url"] for l in crawl.export]


def test_recrawl_into_elasticsearch_changes_nothing(fixture_sites, es_crawl, tmp_path):
    again = crawl_into(fixture_sites, tmp_path, index_url=es_crawl.index_url,
                       NEWSMON_ES_SPOOL_DIR=str(tmp_path / "spool"))
    assert again.summary["totals"].get("articles_new", 0) == 0
    key = lambda lines: sorted((l["url"], l["story_id"], l["canonical"], l["text"]) for l in lines)  # noqa: E731
    assert key(again.export) == key(es_crawl.export)
