"""Scheduler parts that are not the daemon loop: the phased interval trigger (each
site's runs at a stable offset of its own), the crawl executor (which tells a run
what schedule time it serves and how many missed times it folds in), the event
log (missed runs are never silent), and the sites-file watcher."""
from __future__ import annotations

import hashlib
import logging
import queue
import random
import threading
from datetime import datetime, timedelta, timezone
from math import ceil, floor
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.interval import IntervalTrigger

from index.runs import MISSED, SITE_KIND, SKIPPED, RunInfo, iso
from monitor.clock import show

logger = logging.getLogger("newsmon.scheduler")
_current = threading.local()
PHASE_ANCHOR = datetime(2000, 1, 1, tzinfo=timezone.utc)


def phase_offset(name: str, period: float) -> float:
    """A site's stable offset in its interval (whole seconds), from a hash of its name:
    a thousand sites on "every 30m" fall due evenly over the 30 minutes, not together,
    and the same offsets come back after a restart or a lost job store (Jenkins' ``H``)."""
    digest = int.from_bytes(hashlib.sha1(name.encode("utf-8")).digest()[:8], "big")
    return float(digest % max(1, int(period)))


class PhasedIntervalTrigger(IntervalTrigger):
    """An interval trigger whose times sit on a fixed grid: ``start_date`` (anchor +
    the site's phase) + k x interval, whatever time a run actually started.

    APScheduler's own interval trigger counts from the previous run time, so a first
    run off the grid (a new site crawled at once) would carry on into all later runs,
    and each run's jitter would add up (the phase drifting by jitter/2 a run). Here a
    run on the grid (at most the jitter after a grid time) is followed by the next
    grid time; a run off the grid by the first grid time at least one interval later,
    so a site returns to its phase and is never crawled twice within an interval."""

    __slots__ = ()

    def _grid(self, moment: float, up: bool) -> float:
        start, step = self.start_date.timestamp(), self.interval_length
        k = (moment - start) / step
        return start + (ceil(k) if up else floor(k)) * step

    def next_after_run(self, previous: datetime) -> datetime:
        """The grid time due after a run scheduled (or started) at ``previous``, without jitter."""
        moment = previous.timestamp()
        below = self._grid(moment, up=False)
        if moment - below <= (self.jitter or 0) + 1e-3:
            due = below + self.interval_length
        else:
            due = self._grid(moment + self.interval_length, up=True)
        return datetime.fromtimestamp(due, tz=self.timezone)

    def get_next_fire_time(self, previous_fire_time, now):
        if previous_fire_time:
            moment = self.next_after_run(previous_fire_time).timestamp()
        else:
            moment = self._grid(now.timestamp(), up=True)
        if self.jitter:
            moment += random.uniform(0, self.jitter)
        if not self.end_date or moment <= self.end_date.timestamp():
            return datetime.fromtimestamp(moment, tz=self.timezone)
        return None


def phased_trigger(name: str, period: float, zone: str, jitter: float) -> PhasedIntervalTrigger:
    start = PHASE_ANCHOR + timedelta(seconds=phase_offset(name, period))
    return PhasedIntervalTrigger(seconds=period, start_date=start, timezone=zone, jitter=jitter or None)


def first_run_time(trigger: PhasedIntervalTrigger, last_started: datetime | None, now: datetime) -> datetime:
    """When a job new to the job store first runs. A site never crawled, or whose grid
    time after its last run has passed (overdue by its run history), runs now (plus
    the jitter); a site crawled recently waits for its grid time, as if the job store
    had been there all along."""
    if last_started is not None:
        due = trigger.next_after_run(last_started)
        if due > now:
            return due + timedelta(seconds=random.uniform(0, trigger.jitter or 0))
    return now + timedelta(seconds=random.uniform(0, trigger.jitter or 0))


def last_run_starts(index_url: str | None) -> dict[str, datetime]:
    """Each site's last run start from the run history; empty if the index cannot be read
    (every site then counts as never crawled and runs at once: nothing is left waiting)."""
    from index import open_index
    try:
        with open_index(index_url) as index:
            return {site: datetime.fromisoformat(totals["last_run"]["started"])
                    for site, totals in index.state.scan(SITE_KIND) if (totals or {}).get("last_run")}
    except Exception as exc:  # noqa: BLE001 - only the first run's timing depends on it
        logger.warning("cannot read the run history for the first run times (%s): new jobs run at once", exc)
        return {}


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
