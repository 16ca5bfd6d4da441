"""The Elasticsearch backend (``http://`` / ``https://host:9200/prefix``): the SQLite
backend's behaviour on a cluster, and nothing lost while the cluster is away.
``backend.py`` is ``ElasticsearchIndex`` (buffered writes, reads, the story fields
kept right at each flush); ``client.py`` reads the URL and options and talks to the
server; ``mapping.py`` owns the indices and documents; ``bulk.py`` sends batches;
``overlay.py`` holds what is not sent yet and ``spool.py`` what could not be sent;
``search.py`` and ``match.py`` answer queries and ``day_counts.py`` counts articles
per day; ``dedup.py`` answers dedup's LSH band lookups; ``state.py`` is the
``StateStore`` index.
"""
from __future__ import annotations

from index.elasticsearch.backend import ElasticsearchIndex
from index.elasticsearch.client import IndexUnavailable


def open_elasticsearch(url: str, create: bool = True) -> ElasticsearchIndex:
    """The index of an ``http(s)://`` URL; ``create=False`` (a reader) needs the server
    now and says so in one line naming the URL."""
    index = ElasticsearchIndex(url, create=create)
    if not create:
        try:
            index.require()
        except BaseException:
            index.close()
            raise
    return index


__all__ = ["ElasticsearchIndex", "IndexUnavailable", "open_elasticsearch"]
