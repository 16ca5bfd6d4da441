"""Dedup lookups in Elasticsearch: articles sharing LSH band keys, ranked like SQLite.

``lsh_bands`` is a keyword field. Each wanted key is a ``constant_score`` clause
worth 1, so an article's score is the number of keys it shares, and the server
returns the best first (then day, then id: ``index/sqlite/dedup.py``'s order),
so a capped lookup reads only ``limit`` documents however common a key is.
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from index.elasticsearch.search import iter_hits

RANK_ORDER = [{"_score": "desc"}, {"day": "asc"}, {"id": "asc"}]
MAX_WINDOW = 10_000        # index.max_result_window


def band_query(bands: list[str], since: str | None, min_shared: int = 1) -> dict:
    query: dict = {"bool": {
        "should": [{"constant_score": {"filter": {"term": {"lsh_bands": band}}, "boost": 1.0}}
                   for band in bands],
        "minimum_should_match": min_shared}}
    if since:
        query["bool"]["filter"] = [{"range": {"day": {"gte": since[:10]}}}]
    return query


def stored_candidates(client: Elasticsearch, index: str, bands: list[str], since: str | None,
                      size: int | None, min_shared: int = 1) -> list[dict]:
    """``_source`` of the stored articles sharing ``min_shared`` keys or more, best
    ranked first; the first ``size`` (every one when None)."""
    query = band_query(bands, since, min_shared)
    if size is None:
        return [h["_source"] for h in iter_hits(client, index, query, RANK_ORDER, True)]
    response = client.search(index=index, query=query, sort=RANK_ORDER, size=min(size, MAX_WINDOW),
                             track_total_hits=False)
    return [h["_source"] for h in response["hits"]["hits"]]


def rank(docs: list[dict], bands: list[str], limit: int | None) -> list[dict]:
    """Documents ordered by keys shared with ``bands`` (desc), day, id; the first ``limit``."""
    wanted = set(bands)
    order = sorted(docs, key=lambda d: (-len(wanted.intersection(d["lsh_bands"])), d["day"], d["id"]))
    return order if limit is None else order[:limit]
