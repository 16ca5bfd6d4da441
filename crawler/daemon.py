"""newsmon's scheduler daemon (``python scheduler.py`` = ``newsmon schedule``).

APScheduler 3.x with a persistent SQLAlchemy job store, so a job's next run
time survives restarts: a run that fell due while the scheduler was down runs
once when it comes back (coalesced), never several times and never silently
dropped. Jobs come from ``build_jobs`` (one crawl job per site from the sites
file; other features add builders to ``JOB_BUILDERS``). Each site's crawl runs in
one of a few crawl processes that serve many sites at once (``crawler/child.py``,
``crawler/crawlpool.py``) with a time limit; one crawl per site at a time, at most
``--max-crawls`` at once (``--sites-per-process`` each). Interval schedules run
at a stable phase per site, spread over the interval (``crawl_jobs``), plus jitter.

SIGTERM/SIGINT stop it cleanly (exit 0): no new runs start, running crawls are
asked to stop and their runs are recorded. The sites file is re-read when it
changes; a file that became unusable is reported (file, line, site, field) and
the previous schedule is kept.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import uniform
from typing import Callable

from monitor.clock import show
from crawler.jobs import JobSpec, alert_jobs, digest_jobs

logger = logging.getLogger("newsmon.scheduler")

DEFAULT_TIMEZONE = "Asia/Shanghai"      # = monitor.clock.DEFAULT_ZONE; NEWSMON_TZ overrides both
MAX_JITTER = 120.0          # seconds; 10% of the interval, at most this
CRAWL_JOB_PREFIX = "crawl:"


@dataclass
class SchedulerConfig:
    sites_file: str
    index_url: str | None = None
    jobstore_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    max_crawls: int = 100                # site crawls at once, all processes together
    sites_per_process: int = 50          # site crawls one crawl process serves at once (crawler/crawlpool.py)
    recycle_after: int = 500             # site runs before a crawl process is replaced by a fresh one
    time_limit: float = 3600.0           # seconds per crawl
    reload_every: float = 5.0            # seconds between checks of the sites file
    jitter: float | None = None          # seconds; None: 10% of the interval, at most MAX_JITTER
    stop_wait: float = 20.0              # seconds running crawls get to stop on shutdown

    def resolved_jobstore(self) -> str:
        """The job store's SQL URL: configured, else an SQLite file next to the SQLite index."""
        if self.jobstore_url:
            return self.jobstore_url
        index = self.index_url or os.environ.get("NEWSMON_INDEX") or "sqlite:///data/newsmon.db"
        if index.startswith("sqlite:///"):
            path = Path(index[len("sqlite:///"):])
            return "sqlite:///" + str(path.with_name(path.stem + "-scheduler.db"))
        return "sqlite:///data/newsmon-scheduler.db"


def crawl_jobs(config: SchedulerConfig, sites) -> list[JobSpec]:
    """One crawl job per site. A job's misfire grace is its whole period: after any
    downtime the latest missed time is less than a period ago, so it still runs once.

    Interval schedules run on a grid at a stable phase per site (a hash of its name,
    ``crawler.scheduling.phase_offset``): a thousand sites on "every 30m" fall due
    evenly over the 30 minutes, and a restart, even with a lost job store, keeps every
    site's phase. A site new to the job store runs at once if it was never crawled or
    its grid time after its last run has passed, else at that grid time. Cron
    schedules keep the times they name. The jitter is added to every run time."""
    from apscheduler.triggers.cron import CronTrigger

    from crawler.scheduling import first_run_time, last_run_starts, phase_offset, phased_trigger
    from crawler.sites import SitesFileError, parse_schedule

    specs = []
    now = datetime.now(timezone.utc)
    last_started = last_run_starts(config.index_url)
    for site in sites.sites:
        kind, value = parse_schedule(site.schedule)
        try:
            if kind == "interval":
                period = float(value)
                jitter = config.jitter if config.jitter is not None else min(period * 0.1, MAX_JITTER)
                trigger = phased_trigger(site.name, period, config.timezone, jitter)
                first = first_run_time(trigger, last_started.get(site.name), now)
                when = f"jitter {jitter:g}s, phase +{phase_offset(site.name, period):g}s"
            else:
                trigger = CronTrigger.from_crontab(value, timezone=config.timezone)
                first = trigger.get_next_fire_time(None, now)
                period = (trigger.get_next_fire_time(first, first + timedelta(seconds=1)) - first).total_seconds()
                jitter = config.jitter if config.jitter is not None else min(period * 0.1, MAX_JITTER)
                trigger.jitter = jitter or None
                first = now + timedelta(seconds=uniform(0, jitter))
                when = f"jitter {jitter:g}s"
        except ValueError as exc:
            raise SitesFileError(f"{sites.path}: site {site.name!r}: field 'schedule': "
                                 f"{site.schedule!r} is not a usable schedule: {exc}") from None
        specs.append(JobSpec(
            id=CRAWL_JOB_PREFIX + site.name, func="crawler.child:crawl_site", trigger=trigger,
            name=f"crawl {site.name} {site.schedule} ({config.timezone}, {when})",
            kwargs={"site": site.name, "sites_file": str(Path(sites.path).resolve()),
                    "index_url": config.index_url, "time_limit": config.time_limit, "period_s": period},
            executor="crawls", misfire_grace_time=int(period + jitter + 60), first_run=first))
    return specs


# Each builder returns the jobs of one feature; the scheduler keeps exactly these.
JOB_BUILDERS: list[Callable[[SchedulerConfig, object], list[JobSpec]]] = [crawl_jobs]
JOB_BUILDERS.append(alert_jobs)     # deliver queued alerts every minute; sites file watches: (crawler/jobs.py)
JOB_BUILDERS.append(digest_jobs)    # the daily digest at the sites file's digest: time (crawler/jobs.py)


def build_jobs(config: SchedulerConfig, sites) -> list[JobSpec]:
    from crawler.queue.dispatch import route_jobs       # NEWSMON_BROKER set: each job sends a task instead
    return route_jobs([spec for builder in JOB_BUILDERS for spec in builder(config, sites)])


def sync_jobs(scheduler, specs: list[JobSpec], index_url: str | None = None) -> None:
    """Make the job store hold exactly ``specs``. A job already stored with the same
    trigger keeps its next run time (that is what makes a missed run run after a
    restart); a changed trigger is rescheduled; jobs no longer built are removed."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    for spec in specs:
        job = stored.pop(spec.id, None)
        if job is None:
            extra = {"next_run_time": spec.first_run} if spec.first_run else {}
            scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.name, kwargs=spec.kwargs,
                              executor=spec.executor, misfire_grace_time=spec.misfire_grace_time,
                              max_instances=spec.max_instances, coalesce=True, **extra)
            logger.info("job added: %s", spec.name)
            continue
        if job.name != spec.name:
            scheduler.reschedule_job(spec.id, trigger=spec.trigger)
            logger.info("job rescheduled: %s (was: %s)", spec.name, job.name)
        scheduler.modify_job(spec.id, func=spec.func, name=spec.name, kwargs=spec.kwargs, executor=spec.executor,
                             misfire_grace_time=spec.misfire_grace_time, max_instances=spec.max_instances,
                             coalesce=True)
    for job in stored.values():
        scheduler.remove_job(job.id)
        logger.info("job removed: %s", job.name)
        if job.id.startswith(CRAWL_JOB_PREFIX):
            from index.runs import retire_site
            retire_site(index_url, job.id[len(CRAWL_JOB_PREFIX):])


def make_scheduler(config: SchedulerConfig):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from crawler.scheduling import CrawlExecutor, RunRecorder, watch_events

    jobstore = SQLAlchemyJobStore(url=config.resolved_jobstore())
    executors = {"crawls": CrawlExecutor(config.max_crawls), "default": ThreadPoolExecutor(4)}
    scheduler = BackgroundScheduler(
        jobstores={"default": jobstore}, executors=executors,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=config.timezone)
    recorder = RunRecorder(config.index_url)
    watch_events(scheduler, recorder)
    return scheduler, executors, jobstore, recorder


def run_scheduler(config: SchedulerConfig, stop: threading.Event) -> int:
    """Run until ``stop`` is set; 0 after a clean stop, 2 for an unusable sites file,
    index or job store (checked before anything runs)."""
    from sqlalchemy.exc import SQLAlchemyError

    from crawler.child import RUNNING
    from crawler.scheduling import SitesFileWatcher

    processes = -(-config.max_crawls // config.sites_per_process)
    RUNNING.configure(processes, min(config.sites_per_process, config.max_crawls), config.recycle_after)
    from crawler.sites import SitesFileError
    from index import IndexURLError, StorageError, open_index

    watcher = SitesFileWatcher(config.sites_file)
    try:
        sites = watcher.load()
        from crawler.queue.settings import check_shared_index
        check_shared_index(config.index_url)        # with a broker, SQLite is refused (one line), before
        specs = build_jobs(config, sites)           # the run history is read (that would create the file)
        open_index(config.index_url).close()
    except (SitesFileError, IndexURLError, StorageError) as exc:   # (a read-only index: one line)
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    from crawler.queue.leader import lead
    leadership = lead(stop)       # with a broker: one scheduler leads, a second one says so and waits
    if leadership is None:
        return 0
    store_url = config.resolved_jobstore()
    try:
        if store_url.startswith("sqlite:///"):
            Path(store_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        scheduler, executors, jobstore, recorder = make_scheduler(config)
        scheduler.start(paused=True)          # jobs in sync before anything fires
        sync_jobs(scheduler, specs, config.index_url)
    except ImportError as exc:
        print(f"Error: cannot use the job store {store_url}: {exc} (install its database driver)", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as exc:
        print(f"Error: cannot use the job store {store_url}: {exc}", file=sys.stderr)
        return 2
    try:
        logger.info("scheduler running: %d jobs, at most %d crawls at once in %d crawl processes, "
                    "jobs in %s (time zone %s)", len(specs), config.max_crawls, RUNNING.processes,
                    config.resolved_jobstore(), config.timezone)
        for job in scheduler.get_jobs():        # the plan, listed before a due job can fire and move on
            logger.info("  %s: next run %s", job.name, show(job.next_run_time))
        scheduler.resume()
        while not stop.wait(config.reload_every):
            try:
                changed = watcher.changed()
                if changed is None:
                    continue
                sync_jobs(scheduler, build_jobs(config, changed), config.index_url)
                logger.info("sites file %s reloaded: %d sites", config.sites_file, len(changed.sites))
            except SitesFileError as exc:
                logger.error("sites file changed but cannot be used, keeping the previous schedule: %s", exc)
    finally:
        logger.info("stopping: no new runs; %d crawl processes running", RUNNING.count())
        scheduler.pause()
        RUNNING.stop_all(config.stop_wait)
        # Wait for the job threads (they record the stopped runs), then close the job store.
        # Not scheduler.shutdown(): its loop makes one more pass after the state turns
        # "stopped", submits due jobs to the closed executors and still advances their next
        # run times, so those runs would be lost without a trace. Paused, the (daemon) loop
        # thread does nothing until the process exits.
        for executor in executors.values():
            executor.shutdown(wait=True)
        recorder.close()
        leadership.release()
        jobstore.shutdown()
        logger.info("scheduler stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    from crawler.logsetup import configure_logging
    from monitor.clock import zone_name

    parser = argparse.ArgumentParser(prog="newsmon schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default="sites.yaml", help="sites file (YAML); re-read when it changes")
    parser.add_argument("--index", default=os.environ.get("NEWSMON_INDEX"), help="index URL")
    parser.add_argument("--jobstore", default=os.environ.get("NEWSMON_SCHEDULER_DB"),
                        help="SQL URL of the job store (default: an SQLite file next to the SQLite index)")
    parser.add_argument("--timezone", default=(os.environ.get("NEWSMON_TZ") or "").strip()
                        or os.environ.get("NEWSMON_TIMEZONE") or zone_name(),
                        help="time zone of cron schedules (default NEWSMON_TZ, else %(default)s)")
    parser.add_argument("--max-crawls", type=int, default=100,
                        help="site crawls running at once, all crawl processes together (default 100)")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="seconds per crawl (default 3600)")
    parser.add_argument("--jitter", type=float, default=None,
                        help=f"seconds of random delay per run (default 10%% of the interval, at most {MAX_JITTER:g})")
    parser.add_argument("--reload-every", type=float, default=5.0, help="seconds between sites file checks")
    parser.add_argument("--sites-per-process", type=int, default=50,
                        help="site crawls one crawl process runs at once (default 50; processes = "
                             "max-crawls / this, rounded up)")
    parser.add_argument("--recycle-after", type=int, default=500,
                        help="site runs after which a crawl process is replaced by a fresh one (default 500)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show APScheduler's and Scrapy's logs")
    args = parser.parse_args(argv)
    # The daemon's log carries dates, in the users' time zone (NEWSMON_TZ) like every time shown.
    configure_logging(args.verbose, datefmt="%Y-%m-%d %H:%M:%S")
    if not args.verbose:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for name in ("max_crawls", "sites_per_process", "recycle_after"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(args.timezone)
    except (KeyError, ValueError):
        parser.error(f"--timezone: unknown time zone {args.timezone!r} (e.g. Asia/Shanghai, UTC)")
    from pipelines.requirements import MissingExtractor, check_extractors
    try:
        check_extractors()      # every crawl would extract worse text, or none
    except MissingExtractor as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    config = SchedulerConfig(sites_file=args.sites, index_url=args.index, jobstore_url=args.jobstore,
                             timezone=args.timezone, max_crawls=args.max_crawls, time_limit=args.time_limit,
                             sites_per_process=args.sites_per_process, recycle_after=args.recycle_after,
                             jitter=args.jitter, reload_every=args.reload_every)
    stop = threading.Event()

    def on_signal(signum, _frame):
        logger.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return run_scheduler(config, stop)


if __name__ == "__main__":
    sys.exit(main())
