"""The scheduler's own record of the site runs it queued, so that none is lost without a trace.

A Redis that restarts without its data (no append-only file, a lost disk, a
FLUSHALL) forgets the tasks waiting in it and those in its workers' hands. So
the scheduler writes each run it queues into the index (state kind
``queued_run``, key = run id) and, while it leads, looks at them every
``NEWSMON_QUEUE_CHECK`` seconds (default 30), when the broker answers:

1. a run that left its run record, or was marked done, is over: its entry goes;
2. a run still in the queue, in a worker's hands (kombu's ``unacked`` hash) or
   holding its site's lock is on its way;
3. a run found nowhere on two checks at least a site-lock lifetime apart (a
   live worker renews its lock sooner) was lost. While its period lasts it is
   queued again under the same run id and runs late (at most ``MAX_REQUEUES``
   times); after that it is recorded missed, with the reason.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime

from index.runs import MISSED, RUN_KIND, RunInfo, iso, record_failure, run_key, utc_now
from monitor.clock import show
from monitor.task_queue import UNACKED_KEY, queue_keys

logger = logging.getLogger("newsmon.scheduler")

KIND = "queued_run"
MAX_REQUEUES = 3
DEFAULT_CHECK = 30.0
FALLBACK_PERIOD = 3600.0     # s a lost run may still run late when its schedule's period is unknown


def check_every() -> float:
    from crawler.queue.watch import env_seconds
    return env_seconds("NEWSMON_QUEUE_CHECK", DEFAULT_CHECK)


class QueuedRuns:
    """The runs this scheduler queued, per index, and the ones found missing so far."""

    def __init__(self):
        self.index_urls: set[str | None] = set()
        self.absent: dict[str, float] = {}       # run id -> when it was first found nowhere (monotonic)
        self.last_check = 0.0
        self._lock = threading.Lock()

    def watch_index(self, index_url: str | None) -> None:
        """Check the runs remembered in this index (also those a previous scheduler queued)."""
        url = index_url or os.environ.get("NEWSMON_INDEX") or None
        if url:
            with self._lock:
                self.index_urls.add(url)

    def remember(self, index_url: str | None, task: dict) -> None:
        """Note a crawl task just sent (its kwargs: site, config, index_url, time_limit, run)."""
        from index import open_index
        self.watch_index(index_url)
        run_id = task["run"]["run_id"]
        try:
            with open_index(index_url) as index:
                index.state.put(KIND, run_id, {"task": task, "queued": iso(utc_now()), "requeues": 0})
        except Exception as exc:  # noqa: BLE001 - the run is queued; only its loss would go unnoticed
            logger.warning("[%s] 运行 %s 已派发，但未能记入调度器的派发记录：%s", task["site"], run_id, exc)

    def check(self, client, send) -> None:
        """Look at every remembered run once (rate-limited to ``NEWSMON_QUEUE_CHECK``); ``send``
        puts a lost run back on the queue (``dispatch.send``)."""
        now = time.monotonic()
        if now - self.last_check < check_every():
            return
        self.last_check = now
        with self._lock:
            urls = list(self.index_urls)
        for index_url in urls:
            self._check_index(client, send, index_url)

    def _check_index(self, client, send, index_url: str | None) -> None:
        from crawler.queue.locks import is_done, lock_ttl
        from index import open_index

        grace = lock_ttl() + 2 * check_every()
        with open_index(index_url) as index:
            entries = index.state.scan(KIND)
            if not entries:
                return
            present = on_the_way(client, [(run_id, doc["task"]["site"]) for run_id, doc in entries])
            for run_id, doc in entries:
                task = doc["task"]
                info = RunInfo(**task["run"])
                if run_id in present:
                    self.absent.pop(run_id, None)
                    continue
                if is_done(client, run_id) or index.state.get(RUN_KIND, run_key(task["site"], info.started, run_id)):
                    index.state.delete(KIND, run_id)
                    self.absent.pop(run_id, None)
                    continue
                first = self.absent.setdefault(run_id, time.monotonic())
                if time.monotonic() - first < grace:
                    continue
                self.absent.pop(run_id, None)
                self._lost(index, send, index_url, run_id, doc, info)

    def _lost(self, index, send, index_url: str | None, run_id: str, doc: dict, info: RunInfo) -> None:
        from crawler.queue.settings import CRAWL_TASK

        task, site = doc["task"], doc["task"]["site"]
        due = info.scheduled_for or info.started
        age = (utc_now() - datetime.fromisoformat(due)).total_seconds()
        if age < (info.period_s or FALLBACK_PERIOD) and doc.get("requeues", 0) < MAX_REQUEUES:
            send(CRAWL_TASK, task, task_id=run_id)
            index.state.put(KIND, run_id, {**doc, "requeues": doc.get("requeues", 0) + 1})
            logger.warning("[%s] 运行 %s（应于 %s）已不在任务队列中，也没有 worker 在运行它（Redis 重启时丢失了数据？）："
                           "已重新派发，将迟到运行", site, run_id, show(due))
            return
        logger.error("[%s] 运行 %s（应于 %s）已不在任务队列中，也没有 worker 在运行它（Redis 重启时丢失了数据？）："
                     "已过了它的周期，记为错过", site, run_id, show(due))
        record_failure(index_url, site, info, MISSED,
                       "lost from the task queue (the broker restarted without its data) and not run in its period")
        index.state.delete(KIND, run_id)


def on_the_way(client, runs: list[tuple[str, str]]) -> set[str]:
    """Which of ``runs`` (run id, site) are waiting in the queue, in a worker's hands or
    holding their site's lock."""
    from crawler.queue.locks import KEY_PREFIX
    wanted = {run_id for run_id, _site in runs}
    keys = queue_keys()
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.lrange(key, 0, -1)
        pipe.hvals(UNACKED_KEY)
        for _run_id, site in runs:
            pipe.get(KEY_PREFIX + "lock:site:" + site)
        replies = pipe.execute()
    waiting, taken, holders = replies[:len(keys)], replies[len(keys)], replies[len(keys) + 1:]
    found = {_task_id(raw) for messages in waiting for raw in messages}
    for raw in taken:           # kombu keeps [message, exchange, routing key] per delivered task
        try:
            found.add((json.loads(raw)[0].get("headers") or {}).get("id"))
        except (ValueError, TypeError, IndexError, AttributeError):
            continue
    for (run_id, _site), holder in zip(runs, holders):
        if holder and holder.startswith(run_id + "@"):
            found.add(run_id)
    return found & wanted


def _task_id(raw: str) -> str | None:
    try:
        return json.loads(raw).get("headers", {}).get("id")
    except (ValueError, AttributeError):
        return None


LEDGER = QueuedRuns()
