"""Storage and search: ``open_index(url)`` is the one place a URL becomes a backend.

Like Scrapy's ``FilesPipeline.STORE_SCHEMES``, ``INDEX_SCHEMES`` maps a URL scheme
to a factory; adding a backend is one entry there. Everything else talks to the
``IndexBackend`` protocol and never checks which backend it has. Every backend is a
context manager: ``with open_index(url) as index:`` closes it however the block ends.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from index.base import ArticleRecord, IndexBackend, Quarantined
from index.errors import StorageBusy, StorageError
from index.query import Query, QuerySyntaxError, parse_query

DEFAULT_INDEX_URL = "sqlite:///data/newsmon.db"
INDEX_ENV = "NEWSMON_INDEX"


class IndexURLError(ValueError):
    """An ``--index`` / ``NEWSMON_INDEX`` value that names no usable backend."""


class IndexMissing(IndexURLError):
    """A command that only reads named an index that does not exist (``create=False``):
    it says so rather than creating an empty one and answering "no match"."""


def missing_index(url: str, where: str) -> IndexMissing:
    return IndexMissing(f"没有找到索引 {url}：{where}。请检查 --index 或 NEWSMON_INDEX，"
                        "或先运行 newsmon crawl 建立索引")


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL: sqlite:///relative/path.db -> "relative/path.db",
    sqlite:////abs/path.db -> "/abs/path.db" (SQLAlchemy's convention: three slashes, then the path)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise IndexURLError(f"bad SQLite index URL {url!r}: use sqlite:///relative/path.db "
                            "or sqlite:////absolute/path.db")
    return Path(url[len(prefix):])


def _open_sqlite(url: str, create: bool = True) -> IndexBackend:
    from index.sqlite import SQLiteIndex

    path = sqlite_path(url)
    if not create and not path.is_file():
        raise missing_index(url, f"文件 {path.resolve()} 不存在")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:        # e.g. a read-only mount: one line, not a traceback
        from index.errors import os_error
        raise os_error(exc, path.parent) from exc
    return SQLiteIndex(path)


def _open_elasticsearch(url: str, create: bool = True) -> IndexBackend:
    from index.elasticsearch import ElasticsearchIndex

    index = ElasticsearchIndex(url, create=create)
    if not create:
        try:
            index.require()          # a reader needs the server now: one line naming the URL
        except BaseException:
            index.close()
            raise
    return index


INDEX_SCHEMES: dict[str, Callable[..., IndexBackend]] = {
    "sqlite": _open_sqlite,
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
           "INDEX_SCHEMES"]
