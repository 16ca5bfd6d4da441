"""Searching the Elasticsearch index: exact matches, story collapse.

How a search runs (the same result as ``SQLiteIndex.search``):
1. each query term becomes a ``match_phrase`` on the search fields, which hold
   one token per character with nothing dropped (``index/exact_tokens.py``), so
   a phrase is exactly a substring test: the query (``filter`` for the clauses
   that need a term, ``must_not`` for exclusions) selects exactly the matching
   copies, and no text is read to check them;
2. hits are sorted like SQLite's stories (story's canonical date desc,
   story_id, canonical first, date, id) and collapsed on ``story_id``, so each
   story comes once, represented by its first matching copy;
3. the matched stories' copies are read in one query and shaped by ``story_dict``.
"""
from __future__ import annotations

from typing import Iterator

from elasticsearch import Elasticsearch

from index.base import ArticleRecord, story_dict
from index.elasticsearch.mapping import record_from_doc, spaced
from index.query import Not, Query, Term, make_snippet

STORY_ORDER = [{"story_date": "desc"}, {"story_id": "asc"}, {"canonical": "desc"},
               {"sort_date": "asc"}, {"id": "asc"}]
COLLAPSE_WINDOW = 10_000          # index.max_result_window: from + size stays below it


def iter_hits(client: Elasticsearch, index: str, query: dict, sort: list, source,
              page: int = 1000, **request) -> Iterator[dict]:
    """Every hit, in ``sort`` order (which must end in a unique field), by search_after;
    ``request``: more search parameters (``docvalue_fields``, ``stored_fields``)."""
    after = None
    while True:
        response = client.search(index=index, query=query, sort=sort, size=page, _source=source,
                                 search_after=after, track_total_hits=False, **request)
        hits = response["hits"]["hits"]
        yield from hits
        if len(hits) < page:
            return
        after = hits[-1]["sort"]


def all_docs(client: Elasticsearch, index: str, query: dict) -> list[dict]:
    return [h["_source"] for h in iter_hits(client, index, query, [{"id": "asc"}], True)]


def _phrase(text: str) -> dict:
    phrase = {"query": spaced(text)}
    return {"bool": {"should": [{"match_phrase": {"search_title": phrase}},
                                {"match_phrase": {"search_text": phrase}}]}}


def _clause_query(clause) -> dict:
    """One clause of the query's conjunctive normal form: a term, an exclusion, or
    an OR of those (an exclusion there only from a distributed parenthesized one)."""
    if isinstance(clause, Term):
        return _phrase(clause.text)
    if isinstance(clause, Not):
        return {"bool": {"must_not": [_phrase(clause.term.text)]}}
    return {"bool": {"should": [_clause_query(alt) for alt in clause.alternatives], "minimum_should_match": 1}}


def candidate_query(query: Query, sites: list[str] | None, since: str | None, until: str | None) -> dict:
    """Exactly the copies matching ``query`` on ``sites`` within since..until."""
    filters = [_clause_query(clause) for clause in query.root.clauses]
    if sites:
        filters.append({"terms": {"site": list(sites)}})
    if since or until:
        filters.append({"range": {"day": {k: v[:10] for k, v in (("gte", since), ("lte", until)) if v}}})
    return {"bool": {"filter": filters}}


def search_stories(client: Elasticsearch, index: str, query: Query, *, sites: list[str] | None,
                   since: str | None, until: str | None, limit: int | None) -> list[dict]:
    candidates = candidate_query(query, sites, since, until)
    page = max(limit or 0, 50)
    matched: dict[str, str] = {}          # story_id -> display text of the copy that matched
    start = 0
    while start < COLLAPSE_WINDOW:
        hits = client.search(index=index, query=candidates, sort=STORY_ORDER, collapse={"field": "story_id"},
                             from_=start, size=min(page, COLLAPSE_WINDOW - start), track_total_hits=False,
                             _source=["story_id", "text"])["hits"]["hits"]
        for hit in hits:
            matched[hit["_source"]["story_id"]] = hit["_source"]["text"]
            if limit and len(matched) >= limit:
                return stories(client, index, matched, query)
        if len(hits) < page:
            break
        start += page
    return stories(client, index, matched, query)


def stories(client: Elasticsearch, index: str, matched: dict[str, str], query: Query) -> list[dict]:
    """``search --json`` stories for the matched story ids, with every copy."""
    copies: dict[str, list[ArticleRecord]] = {story_id: [] for story_id in matched}
    ids = list(matched)
    for start in range(0, len(ids), 1000):
        for doc in all_docs(client, index, {"terms": {"story_id": ids[start:start + 1000]}}):
            copies[doc["story_id"]].append(record_from_doc(doc))
    terms = query.positive_terms
    return [story_dict(copies[story_id], make_snippet(text, terms)) for story_id, text in matched.items()]
