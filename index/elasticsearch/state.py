"""``StateStore`` on Elasticsearch: one small index (alias ``<prefix>-state``).

Each entry is a document whose id is a hash of ``kind`` and ``key`` (ids are
capped at 512 bytes; keys may be longer in UTF-8). ``add`` is an
``op_type=create``: the cluster answers 409 when the id exists, which makes it
atomic across processes and machines. Writes refresh the small state index at
once (``refresh=True``; ``wait_for`` would wait up to the 1 s refresh interval
per write), so a scan right after a write sees it.

Unlike article writes, state operations do not spool when the cluster is down:
the caller gets ``IndexUnavailable`` and decides (an alert not marked sent is
simply tried again later).
"""
from __future__ import annotations

import hashlib
import json
from typing import Callable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from index.state import check_entry, prefix_upper_bound, utc_now

STATE_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},
        "key": {"type": "keyword"},
        "doc": {"type": "object", "enabled": False},   # stored, never indexed
        "updated": {"type": "keyword"},
    },
}


def state_id(kind: str, key: str) -> str:
    return hashlib.sha1(f"{kind}\x00{key}".encode("utf-8")).hexdigest()


class ElasticsearchState:
    def __init__(self, client: Elasticsearch, index: str, require: Callable[[], None]):
        self._client = client
        self._index = index
        self._require = require        # connects (creating the indices) or raises IndexUnavailable

    def _source(self, kind: str, key: str, doc: dict) -> dict:
        check_entry(kind, key, doc)
        # Round-trip through JSON so what is stored is exactly what get() returns.
        return {"kind": kind, "key": key, "doc": json.loads(json.dumps(doc, ensure_ascii=False)),
                "updated": utc_now()}

    def put(self, kind: str, key: str, doc: dict) -> None:
        source = self._source(kind, key, doc)
        self._require()
        self._client.index(index=self._index, id=state_id(kind, key), document=source, refresh=True)

    def add(self, kind: str, key: str, doc: dict) -> bool:
        source = self._source(kind, key, doc)
        self._require()
        try:
            self._client.create(index=self._index, id=state_id(kind, key), document=source,
                                refresh=True)
        except ConflictError:
            return False
        return True

    def get(self, kind: str, key: str) -> dict | None:
        check_entry(kind, key)
        self._require()
        try:
            found = self._client.get(index=self._index, id=state_id(kind, key))
        except NotFoundError:
            return None
        return found["_source"]["doc"]

    def delete(self, kind: str, key: str) -> bool:
        check_entry(kind, key)
        self._require()
        try:
            self._client.delete(index=self._index, id=state_id(kind, key), refresh=True)
        except NotFoundError:
            return False
        return True

    def scan(self, kind: str, prefix: str = "", *, reverse: bool = False,
             limit: int | None = None) -> list[tuple[str, dict]]:
        check_entry(kind, prefix or "-")
        self._require()
        query = {"bool": {"filter": [{"term": {"kind": kind}},
                                     {"range": {"key": {"gte": prefix, "lt": prefix_upper_bound(prefix)}}}]}}
        order = "desc" if reverse else "asc"
        wanted = None if limit is None else max(0, int(limit))
        out: list[tuple[str, dict]] = []
        after = None
        while wanted is None or len(out) < wanted:
            page = 1000 if wanted is None else min(1000, wanted - len(out))
            if page == 0:
                break
            hits = self._client.search(index=self._index, query=query, sort=[{"key": order}], size=page,
                                       search_after=after, track_total_hits=False)["hits"]["hits"]
            out.extend((h["_source"]["key"], h["_source"]["doc"]) for h in hits)
            if len(hits) < page:
                break
            after = hits[-1]["sort"]
        return out
