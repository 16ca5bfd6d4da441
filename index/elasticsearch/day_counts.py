"""Articles per day in the Elasticsearch index, for the volume charts (``IndexBackend.count_by_day``).

The same days as the SQLite backend: the ``day`` keyword (published date as the
page gives it, else the fetch date), bucketed by a ``terms`` aggregation. A
``date_histogram`` over ``published_date`` would put a page's offset-less Beijing
time on its UTC day and drop undated articles, so two backends would disagree.
With a query (a watch), the query selects exactly the matching pages
(``search.candidate_query``: exact phrases), counted by the same aggregation.
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from index.elasticsearch.match import region_filter
from index.elasticsearch.search import candidate_query
from index.query import Query

MAX_DAYS = 4000           # buckets asked for: more days than any chart shows


def count_by_day(client: Elasticsearch, index: str, *, since: str, until: str,
                 sites: list[str] | None = None, regions: list[str] | None = None,
                 query: Query | None = None) -> dict[str, int]:
    filters: list[dict] = [{"range": {"day": {"gte": since[:10], "lte": until[:10]}}}]
    if sites:
        filters.append({"terms": {"site": list(sites)}})
    if regions:
        filters.append(region_filter(list(regions)))
    if query is not None:
        filters.append(candidate_query(query, None, None, None))
    response = client.search(index=index, size=0, query={"bool": {"filter": filters}},
                             aggs={"days": {"terms": {"field": "day", "size": MAX_DAYS}}})
    return {b["key"]: b["doc_count"] for b in response["aggregations"]["days"]["buckets"]}


class DayCounts:
    """``IndexBackend.count_by_day`` for ``ElasticsearchIndex`` (what was written is sent first)."""

    def count_by_day(self, *, since: str, until: str, sites: list[str] | None = None,
                     regions: list[str] | None = None, query: Query | None = None) -> dict[str, int]:
        self.flush()
        self.require()
        return count_by_day(self.client, self.articles, since=since, until=until, sites=sites, regions=regions,
                            query=query)
