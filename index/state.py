"""Operational state kept in the index database: a small durable key/document store.

Run history, watches, sent-alert marks, digests and dead letters must survive
restarts and live wherever the articles live (design.md: "in the index
database"), so every backend exposes the same ``StateStore`` as ``backend.state``:
a SQLite table (``index/sqlite/state.py``) or an Elasticsearch index
(``index/elasticsearch/state.py``).

Keys sort as strings; callers put the parts they scan by first
(``"<site>/<started UTC ISO>/<run id>"``). ``add`` is the one atomic primitive:
it inserts only if the key is absent, across processes too, which is what makes
"one alert per story per watch, ever" hold when two crawls index at once.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

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
