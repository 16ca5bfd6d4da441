"""One scheduler leads: with a broker, the scheduler holds a lock in Redis while it runs.

A second scheduler started by mistake says who leads and waits; it takes over
within ``NEWSMON_LEADER_TTL`` seconds (default 30) of the leader's death, since
the leader's lock is renewed by a thread and lapses when no one renews it. A
leader whose lock another took (Redis lost it meanwhile) stops leading: it sets
``stop``, so the scheduler shuts down cleanly rather than queue every run twice.

While it leads, a ``BrokerWatch`` says in the log when the broker goes away and
comes back, and checks that no run it queued was lost meanwhile (``ledger.py``).
"""
from __future__ import annotations

import logging
import os
import socket
import threading

from crawler.queue import broker_url

logger = logging.getLogger("newsmon.scheduler")


class NoLeadership:
    """Without a broker there is one machine, so nothing to hold."""

    def release(self) -> None:
        pass


class Leadership:
    """The scheduler's lock in Redis, and the watch over the broker while it is held."""

    def __init__(self, lock, watch, ledger):
        self.lock, self.watch, self.ledger = lock, watch, ledger

    @property
    def owner(self) -> str:
        return self.lock.owner

    def release(self) -> None:
        self.watch.stop()
        self.ledger.close()
        self.lock.release()


def lead(stop: threading.Event):
    """Become the one scheduler, at once or after waiting for the leader to go: a lock to
    ``release()`` at the end. None when ``stop`` was set while waiting."""
    url = broker_url()
    if not url:
        return NoLeadership()
    from crawler.queue.dispatch import send
    from crawler.queue.ledger import LEDGER
    from crawler.queue.locks import RedisLock, redis_client
    from crawler.queue.watch import BrokerWatch
    ttl = float(os.environ.get("NEWSMON_LEADER_TTL") or 30)
    lock = RedisLock(redis_client(url), "scheduler", f"{socket.gethostname()}:{os.getpid()}", ttl, on_lost=stop.set)
    said = None
    while not stop.is_set():
        try:
            if lock.acquire():
                if said:
                    logger.info("调度器 %s 开始领导：之前的调度器已不在", lock.owner)
                LEDGER.watch_index(None)        # NEWSMON_INDEX: runs a previous leader queued are checked too
                watch = BrokerWatch(url, f"调度器 {lock.owner}", logger, lambda client: LEDGER.check(client, send))
                return Leadership(lock, watch.start(), LEDGER)
            message = f"另一个调度器 {lock.holder()} 正在运行：本调度器等待，它停止后接替"
        except Exception as exc:  # noqa: BLE001 - whatever redis-py raises: say it and try again
            message = f"任务队列不可达（{exc}），等待中"
        if message != said:
            logger.warning(message)
            said = message
        stop.wait(min(ttl / 3, 10))
    return None
