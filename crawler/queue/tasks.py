"""What a worker does with each task: one site's run, alert delivery, the daily digest.

A site's run goes the way the scheduler's local runs go: to a long-lived crawl
process of a pool (``crawler/crawlpool.py``, ``crawler.child --serve``, many sites
per process), which crawls and records the run. Two differences: the site's
configuration comes in the task (the worker's machine has no sites file) and is
written into the worker's own folder for the run, and the crawl processes are tied
to the worker's life (``PR_SET_PDEATHSIG``), so a worker killed with SIGKILL leaves
no crawl behind to race the run's second delivery. A fresh process per task cost
~3 s of CPU to start, most of a small site's run (benchmarks/workers).
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import yaml

from crawler.crawlpool import CrawlPool
from index.runs import CRASHED, RUN_KIND, SKIPPED, RunInfo, iso, record_failure, run_key, utc_now

logger = logging.getLogger("newsmon.worker")

# This worker's crawl processes, tied to its life; ``newsmon worker`` sizes it (--crawls,
# --sites-per-process) before Celery's task threads start.
CRAWLS = CrawlPool(processes=1, sites_per_process=1, die_with_parent=True)


def worker_dir() -> Path:
    """The worker's own folder (sites of the runs it serves): ``NEWSMON_WORKER_DIR`` or ``data/worker``."""
    return Path(os.environ.get("NEWSMON_WORKER_DIR") or "data/worker")


def _client(task):
    from crawler.queue.locks import redis_client
    return redis_client(task.app.conf.broker_url)


def _worker_name(task) -> str:
    return task.request.hostname or os.uname().nodename


def _index(index_url: str | None) -> str | None:
    """The worker's own index setting wins: the scheduler's URL may name a host only it can reach."""
    return os.environ.get("NEWSMON_INDEX") or index_url


def crawl_site_task(task, site: str, config: dict, index_url: str | None, time_limit: float, run: dict) -> str:
    """One run of one site, at most once at a time per site and once in all."""
    from crawler.queue.settings import crawl_limit
    from crawler.queue.locks import RedisLock, is_done, lock_ttl, mark_done, note_try

    info, index_url, worker = RunInfo(**run), _index(index_url), _worker_name(task)
    client = _client(task)
    done_by = is_done(client, info.run_id)
    if done_by:
        logger.warning("[%s] 运行 %s 已由 %s 完成，忽略重复投递", site, info.run_id, done_by)
        return "duplicate"
    lock = RedisLock(client, "site:" + site, f"{info.run_id}@{worker}")
    if not lock.acquire():
        holder = lock.holder() or ""
        if holder.startswith(info.run_id + "@"):
            # This very run, delivered twice: wait for its holder to finish (then it is done)
            # or to die (then its lock lapses and this delivery runs it).
            raise task.retry(countdown=lock_ttl(), max_retries=None)
        logger.warning("[%s] 运行 %s 跳过：该站点的上一次运行（%s）仍在进行", site, info.run_id, holder)
        record_failure(index_url, site, info, SKIPPED, f"the previous run of this site was still going ({holder})")
        mark_done(client, info.run_id, worker)
        return SKIPPED
    try:
        try:
            earlier = note_try(client, info.run_id, worker, iso(utc_now()))
        except Exception as exc:  # noqa: BLE001 - Redis blinked: the run goes on, unannotated
            logger.warning("[%s] 运行 %s 的尝试未能登记：%s", site, info.run_id, exc)
            earlier = []
        if earlier:
            logger.warning("[%s] 运行 %s 重新执行：此前在 %s 上开始的尝试没有完成（worker 中断或失联）", site,
                           info.run_id, "、".join(t["worker"] for t in earlier))
        try:
            status = run_site(site, config, index_url, crawl_limit(time_limit), info, earlier)
        except Exception as exc:  # noqa: BLE001 - e.g. the worker's folder unwritable: a run record, not a lost run
            logger.exception("[%s] 运行 %s 无法开始", site, info.run_id)
            status = record_failure(index_url, site, info, CRASHED, f"the worker could not start the crawl: {exc}")["status"]
            note_earlier_tries(index_url, site, info, earlier)
        mark_done(client, info.run_id, worker)
        return status
    finally:
        lock.release()


def run_site(site: str, config: dict, index_url: str | None, time_limit: float, info: RunInfo,
             earlier: list[dict] | None = None) -> str:
    """Crawl ``site`` in this worker's crawl pool; its run status. Never raises for a
    failed crawl: every outcome is a run in the history (``earlier``: the tries of this run
    that died before, which its record names)."""
    from crawler.child import run_in_pool
    from crawler.queue.settings import run_margin

    folder = worker_dir() / "sites"
    folder.mkdir(parents=True, exist_ok=True)
    sites_file = folder / f"{info.run_id}.yaml"
    sites_file.write_text(yaml.safe_dump({"sites": [config]}, allow_unicode=True), encoding="utf-8")
    logger.info("[%s] 运行 %s 开始（时限 %.0f 秒）", site, info.run_id, time_limit)
    started = time.monotonic()
    try:
        # The hard stop and the record fit in the run margin, below the visibility timeout.
        status = run_in_pool(CRAWLS, site, str(sites_file), index_url, time_limit, info,
                             grace=run_margin() / 2, stop_wait=run_margin() / 4, reopen_index=True)
    finally:
        sites_file.unlink(missing_ok=True)
    logger.info("[%s] 运行 %s 结束，用时 %.1f 秒：%s", site, info.run_id, time.monotonic() - started, status)
    note_earlier_tries(index_url, site, info, earlier)
    return status


def note_earlier_tries(index_url: str | None, site: str, info: RunInfo, earlier: list[dict] | None) -> None:
    """A redone run's record names the tries that died before it (``earlier_tries``:
    worker and start of each), so whoever reads the history sees them."""
    if not earlier:
        return
    from index import open_index
    try:
        with open_index(index_url) as index:
            key = run_key(site, info.started, info.run_id)
            doc = index.state.get(RUN_KIND, key)
            if doc is not None:
                index.state.put(RUN_KIND, key, {**doc, "earlier_tries": earlier})
    except Exception as exc:  # noqa: BLE001 - the run itself is recorded; only this note is missing
        logger.warning("[%s] 运行 %s 的记录未能注明此前中断的尝试：%s", site, info.run_id, exc)


def _job_kwargs(job: dict) -> dict:
    """The scheduler job's own arguments, with this worker's index."""
    return {**job, "index_url": _index(job.get("index_url"))}


def deliver_alerts_task(task, job: dict) -> str:
    """Queued alerts, delivered by one worker at a time (two at once could send one twice)."""
    from crawler.queue.locks import RedisLock
    from monitor.alerts import deliver_pending_job

    lock = RedisLock(_client(task), "alerts", _worker_name(task))
    if not lock.acquire():
        return "busy"       # another worker is delivering; the next minute's task follows it
    try:
        return deliver_pending_job(**_job_kwargs(job))
    finally:
        lock.release()


def daily_digest_task(task, job: dict, due: str) -> str:
    """The digest due at ``due``, sent once however often the task is delivered."""
    from crawler.queue.locks import RedisLock, is_done, mark_done
    from monitor.digest import daily_digest_job

    client, worker = _client(task), _worker_name(task)
    name = "digest:" + due
    if is_done(client, name):
        return "duplicate"
    lock = RedisLock(client, "digest", worker)
    if not lock.acquire():
        raise task.retry(countdown=10, max_retries=None)     # another worker is sending it now
    try:
        if is_done(client, name):
            return "duplicate"
        sent = daily_digest_job(**_job_kwargs(job))
        mark_done(client, name, worker)
        return f"{len(sent)} digests"
    finally:
        lock.release()
