"""Which stories match, in the Elasticsearch index: every one, for a search page's total.

``es_search.search_stories`` collapses on ``story_id`` with from/size, which is
bounded by the result window (10,000). A search page needs every matching story;
the query (``es_search.candidate_query`` plus the region filter) selects exactly
the matching copies (exact phrases), so no text is read to check them:

- in date order without scores (what a date-ordered page needs): a ``composite``
  aggregation over (story date desc, story id) lists the stories in search
  order, ``STORY_PAGE`` buckets a request, keys only. A story with no canonical
  copy has a date per copy, so it can come in several buckets: its newest one
  counts (the order SQLite gives it). The representing copy is left to
  ``story_search.build_stories`` (``article_id`` empty), for the shown stories only;
- with scores (relevance order): the matching copies' keys are read in
  ``STORY_ORDER`` with ``search_after`` (no ``_source``); a story's first copy
  represents it, the same copy as ``SQLiteIndex`` picks, and its normalized
  text gives the score (``mget``, ``TEXT_BATCH`` a request).
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from index.base import StoryMatch
from index.elasticsearch.search import STORY_ORDER, candidate_query, iter_hits
from index.query import Query
from index.story_search import relevance

STORY_PAGE = 10_000         # composite buckets per request
KEY_PAGE = 5000             # candidate keys per search_after page
TEXT_BATCH = 1000           # representing copies' texts per mget
_TEXT_FIELDS = ["norm_title", "norm_text"]


def region_filter(regions: list[str]) -> dict:
    """Any region containing one of ``regions``, like ``sqlite_search.region_condition``."""
    def pattern(region: str) -> str:
        return "*" + region.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?") + "*"
    return {"bool": {"should": [{"wildcard": {"region": {"value": pattern(r)}}} for r in regions],
                     "minimum_should_match": 1}}


def _stories_in_order(client: Elasticsearch, index: str, candidates: dict, limit: int | None) -> list[str]:
    sources = [{"date": {"terms": {"field": "story_date", "order": "desc"}}},
               {"story": {"terms": {"field": "story_id", "order": "asc"}}}]
    seen: dict[str, None] = {}
    after = None
    while True:
        composite = {"sources": sources, "size": STORY_PAGE, **({"after": after} if after else {})}
        result = client.search(index=index, query=candidates, size=0, track_total_hits=False,
                               aggs={"stories": {"composite": composite}})["aggregations"]["stories"]
        for bucket in result["buckets"]:
            seen.setdefault(bucket["key"]["story"])
            if limit and len(seen) >= limit:
                return list(seen)
        after = result.get("after_key")
        if len(result["buckets"]) < STORY_PAGE or after is None:
            return list(seen)


def _first_copies(client: Elasticsearch, index: str, candidates: dict, limit: int | None) -> dict[str, str]:
    """story_id -> its first matching copy's id, in search order."""
    first: dict[str, str] = {}
    for hit in iter_hits(client, index, candidates, STORY_ORDER, False, page=KEY_PAGE):
        first.setdefault(hit["sort"][1], hit["_id"])
        if limit and len(first) >= limit:
            break
    return first


def match_stories(client: Elasticsearch, index: str, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None, until: str | None = None,
                  limit: int | None = None, scores: bool = True) -> list[StoryMatch]:
    candidates = candidate_query(query, sites, since, until)
    if regions:
        candidates = {"bool": {"filter": [candidates, region_filter(regions)]}}
    if not scores:
        return [StoryMatch(story, "", 0.0) for story in _stories_in_order(client, index, candidates, limit)]
    first = _first_copies(client, index, candidates, limit)
    terms = query.positive_terms
    score: dict[str, float] = {}
    ids = list(first.values())
    for start in range(0, len(ids), TEXT_BATCH):
        for doc in client.mget(index=index, ids=ids[start:start + TEXT_BATCH], _source=_TEXT_FIELDS)["docs"]:
            if doc.get("found"):
                score[doc["_id"]] = relevance(doc["_source"]["norm_title"], doc["_source"]["norm_text"], terms)
    return [StoryMatch(story, article_id, score[article_id]) for story, article_id in first.items()
            if article_id in score]


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
