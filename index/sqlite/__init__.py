"""The embedded backend (``sqlite:///path.db``): one SQLite file holds the articles,
their full-text index, the dedup lookups and the operational state. ``backend.py``
is ``SQLiteIndex`` (storage, writes, reads); ``fts.py`` and ``search.py`` find the
stories a query matches (FTS5 candidates, checked exactly) and ``day_counts.py`` how
many articles each day has; ``dedup.py``, ``band_window.py`` and ``band_kernels.py``
answer dedup's LSH band lookups from a packed table and its in-memory view;
``state.py`` is the ``StateStore`` table.
"""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from index.errors import IndexURLError, missing_index, os_error

if TYPE_CHECKING:
    from index.sqlite.backend import SQLiteIndex

URL_PREFIX = "sqlite:///"


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL: sqlite:///relative/path.db -> "relative/path.db",
    sqlite:////abs/path.db -> "/abs/path.db" (SQLAlchemy's convention: three slashes, then the path)."""
    if not url.startswith(URL_PREFIX) or len(url) == len(URL_PREFIX):
        raise IndexURLError(f"bad SQLite index URL {url!r}: use sqlite:///relative/path.db "
                            "or sqlite:////absolute/path.db")
    return Path(url[len(URL_PREFIX):])


def open_sqlite(url: str, create: bool = True) -> SQLiteIndex:
    """The index of a ``sqlite:///`` URL; ``create=False``: a file that is not there is
    ``IndexMissing``, not a new empty index."""
    path = sqlite_path(url)
    if not create and not path.is_file():
        raise missing_index(url, f"文件 {path.resolve()} 不存在")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:        # e.g. a read-only mount: one line, not a traceback
        raise os_error(exc, path.parent) from exc
    # Imported here: ``sqlite_path`` serves commands that never open the index, and the
    # backend loads the compiled band kernels.
    from index.sqlite.backend import SQLiteIndex
    return SQLiteIndex(path)


__all__ = ["open_sqlite", "sqlite_path"]
