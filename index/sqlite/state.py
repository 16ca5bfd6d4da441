"""The SQLite backend's ``StateStore`` (``index/state.py``): a table in the index file."""
from __future__ import annotations

import json
import sqlite3
import threading
from typing import Callable

from index.errors import StorageError, guarded
from index.state import check_entry, prefix_upper_bound, utc_now

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
