"""Scheduler parts that are not the daemon loop: the crawl executor (which tells a
run what schedule time it serves and how many missed times it folds in), the
event log (missed runs are never silent), and the sites-file watcher."""
from __future__ import annotations

import hashlib
import logging
import queue
import threading
from datetime import datetime, timezone
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor

from index.runs import MISSED, SKIPPED, RunInfo, iso
from monitor.clock import show

logger = logging.getLogger("newsmon.scheduler")
_current = threading.local()


def current_run() -> RunInfo:
    """The run a scheduled job is serving (set by ``CrawlExecutor`` for its thread)."""
    return getattr(_current, "run", None) or RunInfo(trigger="scheduled")


class CrawlExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, sized to the global cap on concurrent crawls.

    Before handing a job to a thread it counts the run times that fell due (the
    scheduler passes only the last one when coalescing), so the run history
    says "scheduled for 10:30, 3 missed runs folded in" rather than nothing."""

    def _do_submit_job(self, job, run_times):
        due = len(job._get_run_times(datetime.now(timezone.utc))) or len(run_times)
        info = RunInfo(trigger="scheduled", scheduled_for=iso(run_times[-1]),
                       coalesced=max(0, due - len(run_times)))

        def run_with_context(*args):
            _current.run = info
            try:
                return run_job(*args)
            finally:
                _current.run = None

        def callback(future):
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(run_with_context, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(callback)


class RunRecorder:
    """Writes the scheduler's own run records (skipped, missed) from a thread of its own,
    so a busy index never holds up the scheduler's loop."""

    def __init__(self, index_url: str | None):
        self.index_url = index_url
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="newsmon-run-recorder", daemon=True)
        self._thread.start()

    def record(self, site: str, scheduled_for: datetime, status: str, message: str,
               period_s: float | None = None) -> None:
        info = RunInfo(trigger="scheduled", scheduled_for=iso(scheduled_for), period_s=period_s)
        self._queue.put((site, info, status, message))

    def _loop(self) -> None:
        from index.runs import record_failure
        while (item := self._queue.get()) is not None:
            site, info, status, message = item
            record_failure(self.index_url, site, info, status, message)

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)


def watch_events(scheduler, recorder: RunRecorder) -> None:
    """Log what would otherwise pass unnoticed, and record missed crawls in the run history."""

    def record(job, when, status, message):
        if job is not None and job.id.startswith("crawl:"):
            recorder.record(job.kwargs["site"], when, status, message, job.kwargs.get("period_s"))

    def on_event(event):
        job = scheduler.get_job(event.job_id)
        name = job.name if job else event.job_id
        if event.code == EVENT_JOB_MISSED:
            logger.error("run of %s scheduled for %s was missed (later than its grace time)",
                         name, show(event.scheduled_run_time))
            record(job, event.scheduled_run_time, MISSED, "the scheduler could not start this run in its grace time")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            logger.warning("%s: the previous run is still going, so the run due now is skipped", name)
            record(job, event.scheduled_run_times[-1], SKIPPED, "the previous run of this site was still going")
        elif event.code == EVENT_JOB_ERROR:
            logger.error("job %s failed: %s", name, event.exception)

    scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)


class SitesFileWatcher:
    """Notices when the sites file's content changed (mtime first, then a hash)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._mtime: float | None = None
        self._digest: str | None = None

    def load(self):
        from crawler.sites import SitesFileError, parse_sites, read_sites_file
        try:
            # mtime first: a file refused (too big, bad YAML) is not read again until it changes
            self._mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            raise SitesFileError(f"{self.path}: sites file not found") from None
        except OSError as exc:
            raise SitesFileError(f"{self.path}: cannot read sites file: {exc}") from None
        raw = read_sites_file(self.path)          # refuses an oversized file before reading it whole
        self._digest = hashlib.sha1(raw).hexdigest()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SitesFileError(f"{self.path}: cannot read sites file: {exc}") from None
        sites = parse_sites(text, str(self.path))
        # A paused site (``paused: true``, set in the web UI) stays in the file, unscheduled.
        sites.sites = [site for site in sites.sites if not site.paused]
        return sites

    def changed(self):
        """The new sites file if its content changed since the last load, else None.
        Raises ``SitesFileError`` for a changed file that cannot be used."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return None            # being replaced (editors write a new file and rename it)
        if mtime == self._mtime:
            return None
        before = self._digest
        sites = self.load()
        return sites if self._digest != before else None
