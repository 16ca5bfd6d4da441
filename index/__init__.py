"""Storage and search: ``open_index(url)`` is the one place a URL becomes a backend.

Like Scrapy's ``FilesPipeline.STORE_SCHEMES``, ``INDEX_SCHEMES`` maps a URL scheme
to a factory; adding a backend is one entry there. Everything else talks to the
``IndexBackend`` protocol and never checks which backend it has. Every backend is a
context manager: ``with open_index(url) as index:`` closes it however the block ends.
"""
from __future__ import annotations

import os
from typing import Callable
from urllib.parse import urlsplit

from index.base import ArticleRecord, IndexBackend, Quarantined
from index.errors import IndexMissing, IndexURLError, StorageBusy, StorageError, missing_index
from index.query import Query, QuerySyntaxError, parse_query
from index.sqlite import open_sqlite, sqlite_path

DEFAULT_INDEX_URL = "sqlite:///data/newsmon.db"
INDEX_ENV = "NEWSMON_INDEX"


def _open_elasticsearch(url: str, create: bool = True) -> IndexBackend:
    # Imported when named: the Elasticsearch client is not loaded by SQLite users.
    from index.elasticsearch import open_elasticsearch
    return open_elasticsearch(url, create=create)


INDEX_SCHEMES: dict[str, Callable[..., IndexBackend]] = {
    "sqlite": open_sqlite,
    "http": _open_elasticsearch,
    "https": _open_elasticsearch,
}


def open_index(url: str | None = None, *, create: bool = True) -> IndexBackend:
    """Open the index named by ``url``, else ``$NEWSMON_INDEX``, else the default.

    ``create=False`` (commands that only read: search, export, status, ...): an index
    that does not exist is ``IndexMissing`` and is not created, and an Elasticsearch
    server that cannot be reached is ``IndexUnavailable`` at once."""
    url = url or os.environ.get(INDEX_ENV) or DEFAULT_INDEX_URL
    scheme = urlsplit(url).scheme.lower()
    factory = INDEX_SCHEMES.get(scheme)
    if factory is None:
        accepted = ", ".join(f"{s}://" for s in INDEX_SCHEMES)
        raise IndexURLError(f"unknown index URL {url!r}: accepted schemes are {accepted} "
                            f"(e.g. {DEFAULT_INDEX_URL} or http://localhost:9200)")
    return factory(url, create=create)


def replay_spool(url: str | None = None):
    """Send what an Elasticsearch index spooled while it was down, oldest first; returns
    its ``ReplayResult``, or None for a backend that writes directly and never spools."""
    with open_index(url) as index:
        replay = getattr(index, "replay", None)
        return replay() if replay is not None else None


__all__ = ["ArticleRecord", "IndexBackend", "IndexMissing", "IndexURLError", "Quarantined", "Query",
           "QuerySyntaxError", "StorageBusy", "StorageError", "open_index", "parse_query", "replay_spool",
           "INDEX_SCHEMES", "DEFAULT_INDEX_URL", "INDEX_ENV", "missing_index", "sqlite_path"]
