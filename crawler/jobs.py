"""The scheduler's jobs: ``JobSpec``, and the alert and digest builders for
``crawler.daemon.JOB_BUILDERS``.

Each builder takes the scheduler's config and the loaded sites file and returns
``JobSpec``s naming library functions (``"module:function"``, so APScheduler's
persistent job store can keep them). They run again whenever the sites file
changes; a bad ``watches:`` or ``digest:`` section raises ``SitesFileError`` (file,
line, field), and the scheduler keeps the previous schedule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DELIVERY_INTERVAL = 60     # seconds between runs of the alert delivery job


@dataclass
class JobSpec:
    """One job the scheduler keeps: what to call, when, and how."""

    id: str
    func: str                          # "module:function", so the persistent store can name it
    trigger: object                    # an APScheduler trigger
    name: str                          # says what and when; a changed name means a changed trigger
    kwargs: dict = field(default_factory=dict)
    executor: str = "default"
    misfire_grace_time: int | None = 3600
    max_instances: int = 1
    first_run: datetime | None = None  # for a job new to the store; None: the trigger decides


def alert_jobs(config, sites) -> list:
    """Load the sites file's ``watches:`` into the index, and deliver queued alerts
    every minute (what the crawls could not send, and retries coming due)."""
    from apscheduler.triggers.interval import IntervalTrigger

    from crawler.sites import SitesFileError
    from index import open_index
    from monitor.watches import WatchError, WatchStore, watches_from_config

    try:
        watches = watches_from_config(sites.watches, sites.path, sites.watch_lines)
    except WatchError as exc:
        raise SitesFileError(str(exc)) from None
    if watches:
        with open_index(config.index_url) as index:
            WatchStore(index).sync(watches)
    return [JobSpec(id="alerts:deliver", func="monitor.alerts:deliver_pending_job",
                    trigger=IntervalTrigger(seconds=DELIVERY_INTERVAL),
                    name=f"deliver queued alerts every {DELIVERY_INTERVAL}s",
                    kwargs={"index_url": config.index_url}, misfire_grace_time=DELIVERY_INTERVAL)]


def digest_jobs(config, sites) -> list:
    """The daily digest at the sites file's ``digest: {time, timezone}`` (08:00 Asia/Shanghai)."""
    from apscheduler.triggers.cron import CronTrigger

    from crawler.sites import SitesFileError
    from monitor.digest import DigestConfigError, DigestSettings

    try:
        settings = DigestSettings.from_config(sites.digest, f"{sites.path}: digest")
    except DigestConfigError as exc:
        raise SitesFileError(str(exc)) from None
    at = settings.at()
    return [JobSpec(id="digest:daily", func="monitor.digest:daily_digest_job",
                    trigger=CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.timezone),
                    name=f"daily digest at {settings.time} {settings.timezone}",
                    kwargs={"index_url": config.index_url, "digest": dict(sites.digest or {}),
                            "source": f"{Path(sites.path).resolve()}: digest",
                            "titles": {site.name: site.title for site in sites.sites if site.title}},
                    misfire_grace_time=6 * 3600)]
