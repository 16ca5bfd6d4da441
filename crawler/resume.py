"""Crash-safe resume: a crawl killed (even with SIGKILL) and started again with the
same ``--jobdir`` finishes the run without losing or duplicating articles.

Why not Scrapy's own ``JOBDIR``: it saves its request queue (queuelib's
``info.json``, the scheduler's ``active.json``) and spider state only on a clean
shutdown, and its seen-requests file is buffered; after SIGKILL a restart finds
no queue and a partial seen-set, so requests that were queued but never fetched
are filtered as "seen" and their articles are lost. Here the index itself is the
journal: what it holds was committed, whatever the process did afterwards.

* ``<jobdir>/run.json`` records when the run started and whether it finished
  (written atomically). A finished (or missing) run starts a new one.
* While a run is unfinished, an article request whose page the index already
  holds from this run (``fetched_at`` at or after the run's start) is not
  fetched again (counted ``resume_skipped``); lists are fetched again, which
  rediscovers the rest of the frontier. Nothing else changes, so the final index
  is the one an uninterrupted crawl makes.
* With a jobdir the index is flushed every ``NEWSMON_CHECKPOINT_ITEMS`` items (at
  item boundaries: every pipeline is synchronous, so no other item is half
  written), so a kill loses at most that much work.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from netsafety.counters import count
from monitor.clock import show
from index.identity import article_id, canonical_url

logger = logging.getLogger("newsmon.crawl")


class RunJournal:
    def __init__(self, jobdir: str | os.PathLike):
        self.path = Path(jobdir) / "run.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = self._read()
        self.resuming = bool(state) and not state.get("finished")
        if self.resuming:
            self.started_at = datetime.fromisoformat(state["started_at"])
            self.attempt = int(state.get("attempt", 1)) + 1
        else:
            self.started_at = datetime.now(timezone.utc).replace(microsecond=0)
            self.attempt = 1
        self._write(finished=False)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write(self, finished: bool) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"started_at": self.started_at.isoformat(), "attempt": self.attempt,
                                   "finished": finished}), encoding="utf-8")
        os.replace(tmp, self.path)

    def finish(self) -> None:
        self._write(finished=True)

    def done_in_this_run(self, fetched_at: str | None) -> bool:
        if not fetched_at:
            return False
        try:
            when = datetime.fromisoformat(fetched_at)
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when >= self.started_at


class ResumeMiddleware:
    """Spider middleware (wired in settings; inactive without ``NEWSMON_JOBDIR``)."""

    def __init__(self, crawler, jobdir: str, checkpoint_items: int):
        from pipelines.stages import shared_index
        self.crawler = crawler
        self.journal = RunJournal(jobdir)
        self.index = shared_index(crawler)
        self.checkpoint_items = checkpoint_items
        self._items = 0
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        if self.journal.resuming:
            logger.info("resuming the run started %s (attempt %d) from %s",
                        show(self.journal.started_at), self.journal.attempt, jobdir)

    @classmethod
    def from_crawler(cls, crawler):
        jobdir = crawler.settings.get("NEWSMON_JOBDIR")
        if not jobdir:
            raise NotConfigured
        return cls(crawler, jobdir, crawler.settings.getint("NEWSMON_CHECKPOINT_ITEMS", 20))

    def _keep(self, request) -> bool:
        if not (self.journal.resuming and isinstance(request, Request) and request.meta.get("kind") == "article"):
            return True
        record = self.index.get_article(article_id(canonical_url(request.url)))
        if record is None or not self.journal.done_in_this_run(record.fetched_at):
            return True
        count(self.crawler.stats, "resume_skipped", request.meta.get("site"))
        return False

    def process_spider_output(self, response, result):
        for item in result:
            if self._keep(item):
                yield item

    async def process_spider_output_async(self, response, result):
        async for item in result:
            if self._keep(item):
                yield item

    def item_scraped(self, item, response=None, spider=None):
        self._items += 1
        if self._items % self.checkpoint_items == 0:
            self.index.flush()

    def spider_closed(self, spider, reason):
        if reason == "finished":
            self.journal.finish()
