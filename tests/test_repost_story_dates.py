"""Every copy of a story carries its canonical copy's date, whichever copy is sent first.

The story date lives on each Elasticsearch document and orders the stories in the
lists; a copy sent while no canonical copy of its story was stored or known keeps its
own date until that copy comes (``index/elasticsearch/story_fields.py``: the story
waits). Two ways to get there: one process writing a story's reposts before its origin
(a load of generated county reports and their reposts, in crawl order, story ids set),
and a worker whose repost joined another worker's story through a claim and went out
before that worker's canonical copy.
"""
from __future__ import annotations

import pytest

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from conftest import es_index_url
from index import open_index
from index.base import story_key
from index.query import parse_query
from pipelines.stories.clustering import StoryClusterer
from test_story_rename_memory import origins_and_reposts

pytestmark = pytest.mark.elasticsearch

ARTICLES = 600
BATCH = 10          # a repost and its origin fetched a few pages apart go in different batches
QUERIES = ("項目 開工", '"项目为王"', "(营商环境 OR 项目) (签约 OR 开工) -平桥", "亿元")


def generated_records() -> list:
    records = []
    for article in generate(ARTICLES, seed=11):
        record = record_of(article)
        record.story_id, record.canonical = f"s-{article.story:06d}", article.origin
        records.append(record)
    return records


def stored_docs(index) -> list[dict]:
    return [hit["_source"] for hit in index.client.search(index=index.articles, size=10_000,
                                                          query={"match_all": {}})["hits"]["hits"]]


def test_reposts_written_before_their_origin_end_at_the_story_date(elasticsearch_node, tmp_path, monkeypatch):
    """A repost sent a batch or more before its origin moves to the origin's date when
    the origin is sent, so the date-ordered lists are SQLite's (before, such reposts kept
    their own dates: a story came up by its newest repost, not its report)."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("NEWSMON_ES_BATCH_DOCS", str(BATCH))
    records = generated_records()
    position = {r.id: n for n, r in enumerate(records)}
    origin_at = {r.story_id: position[r.id] for r in records if r.canonical}
    early = {r.story_id for r in records if not r.canonical and r.story_id in origin_at
             and origin_at[r.story_id] // BATCH > position[r.id] // BATCH}
    assert len(early) > 20          # reposts sent in an earlier batch than their origin
    with open_index(f"sqlite:///{tmp_path}/newsmon.db") as sqlite, open_index(
            es_index_url(elasticsearch_node, "earlyreposts")) as es:
        for record in records:
            sqlite.upsert_article(record)
            es.upsert_article(record)
        es.flush()
        for text in QUERIES:        # (the 20 newest: a story there by a repost's own date is wrong)
            query = parse_query(text)
            assert es.match_stories(query) == sqlite.match_stories(query), text
            assert es.match_stories(query, limit=20) == sqlite.match_stories(query, limit=20), text
            assert es.search(query, limit=20) == sqlite.search(query, limit=20), text
        docs = stored_docs(es)
        assert len(docs) == ARTICLES
        story_date = {d["story_id"]: d["sort_date"] for d in docs if d["canonical"]}
        assert {d["id"]: d["story_date"] for d in docs if d["story_id"] in early} == {
            d["id"]: story_date[d["story_id"]] for d in docs if d["story_id"] in early}
        assert not es.stories.waiting.keys() & early


def test_a_repost_joined_through_a_claim_and_sent_first_takes_its_story_s_date(elasticsearch_node, tmp_path,
                                                                              monkeypatch):
    """Two crawl-pool processes on one index: the first stores a 宿城区 report, which
    starts its story and claims its dedup keys, and holds it in its bulk buffer; the
    second stores 宿迁网's repost of it a day later, loses the claim, joins the report's
    story and sends it first, with no canonical copy stored to take the story date from.
    The first sends the report at the end of its site run. The second looks its waiting
    story up again at its next flush (here its last, at close) and moves the repost to
    the report's date."""
    monkeypatch.setenv("NEWSMON_ES_SHARED", "1")
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    origin, repost = origins_and_reposts()[5]
    url = es_index_url(elasticsearch_node, "claimdates")
    first, second = open_index(url), open_index(url)
    try:
        assert StoryClusterer(first).store(origin).new_story
        joined = StoryClusterer(second).store(repost)
        assert (joined.story_id, joined.new_story) == (story_key(origin.id), False)
        second.flush()
        assert list(second.stories.waiting) == [story_key(origin.id)]
        first.flush()
    finally:
        for backend in (first, second):
            backend.close()
    assert not second.stories.waiting
    with open_index(url) as index:
        stored = {i: index.client.get(index=index.articles, id=i)["_source"] for i in (origin.id, repost.id)}
    assert {i: (d["story_id"], d["canonical"], d["story_date"]) for i, d in stored.items()} == {
        origin.id: (story_key(origin.id), True, stored[origin.id]["sort_date"]),
        repost.id: (story_key(origin.id), False, stored[origin.id]["sort_date"])}
    assert stored[origin.id]["sort_date"] < stored[repost.id]["sort_date"]
