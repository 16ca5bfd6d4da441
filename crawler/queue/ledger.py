"""The scheduler's own record of the tasks it queued, so that none is lost without a trace.

A Redis that restarts without its data (no append-only file, a lost disk, a
FLUSHALL) forgets the tasks waiting in it and those in its workers' hands. So
the scheduler writes each site run and each digest it queues into the index
(state kind ``queued_run``, key = task id) and, while it leads, looks at them
every ``NEWSMON_QUEUE_CHECK`` seconds (default 30), when the broker answers:

1. a run that left its run record, or was marked done, is over, and so is a
   digest marked sent: its entry goes;
2. a task still in the queue, in a worker's hands (kombu's ``unacked`` hash) or
   whose lock is held (the site's, the digest's) is on its way;
3. a task found nowhere on two checks at least a lock lifetime apart (a live
   worker renews its lock sooner) was lost. While its period lasts (a run's
   schedule period, a day for a digest) it is queued again under the same id
   and runs late, at most ``MAX_REQUEUES`` times; after that a run is recorded
   missed, with the reason. A digest sent twice still reaches each recipient
   once: each is claimed in the index before it is sent.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime

from index.runs import MISSED, RUN_KIND, RunInfo, iso, record_failure, run_key, utc_now
from monitor.clock import show
from monitor.task_queue import UNACKED_KEY, queue_keys

from crawler.queue.settings import CRAWL_TASK

logger = logging.getLogger("newsmon.scheduler")

KIND = "queued_run"
MAX_REQUEUES = 3
DEFAULT_CHECK = 30.0
FALLBACK_PERIOD = 3600.0     # s a lost run may still run late when its schedule's period is unknown
DIGEST_PERIOD = 86400.0      # s a lost digest may still be sent late


def check_every() -> float:
    from crawler.queue.watch import env_seconds
    return env_seconds("NEWSMON_QUEUE_CHECK", DEFAULT_CHECK)


class QueuedRuns:
    """The tasks this scheduler queued (site runs, digests), per index, and those found missing so far."""

    def __init__(self):
        self.index_urls: set[str | None] = set()
        self.absent: dict[str, float] = {}       # task id -> when it was first found nowhere (monotonic)
        self.last_check = 0.0
        self._lock = threading.Lock()
        self._opened: dict[str | None, object] = {}     # index URL -> the index kept open
        self._using = threading.Lock()                   # one thread at a time uses the kept indexes

    @contextmanager
    def _index(self, index_url: str | None):
        """The index, kept open between uses: opening one costs ~200 ms against Elasticsearch, a
        state write on an open one ~35 ms, and the scheduler notes every run it queues. An
        index that failed is closed and opened afresh next time."""
        from index import open_index
        with self._using:
            index = self._opened.get(index_url)
            if index is None:
                index = self._opened[index_url] = open_index(index_url)
            try:
                yield index
            except Exception:
                self._opened.pop(index_url, None)
                try:
                    index.close()
                except Exception:  # noqa: BLE001 - it failed already; the error that matters is raised below
                    pass
                raise

    def watch_index(self, index_url: str | None) -> None:
        """Check the tasks remembered in this index (also those a previous scheduler queued)."""
        url = index_url or os.environ.get("NEWSMON_INDEX") or None
        if url:
            with self._lock:
                self.index_urls.add(url)

    def close(self) -> None:
        """Close the kept indexes (the scheduler stops leading)."""
        with self._using:
            opened, self._opened = list(self._opened.values()), {}
        for index in opened:
            try:
                index.close()
            except Exception as exc:  # noqa: BLE001 - closing at shutdown: say it, go on
                logger.warning("关闭派发记录所在的索引时出错：%s", exc)

    def remember(self, index_url: str | None, name: str, task_id: str, task: dict) -> None:
        """Note a task just sent: a site's run (``CRAWL_TASK``) or a digest (``DIGEST_TASK``)."""
        self.watch_index(index_url)
        try:
            with self._index(index_url) as index:
                index.state.put(KIND, task_id, {"name": name, "task": task, "queued": iso(utc_now()), "requeues": 0})
        except Exception as exc:  # noqa: BLE001 - the task is queued; only its loss would go unnoticed
            logger.warning("%s 已派发，但未能记入调度器的派发记录：%s", _what(name, task, task_id), exc)

    def check(self, client, send) -> None:
        """Look at every remembered task once (rate-limited to ``NEWSMON_QUEUE_CHECK``); ``send``
        puts a lost one back on the queue (``dispatch.send``)."""
        now = time.monotonic()
        if now - self.last_check < check_every():
            return
        self.last_check = now
        with self._lock:
            urls = list(self.index_urls)
        for index_url in urls:
            try:
                self._check_index(client, send, index_url)
            except Exception as exc:  # noqa: BLE001 - e.g. the index is away: the next check tries again
                logger.warning("检查派发记录（索引 %s）时出错：%s", index_url, exc)

    def _check_index(self, client, send, index_url: str | None) -> None:
        from crawler.queue.locks import lock_ttl

        grace = lock_ttl() + 2 * check_every()
        with self._index(index_url) as index:
            entries = index.state.scan(KIND)
            if not entries:
                return
            present = on_the_way(client, [(task_id, _lock_of(doc)) for task_id, doc in entries])
            for task_id, doc in entries:
                if task_id in present:
                    self.absent.pop(task_id, None)
                    continue
                if _is_over(client, index.state, task_id, doc):
                    index.state.delete(KIND, task_id)
                    self.absent.pop(task_id, None)
                    continue
                first = self.absent.setdefault(task_id, time.monotonic())
                if time.monotonic() - first < grace:
                    continue
                self.absent.pop(task_id, None)
                self._lost(index, send, index_url, task_id, doc)

    def _lost(self, index, send, index_url: str | None, task_id: str, doc: dict) -> None:
        name, task = _name(doc), doc["task"]
        lost = f"{_what(name, task, task_id)}已不在任务队列中，也没有 worker 在运行它（Redis 重启时丢失了数据？）"
        if name == CRAWL_TASK:
            due, period = task["run"].get("scheduled_for") or task["run"]["started"], task["run"].get("period_s")
        else:
            due, period = doc["queued"], DIGEST_PERIOD
        age = (utc_now() - datetime.fromisoformat(due)).total_seconds()
        if age < (period or FALLBACK_PERIOD) and doc.get("requeues", 0) < MAX_REQUEUES:
            send(name, task, task_id=task_id)
            index.state.put(KIND, task_id, {**doc, "requeues": doc.get("requeues", 0) + 1})
            logger.warning("%s：已重新派发，将迟到运行", lost)
            return
        index.state.delete(KIND, task_id)
        if name != CRAWL_TASK:
            logger.error("%s：已过了一天，不再派发", lost)
            return
        logger.error("%s：已过了它的周期，记为错过", lost)
        record_failure(index_url, task["site"], RunInfo(**task["run"]), MISSED,
                       "lost from the task queue (the broker restarted without its data) and not run in its period")


def _name(doc: dict) -> str:
    return doc.get("name") or CRAWL_TASK


def _what(name: str, task: dict, task_id: str) -> str:
    """The task as the log names it, in Chinese."""
    if name == CRAWL_TASK:
        run = task["run"]
        return f"[{task['site']}] 运行 {task_id}（应于 {show(run.get('scheduled_for') or run['started'])}）"
    return f"日报任务 {task_id} "


def _lock_of(doc: dict) -> tuple[str, str]:
    """The Redis lock a worker holds while it works on the task, and how its holder starts."""
    if _name(doc) == CRAWL_TASK:
        return "site:" + doc["task"]["site"], doc["task"]["run"]["run_id"] + "@"
    return "digest", ""          # one worker at a time sends digests (tasks.py)


def _is_over(client, state, task_id: str, doc: dict) -> bool:
    """A site's run left its run record or was marked done; a digest was marked sent."""
    from crawler.queue.locks import is_done
    task = doc["task"]
    if _name(doc) != CRAWL_TASK:
        return bool(is_done(client, "digest:" + task["due"]))
    run = task["run"]
    return bool(is_done(client, task_id) or state.get(RUN_KIND, run_key(task["site"], run["started"], task_id)))


def on_the_way(client, tasks: list[tuple[str, tuple[str, str]]]) -> set[str]:
    """Which of ``tasks`` (task id, (lock name, holder prefix)) are waiting in the queue, in a
    worker's hands, or have their lock held."""
    from crawler.queue.locks import KEY_PREFIX
    wanted = {task_id for task_id, _lock in tasks}
    keys = queue_keys()
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.lrange(key, 0, -1)
        pipe.hvals(UNACKED_KEY)
        for _task_id, (lock, _prefix) in tasks:
            pipe.get(KEY_PREFIX + "lock:" + lock)
        replies = pipe.execute()
    waiting, taken, holders = replies[:len(keys)], replies[len(keys)], replies[len(keys) + 1:]
    found = {_message_id(raw) for messages in waiting for raw in messages}
    for raw in taken:           # kombu keeps [message, exchange, routing key] per delivered task
        try:
            found.add((json.loads(raw)[0].get("headers") or {}).get("id"))
        except (ValueError, TypeError, IndexError, AttributeError):
            continue
    for (task_id, (_lock, prefix)), holder in zip(tasks, holders):
        if holder and holder.startswith(prefix):
            found.add(task_id)
    return found & wanted


def _message_id(raw: str) -> str | None:
    try:
        return json.loads(raw).get("headers", {}).get("id")
    except (ValueError, AttributeError):
        return None


LEDGER = QueuedRuns()
