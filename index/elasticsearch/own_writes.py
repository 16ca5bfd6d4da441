"""Whether the index holds an article id, known without a round trip: from this
process's own writes while it is the only writer (``OwnWrites``), and from its recent
reads and writes by id (``RecentReads``).

``OwnWrites`` is the shortcut a first crawl into an empty index rides on: whether an
article id this process has not written can be taken as absent.

When the articles index held nothing at open and this process is its only writer,
only what it wrote exists, so ``get_article`` and the existence check of each upsert
answer from memory. That is wrong from the start when other processes write too: a
``newsmon worker`` and every process of a multi-machine setup (``NEWSMON_BROKER``
set), the crawl pool's processes (``crawler.child --serve`` sets
``NEWSMON_ES_SHARED=1``), or ``newsmon crawl`` runs started side by side (set
``NEWSMON_ES_SHARED=1`` for them). A page another writer sent a moment ago, not
searchable yet, would be taken for new and start a story of its own. So there the
shortcut is never on, and elsewhere it ends at the first stored document this process
did not write (``saw``).
"""
from __future__ import annotations

import os

SHARED_ENV = "NEWSMON_ES_SHARED"
BROKER_ENV = "NEWSMON_BROKER"       # (crawler/queue's: with a broker every machine writes one index)


def one_of_several_writers() -> bool:
    """This process shares the index with other writers (see the module docstring)."""
    return bool(os.environ.get(BROKER_ENV)) or os.environ.get(SHARED_ENV, "").strip() not in ("", "0")


class OwnWrites:
    """The ids this process wrote, while it is the only writer of an index empty at open."""

    def __init__(self) -> None:
        self.ids: set[str] | None = None    # None: ask the server

    def opened(self, empty: bool) -> None:
        self.ids = set() if empty and not one_of_several_writers() else None

    def wrote(self, article_id: str) -> None:
        if self.ids is not None:
            self.ids.add(article_id)

    def exists(self, article_id: str) -> bool | None:
        """Whether the index holds ``article_id``, or None when only the server knows."""
        return None if self.ids is None else article_id in self.ids

    def saw(self, stored: list[dict]) -> None:
        """Documents read from the server: one this process did not write ends the shortcut."""
        if self.ids is not None and any(d["id"] not in self.ids for d in stored):
            self.ids = None


class RecentReads:
    """Whether the index held an id when this process last read it by id or wrote it:
    ``upsert_article``'s existence check right after dedup's read by id costs no round
    trip (``StoryClusterer.assign`` reads every page by id before storing it). Bounded:
    emptied past ``size`` ids.

    An "absent" answer goes stale when another worker stores the page later. That loses
    and duplicates no article: each store reads its page by id first, which renews the
    answer, so only a write landing between that read and this one goes unseen (the
    window another worker's unsent bulk buffer opens anyway), and a page's id is its
    document's, so the two writes are one article, the later over the earlier. The page
    is then counted new by both (tests/test_story_rename_memory.py)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._held: dict[str, bool] = {}

    def answered(self, article_id: str, held: bool) -> None:
        if len(self._held) >= self.size and article_id not in self._held:
            self._held.clear()
        self._held[article_id] = held

    def get(self, article_id: str, default: bool | None = None) -> bool | None:
        return self._held.get(article_id, default)
