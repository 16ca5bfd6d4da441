"""The scheduler's side: with a broker, a due job sends a task instead of doing the work.

``route_jobs`` swaps the functions of the crawl, alert and digest jobs for the
``enqueue_*`` functions below (same arguments), so APScheduler still decides what
is due, once, on the one scheduler. A broker that cannot be reached costs no due
run without a trace: the run is recorded as missed, with the reason, and the
next due time tries again. A run that was queued is remembered (``ledger.py``),
so a broker that later loses it cannot lose it silently either.
"""
from __future__ import annotations

import dataclasses
import logging

from index.runs import MISSED, iso, record_failure, utc_now
from monitor.clock import show
from monitor.task_queue import safe_url  # noqa: F401 - logs name the broker without its password

from crawler.queue import broker_url

logger = logging.getLogger("newsmon.scheduler")

_QUEUED = {
    "crawler.child:crawl_site": "crawler.queue.dispatch:enqueue_crawl",
    "monitor.alerts:deliver_pending_job": "crawler.queue.dispatch:enqueue_alert_delivery",
    "monitor.digest:daily_digest_job": "crawler.queue.dispatch:enqueue_digest",
}
SEND_RETRY = {"max_retries": 3, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 2.0}


def route_jobs(specs: list) -> list:
    """The scheduler's job specs, sent to the queue when a broker is configured."""
    if not broker_url():
        return specs
    return [dataclasses.replace(spec, func=_QUEUED.get(spec.func, spec.func)) for spec in specs]


def site_entry(site) -> dict:
    """A ``SiteConfig`` as a sites-file entry, for a worker that has no sites file."""
    from crawler import sites as sites_module
    known = getattr(sites_module, "_KNOWN_FIELDS", None)
    entry = {}
    for key, value in dataclasses.asdict(site).items():
        if value is None or value == () or value == {} or (known is not None and key not in known):
            continue
        entry[key] = list(value) if isinstance(value, tuple) else value
    return entry


def send(name: str, kwargs: dict, task_id: str | None = None) -> None:
    """Put one task on the queue; raises when the broker cannot take it after a few tries."""
    from crawler.queue.app import get_app
    # The URL named: get_app caches per argument, and a bare get_app() keeps the first broker it saw.
    get_app(broker_url()).send_task(name, kwargs=kwargs, task_id=task_id, retry=True, retry_policy=SEND_RETRY)


def enqueue_crawl(site: str, sites_file: str, index_url: str | None = None, time_limit: float = 3600.0,
                  period_s: float | None = None, **_local) -> str:
    """The crawl job with a broker: one task for this due run of ``site`` (``_local``: what
    only the local crawl processes use)."""
    from crawler.queue.settings import CRAWL_TASK
    from crawler.scheduling import current_run
    from crawler.sites import SitesFileError, load_sites

    run = current_run()
    run.period_s = run.period_s or period_s
    try:
        config = site_entry(load_sites(sites_file).select([site])[0])
        task = {"site": site, "config": config, "index_url": index_url, "time_limit": time_limit,
                "run": dataclasses.asdict(run)}
        send(CRAWL_TASK, task, task_id=run.run_id)
    except SitesFileError as exc:
        logger.error("[%s] 运行 %s 未派发：站点文件不可用：%s", site, run.run_id, exc)
        record_failure(index_url, site, run, MISSED, f"not queued: sites file unusable: {exc}")
        return MISSED
    except Exception as exc:  # noqa: BLE001 - any broker failure: recorded, never the scheduler's crash
        logger.error("[%s] 运行 %s（应于 %s）未派发：任务队列 %s 不可达：%s", site, run.run_id,
                     show(run.scheduled_for), safe_url(broker_url()), exc)
        record_failure(index_url, site, run, MISSED, f"not queued: broker unreachable: {exc}")
        return MISSED
    logger.info("[%s] run %s queued (scheduled for %s)", site, run.run_id, show(run.scheduled_for))
    from crawler.queue.ledger import LEDGER
    LEDGER.remember(index_url, CRAWL_TASK, run.run_id, task)    # a Redis that loses its data cannot lose it silently
    return "queued"


def enqueue_alert_delivery(**job_kwargs) -> str:
    """The alert delivery job with a broker: its arguments go in the task as they are."""
    from crawler.queue.settings import ALERTS_TASK
    return _send_job(ALERTS_TASK, {"job": job_kwargs}, "alert delivery")


def enqueue_digest(**job_kwargs) -> str:
    """The digest job with a broker; ``due`` (the day) makes a second delivery a no-op."""
    from crawler.queue.settings import DIGEST_TASK
    from crawler.scheduling import current_run
    due = current_run().scheduled_for or iso(utc_now())[:10]
    task, task_id = {"job": job_kwargs, "due": due}, f"digest-{due}"
    sent = _send_job(DIGEST_TASK, task, "digest", task_id=task_id)
    if sent == "queued":
        from crawler.queue.ledger import LEDGER
        LEDGER.remember(job_kwargs.get("index_url"), DIGEST_TASK, task_id, task)
    return sent


def _send_job(name: str, kwargs: dict, what: str, task_id: str | None = None) -> str:
    try:
        send(name, kwargs, task_id=task_id)
    except Exception as exc:  # noqa: BLE001 - the next due time sends it again
        logger.error("%s 未派发：任务队列 %s 不可达：%s（下次到期时再试）", what, safe_url(broker_url()), exc)
        return "not queued"
    return "queued"
