"""Searching the Elasticsearch index: candidates, story collapse, exact verification.

How a search runs (the same result as ``SQLiteIndex.search``):
1. each positive query term becomes a ``match_phrase`` on the spaced search
   fields (a superset of the substring matches; see ``es_mapping``); exclusions
   are left to verification, like in SQLite;
2. hits are sorted like SQLite's candidates (story's canonical date desc,
   story_id, canonical first, date, id) and collapsed on ``story_id``, so each
   story comes once, represented by its first matching copy;
3. that copy is verified with ``Query.matches``; if it fails (punctuation
   between the phrase's characters), the story's other matching copies, listed
   in the collapse's inner hits in the same order, are tried;
4. the matched stories' copies are read in one query and shaped by ``story_dict``.
"""
from __future__ import annotations

from typing import Iterator

from elasticsearch import Elasticsearch

from index.base import ArticleRecord, story_dict
from index.elasticsearch.mapping import record_from_doc, spaced
from index.query import Query, make_snippet

STORY_ORDER = [{"story_date": "desc"}, {"story_id": "asc"}, {"canonical": "desc"},
               {"sort_date": "asc"}, {"id": "asc"}]
COLLAPSE_WINDOW = 10_000          # index.max_result_window: from + size stays below it
_VERIFY_FIELDS = ["story_id", "norm_title", "norm_text", "text"]


def iter_hits(client: Elasticsearch, index: str, query: dict, sort: list, source,
              page: int = 1000) -> Iterator[dict]:
    """Every hit, in ``sort`` order (which must end in a unique field), by search_after."""
    after = None
    while True:
        response = client.search(index=index, query=query, sort=sort, size=page, _source=source,
                                 search_after=after, track_total_hits=False)
        hits = response["hits"]["hits"]
        yield from hits
        if len(hits) < page:
            return
        after = hits[-1]["sort"]


def all_docs(client: Elasticsearch, index: str, query: dict) -> list[dict]:
    return [h["_source"] for h in iter_hits(client, index, query, [{"id": "asc"}], True)]


def _term_query(text: str) -> dict:
    # zero_terms_query=all: a term with no token characters ("·") narrows nothing;
    # verification decides, exactly as the SQLite backend skips such a term.
    phrase = {"query": spaced(text), "zero_terms_query": "all"}
    return {"bool": {"should": [{"match_phrase": {"search_title": phrase}},
                                {"match_phrase": {"search_text": phrase}}]}}


def candidate_query(query: Query, sites: list[str] | None, since: str | None, until: str | None) -> dict:
    filters = []
    # Exclusions (and clauses holding one) are left to verification: a phrase may match
    # across punctuation, so NOT here could drop a true match.
    for terms in query.positive_clauses:
        filters.append({"bool": {"should": [_term_query(t.text) for t in terms]}})
    if sites:
        filters.append({"terms": {"site": list(sites)}})
    if since or until:
        filters.append({"range": {"day": {k: v[:10] for k, v in (("gte", since), ("lte", until)) if v}}})
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def search_stories(client: Elasticsearch, index: str, query: Query, *, sites: list[str] | None,
                   since: str | None, until: str | None, limit: int | None) -> list[dict]:
    candidates = candidate_query(query, sites, since, until)
    page = max(2 * (limit or 0), 50)
    collapse = {"field": "story_id", "inner_hits": {
        "name": "copies", "size": 100, "sort": STORY_ORDER[2:], "_source": False}}
    matched: dict[str, str] = {}          # story_id -> display text of the copy that matched
    start = 0
    while start < COLLAPSE_WINDOW:
        hits = client.search(index=index, query=candidates, sort=STORY_ORDER, collapse=collapse, from_=start,
                             size=min(page, COLLAPSE_WINDOW - start), track_total_hits=False,
                             _source=_VERIFY_FIELDS)["hits"]["hits"]
        for hit in hits:
            text = verified_text(client, index, hit, query)
            if text is not None:
                matched[hit["_source"]["story_id"]] = text
                if limit and len(matched) >= limit:
                    return stories(client, index, matched, query)
        if len(hits) < page:
            break
        start += page
    return stories(client, index, matched, query)


def verified_text(client: Elasticsearch, index: str, hit: dict, query: Query) -> str | None:
    """The display text of the story's first copy that really matches, or None."""
    source = hit["_source"]
    if query.matches(source["norm_title"] + "\n" + source["norm_text"]):
        return source["text"]
    others = [h["_id"] for h in hit["inner_hits"]["copies"]["hits"]["hits"] if h["_id"] != hit["_id"]]
    if not others:
        return None
    for doc in client.mget(index=index, ids=others, _source=_VERIFY_FIELDS)["docs"]:
        if doc.get("found") and query.matches(doc["_source"]["norm_title"] + "\n" + doc["_source"]["norm_text"]):
            return doc["_source"]["text"]
    return None


def stories(client: Elasticsearch, index: str, matched: dict[str, str], query: Query) -> list[dict]:
    """``search --json`` stories for the matched story ids, with every copy."""
    copies: dict[str, list[ArticleRecord]] = {story_id: [] for story_id in matched}
    ids = list(matched)
    for start in range(0, len(ids), 1000):
        for doc in all_docs(client, index, {"terms": {"story_id": ids[start:start + 1000]}}):
            copies[doc["story_id"]].append(record_from_doc(doc))
    terms = query.positive_terms
    return [story_dict(copies[story_id], make_snippet(text, terms)) for story_id, text in matched.items()]
