"""Operational state kept in the index database: a small durable key/document store.

Run history, watches, sent-alert marks, digests and dead letters must survive
restarts and live wherever the articles live (design.md: "in the index
database"), so every backend exposes the same ``StateStore`` as ``backend.state``:
a SQLite table here, an Elasticsearch index in ``index/es_state.py``.

Keys sort as strings; callers put the parts they scan by first
(``"<site>/<started UTC ISO>/<run id>"``). ``add`` is the one atomic primitive:
it inserts only if the key is absent, across processes too, which is what makes
"one alert per story per watch, ever" hold when two crawls index at once.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Callable, Protocol, runtime_checkable

from index.errors import StorageError, guarded

MAX_KEY_CHARS = 500


class StateError(ValueError):
    """A kind, key or document the store cannot hold."""


@runtime_checkable
class StateStore(Protocol):
    def put(self, kind: str, key: str, doc: dict) -> None:
        """Insert or replace."""

    def add(self, kind: str, key: str, doc: dict) -> bool:
        """Insert only if ``(kind, key)`` is absent; True if this call inserted it."""

    def get(self, kind: str, key: str) -> dict | None: ...

    def delete(self, kind: str, key: str) -> bool:
        """True if something was deleted."""

    def scan(self, kind: str, prefix: str = "", *, reverse: bool = False,
             limit: int | None = None) -> list[tuple[str, dict]]:
        """``(key, doc)`` pairs whose key starts with ``prefix``, in key order."""


def check_entry(kind: str, key: str, doc: dict | None = None) -> str | None:
    """Validate one entry; returns the document serialized as JSON (when given)."""
    if not kind or not isinstance(kind, str):
        raise StateError(f"state kind must be a non-empty string, got {kind!r}")
    if not isinstance(key, str) or not key:
        raise StateError(f"state key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY_CHARS:
        raise StateError(f"state key longer than {MAX_KEY_CHARS} characters: {key[:60]!r}…")
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise StateError(f"state document must be a dict, got {type(doc).__name__}")
    try:
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise StateError(f"state document for {kind}/{key} is not JSON: {exc}") from None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``
    (so a prefix scan is an index range scan, not a LIKE with escaping)."""
    return prefix + "\U0010ffff"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""


class SQLiteState:
    """``StateStore`` on the SQLite index's own connection.

    The index batches article writes in one transaction; state writes commit at
    once (``commit``), because a sent-alert mark or a run record must be durable
    before the side effect it guards. Sharing the connection (not a second one)
    avoids waiting on our own write lock. ``failed`` turns a storage failure into
    ``StorageError`` (the index rolls back its unfinished batch first)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, commit: Callable[[], None],
                 failed: Callable[[sqlite3.Error], StorageError | None] = lambda exc: None):
        self._conn = conn
        self._lock = lock
        self._commit = commit
        self._storage_failed = failed
        self._create()

    @guarded
    def _create(self) -> None:
        with self._lock:
            self._conn.executescript(_SCHEMA)

    @guarded
    def put(self, kind: str, key: str, doc: dict) -> None:
        body = check_entry(kind, key, doc)
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO state(kind, key, doc, updated) VALUES (?, ?, ?, ?)",
                               (kind, key, body, utc_now()))
            self._commit()

    @guarded
    def add(self, kind: str, key: str, doc: dict) -> bool:
        body = check_entry(kind, key, doc)
        with self._lock:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO state(kind, key, doc, updated) VALUES (?, ?, ?, ?)",
                (kind, key, body, utc_now()))
            self._commit()
            return cursor.rowcount == 1

    @guarded
    def get(self, kind: str, key: str) -> dict | None:
        check_entry(kind, key)
        with self._lock:
            row = self._conn.execute("SELECT doc FROM state WHERE kind = ? AND key = ?",
                                     (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    @guarded
    def delete(self, kind: str, key: str) -> bool:
        check_entry(kind, key)
        with self._lock:
            cursor = self._conn.execute("DELETE FROM state WHERE kind = ? AND key = ?", (kind, key))
            self._commit()
            return cursor.rowcount > 0

    @guarded
    def scan(self, kind: str, prefix: str = "", *, reverse: bool = False,
             limit: int | None = None) -> list[tuple[str, dict]]:
        check_entry(kind, prefix or "-")
        sql = (f"SELECT key, doc FROM state WHERE kind = ? AND key >= ? AND key < ? "
               f"ORDER BY key {'DESC' if reverse else 'ASC'}")
        params: list = [kind, prefix, prefix_upper_bound(prefix)]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [(key, json.loads(doc)) for key, doc in rows]
