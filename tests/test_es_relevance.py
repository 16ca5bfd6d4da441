"""Elasticsearch scores the relevance order without reading texts (issue 22): each
matching copy's lead comes from doc values and whether its title (and, for an OR's
term, its body) holds a term from named queries. An index written by mapping v3,
whose documents have no lead, is upgraded at open and then ranks as the
definition does (``story_search.relevance`` on every copy's whole text)."""
from __future__ import annotations

import base64

import pytest
from elasticsearch import Elasticsearch, helpers

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from conftest import es_index_url
from index import open_index
from index.elasticsearch.mapping import ARTICLE_MAPPING, alias_name, article_doc, concrete_name
from index.query import parse_query
from index.story_search import LEAD_WINDOW, search_page
from test_index_contract import make_record
from test_search_exact import ECONOMY, ECONOMY_TITLE, MEETING, MEETING_TITLE, PV, PV_REPOST
from test_search_paths import expected_matches

pytestmark = pytest.mark.elasticsearch

SEARCHES = [
    "项目",                                # broad: most stories, the lead decides the order
    "防汛 OR 耕地",                        # an OR's term held past the lead (the economy report)
    "营商环境 防汛",                        # the same term, needed by the query
    "(营商环境 OR 项目) (签约 OR 开工) -平桥",
    "会议 防汛",                           # in the meeting's title and lead
    '"项目，为王" OR 光储充',               # a repost matches where its canonical copy does not,
]                                          # and a story with no canonical copy stored


def county_news() -> list:
    records = []
    for article in generate(400, seed=7):
        record = record_of(article)
        record.story_id, record.canonical = f"s-{article.story:06d}", article.origin
        records.append(record)
    records.append(make_record("http://www.suyu.gov.cn/art/2024/7/10/art_4421_3390.html", "suyu",
                               ECONOMY_TITLE, ECONOMY, "2024-07-10"))
    records.append(make_record("http://www.sczf.gov.cn/art/2024/7/3/art_1229_3456001.html", "suqian-sucheng",
                               MEETING_TITLE, MEETING, "2024-07-03"))
    pv = make_record("http://www.suyu.gov.cn/art/2024/6/18/art_4421_3301.html", "suyu",
                     "宿豫区首个光伏一体化示范项目并网", PV.replace("“光储充”", "光伏"), "2024-06-18")
    records.append(pv)
    records += [make_record(f"http://www.sqxww.cn/content_{n}.htm", "suqian-news", "光储充示范项目并网", PV_REPOST,
                            day, story_id=story, canonical=False)
                for n, day, story in ((88201, "2024-06-19", pv.story_id), (88202, "2024-06-21", "s-orphan"),
                                      (88203, "2024-06-22", "s-orphan"))]
    return records


def v3_docs(index: str, records: list, story_of: list) -> list[dict]:
    """Bulk actions writing ``records`` as newsmon's mapping v3 stored them: no lead."""
    story_date = {r.story_id: r.published or r.fetched_at for r in story_of if r.canonical}
    docs = [{k: v for k, v in article_doc(r, story_date.get(r.story_id)).items() if k != "lead"} for r in records]
    return [{"_index": index, "_id": d["id"], "_source": d} for d in docs]


def write_v3_index(client: Elasticsearch, prefix: str, records: list) -> None:
    properties = {k: v for k, v in ARTICLE_MAPPING["properties"].items() if k != "lead"}
    mapping = {**ARTICLE_MAPPING, "properties": properties, "_meta": {"newsmon_mapping_version": 3},
               "_source": {"excludes": ["search_title", "search_text"]}}
    name = concrete_name(prefix, "articles", 3)
    client.indices.create(index=name, mappings=mapping, aliases={alias_name(prefix, "articles"): {}},
                          settings={"number_of_shards": 1, "number_of_replicas": 0})
    helpers.bulk(client, v3_docs(name, records, records), refresh=True)


def assert_ranked_as_the_definition(index, records: list) -> None:
    for text in SEARCHES:
        expected = expected_matches(records, text)
        assert expected, text
        query = parse_query(text)
        assert index.match_stories(query, scores=True) == expected, text
        page = search_page(index, query, sort="relevance", limit=10)
        assert [s["story_id"] for s in page.stories] == [
            m.story_id for m in sorted(expected, key=lambda m: -m.score)[:10]], text


def test_a_v3_index_is_upgraded_and_ranks_as_the_definition(elasticsearch_node, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    url = es_index_url(elasticsearch_node, "lead-")
    prefix = url.rsplit("/", 1)[1]
    records = county_news()
    client = Elasticsearch(elasticsearch_node.url)
    write_v3_index(client, prefix, records)
    with open_index(url) as index:
        assert list(client.indices.get_alias(name=f"{prefix}-articles")) == [f"{prefix}-articles-v4"]
        # the lead was rebuilt from the stored text (it is not kept in _source)
        economy = next(r for r in records if r.title == ECONOMY_TITLE)
        hit = client.search(index=f"{prefix}-articles", query={"ids": {"values": [economy.id]}},
                            docvalue_fields=["lead"], _source=False)["hits"]["hits"][0]
        assert base64.b64decode(hit["fields"]["lead"][0]).decode() == economy.norm_text[:LEAD_WINDOW]
        assert_ranked_as_the_definition(index, records)
    client.close()


def test_a_document_sent_without_its_lead_is_scored_from_its_text(elasticsearch_node, tmp_path, monkeypatch):
    """A spool an older newsmon wrote (mapping v3 documents) is replayed as it was, so
    a copy can reach a v4 index without a lead: its score reads the lead from its text."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    url = es_index_url(elasticsearch_node, "nolead-")
    records = county_news()
    client = Elasticsearch(elasticsearch_node.url)
    with open_index(url) as index:
        for record in records:
            index.upsert_article(record)
        index.flush()
        replayed = [r for r in records if r.title in (ECONOMY_TITLE, MEETING_TITLE)]
        helpers.bulk(client, v3_docs(index.articles, replayed, records), refresh=True)
        assert_ranked_as_the_definition(index, records)
    client.close()
