"""Many sites in one crawl process: one Scrapy crawler per site run, all in one reactor.

A Python + Scrapy + numba process costs ~300 MB and most of a second of CPU to
start, and a polite crawl of one site leaves it idle between requests. So one
process serves many site runs at once, each a ``Crawler`` of its own in the
process's one reactor; each crawler's download slot keeps its site polite
(delay, concurrency from the site's config), exactly as a process per site did:

* each site run has its own settings (``CLOSESPIDER_TIMEOUT`` = its time limit,
  so a time limit stops only that site), stats, robots.txt, coverage marks and
  run document (``crawler.runner.record_site_run``);
* an exception that escapes one site's crawl, or every article page of a site
  raising in the pipelines, is recorded as that site's failure; the other
  crawlers go on;
* the crawlers share one index connection (``SQLiteIndex`` serializes writes and
  keeps one LSH band window; a connection per crawler would hold N copies and
  fight over SQLite's write lock on the one reactor thread).

Library entry point (the scheduler's crawl process and workers on other
machines call it)::

    results = run_site_batch([SiteRun(site, RunInfo(...), time_limit=600), ...],
                             index_url="sqlite:///data/newsmon.db")
    # -> [RunResult(site, run_id, status, doc), ...], in input order

``run_site_batch`` starts and stops the Twisted reactor, which runs once per
process: call it once per process (a Celery worker: ``--max-tasks-per-child 1``,
or a subprocess per batch). A process that keeps serving uses ``SiteBatch``
inside a running reactor (``crawler/child.py``).
"""
from __future__ import annotations

import logging
import signal
from dataclasses import dataclass, field

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.settings import Settings
from twisted.internet import defer, threads

from crawler.runner import SPIDER_NAME, crawl_settings, record_site_run
from crawler.sites import SiteConfig
from index.runs import CRASHED, RunInfo, record_failure
from netsafety.counters import count

logger = logging.getLogger("newsmon.scheduler")

PIPELINE_EXCEPTION = "errors/pipeline_exception"   # a page raised in a pipeline (not a drop with a reason)
SPIDER_EXCEPTION = "errors/spider_exception"       # the spider raised on a page


@dataclass
class SiteRun:
    """One run of one site: what to crawl, the run it records, its time limit (seconds)."""

    site: SiteConfig
    run: RunInfo = field(default_factory=RunInfo)
    time_limit: float = 3600.0


@dataclass
class RunResult:
    site: str
    run_id: str
    status: str                   # the run document's status (index/runs.py: ok, failed, timeout, ...)
    doc: dict = field(default_factory=dict)   # the run document as recorded


class SiteBatch:
    """Runs site runs concurrently in this process's running reactor."""

    def __init__(self, index_url: str | None = None, extra_settings: dict | None = None):
        self.extra_settings = dict(extra_settings or {})
        # Project settings only: the runner merges its settings into each crawler's at equal
        # priority, so a run's own (time limit, download slots) must not be in it.
        base = Settings()
        base.setmodule("crawler.settings", priority="project")
        self.runner = CrawlerRunner(base)
        self.index_url = crawl_settings(index_url, []).get("NEWSMON_INDEX")
        _install_resolver(self.runner)
        self._spidercls = self.runner.spider_loader.load(SPIDER_NAME)   # by name: spiders/ sit above crawler/
        self._index = None
        self.active: dict[str, Crawler] = {}    # run_id -> its crawler
        # A worker's batch opens the index afresh once no run is going, so each run starts as it did
        # when a worker ran a process per task: nothing the connection held for earlier runs (cached
        # reads, buffers, bookkeeping) carries over into a process living for hours. Not for the
        # "only my writes" shortcut: a worker (NEWSMON_BROKER) never takes it (own_writes.py).
        self.reopen_when_idle = False

    def _extra(self, time_limit: float) -> dict:
        return {"LOG_INSTALL_ROOT_HANDLER": False, "CLOSESPIDER_TIMEOUT": time_limit,
                "STATS_DUMP": False, **self.extra_settings}

    def _shared_index(self):
        if self._index is None:
            from index import open_index
            from pipelines.stages import SharedIndex
            self._index = open_index(self.index_url)
            SharedIndex.lend(self.index_url, self._index)     # every run's crawl uses this one
        return self._index

    def run(self, job: SiteRun) -> defer.Deferred:
        """A Deferred firing with the ``RunResult`` once the run is recorded; never fails."""
        return defer.ensureDeferred(self._run(job))

    async def _run(self, job: SiteRun) -> RunResult:
        site, run = job.site, job.run
        try:
            settings = crawl_settings(self.index_url, [site], self._extra(job.time_limit))
            crawler = Crawler(self._spidercls, settings)
            self._shared_index()            # lent to the crawl's SharedIndex extension
            ExceptionCounter(crawler, site.name)
            self.active[run.run_id] = crawler
            await self.runner.crawl(crawler, sites=[site],
                                    max_list_depth=settings.getint("NEWSMON_MAX_LIST_DEPTH", 6))
            self._index.flush()
            # In a thread: recording retries a busy index and may send a health alert for a few
            # seconds, which must not hold up the other sites' crawls in this reactor.
            [doc] = await threads.deferToThread(record_site_run, crawler, site.name, run)
        except Exception as exc:  # noqa: BLE001 - one site's crash is its run's record, never the batch's
            logger.exception("[%s] crawl %s crashed: %s", site.name, run.run_id, exc)
            self._flush_quietly()
            doc = await threads.deferToThread(record_failure, self.index_url, site.name, run, CRASHED,
                                              f"crawl raised {type(exc).__name__}: {exc}")
        finally:
            self.active.pop(run.run_id, None)
            if self.reopen_when_idle and not self.active:
                self._close_quietly()
        return RunResult(site.name, run.run_id, doc["status"], doc)

    def _close_quietly(self) -> None:
        try:
            self.close()
        except Exception as exc:  # noqa: BLE001 - the run is recorded; the next one opens a fresh index
            logger.error("closing the index after a run failed: %s", exc)
            self._index = None

    def _flush_quietly(self) -> None:
        try:
            if self._index is not None:
                self._index.flush()
        except Exception as exc:  # noqa: BLE001 - the run is recorded as crashed anyway
            logger.error("index flush after a crashed crawl failed: %s", exc)

    def stop(self, run_id: str) -> None:
        """Ask one run's crawler to stop (its run is recorded "stopped")."""
        crawler = self.active.get(run_id)
        engine = getattr(crawler, "engine", None)
        slot = getattr(engine, "_slot", None)
        if engine is None or (slot is not None and slot.closing is not None):
            return         # not started yet, or closing already (its time limit): it records itself
        defer.ensureDeferred(crawler.stop_async())

    def stop_all(self) -> defer.Deferred:
        return self.runner.stop()

    def close(self) -> None:
        if self._index is not None:
            from pipelines.stages import SharedIndex
            SharedIndex.lend(self.index_url, None)
            self._index.close()
            self._index = None


def _install_resolver(runner: CrawlerRunner) -> None:
    """What ``CrawlerProcess`` does at start: the DNS resolver that checks every
    resolved address (``crawler/resolver.py``), and the reactor's thread pool size."""
    from scrapy.utils.misc import build_from_crawler, load_object
    from twisted.internet import reactor
    if getattr(reactor, "_newsmon_resolver", False):
        return
    resolver = build_from_crawler(load_object(runner.settings["TWISTED_DNS_RESOLVER"]), runner, reactor=reactor)
    resolver.install_on_reactor()
    reactor.getThreadPool().adjustPoolsize(maxthreads=runner.settings.getint("REACTOR_THREADPOOL_MAXSIZE"))
    reactor._newsmon_resolver = True


class ExceptionCounter:
    """Pipeline and spider exceptions, per site: the run's status reads them.

    Kept on the crawler and connected by bound method (a weak reference): a closure
    connected with ``weak=False`` stays in PyDispatcher's module-level table for good,
    and with it the whole finished crawler, in a process that runs thousands of them."""

    def __init__(self, crawler: Crawler, site: str):
        self.crawler, self.site = crawler, site      # (crawler.stats exists once the crawl starts)
        crawler._newsmon_exception_counter = self
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)

    def item_error(self, *_a, **_kw):
        count(self.crawler.stats, PIPELINE_EXCEPTION, self.site)

    def spider_error(self, *_a, **_kw):
        count(self.crawler.stats, SPIDER_EXCEPTION, self.site)


def run_site_batch(jobs: list[SiteRun], index_url: str | None = None, settings: dict | None = None,
                   max_concurrent: int = 50) -> list[RunResult]:
    """Crawl ``jobs`` in this process, at most ``max_concurrent`` sites at once; one
    ``RunResult`` per job, in order. Starts (and stops) the reactor: once per process."""
    from scrapy.utils.reactor import install_reactor
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    batch = SiteBatch(index_url, settings)
    limit = defer.DeferredSemaphore(max(1, max_concurrent))
    results: list[RunResult | None] = [None] * len(jobs)

    def one(i: int, job: SiteRun):
        d = limit.run(batch.run, job)
        d.addCallback(lambda result: results.__setitem__(i, result))
        return d

    done = defer.DeferredList([one(i, job) for i, job in enumerate(jobs)])
    done.addBoth(lambda _r: reactor.stop())
    for sig in (signal.SIGTERM, signal.SIGINT):     # stop the crawls; their runs are recorded "stopped"
        signal.signal(sig, lambda *_a: reactor.callFromThread(batch.stop_all))
    if jobs:
        reactor.run(installSignalHandlers=False)
    batch.close()
    return [r for r in results if r is not None]
