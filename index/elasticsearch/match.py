"""Which stories match, in the Elasticsearch index: every one, for a search page's total.

``es_search.search_stories`` collapses on ``story_id`` with from/size, which is
bounded by the result window (10,000) and reads the text of every story it
steps over. A search page needs every matching story, so here:

1. the candidates (``es_search.candidate_query`` plus the region filter) are read
   in ``STORY_ORDER`` with ``search_after``, keys only (``_id`` and the sort
   values, no ``_source``); that order keeps a story's copies together;
2. stories are verified in batches: the normalized text of each story's next
   unverified candidate is read with one ``mget`` per round, and the first copy
   that passes ``Query.matches`` represents the story -- the same copy, and so
   the same result and order, as ``SQLiteIndex`` (``index/sqlite/search.py``).
"""
from __future__ import annotations

from itertools import groupby
from typing import Iterator

from elasticsearch import Elasticsearch

from index.base import StoryMatch
from index.elasticsearch.search import STORY_ORDER, candidate_query, iter_hits
from index.query import Query
from index.story_search import relevance

VERIFY_BATCH = 500          # stories verified per round of mget
KEY_PAGE = 5000             # candidate keys per search_after page
_TEXT_FIELDS = ["norm_title", "norm_text"]


def region_filter(regions: list[str]) -> dict:
    """Any region containing one of ``regions``, like ``sqlite_search.region_condition``."""
    def pattern(region: str) -> str:
        return "*" + region.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?") + "*"
    return {"bool": {"should": [{"wildcard": {"region": {"value": pattern(r)}}} for r in regions],
                     "minimum_should_match": 1}}


def _story_groups(client: Elasticsearch, index: str, candidates: dict) -> Iterator[tuple[str, list[str]]]:
    """(story_id, candidate ids in order) per story, newest story first."""
    hits = iter_hits(client, index, candidates, STORY_ORDER, False, page=KEY_PAGE)
    for story_id, group in groupby(hits, key=lambda hit: hit["sort"][1]):
        yield story_id, [hit["_id"] for hit in group]


def _verify(client: Elasticsearch, index: str, batch: list[tuple[str, list[str]]],
            query: Query) -> dict[str, StoryMatch]:
    """The stories of ``batch`` that really match, each by its first passing copy."""
    terms = query.positive_terms
    pending = dict(batch)
    found: dict[str, StoryMatch] = {}
    round_ = 0
    while pending:
        wanted = {ids[round_]: story_id for story_id, ids in pending.items()}
        docs = client.mget(index=index, ids=list(wanted), _source=_TEXT_FIELDS)["docs"]
        for doc in docs:
            if not doc.get("found"):
                continue
            source = doc["_source"]
            title, text = source["norm_title"], source["norm_text"]
            if query.matches(title + "\n" + text):
                story_id = wanted[doc["_id"]]
                found[story_id] = StoryMatch(story_id, doc["_id"], relevance(title, text, terms))
        round_ += 1
        pending = {s: ids for s, ids in pending.items() if s not in found and len(ids) > round_}
    return found


def match_stories(client: Elasticsearch, index: str, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None, until: str | None = None,
                  limit: int | None = None) -> list[StoryMatch]:
    candidates = candidate_query(query, sites, since, until)
    if regions:
        candidates = {"bool": {"filter": [candidates, region_filter(regions)]}}
    matches: list[StoryMatch] = []
    batch: list[tuple[str, list[str]]] = []

    def drain() -> bool:
        found = _verify(client, index, batch, query)
        for story_id, _ids in batch:
            if story_id in found:
                matches.append(found[story_id])
                if limit and len(matches) >= limit:
                    return True
        batch.clear()
        return False

    for group in _story_groups(client, index, candidates):
        batch.append(group)
        if len(batch) >= (min(VERIFY_BATCH, limit) if limit else VERIFY_BATCH) and drain():
            return matches
    if batch:
        drain()
    return matches


def site_regions(client: Elasticsearch, index: str) -> dict[str, str | None]:
    """Every site with its region (from its most recently fetched article that has one)."""
    aggs = {"sites": {"terms": {"field": "site", "size": 10_000, "order": {"_key": "asc"}},
                      "aggs": {"with_region": {"filter": {"exists": {"field": "region"}}, "aggs": {
                          "latest": {"top_hits": {"size": 1, "sort": [{"fetched_at": "desc"}, {"id": "desc"}],
                                                  "_source": ["region"]}}}}}}}
    response = client.search(index=index, size=0, aggs=aggs)
    result: dict[str, str | None] = {}
    for bucket in response["aggregations"]["sites"]["buckets"]:
        hits = bucket["with_region"]["latest"]["hits"]["hits"]
        result[bucket["key"]] = hits[0]["_source"]["region"] if hits else None
    return result
