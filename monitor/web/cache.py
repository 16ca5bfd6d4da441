"""Reusing a search's list of matching stories for a few seconds.

A search page needs every matching story (for the total and the page), which on
a large index costs a pass over all candidates; turning to page 2, switching to
relevance, or a colleague opening the shared link asks the same again. The
list (story ids and scores, not the stories) is kept for ``ttl`` seconds, keyed
by the parsed query -- so ``激光产业园`` and ``激光產業園`` share an entry -- and the
filters. New articles show up after at most ``ttl`` seconds. A search asked
again while it is being computed waits for that answer instead of computing it
a second time (a shared link opened by a whole team at once) -- also with the
cache off (``ttl`` 0): that answer is computed after the request arrived, so it
is as fresh as computing it again, and nothing is kept once it is given.
A list with scores (asked for the relevance order) also answers a search that
needs none (the date order); one without scores answers only those.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import ExitStack
from typing import Callable, ContextManager

from index.base import ArticleRecord, IndexBackend
from index.query import Query
from index.story_search import StoryMatch

DEFAULT_TTL = 30.0
DEFAULT_ENTRIES = 256


class _Flight:
    """A search being computed: the requests that asked for it meanwhile wait here."""

    def __init__(self):
        self.done = threading.Event()
        self.matches: list[StoryMatch] | None = None      # None: the computation failed
        self.waiters = 0


class CachedMatches:
    """``match_stories`` answers shared by every request; ``over(index)`` gives the part
    of an index ``search_page`` reads, computing misses with that index."""

    def __init__(self, ttl: float = DEFAULT_TTL, entries: int = DEFAULT_ENTRIES):
        self.ttl = ttl
        self.entries = entries
        self._cache: OrderedDict[tuple, tuple[float, list[StoryMatch]]] = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict[tuple, _Flight] = {}   # searches being computed now

    def over(self, index: IndexBackend) -> "_Over":
        return _Over(self, index)

    def over_readers(self, readers: Callable[[], ContextManager[IndexBackend]]) -> "_Pooled":
        """As ``over``, for a ``with`` block, on an index taken from ``readers`` (the
        server's pool) only when it is needed: to compute a search (the index is kept
        for the page's stories) or, for a request that got its search from another
        one, to read the page's stories (from ``readers.quick`` when the pool has one:
        not queued behind the searches). A request waiting for a search being
        computed holds no pooled index that another search could use."""
        return _Pooled(self, readers, getattr(readers, "quick", readers))

    def match_stories(self, index: IndexBackend, query: Query, *, sites: list[str] | None = None,
                      regions: list[str] | None = None, since: str | None = None, until: str | None = None,
                      limit: int | None = None, scores: bool = True) -> list[StoryMatch]:
        """``index``: an index, or a function giving the index to compute on (called
        only if this request computes the search)."""
        search = (query.root, tuple(sites or ()), tuple(regions or ()), since, until, limit)
        key = (*search, scores)
        usable = [(*search, True)] + ([] if scores else [key])     # with scores first
        while True:
            with self._lock:
                for held in usable:
                    hit = self._cache.get(held) if self.ttl > 0 else None
                    if hit is not None and time.monotonic() - hit[0] < self.ttl:
                        self._cache.move_to_end(held)
                        return hit[1]
                flight = next((self._running[held] for held in usable if held in self._running), None)
                if flight is None:           # this request computes it; the same search asked
                    flight = self._running[key] = _Flight()   # meanwhile waits for it
                    break
                flight.waiters += 1
            flight.done.wait()
            if flight.matches is not None:
                return flight.matches
            # the request computing it failed: this one tries (and fails with its own error)
        try:
            computing = index() if callable(index) else index
            flight.matches = computing.match_stories(query, sites=sites, regions=regions, since=since,
                                                     until=until, limit=limit, scores=scores)
            if self.ttl > 0:
                with self._lock:
                    self._cache[key] = (time.monotonic(), flight.matches)
                    self._cache.move_to_end(key)
                    while len(self._cache) > self.entries:
                        self._cache.popitem(last=False)
            return flight.matches
        finally:
            with self._lock:
                del self._running[key]
            flight.done.set()


class _Over:
    def __init__(self, cache: CachedMatches, index: IndexBackend):
        self.cache, self.index = cache, index

    def match_stories(self, query: Query, **filters) -> list[StoryMatch]:
        return self.cache.match_stories(self.index, query, **filters)

    def story_copies(self, story_id: str) -> list[ArticleRecord]:
        return self.index.story_copies(story_id)


class _Pooled:
    """``over_readers``: one pooled index at most, taken when first needed, given back
    at the end of the ``with`` block: a search's own if it computed one, else a quick one."""

    def __init__(self, cache: CachedMatches, readers: Callable[[], ContextManager[IndexBackend]],
                 quick: Callable[[], ContextManager[IndexBackend]]):
        self.cache, self.readers, self.quick = cache, readers, quick
        self._held: IndexBackend | None = None
        self._exit = ExitStack()

    def _index(self, pool: Callable[[], ContextManager[IndexBackend]]) -> IndexBackend:
        if self._held is None:
            self._held = self._exit.enter_context(pool())
        return self._held

    def __enter__(self) -> "_Pooled":
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()

    def match_stories(self, query: Query, **filters) -> list[StoryMatch]:
        return self.cache.match_stories(lambda: self._index(self.readers), query, **filters)

    def story_copies(self, story_id: str) -> list[ArticleRecord]:
        return self._index(self.quick).story_copies(story_id)
