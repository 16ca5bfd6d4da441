"""Documents written but not yet searchable in Elasticsearch, and how reads see them.

The backend buffers upserts and sends them in bulk, and while the server is
down it spools them. Dedup must still see them: ``StoryClusterer`` looks up the
record written just before (same crawl) by text hash, LSH band and story. Rather
than refresh Elasticsearch before every lookup (a refresh per article), reads
ask the server (refreshed at every flush) and then this overlay, whose version
of a document wins. Lookups here are dict hits, so the buffer costs nothing per
article; ``benchmarks/indexing`` measures both ways.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Iterator


class Overlay:
    """Article documents by id, with the secondary keys dedup looks up.

    The keys are indexed lazily, at the first lookup after a write: a crawl looks
    up after every article anyway, and a bulk load that never looks up pays nothing."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.spooled: set[str] = set()      # ids already in the spool (server was down)
        self._indexed: dict[str, dict] = {}  # id -> the version the key maps hold
        self._unindexed: set[str] = set()
        self._by_hash: dict[str, set[str]] = defaultdict(set)
        self._by_band: dict[str, set[str]] = defaultdict(set)
        self._by_story: dict[str, set[str]] = defaultdict(set)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self.docs

    def __len__(self) -> int:
        return len(self.docs)

    def get(self, article_id: str) -> dict | None:
        return self.docs.get(article_id)

    def put(self, doc: dict) -> None:
        article_id = doc["id"]
        self.docs.pop(article_id, None)      # re-inserted last: pending() keeps write order
        self.spooled.discard(article_id)
        self.docs[article_id] = doc
        self._unindexed.add(article_id)

    def discard(self, ids: Iterable[str]) -> None:
        for article_id in ids:
            self.docs.pop(article_id, None)
            self.spooled.discard(article_id)
            self._unindexed.discard(article_id)
            self._unindex(article_id)

    def _unindex(self, article_id: str) -> None:
        doc = self._indexed.pop(article_id, None)
        if doc is not None:
            self._by_hash[doc["text_hash"]].discard(article_id)
            self._by_story[doc["story_id"]].discard(article_id)
            for band in doc["lsh_bands"]:
                self._by_band[band].discard(article_id)

    def _index(self) -> None:
        for article_id in self._unindexed:
            self._unindex(article_id)
            doc = self.docs[article_id]
            self._indexed[article_id] = doc
            self._by_hash[doc["text_hash"]].add(article_id)
            self._by_story[doc["story_id"]].add(article_id)
            for band in doc["lsh_bands"]:
                self._by_band[band].add(article_id)
        self._unindexed.clear()

    def pending(self) -> Iterator[dict]:
        """Documents not yet sent nor spooled, in the order they were written."""
        return (doc for article_id, doc in self.docs.items() if article_id not in self.spooled)

    def with_hash(self, text_hash: str) -> list[dict]:
        self._index()
        return [self.docs[i] for i in self._by_hash.get(text_hash, ())]

    def with_bands(self, bands: Iterable[str]) -> list[dict]:
        self._index()
        ids = set()
        for band in bands:
            ids |= self._by_band.get(band, set())
        return [self.docs[i] for i in ids]

    def in_story(self, story_id: str) -> list[dict]:
        self._index()
        return [self.docs[i] for i in self._by_story.get(story_id, ())]
