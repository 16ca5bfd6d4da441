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
- with scores (relevance order): a story's first matching copy in
  ``STORY_ORDER`` represents it, the same copy as ``SQLiteIndex`` picks: the
  matching canonical copies are read in that order with ``search_after`` (keys,
  no stored field), then the other copies of the few stories left (``_first_copies``).
  Each first copy is scored
  (``story_search.relevance_from_positions``) from what comes with its hit, no
  text read: its ``lead`` (binary doc values) for each term's first position
  there, and named phrase queries (``matched_queries``) for whether its title
  holds each positive term and, for a term the query does not need in every
  match (an ``OR``'s alternative), whether its body does. Reading each first
  copy's whole text instead (``mget``) took minutes for a broad query at 1M.
"""
from __future__ import annotations

import base64

from elasticsearch import Elasticsearch

from index.base import StoryMatch
from index.elasticsearch.mapping import spaced
from index.elasticsearch.search import STORY_ORDER, candidate_query, iter_hits
from index.query import Query
from index.story_search import LEAD_WINDOW, relevance_from_positions

STORY_PAGE = 10_000         # composite buckets per request
TEXT_BATCH = 1000           # texts per mget (of copies stored without a lead)
KEY_PAGE = 10_000           # candidate keys per search_after page (the most: max_result_window);
                            # each page runs the query again: 5000 cost 15% more node CPU at 100k


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


def _term_probes(query: Query, needed: set[str]) -> list[dict]:
    """Named phrase queries, one per thing a score needs to know of a hit: ``t<n>``, its
    title holds positive term n; ``b<n>``, its body does -- only for a term not
    ``needed`` (any match holds a term the query needs in every match)."""
    probes = []
    for n, term in enumerate(query.positive_terms):
        phrase = spaced(term)
        probes.append({"match_phrase": {"search_title": {"query": phrase, "_name": f"t{n}"}}})
        if term not in needed:
            probes.append({"match_phrase": {"search_text": {"query": phrase, "_name": f"b{n}"}}})
    return probes


def _score(hit: dict, lead: str, terms: list[str], needed: set[str]) -> float:
    """``relevance`` of a hit of the probed query (``_term_probes``) with this lead."""
    matched = set(hit.get("matched_queries", ()))
    positions = []
    for n, term in enumerate(terms):
        in_title = f"t{n}" in matched
        held = term in needed or in_title or f"b{n}" in matched
        positions.append((0 if in_title else -1, lead.find(term), held))
    return relevance_from_positions(positions)


def _scored_first_copies(client: Elasticsearch, index: str, candidates: dict, query: Query,
                         limit: int | None = None) -> list[tuple[str, StoryMatch]]:
    """(story date, match) of each story's first copy among ``candidates``, scored, in
    search order. The probes are optional clauses beside the candidate filter: they
    select nothing (Lucene drops unscored optional clauses from matching) and are run
    only on the hits, to name them."""
    needed = query.needed_terms
    probed = {"bool": {"filter": [candidates], "should": _term_probes(query, needed), "minimum_should_match": 0}}
    terms = query.positive_terms
    first: dict[str, tuple[str, StoryMatch]] = {}
    without_lead: dict[str, dict] = {}      # id -> hit: stored with no lead (see below)
    # No stored field is read (not even _id: the id is the sort's last key): a hit's _id
    # comes from the stored-fields block that holds _source, which doubled the node's CPU.
    for hit in iter_hits(client, index, probed, STORY_ORDER, False, page=KEY_PAGE,
                         docvalue_fields=["lead"], stored_fields="_none_"):
        story, article_id = hit["sort"][1], hit["sort"][-1]
        if story not in first:
            lead, score = hit.get("fields", {}).get("lead"), 0.0
            if lead is None:
                without_lead[article_id] = hit          # scored below, in its place
            else:
                score = _score(hit, base64.b64decode(lead[0]).decode(), terms, needed)
            first[story] = (hit["sort"][0], StoryMatch(story, article_id, score))
            if limit and len(first) >= limit:
                break
    # A document an older newsmon spooled, sent as it was (mapping v3 had no lead):
    # its lead is read from its text, a few documents at most.
    ids = list(without_lead)
    texts = {}
    for start in range(0, len(ids), TEXT_BATCH):
        texts.update((doc["_id"], doc["_source"].get("norm_text") or "") for doc in client.mget(
            index=index, ids=ids[start:start + TEXT_BATCH], _source=["norm_text"])["docs"] if doc.get("found"))
    for article_id, hit in without_lead.items():
        lead = texts.get(article_id, "")[:LEAD_WINDOW]
        first[hit["sort"][1]] = (hit["sort"][0], StoryMatch(hit["sort"][1], article_id,
                                                            _score(hit, lead, terms, needed)))
    return list(first.values())


def _first_copies(client: Elasticsearch, index: str, candidates: dict, limit: int | None,
                  query: Query) -> list[StoryMatch]:
    """Each story's first matching copy, scored, in search order. A story whose canonical
    copy matches is represented by it (canonical first), so those copies are read
    first, and other copies only for the few stories left (their canonical copy does
    not match, or is not stored): at 100k 项目 matched 62,640 copies of 25,445 stories,
    25,387 of them by their canonical copy. With a ``limit``, one pass in search order."""
    if limit:
        return [match for _date, match in _scored_first_copies(client, index, candidates, query, limit)]
    canonical = {"term": {"canonical": True}}
    first = _scored_first_copies(client, index, {"bool": {"filter": [candidates, canonical]}}, query)
    seen = {match.story_id for _date, match in first}
    others = _stories_in_order(client, index, {"bool": {"filter": [candidates], "must_not": [canonical]}}, None)
    others = [story for story in others if story not in seen]
    for start in range(0, len(others), STORY_PAGE):
        wanted = {"terms": {"story_id": others[start:start + STORY_PAGE]}}
        first += _scored_first_copies(client, index, {"bool": {"filter": [candidates, wanted]}}, query)
    if len(first) > len(seen):          # in search order: story date (newest first), story id
        first.sort(key=lambda row: row[1].story_id)
        first.sort(key=lambda row: row[0], reverse=True)
    return [match for _date, match in first]


def match_stories(client: Elasticsearch, index: str, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None, until: str | None = None,
                  limit: int | None = None, scores: bool = True) -> list[StoryMatch]:
    candidates = candidate_query(query, sites, since, until)
    if regions:
        candidates = {"bool": {"filter": [candidates, region_filter(regions)]}}
    if not scores:
        return [StoryMatch(story, "", 0.0) for story in _stories_in_order(client, index, candidates, limit)]
    return _first_copies(client, index, candidates, limit, query)


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
