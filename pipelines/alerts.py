"""The alert stage, after StoryPipeline: a thin adapter over ``monitor.alerts``.

``AlertPipeline.process_item`` only records (a few state writes per hit); a
delivery thread sends the queued alerts while the crawl goes on and gets
``NEWSMON_ALERTS_DRAIN_SECONDS`` (at most ``MAX_DRAIN_SECONDS``) at the end of the
crawl to finish what is due -- first of all the crawl's summaries: matches that
were too old (a first crawl's backfill) or past the crawl's burst cap become ONE
message per watch when the crawl ends (``AlertRecorder.flush``); the crawl's exit
never waits longer. Whatever is still queued -- a mail server down, a retry not
yet due, a send cut off by the exit (its lease runs out) -- waits in the index for
the scheduler's delivery job or ``newsmon alerts deliver``. Neither a watch nor a delivery can fail the crawl:
errors are logged and counted.

Settings: ``NEWSMON_ALERTS_ENABLED`` (default true), ``NEWSMON_ALERTS_DELIVER``
(deliver during the crawl; default true), ``NEWSMON_ALERTS_DRAIN_SECONDS`` (5);
``NEWSMON_ALERT_BURST`` and ``NEWSMON_ALERT_DAILY_CAP`` (``monitor.alert_policy``).
"""
from __future__ import annotations

import logging
import threading
import time

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from netsafety.counters import count
from index.base import IndexBackend
from monitor.alerts import AlertRecorder, deliver_pending
from monitor.story_moves import carry_alert_marks
from pipelines.stages import shared_index

logger = logging.getLogger("newsmon.alerts")

DRAIN_SECONDS = 5.0
MAX_DRAIN_SECONDS = 8.0    # with the join margin and the close after it, the crawl's exit waits under 10 s


class DeliveryWorker:
    """A daemon thread running ``deliver_pending`` whenever woken (and every
    ``interval`` seconds, for retries coming due) until stopped."""

    def __init__(self, index: IndexBackend, interval: float = 15.0):
        self.index = index
        self.interval = interval
        self._wake = threading.Event()
        self._stop_by: float | None = None
        self._thread = threading.Thread(target=self._run, name="newsmon-alert-delivery", daemon=True)
        self.sent = 0
        self.cut_short = False       # the last run ended at the deadline with sends still going
        self._last_error = ""

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_seconds: float) -> None:
        """Deliver what is due for at most ``drain_seconds`` (capped at
        ``MAX_DRAIN_SECONDS``), then end the thread. Sends still running then are
        left to their daemon threads: their claims come back when the leases end."""
        drain = max(0.0, min(drain_seconds, MAX_DRAIN_SECONDS))
        self._stop_by = time.monotonic() + drain
        self._wake.set()
        self._thread.join(drain + 0.5)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stop_by is not None
            try:
                # A function, so a run already going when stop() comes ends by the stop's deadline.
                report = deliver_pending(self.index, deadline=lambda: self._stop_by)
                self.sent += report.sent
                self.cut_short |= report.cut_short     # only a run ended by stop() can be
                self._last_error = ""
            except Exception as exc:  # noqa: BLE001 - delivery must never take the crawl down
                # e.g. Elasticsearch down: one line per distinct error, the queue waits in the index
                if str(exc) != self._last_error:
                    logger.error("alert delivery paused (the queue is kept for later): %s", exc)
                self._last_error = str(exc)
            if stopping:
                return


class AlertPipeline:
    RETRY_LIMIT = 10_000   # pages kept in memory for a second try when the state store failed

    def __init__(self, recorder: AlertRecorder, stats, worker: DeliveryWorker | None = None,
                 drain_seconds: float = DRAIN_SECONDS):
        self.recorder = recorder
        self.stats = stats
        self.worker = worker
        self.drain_seconds = drain_seconds
        self._failed: list = []   # (item site, record, new_story, recrawl, carry) whose observe raised

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSMON_ALERTS_ENABLED", True):
            raise NotConfigured("alerts are switched off (NEWSMON_ALERTS_ENABLED)")
        index = shared_index(crawler)
        worker = DeliveryWorker(index) if settings.getbool("NEWSMON_ALERTS_DELIVER", True) else None
        return cls(AlertRecorder(index), crawler.stats, worker,
                   settings.getfloat("NEWSMON_ALERTS_DRAIN_SECONDS", DRAIN_SECONDS))

    def open_spider(self):
        if self.worker is not None:
            self.worker.start()

    async def close_spider(self):
        # Pages whose alerts could not be recorded (e.g. Elasticsearch was down for a
        # while) get one more try now; what still fails is logged and counted.
        failed, self._failed = self._failed, []
        for site, record, new_story, recrawl, carry in failed:
            self._observe(site, record, new_story, recrawl, carry, retry=True)
        try:
            summaries = self.recorder.flush()
        except Exception as exc:  # noqa: BLE001 - the scheduler's delivery job folds them later
            logger.error("alert summaries not queued now (the delivery job will): %s", exc)
            summaries = []
        if summaries:
            count(self.stats, "alert_summaries_queued", n=len(summaries))
        # Before the shared index closes (pipelines close before spider_closed fires);
        # in a thread, so the reactor is not blocked while the last alerts go out.
        if self.worker is None:
            return
        drain = min(self.drain_seconds, MAX_DRAIN_SECONDS)
        logger.info("alert delivery: sending what is due, for at most %g s", drain)
        await maybe_deferred_to_future(threads.deferToThread(self.worker.stop, drain))
        count(self.stats, "alert_deliveries_sent", n=self.worker.sent)
        if self.worker.cut_short:
            logger.warning("alert delivery: receivers still busy after %g s; what they did not "
                           "take stays queued for `newsmon alerts deliver`", drain)

    def process_item(self, item):
        assignment = item.assignment
        # (alert marks StoryPipeline could not carry to the story's new id: carried first)
        carry = (assignment.marks_to_carry, assignment.story_id) if assignment.marks_to_carry else None
        self._observe(item.site, item.record, assignment.new_story, assignment.match == "url", carry)
        return item

    def _observe(self, site: str, record, new_story: bool, recrawl: bool,
                 carry: tuple[str, str] | None = None, retry: bool = False) -> None:
        try:
            if carry is not None:
                carry_alert_marks(self.recorder.state, *carry)
                carry = None        # (done: a retry of the matching does not carry again)
            seen = self.recorder.observe(record, new_story=new_story, recrawl=recrawl)
        except Exception as exc:  # noqa: BLE001 - a broken watch or state write never stops the crawl
            if not retry and len(self._failed) < self.RETRY_LIMIT:
                self._failed.append((site, record, new_story, recrawl, carry))
                logger.warning("[%s] alert matching failed on %s (tried again at the end): %s",
                               site, record.url, exc)
                return
            count(self.stats, "errors/alert_record", site)
            logger.error("[%s] alerts for %s not recorded: %s", site, record.url, exc)
            return
        if seen.summarized:
            count(self.stats, "alerts_summarized", site, len(seen.summarized))
        if seen.to_digest:
            count(self.stats, "alerts_to_digest", site, len(seen.to_digest))
        if seen.alerts:
            count(self.stats, "alerts_queued", site, len(seen.alerts))
            for key in seen.alerts:
                logger.info("[%s] alert queued  %s", site, key)
            if self.worker is not None:
                self.worker.wake()
