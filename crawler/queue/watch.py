"""A broker outage said in the log, in Chinese: once when the broker goes away, once when it is back.

Celery's worker and redis-py reconnect by themselves, in English if they say
anything. The operator reading the scheduler's or a worker's log gets these two
lines instead. The broker is pinged every ``NEWSMON_BROKER_CHECK`` seconds
(default 5); while it answers, ``on_up(client)`` runs (the scheduler checks the
runs it queued, ``ledger.py``).
"""
from __future__ import annotations

import logging
import os
import threading
import time

from monitor.task_queue import safe_url

DEFAULT_EVERY = 5.0


def env_seconds(name: str, default: float) -> float:
    """A check interval from the environment; a bad value falls back to ``default`` (never a crash)."""
    try:
        return max(0.2, float(os.environ.get(name) or default))
    except ValueError:
        return default


def check_every() -> float:
    return env_seconds("NEWSMON_BROKER_CHECK", DEFAULT_EVERY)


class BrokerWatch:
    """A thread that notices the broker go and come back; ``who`` names this process in its lines."""

    def __init__(self, url: str, who: str, logger: logging.Logger, on_up=None):
        self.url, self.who, self.logger, self.on_up = url, who, logger, on_up
        self.every = check_every()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="newsmon-broker-watch", daemon=True)

    def start(self) -> "BrokerWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        from crawler.queue.locks import redis_client
        client = redis_client(self.url)
        down_since = None
        while not self._stop.wait(self.every):
            try:
                client.ping()
            except Exception as exc:  # noqa: BLE001 - whatever redis-py raises means "not reachable"
                if down_since is None:
                    down_since = time.monotonic()
                    self.logger.error("%s：任务队列 %s 不可达（%s），等待它恢复后自动重新连接",
                                      self.who, safe_url(self.url), exc)
                continue
            if down_since is not None:
                self.logger.warning("%s：任务队列 %s 已恢复，重新连接成功（中断约 %.0f 秒）",
                                    self.who, safe_url(self.url), time.monotonic() - down_since)
                down_since = None
            if self.on_up is None:
                continue
            try:
                self.on_up(client)
            except Exception:  # noqa: BLE001 - the next check tries again; the watch never dies
                self.logger.exception("%s：检查任务队列时出错", self.who)
